package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

var connect = layers.ALEAuthConnectV4

func blockPort(name string, sl wfp.SublayerKey, port uint16) wfp.Filter {
	return wfp.Filter{DisplayData: wfp.DisplayData{Name: name}, Layer: connect.Key, Sublayer: sl,
		Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(port))}, Action: wfp.Action{Type: wfp.ActionBlock}}
}

func decisionFor(t *testing.T, e *engine.Engine, port uint16) engine.Decision {
	var d engine.Decision
	require.NoError(t, e.Classify(&engine.Request{Layer: connect, Values: values(t, connect, kv{layers.ConditionIPRemotePort, wfp.Uint16(port)})}, &d, nil))
	return d
}

func filterCount(t *testing.T, s *engine.Session) int {
	fs, err := s.Filters(nil)
	require.NoError(t, err)
	return len(fs)
}

// TestE1DynamicSessionCleanup: every object added through a dynamic session is
// deleted when it closes; a static session's objects stay.
func TestE1DynamicSessionCleanup(t *testing.T) {
	e := engine.New(engine.Options{})
	dyn := e.Open(wfp.SessionOptions{Name: "dyn", Dynamic: true})
	static := e.Open(wfp.SessionOptions{Name: "static"})
	slKey := wfp.SublayerKey(wfp.GUIDFromName("t", "dyn-sl"))
	require.NoError(t, dyn.AddSublayer(wfp.Sublayer{Key: slKey, DisplayData: wfp.DisplayData{Name: "dyn"}, Weight: 0x100}))
	coKey := wfp.CalloutKey(wfp.GUIDFromName("t", "dyn-co"))
	_, err := dyn.AddCallout(wfp.Callout{Key: coKey, DisplayData: wfp.DisplayData{Name: "dyn"}, Layer: connect.Key})
	require.NoError(t, err)
	prKey := wfp.ProviderKey(wfp.GUIDFromName("t", "dyn-pr"))
	require.NoError(t, dyn.AddProvider(wfp.Provider{Key: prKey, DisplayData: wfp.DisplayData{Name: "dyn"}}))
	f := blockPort("dyn", slKey, 80)
	f.Provider = prKey
	_, err = dyn.AddFilter(f)
	require.NoError(t, err)
	_, err = static.AddFilter(blockPort("static", wfp.SublayerKey{}, 81))
	require.NoError(t, err)
	assert.Equal(t, wfp.ActionBlock, decisionFor(t, e, 80).Action)

	require.NoError(t, dyn.Close())
	assert.False(t, decisionFor(t, e, 80).Decided, "the dynamic filter is gone from classification")
	assert.Equal(t, wfp.ActionBlock, decisionFor(t, e, 81).Action, "the static filter stays")
	assert.Equal(t, 1, filterCount(t, static))
	_, err = static.Sublayer(slKey)
	assert.ErrorIs(t, err, wfp.ErrSublayerNotFound)
	_, err = static.Callout(coKey)
	assert.ErrorIs(t, err, wfp.ErrCalloutNotFound)
	_, err = static.Provider(prKey)
	assert.ErrorIs(t, err, wfp.ErrProviderNotFound)

	// A closed session refuses calls; closing twice is fine.
	assert.ErrorIs(t, dyn.BeginTransaction(false), wfp.ErrSessionAborted)
	_, err = dyn.AddFilter(blockPort("late", wfp.SublayerKey{}, 1))
	assert.ErrorIs(t, err, wfp.ErrSessionAborted)
	assert.NoError(t, dyn.Close())
}

