package engine

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// The stream layer (FWPM_LAYER_STREAM_V4/V6, rules A10 and D5).
//
// Arbitration at STREAM is not the soft/hard arbitration of the other layers but a
// strict waterfall. The matching filters form a pipeline, sublayers by weight and
// filters by weight within a sublayer; each stage passes on only the bytes it
// permitted:
//
//	segment bytes
//	     |
//	     v
//	+-----------+ permit       +-----------+ permit            +-----------+ permit
//	| filter 1  |------------->| filter 2  |------------------>| filter 3  |---------> delivered
//	| (callout) |  (next       | (static)  |  continue: next   | (callout) |
//	+-----------+  sublayer)   +-----------+  filter, same     +-----------+
//	  |  |   |                      |         sublayer           |   |
//	  |  |   +- block: the bytes leave the stream for good; lower filters count them
//	  |  |      as missedBytes                                   |   |
//	  |  +- NEED_MORE_DATA: the stage holds the bytes (countBytesRequired more, up
//	  |     to ~8 MB, then BUFFER_LIMIT_REACHED); nothing flows lower meanwhile
//	  +- countBytesEnforced = n: the decision covers the first n bytes; the stage is
//	     called again with the rest (inline replacement: permit n, block p, permit m)
//
// The write right (FWPS_RIGHT_ACTION_WRITE) means nothing here: every callout gets it
// on entry and what it does with it is ignored. A callout finds FWP_ACTION_NONE in
// actionType on entry and must set the action itself; a CALLOUT_TERMINATING callout
// that leaves it is mapped to block (rule A8).
//
// Stream actions:
//   - NEED_MORE_DATA: held as above; not allowed with FWPS_CLASSIFY_OUT_FLAG_NO_MORE_DATA
//     (FIN) or FWPS_CLASSIFY_OUT_FLAG_BUFFER_LIMIT_REACHED, where wfpsim ignores it and
//     takes the callout's action.
//   - DROP_CONNECTION: honoured only for a CALLOUT_UNKNOWN filter (ignored, with its
//     action taken, under INSPECTION and TERMINATING): the bytes are blocked and the
//     flow is torn down (its contexts see FlowDelete).
//   - ALLOW_CONNECTION: the bytes in hand go on with the callout's action; every later
//     segment of the flow in that direction is permitted without classification
//     (wfpsim stops classifying the whole direction, for every filter).
//   - DEFER: inbound only (ignored outbound). The callout's stage pauses, holding what
//     it was offered and what arrives later, until Stack.StreamContinue
//     (FwpsStreamContinue0). The TCP window shrinking meanwhile is not modelled.
//
// Static filters permit or block as usual; a filter naming an unregistered callout
// follows rule A9; FWPS_CLASSIFY_OUT_FLAG_ABSORB with block drops the bytes without a
// discard indication (rule A11). A callout that panics is a fault: recorded in
// Stack.Faults, and its bytes are blocked.
//
// Each time a filter is evaluated on some bytes the packet's Result gets one Step (with
// a Trace when tracing), its Note saying what was offered and what the filter answered.
// When no filter at STREAM matches, one ordinary Step records the classification.
//
// Injected stream data (FwpsStreamInjectAsync0): see streaminject.go. A callout
// registered with FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW (callout.Flagged) is skipped
// on a flow that holds none of its contexts (rule D11), here as at every layer. One
// registered with FWP_CALLOUT_FLAG_ALLOW_MID_STREAM_INSPECTION sees the flows whose
// stream began before its filter was added; without it, only the flows whose stream
// began after (rule D11). Not modelled: the re-sending of held outbound bytes.

// streamBufferLimit is how much stream data WFP buffers for NEED_MORE_DATA (about
// 8 MB, rule D5).
const streamBufferLimit = 8 << 20

// streamState is one direction of a flow's stream layer; it costs one pointer until a
// stream callout keeps state.
type streamState struct {
	d *streamDir
}

type streamDir struct {
	allowed bool // a callout answered ALLOW_CONNECTION: no more classification
	stages  map[wfp.FilterID]*streamStage
	// paused is the context of the segment during which a callout answered DEFER.
	paused *classifyCtx
}

// streamStage is what one filter of the waterfall keeps for one direction of a flow.
type streamStage struct {
	pending  []byte // bytes held for a NEED_MORE_DATA or DEFER answer
	want     int    // call again once pending holds this many bytes
	missed   int    // bytes higher filters kept from this callout since its last call
	deferred bool
}

