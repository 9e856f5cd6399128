package main

import (
	"flag"
	"strconv"

	"github.com/wfpsim/wfpsim/layers"
)

func layersCommand() *command {
	return &command{
		name:    "layers",
		args:    "[--format table|tsv|json]",
		summary: "list every WFP filtering layer",
		help: `
A filtering layer is a point in the Windows TCP/IP stack (or in a user-mode
service such as IKEEXT or RPC) where the filter engine classifies: it collects
the layer's incoming values, runs the filters added at that layer, and returns
permit or block. Each layer has a management key (a GUID, FWPM_LAYER_*), a
run-time id (FWPS_LAYER_*), an address family (v4, v6 or none) and a direction.
ALE layers (Application Layer Enforcement) authorize sockets and connections once
per flow; packet layers (IPPACKET, TRANSPORT, ...) see every packet. A discard
layer (*_DISCARD) sees what was dropped at its twin, for logging.

Columns: name (C name), key (GUID), id (run-time id, empty when unknown; ids of
user-mode layers differ between SDKs), family, direction, discard, mode (kernel
or user) and purpose (tsv and json only).

Examples:
  wfpsim layers
  wfpsim layers --format tsv | grep ALE_AUTH
  wfpsim layers --format json
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			f := addFormatFlag(fs)
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef("layers takes no arguments, got %q", args[0])
				}
				return e.write(*f, layersGrid(*f))
			}
		},
	}
}

type layerJSON struct {
	Name      string  `json:"name"`
	ShortName string  `json:"short_name"`
	Key       string  `json:"key"`
	FWPSName  string  `json:"fwps_name"`
	ID        *int    `json:"id"`
	IDNote    string  `json:"id_note,omitempty"`
	Family    string  `json:"family"`
	Direction string  `json:"direction"`
	Discard   bool    `json:"discard"`
	Twin      *string `json:"twin"`
	Mode      string  `json:"mode"`
	ModeNote  string  `json:"mode_note,omitempty"`
	Fields    int     `json:"fields"`
	Purpose   string  `json:"purpose"`
}

func layerKey(l *layers.Layer) string {
	if !l.KeyKnown {
		return ""
	}
	return l.Key.String()
}

func layerID(l *layers.Layer) string {
	if !l.IDKnown {
		return ""
	}
	return strconv.Itoa(int(l.ID))
}

func layersGrid(f format) grid {
	g := grid{header: []string{"name", "key", "id", "family", "direction", "discard", "mode"}}
	if f != formatTable {
		g.header = append(g.header, "purpose")
	}
	var js []layerJSON
	for _, l := range layers.Layers() {
		row := []string{l.Name, layerKey(l), layerID(l), l.Family.String(), l.Direction.String(), yesNo(l.Discard), l.Mode.String()}
		if f != formatTable {
			row = append(row, l.Purpose)
		}
		g.rows = append(g.rows, row)
		j := layerJSON{
			Name: l.Name, ShortName: l.ShortName, Key: layerKey(l), FWPSName: l.FWPSName,
			IDNote: l.IDNote, Family: l.Family.String(), Direction: l.Direction.String(),
			Discard: l.Discard, Mode: l.Mode.String(), ModeNote: l.ModeNote,
			Fields: len(l.Fields), Purpose: l.Purpose,
		}
		if l.IDKnown {
			id := int(l.ID)
			j.ID = &id
		}
		if l.Twin != nil {
			j.Twin = &l.Twin.Name
		}
		js = append(js, j)
	}
	g.json = js
	return g
}