// TestE2Transactions covers one transaction per session, commit, abort and failed
// operations inside a transaction.
func TestE2Transactions(t *testing.T) {
	t.Run("second begin fails with FWP_E_TXN_IN_PROGRESS", func(t *testing.T) {
		x := newEnv(t)
		require.NoError(t, x.s.BeginTransaction(false))
		assert.ErrorIs(t, x.s.BeginTransaction(false), wfp.ErrTxnInProgress)
		assert.ErrorIs(t, x.s.BeginTransaction(true), wfp.ErrTxnInProgress)
		require.NoError(t, x.s.AbortTransaction())
		require.NoError(t, x.s.BeginTransaction(false), "a new transaction after abort")
		require.NoError(t, x.s.CommitTransaction())
	})
	t.Run("commit and abort without a transaction", func(t *testing.T) {
		x := newEnv(t)
		assert.ErrorIs(t, x.s.CommitTransaction(), wfp.ErrNoTxnInProgress)
		assert.ErrorIs(t, x.s.AbortTransaction(), wfp.ErrNoTxnInProgress)
	})
	t.Run("classification never sees uncommitted filters; commit shows all at once", func(t *testing.T) {
		x := newEnv(t)
		require.NoError(t, x.s.BeginTransaction(false))
		sl := wfp.SublayerKey(wfp.GUIDFromName("t", "txn-sl"))
		require.NoError(t, x.s.AddSublayer(wfp.Sublayer{Key: sl, DisplayData: wfp.DisplayData{Name: "sl"}, Weight: 5}))
		_, err := x.s.AddFilter(blockPort("a", sl, 80))
		require.NoError(t, err)
		_, err = x.s.AddFilter(blockPort("b", sl, 443))
		require.NoError(t, err)
		assert.Equal(t, 2, filterCount(t, x.s), "the transaction sees its own changes")
		assert.False(t, decisionFor(t, x.e, 80).Decided, "uncommitted")
		assert.False(t, decisionFor(t, x.e, 443).Decided, "uncommitted")
		require.NoError(t, x.s.CommitTransaction())
		assert.Equal(t, wfp.ActionBlock, decisionFor(t, x.e, 80).Action)
		assert.Equal(t, wfp.ActionBlock, decisionFor(t, x.e, 443).Action)
	})
	t.Run("abort leaves nothing", func(t *testing.T) {
		x := newEnv(t)
		keep := x.filter(blockPort("keep", wfp.SublayerKey{}, 22))
		require.NoError(t, x.s.BeginTransaction(false))
		sl := wfp.SublayerKey(wfp.GUIDFromName("t", "abort-sl"))
		require.NoError(t, x.s.AddSublayer(wfp.Sublayer{Key: sl, DisplayData: wfp.DisplayData{Name: "sl"}, Weight: 5}))
		co := wfp.CalloutKey(wfp.GUIDFromName("t", "abort-co"))
		_, err := x.s.AddCallout(wfp.Callout{Key: co, DisplayData: wfp.DisplayData{Name: "c"}, Layer: connect.Key})
		require.NoError(t, err)
		_, err = x.s.AddFilter(blockPort("a", sl, 80))
		require.NoError(t, err)
		require.NoError(t, x.s.DeleteFilterByID(keep))
		require.NoError(t, x.s.AbortTransaction())
		assert.Equal(t, 1, filterCount(t, x.s))
		_, err = x.s.FilterByID(keep)
		assert.NoError(t, err, "the deleted filter is back")
		_, err = x.s.Sublayer(sl)
		assert.ErrorIs(t, err, wfp.ErrSublayerNotFound)
		_, err = x.s.Callout(co)
		assert.ErrorIs(t, err, wfp.ErrCalloutNotFound)
		assert.False(t, decisionFor(t, x.e, 80).Decided)
		assert.Equal(t, wfp.ActionBlock, decisionFor(t, x.e, 22).Action)
		// The engine still works after an abort: a later commit publishes.
		x.filter(blockPort("later", wfp.SublayerKey{}, 80))
		assert.Equal(t, wfp.ActionBlock, decisionFor(t, x.e, 80).Action)
	})
	t.Run("a failed add does not doom the transaction", func(t *testing.T) {
		x := newEnv(t)
		require.NoError(t, x.s.BeginTransaction(false))
		_, err := x.s.AddFilter(blockPort("good1", wfp.SublayerKey{}, 80))
		require.NoError(t, err)
		bad := blockPort("bad", wfp.SublayerKey{}, 81)
		bad.Weight = wfp.RangeWeight(16)
		_, err = x.s.AddFilter(bad)
		assert.ErrorIs(t, err, wfp.ErrInvalidWeight)
		_, err = x.s.AddFilter(blockPort("good2", wfp.SublayerKey{}, 82))
		require.NoError(t, err)
		require.NoError(t, x.s.CommitTransaction())
		assert.Equal(t, 2, filterCount(t, x.s))
		assert.Equal(t, wfp.ActionBlock, decisionFor(t, x.e, 80).Action)
		assert.False(t, decisionFor(t, x.e, 81).Decided)
		assert.Equal(t, wfp.ActionBlock, decisionFor(t, x.e, 82).Action)
	})
	t.Run("read-only transaction rejects writes", func(t *testing.T) {
		x := newEnv(t)
		require.NoError(t, x.s.BeginTransaction(true))
		_, err := x.s.AddFilter(blockPort("a", wfp.SublayerKey{}, 80))
		assert.ErrorIs(t, err, wfp.ErrIncompatibleTxn)
		assert.ErrorIs(t, x.s.AddSublayer(wfp.Sublayer{DisplayData: wfp.DisplayData{Name: "s"}}), wfp.ErrIncompatibleTxn)
		assert.ErrorIs(t, x.s.DeleteFilterByID(1), wfp.ErrIncompatibleTxn)
		_, err = x.s.Filters(nil)
		assert.NoError(t, err, "reads are fine")
		require.NoError(t, x.s.CommitTransaction())
		assert.Equal(t, 0, filterCount(t, x.s))
	})
	t.Run("lock wait times out between two sessions", func(t *testing.T) {
		e := engine.New(engine.Options{})
		a := e.Open(wfp.SessionOptions{Name: "a"})
		b := e.Open(wfp.SessionOptions{Name: "b", TxnWaitTimeout: 30 * time.Millisecond})
		require.NoError(t, a.BeginTransaction(false))
		start := time.Now()
		_, err := b.AddFilter(blockPort("b", wfp.SublayerKey{}, 80))
		assert.ErrorIs(t, err, wfp.ErrTimeout)
		assert.GreaterOrEqual(t, time.Since(start), 25*time.Millisecond)
		assert.ErrorIs(t, b.BeginTransaction(false), wfp.ErrTimeout)
		require.NoError(t, a.CommitTransaction())
		_, err = b.AddFilter(blockPort("b", wfp.SublayerKey{}, 80))
		assert.NoError(t, err, "the lock is free again")
	})
	t.Run("close aborts an open transaction", func(t *testing.T) {
		e := engine.New(engine.Options{})
		a := e.Open(wfp.SessionOptions{Name: "a"})
		require.NoError(t, a.BeginTransaction(false))
		_, err := a.AddFilter(blockPort("a", wfp.SublayerKey{}, 80))
		require.NoError(t, err)
		require.NoError(t, a.Close())
		b := e.Open(wfp.SessionOptions{Name: "b", TxnWaitTimeout: 100 * time.Millisecond})
		assert.Equal(t, 0, filterCount(t, b), "aborted, and the lock was released")
		assert.False(t, decisionFor(t, e, 80).Decided)
	})
}

