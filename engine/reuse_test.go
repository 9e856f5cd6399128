package engine_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/wfp"
)

// clobber overwrites a packet and its bytes, as a caller reusing its buffers does.
func clobber(p *engine.Packet) {
	for i := range p.Payload {
		p.Payload[i] = 'X'
	}
	for i := range p.Raw {
		p.Raw[i] = 0xee
	}
	*p = engine.Packet{}
}

// The stack keeps nothing of the caller's packet once Receive returns: a stream
// paused by DEFER (rule D5) resumes with the bytes and addresses it was given, even
// though the caller reused the packet and its buffer meanwhile.
func TestStackKeepsNoCallerBytesAcrossDefer(t *testing.T) {
	v := newStreamEnv(t, false)
	deferring := true
	rec := &recorder{fn: func(sp *callout.StreamPacket, out *callout.ClassifyOut) {
		if deferring {
			sp.StreamAction = callout.StreamActionDefer
		}
	}}
	v.streamFilter("defer", wfp.SublayerKey{}, 1, wfp.ActionCalloutTerminating, rec)
	f := v.connect()
	p := engine.TCP(srv, cli, engine.TCPAck, []byte("in1"))
	require.True(t, v.st.Receive(2, p).Pending)
	clobber(p)
	deferring = false
	res, err := v.st.StreamContinue(f.ID, wfp.DirectionInbound)
	require.NoError(t, err)
	assert.Equal(t, []string{"in1", "in1"}, rec.Seen())
	assert.Equal(t, netip.MustParseAddr("10.0.0.9"), res.Packet.Src, "the paused packet is the stack's own copy")
}

// The same for a callout's NEED_MORE_DATA: the held bytes are the stack's copy.
func TestStackKeepsNoCallerBytesAcrossNeedMoreData(t *testing.T) {
	v := newStreamEnv(t, false)
	rec := &recorder{}
	rec.fn = func(sp *callout.StreamPacket, out *callout.ClassifyOut) {
		if len(sp.Data) < 10 && out.Flags&callout.FlagNoMoreData == 0 {
			out.Action, sp.StreamAction, sp.CountBytesRequired = wfp.ActionNone, callout.StreamActionNeedMoreData, 10-len(sp.Data)
		}
	}
	v.streamFilter("waits", wfp.SublayerKey{}, 1, wfp.ActionCalloutTerminating, rec)
	v.connect()
	for _, s := range []string{"hello", "!!", "world"} {
		p := engine.TCP(cli, srv, engine.TCPAck, []byte(s))
		v.st.Send(p)
		clobber(p)
	}
	assert.Equal(t, []string{"hello", "hello!!world"}, rec.Seen())
}

// A fragment waiting for the rest of its datagram is the stack's own copy too: the
// datagram is reassembled with the first fragment's header as it was received.
func TestStackKeepsNoCallerBytesAcrossFragments(t *testing.T) {
	v := newEnv(t)
	h := engine.Host{Name: "h", Interfaces: []engine.Interface{{Index: 2, Name: "eth0", Type: engine.IfTypeEthernet,
		Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}},
		Sockets: []engine.Socket{{Protocol: 17, Local: netip.MustParseAddrPort("10.0.0.5:53")}}}
	st, err := v.e.NewStack(h, engine.StackOptions{})
	require.NoError(t, err)
	whole := engine.UDP("10.0.0.9:5000", "10.0.0.5:53", []byte("0123456789abcdef"))
	whole.Raw = buildIP(whole)
	l4 := whole.Raw[whole.IPHeaderLen:]
	frag := func(off, end int, more bool) *engine.Packet {
		fp := *whole
		fp.FragID, fp.FragOffset, fp.MoreFragments = 7, off, more
		fp.Payload = append([]byte(nil), l4[off:end]...)
		fp.Raw = buildIP(&fp)
		return &fp
	}
	first := frag(0, 8, true)
	r := st.Receive(2, first)
	require.True(t, r.Pending, r.Reason)
	clobber(first)
	r = st.Receive(2, frag(8, len(l4), false))
	require.False(t, r.Dropped(), r.Reason)
	require.NotNil(t, r.Flow, "the reassembled datagram reached ALE")
	assert.Contains(t, r.Flow.Key(), "10.0.0.9:5000", "the datagram kept the first fragment's header")
}

// AddSocket gives a running stack a socket without classifying a bind or listen;
// bad sockets are refused with the reason and change nothing.
func TestAddSocket(t *testing.T) {
	v := newEnv(t)
	h := engine.Host{Name: "h", Interfaces: []engine.Interface{{Index: 2, Name: "eth0", Type: engine.IfTypeEthernet,
		Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}}}
	st, err := v.e.NewStack(h, engine.StackOptions{})
	require.NoError(t, err)
	syn := func() *engine.Result {
		return st.Receive(2, engine.TCP("10.0.0.9:40000", "10.0.0.5:8080", engine.TCPSyn, nil))
	}
	assert.Contains(t, syn().Reason, "closed port")
	for _, bad := range []engine.Socket{
		{Protocol: 1, Local: netip.MustParseAddrPort("10.0.0.5:8080")},
		{Protocol: 6, Local: netip.MustParseAddrPort("10.0.0.6:8080")},
		{Protocol: 6, Local: netip.MustParseAddrPort("10.0.0.5:8080"), PID: 7},
	} {
		assert.ErrorIs(t, st.AddSocket(bad), wfp.ErrInvalidParameter, "%+v", bad)
	}
	assert.Empty(t, st.Host().Sockets)
	require.NoError(t, st.AddSocket(engine.Socket{Protocol: 6, Local: netip.MustParseAddrPort("0.0.0.0:8080"), Listen: true}))
	r := syn()
	assert.NotContains(t, r.Reason, "closed port")
	require.NotNil(t, r.Flow, "the SYN reached ALE through the wildcard socket")
}
