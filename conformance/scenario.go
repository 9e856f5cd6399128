package conformance

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
)

// Test ports and addresses every scenario is confined to, so that running the suite
// against a real machine can never block anything else.
const (
	MinPort = 47000
	MaxPort = 47999
)

// Scenario is one testdata/*.txtar file.
type Scenario struct {
	Name    string // the file name without .txtar
	File    string
	Comment string // the text before the first section: what it checks, which rules
	Policy  []byte // the policy.yaml section
	Doc     *policy.Document
	Probes  []Probe
}

// Probe is one line of the probes section:
//
//	PROTO ADDR:PORT => VERDICT [at LAYER] [veto] [SUBLAYER=FILTER ...]  [# rule ids]
//
// PROTO is tcp (a connection to a listener on ADDR:PORT) or udp (a datagram to a
// socket bound there, answered by it). VERDICT is permit or block. For a block, LAYER
// is the layer that dropped the connection; for a permit it names the layer whose
// decision is checked (without it only the verdict is). The SUBLAYER=FILTER pairs are
// every sublayer of that layer that decided, in evaluation order (highest weight
// first), with the filter that decided it; none listed means no filter decided.
type Probe struct {
	Line     int
	Text     string
	Proto    string // "tcp" or "udp"
	Dst      netip.AddrPort
	Want     Outcome
	Deciders bool // the expectation names the layer, so deciders are checked
}

// Outcome is what happened to a probe, on the simulator or on Windows.
type Outcome struct {
	Verdict string // "permit" or "block"
	Layer   string // short layer name, "ALE_AUTH_CONNECT_V4"; "" when not known
	Veto    bool
	// Deciders are "SUBLAYER=FILTER", in evaluation order.
	Deciders []string
	// Partial: only the final deciding filter is known (a net event without
	// terminatingFiltersInfo); Deciders then holds that one filter.
	Partial bool
	// Direction ("inbound", "outbound") and Loopback are what the probe's net event
	// says; Direction is "" when no event was seen.
	Direction string
	Loopback  bool
}

func (o Outcome) String() string {
	s := o.Verdict
	if o.Layer != "" {
		s += " at " + o.Layer
	}
	if o.Veto {
		s += " veto"
	}
	for _, d := range o.Deciders {
		s += " " + d
	}
	if o.Direction != "" {
		s += " [" + o.Direction
		if o.Loopback {
			s += ", loopback"
		}
		s += "]"
	}
	return s
}

// Diff compares got with the probe's expectation; "" when they agree.
func (p *Probe) Diff(got Outcome) string {
	want := p.Want
	if got.Verdict != want.Verdict {
		return fmt.Sprintf("verdict: want %s, got %s", want, got)
	}
	if !p.Deciders {
		return ""
	}
	if got.Layer != want.Layer || got.Veto != want.Veto || strings.Join(got.Deciders, " ") != strings.Join(want.Deciders, " ") {
		return fmt.Sprintf("want %s\n     got  %s", want, got)
	}
	return ""
}

