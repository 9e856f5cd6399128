package render

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/wfp"
)

// Arbitration draws one layer's arbitration (filter arbitration, rules A1-A12):
// a box per sublayer, from the highest weight down; in it every filter the
// engine evaluated, from the highest weight down, with its id, weight and
// action, whether its conditions matched (and, when not, the condition that
// failed), what its callout returned, and the sublayer's result with its effect
// on the layer's action (soft, hard, ignored, veto); then the layer's decision.
// With opts.Values the incoming values come first.
func Arbitration(tr *engine.Trace, opts Options) string {
	t := newTheme(opts.Profile)
	width := opts.width()
	inner := width - 4
	var out []string
	if tr == nil || tr.Layer == nil {
		return "no trace\n"
	}
	l := tr.Layer
	about := []string{l.Family.String(), l.Direction.String()}
	if l.Discard {
		about = append(about, "discard layer")
	}
	out = append(out, t.title.Render(fit("layer "+l.Name, width)))
	out = append(out, t.dim.Render(fit("  "+strings.Join(about, ", "), width)))
	if opts.Values && len(tr.Values) > 0 {
		var vals []string
		for _, v := range tr.Values {
			vals = append(vals, v.Field+"="+v.Text)
		}
		for _, w := range wrap(strings.Join(vals, "  "), width-4) {
			out = append(out, "  "+t.dim.Render(w))
		}
	}
	if len(tr.Sublayers) == 0 {
		out = append(out, t.dim.Render("  no filters at this layer"))
	} else {
		out = append(out, t.dim.Render(fit("  sublayers and filters from the highest weight down; "+t.matched+" matched, "+t.notMatched+" not", width)))
	}
	for _, s := range tr.Sublayers {
		var lines []string
		lines = append(lines, t.bold.Render(fit(fmt.Sprintf("sublayer %q", s.Name), inner-14))+t.dim.Render(fmt.Sprintf("  weight %d", s.Weight)))
		// #id  name  weight  action
		nameW := inner - 2 - 6 - 1 - 18 - 1 - 10
		for _, f := range s.Filters {
			mark := t.dim.Render(t.notMatched)
			if f.Matched {
				mark = t.bold.Render(t.matched)
			}
			row := fmt.Sprintf("%-6s %s %018s %s", fmt.Sprintf("#%d", f.ID), pad(f.Name, nameW), fmt.Sprintf("0x%016x", f.Weight), pad(actionName(f.Action), 9))
			if !f.Matched {
				row = t.dim.Render(row)
			}
			lines = append(lines, mark+" "+row)
			outcome := f.Outcome
			st := t.dim
			if f.Matched {
				st = outcomeStyle(t, outcome)
			}
			for _, w := range wrap(outcome, inner-4) {
				lines = append(lines, "    "+st.Render(w))
			}
			if f.Callout != nil && !f.Callout.Registered {
				lines = append(lines, "    "+t.veto.Render(fit("callout "+f.Callout.Name+" is not registered (rule A9)", inner-4)))
			}
		}
		res := "result: none"
		st := t.none
		if s.Result.Action != 0 {
			res = fmt.Sprintf("result: %s by %q; %s", hardness(s.Result.Action, s.Result.Hard), s.Result.FilterName, s.Effect)
			st = outcomeStyle(t, res)
			if s.Result.Action == wfp.ActionBlock {
				st = t.block
			}
		}
		for _, w := range wrap(res, inner) {
			lines = append(lines, st.Render(w))
		}
		out = append(out, t.box(lines, width))
	}
	d := tr.Decision
	var dec string
	st := t.permit
	switch {
	case !d.Decided:
		dec, st = "decision: permit (no filter decided; wfpsim permits, rule A12)", t.none
	case d.Vetoed:
		dec, st = fmt.Sprintf("decision: BLOCK (veto) by %q", d.FilterName), t.veto
	case d.Action == wfp.ActionBlock:
		dec, st = fmt.Sprintf("decision: BLOCK (%s) by %q", softHard(d.Hard), d.FilterName), t.block
	default:
		dec = fmt.Sprintf("decision: permit (%s) by %q", softHard(d.Hard), d.FilterName)
		if d.Hard {
			st = t.permit.Bold(true)
		}
	}
	if d.Absorb {
		dec += ", absorbed (no discard indication)"
	}
	for _, w := range wrap(dec, width) {
		out = append(out, st.Render(w))
	}
	if d.Fault != "" {
		out = append(out, t.veto.Render(fit("callout fault: "+d.Fault, width)))
	}
	return strings.Join(out, "\n") + "\n"
}

func outcomeStyle(t *theme, s string) (st lipgloss.Style) {
	switch {
	case strings.Contains(s, "veto"):
		return t.veto
	case strings.HasPrefix(s, "block"), strings.HasPrefix(s, "result: block"):
		return t.block
	case strings.HasPrefix(s, "permit"), strings.HasPrefix(s, "result: permit"):
		return t.permit
	}
	return t.r.NewStyle()
}

func softHard(hard bool) string {
	if hard {
		return "hard"
	}
	return "soft"
}

func hardness(a wfp.ActionType, hard bool) string {
	return actionName(a) + " (" + softHard(hard) + ")"
}

func actionName(a wfp.ActionType) string {
	switch a {
	case wfp.ActionPermit:
		return "permit"
	case wfp.ActionBlock:
		return "block"
	case wfp.ActionCalloutTerminating:
		return "callout/T"
	case wfp.ActionCalloutInspection:
		return "callout/I"
	case wfp.ActionCalloutUnknown:
		return "callout/U"
	case 0:
		return "none"
	}
	return a.ShortName()
}
