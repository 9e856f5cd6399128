package engine_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// testHost: one Ethernet interface, a client process and a server socket.
func testHost() engine.Host {
	return engine.Host{
		Name: "test",
		Interfaces: []engine.Interface{{Index: 7, LUID: 0x0006000007000000, Name: "eth0", Type: engine.IfTypeEthernet, Ethernet: true,
			Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}},
		Processes: []engine.Process{
			{PID: 1234, Image: `C:\Program Files\App\App.exe`, User: wfp.MustParseSID("S-1-5-21-1-2-3-1001")},
			{PID: 4, Image: `C:\Windows\System32\svchost.exe`, User: wfp.MustParseSID("S-1-5-18")},
		},
		Sockets: []engine.Socket{
			{Protocol: 6, Local: netip.MustParseAddrPort("0.0.0.0:80"), PID: 4, Listen: true},
			{Protocol: 17, Local: netip.MustParseAddrPort("0.0.0.0:53"), PID: 4},
			{Protocol: 6, Local: netip.MustParseAddrPort("10.0.0.5:51000"), PID: 1234},
			{Protocol: 17, Local: netip.MustParseAddrPort("10.0.0.5:50000"), PID: 1234},
		},
	}
}

// ctxCallout associates a context with every flow it sees (if it has none yet),
// records the flowContext argument of every call and the FlowDelete calls.
type ctxCallout struct {
	id       wfp.CalloutID
	next     uint64
	seen     []uint64 // flowContext per classify
	deleted  []uint64 // FlowDelete contexts
	metas    []callout.Metadata
	values   [][]wfp.Value
	layer    []wfp.LayerID
	onClass  func(c *ctxCallout, meta *callout.Metadata, fc uint64)
	panicDel bool
}

func (c *ctxCallout) Classify(in *callout.IncomingValues, meta *callout.Metadata, _ any, f *callout.Filter, fc uint64, out *callout.ClassifyOut) {
	c.id = f.CalloutID
	c.seen = append(c.seen, fc)
	c.metas = append(c.metas, *meta)
	c.values = append(c.values, append([]wfp.Value(nil), in.Values...))
	c.layer = append(c.layer, in.LayerID)
	if c.onClass != nil {
		c.onClass(c, meta, fc)
	} else if fc == 0 && meta.Has(callout.MetaFlowHandle) && meta.Kernel != nil {
		c.next++
		_ = meta.Kernel.FlowAssociateContext(meta.FlowHandle, in.LayerID, f.CalloutID, 100+c.next)
	}
	out.Action = wfp.ActionContinue
}
func (c *ctxCallout) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error { return nil }
func (c *ctxCallout) FlowDelete(_ wfp.LayerID, _ wfp.CalloutID, fc uint64) {
	c.deleted = append(c.deleted, fc)
	if c.panicDel {
		panic("flowDelete panics")
	}
}

// stackWith builds an engine with code registered as an inspection callout at each
// of the layers, and a stack on testHost.
func stackWith(t testing.TB, opts engine.StackOptions, code callout.Callout, at ...*layers.Layer) (*env, *engine.Stack) {
	v := newEnv(t)
	for _, l := range at {
		k := v.registered("c-"+l.ShortName, l, code)
		v.filter(wfp.Filter{Layer: l.Key, Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: k}})
	}
	s, err := v.e.NewStack(testHost(), opts)
	require.NoError(t, err)
	return v, s
}

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func at(p *engine.Packet, d time.Duration) *engine.Packet { p.Time = epoch.Add(d); return p }