// Load reads every scenario of a directory (testdata), in file name order.
func Load(dir string) ([]*Scenario, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sc, err := Parse(f, data)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// Parse reads one scenario file.
func Parse(file string, data []byte) (*Scenario, error) {
	sc := &Scenario{Name: strings.TrimSuffix(filepath.Base(file), ".txtar"), File: file}
	sections := map[string]string{}
	lineOf := map[string]int{}
	name := ""
	var b strings.Builder
	for i, line := range strings.SplitAfter(string(data), "\n") {
		t := strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			sections[name] = b.String()
			b.Reset()
			name = strings.TrimSuffix(strings.TrimPrefix(t, "-- "), " --")
			lineOf[name] = i + 2
			continue
		}
		b.WriteString(line)
	}
	sections[name] = b.String()
	sc.Comment = sections[""]
	pol, ok := sections["policy.yaml"]
	if !ok {
		return nil, fmt.Errorf("%s: no -- policy.yaml -- section", file)
	}
	sc.Policy = []byte(pol)
	doc, err := policy.Parse(file+"#policy.yaml", sc.Policy)
	if err != nil {
		return nil, err
	}
	sc.Doc = doc
	if err := Confined(doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	probes, ok := sections["probes"]
	if !ok {
		return nil, fmt.Errorf("%s: no -- probes -- section", file)
	}
	for i, line := range strings.Split(probes, "\n") {
		if c := strings.Index(line, "#"); c >= 0 {
			line = line[:c]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		p, err := parseProbe(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, lineOf["probes"]+i, err)
		}
		p.Line = lineOf["probes"] + i
		sc.Probes = append(sc.Probes, p)
	}
	if len(sc.Probes) == 0 {
		return nil, fmt.Errorf("%s: no probes", file)
	}
	return sc, nil
}

func parseProbe(line string) (Probe, error) {
	p := Probe{Text: strings.TrimSpace(line)}
	lhs, rhs, ok := strings.Cut(line, "=>")
	if !ok {
		return p, fmt.Errorf("probe %q: want PROTO ADDR:PORT => VERDICT ...", p.Text)
	}
	l := strings.Fields(lhs)
	if len(l) != 2 || (l[0] != "tcp" && l[0] != "udp") {
		return p, fmt.Errorf("probe %q: want tcp|udp ADDR:PORT before =>", p.Text)
	}
	p.Proto = l[0]
	dst, err := netip.ParseAddrPort(l[1])
	if err != nil {
		return p, fmt.Errorf("probe %q: %w", p.Text, err)
	}
	if !dst.Addr().IsLoopback() || dst.Port() < MinPort || dst.Port() > MaxPort {
		return p, fmt.Errorf("probe %q: the destination must be a loopback address and a port in %d-%d", p.Text, MinPort, MaxPort)
	}
	p.Dst = dst
	r := strings.Fields(rhs)
	if len(r) == 0 || (r[0] != "permit" && r[0] != "block") {
		return p, fmt.Errorf("probe %q: want permit or block after =>", p.Text)
	}
	p.Want.Verdict = r[0]
	for i := 1; i < len(r); i++ {
		switch f := r[i]; {
		case f == "at" && i+1 < len(r):
			i++
			lay, ok := layers.LayerByName(r[i])
			if !ok {
				return p, fmt.Errorf("probe %q: unknown layer %q", p.Text, r[i])
			}
			p.Want.Layer = lay.ShortName
			p.Deciders = true
		case f == "veto":
			p.Want.Veto = true
		case strings.Contains(f, "="):
			p.Want.Deciders = append(p.Want.Deciders, f)
		default:
			return p, fmt.Errorf("probe %q: unexpected %q", p.Text, f)
		}
	}
	if p.Want.Verdict == "block" && !p.Deciders {
		return p, fmt.Errorf("probe %q: a block names its layer (at LAYER)", p.Text)
	}
	return p, nil
}

// Confined checks that every filter of a policy document matches only loopback
// traffic on the test ports: it needs a condition on IP_LOCAL_PORT or IP_REMOTE_PORT
// whose values lie in MinPort-MaxPort, and one on IP_LOCAL_ADDRESS or
// IP_REMOTE_ADDRESS whose values are 127.0.0.1 or ::1. Conditions are ANDed across
// fields (rule B3), so such a filter can never match anything else.
func Confined(doc *policy.Document) error {
	for i, f := range doc.Filters {
		port, addr := false, false
		for _, c := range f.Conditions {
			field := strings.TrimPrefix(strings.ToUpper(c.Field), "FWPM_CONDITION_")
			switch field {
			case "IP_LOCAL_PORT", "IP_REMOTE_PORT":
				vals := []string{c.Value}
				if c.IsRange() {
					vals = []string{c.Low, c.High}
				} else if lo, hi, ok := strings.Cut(c.Value, "-"); ok {
					vals = []string{lo, hi}
				}
				ok := true
				for _, v := range vals {
					n, err := strconv.ParseUint(strings.TrimSpace(v), 0, 16)
					if err != nil || n < MinPort || n > MaxPort {
						ok = false
					}
				}
				if m := strings.ToLower(c.Match); m != "" && m != "equal" && m != "range" {
					ok = false
				}
				port = port || ok
			case "IP_LOCAL_ADDRESS", "IP_REMOTE_ADDRESS":
				v := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(c.Value), "/32"), "/128")
				m := strings.ToLower(c.Match)
				addr = addr || ((v == "127.0.0.1" || v == "::1") && (m == "" || m == "equal"))
			}
		}
		if !port || !addr {
			return fmt.Errorf("filters[%d] %q is not confined: it needs an equal/range condition on IP_LOCAL_PORT or IP_REMOTE_PORT within %d-%d and an equal condition on IP_LOCAL_ADDRESS or IP_REMOTE_ADDRESS of 127.0.0.1 or ::1", i, f.Name, MinPort, MaxPort)
		}
	}
	return nil
}