// TestE4E5ObjectRules: keys, not-found, in-use, built-in and lifetime errors.
func TestE4E5ObjectRules(t *testing.T) {
	x := newEnv(t)
	sl := x.sublayer("sl", 0x100)
	co := x.calloutAt("co", connect)
	pr := wfp.ProviderKey(wfp.GUIDFromName("t", "prov"))
	require.NoError(t, x.s.AddProvider(wfp.Provider{Key: pr, DisplayData: wfp.DisplayData{Name: "p"}}))
	fk := wfp.FilterKey(wfp.GUIDFromName("t", "filter"))
	f := wfp.Filter{Key: fk, DisplayData: wfp.DisplayData{Name: "f"}, Layer: connect.Key, Sublayer: sl, Provider: pr,
		Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: co}}
	id := x.filter(f)

	t.Run("E5 duplicate keys", func(t *testing.T) {
		_, err := x.s.AddFilter(f)
		assert.ErrorIs(t, err, wfp.ErrAlreadyExists)
		assert.ErrorIs(t, err, wfp.ErrExists)
		assert.ErrorIs(t, x.s.AddSublayer(wfp.Sublayer{Key: sl, DisplayData: wfp.DisplayData{Name: "again"}}), wfp.ErrAlreadyExists)
		_, err = x.s.AddCallout(wfp.Callout{Key: co, DisplayData: wfp.DisplayData{Name: "again"}, Layer: connect.Key})
		assert.ErrorIs(t, err, wfp.ErrAlreadyExists)
		assert.ErrorIs(t, x.s.AddProvider(wfp.Provider{Key: pr, DisplayData: wfp.DisplayData{Name: "again"}}), wfp.ErrAlreadyExists)
		require.NoError(t, x.e.RegisterCallout(co, callout.Static(wfp.ActionBlock, false)))
		assert.ErrorIs(t, x.e.RegisterCallout(co, callout.Static(wfp.ActionBlock, false)), wfp.ErrAlreadyExists)
		require.NoError(t, x.e.UnregisterCallout(co))
	})
	t.Run("E5 zero keys are assigned, ids are unique", func(t *testing.T) {
		a := x.filter(blockPort("auto1", wfp.SublayerKey{}, 1))
		b := x.filter(blockPort("auto2", wfp.SublayerKey{}, 2))
		assert.NotEqual(t, a, b)
		fa, err := x.s.FilterByID(a)
		require.NoError(t, err)
		fb, err := x.s.FilterByID(b)
		require.NoError(t, err)
		assert.False(t, fa.Key.IsZero())
		assert.NotEqual(t, fa.Key, fb.Key)
		assert.Equal(t, layers.SublayerUniversal.Key, fa.Sublayer, "a zero sublayer is the universal one (E4)")
		require.NoError(t, x.s.DeleteFilter(fa.Key))
		require.NoError(t, x.s.DeleteFilterByID(b))
	})
	t.Run("E5 delete not found", func(t *testing.T) {
		missing := wfp.FilterKey(wfp.GUIDFromName("t", "missing"))
		assert.ErrorIs(t, x.s.DeleteFilter(missing), wfp.ErrFilterNotFound)
		assert.ErrorIs(t, x.s.DeleteFilterByID(99999), wfp.ErrFilterNotFound)
		assert.ErrorIs(t, x.s.DeleteFilterByID(99999), wfp.ErrNotFound, "the broad sentinel")
		_, err := x.s.Filter(missing)
		assert.ErrorIs(t, err, wfp.ErrFilterNotFound)
		assert.ErrorIs(t, x.s.DeleteSublayer(wfp.SublayerKey(missing)), wfp.ErrSublayerNotFound)
		assert.ErrorIs(t, x.s.DeleteCallout(wfp.CalloutKey(missing)), wfp.ErrCalloutNotFound)
		assert.ErrorIs(t, x.s.DeleteCalloutByID(9999), wfp.ErrCalloutNotFound)
		assert.ErrorIs(t, x.s.DeleteProvider(wfp.ProviderKey(missing)), wfp.ErrProviderNotFound)
	})
	t.Run("E4 in use", func(t *testing.T) {
		assert.ErrorIs(t, x.s.DeleteSublayer(sl), wfp.ErrInUse)
		assert.ErrorIs(t, x.s.DeleteCallout(co), wfp.ErrInUse)
		c, err := x.s.Callout(co)
		require.NoError(t, err)
		assert.ErrorIs(t, x.s.DeleteCalloutByID(c.ID), wfp.ErrInUse)
		assert.ErrorIs(t, x.s.DeleteProvider(pr), wfp.ErrInUse)
		require.Equal(t, 1, filterCount(t, x.s), "nothing was deleted")
	})
	t.Run("E3 built-in objects", func(t *testing.T) {
		assert.ErrorIs(t, x.s.DeleteSublayer(layers.SublayerUniversal.Key), wfp.ErrBuiltinObject)
		ps := layers.Providers()
		require.NotEmpty(t, ps)
		assert.ErrorIs(t, x.s.DeleteProvider(ps[0].Key), wfp.ErrBuiltinObject)
	})
	t.Run("delete in order works", func(t *testing.T) {
		require.NoError(t, x.s.DeleteFilterByID(id))
		require.NoError(t, x.s.DeleteCallout(co))
		require.NoError(t, x.s.DeleteSublayer(sl))
		require.NoError(t, x.s.DeleteProvider(pr))
	})
}

