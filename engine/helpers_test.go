package engine_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// env is a simulated engine with one static session, for tests.
type env struct {
	t testing.TB
	e *engine.Engine
	s *engine.Session
	n int
}

func newEnv(t testing.TB) *env {
	e := engine.New(engine.Options{})
	s := e.Open(wfp.SessionOptions{Name: "test"})
	t.Cleanup(func() { _ = s.Close() })
	return &env{t: t, e: e, s: s}
}

func (v *env) key(kind string) wfp.GUID {
	v.n++
	return wfp.GUIDFromName("test-"+kind, fmt.Sprint(v.n))
}

func (v *env) sublayer(name string, w uint16) wfp.SublayerKey {
	k := wfp.SublayerKey(v.key("sublayer"))
	require.NoError(v.t, v.s.AddSublayer(wfp.Sublayer{Key: k, DisplayData: wfp.DisplayData{Name: name}, Weight: w}))
	return k
}

func (v *env) calloutAt(name string, l *layers.Layer) wfp.CalloutKey {
	k := wfp.CalloutKey(v.key("callout"))
	_, err := v.s.AddCallout(wfp.Callout{Key: k, DisplayData: wfp.DisplayData{Name: name}, Layer: l.Key})
	require.NoError(v.t, err)
	return k
}

// registered adds a callout at l and registers code for it.
func (v *env) registered(name string, l *layers.Layer, code callout.Callout) wfp.CalloutKey {
	k := v.calloutAt(name, l)
	require.NoError(v.t, v.e.RegisterCallout(k, code))
	return k
}

func (v *env) filter(f wfp.Filter) wfp.FilterID {
	if f.DisplayData.Name == "" {
		v.n++
		f.DisplayData.Name = fmt.Sprint("filter", v.n)
	}
	id, err := v.s.AddFilter(f)
	require.NoError(v.t, err)
	return id
}

func (v *env) classify(l *layers.Layer, vals []wfp.Value, traced bool) (engine.Decision, *engine.Trace) {
	var d engine.Decision
	var tr *engine.Trace
	if traced {
		tr = &engine.Trace{}
	}
	require.NoError(v.t, v.e.Classify(&engine.Request{Layer: l, Values: vals}, &d, tr))
	return d, tr
}

// kv is one incoming value.
type kv struct {
	c *layers.Condition
	v wfp.Value
}

// values builds a layer's incoming values; fields not given are FWP_EMPTY.
func values(t testing.TB, l *layers.Layer, in ...kv) []wfp.Value {
	out := make([]wfp.Value, len(l.Fields))
	for _, x := range in {
		f, ok := l.Field(x.c.Key)
		require.True(t, ok, "%s has no field %s", l.ShortName, x.c.ShortName)
		out[f.Index] = x.v
	}
	return out
}

func cond(c *layers.Condition, m wfp.MatchType, v wfp.Value) wfp.Condition {
	return wfp.Condition{Field: c.Key, Match: m, Value: v}
}

func eq(c *layers.Condition, v wfp.Value) wfp.Condition { return cond(c, wfp.MatchEqual, v) }

// counting wraps a callout and counts its classifyFn calls.
func counting(n *atomic.Int64, c callout.Callout) callout.Callout {
	return callout.Func(func(in *callout.IncomingValues, meta *callout.Metadata, ld any, f *callout.Filter, fc uint64, out *callout.ClassifyOut) {
		n.Add(1)
		c.Classify(in, meta, ld, f, fc, out)
	})
}

// writes returns a callout that writes action and rights (whatever it is allowed to).
func writes(action wfp.ActionType, clearRight bool, flags callout.OutFlags) callout.Callout {
	return callout.Func(func(_ *callout.IncomingValues, _ *callout.Metadata, _ any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
		out.Action = action
		if clearRight {
			out.Rights &^= callout.RightActionWrite
		}
		out.Flags |= flags
	})
}

func netEvents(e *engine.Engine) []wfp.NetEvent {
	ev, _ := e.NetEvents()
	return ev
}
