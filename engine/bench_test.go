package engine_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

var benchSizes = []int{100, 1000, 10000, 100000}

// benchPolicy returns n filters of a realistic policy at ALE_AUTH_CONNECT_V4, spread
// over three sublayers: remote-port block lists, IPv4 host and subnet block lists,
// per-application rules (app id + protocol + port), and a few port ranges and flags.
func benchPolicy(n int, subs [3]wfp.SublayerKey) []wfp.Filter {
	r := rand.New(rand.NewPCG(uint64(n), 1))
	l := connect.Key
	out := make([]wfp.Filter, 0, n)
	for i := 0; i < n; i++ {
		f := wfp.Filter{DisplayData: wfp.DisplayData{Name: fmt.Sprint("f", i)}, Layer: l, Action: wfp.Action{Type: wfp.ActionBlock}}
		switch k := i % 20; {
		case k < 8: // port block list
			f.Sublayer = subs[0]
			f.Conditions = []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(1+r.IntN(65535)))}
		case k < 12: // host block list
			f.Sublayer = subs[0]
			f.Conditions = []wfp.Condition{eq(layers.ConditionIPRemoteAddress, wfp.Uint32(r.Uint32()))}
		case k < 16: // subnet block list
			f.Sublayer = subs[1]
			bits := []int{8, 16, 20, 24, 28}[r.IntN(5)]
			f.Conditions = []wfp.Condition{eq(layers.ConditionIPRemoteAddress, wfp.V4AddrMask{Addr: r.Uint32() & wfp.V4Mask(bits), Mask: wfp.V4Mask(bits)})}
		case k < 19: // application rules
			f.Sublayer = subs[2]
			f.Action.Type = wfp.ActionPermit
			f.Conditions = []wfp.Condition{
				eq(layers.ConditionALEAppID, wfp.AppID(fmt.Sprintf(`\device\harddiskvolume3\apps\app%d.exe`, r.IntN(n/10+1)))),
				eq(layers.ConditionIPProtocol, wfp.Uint8(6)),
				eq(layers.ConditionIPRemotePort, wfp.Uint16(443)),
			}
		default: // port ranges and flags
			f.Sublayer = subs[2]
			lo := uint16(r.IntN(60000))
			f.Conditions = []wfp.Condition{
				cond(layers.ConditionIPRemotePort, wfp.MatchRange, wfp.Range{Low: wfp.Uint16(lo), High: wfp.Uint16(lo + 10)}),
				cond(layers.ConditionFlags, wfp.MatchFlagsNoneSet, wfp.Uint32(1)),
			}
		}
		out = append(out, f)
	}
	return out
}

// benchEngine builds an engine holding the policy, committed in one transaction.
func benchEngine(tb testing.TB, n int) (*engine.Engine, *engine.Session) {
	e := engine.New(engine.Options{NetEventCapacity: -1})
	s := e.Open(wfp.SessionOptions{Name: "bench"})
	subs := benchSublayers(tb, s)
	must(tb, s.BeginTransaction(false))
	for _, f := range benchPolicy(n, subs) {
		_, err := s.AddFilter(f)
		must(tb, err)
	}
	must(tb, s.CommitTransaction())
	return e, s
}

