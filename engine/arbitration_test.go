package engine_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

const (
	iisPath   = `\device\harddiskvolume3\windows\system32\inetsrv\iis.exe`
	otherPath = `\device\harddiskvolume3\tools\curl.exe`
)

// arbitrationExample is the configuration of the "Arbitration Example" (rule book
// A-conformance, rows 1-6).
type arbitrationExample struct {
	*env
	ids, log              atomic.Int64
	f1, f3, f4, f5, f6    wfp.FilterID
	s1, s2, fw1, fw2, fw3 wfp.SublayerKey
}

func newArbitrationExample(t *testing.T) *arbitrationExample {
	x := &arbitrationExample{env: newEnv(t)}
	it, ra := layers.InboundTransportV4, layers.ALEAuthRecvAcceptV4
	x.s1 = x.sublayer("S1", 0x9000)
	x.s2 = x.sublayer("S2", 0x1000)
	ids := x.registered("ids_callout", it, counting(&x.ids, callout.Static(wfp.ActionContinue, false)))
	x.f1 = x.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "F1"}, Layer: it.Key, Sublayer: x.s1, Action: wfp.Action{Type: wfp.ActionPermit}})
	x.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "F2"}, Layer: it.Key, Sublayer: x.s2, Weight: wfp.ExactWeight(20),
		Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: ids}})
	x.f3 = x.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "F3"}, Layer: it.Key, Sublayer: x.s2, Weight: wfp.ExactWeight(10),
		Action: wfp.Action{Type: wfp.ActionPermit}})

	x.fw1 = x.sublayer("FW1", 0x9000)
	x.fw2 = x.sublayer("FW2", 0x5000)
	x.fw3 = x.sublayer("FW3", 0x1000)
	logc := x.registered("log_callout", ra, counting(&x.log, callout.Static(wfp.ActionContinue, false)))
	x.f4 = x.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "F4"}, Layer: ra.Key, Sublayer: x.fw1,
		Conditions: []wfp.Condition{eq(layers.ConditionALEAppID, wfp.AppID(iisPath))}, Action: wfp.Action{Type: wfp.ActionPermit}})
	x.f5 = x.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "F5"}, Layer: ra.Key, Sublayer: x.fw2,
		Conditions: []wfp.Condition{eq(layers.ConditionIPLocalPort, wfp.Uint16(80))}, Action: wfp.Action{Type: wfp.ActionBlock}})
	x.f6 = x.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "F6"}, Layer: ra.Key, Sublayer: x.fw3,
		Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: logc}})
	return x
}

func sublayerResult(t *testing.T, d engine.Decision, key wfp.SublayerKey) engine.SublayerResult {
	for _, r := range d.Sublayers {
		if r.Sublayer == key {
			return r
		}
	}
	t.Fatalf("no result for sublayer %s in %+v", key, d.Sublayers)
	return engine.SublayerResult{}
}

