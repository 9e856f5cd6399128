package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/render"
	"github.com/wfpsim/wfpsim/wfp"
)

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func explainCommand() *command {
	return &command{
		name:    "explain",
		args:    "--policy FILE --layer LAYER [--set FIELD=VALUE]... [--callout NAME=ACTION]... [--format text|json]\n  wfpsim explain --policy FILE PROTO SRC '->' DST [--app PATH] [--user SID] [--host FILE] [--format text|json]",
		summary: "classify one set of incoming values at one layer and explain the verdict",
		help: `
explain loads the policy into a simulated engine, fills the layer's incoming
values from --set, and classifies once, the way the kernel filter engine does:
sublayers from the highest weight down (every one of them), in each the
matching filters from the highest weight down until one permits or blocks,
then the override rules (soft and hard actions, clear_action_right, vetoes).
The trace shows every filter, whether it matched and, when not, which
condition failed.

--set FIELD=VALUE  an incoming value; FIELD is a condition name with or without
                   FWPM_CONDITION_ (IP_REMOTE_PORT, ALE_APP_ID, ...), VALUE is
                   typed by the field: 443, tcp, 10.0.0.5, 2001:db8::1,
                   'C:\Windows\System32\svchost.exe', S-1-5-18, is_loopback|is_reauthorize.
                   Fields not given are empty (FWP_EMPTY).
--callout NAME=ACTION  register the code of the policy's callout NAME so that
                   it always returns ACTION: permit, block or continue, soft
                   (keeping the write right), or permit-hard / block-hard
                   (clearing it). A callout not given is unregistered, and its
                   filters act as rule A9 says.
--state DUMP.xml   start from a real machine's filters (netsh wfp show state
                   or show filters XML, see 'wfpsim import'), then add --policy.
--format json      a stable contract:
                   {"layer", "action": "permit"|"block", "hard", "veto",
                    "filter", "sublayers": [{"sublayer", "filter", "action"}]}

Examples:
  wfpsim explain --policy testdata/policies/kill-switch.yaml --layer ALE_AUTH_CONNECT_V4 \
      --set IP_REMOTE_ADDRESS=93.184.216.34 --set IP_REMOTE_PORT=443 --set IP_PROTOCOL=tcp
  wfpsim explain --policy p.yaml --layer INBOUND_TRANSPORT_V4 --callout ids=continue --format json
` + explainConnectionHelp,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			file := fs.String("policy", "", "the policy `FILE` (YAML or JSON)")
			state := fs.String("state", "", "start from this machine's netsh wfp `DUMP.xml`, then apply --policy on top")
			machineCallouts := machineCalloutsFlag(fs)
			layerName := fs.String("layer", "", "the `LAYER` to classify at")
			var sets, callouts multiFlag
			fs.Var(&sets, "set", "an incoming value `FIELD=VALUE` (repeatable)")
			fs.Var(&callouts, "callout", "register callout `NAME=ACTION` (repeatable)")
			format := fs.String("format", "text", "output `format`: text or json")
			conn := connectionFlags(fs)
			return func(e *env, args []string) error {
				if *layerName == "" && len(args) > 0 && (*file != "" || *state != "") {
					return runExplainConnection(e, conn, args, *format, *state, *file, *machineCallouts, callouts)
				}
				if (*file == "" && *state == "") || *layerName == "" || len(args) != 0 {
					return usagef("explain needs --policy FILE (or --state DUMP.xml) and --layer LAYER (run 'wfpsim explain -h')")
				}
				if *format != "text" && *format != "json" {
					return usagef("unknown format %q: want text or json", *format)
				}
				l, err := findLayer(*layerName)
				if err != nil {
					return err
				}
				values, err := incomingValues(l, sets)
				if err != nil {
					return err
				}
				eng, err := loadState(e, *state, *file, *machineCallouts)
				if err != nil {
					return err
				}
				if err := registerCallouts(eng, callouts); err != nil {
					return err
				}
				var d engine.Decision
				var tr engine.Trace
				if err := eng.e.Classify(&engine.Request{Layer: l, Values: values}, &d, &tr); err != nil {
					return err
				}
				if *format == "json" {
					return writeExplainJSON(e, d)
				}
				return writeTrace(e, &tr)
			}
		},
	}
}

// loaded is a policy applied to a fresh simulated engine.
type loaded struct {
	e       *engine.Engine
	applied *policy.Applied
}

