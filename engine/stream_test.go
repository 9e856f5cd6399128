package engine_test

import (
	"bytes"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

const (
	cli = "10.0.0.5:50000"
	srv = "10.0.0.9:80"
)

// streamEnv is an engine with a host whose client connects to srv.
type streamEnv struct {
	*env
	st *engine.Stack
}

func newStreamEnv(t *testing.T, trace bool) *streamEnv {
	v := newEnv(t)
	h := engine.Host{
		Name: "h",
		Interfaces: []engine.Interface{{Index: 2, Name: "eth0", Type: engine.IfTypeEthernet,
			Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}},
		Processes: []engine.Process{{PID: 100, Image: `C:\app\app.exe`}},
		Sockets:   []engine.Socket{{Protocol: 6, Local: netip.MustParseAddrPort(cli), PID: 100}},
	}
	st, err := v.e.NewStack(h, engine.StackOptions{Trace: trace})
	require.NoError(t, err)
	return &streamEnv{env: v, st: st}
}

// connect opens the TCP connection cli -> srv.
func (v *streamEnv) connect() *engine.Flow {
	require.False(v.t, v.st.Send(engine.TCP(cli, srv, engine.TCPSyn, nil)).Dropped())
	r := v.st.Receive(2, engine.TCP(srv, cli, engine.TCPSyn|engine.TCPAck, nil))
	require.False(v.t, r.Dropped(), r.Reason)
	require.NotNil(v.t, r.Flow)
	return r.Flow
}

func (v *streamEnv) send(data string, flags uint8) *engine.Result {
	return v.st.Send(engine.TCP(cli, srv, engine.TCPAck|flags, []byte(data)))
}

func (v *streamEnv) recv(data string, flags uint8) *engine.Result {
	return v.st.Receive(2, engine.TCP(srv, cli, engine.TCPAck|flags, []byte(data)))
}

// streamFilter adds a filter at STREAM_V4 running code under action t.
func (v *streamEnv) streamFilter(name string, sub wfp.SublayerKey, w uint64, t wfp.ActionType, code callout.Callout) wfp.FilterID {
	f := wfp.Filter{DisplayData: wfp.DisplayData{Name: name}, Layer: layers.StreamV4.Key, Sublayer: sub, Weight: wfp.ExactWeight(w), Action: wfp.Action{Type: t}}
	if t.IsCallout() {
		k := v.calloutAt(name, layers.StreamV4)
		if code != nil {
			require.NoError(v.t, v.e.RegisterCallout(k, code))
		}
		f.Action.Callout = k
	}
	return v.filter(f)
}

// recorder is a stream callout that records what it was offered and answers with fn.
type recorder struct {
	mu     sync.Mutex
	seen   []string
	missed []int
	flags  []callout.OutFlags
	fn     func(sp *callout.StreamPacket, out *callout.ClassifyOut)
}

func (r *recorder) Classify(_ *callout.IncomingValues, _ *callout.Metadata, ld any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
	sp := ld.(*callout.StreamPacket)
	r.mu.Lock()
	r.seen = append(r.seen, string(sp.Data))
	r.missed = append(r.missed, sp.MissedBytes)
	r.flags = append(r.flags, out.Flags)
	r.mu.Unlock()
	out.Action = wfp.ActionPermit
	if r.fn != nil {
		r.fn(sp, out)
	}
}
func (r *recorder) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error { return nil }
func (r *recorder) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64)                   {}

func (r *recorder) Seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func notes(res *engine.Result) string {
	var b strings.Builder
	for _, s := range res.Steps {
		if s.Layer == layers.StreamV4 || s.Layer == layers.StreamV4Discard {
			b.WriteString(s.Note + "\n")
		}
	}
	return b.String()
}