// TestArbitrationExample is E1-E5 of the rule book.
func TestArbitrationExample(t *testing.T) {
	tests := []struct {
		name      string
		port      uint16
		app       string
		fw1, fw2  wfp.ActionType // sublayer results at RECV_ACCEPT (0: none)
		final     wfp.ActionType
		decided   bool
		traceHas  []string
		decidedBy string
	}{
		{name: "E1 port 80 IIS", port: 80, app: iisPath, fw1: wfp.ActionPermit, fw2: wfp.ActionBlock, final: wfp.ActionBlock, decided: true,
			traceHas: []string{`result: permit (soft) by "F4"; sets the action: permit (soft)`, `result: block (hard) by "F5"; sets the action: block (hard)`,
				`filter "F6"`, `callout "log_callout": `, `decision: block (hard) by "F5"`}},
		{name: "E2 port 80 other app", port: 80, app: otherPath, fw2: wfp.ActionBlock, final: wfp.ActionBlock, decided: true,
			traceHas: []string{`filter "F4"`, "not matched: ALE_APP_ID is " + otherPath + ", want equal " + iisPath, `decision: block (hard) by "F5"`}},
		{name: "E3 port 8080 IIS", port: 8080, app: iisPath, fw1: wfp.ActionPermit, final: wfp.ActionPermit, decided: true,
			traceHas: []string{"not matched: IP_LOCAL_PORT is 8080, want equal 80", `decision: permit (soft) by "F4"`}},
		{name: "E4 port 8080 other app", port: 8080, app: otherPath, final: wfp.ActionPermit, decided: false,
			traceHas: []string{"not matched: ALE_APP_ID", "not matched: IP_LOCAL_PORT is 8080, want equal 80", "no filter decided"}},
	}
	for _, tc := range tests {
		for _, traced := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/traced=%v", tc.name, traced), func(t *testing.T) {
				x := newArbitrationExample(t)
				tv := values(t, layers.InboundTransportV4, kv{layers.ConditionIPProtocol, wfp.Uint8(6)}, kv{layers.ConditionIPLocalPort, wfp.Uint16(tc.port)})
				ra := values(t, layers.ALEAuthRecvAcceptV4, kv{layers.ConditionIPProtocol, wfp.Uint8(6)},
					kv{layers.ConditionIPLocalPort, wfp.Uint16(tc.port)}, kv{layers.ConditionALEAppID, wfp.AppID(tc.app)})

				// INBOUND_TRANSPORT: S1 soft permit; S2: ids CONTINUE, then F3 permit.
				d, _ := x.classify(layers.InboundTransportV4, tv, traced)
				assert.Equal(t, wfp.ActionPermit, d.Action)
				assert.True(t, d.Decided)
				assert.Equal(t, x.f1, sublayerResult(t, d, x.s1).FilterID)
				assert.Equal(t, x.f3, sublayerResult(t, d, x.s2).FilterID, "S2 is decided by F3 after ids continues (A3)")

				// ALE_AUTH_RECV_ACCEPT.
				d, tr := x.classify(layers.ALEAuthRecvAcceptV4, ra, traced)
				assert.Equal(t, tc.fw1, sublayerResult(t, d, x.fw1).Action, "FW1")
				assert.Equal(t, tc.fw2, sublayerResult(t, d, x.fw2).Action, "FW2")
				assert.Equal(t, wfp.ActionType(0), sublayerResult(t, d, x.fw3).Action, "FW3 only logs")
				assert.Equal(t, tc.final, d.Action)
				assert.Equal(t, tc.decided, d.Decided)
				assert.False(t, d.Vetoed)

				// E5: both inspection callouts run exactly once, after a hard block too (A2).
				assert.EqualValues(t, 1, x.ids.Load(), "ids_callout invocations")
				assert.EqualValues(t, 1, x.log.Load(), "log_callout invocations")

				if traced {
					text := tr.String()
					for _, want := range tc.traceHas {
						assert.Contains(t, text, want)
					}
				}
			})
		}
	}
}

