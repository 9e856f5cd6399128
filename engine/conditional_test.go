package engine_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// conditional is a stream callout registered with FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW.
type conditional struct{ recorder }

func (*conditional) RegisterFlags() callout.RegisterFlags { return callout.FlagConditionalOnFlow }

// associator associates a context for the conditional callout at STREAM_V4 on the
// flows to port 80 it sees at FLOW_ESTABLISHED.
type associator struct {
	target wfp.CalloutID
	err    error
}

func (a *associator) Classify(in *callout.IncomingValues, m *callout.Metadata, _ any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
	out.Action = wfp.ActionContinue
	f, _ := layers.ALEFlowEstablishedV4.Field(layers.ConditionIPRemotePort.Key)
	if port, ok := in.Values[f.Index].(wfp.Uint16); ok && port == 80 {
		a.err = m.Kernel.FlowAssociateContext(m.FlowHandle, layers.StreamV4.ID, a.target, 42)
	}
}
func (a *associator) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error { return nil }
func (a *associator) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64)                   {}

// Rule D11: a callout registered conditional on flow is called only on flows that
// hold one of its contexts; on the others its filter is skipped.
func TestConditionalOnFlow(t *testing.T) {
	v := newStreamEnv(t, false)
	cond := &conditional{}
	v.streamFilter("conditional", wfp.SublayerKey{}, 1, wfp.ActionCalloutInspection, cond)
	assoc := &associator{target: calloutIDOf(t, v, "conditional")}
	k := v.registered("associator", layers.ALEFlowEstablishedV4, assoc)
	v.filter(wfp.Filter{Layer: layers.ALEFlowEstablishedV4.Key, Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: k}})

	v.connect() // cli -> srv, port 80: the associator gives it a context
	require.NoError(t, assoc.err)
	v.send("to eighty", 0)
	assert.Equal(t, []string{"to eighty"}, cond.Seen(), "called on the flow holding its context")

	other := "10.0.0.9:81"
	v.st.Send(engine.TCP(cli, other, engine.TCPSyn, nil))
	v.st.Receive(2, engine.TCP(other, cli, engine.TCPSyn|engine.TCPAck, nil))
	r := v.st.Send(engine.TCP(cli, other, engine.TCPAck, []byte("to eighty-one")))
	assert.False(t, r.Dropped())
	assert.Equal(t, []string{"to eighty"}, cond.Seen(), "not called on a flow without its context")
}

// condBlocker blocks, registered conditional on flow.
type condBlocker struct{}

func (condBlocker) Classify(_ *callout.IncomingValues, _ *callout.Metadata, _ any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
	out.Action = wfp.ActionBlock
}
func (condBlocker) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error { return nil }
func (condBlocker) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64)                   {}
func (condBlocker) RegisterFlags() callout.RegisterFlags                            { return callout.FlagConditionalOnFlow }

// Rule D11 at an ordinary layer: with no flow (or no context), the conditional
// callout's filter is skipped, and the trace says why.
func TestConditionalOnFlowSkippedWithoutAFlow(t *testing.T) {
	v := newEnv(t)
	k := v.registered("cond", layers.DatagramDataV4, condBlocker{})
	v.filter(wfp.Filter{Layer: layers.DatagramDataV4.Key, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: k}})
	d, tr := v.classify(layers.DatagramDataV4, values(t, layers.DatagramDataV4), true)
	assert.Equal(t, wfp.ActionPermit, d.Action)
	assert.False(t, d.Decided, "no filter decided: the callout was not called")
	assert.Contains(t, tr.String(), "conditional on flow")
}

// midStream is a stream recorder registered with FWP_CALLOUT_FLAG_ALLOW_MID_STREAM_INSPECTION.
type midStream struct{ recorder }

func (*midStream) RegisterFlags() callout.RegisterFlags {
	return callout.FlagAllowMidStreamInspection
}

// Rule D11: a stream callout whose filter is added while a connection runs sees
// that connection only when registered with ALLOW_MID_STREAM_INSPECTION; both see the
// connections that begin afterwards.
func TestMidStreamInspection(t *testing.T) {
	v := newStreamEnv(t, false)
	v.connect() // cli -> srv:80, before any stream filter
	plain, mid := &recorder{}, &midStream{}
	v.streamFilter("plain", v.sublayer("a", 0x9000), 1, wfp.ActionCalloutInspection, plain)
	v.streamFilter("mid", v.sublayer("b", 0x1000), 1, wfp.ActionCalloutInspection, mid)
	v.send("old connection", 0)
	assert.Empty(t, plain.Seen(), "added mid-stream, without the flag: not called")
	assert.Equal(t, []string{"old connection"}, mid.Seen())

	other := "10.0.0.9:81"
	v.st.Send(engine.TCP(cli, other, engine.TCPSyn, nil))
	v.st.Receive(2, engine.TCP(other, cli, engine.TCPSyn|engine.TCPAck, nil))
	v.st.Send(engine.TCP(cli, other, engine.TCPAck, []byte("new connection")))
	assert.Equal(t, []string{"new connection"}, plain.Seen())
	assert.Equal(t, []string{"old connection", "new connection"}, mid.Seen())
}
