package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/wfpsim/wfpsim/layers"
)

func fieldsCommand() *command {
	return &command{
		name:    "fields",
		args:    "LAYER [--format table|tsv|json]",
		summary: "list a layer's incoming-value fields in index order",
		help: `
When a layer classifies, the stack fills an array of incoming values, one per
field, in the order of the layer's FWPS_FIELDS_* enumeration: at
ALE_AUTH_CONNECT_V4, field 0 is the application id, field 1 the user's token,
and so on. Each field corresponds to a filtering condition (FWPM_CONDITION_*):
a filter condition on that key is compared against this value. The data type is
the incoming value's FWP_DATA_TYPE; IPv4 addresses are FWP_UINT32 and IPv6
addresses FWP_BYTE_ARRAY16_TYPE (conditions may use an address/mask instead),
token fields are FWP_TOKEN_ACCESS_INFORMATION_TYPE (conditions use a security
descriptor). "unknown" means the sources do not establish the type.

LAYER is a layer name with or without FWPM_LAYER_, in any case, or its FWPS name.

Examples:
  wfpsim fields ALE_AUTH_CONNECT_V4
  wfpsim fields fwpm_layer_inbound_transport_v6 --format tsv
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			f := addFormatFlag(fs)
			return func(e *env, args []string) error {
				if len(args) != 1 {
					return usagef("fields takes one LAYER argument (run 'wfpsim fields -h')")
				}
				l, err := findLayer(args[0])
				if err != nil {
					return err
				}
				return e.write(*f, fieldsGrid(l))
			}
		},
	}
}

type fieldJSON struct {
	Index        int    `json:"index"`
	Field        string `json:"field"`
	Condition    string `json:"condition"`
	ConditionKey string `json:"condition_key"`
	Type         string `json:"type"`
	TypeKnown    bool   `json:"type_known"`
	TypeNote     string `json:"type_note"`
}

func fieldType(f layers.Field) string {
	if !f.TypeKnown {
		return "unknown"
	}
	return f.Type.String()
}

func fieldsGrid(l *layers.Layer) grid {
	g := grid{header: []string{"index", "field", "condition", "type"}}
	g.title = fmt.Sprintf("%s: %d fields", l.Name, len(l.Fields))
	if l.FieldsNote != "" {
		g.title += " (" + l.FieldsNote + ")"
	}
	js := []fieldJSON{}
	for _, f := range l.Fields {
		key := ""
		if f.Condition != nil && f.Condition.KeyKnown {
			key = f.Condition.Key.String()
		}
		g.rows = append(g.rows, []string{strconv.Itoa(f.Index), f.Name, f.ConditionName, fieldType(f)})
		js = append(js, fieldJSON{Index: f.Index, Field: f.Name, Condition: f.ConditionName, ConditionKey: key,
			Type: fieldType(f), TypeKnown: f.TypeKnown, TypeNote: f.TypeNote})
	}
	g.json = js
	return g
}