func TestE4LifetimeMismatch(t *testing.T) {
	e := engine.New(engine.Options{})
	d1 := e.Open(wfp.SessionOptions{Name: "d1", Dynamic: true})
	d2 := e.Open(wfp.SessionOptions{Name: "d2", Dynamic: true})
	st := e.Open(wfp.SessionOptions{Name: "static"})
	dynSl := wfp.SublayerKey(wfp.GUIDFromName("t", "d1-sl"))
	require.NoError(t, d1.AddSublayer(wfp.Sublayer{Key: dynSl, DisplayData: wfp.DisplayData{Name: "d1"}, Weight: 1}))
	statSl := wfp.SublayerKey(wfp.GUIDFromName("t", "static-sl"))
	require.NoError(t, st.AddSublayer(wfp.Sublayer{Key: statSl, DisplayData: wfp.DisplayData{Name: "st"}, Weight: 2}))
	persSl := wfp.SublayerKey(wfp.GUIDFromName("t", "pers-sl"))
	require.NoError(t, st.AddSublayer(wfp.Sublayer{Key: persSl, DisplayData: wfp.DisplayData{Name: "pers"}, Weight: 3, Flags: wfp.SublayerFlagPersistent}))
	dynCo := wfp.CalloutKey(wfp.GUIDFromName("t", "d1-co"))
	_, err := d1.AddCallout(wfp.Callout{Key: dynCo, DisplayData: wfp.DisplayData{Name: "co"}, Layer: connect.Key})
	require.NoError(t, err)

	persistent := func(f wfp.Filter) wfp.Filter { f.Flags |= wfp.FilterFlagPersistent; return f }
	tests := []struct {
		name string
		s    *engine.Session
		f    wfp.Filter
		err  error
	}{
		{"static filter in a dynamic sublayer", st, blockPort("x", dynSl, 1), wfp.ErrLifetimeMismatch},
		{"dynamic filter in another session's dynamic sublayer", d2, blockPort("x", dynSl, 1), wfp.ErrLifetimeMismatch},
		{"dynamic filter in its own session's sublayer", d1, blockPort("x", dynSl, 1), nil},
		{"dynamic filter in a static sublayer", d2, blockPort("x", statSl, 1), nil},
		{"persistent filter in a static sublayer", st, persistent(blockPort("x", statSl, 1)), wfp.ErrLifetimeMismatch},
		{"persistent filter in a persistent sublayer", st, persistent(blockPort("x", persSl, 1)), nil},
		{"persistent filter in the built-in sublayer", st, persistent(blockPort("x", wfp.SublayerKey{}, 1)), nil},
		{"static filter naming a dynamic callout", st, wfp.Filter{DisplayData: wfp.DisplayData{Name: "x"}, Layer: connect.Key,
			Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: dynCo}}, wfp.ErrLifetimeMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := filterCount(t, st)
			_, err := tc.s.AddFilter(tc.f)
			if tc.err == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.err)
			assert.Equal(t, before, filterCount(t, st))
		})
	}
}

// notifyFails is a callout whose notifyFn refuses every filter.
type notifyFails struct{ callout.Func }

func (notifyFails) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error {
	return errors.New("refused")
}

func userModeLayer(t *testing.T) *layers.Layer {
	for _, l := range layers.Layers() {
		if l.Mode == layers.ModeUser && l.KeyKnown {
			return l
		}
	}
	t.Fatal("no user-mode layer in the catalogue")
	return nil
}

