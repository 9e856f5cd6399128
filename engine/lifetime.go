package engine

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// Endpoint lifetime (rule C8). Every RESOURCE_ASSIGNMENT indication is matched by a
// RESOURCE_RELEASE when the endpoint goes: an implicit bind, or a socket of the host
// that connects (TCP, not listening), when its last flow ends; a blocked bind at
// once; a listening socket or a UDP socket of the host when the stack closes. A TCP
// connection indicated at ALE_AUTH_CONNECT or ALE_AUTH_RECV_ACCEPT is indicated at
// ALE_ENDPOINT_CLOSURE when its flow ends; another endpoint (UDP, a listening TCP
// socket) once, when it is released, before RESOURCE_RELEASE. The
// TRANSPORT_ENDPOINT_HANDLE metadata field carries the same handle at both ends, and
// an accepted connection's PARENT_ENDPOINT_HANDLE is its listener's.
//
// When exactly Windows indicates the closure of a connection is undocumented; wfpsim
// does it when the flow ends (RST, the last ACK after both FINs, idle timeout,
// eviction, the stack closing), after the layers of the packet that ended it, in that
// packet's walk; a blocked connect is closed at once. Neither layer can drop
// anything: their decisions are recorded, not enforced.

// newHandle numbers a new endpoint.
func (s *Stack) newHandle() uint64 {
	s.handles++
	return s.handles
}

// flowHandles gives a new flow its endpoint handles: its local endpoint's, or for an
// accepted TCP connection a new one whose parent is the listening socket's.
func (s *Stack) flowHandles(f *Flow) {
	var bound uint64
	if ep := s.endpointOf(f.key.proto, f.key.local); ep != nil {
		bound = ep.handle
	}
	f.handle = bound
	if f.key.proto == 6 && (f.Direction == wfp.DirectionInbound || bound == 0) {
		// An accepted connection is an endpoint of its own; so is a connection of a
		// socket bound before the simulation started.
		f.handle, f.parent = s.newHandle(), bound
	}
}

// endpointOf finds the endpoint bound to local: at its address, else a wildcard
// bind of the port.
func (s *Stack) endpointOf(proto uint8, local netip.AddrPort) *endpoint {
	if ep := s.endpoints[flowKey{proto: proto, local: local}]; ep != nil {
		return ep
	}
	any4 := netip.AddrPortFrom(netip.IPv4Unspecified(), local.Port())
	if local.Addr().Unmap().Is4() {
		if ep := s.endpoints[flowKey{proto: proto, local: any4}]; ep != nil {
			return ep
		}
	}
	return s.endpoints[flowKey{proto: proto, local: netip.AddrPortFrom(netip.IPv6Unspecified(), local.Port())}]
}

// flowCtx is the classification context of a flow's end: its 5-tuple, process and
// endpoint handles, no packet.
func (s *Stack) flowCtx(f *Flow) *classifyCtx {
	c := &classifyCtx{dir: f.Direction, connDir: f.Direction, local: f.key.local.Addr(), remote: f.key.remote.Addr(),
		lport: f.key.local.Port(), rport: f.key.remote.Port(), proto: f.key.proto, iface: f.iface}
	if f.loopback {
		c.flags |= flagIsLoopback
	}
	return c.withFlow(f)
}

// endpointCtx is the classification context of an endpoint: its local address and
// port, its socket's process, its handle.
func (s *Stack) endpointCtx(ep *endpoint) *classifyCtx {
	c := &classifyCtx{dir: wfp.DirectionOutbound, connDir: wfp.DirectionOutbound, local: ep.key.local.Addr(),
		lport: ep.key.local.Port(), proto: ep.key.proto, handle: ep.handle}
	c.iface, _ = s.host.interfaceOf(c.local)
	if ep.sock == nil {
		c.flags |= flagImplicitBind
	} else if o := s.ownerOf(ep.sock.PID); o != nil {
		c.proc, c.appID = o.proc, o.appID
	}
	return c
}

// closeEndpoint indicates ALE_ENDPOINT_CLOSURE.
func (s *Stack) closeEndpoint(c *classifyCtx, why string) {
	s.lifetime(addrLayer(layers.ALEEndpointClosureV4, layers.ALEEndpointClosureV6, c.local), c, "endpoint closure: "+why+" (rule C8)")
}

// release ends an endpoint: ALE_ENDPOINT_CLOSURE for one that is not a TCP
// connection's (a UDP socket, a listening TCP socket), then ALE_RESOURCE_RELEASE.
func (s *Stack) release(ep *endpoint, why string) {
	if ep.released {
		return
	}
	ep.released = true
	c := s.endpointCtx(ep)
	if !ep.blocked && (ep.key.proto != 6 || (ep.sock != nil && ep.sock.Listen)) {
		s.closeEndpoint(c, why)
	}
	s.lifetime(addrLayer(layers.ALEResourceReleaseV4, layers.ALEResourceReleaseV6, c.local), c, "resource release: "+why+" (rule C8)")
}

// releaseAll releases every endpoint still bound, in the order they were bound.
func (s *Stack) releaseAll(why string) {
	eps := make([]*endpoint, 0, len(s.endpoints))
	for _, ep := range s.endpoints {
		if !ep.released {
			eps = append(eps, ep)
		}
	}
	slices.SortFunc(eps, func(a, b *endpoint) int { return cmp.Compare(a.handle, b.handle) })
	for _, ep := range eps {
		s.release(ep, why)
	}
}

// lifetimeStep is an endpoint lifetime classification waiting for the end of the walk
// that caused it.
type lifetimeStep struct {
	layer *layers.Layer
	ctx   *classifyCtx
	note  string
}

// lifetime classifies at an endpoint lifetime layer: at the end of the walk of the
// packet being handled, after its own layers (see walking); between packets (an idle
// timeout, Close) at once, with the steps only noted in the stack's log when a filter
// decided, but the callouts called all the same.
func (s *Stack) lifetime(l *layers.Layer, c *classifyCtx, note string) {
	if s.cur != nil {
		s.ends = append(s.ends, lifetimeStep{l, c, note})
		return
	}
	s.spare.Steps = s.spare.Steps[:0]
	if d := s.classifyOnly(&s.spare, l, c, note); d.Decided {
		s.note(fmt.Sprintf("%s: %s decided %s by filter %q", note, l.Name, d.Action.ShortName(), d.FilterName))
	}
}

// endpointHandleLayers are the layers that carry TRANSPORT_ENDPOINT_HANDLE
// (layer_metadata.tsv).
var endpointHandleLayers = sync.OnceValue(func() map[*layers.Layer]bool {
	out := map[*layers.Layer]bool{}
	for _, l := range layers.Layers() {
		if slices.Contains(l.Metadata, "FWPS_METADATA_FIELD_TRANSPORT_ENDPOINT_HANDLE") {
			out[l] = true
		}
	}
	return out
})