func (st *streamState) dir() *streamDir {
	if st.d == nil {
		st.d = &streamDir{stages: map[wfp.FilterID]*streamStage{}}
	}
	return st.d
}

func (d *streamDir) stage(id wfp.FilterID) *streamStage {
	sg := d.stages[id]
	if sg == nil {
		sg = &streamStage{}
		d.stages[id] = sg
	}
	return sg
}

// stageRef is one matching filter of the waterfall.
type stageRef struct {
	f    *cfilter
	cs   *compiledSublayer
	next int // index of the first stage of the next sublayer
}

// streamWalk is one run of the waterfall for one segment (or a StreamContinue).
type streamWalk struct {
	s      *Stack
	res    *Result
	fl     *Flow
	c      *classifyCtx
	l      *layers.Layer
	cl     *compiledLayer
	snap   *snapshot
	values []wfp.Value
	flags  callout.StreamFlags
	fin    bool
	d      *streamDir
	stages []stageRef

	passed, blocked, held int
	injectedBytes         int // bytes callouts injected during the walk (FwpsStreamInjectAsync0)
	dropped, deferred     bool
	absorbed              bool
	blocker               *cfilter // the first filter that blocked bytes
	dropper               *cfilter
}

// stream classifies a TCP segment's data at the stream layer (rules A10, D5): data
// is what the segment hands the stream (Packet.StreamBytes). It reports whether the
// segment goes on: false when its bytes were all blocked, are held (NEED_MORE_DATA,
// DEFER; res.Pending is then set), or the connection was dropped.
func (s *Stack) stream(res *Result, f *Flow, in *classifyCtx, p *Packet, data []byte) bool {
	dir := streamIndex(in.dir)
	if l := layer(layers.StreamV4, layers.StreamV6, p); !s.opts.Trace && f.stream[dir].d == nil && s.e.snap.Load().layers[l.Key] == nil {
		// No filter at the stream layer and nothing held: the data passes, as an
		// ordinary classification with no filter would let it (rule A12).
		s.classifyOnly(res, l, in, streamNote(len(data)))
		return true
	}
	// The walk keeps the context (a held segment resumes later): work on a copy, so the
	// caller's context can stay on its stack.
	own := *in
	c := &own
	flags := callout.StreamFlagSend
	if dir == 1 {
		flags = callout.StreamFlagReceive
	}
	fin := p.TCPFlags&TCPFin != 0
	if fin {
		if dir == 1 {
			flags |= callout.StreamFlagReceiveDisconnect
		} else {
			flags |= callout.StreamFlagSendDisconnect
		}
	}
	if p.TCPFlags&TCPRst != 0 {
		if dir == 1 {
			flags |= callout.StreamFlagReceiveAbort
		} else {
			flags |= callout.StreamFlagSendAbort
		}
	}
	st := &f.stream[dir]
	if st.d != nil && st.d.allowed {
		return true // ALLOW_CONNECTION: no classification any more (rule D5)
	}
	l := layer(layers.StreamV4, layers.StreamV6, p)
	w := s.newStreamWalk(res, f, c, l, flags, fin)
	if len(w.stages) == 0 {
		// No filter at STREAM matches: an ordinary classification records it.
		sp := &callout.StreamPacket{Flags: flags, Data: data}
		s.classifyOnly(res, l, s.streamCtx(c, sp), streamNote(len(data)))
		return true
	}
	w.d = st.dir()
	s.streamWalks = append(s.streamWalks, w)
	w.offer(0, data)
	if fin {
		// NO_MORE_DATA: every stage still holding bytes must decide now.
		for i := range w.stages {
			if sg := w.d.stages[w.stages[i].f.id]; sg != nil && len(sg.pending) > 0 && !sg.deferred && !w.dropped {
				w.offer(i, nil)
			}
		}
	}
	return w.finish()
}

