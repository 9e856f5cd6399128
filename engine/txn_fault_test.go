package engine_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// state is everything a session can see of the store, and the decisions of a set of
// classifications: what an aborted transaction must leave exactly as it was.
type state struct {
	Filters   []wfp.Filter
	Sublayers []wfp.Sublayer
	Providers []wfp.Provider
	Callouts  []wfp.Callout
	Decisions []string
}

func snapshotState(t *testing.T, e *engine.Engine, s *engine.Session) state {
	t.Helper()
	var st state
	var err error
	st.Filters, err = s.Filters(nil)
	require.NoError(t, err)
	st.Sublayers, err = s.Sublayers()
	require.NoError(t, err)
	st.Providers, err = s.Providers()
	require.NoError(t, err)
	st.Callouts, err = s.Callouts()
	require.NoError(t, err)
	st.Decisions = decisions(t, e)
	return st
}

func decisions(t *testing.T, e *engine.Engine) []string {
	var out []string
	for _, port := range []uint16{22, 25, 80, 443, 445, 3389, 5000, 5001} {
		var d engine.Decision
		require.NoError(t, e.Classify(&engine.Request{Layer: connect, Values: values(t, connect, kv{layers.ConditionIPRemotePort, wfp.Uint16(port)})}, &d, nil))
		out = append(out, fmt.Sprintf("%d: %s %v %q %v", port, actionName(d.Action), d.Hard, d.FilterName, d.Sublayers))
	}
	return out
}

func actionName(a wfp.ActionType) string { return engine.SublayerResult{Action: a}.ActionName() }

// TestFaultTransactionAbortedMidway: many adds and deletes of every kind of object,
// some failing, then an abort; the committed snapshot and the store are exactly as
// before.
func TestFaultTransactionAbortedMidway(t *testing.T) {
	v := newEnv(t)
	sl := v.sublayer("base", 0x8000)
	v.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "permit-80"}, Layer: connect.Key, Sublayer: sl,
		Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(80))}, Action: wfp.Action{Type: wfp.ActionPermit}})
	blockID := v.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "block-25"}, Layer: connect.Key, Sublayer: sl,
		Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(25))}, Action: wfp.Action{Type: wfp.ActionBlock}})
	ck := v.calloutAt("base-callout", connect)
	before := snapshotState(t, v.e, v.s)

	for _, ending := range []string{"abort", "close"} {
		t.Run(ending, func(t *testing.T) {
			s := v.e.Open(wfp.SessionOptions{Name: "aborted"})
			require.NoError(t, s.BeginTransaction(false))
			pk := wfp.ProviderKey(wfp.GUIDFromName("abort-provider", ending))
			require.NoError(t, s.AddProvider(wfp.Provider{Key: pk, DisplayData: wfp.DisplayData{Name: "p"}}))
			nsl := wfp.SublayerKey(wfp.GUIDFromName("abort-sublayer", ending))
			require.NoError(t, s.AddSublayer(wfp.Sublayer{Key: nsl, DisplayData: wfp.DisplayData{Name: "top"}, Weight: 0xffff, Provider: pk}))
			_, err := s.AddCallout(wfp.Callout{Key: wfp.CalloutKey(wfp.GUIDFromName("abort-callout", ending)), DisplayData: wfp.DisplayData{Name: "c"}, Layer: connect.Key})
			require.NoError(t, err)
			for i := 0; i < 200; i++ {
				a := wfp.ActionBlock
				if i%2 == 0 {
					a = wfp.ActionPermit
				}
				_, err := s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: fmt.Sprint("txn", i)}, Layer: connect.Key, Sublayer: nsl,
					Flags:      wfp.FilterFlagClearActionRight,
					Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(uint16(i*25%6000)))}, Action: wfp.Action{Type: a}})
				require.NoError(t, err)
			}
			// Deletes of committed objects, and failures midway, in the same transaction.
			require.NoError(t, s.DeleteFilterByID(blockID))
			require.NoError(t, s.DeleteCallout(ck))
			_, err = s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "bad"}, Layer: connect.Key, Sublayer: wfp.SublayerKey(wfp.GUIDFromName("no", "such")),
				Action: wfp.Action{Type: wfp.ActionBlock}})
			require.Error(t, err, "a failing add midway")
			require.Error(t, s.AddSublayer(wfp.Sublayer{Key: nsl, DisplayData: wfp.DisplayData{Name: "dup"}}), "a duplicate midway")
			// Classification still sees the committed state (other sessions' reads wait
			// for the transaction lock, as in the BFE).
			assert.Equal(t, before.Decisions, decisions(t, v.e), "uncommitted changes are invisible")
			if ending == "abort" {
				require.NoError(t, s.AbortTransaction())
				assert.Equal(t, before, snapshotState(t, v.e, s), "the aborting session sees the old state")
				require.NoError(t, s.Close())
			} else {
				require.NoError(t, s.Close(), "closing aborts the open transaction")
			}
			assert.Equal(t, before, snapshotState(t, v.e, v.s))
			// The store is usable: the same keys can be added again and committed.
			s2 := v.e.Open(wfp.SessionOptions{Name: "again", Dynamic: true})
			require.NoError(t, s2.AddProvider(wfp.Provider{Key: pk, DisplayData: wfp.DisplayData{Name: "p"}}))
			require.NoError(t, s2.AddSublayer(wfp.Sublayer{Key: nsl, DisplayData: wfp.DisplayData{Name: "top"}, Weight: 0xffff, Provider: pk}))
			require.NoError(t, s2.Close())
			assert.Equal(t, before, snapshotState(t, v.e, v.s), "a dynamic session's objects go with it")
		})
	}
}

