package render

import (
	"fmt"
	"sort"
	"strings"
)

// Counts is what the summary view shows: a replay's counts as plain values
// (the fields of replay.Summary, which render does not import).
type Counts struct {
	Frames, Skipped, NotThisHost int
	// Packets counts replayed packets by verdict ("permit", "block").
	Packets map[string]int
	// ByLayer and ByFilter count blocked packets by the deciding layer and filter.
	ByLayer, ByFilter map[string]int
	// BlockedFlows counts blocked packets by flow ("tcp 10.0.0.5:51000 -> ...").
	BlockedFlows map[string]int
	// Top is how many rows each ranking shows; 0 means 10.
	Top int
}

// Summary draws a whole replay: packets by verdict, then blocked packets by
// layer, by filter and by flow (the top ones of each), as bars.
func Summary(c Counts, opts Options) string {
	t := newTheme(opts.Profile)
	width := opts.width()
	top := c.Top
	if top <= 0 {
		top = 10
	}
	var out []string
	out = append(out, t.title.Render("replay summary"))
	permit, block := c.Packets["permit"], c.Packets["block"]
	line := fmt.Sprintf("%d frames: %s permitted, %s blocked", c.Frames,
		t.permit.Render(fmt.Sprint(permit)), t.block.Render(fmt.Sprint(block)))
	if c.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", c.Skipped)
	}
	if c.NotThisHost > 0 {
		line += fmt.Sprintf(", %d not this host's", c.NotThisHost)
	}
	out = append(out, line)
	if total := permit + block; total > 0 {
		barW := width - 2
		pw := permit * barW / total
		if permit > 0 && pw == 0 {
			pw = 1
		}
		bw := barW - pw
		if t.plain {
			out = append(out, "["+strings.Repeat("+", pw)+strings.Repeat("x", bw)+"]")
		} else {
			out = append(out, " "+t.permit.Render(strings.Repeat(t.bar, pw))+t.block.Render(strings.Repeat(t.bar, bw)))
		}
	}
	out = append(out, ranking(t, "blocked packets by layer", c.ByLayer, top, width)...)
	out = append(out, ranking(t, "blocked packets by filter", c.ByFilter, top, width)...)
	out = append(out, ranking(t, "top blocked flows", c.BlockedFlows, top, width)...)
	return strings.Join(out, "\n") + "\n"
}

func ranking(t *theme, title string, m map[string]int, top, width int) []string {
	if len(m) == 0 {
		return nil
	}
	type kv struct {
		k string
		v int
	}
	var rows []kv
	for k, v := range m {
		rows = append(rows, kv{k, v})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].v != rows[j].v {
			return rows[i].v > rows[j].v
		}
		return rows[i].k < rows[j].k
	})
	out := []string{"", t.tier.Render(title)}
	labelW := width/2 + 6
	barW := width - labelW - 2 - 7 - 1
	maxV := rows[0].v
	for i, r := range rows {
		if i == top {
			out = append(out, t.dim.Render(fmt.Sprintf("  ... and %d more", len(rows)-top)))
			break
		}
		n := r.v * barW / maxV
		if n == 0 {
			n = 1
		}
		out = append(out, fmt.Sprintf("  %s%7d %s", pad(r.k, labelW), r.v, t.block.Render(strings.Repeat(t.bar, n))))
	}
	return out
}