// Rule D5: a pattern split across segments is found with NEED_MORE_DATA and
// countBytesEnforced (the StreamBlocker), and DROP_CONNECTION ends the flow.
func TestStreamPatternSplitAcrossSegments(t *testing.T) {
	v := newStreamEnv(t, true)
	sb := callout.NewStreamBlocker([]byte("evil"))
	v.streamFilter("blocker", wfp.SublayerKey{}, 10, wfp.ActionCalloutUnknown, sb)
	f := v.connect()

	r := v.send("GET /ev", 0)
	assert.False(t, r.Dropped(), r.Reason)
	assert.Contains(t, notes(r), "permits the first 5 (countBytesEnforced); called again with the other 2")
	assert.Contains(t, notes(r), "asked for 2 more (NEED_MORE_DATA)")
	require.NotNil(t, r.Steps[len(r.Steps)-1].Trace, "tracing records a trace per call")

	r = v.send("il HTTP/1.1", 0)
	assert.True(t, r.Dropped())
	assert.Equal(t, layers.StreamV4, r.DroppedAt)
	assert.Contains(t, r.Reason, "dropped the connection")
	assert.Equal(t, engine.FlowClosed, f.State, "DROP_CONNECTION tears the flow down")
	require.Len(t, sb.Matches(), 1)
	assert.Equal(t, f.ID, sb.Matches()[0].FlowHandle)
}

// Rule D5: countBytesEnforced = n splits a segment: permit n, block p, permit m
// (inline replacement). Lower callouts see only the permitted bytes and count the
// blocked ones as missedBytes.
func TestStreamCountBytesEnforcedSplits(t *testing.T) {
	v := newStreamEnv(t, false)
	hi := v.sublayer("hi", 200)
	lo := v.sublayer("lo", 100)
	replacer := &recorder{fn: func(sp *callout.StreamPacket, out *callout.ClassifyOut) {
		switch {
		case bytes.HasPrefix(sp.Data, []byte("bad")):
			out.Action, sp.CountBytesEnforced = wfp.ActionBlock, 3
		case bytes.Contains(sp.Data, []byte("bad")):
			out.Action, sp.CountBytesEnforced = wfp.ActionPermit, bytes.Index(sp.Data, []byte("bad"))
		}
	}}
	lower := &recorder{}
	v.streamFilter("replacer", hi, 1, wfp.ActionCalloutTerminating, replacer)
	v.streamFilter("lower", lo, 1, wfp.ActionCalloutTerminating, lower)
	v.connect()

	r := v.send("abcbadxyz", 0)
	assert.False(t, r.Dropped(), "some bytes of the segment were delivered")
	assert.Contains(t, r.Reason, "6 bytes delivered, 3 blocked")
	assert.Equal(t, []string{"abcbadxyz", "badxyz", "xyz"}, replacer.Seen())
	assert.Equal(t, []string{"abc", "xyz"}, lower.Seen())
	assert.Equal(t, []int{0, 3}, lower.missed, "missedBytes: bytes a higher filter kept from the callout")
}

// Rule D5: NEED_MORE_DATA holds the data until countBytesRequired more arrive, then
// the callout sees all of it; NO_MORE_DATA on FIN forbids asking again.
func TestStreamNeedMoreDataHoldsThenReleases(t *testing.T) {
	v := newStreamEnv(t, false)
	var asked bool
	rec := &recorder{}
	rec.fn = func(sp *callout.StreamPacket, out *callout.ClassifyOut) {
		if len(sp.Data) < 10 && out.Flags&callout.FlagNoMoreData == 0 {
			out.Action, sp.StreamAction, sp.CountBytesRequired = wfp.ActionNone, callout.StreamActionNeedMoreData, 10-len(sp.Data)
			asked = true
		}
	}
	v.streamFilter("waits", wfp.SublayerKey{}, 1, wfp.ActionCalloutTerminating, rec)
	v.connect()

	r := v.send("hello", 0)
	assert.True(t, r.Pending, "held")
	assert.False(t, r.Dropped())
	assert.Contains(t, notes(r), "asked for 5 more")
	r = v.send("!!", 0)
	assert.True(t, r.Pending, "still short of the 5 bytes asked for: the callout is not called")
	r = v.send("world", 0)
	assert.False(t, r.Pending)
	assert.False(t, r.Dropped())
	assert.Equal(t, []string{"hello", "hello!!world"}, rec.Seen())

	// On FIN the callout must decide.
	asked = false
	r = v.send("bye", engine.TCPFin)
	assert.False(t, r.Dropped())
	assert.False(t, asked)
	assert.Equal(t, callout.FlagNoMoreData, rec.flags[len(rec.flags)-1]&callout.FlagNoMoreData)
}