// TestValidateFilter: every error validateFilter returns, with nothing added.
func TestValidateFilter(t *testing.T) {
	x := newEnv(t)
	sl := x.sublayer("sl", 0x100)
	coHere := x.calloutAt("here", connect)
	coThere := x.calloutAt("there", layers.ALEAuthRecvAcceptV4)
	coRefuses := x.calloutAt("refuses", connect)
	require.NoError(t, x.e.RegisterCallout(coRefuses, notifyFails{}))
	missing := wfp.GUIDFromName("t", "missing")
	port := func(m wfp.MatchType, v wfp.Value) []wfp.Condition {
		return []wfp.Condition{cond(layers.ConditionIPRemotePort, m, v)}
	}
	base := func() wfp.Filter {
		return wfp.Filter{DisplayData: wfp.DisplayData{Name: "f"}, Layer: connect.Key, Sublayer: sl, Action: wfp.Action{Type: wfp.ActionBlock}}
	}
	tests := []struct {
		name   string
		modify func(f *wfp.Filter)
		err    error
	}{
		{"no name", func(f *wfp.Filter) { f.DisplayData.Name = "" }, wfp.ErrNullDisplayName},
		{"unknown layer", func(f *wfp.Filter) { f.Layer = wfp.LayerKey(missing) }, wfp.ErrLayerNotFound},
		{"unknown sublayer", func(f *wfp.Filter) { f.Sublayer = wfp.SublayerKey(missing) }, wfp.ErrSublayerNotFound},
		{"unknown provider", func(f *wfp.Filter) { f.Provider = wfp.ProviderKey(missing) }, wfp.ErrProviderNotFound},
		{"unknown callout", func(f *wfp.Filter) {
			f.Action = wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: wfp.CalloutKey(missing)}
		}, wfp.ErrCalloutNotFound},
		{"callout at another layer", func(f *wfp.Filter) {
			f.Action = wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: coThere}
		}, wfp.ErrIncompatibleLayer},
		{"notifyFn refuses", func(f *wfp.Filter) {
			f.Action = wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: coRefuses}
		}, wfp.ErrCalloutNotificationFailed},
		{"invalid action type", func(f *wfp.Filter) { f.Action.Type = wfp.ActionContinue }, wfp.ErrInvalidActionType},
		{"weight range 16", func(f *wfp.Filter) { f.Weight = wfp.RangeWeight(16) }, wfp.ErrInvalidWeight},
		{"output-only flag disabled", func(f *wfp.Filter) { f.Flags = wfp.FilterFlagDisabled }, wfp.ErrInvalidFlags},
		{"unknown flag bit", func(f *wfp.Filter) { f.Flags = 0x100000 }, wfp.ErrInvalidFlags},
		{"boottime with persistent", func(f *wfp.Filter) {
			f.Sublayer, f.Flags = wfp.SublayerKey{}, wfp.FilterFlagBoottime|wfp.FilterFlagPersistent
		}, wfp.ErrInvalidFlags},
		{"boottime at a user-mode layer (E3)", func(f *wfp.Filter) {
			f.Layer, f.Sublayer, f.Flags = userModeLayer(t).Key, wfp.SublayerKey{}, wfp.FilterFlagBoottime
		}, wfp.ErrIncompatibleLayer},
		{"permit_if_callout_unregistered on a static filter", func(f *wfp.Filter) { f.Flags = wfp.FilterFlagPermitIfCalloutUnregistered }, wfp.ErrInvalidFlags},
		{"permit_if_callout_unregistered on an inspection callout", func(f *wfp.Filter) {
			f.Flags = wfp.FilterFlagPermitIfCalloutUnregistered
			f.Action = wfp.Action{Type: wfp.ActionCalloutInspection, Callout: coHere}
		}, wfp.ErrInvalidFlags},
		{"provider context is not modelled", func(f *wfp.Filter) { f.Flags = wfp.FilterFlagHasProviderContext }, wfp.ErrProviderContextNotFound},
		{"unknown field key", func(f *wfp.Filter) {
			f.Conditions = []wfp.Condition{{Field: wfp.FieldKey(missing), Value: wfp.Uint16(1)}}
		}, wfp.ErrConditionNotFound},
		{"condition not valid at the layer (B10)", func(f *wfp.Filter) {
			f.Layer, f.Sublayer = layers.InboundIPPacketV4.Key, wfp.SublayerKey{}
			f.Conditions = []wfp.Condition{eq(layers.ConditionALEAppID, wfp.AppID("x"))}
		}, wfp.ErrIncompatibleLayer},
		{"nil value", func(f *wfp.Filter) { f.Conditions = port(wfp.MatchEqual, nil) }, wfp.ErrNullPointer},
		{"type mismatch uint32 port (B4)", func(f *wfp.Filter) { f.Conditions = port(wfp.MatchEqual, wfp.Uint32(80)) }, wfp.ErrTypeMismatch},
		{"type mismatch v6 mask at a v4 layer (B4)", func(f *wfp.Filter) {
			f.Conditions = []wfp.Condition{eq(layers.ConditionIPRemoteAddress, wfp.V6AddrMask{PrefixLength: 8})}
		}, wfp.ErrTypeMismatch},
		{"match type mismatch prefix on a port (B5)", func(f *wfp.Filter) { f.Conditions = port(wfp.MatchPrefix, wfp.Uint16(80)) }, wfp.ErrMatchTypeMismatch},
		{"match type mismatch case-insensitive on a port", func(f *wfp.Filter) {
			f.Conditions = port(wfp.MatchEqualCaseInsensitive, wfp.Uint16(80))
		}, wfp.ErrMatchTypeMismatch},
		{"flags on a blob", func(f *wfp.Filter) {
			f.Conditions = []wfp.Condition{cond(layers.ConditionALEAppID, wfp.MatchFlagsAllSet, wfp.AppID("x"))}
		}, wfp.ErrMatchTypeMismatch},
		{"range value with equal", func(f *wfp.Filter) {
			f.Conditions = port(wfp.MatchEqual, wfp.Range{Low: wfp.Uint16(1), High: wfp.Uint16(2)})
		}, wfp.ErrMatchTypeMismatch},
		{"range match without a range", func(f *wfp.Filter) { f.Conditions = port(wfp.MatchRange, wfp.Uint16(1)) }, wfp.ErrMatchTypeMismatch},
		{"range low above high", func(f *wfp.Filter) {
			f.Conditions = port(wfp.MatchRange, wfp.Range{Low: wfp.Uint16(9), High: wfp.Uint16(2)})
		}, wfp.ErrInvalidRange},
		{"range of two types", func(f *wfp.Filter) {
			f.Conditions = port(wfp.MatchRange, wfp.Range{Low: wfp.Uint16(1), High: wfp.Uint32(2)})
		}, wfp.ErrInvalidRange},
		{"range of the wrong type", func(f *wfp.Filter) {
			f.Conditions = port(wfp.MatchRange, wfp.Range{Low: wfp.Uint32(1), High: wfp.Uint32(2)})
		}, wfp.ErrTypeMismatch},
		{"empty value with not_equal (B6)", func(f *wfp.Filter) { f.Conditions = port(wfp.MatchNotEqual, wfp.Empty{}) }, wfp.ErrMatchTypeMismatch},
		{"non-contiguous mask", func(f *wfp.Filter) {
			f.Conditions = []wfp.Condition{eq(layers.ConditionIPRemoteAddress, wfp.V4AddrMask{Addr: 0x0a000000, Mask: 0xff00ff00})}
		}, wfp.ErrInvalidNetMask},
		{"bad SDDL", func(f *wfp.Filter) {
			f.Conditions = []wfp.Condition{eq(layers.ConditionALEUserID, wfp.SecurityDescriptor("O:SY"))}
		}, wfp.ErrInvalidParameter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := base()
			tc.modify(&f)
			_, err := x.s.AddFilter(f)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.err)
			assert.Equal(t, 0, filterCount(t, x.s), "nothing added")
			assert.False(t, decisionFor(t, x.e, 80).Decided)
		})
	}
	t.Run("valid conditions are accepted", func(t *testing.T) {
		good := [][]wfp.Condition{
			port(wfp.MatchRange, wfp.Range{Low: wfp.Uint16(1), High: wfp.Uint16(1)}),
			port(wfp.MatchEqual, wfp.Empty{}),
			{eq(layers.ConditionIPRemoteAddress, wfp.V4AddrMask{Addr: 0x0a000000, Mask: 0xff000000})},
			{eq(layers.ConditionALEUserID, wfp.SecurityDescriptor("D:(A;;CC;;;S-1-5-18)"))},
			{cond(layers.ConditionALEAppID, wfp.MatchPrefix, wfp.UTF16Blob("iis.exe"))},
			{cond(layers.ConditionFlags, wfp.MatchFlagsNoneSet, wfp.Uint32(1))},
		}
		for i, cs := range good {
			f := base()
			f.Conditions = cs
			_, err := x.s.AddFilter(f)
			assert.NoError(t, err, "condition set %d", i)
		}
	})
}

