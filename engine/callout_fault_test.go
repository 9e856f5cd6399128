package engine_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// The fault tests (issue 9, point 3): a misbehaving callout or an interrupted change
// is contained, reported, and leaves the engine consistent.

// faultEnv is an engine with a static permit-all on port 80, a callout filter on port
// 443 whose code is under test, and a block on port 25: enough to see that
// classification still works after a fault.
type faultEnv struct {
	*env
	calloutKey wfp.CalloutKey
}

func newFaultEnv(t *testing.T, opts engine.Options, code callout.Callout) *faultEnv {
	e := engine.New(opts)
	s := e.Open(wfp.SessionOptions{Name: "test"})
	t.Cleanup(func() { _ = s.Close() })
	v := &faultEnv{env: &env{t: t, e: e, s: s}}
	sl := v.sublayer("fault", 0x8000)
	v.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "permit-80"}, Layer: connect.Key, Sublayer: sl,
		Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(80))}, Action: wfp.Action{Type: wfp.ActionPermit}})
	v.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "block-25"}, Layer: connect.Key, Sublayer: sl,
		Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(25))}, Action: wfp.Action{Type: wfp.ActionBlock}})
	v.calloutKey = v.registered("under-test", connect, code)
	v.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "callout-443"}, Layer: connect.Key, Sublayer: sl,
		Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(443))},
		Action:     wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: v.calloutKey}})
	return v
}

func (v *faultEnv) port(p uint16) engine.Decision {
	d, _ := v.classify(connect, values(v.t, connect, kv{layers.ConditionIPRemotePort, wfp.Uint16(p)}), false)
	return d
}

// assertHealthy: the static filters still decide as before and every object is there.
func (v *faultEnv) assertHealthy(t *testing.T, filtersBefore []wfp.Filter) {
	t.Helper()
	d := v.port(80)
	assert.Equal(t, wfp.ActionPermit, d.Action, "permit-80 still decides")
	assert.Equal(t, "permit-80", d.FilterName)
	assert.Empty(t, d.Fault)
	d = v.port(25)
	assert.Equal(t, wfp.ActionBlock, d.Action, "block-25 still decides")
	assert.Empty(t, d.Fault)
	after, err := v.s.Filters(nil)
	require.NoError(t, err)
	assert.Equal(t, filtersBefore, after, "the objects are intact")
}

func (v *faultEnv) filters() []wfp.Filter {
	fs, err := v.s.Filters(nil)
	require.NoError(v.t, err)
	return fs
}

// panicky is a callout whose three functions panic on demand.
type panicky struct{ classify, notify, flowDelete bool }

func (p *panicky) Classify(_ *callout.IncomingValues, meta *callout.Metadata, _ any, f *callout.Filter, _ uint64, out *callout.ClassifyOut) {
	if p.classify {
		panic("classify exploded")
	}
	if meta.Has(callout.MetaFlowHandle) && meta.Kernel != nil {
		_ = meta.Kernel.FlowAssociateContext(meta.FlowHandle, layers.ALEFlowEstablishedV4.ID, f.CalloutID, 1)
	}
	out.Action = wfp.ActionPermit
}

func (p *panicky) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error {
	if p.notify {
		panic("notify exploded")
	}
	return nil
}

func (p *panicky) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64) {
	if p.flowDelete {
		panic("flowDelete exploded")
	}
}

