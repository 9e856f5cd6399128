package conformance

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/bfe"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

// openBFE opens a session on the real Base Filtering Engine.
func openBFE(opts wfp.SessionOptions) (wfp.Engine, error) {
	s, err := bfe.Open(opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// probeTimeout bounds each real connection or UDP exchange.
const probeTimeout = 2 * time.Second

// TestWindows runs every scenario against the real BFE (WFPSIM_BFE=1, an
// administrator shell): it applies the policy in a dynamic session (its filters go
// when the session closes), starts real listeners on the loopback test ports, makes
// the real connections, reads the net events for the deciding filters and compares
// everything with the simulator. WFPSIM_RECORD=1 writes what Windows did to
// testdata/windows-results/SCENARIO.txt.
func TestWindows(t *testing.T) {
	if os.Getenv("WFPSIM_BFE") != "1" {
		t.Skip("set WFPSIM_BFE=1 in an administrator shell to compare with the real Base Filtering Engine")
	}
	scenarios, err := Load("testdata")
	require.NoError(t, err)
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) { runWindows(t, sc) })
	}
}

func runWindows(t *testing.T, sc *Scenario) {
	sim, err := Simulate(sc)
	require.NoError(t, err)
	sess, err := openBFE(wfp.SessionOptions{Name: "wfpsim conformance", Dynamic: true})
	if err != nil {
		t.Fatalf("conformance: opening a BFE session (run as administrator): %v", err)
	}
	defer func() {
		if err := sess.Close(); err != nil {
			t.Errorf("conformance: closing the BFE session: %v", err)
		}
	}()
	applied, err := policy.Apply(sess, sc.Doc)
	require.NoError(t, err, "policy.Apply on the real BFE")

	real := make([]Outcome, len(sc.Probes))
	notes := make([]string, len(sc.Probes))
	for i := range sc.Probes {
		p := &sc.Probes[i]
		before := netEvents(t, sess)
		start := time.Now()
		blocked, note, err := probeReal(p)
		require.NoError(t, err, "%s:%d: %s", sc.File, p.Line, p.Text)
		// Net events are written asynchronously; give the BFE a moment.
		time.Sleep(200 * time.Millisecond)
		after := netEvents(t, sess)
		real[i] = Observe(p, blocked, newEvents(before, after, start), applied, sess)
		notes[i] = note
	}
	var diffs []string
	for i, p := range sc.Probes {
		if d := Agree(sim[i], real[i]); d != "" {
			diffs = append(diffs, fmt.Sprintf("%s:%d: %s: %s (%s)", sc.File, p.Line, p.Text, d, notes[i]))
		}
	}
	table := Table(sc, "wfpsim", "windows", sim, real)
	if os.Getenv("WFPSIM_RECORD") == "1" {
		recordResults(t, sc, sim, real, notes, diffs)
	}
	if len(diffs) > 0 {
		t.Errorf("the simulator and Windows differ:\n%s\n\n%s", strings.Join(diffs, "\n"), table)
		return
	}
	t.Logf("\n%s", table)
}

// netEvents reads the BFE's net events. When their collection is off
// (FWPM_ENGINE_COLLECT_NET_EVENTS, FWP_E_NET_EVENTS_DISABLED) it says so and returns
// none: only the verdicts are then compared.
func netEvents(t *testing.T, sess wfp.Engine) []wfp.NetEvent {
	evs, err := sess.NetEvents()
	if errors.Is(err, wfp.ErrNetEventsDisabled) {
		t.Logf("conformance: net event collection is off on this machine; comparing verdicts only")
		return nil
	}
	if err != nil {
		t.Fatalf("conformance: reading net events: %v", err)
	}
	return evs
}

// newEvents returns the events of after that are newer than every event of before
// and than the probe's start (the BFE log is a circular buffer, rule E8: old events
// may have left it, so before cannot be matched by position).
func newEvents(before, after []wfp.NetEvent, start time.Time) []wfp.NetEvent {
	last := start.Add(-time.Millisecond)
	for _, ev := range before {
		if ev.Header.TimeStamp.After(last) {
			last = ev.Header.TimeStamp
		}
	}
	var out []wfp.NetEvent
	for _, ev := range after {
		if ev.Header.TimeStamp.After(last) {
			out = append(out, ev)
		}
	}
	return out
}

// probeReal makes the probe's real connection: a TCP connect to a listener on the
// destination, or a UDP datagram to a socket there that echoes it. It reports
// whether the traffic was blocked, and how.
func probeReal(p *Probe) (blocked bool, note string, err error) {
	network := p.Proto + "4"
	if p.Dst.Addr().Is6() {
		network = p.Proto + "6"
	}
	if p.Proto == "tcp" {
		ln, err := net.Listen(network, p.Dst.String())
		if err != nil {
			return false, "", fmt.Errorf("listen: %w", err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		c, err := net.DialTimeout(network, p.Dst.String(), probeTimeout)
		if err != nil {
			return true, "connect: " + err.Error(), nil
		}
		c.Close()
		return false, "connected", nil
	}
	pc, err := net.ListenPacket(network, p.Dst.String())
	if err != nil {
		return false, "", fmt.Errorf("listen: %w", err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	c, err := net.Dial(network, p.Dst.String())
	if err != nil {
		return false, "", fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("wfpsim")); err != nil {
		return true, "send: " + err.Error(), nil
	}
	c.SetReadDeadline(time.Now().Add(probeTimeout))
	buf := make([]byte, 64)
	if _, err := c.Read(buf); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return true, "no echo within " + probeTimeout.String(), nil
		}
		return true, "receive: " + err.Error(), nil
	}
	return false, "echoed", nil
}

// recordResults writes testdata/windows-results/SCENARIO.txt: the Windows version,
// and per probe what Windows did next to the simulator.
func recordResults(t *testing.T, sc *Scenario, sim, real []Outcome, notes, diffs []string) {
	var b strings.Builder
	ver, _ := exec.Command("cmd", "/c", "ver").Output()
	fmt.Fprintf(&b, "# %s on %s\n", sc.File, strings.TrimSpace(string(ver)))
	fmt.Fprintf(&b, "# recorded by go test ./conformance with WFPSIM_BFE=1 WFPSIM_RECORD=1\n")
	for i, p := range sc.Probes {
		fmt.Fprintf(&b, "%s\n  windows: %s (%s)\n  wfpsim:  %s\n", p.Text, real[i], notes[i], sim[i])
		if real[i].Partial {
			fmt.Fprintf(&b, "  (the net event named only the final filter)\n")
		}
	}
	if len(diffs) > 0 {
		fmt.Fprintf(&b, "DIFFERENCES:\n  %s\n", strings.Join(diffs, "\n  "))
	}
	dir := filepath.Join("testdata", "windows-results")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, sc.Name+".txt"), []byte(b.String()), 0o644))
}