// TestB1WeightsThroughTheAPI: the effective weight the engine reports (rule B1).
func TestB1WeightsThroughTheAPI(t *testing.T) {
	x := newEnv(t)
	for r := uint8(0); r <= 15; r++ {
		f := blockPort("range", wfp.SublayerKey{}, 1)
		f.Weight = wfp.RangeWeight(r)
		got, err := x.s.FilterByID(x.filter(f))
		require.NoError(t, err)
		assert.Equal(t, uint64(r), got.EffectiveWeight>>60, "range %d goes in the top 4 bits", r)
		assert.Equal(t, wfp.RangeWeight(r), got.Weight, "the requested weight is kept")
	}
	for _, w := range []uint64{0, 1, 1 << 63, ^uint64(0)} {
		f := blockPort("exact", wfp.SublayerKey{}, 1)
		f.Weight = wfp.ExactWeight(w)
		got, err := x.s.FilterByID(x.filter(f))
		require.NoError(t, err)
		assert.Equal(t, w, got.EffectiveWeight, "exact weights are used as given")
	}
	var prev uint64
	for i := 0; i < 3; i++ {
		got, err := x.s.FilterByID(x.filter(blockPort("auto", wfp.SublayerKey{}, 1)))
		require.NoError(t, err)
		assert.Less(t, got.EffectiveWeight, uint64(1)<<60, "automatic weights are below 2^60")
		if i > 0 {
			assert.NotEqual(t, prev, got.EffectiveWeight, "automatic weights are distinct")
		}
		prev = got.EffectiveWeight
	}
}

