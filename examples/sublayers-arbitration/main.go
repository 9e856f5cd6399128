// Command sublayers-arbitration classifies one outbound connection against two
// sublayers, four times, to show how WFP arbitrates between sublayers: a soft
// permit is overridden by a lower sublayer's block, a hard permit is not, and
// a callout can veto even a hard permit.
//
//	go run ./examples/sublayers-arbitration
package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sublayers-arbitration:", err)
		os.Exit(1)
	}
}

// head declares two sublayers and a callout. The "high" sublayer (0xc000) is
// evaluated before "low" (0x4000); every sublayer is evaluated (rule A2).
const head = `
version: 1
sublayers:
  - {name: high, weight: 0xc000}
  - {name: low, weight: 0x4000}
callouts:
  - {name: ids, layer: ALE_AUTH_CONNECT_V4}
filters:
`

// The filters the scenarios combine; all match tcp to 93.184.216.34:443.
const (
	softPermit = `
  - {name: soft-permit, layer: ALE_AUTH_CONNECT_V4, sublayer: high, action: permit,
     conditions: [{field: IP_REMOTE_PORT, value: 443}]}
`
	hardPermit = `
  - {name: hard-permit, layer: ALE_AUTH_CONNECT_V4, sublayer: high, action: permit, flags: [clear_action_right],
     conditions: [{field: IP_REMOTE_PORT, value: 443}]}
`
	highBlock = `
  - {name: high-block, layer: ALE_AUTH_CONNECT_V4, sublayer: high, action: block,
     conditions: [{field: IP_REMOTE_PORT, value: 443}]}
`
	lowBlock = `
  - {name: low-block, layer: ALE_AUTH_CONNECT_V4, sublayer: low, action: block,
     conditions: [{field: IP_REMOTE_ADDRESS, value: 93.184.216.34}]}
`
	lowPermit = `
  - {name: low-permit, layer: ALE_AUTH_CONNECT_V4, sublayer: low, action: permit,
     conditions: [{field: IP_REMOTE_ADDRESS, value: 93.184.216.34}]}
`
	lowVeto = `
  - {name: low-ids-callout, layer: ALE_AUTH_CONNECT_V4, sublayer: low, action: callout_terminating, callout: ids,
     conditions: [{field: IP_REMOTE_ADDRESS, value: 93.184.216.34}]}
`
)

func run(w io.Writer, _ []string) error {
	for _, sc := range []struct {
		title   string
		filters string
	}{
		{"1. soft permit (high) + block (low)", softPermit + lowBlock},
		{"2. hard permit (high) + block (low)", hardPermit + lowBlock},
		{"3. hard permit (high) + blocking callout (low)", hardPermit + lowVeto},
		{"4. block (high) + permit (low)", highBlock + lowPermit},
	} {
		d, tr, err := classify(head + sc.filters)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n", sc.title)
		for _, sl := range tr.Sublayers {
			fmt.Fprintf(w, "  sublayer %-6s %s\n", sl.Name+":", sl.Effect)
		}
		how := "soft"
		if d.Hard {
			how = "hard"
		}
		if d.Vetoed {
			how = "vetoed"
		}
		fmt.Fprintf(w, "  => %s (%s) by %s\n", d.Action.ShortName(), how, d.FilterName)
	}
	return nil
}

// classify applies the policy to a fresh engine, registers the "ids" callout's
// code (it always blocks, keeping the rights it is given: with the write right
// cleared by a hard permit, a block is a veto, rule A7) and classifies tcp
// 10.0.0.5:51000 -> 93.184.216.34:443 at ALE_AUTH_CONNECT_V4 with a trace.
func classify(text string) (engine.Decision, *engine.Trace, error) {
	var d engine.Decision
	doc, err := policy.Parse("lesson.yaml", []byte(text))
	if err != nil {
		return d, nil, err
	}
	eng := engine.New(engine.Options{})
	applied, err := policy.Apply(eng.Open(wfp.SessionOptions{Name: "lesson"}), doc)
	if err != nil {
		return d, nil, err
	}
	key, _ := applied.Names.CalloutKey("ids")
	if err := eng.RegisterCallout(key, callout.Static(wfp.ActionBlock, false)); err != nil {
		return d, nil, err
	}
	l := layers.ALEAuthConnectV4
	v := make([]wfp.Value, len(l.Fields))
	set := func(c *layers.Condition, val wfp.Value) {
		if f, ok := l.Field(c.Key); ok {
			v[f.Index] = val
		}
	}
	set(layers.ConditionIPProtocol, wfp.Uint8(6))
	set(layers.ConditionIPLocalAddress, wfp.Uint32(v4(netip.MustParseAddr("10.0.0.5"))))
	set(layers.ConditionIPLocalPort, wfp.Uint16(51000))
	set(layers.ConditionIPRemoteAddress, wfp.Uint32(v4(netip.MustParseAddr("93.184.216.34"))))
	set(layers.ConditionIPRemotePort, wfp.Uint16(443))
	tr := &engine.Trace{}
	err = eng.Classify(&engine.Request{Layer: l, Values: v}, &d, tr)
	return d, tr, err
}

// v4 is an IPv4 address as FWP_UINT32 in host order, as WFP passes it.
func v4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