// TestArbitrationDerived is E6-E10 of the rule book, at ALE_AUTH_CONNECT_V4.
func TestArbitrationDerived(t *testing.T) {
	l := layers.ALEAuthConnectV4
	permit := wfp.Action{Type: wfp.ActionPermit}
	block := wfp.Action{Type: wfp.ActionBlock}
	tests := []struct {
		name   string
		build  func(x *env, hi, lo wfp.SublayerKey) (decider wfp.FilterID)
		action wfp.ActionType
		hard   bool
		vetoed bool
	}{
		{name: "E6 hard permit beats a lower static block", action: wfp.ActionPermit, hard: true,
			build: func(x *env, hi, lo wfp.SublayerKey) wfp.FilterID {
				id := x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Flags: wfp.FilterFlagClearActionRight, Action: permit})
				x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: block})
				return id
			}},
		{name: "E7 a callout block vetoes the hard permit", action: wfp.ActionBlock, hard: true, vetoed: true,
			build: func(x *env, hi, lo wfp.SublayerKey) wfp.FilterID {
				x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Flags: wfp.FilterFlagClearActionRight, Action: permit})
				c := x.registered("veto", l, callout.Static(wfp.ActionBlock, false))
				return x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: c}})
			}},
		{name: "E8 soft callout block, lower static permit", action: wfp.ActionPermit, hard: false,
			build: func(x *env, hi, lo wfp.SublayerKey) wfp.FilterID {
				c := x.registered("softblock", l, callout.Static(wfp.ActionBlock, false))
				x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: c}})
				return x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: permit})
			}},
		{name: "E9 static block, lower static permit", action: wfp.ActionBlock, hard: true,
			build: func(x *env, hi, lo wfp.SublayerKey) wfp.FilterID {
				id := x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Action: block})
				x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: permit})
				return id
			}},
		{name: "E9 static block, lower hard permit", action: wfp.ActionBlock, hard: true,
			build: func(x *env, hi, lo wfp.SublayerKey) wfp.FilterID {
				id := x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Action: block})
				x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Flags: wfp.FilterFlagClearActionRight, Action: permit})
				return id
			}},
		{name: "E9 static block, lower hard callout permit", action: wfp.ActionBlock, hard: true,
			build: func(x *env, hi, lo wfp.SublayerKey) wfp.FilterID {
				id := x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Action: block})
				c := x.registered("permit", l, callout.Static(wfp.ActionPermit, true))
				x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: c}})
				return id
			}},
		{name: "E9 static block, lower callout block is no veto", action: wfp.ActionBlock, hard: true,
			build: func(x *env, hi, lo wfp.SublayerKey) wfp.FilterID {
				id := x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Action: block})
				c := x.registered("block", l, callout.Static(wfp.ActionBlock, false))
				x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: c}})
				return id
			}},
		{name: "E10 higher weight wins in one sublayer", action: wfp.ActionPermit, hard: false,
			build: func(x *env, hi, _ wfp.SublayerKey) wfp.FilterID {
				id := x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Weight: wfp.ExactWeight(10), Action: permit})
				x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Weight: wfp.ExactWeight(5), Action: block})
				return id
			}},
	}
	for _, tc := range tests {
		for _, traced := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/traced=%v", tc.name, traced), func(t *testing.T) {
				x := newEnv(t)
				hi, lo := x.sublayer("high", 0x9000), x.sublayer("low", 0x1000)
				decider := tc.build(x, hi, lo)
				d, tr := x.classify(l, values(t, l), traced)
				assert.Equal(t, tc.action, d.Action)
				assert.Equal(t, tc.hard, d.Hard)
				assert.Equal(t, tc.vetoed, d.Vetoed)
				assert.True(t, d.Decided)
				assert.Equal(t, decider, d.FilterID)
				ev := netEvents(x.e)
				if tc.action == wfp.ActionBlock {
					require.Len(t, ev, 1)
					assert.Equal(t, wfp.NetEventClassifyDrop, ev[0].Type)
					assert.Equal(t, decider, ev[0].FilterID)
					assert.Equal(t, tc.vetoed, ev[0].Vetoed, "E7: the veto is reported (audit 5153)")
				} else {
					assert.Empty(t, ev, "permits are not logged by default")
				}
				if traced && tc.vetoed {
					assert.Contains(t, tr.String(), "VETO")
					assert.Contains(t, tr.String(), "decision: block (veto)")
				}
				if traced && tc.name == "E10 higher weight wins in one sublayer" {
					assert.Contains(t, tr.String(), "not evaluated")
				}
			})
		}
	}
}

// TestA3FirstTerminatingFilterEndsSublayer: filters after the first permit or block of
// a sublayer are not evaluated, so their callouts never run; CONTINUE moves on.
func TestA3FirstTerminatingFilterEndsSublayer(t *testing.T) {
	for _, traced := range []bool{false, true} {
		t.Run(fmt.Sprint("traced=", traced), func(t *testing.T) {
			x := newEnv(t)
			l := layers.ALEAuthConnectV4
			sl := x.sublayer("only", 0x4000)
			var before, after atomic.Int64
			insp := x.registered("before", l, counting(&before, callout.Static(wfp.ActionContinue, false)))
			late := x.registered("after", l, counting(&after, callout.Static(wfp.ActionBlock, true)))
			x.filter(wfp.Filter{Layer: l.Key, Sublayer: sl, Weight: wfp.ExactWeight(30), Action: wfp.Action{Type: wfp.ActionCalloutUnknown, Callout: insp}})
			p := x.filter(wfp.Filter{Layer: l.Key, Sublayer: sl, Weight: wfp.ExactWeight(20), Action: wfp.Action{Type: wfp.ActionPermit}})
			x.filter(wfp.Filter{Layer: l.Key, Sublayer: sl, Weight: wfp.ExactWeight(10), Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: late}})
			d, _ := x.classify(l, values(t, l), traced)
			assert.Equal(t, wfp.ActionPermit, d.Action)
			assert.Equal(t, p, d.FilterID)
			assert.EqualValues(t, 1, before.Load())
			assert.EqualValues(t, 0, after.Load(), "a filter after the terminating one is skipped")
		})
	}
}

