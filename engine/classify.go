package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// Request is one classification at one layer: what the stack hands the filter engine.
type Request struct {
	Layer *layers.Layer
	// Values are the incoming values indexed by the layer's field numbers
	// (layers.Field.Index). A missing or nil value is FWP_EMPTY (rule B6).
	Values    []wfp.Value
	Meta      *callout.Metadata
	LayerData any
	// Flow gives the contexts callouts associated with the flow being classified
	// (rule D4); nil when the classification belongs to no flow.
	Flow FlowContexts
}

// FlowContexts gives the context a callout associated with a flow at a layer, or 0.
type FlowContexts interface {
	FlowContext(layerID wfp.LayerID, calloutID wfp.CalloutID) uint64
}

// Decision is what a classification decided, shaped like a Windows net event: the
// action, whether it is hard, and the deciding filter of every sublayer.
type Decision struct {
	Layer *layers.Layer
	// Action is wfp.ActionPermit or wfp.ActionBlock.
	Action wfp.ActionType
	// Hard: FWPS_RIGHT_ACTION_WRITE was cleared (rule A4).
	Hard bool
	// Vetoed: a callout blocked over a hard permit (rule A7).
	Vetoed bool
	// Decided is false when no filter permitted or blocked: the action is then the
	// default permit (rule A12, undocumented; wfpsim permits).
	Decided bool
	// Absorb: the deciding callout blocked with FWPS_CLASSIFY_OUT_FLAG_ABSORB (rule A11).
	Absorb bool
	// FilterID and FilterName name the filter that set the final action.
	FilterID   wfp.FilterID
	FilterName string
	// Sublayers lists the sublayers of the layer that hold filters, in evaluation order.
	Sublayers []SublayerResult
	// Fault describes a callout that panicked during the classification (on Windows a
	// bug check) or did not return within Options.ClassifyTimeout; the engine
	// contained it and treated the callout's answer as block.
	Fault string
}

// SublayerResult is one sublayer's part of a decision.
type SublayerResult struct {
	Sublayer wfp.SublayerKey
	Name     string
	Weight   uint16
	// Action is wfp.ActionPermit or wfp.ActionBlock, or 0 when no filter of the
	// sublayer decided.
	Action     wfp.ActionType
	Hard       bool
	FilterID   wfp.FilterID
	FilterName string
}

// ActionName returns "permit", "block" or "none".
func (r SublayerResult) ActionName() string { return actionName(r.Action) }

func actionName(a wfp.ActionType) string {
	switch a {
	case wfp.ActionPermit:
		return "permit"
	case wfp.ActionBlock:
		return "block"
	case wfp.ActionContinue:
		return "continue"
	}
	return "none"
}

// Classify runs the filters of req.Layer against req.Values and writes the decision
// into out (reusing out.Sublayers). It reads the committed snapshot without taking a
// lock. With tr non-nil it also records why each filter did or did not take part.
func (e *Engine) Classify(req *Request, out *Decision, tr *Trace) error {
	if req == nil || req.Layer == nil {
		return fmt.Errorf("engine: classify: no layer: %w", wfp.ErrLayerNotFound)
	}
	snap := e.snap.Load()
	cl := snap.layers[req.Layer.Key]
	*out = Decision{Layer: req.Layer, Action: wfp.ActionPermit, Sublayers: out.Sublayers[:0]}
	if tr != nil {
		tr.begin(req, snap)
	}
	if cl != nil {
		e.arbitrate(cl, req, out, tr, snap)
	}
	if tr != nil {
		tr.Decision = *out
		tr.Decision.Sublayers = append([]SublayerResult(nil), out.Sublayers...)
	}
	e.recordEvent(cl, req, out)
	return nil
}