func TestFaultCalloutPanics(t *testing.T) {
	t.Run("classify", func(t *testing.T) {
		v := newFaultEnv(t, engine.Options{}, &panicky{classify: true})
		before := v.filters()
		d := v.port(443)
		assert.Equal(t, wfp.ActionBlock, d.Action, "a panicking callout blocks")
		assert.True(t, d.Hard)
		assert.Equal(t, "callout-443", d.FilterName)
		assert.Contains(t, d.Fault, `callout "under-test" (filter "callout-443") panicked in classifyFn: classify exploded`)
		_, tr := v.classify(connect, values(t, connect, kv{layers.ConditionIPRemotePort, wfp.Uint16(443)}), true)
		assert.Contains(t, tr.String(), "panicked (classify exploded): a callout fault, treated as block")
		v.assertHealthy(t, before)
	})
	t.Run("classify in a stack is listed in Faults", func(t *testing.T) {
		v := newFaultEnv(t, engine.Options{}, &panicky{classify: true})
		st, err := v.e.NewStack(testHost(), engine.StackOptions{})
		require.NoError(t, err)
		res := st.Send(engine.TCP("10.0.0.5:51000", "93.184.216.34:443", engine.TCPSyn, nil))
		assert.True(t, res.Dropped())
		require.Len(t, st.Faults(), 1)
		assert.Contains(t, st.Faults()[0], "panicked in classifyFn")
		res = st.Send(engine.TCP("10.0.0.5:51000", "93.184.216.34:80", engine.TCPSyn, nil))
		assert.False(t, res.Dropped(), "the stack carries on: %s", res.Reason)
	})
	t.Run("notify", func(t *testing.T) {
		p := &panicky{}
		v := newFaultEnv(t, engine.Options{}, p)
		before := v.filters()
		p.notify = true
		_, err := v.s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "refused"}, Layer: connect.Key,
			Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: v.calloutKey}})
		require.Error(t, err)
		assert.ErrorIs(t, err, wfp.ErrCalloutNotificationFailed)
		assert.Contains(t, err.Error(), `add filter "refused": notifyFn: callout panicked: notify exploded`)
		// Within a transaction, the failed add leaves the transaction usable.
		require.NoError(t, v.s.BeginTransaction(false))
		_, err = v.s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "refused"}, Layer: connect.Key,
			Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: v.calloutKey}})
		require.ErrorIs(t, err, wfp.ErrCalloutNotificationFailed)
		require.NoError(t, v.s.CommitTransaction())
		v.assertHealthy(t, before)
		p.notify = false
		assert.Equal(t, wfp.ActionPermit, v.port(443).Action, "the callout still classifies")
	})
	t.Run("flowDelete", func(t *testing.T) {
		p := &panicky{flowDelete: true}
		v := newFaultEnv(t, engine.Options{}, p)
		k := v.registered("ctx", layers.ALEFlowEstablishedV4, p)
		v.filter(wfp.Filter{Layer: layers.ALEFlowEstablishedV4.Key, Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: k}})
		before := v.filters()
		st, err := v.e.NewStack(testHost(), engine.StackOptions{})
		require.NoError(t, err)
		st.Send(engine.UDP("10.0.0.5:50000", "8.8.8.8:53", nil))
		require.Len(t, st.Flows(), 1)
		assert.NotPanics(t, st.Close)
		require.Len(t, st.Faults(), 1)
		assert.Contains(t, st.Faults()[0], "panicked in flowDeleteFn: flowDelete exploded")
		assert.Empty(t, st.Flows(), "the flow is gone all the same")
		v.assertHealthy(t, before)
	})
}

// goid returns the current goroutine's id (for tests only).
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	n, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return n
}