func TestFlowAssociateContextRules(t *testing.T) { // rule D4
	var errs []error
	c := &ctxCallout{}
	c.onClass = func(c *ctxCallout, meta *callout.Metadata, fc uint64) {
		k := meta.Kernel
		l := layers.ALEFlowEstablishedV4.ID
		errs = append(errs,
			k.FlowAssociateContext(meta.FlowHandle, l, c.id, 0),    // zero context
			k.FlowAssociateContext(meta.FlowHandle, l, c.id, 1),    // ok
			k.FlowAssociateContext(meta.FlowHandle, l, c.id, 2),    // a second one for the same callout
			k.FlowAssociateContext(999999, l, c.id, 3),             // no such flow
			k.FlowAssociateContext(meta.FlowHandle, l, c.id+77, 4), // not a registered callout
		)
	}
	v, s := stackWith(t, engine.StackOptions{}, c, layers.ALEFlowEstablishedV4)
	// A second callout may hold its own context on the same flow.
	other := &ctxCallout{}
	k := v.registered("other", layers.ALEFlowEstablishedV4, other)
	v.filter(wfp.Filter{Layer: layers.ALEFlowEstablishedV4.Key, Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: k}})

	res := s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", []byte("q")))
	require.False(t, res.Dropped(), res.Reason)
	require.Len(t, errs, 5)
	assert.ErrorIs(t, errs[0], wfp.ErrInvalidParameter, "a zero context")
	assert.NoError(t, errs[1])
	assert.ErrorIs(t, errs[2], wfp.ErrAlreadyExists, "one context per callout per flow")
	assert.Contains(t, errs[2].Error(), "STATUS_OBJECT_NAME_EXISTS")
	assert.ErrorIs(t, errs[3], wfp.ErrNotFound)
	assert.ErrorIs(t, errs[4], wfp.ErrInvalidParameter)
	require.Len(t, other.seen, 1)
	s.Close()
	assert.Equal(t, []uint64{1}, c.deleted)
	assert.Equal(t, []uint64{101}, other.deleted, "several callouts may hold contexts on one flow")
}

// TestFlowDeleteOnce: FlowDelete is called exactly once per context, with the latest
// context, however the flow ends (rules D4, D8).
func TestFlowDeleteOnce(t *testing.T) {
	tcpOpen := func(s *engine.Stack) {
		s.Receive(7, engine.TCP("192.0.2.1:4000", "10.0.0.5:80", engine.TCPSyn, nil))
		s.Send(engine.TCP("10.0.0.5:80", "192.0.2.1:4000", engine.TCPSyn|engine.TCPAck, nil))
		s.Receive(7, engine.TCP("192.0.2.1:4000", "10.0.0.5:80", engine.TCPAck, nil))
	}
	for _, tc := range []struct {
		name string
		opts engine.StackOptions
		run  func(t *testing.T, v *env, s *engine.Stack)
		why  string
	}{
		{"fin both ways", engine.StackOptions{}, func(t *testing.T, v *env, s *engine.Stack) {
			tcpOpen(s)
			s.Receive(7, engine.TCP("192.0.2.1:4000", "10.0.0.5:80", engine.TCPFin|engine.TCPAck, nil))
			s.Send(engine.TCP("10.0.0.5:80", "192.0.2.1:4000", engine.TCPFin|engine.TCPAck, nil))
			res := s.Receive(7, engine.TCP("192.0.2.1:4000", "10.0.0.5:80", engine.TCPAck, nil))
			assert.False(t, res.Dropped(), "the last ACK belongs to the flow: %s", res.Reason)
		}, "FIN from both sides"},
		{"rst", engine.StackOptions{}, func(t *testing.T, v *env, s *engine.Stack) {
			tcpOpen(s)
			s.Receive(7, engine.TCP("192.0.2.1:4000", "10.0.0.5:80", engine.TCPRst, nil))
		}, "RST"},
		{"udp idle", engine.StackOptions{}, func(t *testing.T, v *env, s *engine.Stack) {
			s.Receive(7, at(engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil), 0))
			s.Advance(epoch.Add(59 * time.Second))
			require.Len(t, s.Flows(), 1, "not idle for 60 s yet")
			s.Advance(epoch.Add(61 * time.Second))
		}, "idle"},
		{"eviction", engine.StackOptions{MaxFlows: 1}, func(t *testing.T, v *env, s *engine.Stack) {
			s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
			s.Receive(7, engine.UDP("192.0.2.2:1000", "10.0.0.5:53", nil))
			require.Len(t, s.Flows(), 1)
		}, "evicted"},
		{"reauthorization failure", engine.StackOptions{}, func(t *testing.T, v *env, s *engine.Stack) {
			s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
			v.filter(wfp.Filter{Layer: layers.ALEAuthRecvAcceptV4.Key, Action: wfp.Action{Type: wfp.ActionBlock}})
			res := s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
			require.True(t, res.Dropped())
			assert.Contains(t, res.Reason, "torn down")
		}, "reauthorization blocked it"},
		{"close", engine.StackOptions{}, func(t *testing.T, v *env, s *engine.Stack) {
			s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
			s.Close()
		}, "the stack closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &ctxCallout{}
			v, s := stackWith(t, tc.opts, c, layers.ALEFlowEstablishedV4)
			tc.run(t, v, s)
			require.NotEmpty(t, c.seen)
			want := []uint64{101}
			if tc.name == "eviction" {
				want = []uint64{101} // the first flow was evicted; the second is alive
			}
			assert.Equal(t, want, c.deleted, "FlowDelete once per context")
			assert.Contains(t, strings.Join(s.Log(), "\n"), tc.why)
			s.Close()
			s.Close()
			if tc.name == "eviction" {
				assert.Equal(t, []uint64{101, 102}, c.deleted)
			} else {
				assert.Equal(t, want, c.deleted, "never twice")
			}
		})
	}
}

