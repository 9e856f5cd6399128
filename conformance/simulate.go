package conformance

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

// ProbePID is the process that owns the simulated probe sockets.
const ProbePID = 4700

// ClientPort is the local port the i-th probe of a scenario connects from: outside
// the test ports, so that no filter matches it by mistake.
func ClientPort(i int) uint16 { return uint16(50000 + i) }

// Simulate applies the scenario's policy to a fresh simulated engine and runs every
// probe on a loopback-only host (rule C17: the client path, then the server path).
// Each probe gets its own stack, so no ALE flow is shared between probes.
func Simulate(sc *Scenario) ([]Outcome, error) {
	out, _, err := simulate(sc)
	return out, err
}

// simulate also returns each probe's outcome as Observe sees it from the simulator's
// net events (allows logged), which is how the Windows runner sees the real engine.
func simulate(sc *Scenario) (direct, observed []Outcome, err error) {
	e := engine.New(engine.Options{LogAllows: true})
	sess := e.Open(wfp.SessionOptions{Name: "wfpsim conformance", Dynamic: true})
	defer sess.Close()
	applied, err := policy.Apply(sess, sc.Doc)
	if err != nil {
		return nil, nil, err
	}
	direct = make([]Outcome, len(sc.Probes))
	observed = make([]Outcome, len(sc.Probes))
	for i := range sc.Probes {
		before, err := sess.NetEvents()
		if err != nil {
			return nil, nil, err
		}
		o, err := simulateProbe(e, &sc.Probes[i], ClientPort(i))
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", sc.File, sc.Probes[i].Line, err)
		}
		after, err := sess.NetEvents()
		if err != nil {
			return nil, nil, err
		}
		observed[i] = Observe(&sc.Probes[i], o.Verdict == "block", after[len(before):], applied, sess)
		// What the net event says of the packet (direction, loopback) is compared
		// with Windows' event; the rest of the outcome comes from the walk itself.
		o.Direction, o.Loopback = observed[i].Direction, observed[i].Loopback
		direct[i] = o
	}
	return direct, observed, nil
}

func simulateProbe(e *engine.Engine, p *Probe, cport uint16) (Outcome, error) {
	proto := uint8(6)
	if p.Proto == "udp" {
		proto = 17
	}
	src := netip.AddrPortFrom(p.Dst.Addr(), cport)
	host := engine.Host{
		Name:       "conformance",
		Interfaces: []engine.Interface{engine.LoopbackInterface},
		Processes:  []engine.Process{{PID: ProbePID, Image: `C:\wfpsim\conformance.test.exe`, User: wfp.MustParseSID("S-1-5-21-1-2-3-1001")}},
		Sockets: []engine.Socket{
			{Protocol: proto, Local: p.Dst, PID: ProbePID, Listen: proto == 6},
			{Protocol: proto, Local: src, PID: ProbePID},
		},
	}
	s, err := e.NewStack(host, engine.StackOptions{})
	if err != nil {
		return Outcome{}, err
	}
	defer s.Close()
	var res *engine.Result
	if proto == 6 {
		res = s.Send(engine.TCP(src.String(), p.Dst.String(), 0x02, nil)) // SYN
	} else {
		res = s.Send(engine.UDP(src.String(), p.Dst.String(), []byte("wfpsim")))
	}
	o := Outcome{Verdict: "permit"}
	layer := p.Want.Layer
	if res.Dropped() {
		o.Verdict = "block"
		layer = ""
		if res.DroppedAt != nil {
			layer = res.DroppedAt.ShortName
		}
	}
	if layer == "" {
		return o, nil
	}
	for i := len(res.Steps) - 1; i >= 0; i-- {
		st := res.Steps[i]
		if st.Layer == nil || st.Layer.ShortName != layer {
			continue
		}
		o.Layer = layer
		o.Veto = st.Decision.Vetoed
		for _, sr := range st.Decision.Sublayers {
			if sr.Action != 0 {
				o.Deciders = append(o.Deciders, sr.Name+"="+sr.FilterName)
			}
		}
		break
	}
	return o, nil
}

// Table formats expectations and outcomes side by side, one probe a line.
func Table(sc *Scenario, left, right string, a, b []Outcome) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s\n", sc.File)
	for i, p := range sc.Probes {
		mark := "  "
		if i < len(a) && i < len(b) && a[i].String() != b[i].String() {
			mark = "!="
		}
		var x, y string
		if i < len(a) {
			x = a[i].String()
		}
		if i < len(b) {
			y = b[i].String()
		}
		fmt.Fprintf(&s, "%s %-28s %s: %-60s %s: %s\n", mark, p.Proto+" "+p.Dst.String(), left, x, right, y)
	}
	return s.String()
}
