package render

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// The tiers of the stack, top to bottom.
const (
	tierApp = iota
	tierALE
	tierStream
	tierTransport
	tierNetwork
	tierMAC
	tierWire
	numTiers
)

var tierNames = [numTiers]string{"application / Winsock", "ALE", "stream / datagram", "transport", "network", "MAC", "wire"}

var tierAbout = [numTiers]string{
	"sockets; user-mode layers",
	"application layer enforcement: flows are authorized",
	"stream data and datagram data of a flow",
	"TCP, UDP and ICMP packets",
	"IP packets and forwarding",
	"Ethernet frames",
	"",
}

// tierOf places a layer in the stack.
func tierOf(l *layers.Layer) int {
	if l == nil {
		return tierApp
	}
	n := l.ShortName
	switch {
	case strings.HasPrefix(n, "ALE_"):
		return tierALE
	case strings.HasPrefix(n, "STREAM"), strings.HasPrefix(n, "DATAGRAM_DATA"):
		return tierStream
	case strings.Contains(n, "TRANSPORT"), strings.Contains(n, "ICMP_ERROR"):
		return tierTransport
	case strings.Contains(n, "IPPACKET"), strings.Contains(n, "IPFORWARD"):
		return tierNetwork
	case strings.Contains(n, "MAC_FRAME"), strings.Contains(n, "VSWITCH"):
		return tierMAC
	}
	return tierApp
}

// Packet describes the packet whose path Stack draws. The zero value draws the
// path alone, with the direction and verdict read from the steps.
type Packet struct {
	// Title is printed above the stack: "3 outbound tcp 192.168.1.20:49701 -> ...".
	Title string
	// Direction is inbound, outbound, forward or loopback; empty: from the layers.
	Direction string
	// Verdict is permit or block; empty: block when a step blocked.
	Verdict string
	// Reason says what became of the packet, printed below the stack.
	Reason string
}

// Mark names how a layer's classification ended, as the stack view labels it.
func Mark(s engine.Step) string {
	d := s.Decision
	switch {
	case s.Layer != nil && s.Layer.Discard:
		return "discard"
	case !d.Decided:
		return "permit (default)"
	case d.Vetoed:
		return "BLOCK (veto)"
	case d.Action == wfp.ActionBlock && d.Absorb:
		return "BLOCK (absorb)"
	case d.Action == wfp.ActionBlock && d.Hard:
		return "BLOCK (hard)"
	case d.Action == wfp.ActionBlock:
		return "BLOCK (soft)"
	case d.Hard:
		return "permit (hard)"
	}
	return "permit (soft)"
}

func (t *theme) markStyle(s engine.Step) lipgloss.Style {
	d := s.Decision
	switch {
	case s.Layer != nil && s.Layer.Discard:
		return t.discard
	case !d.Decided:
		return t.none
	case d.Vetoed:
		return t.veto
	case d.Action == wfp.ActionBlock:
		return t.block
	case d.Hard:
		return t.permit.Bold(true)
	}
	return t.permit
}

func blocks(s engine.Step) bool {
	return s.Decision.Action == wfp.ActionBlock && (s.Layer == nil || !s.Layer.Discard)
}

func direction(steps []engine.Step, p Packet) string {
	if p.Direction != "" {
		return p.Direction
	}
	for _, s := range steps {
		if s.Layer == nil {
			continue
		}
		switch s.Layer.Direction {
		case layers.DirectionForwarded:
			return "forward"
		case layers.DirectionInbound:
			return "inbound"
		case layers.DirectionOutbound:
			return "outbound"
		}
	}
	return "outbound"
}

// stackLine is one line inside a tier box; step is the step index or -1.
type stackLine struct {
	text  string
	step  int
	stop  bool
	about bool
}