// TestB2AutomaticWeights: how the automatic part of a weight is chosen is unpublished
// (rule B2); wfpsim's documented choice (effectiveWeight): within one weight range, a
// filter testing more distinct fields weighs more, then the one added first; and the
// same additions always give the same weights.
func TestB2AutomaticWeights(t *testing.T) {
	weights := func() []uint64 {
		x := newEnv(t)
		one := blockPort("one field", wfp.SublayerKey{}, 80)
		two := blockPort("two fields", wfp.SublayerKey{}, 80)
		two.Conditions = append(two.Conditions, eq(layers.ConditionIPRemoteAddress, wfp.Uint32(0x0a000001)))
		later := blockPort("one field, added later", wfp.SublayerKey{}, 81)
		var out []uint64
		for _, f := range []wfp.Filter{one, two, later} {
			f.Weight = wfp.RangeWeight(7)
			got, err := x.s.FilterByID(x.filter(f))
			require.NoError(t, err)
			assert.Equal(t, uint64(7), got.EffectiveWeight>>60, "the range stays in the top 4 bits")
			out = append(out, got.EffectiveWeight)
		}
		return out
	}
	w := weights()
	assert.Greater(t, w[1], w[0], "two fields weigh more than one")
	assert.Greater(t, w[0], w[2], "with as many fields, the filter added first weighs more")
	assert.Equal(t, w, weights(), "deterministic: the same additions give the same weights")
}