// StreamContinue resumes the stream of a flow whose callout answered DEFER
// (FwpsStreamContinue0): the deferring callout is called again with what it holds,
// and the bytes it permits flow on down the waterfall. dir is the deferred
// direction (inbound: DEFER is only honoured there).
func (s *Stack) StreamContinue(flowID uint64, dir wfp.Direction) (*Result, error) {
	f := s.flows.byID[flowID]
	if f == nil {
		return nil, fmt.Errorf("engine: stream continue: flow %d does not exist: %w", flowID, wfp.ErrNotFound)
	}
	i := streamIndex(dir)
	d := f.stream[i].d
	if d == nil || d.paused == nil {
		return nil, fmt.Errorf("engine: stream continue: flow %d has no deferred %s stream: %w", flowID, dir, wfp.ErrInvalidParameter)
	}
	c := d.paused
	d.paused = nil
	res := &Result{Packet: c.pkt, Number: s.packets, Direction: c.dir, Verdict: wfp.ActionPermit, Flow: f}
	flags := callout.StreamFlagSend
	if dir == wfp.DirectionInbound {
		flags = callout.StreamFlagReceive
	}
	l := layer(layers.StreamV4, layers.StreamV6, c.pkt)
	w := s.newStreamWalk(res, f, c, l, flags, false)
	w.d = d
	s.streamWalks = append(s.streamWalks, w)
	for j := range w.stages {
		if sg := d.stages[w.stages[j].f.id]; sg != nil && sg.deferred {
			sg.deferred = false
			w.offer(j, nil)
		}
	}
	w.finish()
	return res, nil
}

func (s *Stack) newStreamWalk(res *Result, f *Flow, c *classifyCtx, l *layers.Layer, flags callout.StreamFlags, fin bool) *streamWalk {
	snap := s.e.snap.Load()
	w := &streamWalk{s: s, res: res, fl: f, c: c, l: l, snap: snap, flags: flags, fin: fin}
	if c.flow != nil && c.flow.loopback {
		c.flags |= flagIsLoopback
	}
	w.values = c.values(l)
	w.cl = snap.layers[l.Key]
	if w.cl == nil {
		return w
	}
	for _, cs := range w.cl.sublayers {
		first := len(w.stages)
		for _, cf := range cs.all() {
			if ok, _ := cf.matches(w.values); ok {
				w.stages = append(w.stages, stageRef{f: cf, cs: cs})
			}
		}
		for i := first; i < len(w.stages); i++ {
			w.stages[i].next = len(w.stages)
		}
	}
	return w
}

