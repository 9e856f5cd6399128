package engine_test

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// BenchmarkStackEstablishedTCP: one data packet of an established TCP flow, each way,
// tracing off. No ALE layer is classified.
func BenchmarkStackEstablishedTCP(b *testing.B) {
	v := newEnv(b)
	v.filter(wfp.Filter{Layer: layers.InboundTransportV4.Key, Action: wfp.Action{Type: wfp.ActionPermit}})
	s, err := v.e.NewStack(testHost(), engine.StackOptions{})
	require.NoError(b, err)
	s.Send(engine.TCP("10.0.0.5:51000", "93.184.216.34:443", engine.TCPSyn, nil))
	s.Receive(7, engine.TCP("93.184.216.34:443", "10.0.0.5:51000", engine.TCPSyn|engine.TCPAck, nil))
	out := engine.TCP("10.0.0.5:51000", "93.184.216.34:443", engine.TCPAck, nil)
	in := engine.TCP("93.184.216.34:443", "10.0.0.5:51000", engine.TCPAck, nil)
	var r1, r2 engine.Result
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.SendInto(out, &r1)
		s.ReceiveInto(7, in, &r2)
		if r1.Dropped() || r2.Dropped() {
			b.Fatal(r1.Reason, r2.Reason)
		}
	}
}

// TestEstablishedFlowAllocatesNothing: a packet of an established flow costs no ALE
// work and, with tracing off and a reused Result, no allocation (issue 4's target).
func TestEstablishedFlowAllocatesNothing(t *testing.T) {
	v := newEnv(t)
	v.filter(wfp.Filter{Layer: layers.InboundTransportV4.Key, Action: wfp.Action{Type: wfp.ActionPermit}})
	s, err := v.e.NewStack(testHost(), engine.StackOptions{})
	require.NoError(t, err)
	s.Send(engine.TCP("10.0.0.5:51000", "93.184.216.34:443", engine.TCPSyn, nil))
	s.Receive(7, engine.TCP("93.184.216.34:443", "10.0.0.5:51000", engine.TCPSyn|engine.TCPAck, nil))
	out := engine.TCP("10.0.0.5:51000", "93.184.216.34:443", engine.TCPAck, nil)
	in := engine.TCP("93.184.216.34:443", "10.0.0.5:51000", engine.TCPAck, nil)
	var r1, r2 engine.Result
	s.SendInto(out, &r1)
	s.ReceiveInto(7, in, &r2)
	allocs := testing.AllocsPerRun(200, func() {
		s.SendInto(out, &r1)
		s.ReceiveInto(7, in, &r2)
	})
	require.False(t, r1.Dropped() || r2.Dropped(), "%s / %s", r1.Reason, r2.Reason)
	for _, r := range []engine.Result{r1, r2} {
		for _, st := range r.Steps {
			require.NotContains(t, st.Layer.ShortName, "ALE_", "an established flow's packet meets no ALE layer")
		}
	}
	require.Zero(t, allocs, "allocations per established packet pair")
}

// BenchmarkStackFlowMemory reports the heap bytes per tracked UDP flow over 100k flows.
func BenchmarkStackFlowMemory(b *testing.B) {
	const n = 100_000
	for range b.N {
		b.StopTimer()
		v := newEnv(b)
		s, err := v.e.NewStack(testHost(), engine.StackOptions{MaxFlows: 2 * n})
		require.NoError(b, err)
		pkts := make([]*engine.Packet, n)
		for i := range pkts {
			pkts[i] = engine.UDP(fmt.Sprintf("192.0.%d.%d:%d", i>>16&0xff, i>>8&0xff, 1000+i&0xff), "10.0.0.5:53", nil)
		}
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		for _, p := range pkts {
			s.Receive(7, p)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		require.Len(b, s.Flows(), n)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/n, "bytes/flow")
		runtime.KeepAlive(s)
		runtime.KeepAlive(pkts)
	}
}

// BenchmarkStackFlowFlood: a million distinct flows into a table of 10k stay within
// the bound, and every evicted flow's context sees FlowDelete (a benchmark so that
// go test stays fast; run with -bench StackFlowFlood -benchtime 1x).
func BenchmarkStackFlowFlood(b *testing.B) {
	for range b.N {
		floodOnce(b)
	}
}

func floodOnce(t testing.TB) {
	const n, max = 1_000_000, 10_000
	c := &ctxCallout{}
	_, s := stackWith(t, engine.StackOptions{MaxFlows: max}, c, layers.ALEFlowEstablishedV4)
	p := engine.UDP("192.0.2.1:1000", "10.0.0.5:53", nil)
	for i := range n {
		p.Src = netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
		s.Receive(7, p)
		if i%100_000 == 0 {
			require.LessOrEqual(t, len(s.Flows()), max)
		}
	}
	require.Len(t, s.Flows(), max)
	require.Len(t, c.deleted, n-max, "every evicted flow's FlowDelete ran")
	s.Close()
	require.Len(t, c.deleted, n)
}
