package engine_test

import (
	"fmt"
	"net/netip"
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

// lifeLog is an inspection callout that records, per classification, the layer and
// the endpoint handles of its metadata.
type lifeLog struct {
	mu  sync.Mutex
	got []string
}

func (l *lifeLog) Classify(in *callout.IncomingValues, m *callout.Metadata, _ any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
	l.mu.Lock()
	defer l.mu.Unlock()
	name := "?"
	if ly, ok := layers.LayerByID(in.LayerID); ok {
		name = ly.ShortName
	}
	e := fmt.Sprintf("%s h%d", name, m.TransportEndpointHandle)
	if m.Has(callout.MetaParentEndpointHandle) {
		e += fmt.Sprintf(" parent h%d", m.ParentEndpointHandle)
	}
	if !m.Has(callout.MetaTransportEndpointHandle) {
		e = name + " (no handle)"
	}
	l.got = append(l.got, e)
	out.Action = wfp.ActionContinue
}
func (l *lifeLog) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error { return nil }
func (l *lifeLog) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64)                   {}

func (l *lifeLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	return out
}

// lifeEnv watches RESOURCE_ASSIGNMENT, AUTH_CONNECT, AUTH_RECV_ACCEPT,
// ENDPOINT_CLOSURE and RESOURCE_RELEASE (v4) with the lifeLog.
func lifeEnv(t *testing.T, h engine.Host) (*env, *engine.Stack, *lifeLog) {
	v := newEnv(t)
	log := &lifeLog{}
	for _, l := range []*layers.Layer{layers.ALEResourceAssignmentV4, layers.ALEAuthConnectV4, layers.ALEAuthRecvAcceptV4,
		layers.ALEEndpointClosureV4, layers.ALEResourceReleaseV4} {
		k := v.registered("life "+l.ShortName, l, log)
		v.filter(wfp.Filter{Layer: l.Key, Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: k}})
	}
	st, err := v.e.NewStack(h, engine.StackOptions{})
	require.NoError(t, err)
	return v, st, log
}

func lifeHost(socks ...engine.Socket) engine.Host {
	return engine.Host{Name: "h", Interfaces: []engine.Interface{{Index: 2, Name: "eth0", Type: engine.IfTypeEthernet,
		Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}}, Sockets: socks}
}

// Rule C8: a TCP connection's endpoint is indicated at ENDPOINT_CLOSURE once when it
// ends, with the handle its bind and authorization had; the implicit bind is then
// released with the same handle.
func TestEndpointClosureAndReleaseOfAConnection(t *testing.T) {
	_, st, log := lifeEnv(t, lifeHost())
	st.Send(engine.TCP("10.0.0.5:50000", "10.0.0.9:80", engine.TCPSyn, nil))
	st.Receive(2, engine.TCP("10.0.0.9:80", "10.0.0.5:50000", engine.TCPSyn|engine.TCPAck, nil))
	st.Send(engine.TCP("10.0.0.5:50000", "10.0.0.9:80", engine.TCPAck, nil))
	assert.Equal(t, []string{"ALE_RESOURCE_ASSIGNMENT_V4 h1", "ALE_AUTH_CONNECT_V4 h1"}, log.take())
	r := st.Receive(2, engine.TCP("10.0.0.9:80", "10.0.0.5:50000", engine.TCPRst|engine.TCPAck, nil))
	assert.Equal(t, []string{"ALE_ENDPOINT_CLOSURE_V4 h1", "ALE_RESOURCE_RELEASE_V4 h1"}, log.take())
	n := len(r.Steps)
	require.GreaterOrEqual(t, n, 2)
	assert.Equal(t, layers.ALEEndpointClosureV4, r.Steps[n-2].Layer, "the closure comes after the packet's own layers")
	assert.Equal(t, layers.ALEResourceReleaseV4, r.Steps[n-1].Layer)
	st.Close()
	assert.Empty(t, log.take(), "nothing is closed or released twice")
}