// arbitrate is the algorithm of rules A1-A12:
//
//	verdict = none, rights = WRITE
//	for each sublayer, highest weight first (all of them, rule A2):
//	    for each matching filter, highest weight first (rule A3):
//	        action = the filter's, or its callout's mapped by A8/A9
//	        continue -> next filter; permit/block -> the sublayer's result, stop
//	    if the sublayer decided:
//	        rights still WRITE (soft or nothing yet) -> take its action, hard or soft (A4-A6)
//	        hard permit and a callout blocked        -> veto: block (A7)
//	        otherwise                                -> the hard action stands
func (e *Engine) arbitrate(cl *compiledLayer, req *Request, out *Decision, tr *Trace, snap *snapshot) {
	var (
		verdict wfp.ActionType // 0: nothing decided yet
		rights  = callout.RightActionWrite
		cands   candidates
	)
	for _, cs := range cl.sublayers {
		res := SublayerResult{Sublayer: cs.key, Name: cs.name, Weight: cs.weight}
		var ts *TraceSublayer
		if tr != nil {
			ts = tr.sublayer(cs)
		}
		var decider *cfilter
		var absorb, byCallout bool
		if tr != nil {
			// Tracing visits every filter to say why it did or did not take part.
			for _, f := range cs.all() {
				tf := ts.filter(f)
				if decider != nil {
					tf.Outcome = fmt.Sprintf("not evaluated: %s already decided this sublayer", quoteName(decider.name))
					continue
				}
				ok, failed := f.matches(req.Values)
				if !ok {
					in := valueAt(req.Values, failed.index)
					tf.Outcome = "not matched: " + whyNot(failed, in)
					continue
				}
				tf.Matched = true
				f.hits.Add(1)
				a, hard, abs, wrote := e.evalFilter(f, req, verdict, rights, tf, snap, out)
				if a == wfp.ActionPermit || a == wfp.ActionBlock {
					decider, res.Action, res.Hard, absorb, byCallout = f, a, hard, abs, wrote
				}
			}
		} else {
			cands.init(cs, req.Values)
			for f := cands.next(); f != nil; f = cands.next() {
				if ok, _ := f.matches(req.Values); !ok {
					continue
				}
				f.hits.Add(1)
				a, hard, abs, wrote := e.evalFilter(f, req, verdict, rights, nil, snap, out)
				if a == wfp.ActionPermit || a == wfp.ActionBlock {
					decider, res.Action, res.Hard, absorb, byCallout = f, a, hard, abs, wrote
					break
				}
			}
		}
		var effect effectKind
		if decider != nil {
			res.FilterID, res.FilterName = decider.id, decider.name
			switch {
			case verdict == 0 || rights&callout.RightActionWrite != 0:
				verdict = res.Action
				rights = callout.RightActionWrite
				if res.Hard {
					rights = 0
				}
				out.FilterID, out.FilterName, out.Absorb = decider.id, decider.name, absorb && res.Action == wfp.ActionBlock
				effect = effectSets
			case verdict == wfp.ActionPermit && res.Action == wfp.ActionBlock && byCallout:
				// A veto is a block written by callout code; an unregistered callout's
				// block (rule A9) is a static block and no veto.
				verdict, rights, out.Vetoed = wfp.ActionBlock, 0, true
				out.FilterID, out.FilterName, out.Absorb = decider.id, decider.name, absorb
				effect = effectVeto
			default:
				effect = effectIgnored
			}
		}
		out.Sublayers = append(out.Sublayers, res)
		if ts != nil {
			ts.Result = res
			ts.Effect = effect.text(res)
		}
	}
	if verdict != 0 {
		out.Decided = true
		out.Action = verdict
		out.Hard = rights&callout.RightActionWrite == 0
	}
}

// effectKind is what a sublayer's result did to the layer's action; its text is
// built only when tracing.
type effectKind uint8

const (
	effectNone effectKind = iota
	effectSets
	effectVeto
	effectIgnored
)