// TestE7EnumerationTemplates: which filters a template selects.
func TestE7EnumerationTemplates(t *testing.T) {
	x := newEnv(t)
	sl := x.sublayer("sl", 0x100)
	pr := wfp.ProviderKey(wfp.GUIDFromName("t", "enum-prov"))
	require.NoError(t, x.s.AddProvider(wfp.Provider{Key: pr, DisplayData: wfp.DisplayData{Name: "p"}}))
	co := x.calloutAt("co", connect)
	rport := layers.ConditionIPRemotePort
	raddr := layers.ConditionIPRemoteAddress
	add := func(name string, f wfp.Filter) wfp.FilterID {
		f.DisplayData.Name = name
		if f.Layer.IsZero() {
			f.Layer = connect.Key
		}
		if f.Action.Type == 0 {
			f.Action.Type = wfp.ActionBlock
		}
		return x.filter(f)
	}
	p80 := add("port80", wfp.Filter{Conditions: []wfp.Condition{eq(rport, wfp.Uint16(80))}, Provider: pr})
	p1000 := add("ports1000-2000", wfp.Filter{Conditions: []wfp.Condition{cond(rport, wfp.MatchRange, wfp.Range{Low: wfp.Uint16(1000), High: wfp.Uint16(2000)})}})
	net10 := add("net10", wfp.Filter{Sublayer: sl, Conditions: []wfp.Condition{eq(raddr, wfp.V4AddrMask{Addr: 0x0a000000, Mask: wfp.V4Mask(8)})}})
	host := add("host10.1.2.3", wfp.Filter{Sublayer: sl, Conditions: []wfp.Condition{eq(raddr, wfp.Uint32(0x0a010203))}})
	all := add("all", wfp.Filter{Action: wfp.Action{Type: wfp.ActionPermit}})
	cof := add("callout", wfp.Filter{Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: co}})
	other := add("recv", wfp.Filter{Layer: layers.ALEAuthRecvAcceptV4.Key})

	tests := []struct {
		name string
		t    *wfp.FilterEnumTemplate
		want []wfp.FilterID
	}{
		{"nil selects all", nil, []wfp.FilterID{p80, p1000, net10, host, all, cof, other}},
		{"layer", &wfp.FilterEnumTemplate{Layer: layers.ALEAuthRecvAcceptV4.Key}, []wfp.FilterID{other}},
		{"provider", &wfp.FilterEnumTemplate{Provider: &pr}, []wfp.FilterID{p80}},
		{"sublayer", &wfp.FilterEnumTemplate{Sublayer: &sl}, []wfp.FilterID{net10, host}},
		{"callout", &wfp.FilterEnumTemplate{Callout: &co}, []wfp.FilterID{cof}},
		// 0x2 is in PERMIT (0x1002) and CALLOUT_TERMINATING (0x5003): a bit in common selects.
		{"action mask 0x2", &wfp.FilterEnumTemplate{ActionMask: uint32(wfp.ActionPermit) &^ 0x1000}, []wfp.FilterID{all, cof}},
		{"action mask 0x1", &wfp.FilterEnumTemplate{Layer: connect.Key, ActionMask: 0x1}, []wfp.FilterID{p80, p1000, net10, host, cof}},
		{"action mask callout bit", &wfp.FilterEnumTemplate{ActionMask: 0x4000}, []wfp.FilterID{cof}},
		{"overlapping port 80", &wfp.FilterEnumTemplate{Layer: connect.Key, EnumType: wfp.EnumOverlapping,
			Conditions: []wfp.Condition{eq(rport, wfp.Uint16(80))}}, []wfp.FilterID{p80, net10, host, all, cof}},
		{"overlapping port range 1500-3000", &wfp.FilterEnumTemplate{Layer: connect.Key, EnumType: wfp.EnumOverlapping,
			Conditions: []wfp.Condition{cond(rport, wfp.MatchRange, wfp.Range{Low: wfp.Uint16(1500), High: wfp.Uint16(3000)})}},
			[]wfp.FilterID{p1000, net10, host, all, cof}},
		{"fully contained port range 0-1500", &wfp.FilterEnumTemplate{Layer: connect.Key, EnumType: wfp.EnumFullyContained,
			Conditions: []wfp.Condition{cond(rport, wfp.MatchRange, wfp.Range{Low: wfp.Uint16(0), High: wfp.Uint16(1500)})}},
			[]wfp.FilterID{p80}},
		{"fully contained port range 0-3000", &wfp.FilterEnumTemplate{Layer: connect.Key, EnumType: wfp.EnumFullyContained,
			Conditions: []wfp.Condition{cond(rport, wfp.MatchRange, wfp.Range{Low: wfp.Uint16(0), High: wfp.Uint16(3000)})}},
			[]wfp.FilterID{p80, p1000}},
		{"fully contained in 10/8", &wfp.FilterEnumTemplate{Layer: connect.Key, EnumType: wfp.EnumFullyContained,
			Conditions: []wfp.Condition{eq(raddr, wfp.V4AddrMask{Addr: 0x0a000000, Mask: wfp.V4Mask(8)})}},
			[]wfp.FilterID{net10, host}},
		{"fully contained in 10.1/16", &wfp.FilterEnumTemplate{Layer: connect.Key, EnumType: wfp.EnumFullyContained,
			Conditions: []wfp.Condition{eq(raddr, wfp.V4AddrMask{Addr: 0x0a010000, Mask: wfp.V4Mask(16)})}},
			[]wfp.FilterID{host}},
		{"overlapping 10.1.2.3", &wfp.FilterEnumTemplate{Layer: connect.Key, EnumType: wfp.EnumOverlapping,
			Conditions: []wfp.Condition{eq(raddr, wfp.Uint32(0x0a010203))}},
			[]wfp.FilterID{p80, p1000, net10, host, all, cof}},
		{"overlapping 11.0.0.1", &wfp.FilterEnumTemplate{Layer: connect.Key, EnumType: wfp.EnumOverlapping,
			Conditions: []wfp.Condition{eq(raddr, wfp.Uint32(0x0b000001))}},
			[]wfp.FilterID{p80, p1000, all, cof}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := x.s.Filters(tc.t)
			require.NoError(t, err)
			var got []wfp.FilterID
			for _, f := range fs {
				got = append(got, f.ID)
			}
			assert.ElementsMatch(t, tc.want, got)
		})
	}
	_, err := x.s.Filters(&wfp.FilterEnumTemplate{Layer: wfp.LayerKey(wfp.GUIDFromName("t", "nolayer"))})
	assert.ErrorIs(t, err, wfp.ErrLayerNotFound)

	// Enumeration order: layer, sublayer weight, filter weight (highest first).
	fs, err := x.s.Filters(&wfp.FilterEnumTemplate{Layer: connect.Key})
	require.NoError(t, err)
	for i := 1; i < len(fs); i++ {
		a, b := fs[i-1], fs[i]
		if a.Sublayer == b.Sublayer {
			assert.GreaterOrEqual(t, a.EffectiveWeight, b.EffectiveWeight)
		}
	}
}

// TestE1DynamicCloseWhileAnotherSessionWrites: a dynamic session that closes while
// another session holds the transaction lock must still have its objects deleted
// (rule E1: "every object added through a dynamic session is deleted when that session
// ends"), even if its own lock wait times out.
func TestE1DynamicCloseWhileAnotherSessionWrites(t *testing.T) {
	e := engine.New(engine.Options{})
	dyn := e.Open(wfp.SessionOptions{Name: "dyn", Dynamic: true, TxnWaitTimeout: 20 * time.Millisecond})
	other := e.Open(wfp.SessionOptions{Name: "other"})
	_, err := dyn.AddFilter(blockPort("dyn", wfp.SublayerKey{}, 80))
	require.NoError(t, err)
	require.NoError(t, other.BeginTransaction(false))
	closeErr := dyn.Close()
	require.NoError(t, other.CommitTransaction())
	require.NoError(t, closeErr)
	assert.Equal(t, 0, filterCount(t, other), "the dynamic session's filter must go when the other transaction ends")
	assert.False(t, decisionFor(t, e, 80).Decided)
}