func TestFaultCalloutBlocksForever(t *testing.T) {
	const deadline = 50 * time.Millisecond
	t.Run("past the deadline it is a fault and classification carries on", func(t *testing.T) {
		release := make(chan struct{})
		t.Cleanup(func() { close(release) }) // let the abandoned goroutines end with the test
		v := newFaultEnv(t, engine.Options{ClassifyTimeout: deadline}, callout.Func(func(_ *callout.IncomingValues, _ *callout.Metadata, _ any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
			<-release
			out.Action = wfp.ActionPermit
		}))
		before := v.filters()
		start := time.Now()
		d := v.port(443)
		took := time.Since(start)
		assert.GreaterOrEqual(t, took, deadline)
		assert.Less(t, took, 5*time.Second)
		assert.Equal(t, wfp.ActionBlock, d.Action)
		assert.True(t, d.Hard)
		assert.Equal(t, `callout "under-test" (filter "callout-443") did not return within 50ms: abandoned (its late answer is ignored)`, d.Fault)
		_, tr := v.classify(connect, values(t, connect, kv{layers.ConditionIPRemotePort, wfp.Uint16(443)}), true)
		assert.Contains(t, tr.String(), "did not return within 50ms: a callout fault, treated as block")
		v.assertHealthy(t, before)
	})
	t.Run("a late answer is ignored", func(t *testing.T) {
		var late sync.WaitGroup
		late.Add(1)
		v := newFaultEnv(t, engine.Options{ClassifyTimeout: deadline}, callout.Func(func(_ *callout.IncomingValues, _ *callout.Metadata, _ any, f *callout.Filter, _ uint64, out *callout.ClassifyOut) {
			defer late.Done()
			time.Sleep(4 * deadline)
			out.Action = wfp.ActionPermit
			out.Rights = 0
			f.Context = 99
		}))
		d := v.port(443)
		late.Wait() // the callout answered permit, too late
		assert.Equal(t, wfp.ActionBlock, d.Action)
		assert.Contains(t, d.Fault, "did not return within")
	})
	t.Run("in time the answer counts", func(t *testing.T) {
		v := newFaultEnv(t, engine.Options{ClassifyTimeout: time.Minute}, writes(wfp.ActionPermit, false, 0))
		d := v.port(443)
		assert.Equal(t, wfp.ActionPermit, d.Action)
		assert.Empty(t, d.Fault)
	})
	t.Run("a panic within the deadline is still a panic", func(t *testing.T) {
		v := newFaultEnv(t, engine.Options{ClassifyTimeout: time.Minute}, &panicky{classify: true})
		d := v.port(443)
		assert.Equal(t, wfp.ActionBlock, d.Action)
		assert.Contains(t, d.Fault, "panicked in classifyFn: classify exploded")
	})
	t.Run("in a stack it is listed in Faults", func(t *testing.T) {
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		v := newFaultEnv(t, engine.Options{ClassifyTimeout: deadline}, callout.Func(func(*callout.IncomingValues, *callout.Metadata, any, *callout.Filter, uint64, *callout.ClassifyOut) {
			<-release
		}))
		st, err := v.e.NewStack(testHost(), engine.StackOptions{})
		require.NoError(t, err)
		res := st.Send(engine.TCP("10.0.0.5:51000", "93.184.216.34:443", engine.TCPSyn, nil))
		assert.True(t, res.Dropped())
		require.Len(t, st.Faults(), 1)
		assert.Contains(t, st.Faults()[0], "did not return within 50ms")
		res = st.Send(engine.TCP("10.0.0.5:51000", "93.184.216.34:80", engine.TCPSyn, nil))
		assert.False(t, res.Dropped(), res.Reason)
	})
	t.Run("zero: no deadline, no goroutine", func(t *testing.T) {
		var in uint64
		v := newFaultEnv(t, engine.Options{}, callout.Func(func(_ *callout.IncomingValues, _ *callout.Metadata, _ any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
			in = goid()
			out.Action = wfp.ActionPermit
		}))
		assert.Equal(t, wfp.ActionPermit, v.port(443).Action)
		assert.Equal(t, goid(), in, "classifyFn runs on the caller's goroutine")
		allocs := testing.AllocsPerRun(100, func() { v.port(443) })
		v2 := newFaultEnv(t, engine.Options{ClassifyTimeout: time.Minute}, writes(wfp.ActionPermit, false, 0))
		allocs2 := testing.AllocsPerRun(100, func() { v2.port(443) })
		assert.Less(t, allocs, allocs2, "the deadline's goroutine and copies are not paid without it")
	})
}