// TestA5A6Hardness checks the default hardness table and clear_action_right, both by
// Decision.Hard and by whether a lower sublayer can override.
func TestA5A6Hardness(t *testing.T) {
	l := layers.ALEAuthConnectV4
	tests := []struct {
		name   string
		action wfp.ActionType
		code   callout.Callout // nil: static filter
		flags  wfp.FilterFlags
		want   wfp.ActionType
		hard   bool
	}{
		{name: "A5 static permit is soft", action: wfp.ActionPermit, want: wfp.ActionPermit},
		{name: "A6 static permit with clear_action_right is hard", action: wfp.ActionPermit, flags: wfp.FilterFlagClearActionRight, want: wfp.ActionPermit, hard: true},
		{name: "A5 static block is hard", action: wfp.ActionBlock, want: wfp.ActionBlock, hard: true},
		{name: "A5 callout permit is soft", action: wfp.ActionCalloutTerminating, code: writes(wfp.ActionPermit, false, 0), want: wfp.ActionPermit},
		{name: "A5 callout block is soft", action: wfp.ActionCalloutTerminating, code: writes(wfp.ActionBlock, false, 0), want: wfp.ActionBlock},
		{name: "A6 callout block with clear_action_right is hard", action: wfp.ActionCalloutTerminating, flags: wfp.FilterFlagClearActionRight, code: writes(wfp.ActionBlock, false, 0), want: wfp.ActionBlock, hard: true},
		{name: "A6 callout permit with clear_action_right is hard", action: wfp.ActionCalloutUnknown, flags: wfp.FilterFlagClearActionRight, code: writes(wfp.ActionPermit, false, 0), want: wfp.ActionPermit, hard: true},
		{name: "A4 callout that clears the right is hard", action: wfp.ActionCalloutTerminating, code: writes(wfp.ActionPermit, true, 0), want: wfp.ActionPermit, hard: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newEnv(t)
			hi, lo := x.sublayer("high", 0x9000), x.sublayer("low", 0x1000)
			f := wfp.Filter{Layer: l.Key, Sublayer: hi, Flags: tc.flags, Action: wfp.Action{Type: tc.action}}
			if tc.code != nil {
				f.Action.Callout = x.registered("c", l, tc.code)
			}
			id := x.filter(f)
			d, _ := x.classify(l, values(t, l), false)
			assert.Equal(t, tc.want, d.Action)
			assert.Equal(t, tc.hard, d.Hard)
			assert.Equal(t, id, d.FilterID)

			// A lower sublayer with the opposite static action overrides only a soft action.
			opposite := wfp.ActionBlock
			if tc.want == wfp.ActionBlock {
				opposite = wfp.ActionPermit
			}
			x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: wfp.Action{Type: opposite}})
			d, _ = x.classify(l, values(t, l), true)
			if tc.hard {
				assert.Equal(t, tc.want, d.Action, "a hard action stands (A4)")
				assert.Equal(t, id, d.FilterID)
			} else {
				assert.Equal(t, opposite, d.Action, "a soft action is overridden (A4)")
			}
		})
	}
}

// TestA7Veto: a callout without the write right may only write block. Block is a veto,
// permit is ignored.
func TestA7Veto(t *testing.T) {
	l := layers.ALEAuthConnectV4
	tests := []struct {
		name   string
		code   callout.Callout
		typ    wfp.ActionType
		action wfp.ActionType
		vetoed bool
	}{
		{name: "block over hard permit is a veto", code: writes(wfp.ActionBlock, false, 0), typ: wfp.ActionCalloutTerminating, action: wfp.ActionBlock, vetoed: true},
		{name: "unknown-type callout block is a veto", code: writes(wfp.ActionBlock, false, 0), typ: wfp.ActionCalloutUnknown, action: wfp.ActionBlock, vetoed: true},
		{name: "permit written without the right is ignored", code: writes(wfp.ActionPermit, true, 0), typ: wfp.ActionCalloutTerminating, action: wfp.ActionPermit},
		{name: "well-behaved static permit does nothing", code: callout.Static(wfp.ActionPermit, true), typ: wfp.ActionCalloutTerminating, action: wfp.ActionPermit},
		{name: "inspection callout block is no veto", code: writes(wfp.ActionBlock, false, 0), typ: wfp.ActionCalloutInspection, action: wfp.ActionPermit},
	}
	for _, tc := range tests {
		for _, traced := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/traced=%v", tc.name, traced), func(t *testing.T) {
				x := newEnv(t)
				hi, lo := x.sublayer("high", 0x9000), x.sublayer("low", 0x1000)
				hp := x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Flags: wfp.FilterFlagClearActionRight, Action: wfp.Action{Type: wfp.ActionPermit}})
				var rightsOnEntry atomic.Int64
				rightsOnEntry.Store(-1)
				code := callout.Func(func(in *callout.IncomingValues, m *callout.Metadata, ld any, f *callout.Filter, fc uint64, out *callout.ClassifyOut) {
					rightsOnEntry.Store(int64(out.Rights))
					tc.code.Classify(in, m, ld, f, fc, out)
				})
				c := x.registered("c", l, code)
				cf := x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: wfp.Action{Type: tc.typ, Callout: c}})
				d, _ := x.classify(l, values(t, l), traced)
				assert.EqualValues(t, 0, rightsOnEntry.Load(), "the callout runs without the write right")
				assert.Equal(t, tc.action, d.Action)
				assert.Equal(t, tc.vetoed, d.Vetoed)
				assert.True(t, d.Hard)
				if tc.vetoed {
					assert.Equal(t, cf, d.FilterID)
					ev := netEvents(x.e)
					require.Len(t, ev, 1)
					assert.True(t, ev[0].Vetoed)
				} else {
					assert.Equal(t, hp, d.FilterID)
				}
			})
		}
	}
}