func (k effectKind) text(r SublayerResult) string {
	switch k {
	case effectSets:
		return "sets the action: " + hardness(r.Action, r.Hard)
	case effectVeto:
		return "VETO: a callout blocked over the hard permit (rule A7)"
	case effectIgnored:
		return "ignored: the action is already hard"
	}
	return ""
}

// evalFilter returns what a matching filter contributes: permit or block with its
// hardness and absorb flag, or continue / 0 (nothing), and whether callout code wrote
// it (only that can veto). Callouts follow rules A7, A8, A9 and D9.
func (e *Engine) evalFilter(f *cfilter, req *Request, verdict wfp.ActionType, rights callout.Rights, tf *TraceFilter, snap *snapshot, out *Decision) (action wfp.ActionType, hard, absorb, byCallout bool) {
	clear := f.flags&wfp.FilterFlagClearActionRight != 0
	switch f.action {
	case wfp.ActionBlock:
		tf.set("block (hard: a static block is hard, rule A5)")
		return wfp.ActionBlock, true, false, false
	case wfp.ActionPermit:
		if clear {
			tf.set("permit (hard: clear_action_right, rule A6)")
		} else {
			tf.set("permit (soft: a static permit is soft, rule A5)")
		}
		return wfp.ActionPermit, clear, false, false
	}
	name := snap.calloutNames[f.callout]
	code := e.registered(f.callout)
	if code == nil {
		// Rule A9: the callout is not registered.
		switch {
		case f.action == wfp.ActionCalloutInspection:
			tf.callout(name, false, "skipped: inspection callout not registered (rule A9)")
			return 0, false, false, false
		case f.flags&wfp.FilterFlagPermitIfCalloutUnregistered != 0:
			tf.callout(name, false, "permit: callout not registered, permit_if_callout_unregistered (rule A9)")
			return wfp.ActionPermit, clear, false, false
		}
		tf.callout(name, false, "block (hard): callout not registered (rule A9)")
		return wfp.ActionBlock, true, false, false
	}
	if !invokedOnFlow(code, req.Flow, req.Layer, f.kernel.CalloutID) {
		tf.callout(name, false, "skipped: conditional on flow, and the flow holds no context of this callout (rule D11)")
		return 0, false, false, false
	}
	entry := verdict
	if entry == 0 {
		entry = wfp.ActionNone
	}
	co := callout.ClassifyOut{Action: entry, Rights: rights}
	in := callout.IncomingValues{Values: req.Values}
	if req.Layer.IDKnown {
		in.LayerID = req.Layer.ID
	}
	kf := f.kernel
	meta := req.Meta
	if meta == nil {
		meta = &callout.Metadata{}
	}
	var flowContext uint64
	if req.Flow != nil {
		flowContext = req.Flow.FlowContext(in.LayerID, kf.CalloutID)
	}
	var panicked any
	fault := "" // how the callout failed, for the trace
	if d := e.opts.ClassifyTimeout; d > 0 {
		var ok bool
		if panicked, ok = classifyWithin(d, code, &in, meta, req.LayerData, &kf, flowContext, &co); !ok {
			fault = fmt.Sprintf("did not return within %v", d)
			panicked = fault
			out.Fault = fmt.Sprintf("callout %q (filter %q) did not return within %v: abandoned (its late answer is ignored)", name, f.name, d)
		}
	} else {
		panicked = safeClassify(code, &in, meta, req.LayerData, &kf, flowContext, &co)
	}
	returned := co.Action
	if panicked != nil {
		returned = wfp.ActionBlock
		if fault == "" {
			fault = fmt.Sprintf("panicked (%v)", panicked)
			out.Fault = fmt.Sprintf("callout %q (filter %q) panicked in classifyFn: %v", name, f.name, panicked)
		}
	}
	mapped := returned
	switch f.action {
	case wfp.ActionCalloutTerminating: // anything but permit is block (rule A8)
		if mapped != wfp.ActionPermit {
			mapped = wfp.ActionBlock
		}
	case wfp.ActionCalloutInspection: // anything is continue (rule A8)
		mapped = wfp.ActionContinue
	case wfp.ActionCalloutUnknown: // undocumented values: wfpsim continues
		if mapped != wfp.ActionPermit && mapped != wfp.ActionBlock {
			mapped = wfp.ActionContinue
		}
	}
	said := "returned " + actionName(returned)
	if panicked == nil && returned == entry {
		said = "left the action as it found it (" + actionName(returned) + ")"
	}
	note := ""
	switch {
	case panicked != nil:
		said = fault + ": a callout fault, treated as block"
	case rights&callout.RightActionWrite == 0 && f.action != wfp.ActionCalloutInspection && returned != wfp.ActionBlock:
		// Rule A7: without the right a callout may only write block; anything else it
		// leaves or writes is ignored.
		tf.callout(name, true, said+" without the write right: ignored (rule A7)")
		return 0, false, false, false
	}
	if mapped != wfp.ActionPermit && mapped != wfp.ActionBlock {
		tf.callout(name, true, said+": continue")
		return wfp.ActionContinue, false, false, false
	}
	hard = co.Rights&callout.RightActionWrite == 0 || clear || panicked != nil
	absorb = co.Flags&callout.FlagAbsorb != 0
	what := hardness(mapped, hard)
	if absorb && mapped == wfp.ActionBlock {
		what += ", absorb"
	}
	if returned != mapped && panicked == nil {
		note = " (mapped by rule A8)"
	}
	what = said + ": " + what
	tf.callout(name, true, what+note)
	return mapped, hard, absorb, true
}