func TestFaultInjectionLoop(t *testing.T) {
	var errs []error
	var calls int
	v := newEnv(t)
	k := v.registered("looper", layers.InboundTransportV4, callout.Func(func(_ *callout.IncomingValues, meta *callout.Metadata, _ any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
		calls++
		p := engine.UDP("192.0.2.1:1000", "10.0.0.5:53", []byte("again"))
		if err := meta.Kernel.Inject(callout.InjectRequest{Kind: callout.InjectNetworkReceive, Packet: buildIP(p), Handle: 7}); err != nil {
			errs = append(errs, err)
		}
		out.Action, out.Flags = wfp.ActionBlock, callout.FlagAbsorb
	}))
	v.filter(wfp.Filter{Layer: layers.InboundTransportV4.Key, Conditions: []wfp.Condition{eq(layers.ConditionIPLocalPort, wfp.Uint16(53))},
		Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: k}})
	st, err := v.e.NewStack(testHost(), engine.StackOptions{})
	require.NoError(t, err)
	res := st.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
	assert.True(t, res.Absorbed)
	require.Len(t, errs, 1, "one injection fails, at the guard; the others unwind")
	assert.ErrorIs(t, errs[0], wfp.ErrInvalidParameter)
	assert.Equal(t, "engine: inject: 8 nested injections: a callout is re-injecting the packets it injects (check the injection handle with InjectedBy): "+
		wfp.ErrInvalidParameter.Error(), errs[0].Error())
	assert.Equal(t, 9, calls, "the original and 8 nested injections")
	assert.Len(t, st.Injections(), 8)
	// The stack is not left half-injecting: the next packet goes through the guard again
	// from zero, and other traffic is unaffected.
	errs, calls = nil, 0
	st.Receive(7, engine.UDP("192.0.2.1:1001", "10.0.0.5:53", nil))
	assert.Equal(t, 9, calls)
	require.Len(t, errs, 1)
	res = st.Send(engine.UDP("10.0.0.5:50000", "8.8.8.8:53", nil))
	assert.False(t, res.Dropped(), res.Reason)
}

// TestFaultContextOnGoneFlow: a callout keeps a flow handle and associates a context
// with it after the flow ended. The call fails clearly, the context is not kept, and
// FlowDelete is never called for it.
func TestFaultContextOnGoneFlow(t *testing.T) {
	var (
		kept    uint64 // the handle of the first flow
		errs    []error
		deleted []uint64
	)
	c := &ctxCallout{}
	c.onClass = func(c *ctxCallout, meta *callout.Metadata, _ uint64) {
		if kept == 0 {
			kept = meta.FlowHandle
			require.NoError(t, meta.Kernel.FlowAssociateContext(meta.FlowHandle, layers.ALEFlowEstablishedV4.ID, c.id, 1))
			return
		}
		errs = append(errs, meta.Kernel.FlowAssociateContext(kept, layers.ALEFlowEstablishedV4.ID, c.id, 2))
	}
	_, st := stackWith(t, engine.StackOptions{}, c, layers.ALEFlowEstablishedV4)
	// The first flow opens and ends (RST), then a second flow's classification reuses
	// the stale handle.
	st.Receive(7, engine.TCP("192.0.2.1:4000", "10.0.0.5:80", engine.TCPSyn, nil))
	st.Send(engine.TCP("10.0.0.5:80", "192.0.2.1:4000", engine.TCPSyn|engine.TCPAck, nil))
	st.Receive(7, engine.TCP("192.0.2.1:4000", "10.0.0.5:80", engine.TCPAck, nil))
	require.NotZero(t, kept)
	st.Receive(7, engine.TCP("192.0.2.1:4000", "10.0.0.5:80", engine.TCPRst, nil))
	deleted = append(deleted, c.deleted...)
	assert.Equal(t, []uint64{1}, deleted, "the first flow's context was deleted when it ended")
	for _, f := range st.Flows() {
		assert.NotEqual(t, kept, f.ID, "the first flow is gone")
	}
	st.Receive(7, engine.UDP("192.0.2.2:1000", "10.0.0.5:53", nil))
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], wfp.ErrNotFound)
	assert.Equal(t, fmt.Sprintf("engine: associate context: flow %d does not exist (STATUS_NOT_FOUND): %v", kept, wfp.ErrNotFound), errs[0].Error())
	// Nothing leaked: no flow holds the rejected context, so closing calls FlowDelete
	// for none of it.
	for _, f := range st.Flows() {
		assert.Zero(t, f.FlowContext(layers.ALEFlowEstablishedV4.ID, c.id), "flow %d", f.ID)
	}
	st.Close()
	assert.Equal(t, []uint64{1}, c.deleted, "FlowDelete never sees the rejected context")
	assert.Empty(t, st.Flows())
	assert.Empty(t, st.Faults())
}
