package conformance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

// Observe builds a probe's outcome the way an outside observer sees it: the verdict
// from the connection (blocked or not), the rest from the net event the engine
// recorded for it (rule E8: CLASSIFY_DROP for a block, CLASSIFY_ALLOW for a permit
// when allows are logged). events must hold only the events recorded since the probe
// started. Filter and sublayer ids are mapped back to the document's names through
// what policy.Apply returned; e resolves a filter's sublayer when the event carries
// no per-sublayer information. Layer stays "" when no event matches (Windows logs no
// CLASSIFY_ALLOW by default).
func Observe(p *Probe, blocked bool, events []wfp.NetEvent, applied *policy.Applied, e wfp.Engine) Outcome {
	o := Outcome{Verdict: "permit"}
	want := wfp.NetEventClassifyAllow
	if blocked {
		o.Verdict, want = "block", wfp.NetEventClassifyDrop
	}
	proto := uint8(6)
	if p.Proto == "udp" {
		proto = 17
	}
	var ev *wfp.NetEvent
	for i := len(events) - 1; i >= 0; i-- {
		h := &events[i].Header
		if events[i].Type != want || (h.IPProtocol != 0 && h.IPProtocol != proto) {
			continue
		}
		if h.LocalPort != p.Dst.Port() && h.RemotePort != p.Dst.Port() {
			continue
		}
		if p.Want.Layer != "" && !blocked && layerName(events[i].LayerID) != p.Want.Layer {
			continue
		}
		ev = &events[i]
		break
	}
	if ev == nil {
		return o
	}
	o.Layer = layerName(ev.LayerID)
	o.Veto = ev.Vetoed
	o.Direction, o.Loopback = "outbound", ev.Loopback
	if ev.Direction == wfp.DirectionInbound {
		o.Direction = "inbound"
	}
	name := func(id wfp.FilterID) string {
		if n, ok := applied.FilterNames[id]; ok {
			return n
		}
		return fmt.Sprintf("filter#%d", id)
	}
	for _, tf := range ev.Terminating {
		o.Deciders = append(o.Deciders, applied.Names.Sublayer(tf.Sublayer)+"="+name(tf.FilterID))
	}
	if len(o.Deciders) == 0 && ev.FilterID != 0 {
		sub := "?"
		if f, err := e.FilterByID(ev.FilterID); err == nil {
			sub = applied.Names.Sublayer(f.Sublayer)
		}
		o.Deciders = []string{sub + "=" + name(ev.FilterID)}
		o.Partial = true
	}
	return o
}

func layerName(id wfp.LayerID) string {
	if l, ok := layers.LayerByID(id); ok && l.IDKnown {
		return l.ShortName
	}
	return fmt.Sprintf("layer#%d", id)
}

// Agree compares the simulator's outcome of a probe with an observed one (from a real
// engine); "" when they agree. The verdict must always agree. The layer, veto and
// deciding filters are compared when the observer saw an event for the probe; the
// deciders as a set, since the order of terminatingFiltersInfo is not documented,
// and, when the event named only the final filter (Partial), that filter must be one
// of the simulator's deciders.
func Agree(sim, real Outcome) string {
	if sim.Verdict != real.Verdict {
		return "verdicts differ"
	}
	if real.Layer == "" {
		return ""
	}
	if sim.Layer != real.Layer {
		return "deciding layers differ"
	}
	if sim.Veto != real.Veto {
		return "veto differs"
	}
	if sim.Direction != "" && real.Direction != "" {
		if sim.Direction != real.Direction {
			return "event directions differ"
		}
		if sim.Loopback != real.Loopback {
			return "event loopback flags differ"
		}
	}
	if real.Partial {
		if len(real.Deciders) == 1 && slices.Contains(sim.Deciders, real.Deciders[0]) {
			return ""
		}
		return "deciding filter differs"
	}
	a, b := slices.Clone(sim.Deciders), slices.Clone(real.Deciders)
	slices.Sort(a)
	slices.Sort(b)
	if strings.Join(a, " ") != strings.Join(b, " ") {
		return "deciding filters differ"
	}
	return ""
}
