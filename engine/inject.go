package engine

import (
	"fmt"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// maxInjectionDepth bounds injections made while classifying an injected packet: a
// callout that re-injects everything it sees would otherwise loop forever.
const maxInjectionDepth = 8

// Injected records one injection and what became of the packet: Request for a
// packet injection (FwpsInject*), Stream for stream data injected outside a walk
// of its stream (FwpsStreamInjectAsync0).
type Injected struct {
	Request callout.InjectRequest
	Stream  *callout.StreamInjectRequest
	Result  *Result
}

// Inject implements callout.Kernel: the packet (a whole IP packet, for every kind)
// re-enters the stack where its kind says and walks the layers from there: network
// send at OUTBOUND_IPPACKET, transport send at OUTBOUND_TRANSPORT (below the stream
// and datagram layers, so a stream callout does not see its rewritten data again),
// network receive at INBOUND_IPPACKET, transport receive at INBOUND_TRANSPORT.
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
	res := new(Result)
	defer s.walking(res)()
	switch req.Kind {
	case callout.InjectNetworkSend, callout.InjectTransportSend:
		// A send injection enters below the stream and datagram layers: at the
		// transport layer (transport send) or at the IP packet layer (network send).
		s.begin(res, p, wfp.DirectionOutbound)
		iface := s.host.routeFrom(p.Src, p.Dst)
		c := s.ctxFor(p, wfp.DirectionOutbound, iface)
		if req.Kind == callout.InjectTransportSend && !s.classify(res, layer(layers.OutboundTransportV4, layers.OutboundTransportV6, p), c, "injected (transport send)") {
			break
		}
		s.sendNetwork(res, iface, p, c)
	case callout.InjectNetworkReceive, callout.InjectTransportReceive:
		idx := req.Interface
		if idx == 0 {
			if i, ok := s.host.interfaceOf(p.Dst); ok {
				idx = i.Index
			}
		}
		if req.Kind == callout.InjectNetworkReceive {
			s.ReceiveInto(idx, p, res)
			break
		}
		// A transport receive injection enters at the transport layer.
		iface, ok := s.host.iface(idx)
		if !ok {
			return fmt.Errorf("engine: inject: the host has no interface with index %d: %w", idx, wfp.ErrInvalidParameter)
		}
		s.begin(res, p, wfp.DirectionInbound)
		s.receiveTransport(res, iface, p, 0)
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