// Rule D5: WFP buffers about 8 MB; then BUFFER_LIMIT_REACHED is set and the callout
// must decide.
func TestStreamBufferLimit(t *testing.T) {
	v := newStreamEnv(t, false)
	var limitSeen bool
	greedy := callout.Func(func(_ *callout.IncomingValues, _ *callout.Metadata, ld any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
		sp := ld.(*callout.StreamPacket)
		if out.Flags&callout.FlagBufferLimitReached != 0 {
			limitSeen = true
			out.Action = wfp.ActionBlock
			return
		}
		out.Action, sp.StreamAction, sp.CountBytesRequired = wfp.ActionNone, callout.StreamActionNeedMoreData, 1<<30
	})
	v.streamFilter("greedy", wfp.SublayerKey{}, 1, wfp.ActionCalloutTerminating, greedy)
	v.connect()
	chunk := strings.Repeat("x", 1<<20)
	var r *engine.Result
	for i := 0; i < 8; i++ {
		r = v.send(chunk, 0)
		if i < 7 {
			require.True(t, r.Pending, "segment %d held", i)
		}
	}
	assert.True(t, limitSeen)
	assert.True(t, r.Dropped(), "the callout blocked all the data at the limit")
}

// Rule D5: ALLOW_CONNECTION: later segments are permitted without classification.
func TestStreamAllowConnection(t *testing.T) {
	v := newStreamEnv(t, false)
	rec := &recorder{fn: func(sp *callout.StreamPacket, out *callout.ClassifyOut) {
		sp.StreamAction = callout.StreamActionAllowConnection
	}}
	v.streamFilter("allow", wfp.SublayerKey{}, 1, wfp.ActionCalloutTerminating, rec)
	v.connect()
	assert.False(t, v.send("one", 0).Dropped())
	r := v.send("two", 0)
	assert.False(t, r.Dropped())
	assert.Empty(t, notes(r), "no stream classification any more")
	assert.Equal(t, []string{"one"}, rec.Seen())
	// The other direction is still classified.
	assert.False(t, v.recv("three", 0).Dropped())
	assert.Equal(t, []string{"one", "three"}, rec.Seen())
}

// Rule D5: DROP_CONNECTION is honoured only under CALLOUT_UNKNOWN; under
// INSPECTION it is ignored (and the action is continue, rule A8).
func TestStreamDropConnection(t *testing.T) {
	drop := func() callout.Callout {
		return callout.Func(func(_ *callout.IncomingValues, _ *callout.Metadata, ld any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
			out.Action = wfp.ActionBlock
			ld.(*callout.StreamPacket).StreamAction = callout.StreamActionDropConnection
		})
	}
	for _, tc := range []struct {
		action  wfp.ActionType
		dropped bool
		closed  bool
	}{
		{wfp.ActionCalloutUnknown, true, true},
		{wfp.ActionCalloutInspection, false, false},
		{wfp.ActionCalloutTerminating, true, false}, // the block stands, the drop is ignored
	} {
		t.Run(tc.action.ShortName(), func(t *testing.T) {
			v := newStreamEnv(t, false)
			v.streamFilter("dropper", wfp.SublayerKey{}, 1, tc.action, drop())
			f := v.connect()
			r := v.send("data", 0)
			assert.Equal(t, tc.dropped, r.Dropped(), r.Reason)
			assert.Equal(t, tc.closed, f.State == engine.FlowClosed)
			if !tc.closed && tc.action != wfp.ActionCalloutUnknown {
				assert.Contains(t, notes(r), "ignored")
			}
		})
	}
}

// Static filters at STREAM behave as usual: a block drops the bytes (indicated at
// the discard layer), and they leave the stream for good.
func TestStreamStaticBlock(t *testing.T) {
	v := newStreamEnv(t, false)
	v.filter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "no-port-80"}, Layer: layers.StreamV4.Key, Action: wfp.Action{Type: wfp.ActionBlock},
		Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(80))}})
	v.connect()
	r := v.send("data", 0)
	assert.True(t, r.Dropped())
	assert.Equal(t, layers.StreamV4, r.DroppedAt)
	assert.Equal(t, "no-port-80", r.FilterName)
	last := r.Steps[len(r.Steps)-1]
	assert.Equal(t, layers.StreamV4Discard, last.Layer, "indicated at STREAM_V4_DISCARD")
}