// Stack draws the WFP stack with the packet's path through it: every layer the
// packet was classified at, in its tier, numbered in the order of
// classification and marked with its verdict (Mark). The path runs down for an
// outbound packet, up for an inbound one, up to the network tier and down again
// for a forwarded one, and stops where the packet was dropped.
func Stack(steps []engine.Step, p Packet, opts Options) string {
	t := newTheme(opts.Profile)
	width := opts.width()
	dir := direction(steps, p)
	up := dir == "inbound"
	stopAt := -1
	for i, s := range steps {
		if blocks(s) {
			stopAt = i
			break
		}
	}
	blocked := p.Verdict == "block" || (p.Verdict == "" && stopAt >= 0)
	// The tier and line where the path ends.
	var byTier [numTiers][]int
	for i, s := range steps {
		byTier[tierOf(s.Layer)] = append(byTier[tierOf(s.Layer)], i)
	}
	stopTier := -1
	syntheticStop := false
	switch {
	case stopAt >= 0:
		stopTier = tierOf(steps[stopAt].Layer)
	case blocked && len(steps) > 0:
		stopTier = tierOf(steps[len(steps)-1].Layer)
		syntheticStop = true
	case blocked:
		stopTier = tierWire
		if !up && dir != "forward" {
			stopTier = tierApp
		}
		syntheticStop = true
	}

	inner := width - 3 - 4 // path column, border and padding
	var out []string
	if p.Title != "" {
		out = append(out, t.title.Render(fit(p.Title, width)))
	}
	path := "application -> wire"
	switch dir {
	case "inbound":
		path = "wire -> application"
	case "forward":
		path = "wire -> network -> wire"
	}
	out = append(out, t.dim.Render(fit(fmt.Sprintf("path (%s): %s", dir, path), width)))

	// covered reports whether the path passes through a tier (before any stop).
	lo, hi := tierApp, tierWire
	switch {
	case dir == "forward":
		lo = tierNetwork
		if stopTier >= 0 {
			lo = stopTier
		}
	case stopTier >= 0 && up:
		lo = stopTier
	case stopTier >= 0:
		hi = stopTier
	}

	for tier := tierApp; tier < tierWire; tier++ {
		idx := byTier[tier]
		if up || dir == "forward" {
			// Drawn bottom-up: the latest classification at the top of the tier.
			r := make([]int, len(idx))
			for i, v := range idx {
				r[len(idx)-1-i] = v
			}
			idx = r
		}
		lines := []stackLine{{text: t.tier.Render(tierNames[tier]) + "  " + t.dim.Render(fit(tierAbout[tier], inner-len(tierNames[tier])-2)), step: -1, about: true}}
		if tier == tierApp {
			lines = append(lines, stackLine{text: t.dim.Render(fit(appLine(dir, blocked), inner)), step: -1})
		}
		stopHere := syntheticStop && tier == stopTier
		dropped := stackLine{text: t.block.Render(fit(orDefault(p.Reason, "dropped by the stack"), inner)), step: -1, stop: true}
		if stopHere && (up || dir == "forward") {
			lines = append(lines, dropped)
		}
		for _, i := range idx {
			s := steps[i]
			name := "?"
			if s.Layer != nil {
				name = s.Layer.ShortName
			}
			head := fmt.Sprintf(" %2d %s ", i+1, pad(name, 35))
			if opts.Highlight == i+1 {
				head = t.sel.Render(">" + head[1:])
			}
			line := head + t.markStyle(s).Render(Mark(s))
			lines = append(lines, stackLine{text: line, step: i, stop: i == stopAt})
			if d := detail(s); d != "" {
				for _, w := range wrap(d, inner-3) {
					lines = append(lines, stackLine{text: "   " + t.dim.Render(w), step: -1})
				}
			}
		}
		if stopHere && !up && dir != "forward" {
			lines = append(lines, dropped)
		}
		if len(byTier[tier]) == 0 && tier != tierApp && !stopHere {
			lines[0].text = t.tier.Render(tierNames[tier]) + "  " + t.dim.Render("not classified here")
		}
		box := []string{t.rule(tier == tierApp, width-3)}
		for _, l := range lines {
			box = append(box, t.row(l.text, width-3))
		}
		// The path column: one entry per box line (top border, lines, bottom border).
		col := make([]string, len(box))
		passing := tier >= lo && tier <= hi
		arrow := t.down
		if up {
			arrow = t.up
		}
		if dir == "forward" {
			arrow = t.up + t.down
		}
		// Where is the stop inside this box (line index in box: 0 is the rule above)?
		stopLine := -1
		for i, l := range lines {
			if l.stop {
				stopLine = i + 1
			}
		}
		for i := range box {
			c := ""
			if passing {
				c = t.pass
				if stopLine >= 0 {
					if (!up && dir != "forward" && i > stopLine) || ((up || dir == "forward") && i < stopLine) {
						c = ""
					}
				}
				if i > 0 {
					switch l := lines[i-1]; {
					case l.stop:
						c = t.block.Render(t.stop)
					case l.step >= 0 && c != "":
						c = arrow
					}
				}
			}
			col[i] = c
		}
		for i := range box {
			cw := lipgloss.Width(col[i])
			out = append(out, " "+col[i]+strings.Repeat(" ", 2-cw)+box[i])
		}
	}
	bottom := t.dim.Render(t.border.BottomLeft + strings.Repeat(t.border.Bottom, width-5) + t.border.BottomRight)
	wire := " " + t.pass + " " + t.tier.Render("wire") + "  " + t.dim.Render("the network interface")
	if hi < tierWire {
		bottom = "   " + bottom
		wire = "   " + t.tier.Render("wire") + "  " + t.dim.Render("the network interface")
	} else {
		bottom = " " + t.pass + " " + bottom
	}
	out = append(out, bottom, wire)
	verdict := t.permit.Render("PERMIT")
	if blocked {
		verdict = t.block.Render("BLOCK")
	}
	if p.Reason != "" || p.Verdict != "" {
		out = append(out, "")
		for i, w := range wrap(p.Reason, width-8) {
			if i == 0 {
				out = append(out, verdict+strings.Repeat(" ", 8-lipgloss.Width(verdict))+w)
			} else {
				out = append(out, strings.Repeat(" ", 8)+w)
			}
		}
	}
	out = append(out, t.dim.Render(fit("marks: permit or BLOCK, soft or hard (rules A5, A6), veto (A7), absorb (A11);", width)),
		t.dim.Render(fit("       default: no filter decided (A12); discard: the layer saw the drop", width)))
	return strings.Join(out, "\n") + "\n"
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func appLine(dir string, blocked bool) string {
	switch dir {
	case "inbound":
		if blocked {
			return "recv() / accept(): never reaches the socket"
		}
		return "recv() / accept(): delivered to the socket"
	case "forward":
		return "not for this host: routed through (IP forwarding)"
	case "loopback":
		return "send() to a local socket (loopback)"
	}
	return "connect() / send(): the application sends"
}

// detail is the second line of a step: who decided, and why the packet met the layer.
func detail(s engine.Step) string {
	var parts []string
	if s.Decision.Decided && s.Decision.FilterName != "" {
		parts = append(parts, fmt.Sprintf("by %q", s.Decision.FilterName))
	}
	if s.Decision.Fault != "" {
		parts = append(parts, "callout fault: "+s.Decision.Fault)
	}
	if s.Note != "" {
		parts = append(parts, s.Note)
	}
	return strings.Join(parts, "; ")
}

// rule is the line above a tier: the top border of the stack, or a separator.
func (t *theme) rule(top bool, width int) string {
	l, r := t.border.MiddleLeft, t.border.MiddleRight
	if top {
		l, r = t.border.TopLeft, t.border.TopRight
	}
	return t.dim.Render(l + strings.Repeat(t.border.Top, width-2) + r)
}

// row is one line inside the stack's border; text is already cut to fit.
func (t *theme) row(text string, width int) string {
	n := width - 4 - lipgloss.Width(text)
	if n < 0 {
		n = 0
	}
	side := t.dim.Render(t.border.Left)
	return side + " " + text + strings.Repeat(" ", n) + " " + t.dim.Render(t.border.Right)
}