func TestFlowContextLatestAndRemove(t *testing.T) {
	t.Run("latest context", func(t *testing.T) {
		c := &ctxCallout{}
		c.onClass = func(c *ctxCallout, meta *callout.Metadata, fc uint64) {
			l := layers.DatagramDataV4.ID
			if fc != 0 {
				require.NoError(t, meta.Kernel.FlowRemoveContext(meta.FlowHandle, l, c.id))
			}
			require.NoError(t, meta.Kernel.FlowAssociateContext(meta.FlowHandle, l, c.id, fc+1))
		}
		_, s := stackWith(t, engine.StackOptions{}, c, layers.DatagramDataV4)
		for range 3 {
			s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
		}
		assert.Equal(t, []uint64{0, 1, 2}, c.seen, "the context arrives as flowContext on later packets")
		s.Close()
		assert.Equal(t, []uint64{3}, c.deleted, "FlowDelete gets the most recent context")
	})
	t.Run("removed: no FlowDelete", func(t *testing.T) {
		c := &ctxCallout{}
		c.onClass = func(c *ctxCallout, meta *callout.Metadata, fc uint64) {
			l := layers.DatagramDataV4.ID
			if fc == 0 {
				require.NoError(t, meta.Kernel.FlowAssociateContext(meta.FlowHandle, l, c.id, 9))
			} else {
				require.NoError(t, meta.Kernel.FlowRemoveContext(meta.FlowHandle, l, c.id))
				assert.ErrorIs(t, meta.Kernel.FlowRemoveContext(meta.FlowHandle, l, c.id), wfp.ErrNotFound)
			}
		}
		_, s := stackWith(t, engine.StackOptions{}, c, layers.DatagramDataV4)
		s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
		s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
		s.Close()
		assert.Empty(t, c.deleted)
	})
}

func TestCalloutPanicsContained(t *testing.T) {
	t.Run("classify", func(t *testing.T) {
		v := newEnv(t)
		k := v.registered("boom", layers.InboundTransportV4, callout.Func(func(*callout.IncomingValues, *callout.Metadata, any, *callout.Filter, uint64, *callout.ClassifyOut) {
			panic("boom")
		}))
		v.filter(wfp.Filter{Layer: layers.InboundTransportV4.Key, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: k}})
		s, err := v.e.NewStack(testHost(), engine.StackOptions{Trace: true})
		require.NoError(t, err)
		res := s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
		assert.True(t, res.Dropped(), "a panicking callout blocks")
		last := res.Steps[len(res.Steps)-1]
		assert.Equal(t, layers.InboundTransportV4Discard, last.Layer)
		assert.Contains(t, res.Steps[len(res.Steps)-2].Trace.String(), "panicked")
		res = s.Send(engine.UDP("10.0.0.5:50000", "8.8.8.8:53", nil))
		assert.False(t, res.Dropped(), "the stack carries on")
	})
	t.Run("flowDelete", func(t *testing.T) {
		c := &ctxCallout{panicDel: true}
		_, s := stackWith(t, engine.StackOptions{}, c, layers.ALEFlowEstablishedV4)
		s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
		s.Receive(7, engine.UDP("192.0.2.2:1000", "10.0.0.5:53", nil))
		assert.NotPanics(t, s.Close)
		assert.Len(t, c.deleted, 2, "every flow's FlowDelete still runs")
		require.Len(t, s.Faults(), 2)
		assert.Contains(t, s.Faults()[0], "panicked in flowDeleteFn")
	})
}

