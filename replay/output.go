package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/wfpsim/wfpsim/wfp"
)

// JSONLine is the stable JSON-lines contract, one object per packet.
type JSONLine struct {
	File      string      `json:"file,omitempty"`
	N         uint64      `json:"n"`
	Direction string      `json:"direction"`
	Flow      string      `json:"flow"`
	Verdict   string      `json:"verdict"`
	Layer     string      `json:"layer"`
	Filter    string      `json:"filter"`
	Layers    []LayerJSON `json:"layers"`
}

// LayerJSON is one layer a packet passed.
type LayerJSON struct {
	Layer  string `json:"layer"`
	Action string `json:"action"`
}

// JSON returns the packet's JSON-lines object; withFile adds the file name (when
// several captures are replayed).
func (pr *PacketResult) JSON(withFile bool) JSONLine {
	j := JSONLine{N: pr.N, Direction: pr.Direction, Flow: pr.Flow, Verdict: pr.Verdict, Layer: pr.Layer, Filter: pr.Filter, Layers: []LayerJSON{}}
	if withFile {
		j.File = pr.File
	}
	for _, s := range pr.Steps {
		if s.Layer.Discard {
			continue // an indication of the drop, not a layer the packet passed
		}
		a := "permit"
		if s.Decision.Action == wfp.ActionBlock {
			a = "block"
		}
		j.Layers = append(j.Layers, LayerJSON{Layer: s.Layer.Name, Action: a})
	}
	return j
}

// WriteJSONLine writes the packet as one line of JSON.
func (pr *PacketResult) WriteJSONLine(w io.Writer, withFile bool) error {
	// No HTML escaping: the flow's "->" stays readable (and greppable) as written.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(pr.JSON(withFile)); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Line is the one-line text form: "   12 0.000123 outbound tcp 10.0.0.5:51000 -> 1.2.3.4:443  BLOCK  reason".
func (pr *PacketResult) Line(start bool) string {
	v := "permit"
	if pr.Verdict == "block" {
		v = "BLOCK "
	}
	return fmt.Sprintf("%5d %-8s %-52s %s  %s", pr.N, pr.Direction, pr.Flow, v, pr.Reason)
}

// WriteSteps writes the layer walk of a packet, indented, with each step's trace
// when there is one (wfpsim replay -v).
func (pr *PacketResult) WriteSteps(w io.Writer) error {
	var b strings.Builder
	for _, s := range pr.Steps {
		a := "permit"
		if s.Decision.Action == wfp.ActionBlock {
			a = "block"
		}
		fmt.Fprintf(&b, "        %-42s %-6s %s\n", s.Layer.Name, a, s.Note)
		if s.Trace != nil {
			for _, line := range strings.Split(strings.TrimRight(s.Trace.String(), "\n"), "\n") {
				fmt.Fprintf(&b, "            %s\n", line)
			}
		}
	}
	for _, r := range pr.Replies {
		fmt.Fprintf(&b, "        reply %s: %s\n", r.Packet, r.Reason)
		for _, s := range r.Steps {
			a := "permit"
			if s.Decision.Action == wfp.ActionBlock {
				a = "block"
			}
			fmt.Fprintf(&b, "          %-40s %-6s %s\n", s.Layer.Name, a, s.Note)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteSummary writes the summary: packets and flows by verdict, blocks by layer and
// filter, and the filters that never matched.
func (s *Summary) WriteSummary(w io.Writer, neverMatched []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "packets: %d replayed (%d permitted, %d blocked); %d frames read, %d skipped, %d not to or from this host\n",
		s.Packets["permit"]+s.Packets["block"], s.Packets["permit"], s.Packets["block"], s.Frames, s.Skipped, s.NotThisHost)
	fv := s.FlowsByVerdict()
	fmt.Fprintf(&b, "flows: %d (%d permitted, %d with blocked packets)\n", fv["permit"]+fv["block"], fv["permit"], fv["block"])
	if s.StreamNothingNew > 0 {
		fmt.Fprintf(&b, "TCP segments with data that gave the stream nothing new (retransmitted, or waiting for an earlier segment): %d, not indicated at STREAM\n", s.StreamNothingNew)
	}
	if len(s.ByLayer) > 0 {
		b.WriteString("blocked packets by layer:\n")
		for _, k := range sortedKeys(s.ByLayer) {
			name := k
			if name == "" {
				name = "(the stack: closed port, no connection, ...)"
			}
			fmt.Fprintf(&b, "  %6d  %s\n", s.ByLayer[k], name)
		}
	}
	if len(s.ByFilter) > 0 {
		b.WriteString("blocked packets by filter:\n")
		for _, k := range sortedKeys(s.ByFilter) {
			fmt.Fprintf(&b, "  %6d  %s\n", s.ByFilter[k], k)
		}
	}
	if len(neverMatched) > 0 {
		// Distinct names, the most repeated first; a real machine's state has hundreds.
		count := map[string]int{}
		for _, n := range neverMatched {
			count[n]++
		}
		names := sortedKeys(count)
		const show = 20
		parts := make([]string, 0, show)
		for i, n := range names {
			if i == show {
				break
			}
			if count[n] > 1 {
				n = fmt.Sprintf("%s (x%d)", n, count[n])
			}
			parts = append(parts, n)
		}
		fmt.Fprintf(&b, "filters that never matched (%d): %s", len(neverMatched), strings.Join(parts, ", "))
		if len(names) > show {
			fmt.Fprintf(&b, ", and %d more names", len(names)-show)
		}
		b.WriteString("\n")
	}
	if s.Incomplete {
		b.WriteString("incomplete: a capture could not be read to its end (see the messages above)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