// Rule A10: a strict waterfall. A lower callout never sees bytes a higher one
// blocked, even when the higher one's block is "soft" (the write right means
// nothing), and a permit does not stop lower sublayers from inspecting.
func TestStreamWaterfall(t *testing.T) {
	v := newStreamEnv(t, false)
	hi := v.sublayer("hi", 200)
	lo := v.sublayer("lo", 100)
	upper := &recorder{fn: func(sp *callout.StreamPacket, out *callout.ClassifyOut) {
		if bytes.Contains(sp.Data, []byte("secret")) {
			out.Action = wfp.ActionBlock // keeps the write right: soft elsewhere, final here
		} else {
			out.Rights = 0 // a "hard" permit: still the lower callout inspects
		}
	}}
	lower := &recorder{}
	v.streamFilter("upper", hi, 1, wfp.ActionCalloutTerminating, upper)
	v.streamFilter("lower", lo, 1, wfp.ActionCalloutTerminating, lower)
	v.connect()
	assert.False(t, v.send("public", 0).Dropped())
	assert.True(t, v.send("secret", 0).Dropped())
	assert.False(t, v.send("more", 0).Dropped())
	assert.Equal(t, []string{"public", "secret", "more"}, upper.Seen())
	assert.Equal(t, []string{"public", "more"}, lower.Seen(), "the lower callout never saw the blocked bytes")
	assert.Equal(t, []int{0, 6}, lower.missed)
}

// Rule D5: DEFER works only inbound; the stream pauses until StreamContinue.
func TestStreamDefer(t *testing.T) {
	v := newStreamEnv(t, false)
	deferring := true
	rec := &recorder{fn: func(sp *callout.StreamPacket, out *callout.ClassifyOut) {
		if deferring {
			sp.StreamAction = callout.StreamActionDefer
		}
	}}
	v.streamFilter("defer", wfp.SublayerKey{}, 1, wfp.ActionCalloutTerminating, rec)
	f := v.connect()
	assert.False(t, v.send("out", 0).Dropped(), "DEFER outbound is ignored; the callout's permit stands")
	r := v.recv("in1", 0)
	assert.True(t, r.Pending)
	assert.Contains(t, r.Reason, "DEFER")
	r = v.recv("in2", 0)
	assert.True(t, r.Pending, "the stream stays paused")
	deferring = false
	res, err := v.st.StreamContinue(f.ID, wfp.DirectionInbound)
	require.NoError(t, err)
	assert.False(t, res.Dropped())
	assert.Equal(t, []string{"out", "in1", "in1in2"}, rec.Seen())
	_, err = v.st.StreamContinue(f.ID, wfp.DirectionInbound)
	assert.ErrorIs(t, err, wfp.ErrInvalidParameter)
}

// Rules A9, A11 and fault containment at STREAM.
func TestStreamUnregisteredAbsorbAndPanic(t *testing.T) {
	t.Run("unregistered", func(t *testing.T) {
		v := newStreamEnv(t, false)
		v.streamFilter("gone", wfp.SublayerKey{}, 1, wfp.ActionCalloutTerminating, nil)
		v.connect()
		r := v.send("x", 0)
		assert.True(t, r.Dropped())
		assert.Contains(t, notes(r), "not registered: block (rule A9)")
	})
	t.Run("absorb", func(t *testing.T) {
		v := newStreamEnv(t, false)
		v.streamFilter("absorber", wfp.SublayerKey{}, 1, wfp.ActionCalloutTerminating, writes(wfp.ActionBlock, true, callout.FlagAbsorb))
		v.connect()
		r := v.send("x", 0)
		assert.True(t, r.Dropped())
		assert.True(t, r.Absorbed)
		assert.Equal(t, layers.StreamV4, r.Steps[len(r.Steps)-1].Layer, "no discard indication")
	})
	t.Run("panic", func(t *testing.T) {
		v := newStreamEnv(t, false)
		v.streamFilter("boom", wfp.SublayerKey{}, 1, wfp.ActionCalloutInspection, callout.Func(func(*callout.IncomingValues, *callout.Metadata, any, *callout.Filter, uint64, *callout.ClassifyOut) {
			panic("boom")
		}))
		v.connect()
		r := v.send("x", 0)
		assert.True(t, r.Dropped())
		require.Len(t, v.st.Faults(), 1)
		assert.Contains(t, v.st.Faults()[0], "boom")
	})
}