func TestInjection(t *testing.T) {
	const handle = 0xfeed
	t.Run("modified packet re-enters with InjectedBy", func(t *testing.T) {
		var injectedSeen []uint64
		var injErr error
		v := newEnv(t)
		k := v.registered("rewriter", layers.InboundTransportV4, callout.Func(func(in *callout.IncomingValues, meta *callout.Metadata, ld any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
			injectedSeen = append(injectedSeen, meta.InjectedBy)
			if meta.InjectedBy == handle {
				out.Action = wfp.ActionPermit // our own packet: let it through
				return
			}
			p := engine.UDP("192.0.2.1:1000", "10.0.0.5:53", []byte("rewritten"))
			injErr = meta.Kernel.Inject(callout.InjectRequest{Kind: callout.InjectNetworkReceive, Packet: buildIP(p), Handle: handle, Interface: 7})
			out.Action, out.Flags = wfp.ActionBlock, callout.FlagAbsorb
			out.Rights &^= callout.RightActionWrite
		}))
		v.filter(wfp.Filter{Layer: layers.InboundTransportV4.Key, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: k}})
		s, err := v.e.NewStack(testHost(), engine.StackOptions{})
		require.NoError(t, err)
		res := s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", []byte("original")))
		require.NoError(t, injErr)
		assert.True(t, res.Dropped() && res.Absorbed, "the original is absorbed")
		inj := s.Injections()
		require.Len(t, inj, 1)
		assert.False(t, inj[0].Result.Dropped(), inj[0].Result.Reason)
		assert.Equal(t, uint64(handle), inj[0].Result.Packet.InjectedBy)
		assert.Equal(t, "rewritten", string(inj[0].Result.Packet.Payload))
		assert.Equal(t, []uint64{0, handle}, injectedSeen)
	})
	t.Run("endless re-injection hits the loop guard", func(t *testing.T) {
		var errs []error
		v := newEnv(t)
		k := v.registered("looper", layers.InboundTransportV4, callout.Func(func(in *callout.IncomingValues, meta *callout.Metadata, ld any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
			p := engine.UDP("192.0.2.1:1000", "10.0.0.5:53", []byte("again"))
			if err := meta.Kernel.Inject(callout.InjectRequest{Kind: callout.InjectNetworkReceive, Packet: buildIP(p), Handle: handle}); err != nil {
				errs = append(errs, err)
			}
			out.Action, out.Flags = wfp.ActionBlock, callout.FlagAbsorb
		}))
		v.filter(wfp.Filter{Layer: layers.InboundTransportV4.Key, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: k}})
		s, err := v.e.NewStack(testHost(), engine.StackOptions{})
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil))
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("injection loop did not stop")
		}
		require.Len(t, errs, 1)
		assert.Contains(t, errs[0].Error(), "nested injections")
		assert.Contains(t, errs[0].Error(), "InjectedBy")
	})
}