// TestA7ContinueWithoutRightIsNoVeto: a misbehaving callout writes CONTINUE without the
// write right at a TERMINATING filter. A7 forbids writing anything but BLOCK without the
// right, and a veto is "a Block written by a callout"; the callout wrote no Block.
func TestA7ContinueWithoutRightIsNoVeto(t *testing.T) {
	l := layers.ALEAuthConnectV4
	x := newEnv(t)
	hi, lo := x.sublayer("high", 0x9000), x.sublayer("low", 0x1000)
	hp := x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Flags: wfp.FilterFlagClearActionRight, Action: wfp.Action{Type: wfp.ActionPermit}})
	c := x.registered("c", l, writes(wfp.ActionContinue, false, 0))
	x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: c}})
	d, tr := x.classify(l, values(t, l), true)
	assert.False(t, d.Vetoed, "an illegal CONTINUE without the write right is ignored (rule A7), not a veto; trace:\n%s", tr)
	assert.Equal(t, wfp.ActionPermit, d.Action)
	assert.Equal(t, hp, d.FilterID)
}

// TestA8CalloutReturnMapping: what a callout's return value means per filter action type.
func TestA8CalloutReturnMapping(t *testing.T) {
	l := layers.ALEAuthConnectV4
	odd := wfp.ActionType(0x9999)
	none := wfp.ActionType(0) // 0: the filter continues, nothing decided
	tests := []struct {
		typ  wfp.ActionType
		ret  wfp.ActionType
		want wfp.ActionType
	}{
		{wfp.ActionCalloutTerminating, wfp.ActionBlock, wfp.ActionBlock},
		{wfp.ActionCalloutTerminating, wfp.ActionPermit, wfp.ActionPermit},
		{wfp.ActionCalloutTerminating, wfp.ActionContinue, wfp.ActionBlock},
		{wfp.ActionCalloutTerminating, wfp.ActionNone, wfp.ActionBlock},
		{wfp.ActionCalloutTerminating, odd, wfp.ActionBlock},
		{wfp.ActionCalloutInspection, wfp.ActionBlock, none},
		{wfp.ActionCalloutInspection, wfp.ActionPermit, none},
		{wfp.ActionCalloutInspection, wfp.ActionContinue, none},
		{wfp.ActionCalloutInspection, odd, none},
		{wfp.ActionCalloutUnknown, wfp.ActionBlock, wfp.ActionBlock},
		{wfp.ActionCalloutUnknown, wfp.ActionPermit, wfp.ActionPermit},
		{wfp.ActionCalloutUnknown, wfp.ActionContinue, none},
		{wfp.ActionCalloutUnknown, odd, none}, // undocumented: wfpsim continues
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("A8 %s returns %s", tc.typ.ShortName(), tc.ret), func(t *testing.T) {
			x := newEnv(t)
			sl := x.sublayer("s", 0x4000)
			c := x.registered("c", l, writes(tc.ret, false, 0))
			id := x.filter(wfp.Filter{Layer: l.Key, Sublayer: sl, Weight: wfp.ExactWeight(10), Action: wfp.Action{Type: tc.typ, Callout: c}})
			// A lower filter in the same sublayer shows whether the callout continued.
			next := x.filter(wfp.Filter{Layer: l.Key, Sublayer: sl, Weight: wfp.ExactWeight(1), Action: wfp.Action{Type: wfp.ActionPermit}})
			for _, traced := range []bool{false, true} {
				d, _ := x.classify(l, values(t, l), traced)
				if tc.want == none {
					assert.Equal(t, next, d.FilterID, "continue: the next filter decides")
				} else {
					assert.Equal(t, tc.want, d.Action)
					assert.Equal(t, id, d.FilterID)
				}
			}
		})
	}
}