func benchSublayers(tb testing.TB, s *engine.Session) [3]wfp.SublayerKey {
	var subs [3]wfp.SublayerKey
	for i, w := range []uint16{0x9000, 0x5000, 0x1000} {
		subs[i] = wfp.SublayerKey(wfp.GUIDFromName("bench", fmt.Sprint(i)))
		must(tb, s.AddSublayer(wfp.Sublayer{Key: subs[i], DisplayData: wfp.DisplayData{Name: fmt.Sprint("S", i)}, Weight: w}))
	}
	return subs
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// benchTraffic is a fixed mix of connections: most match nothing, some hit a port, a
// host, a subnet or an app rule.
func benchTraffic(n int) [][]wfp.Value {
	r := rand.New(rand.NewPCG(uint64(n), 2))
	idx := func(c *layers.Condition) int { f, _ := connect.Field(c.Key); return f.Index }
	var out [][]wfp.Value
	for i := 0; i < 64; i++ {
		v := make([]wfp.Value, len(connect.Fields))
		v[idx(layers.ConditionIPProtocol)] = wfp.Uint8(6)
		v[idx(layers.ConditionIPRemotePort)] = wfp.Uint16(1 + r.IntN(65535))
		v[idx(layers.ConditionIPLocalPort)] = wfp.Uint16(49152 + r.IntN(16000))
		v[idx(layers.ConditionIPRemoteAddress)] = wfp.Uint32(r.Uint32())
		v[idx(layers.ConditionALEAppID)] = wfp.AppID(fmt.Sprintf(`\device\harddiskvolume3\apps\app%d.exe`, r.IntN(n/10+1)))
		v[idx(layers.ConditionFlags)] = wfp.Uint32(r.IntN(4))
		if i%4 == 0 {
			v[idx(layers.ConditionIPRemotePort)] = wfp.Uint16(443)
		}
		out = append(out, v)
	}
	return out
}

var (
	benchEnginesMu sync.Mutex
	benchEngines   = map[int]*engine.Engine{}
)

func cachedBenchEngine(b *testing.B, n int) *engine.Engine {
	benchEnginesMu.Lock()
	defer benchEnginesMu.Unlock()
	if e, ok := benchEngines[n]; ok {
		return e
	}
	e, _ := benchEngine(b, n)
	benchEngines[n] = e
	return e
}

func benchmarkClassify(b *testing.B, traced bool) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint("filters=", n), func(b *testing.B) {
			e := cachedBenchEngine(b, n)
			traffic := benchTraffic(n)
			req := &engine.Request{Layer: connect}
			var d engine.Decision
			var tr *engine.Trace
			if traced {
				tr = &engine.Trace{}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req.Values = traffic[i%len(traffic)]
				if err := e.Classify(req, &d, tr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClassify: one classification at ALE_AUTH_CONNECT_V4, tracing off.
func BenchmarkClassify(b *testing.B) { benchmarkClassify(b, false) }

// BenchmarkClassifyTraced: the same with a trace (every filter is explained).
func BenchmarkClassifyTraced(b *testing.B) { benchmarkClassify(b, true) }

// BenchmarkCommit: add N filters in one transaction and commit. The commit-ms metric
// is the CommitTransaction call alone (compiling the layer).
func BenchmarkCommit(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint("filters=", n), func(b *testing.B) {
			var commit time.Duration
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e := engine.New(engine.Options{NetEventCapacity: -1})
				s := e.Open(wfp.SessionOptions{Name: "bench"})
				subs := benchSublayers(b, s)
				policy := benchPolicy(n, subs)
				b.StartTimer()
				must(b, s.BeginTransaction(false))
				for _, f := range policy {
					if _, err := s.AddFilter(f); err != nil {
						b.Fatal(err)
					}
				}
				start := time.Now()
				must(b, s.CommitTransaction())
				commit += time.Since(start)
			}
			b.ReportMetric(float64(commit.Microseconds())/1000/float64(b.N), "commit-ms")
		})
	}
}

// BenchmarkAddOneAndCommit: add one filter to an engine holding N and commit.
func BenchmarkAddOneAndCommit(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint("filters=", n), func(b *testing.B) {
			_, s := benchEngine(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				must(b, s.BeginTransaction(false))
				if _, err := s.AddFilter(blockPort(fmt.Sprint("one", i), wfp.SublayerKey{}, uint16(i))); err != nil {
					b.Fatal(err)
				}
				must(b, s.CommitTransaction())
			}
		})
	}
}

// TestClassifyAllocs: with tracing off a classification allocates nothing, also when a
// filter decides (DESIGN §3: "tracing costs nothing when it is off").
func TestClassifyAllocs(t *testing.T) {
	for _, n := range []int{10, 100} {
		t.Run(fmt.Sprint("filters=", n), func(t *testing.T) {
			e, _ := benchEngine(t, n)
			traffic := benchTraffic(n)
			// Make every request hit a decided filter: the first port filter's port.
			fs := benchPolicy(n, [3]wfp.SublayerKey{})
			port := fs[0].Conditions[0].Value
			fld, _ := connect.Field(layers.ConditionIPRemotePort.Key)
			req := &engine.Request{Layer: connect}
			var d engine.Decision
			i := 0
			allocs := testing.AllocsPerRun(200, func() {
				v := traffic[i%len(traffic)]
				v[fld.Index] = port
				req.Values = v
				i++
				must(t, e.Classify(req, &d, nil))
			})
			if !d.Decided {
				t.Fatal("the request should be decided by a filter")
			}
			assert.Zero(t, allocs, "allocations per classification with tracing off")
		})
	}
}