// TestIncomingValuesAndMetadata checks what the stack fills at each layer.
func TestIncomingValuesAndMetadata(t *testing.T) {
	c := &ctxCallout{onClass: func(*ctxCallout, *callout.Metadata, uint64) {}}
	all := []*layers.Layer{layers.ALEResourceAssignmentV4, layers.ALEAuthConnectV4, layers.ALEAuthRecvAcceptV4, layers.ALEFlowEstablishedV4,
		layers.DatagramDataV4, layers.OutboundTransportV4, layers.InboundTransportV4, layers.InboundIPPacketV4}
	_, s := stackWith(t, engine.StackOptions{}, c, all...)
	get := func(i int, l *layers.Layer, name string) wfp.Value {
		cd, ok := layers.ConditionByName(name)
		require.True(t, ok, name)
		f, ok := l.Field(cd.Key)
		require.True(t, ok, "%s has no %s", l.ShortName, name)
		return c.values[i][f.Index]
	}
	find := func(l *layers.Layer, from int) int {
		for i := from; i < len(c.layer); i++ {
			if c.layer[i] == l.ID {
				return i
			}
		}
		t.Fatalf("no classification at %s", l.ShortName)
		return -1
	}
	appID, err := wfp.AppIDFromFileName(`C:\Program Files\App\App.exe`, nil)
	require.NoError(t, err)

	// Outbound UDP from the app: bind, connect (rule C9).
	s.Send(engine.UDP("10.0.0.5:50000", "8.8.8.8:53", []byte("q")))
	i := find(layers.ALEAuthConnectV4, 0)
	assert.Equal(t, appID, get(i, layers.ALEAuthConnectV4, "ALE_APP_ID"), "the lower-case NT path")
	assert.Contains(t, string(appID.String()), "")
	tok, ok := get(i, layers.ALEAuthConnectV4, "ALE_USER_ID").(wfp.TokenAccessInformation)
	require.True(t, ok, "ALE_USER_ID is the process token")
	assert.Equal(t, wfp.MustParseSID("S-1-5-21-1-2-3-1001"), tok.User)
	assert.Equal(t, wfp.Uint64(0x0006000007000000), get(i, layers.ALEAuthConnectV4, "IP_LOCAL_INTERFACE"))
	m := c.metas[i]
	assert.True(t, m.Has(callout.MetaFlowHandle), "flow handle at ALE connect")
	assert.True(t, m.Has(callout.MetaProcessID) && m.ProcessID == 1234)
	assert.True(t, m.Has(callout.MetaProcessPath))
	assert.Equal(t, `\device\harddiskvolume3\program files\app\app.exe`, m.ProcessPath)
	assert.True(t, m.Has(callout.MetaPacketDirection))
	assert.Equal(t, wfp.DirectionOutbound, m.PacketDirection)

	// Inbound UDP to the server: DIRECTION at FLOW_ESTABLISHED is the connection's,
	// at DATAGRAM_DATA the packet's (rule D3).
	n := len(c.layer)
	s.Receive(7, engine.UDP("192.0.2.9:1000", "10.0.0.5:53", []byte("q")))
	s.Send(engine.UDP("10.0.0.5:53", "192.0.2.9:1000", []byte("a")))
	fe := find(layers.ALEFlowEstablishedV4, n)
	assert.Equal(t, wfp.Uint32(wfp.DirectionInbound), get(fe, layers.ALEFlowEstablishedV4, "DIRECTION"))
	dd := find(layers.DatagramDataV4, fe+1)
	dd2 := find(layers.DatagramDataV4, dd+1)
	assert.Equal(t, wfp.Uint32(wfp.DirectionInbound), get(dd, layers.DatagramDataV4, "DIRECTION"))
	assert.Equal(t, wfp.Uint32(wfp.DirectionOutbound), get(dd2, layers.DatagramDataV4, "DIRECTION"), "the packet's direction at DATAGRAM_DATA")
	assert.True(t, c.metas[dd2].Has(callout.MetaFlowHandle))
	ip := find(layers.InboundIPPacketV4, n)
	assert.False(t, c.metas[ip].Has(callout.MetaFlowHandle), "no flow at the IP packet layer")

	// ICMP: the type in the local-port field, the code in the remote-port field (B8).
	n = len(c.layer)
	s.Receive(7, engine.ICMP("192.0.2.9", "10.0.0.5", 8, 0, 5, 1))
	tr := find(layers.InboundTransportV4, n)
	assert.Equal(t, wfp.Uint16(8), get(tr, layers.InboundTransportV4, "IP_LOCAL_PORT"))
	assert.Equal(t, wfp.Uint16(0), get(tr, layers.InboundTransportV4, "IP_REMOTE_PORT"))
	s.Close()
}

// TestIdleExpiryFromTheZeroClock: flows created before the clock was ever set expire
// too, and the first Advance scans (a bug: both were skipped).
func TestIdleExpiryFromTheZeroClock(t *testing.T) {
	c := &ctxCallout{}
	_, s := stackWith(t, engine.StackOptions{}, c, layers.ALEFlowEstablishedV4)
	s.Receive(7, engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil)) // no time: the zero clock
	s.Advance(s.Now().Add(61 * time.Second))
	assert.Empty(t, s.Flows())
	assert.Equal(t, []uint64{101}, c.deleted)
}

// TestIdleFlowNotReusedBetweenScans: a packet for a flow idle past its timeout opens a
// new flow even when the table was scanned less than a second ago.
func TestIdleFlowNotReusedBetweenScans(t *testing.T) {
	_, s := stackWith(t, engine.StackOptions{}, &ctxCallout{}, layers.ALEFlowEstablishedV4)
	s.Receive(7, at(engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil), 0))
	s.Advance(epoch.Add(59*time.Second + 500*time.Millisecond))
	res := s.Receive(7, at(engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil), 60*time.Second+400*time.Millisecond))
	require.NotNil(t, res.Flow)
	assert.Equal(t, uint64(2), res.Flow.ID, "the old flow was idle for more than 60 s")
	var ale bool
	for _, st := range res.Steps {
		ale = ale || st.Layer == layers.ALEAuthRecvAcceptV4
	}
	assert.True(t, ale)
}

var _ = errors.Is