// offer gives data to stages[i:]. With data empty the stage is called with what it
// holds (a FIN, a StreamContinue).
func (w *streamWalk) offer(i int, data []byte) {
	if w.dropped {
		return
	}
	if i >= len(w.stages) {
		w.passed += len(data)
		return
	}
	ref := w.stages[i]
	f := ref.f
	switch f.action {
	case wfp.ActionPermit:
		if len(data) == 0 {
			return
		}
		w.step(ref, wfp.ActionPermit, false, fmt.Sprintf("stream data: %d bytes, filter %q permits them (static)", len(data), f.name), "permit (static)", nil)
		w.offer(ref.next, data)
		return
	case wfp.ActionBlock:
		if len(data) == 0 {
			return
		}
		w.step(ref, wfp.ActionBlock, false, fmt.Sprintf("stream data: %d bytes, filter %q blocks them (static): they leave the stream for good (rule A10)", len(data), f.name), "block (static)", nil)
		w.block(i, f, data, false)
		return
	}
	name := w.snap.calloutNames[f.callout]
	code := w.s.e.registered(f.callout)
	if code != nil && (!invokedOnFlow(code, w.fl, w.l, f.kernel.CalloutID) || !seesMidStream(code, f, w.fl)) {
		w.offer(i+1, data) // rule D11: skipped, as if it did not match
		return
	}
	if code == nil {
		if len(data) == 0 {
			return
		}
		switch {
		case f.action == wfp.ActionCalloutInspection:
			w.offer(i+1, data) // rule A9: skipped; no step, as in a normal classification trace
		case f.flags&wfp.FilterFlagPermitIfCalloutUnregistered != 0:
			w.step(ref, wfp.ActionPermit, false, fmt.Sprintf("stream data: %d bytes, callout %q not registered: permit_if_callout_unregistered (rule A9)", len(data), name), "permit: callout not registered (rule A9)", nil)
			w.offer(ref.next, data)
		default:
			w.step(ref, wfp.ActionBlock, false, fmt.Sprintf("stream data: %d bytes, callout %q not registered: block (rule A9)", len(data), name), "block: callout not registered (rule A9)", nil)
			w.block(i, f, data, false)
		}
		return
	}
	sg := w.d.stage(f.id)
	if sg.deferred {
		sg.pending = append(sg.pending, data...)
		w.held += len(data)
		w.deferred = true
		return
	}
	buf, owned := data, false
	if len(sg.pending) > 0 {
		buf, owned = append(sg.pending, data...), true
		sg.pending = nil
	}
	if len(buf) == 0 && !w.fin {
		return
	}
	if sg.want > 0 && len(buf) < sg.want && !w.fin && len(buf) < streamBufferLimit {
		// Not yet the bytes the callout asked for: hold on without calling it. The
		// stack keeps its own copy: the caller's packet bytes are not the stack's.
		if !owned {
			buf = append([]byte(nil), buf...)
		}
		sg.pending = buf
		w.held += len(data)
		return
	}
	sg.want = 0
	for {
		var outFlags callout.OutFlags
		limit := len(buf) >= streamBufferLimit
		if limit {
			outFlags |= callout.FlagBufferLimitReached
		}
		if w.fin {
			outFlags |= callout.FlagNoMoreData
		}
		sp := &callout.StreamPacket{Flags: w.flags, Data: buf, MissedBytes: sg.missed}
		sg.missed = 0
		co, mapped, panicked := w.invoke(f, code, sp, outFlags)
		said := fmt.Sprintf("stream data: %d bytes, callout %q", len(buf), name)
		if sp.MissedBytes > 0 {
			said += fmt.Sprintf(" (%d bytes missed)", sp.MissedBytes)
		}
		if panicked != nil {
			fault := fmt.Sprintf("callout %q (filter %q) panicked in classifyFn: %v", name, f.name, panicked)
			w.s.faults = append(w.s.faults, fault)
			w.step(ref, wfp.ActionBlock, false, said+fmt.Sprintf(" panicked (%v): a callout fault, the bytes are blocked", panicked), fmt.Sprintf("panicked (%v): a callout fault, treated as block", panicked), &name)
			w.res.Steps[len(w.res.Steps)-1].Decision.Fault = fault
			w.block(i, f, buf, false)
			return
		}
		action := sp.StreamAction
		switch action {
		case callout.StreamActionNeedMoreData:
			if !limit && !w.fin {
				more := max(sp.CountBytesRequired, 1)
				sg.pending = append([]byte(nil), buf...)
				sg.want = len(buf) + more
				w.held += len(data)
				w.step(ref, 0, false, said+fmt.Sprintf(" asked for %d more (NEED_MORE_DATA): the bytes are held", more), fmt.Sprintf("need more data: %d bytes", more), &name)
				return
			}
			said += " answered NEED_MORE_DATA where it is not allowed (" + map[bool]string{true: "buffer limit reached", false: "no more data"}[limit] + "): ignored"
		case callout.StreamActionDefer:
			if w.c.dir == wfp.DirectionInbound {
				sg.pending = append([]byte(nil), buf...)
				sg.deferred = true
				w.c.pkt = w.c.pkt.clone() // kept until StreamContinue: the stack's own copy
				w.d.paused = w.c
				w.held += len(data)
				w.deferred = true
				w.step(ref, 0, false, said+" deferred the stream (DEFER): paused until StreamContinue", "defer", &name)
				return
			}
			said += " answered DEFER outbound: ignored (DEFER works only inbound)"
		case callout.StreamActionDropConnection:
			if f.action == wfp.ActionCalloutUnknown {
				w.step(ref, wfp.ActionBlock, co.Flags&callout.FlagAbsorb != 0, said+" dropped the connection (DROP_CONNECTION)", "drop connection", &name)
				w.dropper = f
				w.block(i, f, buf, co.Flags&callout.FlagAbsorb != 0)
				w.dropped = true
				return
			}
			said += fmt.Sprintf(" answered DROP_CONNECTION under %s: ignored (only CALLOUT_UNKNOWN filters may drop)", f.action.ShortName())
		case callout.StreamActionAllowConnection:
			w.d.allowed = true
			said += " allowed the connection (ALLOW_CONNECTION): later segments are not classified"
		}
		n := len(buf)
		if e := sp.CountBytesEnforced; e > 0 && e < n && (mapped == wfp.ActionPermit || mapped == wfp.ActionBlock) {
			n = e
		}
		piece, rest := buf[:n], buf[n:]
		what := actionName(mapped)
		if len(rest) > 0 {
			said += fmt.Sprintf(" %s the first %d (countBytesEnforced); called again with the other %d", what+"s", n, len(rest))
		} else if action != callout.StreamActionAllowConnection || mapped != wfp.ActionContinue {
			said += " returned " + what
		}
		absorb := mapped == wfp.ActionBlock && co.Flags&callout.FlagAbsorb != 0
		if absorb {
			said += ", absorb"
		}
		decided := mapped
		if decided != wfp.ActionPermit && decided != wfp.ActionBlock {
			decided = 0
		}
		w.step(ref, decided, absorb, said, "returned "+what, &name)
		switch mapped {
		case wfp.ActionPermit:
			w.offer(ref.next, piece)
		case wfp.ActionBlock:
			w.block(i, f, piece, absorb)
		default:
			w.offer(i+1, piece)
		}
		w.flushInjections(ref)
		if len(rest) == 0 || w.dropped {
			return
		}
		buf = rest
	}
}