// Rule C8: an accepted connection is an endpoint of its own, whose parent is the
// listening socket; the listening socket is closed and released when it goes (here
// when the stack closes).
func TestEndpointClosureOfAnAcceptedConnection(t *testing.T) {
	_, st, log := lifeEnv(t, lifeHost())
	require.False(t, st.Listen(engine.Socket{Protocol: 6, Local: netip.MustParseAddrPort("0.0.0.0:8443")}).Dropped())
	st.Receive(2, engine.TCP("10.0.0.9:40000", "10.0.0.5:8443", engine.TCPSyn, nil))
	st.Send(engine.TCP("10.0.0.5:8443", "10.0.0.9:40000", engine.TCPSyn|engine.TCPAck, nil))
	st.Receive(2, engine.TCP("10.0.0.9:40000", "10.0.0.5:8443", engine.TCPRst, nil))
	assert.Equal(t, []string{"ALE_RESOURCE_ASSIGNMENT_V4 h1", "ALE_AUTH_RECV_ACCEPT_V4 h2 parent h1", "ALE_ENDPOINT_CLOSURE_V4 h2 parent h1"}, log.take())
	st.Close()
	assert.Equal(t, []string{"ALE_ENDPOINT_CLOSURE_V4 h1", "ALE_RESOURCE_RELEASE_V4 h1"}, log.take(), "the listening socket")
}

// Rule C8: a UDP endpoint is closed once, whatever the number of peers it spoke to,
// when its last flow ends (here by idle timeout, between packets).
func TestEndpointClosureOfAUDPEndpoint(t *testing.T) {
	_, st, log := lifeEnv(t, lifeHost())
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, peer := range []string{"10.0.0.9:53", "10.0.0.10:53"} {
		p := engine.UDP("10.0.0.5:50000", peer, []byte("q"))
		p.Time = t0.Add(time.Duration(i) * time.Second)
		st.Send(p)
	}
	assert.Equal(t, []string{"ALE_RESOURCE_ASSIGNMENT_V4 h1", "ALE_AUTH_CONNECT_V4 h1", "ALE_AUTH_CONNECT_V4 h1"}, log.take())
	st.Advance(t0.Add(5 * time.Minute))
	assert.Equal(t, []string{"ALE_ENDPOINT_CLOSURE_V4 h1", "ALE_RESOURCE_RELEASE_V4 h1"}, log.take(), "one closure for two peers")
}

// Rule C8: a blocked bind is released at once and never closed; a blocked connect
// is closed at once, and not again when its flow record ends.
func TestEndpointLifetimeOfBlockedBindAndConnect(t *testing.T) {
	v, st, log := lifeEnv(t, lifeHost())
	v.filter(wfp.Filter{Layer: layers.ALEResourceAssignmentV4.Key, Weight: wfp.ExactWeight(9), Action: wfp.Action{Type: wfp.ActionBlock},
		Conditions: []wfp.Condition{{Field: layers.ConditionIPLocalPort.Key, Match: wfp.MatchEqual, Value: wfp.Uint16(50001)}}})
	v.filter(wfp.Filter{Layer: layers.ALEAuthConnectV4.Key, Weight: wfp.ExactWeight(9), Action: wfp.Action{Type: wfp.ActionBlock},
		Conditions: []wfp.Condition{{Field: layers.ConditionIPRemotePort.Key, Match: wfp.MatchEqual, Value: wfp.Uint16(445)}}})

	r := st.Send(engine.TCP("10.0.0.5:50001", "10.0.0.9:80", engine.TCPSyn, nil))
	assert.True(t, r.Dropped())
	assert.Equal(t, []string{"ALE_RESOURCE_ASSIGNMENT_V4 h1", "ALE_RESOURCE_RELEASE_V4 h1"}, log.take())

	r = st.Send(engine.TCP("10.0.0.5:50002", "10.0.0.9:445", engine.TCPSyn, nil))
	assert.True(t, r.Dropped())
	assert.Equal(t, []string{"ALE_RESOURCE_ASSIGNMENT_V4 h2", "ALE_AUTH_CONNECT_V4 h2", "ALE_ENDPOINT_CLOSURE_V4 h2"}, log.take())
	st.Send(engine.TCP("10.0.0.5:50002", "10.0.0.9:445", engine.TCPSyn, nil)) // a retransmitted SYN
	st.Close()
	assert.Equal(t, []string{"ALE_RESOURCE_RELEASE_V4 h2"}, log.take(), "closed once; released when its flow record goes")
}