// loadPolicy reads, checks and applies a policy document; errors are printed all
// at once, as check prints them.
func loadPolicy(e *env, file string) (*loaded, error) {
	doc, err := policy.Load(file)
	if err != nil {
		return nil, reportPolicyErrors(e, err)
	}
	objs, err := doc.Objects()
	if err != nil {
		return nil, reportPolicyErrors(e, err)
	}
	eng := engine.New(engine.Options{})
	s := eng.Open(wfp.SessionOptions{Name: "wfpsim"})
	applied, err := policy.ApplyObjects(s, objs)
	if err != nil {
		return nil, reportPolicyErrors(e, err)
	}
	return &loaded{e: eng, applied: applied}, nil
}

func reportPolicyErrors(e *env, err error) error {
	var list policy.ErrorList
	if errors.As(err, &list) {
		for _, pe := range list {
			fmt.Fprintln(e.stderr, pe.Error())
		}
		return errReported
	}
	return err
}

// registerCallouts registers --callout NAME=ACTION on the engine.
func registerCallouts(l *loaded, specs []string) error {
	for _, spec := range specs {
		name, act, ok := strings.Cut(spec, "=")
		if !ok {
			return usagef("--callout %q: want NAME=ACTION", spec)
		}
		key, found := l.applied.Names.CalloutKey(name)
		if !found {
			return usagef("--callout %q: the policy has no callout %q", spec, name)
		}
		hard := strings.HasSuffix(act, "-hard")
		var a wfp.ActionType
		switch strings.TrimSuffix(act, "-hard") {
		case "permit":
			a = wfp.ActionPermit
		case "block":
			a = wfp.ActionBlock
		case "continue":
			if hard {
				return usagef("--callout %q: continue cannot be hard", spec)
			}
			a = wfp.ActionContinue
		default:
			return usagef("--callout %q: ACTION must be permit, block, continue, permit-hard or block-hard", spec)
		}
		if err := l.e.RegisterCallout(key, callout.Static(a, hard)); err != nil {
			return usagef("--callout %q: %v", spec, err)
		}
	}
	return nil
}

// incomingValues turns --set FIELD=VALUE into the layer's incoming-value array.
func incomingValues(l *layers.Layer, sets []string) ([]wfp.Value, error) {
	values := make([]wfp.Value, len(l.Fields))
	for _, s := range sets {
		name, text, ok := strings.Cut(s, "=")
		if !ok {
			return nil, usagef("--set %q: want FIELD=VALUE", s)
		}
		c, found := layers.ConditionByName(name)
		if !found {
			return nil, unknownName("condition", name, layers.Suggest(layers.KindCondition, name), "wfpsim conditions "+l.ShortName)
		}
		f, found := l.Field(c.Key)
		if !found {
			return nil, usagef("--set %q: %s has no field %s; run 'wfpsim fields %s'", s, l.ShortName, c.ShortName, l.ShortName)
		}
		v, err := policy.IncomingValue(l, f, text)
		if err != nil {
			return nil, usagef("--set %q: %v", s, err)
		}
		values[f.Index] = v
	}
	return values, nil
}

type explainJSON struct {
	Layer     string             `json:"layer"`
	Action    string             `json:"action"`
	Hard      bool               `json:"hard"`
	Veto      bool               `json:"veto"`
	Filter    string             `json:"filter"`
	Sublayers []explainSublayers `json:"sublayers"`
}

type explainSublayers struct {
	Sublayer string `json:"sublayer"`
	Filter   string `json:"filter"`
	Action   string `json:"action"`
}

func writeExplainJSON(e *env, d engine.Decision) error {
	out := explainJSON{Layer: d.Layer.Name, Action: "permit", Hard: d.Hard, Veto: d.Vetoed, Filter: d.FilterName,
		Sublayers: []explainSublayers{}}
	if d.Action == wfp.ActionBlock {
		out.Action = "block"
	}
	for _, s := range d.Sublayers {
		out.Sublayers = append(out.Sublayers, explainSublayers{Sublayer: s.Name, Filter: s.FilterName, Action: s.ActionName()})
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeTrace prints the trace; on a terminal as render's arbitration table.
func writeTrace(e *env, tr *engine.Trace) error {
	text := tr.String()
	if e.styled && tr.Layer != nil {
		_, err := fmt.Fprint(e.stdout, render.Arbitration(tr, render.Options{Profile: render.Detect(e.stdout), Values: true}))
		return err
	}
	if e.styled {
		lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
		last := lines[len(lines)-1]
		color := lipgloss.Color("2")
		if tr.Decision.Action == wfp.ActionBlock {
			color = lipgloss.Color("1")
		}
		lines[len(lines)-1] = lipgloss.NewStyle().Bold(true).Foreground(color).Render(last)
		lines[0] = lipgloss.NewStyle().Bold(true).Render(lines[0])
		text = strings.Join(lines, "\n") + "\n"
	}
	_, err := fmt.Fprint(e.stdout, text)
	return err
}