// TestA9UnregisteredCallouts: filters naming a callout whose code is not registered.
func TestA9UnregisteredCallouts(t *testing.T) {
	l := layers.ALEAuthConnectV4
	tests := []struct {
		name  string
		typ   wfp.ActionType
		flags wfp.FilterFlags
		want  wfp.ActionType // 0: ignored
		hard  bool
	}{
		{name: "terminating blocks", typ: wfp.ActionCalloutTerminating, want: wfp.ActionBlock, hard: true},
		{name: "unknown blocks", typ: wfp.ActionCalloutUnknown, want: wfp.ActionBlock, hard: true},
		{name: "inspection is ignored", typ: wfp.ActionCalloutInspection},
		{name: "terminating permit_if_callout_unregistered permits", typ: wfp.ActionCalloutTerminating, flags: wfp.FilterFlagPermitIfCalloutUnregistered, want: wfp.ActionPermit},
		{name: "unknown permit_if_callout_unregistered permits", typ: wfp.ActionCalloutUnknown, flags: wfp.FilterFlagPermitIfCalloutUnregistered, want: wfp.ActionPermit},
		{name: "permit_if_callout_unregistered with clear_action_right is hard", typ: wfp.ActionCalloutTerminating,
			flags: wfp.FilterFlagPermitIfCalloutUnregistered | wfp.FilterFlagClearActionRight, want: wfp.ActionPermit, hard: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newEnv(t)
			sl := x.sublayer("s", 0x4000)
			c := x.calloutAt("unregistered", l)
			id := x.filter(wfp.Filter{Layer: l.Key, Sublayer: sl, Flags: tc.flags, Action: wfp.Action{Type: tc.typ, Callout: c}})
			for _, traced := range []bool{false, true} {
				d, tr := x.classify(l, values(t, l), traced)
				if tc.want == 0 {
					assert.False(t, d.Decided)
				} else {
					assert.Equal(t, tc.want, d.Action)
					assert.Equal(t, tc.hard, d.Hard)
					assert.Equal(t, id, d.FilterID)
				}
				if traced {
					assert.Contains(t, tr.String(), "not registered")
				}
			}
			co, err := x.s.Callout(c)
			require.NoError(t, err)
			assert.Zero(t, co.Flags&wfp.CalloutFlagRegistered)

			// Registering the code makes the callout decide; unregistering restores A9.
			require.NoError(t, x.e.RegisterCallout(c, callout.Static(wfp.ActionPermit, true)))
			co, err = x.s.Callout(c)
			require.NoError(t, err)
			assert.NotZero(t, co.Flags&wfp.CalloutFlagRegistered)
			d, _ := x.classify(l, values(t, l), false)
			if tc.typ != wfp.ActionCalloutInspection {
				assert.Equal(t, wfp.ActionPermit, d.Action)
				assert.True(t, d.Hard)
			}
			require.NoError(t, x.e.UnregisterCallout(c))
			d2, _ := x.classify(l, values(t, l), false)
			if tc.want == 0 {
				assert.False(t, d2.Decided)
			} else {
				assert.Equal(t, tc.want, d2.Action)
			}
			assert.ErrorIs(t, x.e.UnregisterCallout(c), wfp.ErrCalloutNotFound)
		})
	}
}

// TestA9UnregisteredBlockIsNoVeto: A9 says an unregistered TERMINATING filter "behaves
// as BLOCK", i.e. as a static block filter; A7 says a veto is a Block *written by a
// callout*, and the A-algorithm does not count a static block over a hard permit as a
// veto. So a hard permit should stand.
func TestA9UnregisteredBlockIsNoVeto(t *testing.T) {
	l := layers.ALEAuthConnectV4
	x := newEnv(t)
	hi, lo := x.sublayer("high", 0x9000), x.sublayer("low", 0x1000)
	hp := x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Flags: wfp.FilterFlagClearActionRight, Action: wfp.Action{Type: wfp.ActionPermit}})
	c := x.calloutAt("unregistered", l)
	x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: c}})
	d, _ := x.classify(l, values(t, l), false)
	assert.False(t, d.Vetoed, "an unregistered callout's block (rule A9) is a static block, no veto")
	assert.Equal(t, wfp.ActionPermit, d.Action)
	assert.Equal(t, hp, d.FilterID)
}

