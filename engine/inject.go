package engine

import (
	"fmt"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/wfp"
)

// maxInjectionDepth bounds injections made while classifying an injected packet: a
// callout that re-injects everything it sees would otherwise loop forever.
const maxInjectionDepth = 8

// Injected records one injection and what became of the packet.
type Injected struct {
	Request callout.InjectRequest
	Result  *Result
}

// Inject implements callout.Kernel: the packet re-enters the stack where its kind
// says (FwpsInjectTransportSendAsync0 and friends) and walks the layers from there.
// An injection made while an injected packet is being classified deeper than
// maxInjectionDepth fails with a clear error instead of looping.
func (s *Stack) Inject(req callout.InjectRequest) error {
	if s.injecting >= maxInjectionDepth {
		return fmt.Errorf("engine: inject: %d nested injections: a callout is re-injecting the packets it injects (check the injection handle with InjectedBy): %w",
			maxInjectionDepth, wfp.ErrInvalidParameter)
	}
	p, err := DecodeIP(req.Packet)
	if err != nil {
		return fmt.Errorf("engine: inject: %w", err)
	}
	p.Time = s.now
	p.InjectedBy = req.Handle
	s.injecting++
	defer func() { s.injecting-- }()
	var res *Result
	switch req.Kind {
	case callout.InjectNetworkSend, callout.InjectTransportSend:
		res = s.Send(p)
	case callout.InjectNetworkReceive, callout.InjectTransportReceive:
		idx := req.Interface
		if idx == 0 {
			if i, ok := s.host.interfaceOf(p.Dst); ok {
				idx = i.Index
			}
		}
		res = s.Receive(idx, p)
	default:
		return fmt.Errorf("engine: inject: unknown injection kind %d: %w", req.Kind, wfp.ErrInvalidParameter)
	}
	s.injected = append(s.injected, Injected{Request: req, Result: res})
	return nil
}

// Injections returns what callouts injected, in order, and clears the list.
func (s *Stack) Injections() []Injected {
	out := s.injected
	s.injected = nil
	return out
}