func safeClassify(c callout.Callout, in *callout.IncomingValues, meta *callout.Metadata, layerData any, f *callout.Filter, flowContext uint64, out *callout.ClassifyOut) (p any) {
	defer func() { p = recover() }()
	c.Classify(in, meta, layerData, f, flowContext, out)
	return nil
}

// classifyWithin runs classifyFn on its own goroutine, on copies of what it may
// write, and waits at most d. ok is false when the deadline passed: the goroutine is
// abandoned (Go cannot stop it) and whatever it writes later lands in its copies.
func classifyWithin(d time.Duration, c callout.Callout, in *callout.IncomingValues, meta *callout.Metadata, layerData any, f *callout.Filter, flowContext uint64, out *callout.ClassifyOut) (panicked any, ok bool) {
	type answer struct {
		out      callout.ClassifyOut
		panicked any
	}
	inC := callout.IncomingValues{LayerID: in.LayerID, Values: slices.Clone(in.Values)}
	metaC, fC, outC := *meta, *f, *out
	done := make(chan answer, 1) // buffered: a late answer never blocks its goroutine
	go func() {
		p := safeClassify(c, &inC, &metaC, layerData, &fC, flowContext, &outC)
		done <- answer{outC, p}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case a := <-done:
		*out = a.out
		f.Context = fC.Context
		return a.panicked, true
	case <-t.C:
		return nil, false
	}
}

func hardness(a wfp.ActionType, hard bool) string {
	if hard {
		return actionName(a) + " (hard)"
	}
	return actionName(a) + " (soft)"
}

func quoteName(s string) string { return fmt.Sprintf("%q", s) }

// invokedOnFlow reports whether a registered callout is called for this
// classification: one registered with FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW only on a
// flow that holds one of its contexts at the layer (rule D11); its filter is then
// skipped as if it did not match.
func invokedOnFlow(code callout.Callout, flow FlowContexts, l *layers.Layer, id wfp.CalloutID) bool {
	fl, ok := code.(callout.Flagged)
	if !ok || fl.RegisterFlags()&callout.FlagConditionalOnFlow == 0 {
		return true
	}
	if flow == nil || !l.IDKnown {
		return false
	}
	return flow.FlowContext(l.ID, id) != 0
}
