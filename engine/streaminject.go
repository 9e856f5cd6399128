package engine

import (
	"fmt"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// Stream injection (FwpsStreamInjectAsync0, rule D5): a stream callout that blocks
// bytes may put others in their place. The injected data enters the flow's stream
// in the direction it names, just below the injecting callout's filter: the filters
// of lower-weight sublayers see it, the injector does not see it again. Then it goes
// on as the stream's own bytes would (sent, or delivered to the application).
//
// An injection a callout makes while it is being called on that flow's stream in
// that direction is offered as soon as its classifyFn returns, before the rest of
// the bytes in hand, so "permit n, block p and inject p', permit m" (an inline
// editor with countBytesEnforced) keeps the stream in order: n, p', m. Made at any
// other time, it runs at once as a walk of its own, recorded in Stack.Injections.

// streamInjection is an injection waiting for its injector's classifyFn to return.
type streamInjection struct {
	req  callout.StreamInjectRequest
	flow *Flow
	recv bool
}

// StreamInject implements callout.Kernel (FwpsStreamInjectAsync0).
func (s *Stack) StreamInject(req callout.StreamInjectRequest) error {
	f := s.flows.byID[req.FlowID]
	if f == nil || f.State == FlowClosed {
		return fmt.Errorf("engine: stream inject: flow %d does not exist (STATUS_NOT_FOUND): %w", req.FlowID, wfp.ErrNotFound)
	}
	if f.key.proto != 6 {
		return fmt.Errorf("engine: stream inject: flow %d is not TCP: %w", req.FlowID, wfp.ErrInvalidParameter)
	}
	l := addrLayer(layers.StreamV4, layers.StreamV6, f.key.local.Addr())
	if req.LayerID != l.ID {
		return fmt.Errorf("engine: stream inject: layer %d is not flow %d's stream layer %s (%d): %w", req.LayerID, req.FlowID, l.Name, l.ID, wfp.ErrInvalidParameter)
	}
	send, recv := req.Flags&callout.StreamFlagSend != 0, req.Flags&callout.StreamFlagReceive != 0
	if send == recv {
		return fmt.Errorf("engine: stream inject: the flags must hold exactly one of FWPS_STREAM_FLAG_SEND and FWPS_STREAM_FLAG_RECEIVE: %w", wfp.ErrInvalidParameter)
	}
	if len(req.Data) == 0 {
		return fmt.Errorf("engine: stream inject: no data: %w", wfp.ErrInvalidParameter)
	}
	req.Data = append([]byte(nil), req.Data...) // the caller may reuse its buffer
	inj := streamInjection{req: req, flow: f, recv: recv}
	for i := len(s.streamWalks) - 1; i >= 0; i-- {
		if w := s.streamWalks[i]; w.fl == f && w.inbound() == recv {
			s.pendingInjections = append(s.pendingInjections, inj)
			return nil
		}
	}
	// Outside a walk of that stream: a walk of its own.
	dir := wfp.DirectionOutbound
	if recv {
		dir = wfp.DirectionInbound
	}
	c := s.flowCtx(f)
	c.dir = dir
	res := &Result{Number: s.packets, Direction: dir, Verdict: wfp.ActionPermit, Flow: f}
	defer s.walking(res)()
	w := s.newStreamWalk(res, f, c, l, req.Flags&(callout.StreamFlagSend|callout.StreamFlagReceive), false)
	w.d = f.stream[streamIndex(dir)].dir()
	i := w.injectorStage(req.CalloutID)
	if i < 0 {
		return fmt.Errorf("engine: stream inject: callout %d has no filter on flow %d's stream: %w", req.CalloutID, req.FlowID, wfp.ErrInvalidParameter)
	}
	s.streamWalks = append(s.streamWalks, w)
	w.inject(w.stages[i], req)
	w.finish()
	s.injected = append(s.injected, Injected{Stream: &req, Result: res})
	return nil
}

// inbound reports whether the walk is the receive direction of its flow's stream.
func (w *streamWalk) inbound() bool { return w.flags&callout.StreamFlagReceive != 0 }

// injectorStage is the index of the stage whose filter calls callout id, -1 when
// none of the walk's filters does.
func (w *streamWalk) injectorStage(id wfp.CalloutID) int {
	for i, ref := range w.stages {
		if ref.f.action.IsCallout() && ref.f.kernel.CalloutID == id {
			return i
		}
	}
	return -1
}

// inject offers injected data below the injector's stage, with a step saying so.
func (w *streamWalk) inject(ref stageRef, req callout.StreamInjectRequest) {
	name := w.snap.calloutNames[ref.f.callout]
	w.step(ref, 0, false, fmt.Sprintf("callout %q injected %d bytes (FwpsStreamInjectAsync0): offered to the filters below it, not to itself (rule D5)", name, len(req.Data)), "stream inject", &name)
	w.injectedBytes += len(req.Data)
	w.offer(ref.next, req.Data)
}

// flushInjections offers the injections made by the callout of stage ref during the
// classifyFn that just returned; with ref.f nil, every injection still waiting for
// this walk (its injector answered in a way that returned early).
func (w *streamWalk) flushInjections(ref stageRef) {
	s := w.s
	kept := s.pendingInjections[:0]
	var mine []streamInjection
	for _, inj := range s.pendingInjections {
		if inj.flow == w.fl && inj.recv == w.inbound() && (ref.f == nil || inj.req.CalloutID == ref.f.kernel.CalloutID) {
			mine = append(mine, inj)
		} else {
			kept = append(kept, inj)
		}
	}
	s.pendingInjections = kept
	for _, inj := range mine {
		at := ref
		if ref.f == nil {
			i := w.injectorStage(inj.req.CalloutID)
			if i < 0 {
				continue // the callout has no filter here: nothing to inject below
			}
			at = w.stages[i]
		}
		w.inject(at, inj.req)
	}
}