// TestFaultSessionClosedDuringReplay: packets walk a stack while the dynamic session
// that added the policy closes. Packets before the close are blocked, packets after it
// permitted; no panic and no half state in between.
func TestFaultSessionClosedDuringReplay(t *testing.T) {
	e := engine.New(engine.Options{})
	dyn := e.Open(wfp.SessionOptions{Name: "policy", Dynamic: true})
	sl := wfp.SublayerKey(wfp.GUIDFromName("replay-close", "sl"))
	require.NoError(t, dyn.AddSublayer(wfp.Sublayer{Key: sl, DisplayData: wfp.DisplayData{Name: "policy"}, Weight: 0x8000}))
	require.NoError(t, dyn.BeginTransaction(false))
	for _, name := range []string{"a", "b"} { // two filters that must go together
		_, err := dyn.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "block-443-" + name}, Layer: connect.Key, Sublayer: sl,
			Weight:     wfp.RangeWeight(map[string]uint8{"a": 2, "b": 1}[name]),
			Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(443))}, Action: wfp.Action{Type: wfp.ActionBlock}})
		require.NoError(t, err)
	}
	require.NoError(t, dyn.CommitTransaction())
	st, err := e.NewStack(testHost(), engine.StackOptions{})
	require.NoError(t, err)

	closed := make(chan error, 1)
	var verdicts []bool // dropped, per packet
	require.NotPanics(t, func() {
		for i := 0; i < 400; i++ {
			if i == 100 {
				go func() { closed <- dyn.Close() }()
			}
			src := fmt.Sprintf("10.0.0.5:%d", 40000+i)
			res := st.Send(engine.TCP(src, "93.184.216.34:443", engine.TCPSyn, nil))
			if res.Dropped() {
				assert.Equal(t, "block-443-a", res.FilterName, "packet %d: only the committed policy decides", i)
			}
			verdicts = append(verdicts, res.Dropped())
		}
	})
	require.NoError(t, <-closed)
	// Blocked up to some point, permitted from there on: the policy went at once.
	flip := len(verdicts)
	for i, d := range verdicts {
		if !d {
			flip = i
			break
		}
	}
	assert.GreaterOrEqual(t, flip, 100, "the policy held until the close")
	for i := flip; i < len(verdicts); i++ {
		assert.False(t, verdicts[i], "packet %d blocked after the policy went", i)
	}
	res := st.Send(engine.TCP("10.0.0.5:39999", "93.184.216.34:443", engine.TCPSyn, nil))
	assert.False(t, res.Dropped(), "after the close the replay carries on without the policy")
	fs, err := e.Open(wfp.SessionOptions{}).Filters(nil)
	require.NoError(t, err)
	assert.Empty(t, fs, "the dynamic session's filters are gone")
}
