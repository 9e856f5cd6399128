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

func TestInjectionEntryLayer(t *testing.T) {
	const handle = 0xbeef
	for _, tc := range []struct {
		kind        callout.InjectKind
		packet      *engine.Packet
		first, last *layers.Layer
		notSeen     []*layers.Layer
	}{
		{callout.InjectNetworkSend, engine.UDP("10.0.0.5:5000", "8.8.8.8:53", []byte("q")),
			layers.OutboundIPPacketV4, layers.OutboundIPPacketV4, []*layers.Layer{layers.DatagramDataV4, layers.OutboundTransportV4, layers.ALEAuthConnectV4}},
		{callout.InjectTransportSend, engine.UDP("10.0.0.5:5000", "8.8.8.8:53", []byte("q")),
			layers.OutboundTransportV4, layers.OutboundIPPacketV4, []*layers.Layer{layers.DatagramDataV4, layers.ALEAuthConnectV4}},
		{callout.InjectNetworkReceive, engine.UDP("9.9.9.9:53", "10.0.0.5:4000", []byte("a")),
			layers.InboundIPPacketV4, nil, nil},
		{callout.InjectTransportReceive, engine.UDP("9.9.9.9:53", "10.0.0.5:4000", []byte("a")),
			layers.InboundTransportV4, nil, []*layers.Layer{layers.InboundIPPacketV4}},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			v := newEnv(t)
			var injErr error
			k := v.registered("injector", layers.OutboundTransportV4, callout.Func(func(_ *callout.IncomingValues, meta *callout.Metadata, _ any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
				out.Action = wfp.ActionPermit
				if meta.InjectedBy == 0 {
					injErr = meta.Kernel.Inject(callout.InjectRequest{Kind: tc.kind, Packet: buildIP(tc.packet), Handle: handle})
				}
			}))
			// The injector sits at OUTBOUND_TRANSPORT, after the flow is authorized.
			v.filter(wfp.Filter{Layer: layers.OutboundTransportV4.Key, Action: wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: k}})
			s, err := v.e.NewStack(testHost(), engine.StackOptions{Trace: true})
			require.NoError(t, err)
			s.Send(engine.UDP("10.0.0.5:4000", "9.9.9.9:53", nil))
			require.NoError(t, injErr)
			inj := s.Injections()
			require.Len(t, inj, 1)
			steps := inj[0].Result.Steps
			for _, st := range steps {
				t.Log(st.Layer.Name)
			}
			require.NotEmpty(t, steps)
			assert.Equal(t, tc.first, steps[0].Layer)
			if tc.last != nil {
				assert.Equal(t, tc.last, steps[len(steps)-1].Layer)
			}
			for _, st := range steps {
				assert.NotContains(t, tc.notSeen, st.Layer)
			}
			assert.Equal(t, uint64(handle), inj[0].Result.Packet.InjectedBy)
		})
	}
}
