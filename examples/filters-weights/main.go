// Command filters-weights classifies outbound connections to several ports at
// FWPM_LAYER_ALE_AUTH_CONNECT_V4 against filters of one sublayer, to show how
// conditions match (different fields ANDed, the same field ORed), and how
// weights order the filters: a weight range 0..15 versus an exact 64-bit weight.
//
//	go run ./examples/filters-weights
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "filters-weights:", err)
		os.Exit(1)
	}
}

// rules are five filters in one sublayer. Within a sublayer the engine walks
// the matching filters from the highest weight down and stops at the first
// permit or block (rule A3).
const rules = `
version: 1
sublayers:
  - name: lesson
    weight: 0x100
filters:
  - name: permit-web              # same field twice: port 80 OR 443 (rule B3)
    layer: ALE_AUTH_CONNECT_V4
    sublayer: lesson
    weight: 10
    action: permit
    conditions:
      - {field: IP_PROTOCOL, match: equal, value: tcp}
      - {field: IP_REMOTE_PORT, match: equal, value: 80}
      - {field: IP_REMOTE_PORT, match: equal, value: 443}
  - name: block-high-ports        # a range condition, weight range 5
    layer: ALE_AUTH_CONNECT_V4
    sublayer: lesson
    weight: 5
    action: block
    conditions:
      - {field: IP_REMOTE_PORT, match: range, value: 1024-65535}
  - name: permit-8080             # weight range 2: below block-high-ports, never decides
    layer: ALE_AUTH_CONNECT_V4
    sublayer: lesson
    weight: 2
    action: permit
    conditions:
      - {field: IP_REMOTE_PORT, match: equal, value: 8080}
  - name: permit-8443-exact       # an exact weight above every weight range
    layer: ALE_AUTH_CONNECT_V4
    sublayer: lesson
    weight: {exact: 0xffff000000000000}
    action: permit
    conditions:
      - {field: IP_REMOTE_PORT, match: equal, value: 8443}
  - name: block-other-tcp         # weight range 0: the catch-all
    layer: ALE_AUTH_CONNECT_V4
    sublayer: lesson
    weight: 0
    action: block
    conditions:
      - {field: IP_PROTOCOL, match: equal, value: tcp}
`

func run(w io.Writer, _ []string) error {
	doc, err := policy.Parse("rules.yaml", []byte(rules))
	if err != nil {
		return err
	}
	eng := engine.New(engine.Options{})
	if _, err := policy.Apply(eng.Open(wfp.SessionOptions{Name: "lesson"}), doc); err != nil {
		return err
	}
	l := layers.ALEAuthConnectV4

	// The effective weights the engine gave the filters (rule B1), in the order
	// it evaluates them: read from one traced classification.
	var d engine.Decision
	var tr engine.Trace
	vals, err := values(l, "IP_PROTOCOL=tcp", "IP_REMOTE_PORT=1")
	if err != nil {
		return err
	}
	if err := eng.Classify(&engine.Request{Layer: l, Values: vals}, &d, &tr); err != nil {
		return err
	}
	fmt.Fprintln(w, "evaluation order (effective weight, filter):")
	for _, sl := range tr.Sublayers {
		for _, f := range sl.Filters {
			fmt.Fprintf(w, "  %#016x  %s\n", f.Weight, f.Name)
		}
	}

	fmt.Fprintln(w, "connections:")
	for _, c := range []struct{ proto, port string }{
		{"tcp", "80"}, {"tcp", "443"}, {"udp", "443"}, {"tcp", "22"},
		{"tcp", "5000"}, {"tcp", "8080"}, {"tcp", "8443"},
	} {
		vals, err := values(l, "IP_PROTOCOL="+c.proto, "IP_REMOTE_PORT="+c.port)
		if err != nil {
			return err
		}
		if err := eng.Classify(&engine.Request{Layer: l, Values: vals}, &d, nil); err != nil {
			return err
		}
		by := "no filter matched: default permit"
		if d.Decided {
			by = "by " + d.FilterName
		}
		action := "permit"
		if d.Action == wfp.ActionBlock {
			action = "BLOCK"
		}
		fmt.Fprintf(w, "  %s :%-5s %-6s %s\n", c.proto, c.port, action, by)
	}
	return nil
}

// values builds the layer's incoming values from FIELD=VALUE pairs, typed as
// the layer's fields are (a port is FWP_UINT16, the protocol FWP_UINT8).
func values(l *layers.Layer, sets ...string) ([]wfp.Value, error) {
	v := make([]wfp.Value, len(l.Fields))
	for _, s := range sets {
		name, text, _ := strings.Cut(s, "=")
		c, ok := layers.ConditionByName(name)
		if !ok {
			return nil, fmt.Errorf("no condition %s", name)
		}
		f, ok := l.Field(c.Key)
		if !ok {
			return nil, fmt.Errorf("%s has no field %s", l.ShortName, name)
		}
		val, err := policy.IncomingValue(l, f, text)
		if err != nil {
			return nil, err
		}
		v[f.Index] = val
	}
	return v, nil
}
