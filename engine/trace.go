package engine

import (
	"fmt"
	"io"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// Trace explains one classification: the incoming values, every sublayer in
// evaluation order with every filter (matched or not, and which condition failed),
// what callouts returned, and how each sublayer's result changed the decision. Its
// text form (WriteTo) is plain ASCII, one event per line, deterministic.
type Trace struct {
	Layer     *layers.Layer
	Values    []TraceValue
	Sublayers []*TraceSublayer
	Decision  Decision
}

// TraceValue is one non-empty incoming value.
type TraceValue struct {
	Field string // short condition name, "IP_REMOTE_PORT"
	Value wfp.Value
	// Text is the value as a reader expects it: "10.0.0.5", "tcp", "is_loopback".
	Text string
}

// TraceSublayer is one sublayer's evaluation.
type TraceSublayer struct {
	Key     wfp.SublayerKey
	Name    string
	Weight  uint16
	Filters []*TraceFilter
	Result  SublayerResult
	// Effect says what the sublayer's result did to the layer's action.
	Effect string
}

// TraceFilter is one filter's part.
type TraceFilter struct {
	ID      wfp.FilterID
	Name    string
	Weight  uint64
	Action  wfp.ActionType
	Matched bool
	// Outcome: "not matched: ...", "permit (soft: ...)", "callout ids: continue", ...
	Outcome string
	// Callout is set for callout filters that matched.
	Callout *TraceCallout
}

// TraceCallout records a callout invocation.
type TraceCallout struct {
	Name       string
	Registered bool
	Result     string
}

func (t *Trace) begin(req *Request, snap *snapshot) {
	*t = Trace{Layer: req.Layer}
	for _, f := range req.Layer.Fields {
		v := valueAt(req.Values, f.Index)
		if _, empty := v.(wfp.Empty); empty {
			continue
		}
		name := f.ConditionName
		if f.Condition != nil {
			name = f.Condition.ShortName
		}
		t.Values = append(t.Values, TraceValue{Field: strings.TrimPrefix(name, "FWPM_CONDITION_"), Value: v, Text: display(f.Condition, v)})
	}
}

func (t *Trace) sublayer(cs *compiledSublayer) *TraceSublayer {
	ts := &TraceSublayer{Key: cs.key, Name: cs.name, Weight: cs.weight}
	t.Sublayers = append(t.Sublayers, ts)
	return ts
}

func (ts *TraceSublayer) filter(f *cfilter) *TraceFilter {
	tf := &TraceFilter{ID: f.id, Name: f.name, Weight: f.weight, Action: f.action}
	ts.Filters = append(ts.Filters, tf)
	return tf
}

// set and callout are no-ops on a nil *TraceFilter, so evaluation code need not test
// whether it is tracing.
func (tf *TraceFilter) set(outcome string) {
	if tf != nil {
		tf.Outcome = outcome
	}
}

func (tf *TraceFilter) callout(name string, registered bool, result string) {
	if tf != nil {
		tf.Callout = &TraceCallout{Name: name, Registered: registered, Result: result}
		tf.Outcome = "callout " + quoteName(name) + ": " + result
	}
}

// whyNot explains why a condition group did not match the incoming value.
func whyNot(g *condGroup, in wfp.Value) string {
	cond, _ := layers.ConditionByKey(g.field)
	var want []string
	for _, c := range g.conds {
		want = append(want, c.c.Match.ShortName()+" "+display(cond, c.c.Value))
	}
	have := display(cond, in)
	if _, empty := in.(wfp.Empty); empty {
		have = "empty"
	}
	name := g.fieldName
	if name == "" {
		name = g.field.String()
	}
	return fmt.Sprintf("%s is %s, want %s", name, have, strings.Join(want, " or "))
}

// WriteTo writes the trace as text, one event per line.
func (t *Trace) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "layer %s\n", t.Layer.Name)
	for _, v := range t.Values {
		fmt.Fprintf(&b, "  in %s = %s\n", v.Field, v.Text)
	}
	if len(t.Sublayers) == 0 {
		b.WriteString("  no filters at this layer\n")
	}
	for _, s := range t.Sublayers {
		fmt.Fprintf(&b, "  sublayer %q weight %d\n", s.Name, s.Weight)
		for _, f := range s.Filters {
			fmt.Fprintf(&b, "    filter %q #%d weight 0x%016x %s: %s\n", f.Name, f.ID, f.Weight, f.Action.ShortName(), f.Outcome)
		}
		if s.Result.Action == 0 {
			b.WriteString("    result: none\n")
		} else {
			fmt.Fprintf(&b, "    result: %s by %q; %s\n", hardness(s.Result.Action, s.Result.Hard), s.Result.FilterName, s.Effect)
		}
	}
	d := t.Decision
	switch {
	case !d.Decided:
		b.WriteString("  decision: permit (no filter decided; wfpsim permits, rule A12)\n")
	case d.Vetoed:
		fmt.Fprintf(&b, "  decision: block (veto) by %q\n", d.FilterName)
	default:
		fmt.Fprintf(&b, "  decision: %s by %q\n", hardness(d.Action, d.Hard), d.FilterName)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// String returns the text form.
func (t *Trace) String() string {
	var b strings.Builder
	_, _ = t.WriteTo(&b)
	return b.String()
}

// protocolNames are the IANA numbers traces name.
var protocolNames = map[uint64]string{1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 51: "ah", 58: "icmpv6", 132: "sctp"}

// display formats a value of a field the way a reader expects it: IPv4 addresses
// dotted, protocols and flags by name, interface LUIDs in hex.
func display(cond *layers.Condition, v wfp.Value) string {
	if cond == nil {
		return v.String()
	}
	name := cond.Canonical().ShortName
	switch x := v.(type) {
	case wfp.Uint32:
		switch {
		case isAddressCondition(name):
			return wfp.V4ToAddr(uint32(x)).String()
		case name == "FLAGS":
			return flagNames(uint64(x), "FWP_CONDITION_FLAG", "FWP_CONDITION_FLAG_")
		case name == "DIRECTION":
			return wfp.Direction(x).String()
		}
	case wfp.Uint8:
		if name == "IP_PROTOCOL" || name == "EMBEDDED_PROTOCOL" {
			if p, ok := protocolNames[uint64(x)]; ok {
				return p
			}
		}
	case wfp.Uint64:
		if strings.Contains(name, "INTERFACE") && !strings.HasSuffix(name, "INDEX") && !strings.HasSuffix(name, "TYPE") {
			return fmt.Sprintf("0x%016x", uint64(x))
		}
	case wfp.Range:
		return display(cond, x.Low) + "-" + display(cond, x.High)
	}
	return v.String()
}

func isAddressCondition(short string) bool {
	return strings.Contains(short, "ADDRESS") && !strings.Contains(short, "MAC") && !strings.HasSuffix(short, "_TYPE")
}

func flagNames(v uint64, group, prefix string) string {
	if v == 0 {
		return "0"
	}
	var parts []string
	for _, c := range layers.ConstantsInGroup(group) {
		if c.Value != 0 && v&c.Value == c.Value {
			parts = append(parts, strings.ToLower(strings.TrimPrefix(c.Name, prefix)))
			v &^= c.Value
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", v))
	}
	return strings.Join(parts, "|")
}