// TestA11Absorb: BLOCK with FWPS_CLASSIFY_OUT_FLAG_ABSORB drops silently: no net event.
func TestA11Absorb(t *testing.T) {
	l := layers.ALEAuthConnectV4
	for _, absorb := range []bool{false, true} {
		t.Run(fmt.Sprint("absorb=", absorb), func(t *testing.T) {
			x := newEnv(t)
			sl := x.sublayer("s", 0x4000)
			var flags callout.OutFlags
			if absorb {
				flags = callout.FlagAbsorb
			}
			c := x.registered("drop", l, writes(wfp.ActionBlock, true, flags))
			x.filter(wfp.Filter{Layer: l.Key, Sublayer: sl, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: c}})
			d, _ := x.classify(l, values(t, l, kv{layers.ConditionIPRemotePort, wfp.Uint16(443)}), false)
			assert.Equal(t, wfp.ActionBlock, d.Action)
			assert.Equal(t, absorb, d.Absorb)
			ev := netEvents(x.e)
			if absorb {
				assert.Empty(t, ev, "an absorbed drop leaves no net event")
			} else {
				require.Len(t, ev, 1)
				assert.EqualValues(t, 443, ev[0].Header.RemotePort)
			}
		})
	}
}

// TestA12NothingDecided: no matching filter, or only CONTINUE: permit, Decided false,
// no net event.
func TestA12NothingDecided(t *testing.T) {
	l := layers.ALEAuthConnectV4
	t.Run("no filters", func(t *testing.T) {
		x := newEnv(t)
		d, tr := x.classify(l, values(t, l), true)
		assert.Equal(t, wfp.ActionPermit, d.Action)
		assert.False(t, d.Decided)
		assert.Zero(t, d.FilterID)
		assert.Contains(t, tr.String(), "no filters at this layer")
	})
	t.Run("only continue and non-matching", func(t *testing.T) {
		x := newEnv(t)
		e := engine.New(engine.Options{LogAllows: true})
		x.e, x.s = e, e.Open(wfp.SessionOptions{})
		sl := x.sublayer("s", 0x4000)
		c := x.registered("c", l, callout.Static(wfp.ActionContinue, false))
		x.filter(wfp.Filter{Layer: l.Key, Sublayer: sl, Action: wfp.Action{Type: wfp.ActionCalloutUnknown, Callout: c}})
		x.filter(wfp.Filter{Layer: l.Key, Sublayer: sl, Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(1))},
			Action: wfp.Action{Type: wfp.ActionBlock}})
		for _, traced := range []bool{false, true} {
			d, _ := x.classify(l, values(t, l, kv{layers.ConditionIPRemotePort, wfp.Uint16(2)}), traced)
			assert.Equal(t, wfp.ActionPermit, d.Action)
			assert.False(t, d.Decided)
			assert.False(t, d.Hard)
		}
		assert.Empty(t, netEvents(x.e), "nothing decided: no allow event even with LogAllows")
	})
}

// TestA2AllSublayersEvaluated: a lower sublayer's inspection callout runs after a hard
// block, and an empty sublayer does not appear in the results.
func TestA2AllSublayersEvaluated(t *testing.T) {
	l := layers.ALEAuthConnectV4
	x := newEnv(t)
	hi, mid, lo := x.sublayer("high", 0x9000), x.sublayer("mid", 0x5000), x.sublayer("low", 0x1000)
	_ = mid
	var n atomic.Int64
	c := x.registered("log", l, counting(&n, callout.Static(wfp.ActionBlock, false)))
	x.filter(wfp.Filter{Layer: l.Key, Sublayer: hi, Action: wfp.Action{Type: wfp.ActionBlock}})
	x.filter(wfp.Filter{Layer: l.Key, Sublayer: lo, Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: c}})
	d, _ := x.classify(l, values(t, l), false)
	assert.EqualValues(t, 1, n.Load())
	require.Len(t, d.Sublayers, 2)
	assert.Equal(t, hi, d.Sublayers[0].Sublayer, "highest weight first")
	assert.Equal(t, lo, d.Sublayers[1].Sublayer)
}