// invoke calls the callout of a stream filter and maps its action (rule A8).
func (w *streamWalk) invoke(f *cfilter, code callout.Callout, sp *callout.StreamPacket, flags callout.OutFlags) (callout.ClassifyOut, wfp.ActionType, any) {
	co := callout.ClassifyOut{Action: wfp.ActionNone, Rights: callout.RightActionWrite, Flags: flags}
	in := callout.IncomingValues{Values: w.values}
	if w.l.IDKnown {
		in.LayerID = w.l.ID
	}
	kf := f.kernel
	meta := w.s.metadata(w.l, w.c)
	fc := w.fl.FlowContext(in.LayerID, kf.CalloutID)
	panicked := safeClassify(code, &in, meta, sp, &kf, fc, &co)
	if panicked != nil {
		return co, wfp.ActionBlock, panicked
	}
	mapped := co.Action
	switch f.action {
	case wfp.ActionCalloutTerminating:
		if mapped != wfp.ActionPermit {
			mapped = wfp.ActionBlock
		}
	case wfp.ActionCalloutInspection:
		mapped = wfp.ActionContinue
	default:
		if mapped != wfp.ActionPermit && mapped != wfp.ActionBlock {
			mapped = wfp.ActionContinue
		}
	}
	return co, mapped, nil
}

// block drops bytes at stage i: they leave the stream for good, and every lower
// callout will be told it missed them.
func (w *streamWalk) block(i int, f *cfilter, data []byte, absorb bool) {
	w.blocked += len(data)
	if w.blocker == nil {
		w.blocker = f
		w.absorbed = absorb
	}
	for j := i + 1; j < len(w.stages); j++ {
		if w.stages[j].f.action.IsCallout() {
			w.d.stage(w.stages[j].f.id).missed += len(data)
		}
	}
	if !absorb && w.l.Twin != nil && w.l.Twin.Discard {
		dc := *w.c
		dc.stream = &callout.StreamPacket{Flags: w.flags, Data: data}
		dc.discard = &callout.DiscardReason{Module: callout.DiscardModuleGeneral, Reason: callout.GeneralDiscardReasonFirewallPolicy, FilterID: f.id}
		w.s.classifyOnly(w.res, w.l.Twin, &dc, "discard: stream data blocked by filter "+quoteName(f.name))
	}
}

// step records one evaluation of a filter as a Step shaped like an ordinary
// classification: the filter's sublayer is the only one with a result.
func (w *streamWalk) step(ref stageRef, action wfp.ActionType, absorb bool, note, outcome string, calloutName *string) {
	f := ref.f
	d := Decision{Layer: w.l, Action: wfp.ActionPermit, FilterID: f.id, FilterName: f.name}
	sr := SublayerResult{Sublayer: ref.cs.key, Name: ref.cs.name, Weight: ref.cs.weight}
	if action == wfp.ActionPermit || action == wfp.ActionBlock {
		d.Action, d.Decided, d.Hard, d.Absorb = action, true, true, absorb
		sr.Action, sr.Hard, sr.FilterID, sr.FilterName = action, true, f.id, f.name
	}
	d.Sublayers = []SublayerResult{sr}
	step := Step{Layer: w.l, Decision: d, Note: note}
	if w.s.opts.Trace {
		tr := &Trace{}
		tr.begin(&Request{Layer: w.l, Values: w.values}, w.snap)
		ts := tr.sublayer(ref.cs)
		tf := ts.filter(f)
		tf.Matched = true
		if calloutName != nil {
			tf.callout(*calloutName, true, outcome)
		} else {
			tf.set(outcome)
		}
		ts.Result = sr
		switch action {
		case wfp.ActionPermit:
			ts.Effect = "the bytes flow on to the next sublayer (stream waterfall, rule A10)"
		case wfp.ActionBlock:
			ts.Effect = "the bytes leave the stream for good (rule A10)"
		}
		tr.Decision = d
		step.Trace = tr
	}
	w.res.Steps = append(w.res.Steps, step)
	if d.Decided {
		req := Request{Layer: w.l, Values: w.values}
		w.s.e.recordEvent(w.cl, &req, &d)
	}
}

