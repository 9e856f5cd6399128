package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
)

func conditionsCommand() *command {
	return &command{
		name:    "conditions",
		args:    "[LAYER] [--format table|tsv|json]",
		summary: "list filtering conditions, or those valid at a layer",
		help: `
A filter condition is a field key (FWPM_CONDITION_*, a GUID), a match type and
a value. The value's data type must be one the condition accepts (the engine
never converts types), and the match type must suit that data type: equal works
for every type; greater, less, range and not_equal need a sortable type; the
flags_* matches need an unsigned integer; prefix and not_prefix (which test the
end of the value) need a string. Some condition names are aliases sharing
another's GUID: ICMP_TYPE is IP_LOCAL_PORT, ICMP_CODE is IP_REMOTE_PORT.

With LAYER, only the conditions documented as valid at that layer are listed,
with the Windows version that introduced them; a filter using any other
condition is rejected.

Examples:
  wfpsim conditions
  wfpsim conditions ALE_AUTH_CONNECT_V4
  wfpsim conditions inbound_transport_v4 --format json
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			f := addFormatFlag(fs)
			return func(e *env, args []string) error {
				switch len(args) {
				case 0:
					return e.write(*f, conditionsGrid(nil))
				case 1:
					l, err := findLayer(args[0])
					if err != nil {
						return err
					}
					return e.write(*f, conditionsGrid(l))
				}
				return usagef("conditions takes at most one LAYER argument (run 'wfpsim conditions -h')")
			}
		},
	}
}

type conditionJSON struct {
	Name       string              `json:"name"`
	ShortName  string              `json:"short_name"`
	Key        string              `json:"key"`
	Types      []string            `json:"types"`
	MatchTypes map[string][]string `json:"match_types"`
	AliasOf    string              `json:"alias_of,omitempty"`
	Since      string              `json:"since,omitempty"`
	Notes      string              `json:"notes,omitempty"`
}

func conditionRow(name string, c *layers.Condition) (key, types, matches string, j conditionJSON) {
	j = conditionJSON{Name: name, ShortName: strings.TrimPrefix(name, "FWPM_CONDITION_"), Types: []string{}, MatchTypes: map[string][]string{}}
	if c == nil {
		j.Notes = "not in the condition table"
		return "", "unknown", "unknown", j
	}
	if c.KeyKnown {
		key = c.Key.String()
	}
	j.Key = key
	var ts, ms []string
	for _, t := range c.Types {
		ts = append(ts, t.String())
		j.Types = append(j.Types, t.String())
	}
	for _, tm := range c.Matches {
		var names []string
		for _, m := range tm.Matches {
			names = append(names, m.ShortName())
		}
		j.MatchTypes[tm.Type.String()] = names
		ms = append(ms, strings.TrimPrefix(tm.Type.String(), "FWP_")+": "+strings.Join(names, ","))
	}
	if c.AliasOf != nil {
		j.AliasOf = c.AliasOf.Name
	}
	j.Notes = c.Notes
	types, matches = "unknown", "unknown"
	if len(ts) > 0 {
		types = strings.Join(ts, ",")
	}
	if len(ms) > 0 {
		matches = strings.Join(ms, " | ")
	}
	return key, types, matches, j
}

func conditionsGrid(l *layers.Layer) grid {
	g := grid{header: []string{"name", "key", "types", "match_types", "alias_of"}}
	js := []conditionJSON{}
	if l == nil {
		for _, c := range layers.Conditions() {
			key, types, matches, j := conditionRow(c.Name, c)
			g.rows = append(g.rows, []string{c.Name, key, types, matches, j.AliasOf})
			js = append(js, j)
		}
		g.json = js
		return g
	}
	g.header = append(g.header, "since")
	g.title = fmt.Sprintf("%s: %d conditions", l.Name, len(l.Conditions))
	for _, lc := range l.Conditions {
		key, types, matches, j := conditionRow(lc.Name, lc.Condition)
		j.Since = lc.Since
		g.rows = append(g.rows, []string{lc.Name, key, types, matches, j.AliasOf, lc.Since})
		js = append(js, j)
	}
	g.json = js
	return g
}