// TestB3B4B6ConditionsThroughClassify: same field ORed, different fields ANDed, no
// conditions match all (B3); no type conversion (B4); empty fields (B6); user
// conditions against the token (B4's security-descriptor exception).
func TestB3B4B6ConditionsThroughClassify(t *testing.T) {
	l := layers.ALEAuthConnectV4
	rport, proto, user := layers.ConditionIPRemotePort, layers.ConditionIPProtocol, layers.ConditionALEUserID
	system := wfp.MustParseSID("S-1-5-18")
	someone := wfp.MustParseSID("S-1-5-21-1-2-3-1001")
	admins := wfp.MustParseSID("S-1-5-32-544")
	tests := []struct {
		name  string
		conds []wfp.Condition
		in    []kv
		match bool
	}{
		{"B3 no conditions match everything", nil, nil, true},
		{"B3 same field ORed: first", []wfp.Condition{eq(rport, wfp.Uint16(80)), eq(rport, wfp.Uint16(443))}, []kv{{rport, wfp.Uint16(80)}}, true},
		{"B3 same field ORed: second", []wfp.Condition{eq(rport, wfp.Uint16(80)), eq(rport, wfp.Uint16(443))}, []kv{{rport, wfp.Uint16(443)}}, true},
		{"B3 same field ORed: neither", []wfp.Condition{eq(rport, wfp.Uint16(80)), eq(rport, wfp.Uint16(443))}, []kv{{rport, wfp.Uint16(22)}}, false},
		{"B3 different fields ANDed: both", []wfp.Condition{eq(rport, wfp.Uint16(80)), eq(proto, wfp.Uint8(6))}, []kv{{rport, wfp.Uint16(80)}, {proto, wfp.Uint8(6)}}, true},
		{"B3 different fields ANDed: one", []wfp.Condition{eq(rport, wfp.Uint16(80)), eq(proto, wfp.Uint8(6))}, []kv{{rport, wfp.Uint16(80)}, {proto, wfp.Uint8(17)}}, false},
		{"B3 OR inside AND", []wfp.Condition{eq(proto, wfp.Uint8(6)), eq(rport, wfp.Uint16(80)), eq(rport, wfp.Uint16(443))},
			[]kv{{rport, wfp.Uint16(443)}, {proto, wfp.Uint8(6)}}, true},
		{"B4 incoming value of another type does not match", []wfp.Condition{eq(rport, wfp.Uint16(80))}, []kv{{rport, wfp.Uint32(80)}}, false},
		{"B6 empty field does not match a value", []wfp.Condition{eq(rport, wfp.Uint16(80))}, nil, false},
		{"B6 empty field does not match not_equal", []wfp.Condition{cond(rport, wfp.MatchNotEqual, wfp.Uint16(80))}, nil, false},
		{"B6 equal empty matches an empty field", []wfp.Condition{eq(rport, wfp.Empty{})}, nil, true},
		{"B6 equal empty does not match a value", []wfp.Condition{eq(rport, wfp.Empty{})}, []kv{{rport, wfp.Uint16(80)}}, false},
		{"SDDL allows system", []wfp.Condition{eq(user, wfp.SecurityDescriptor("D:(A;;CC;;;S-1-5-18)"))},
			[]kv{{user, wfp.TokenAccessInformation{User: system}}}, true},
		{"SDDL does not allow another user", []wfp.Condition{eq(user, wfp.SecurityDescriptor("D:(A;;CC;;;S-1-5-18)"))},
			[]kv{{user, wfp.TokenAccessInformation{User: someone}}}, false},
		{"SDDL deny ACE first", []wfp.Condition{eq(user, wfp.SecurityDescriptor("D:(D;;CC;;;BA)(A;;CC;;;WD)"))},
			[]kv{{user, wfp.TokenAccessInformation{User: someone, Groups: []wfp.SID{admins}}}}, false},
		{"SDDL allow by group", []wfp.Condition{eq(user, wfp.SecurityDescriptor("D:(D;;CC;;;S-1-5-18)(A;;CC;;;BA)"))},
			[]kv{{user, wfp.TokenAccessInformation{User: someone, Groups: []wfp.SID{admins}}}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newEnv(t)
			sl := x.sublayer("s", 0x4000)
			id := x.filter(wfp.Filter{Layer: l.Key, Sublayer: sl, Conditions: tc.conds, Action: wfp.Action{Type: wfp.ActionBlock}})
			// The reference matcher agrees with the hand-written expectation.
			f, err := x.s.FilterByID(id)
			require.NoError(t, err)
			vals := values(t, l, tc.in...)
			if !slices.ContainsFunc(tc.conds, func(c wfp.Condition) bool { return c.Field == user.Key }) {
				assert.Equal(t, tc.match, refFilterMatches(l, f, vals), "reference")
			}
			for _, traced := range []bool{false, true} {
				d, tr := x.classify(l, vals, traced)
				assert.Equal(t, tc.match, d.Decided, "traced=%v", traced)
				if traced && !tc.match {
					assert.Contains(t, tr.String(), "not matched: ")
				}
			}
		})
	}
}