// finish writes the walk's outcome into the result and reports whether the segment
// goes on.
func (w *streamWalk) finish() bool {
	w.flushInjections(stageRef{})
	if n := len(w.s.streamWalks); n > 0 && w.s.streamWalks[n-1] == w {
		w.s.streamWalks = w.s.streamWalks[:n-1]
	}
	res := w.res
	setBlock := func(f *cfilter) {
		res.Verdict, res.DroppedAt = wfp.ActionBlock, w.l
		if f != nil {
			res.FilterID, res.FilterName = f.id, f.name
		}
		res.Absorbed = w.absorbed
	}
	switch {
	case w.dropped:
		setBlock(w.dropper)
		res.Reason = fmt.Sprintf("stream: filter %q dropped the connection (STREAM_ACTION_DROP_CONNECTION)", w.dropper.name)
		w.s.endFlow(w.fl, "a stream callout dropped the connection")
		return false
	case w.passed > 0:
		switch {
		case w.blocked > 0 && w.injectedBytes > 0:
			res.Reason = fmt.Sprintf("stream: %d bytes delivered (%d of them injected by a callout), %d blocked by filter %q", w.passed, w.injectedBytes, w.blocked, w.blocker.name)
		case w.blocked > 0:
			res.Reason = fmt.Sprintf("stream: %d bytes delivered, %d blocked by filter %q", w.passed, w.blocked, w.blocker.name)
		case w.injectedBytes > 0:
			res.Reason = fmt.Sprintf("stream: %d bytes delivered (%d of them injected by a callout)", w.passed, w.injectedBytes)
		}
		return true
	case w.blocked > 0:
		setBlock(w.blocker)
		res.Reason = fmt.Sprintf("stream data blocked by filter %q: the bytes leave the stream for good (rule A10)", w.blocker.name)
		if w.absorbed {
			res.Reason += ", absorbed (rule A11)"
		}
		return false
	case w.held > 0 && w.deferred:
		res.Pending = true
		res.Reason = "stream paused: a callout deferred it (DEFER) until StreamContinue"
		return false
	case w.held > 0:
		res.Pending = true
		res.Reason = "stream data held: a callout asked for more (NEED_MORE_DATA)"
		return false
	}
	return true
}

// streamCtx is a copy of c whose layer data is the stream packet.
func (s *Stack) streamCtx(c *classifyCtx, sp *callout.StreamPacket) *classifyCtx {
	sc := *c
	sc.stream = sp
	return &sc
}

// streamNotes are the notes of the common segment sizes, made once: a step's note is
// written for every segment of every flow, and a segment is rarely bigger.
var streamNotes = sync.OnceValue(func() []string {
	notes := make([]string, 2049)
	for n := range notes {
		notes[n] = "stream data: " + strconv.Itoa(n) + " bytes"
	}
	return notes
})

// streamNote is the note of a stream layer step offered n bytes.
func streamNote(n int) string {
	if notes := streamNotes(); n < len(notes) {
		return notes[n]
	}
	return "stream data: " + strconv.Itoa(n) + " bytes"
}

// seesMidStream reports whether a stream callout's filter applies to a flow: always
// when the filter was there when the flow's stream began, else only when the callout
// was registered with FWP_CALLOUT_FLAG_ALLOW_MID_STREAM_INSPECTION (rule D11).
func seesMidStream(code callout.Callout, f *cfilter, fl *Flow) bool {
	if fl == nil || fl.streamFrom == 0 || f.id < fl.streamFrom {
		return true
	}
	flagged, ok := code.(callout.Flagged)
	return ok && flagged.RegisterFlags()&callout.FlagAllowMidStreamInspection != 0
}
