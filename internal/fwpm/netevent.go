package fwpm

import (
	"fmt"
	"net/netip"
	"unsafe"

	"github.com/wfpsim/wfpsim/wfp"
)

// DecodeNetEvent copies an FWPM_NET_EVENT1 into the Go heap. For a classify drop
// (FWPM_NET_EVENT_CLASSIFY_DROP1) that is the filter and layer ids, the direction and
// whether the packet was loopback; version 1 has no per-sublayer terminating
// filters (they came with FWPM_NET_EVENT_CLASSIFY_DROP2's successors), so
// Terminating stays empty. Other event types (IKE and IPsec failures) keep their
// header and type only.
func DecodeNetEvent(e *NetEvent1) (wfp.NetEvent, error) {
	h := &e.Header.NetEventHeader0
	out := wfp.NetEvent{Type: wfp.NetEventType(e.Type)}
	out.Header.TimeStamp = h.TimeStamp.Time()
	if h.Flags&NetEventFlagIPProtocolSet != 0 {
		out.Header.IPProtocol = h.IPProtocol
	}
	v6 := h.Flags&NetEventFlagIPVersionSet != 0 && h.IPVersion == IPVersionV6
	addr := func(b *[16]byte) netip.Addr {
		if v6 {
			return netip.AddrFrom16(*b)
		}
		// localAddrV4: a UINT32 in host order (rule B7), little-endian in memory.
		return wfp.V4ToAddr(*(*uint32)(unsafe.Pointer(&b[0])))
	}
	if h.Flags&NetEventFlagLocalAddrSet != 0 {
		out.Header.LocalAddr = addr(&h.LocalAddr)
	}
	if h.Flags&NetEventFlagRemoteAddrSet != 0 {
		out.Header.RemoteAddr = addr(&h.RemoteAddr)
	}
	if h.Flags&NetEventFlagLocalPortSet != 0 {
		out.Header.LocalPort = h.LocalPort
	}
	if h.Flags&NetEventFlagRemotePortSet != 0 {
		out.Header.RemotePort = h.RemotePort
	}
	if h.Flags&NetEventFlagAppIDSet != 0 {
		out.Header.AppID = wfp.ByteBlob(BlobBytes(h.AppID))
	}
	if h.Flags&NetEventFlagUserIDSet != 0 && h.UserID != nil {
		s, err := SIDBytes(h.UserID)
		if err != nil {
			return out, fmt.Errorf("fwpm: net event user id: %w", err)
		}
		out.Header.UserID = s
	}
	if out.Type == wfp.NetEventClassifyDrop {
		if e.Event == nil {
			return out, fmt.Errorf("fwpm: a classify-drop net event without its FWPM_NET_EVENT_CLASSIFY_DROP1: %w", wfp.ErrNullPointer)
		}
		d := (*NetEventClassifyDrop1)(e.Event)
		out.FilterID = wfp.FilterID(d.FilterID)
		out.LayerID = wfp.LayerID(d.LayerID)
		out.Loopback = d.IsLoopback != 0
		switch d.MsFwpDirection {
		case MsFwpDirectionOut, uint32(wfp.DirectionOutbound):
			out.Direction = wfp.DirectionOutbound
		case MsFwpDirectionIn, uint32(wfp.DirectionInbound):
			out.Direction = wfp.DirectionInbound
		case MsFwpDirectionForward:
			// wfp.Direction has no forward: a forwarded packet came in on an
			// interface, so wfpsim says inbound (undocumented; rule C15).
			out.Direction = wfp.DirectionInbound
		default:
			return out, fmt.Errorf("fwpm: a classify-drop net event with direction 0x%x (want 0x3900-0x3902, 0 or 1): %w", d.MsFwpDirection, wfp.ErrInvalidParameter)
		}
	}
	return out, nil
}

// EncodeNetEventSubscription writes the FWPM_NET_EVENT_SUBSCRIPTION0 of a subscription
// to every net event, from any session: no enum template, no flags, a zero session
// key.
func EncodeNetEventSubscription(a *Arena) (*NetEventSubscription0, error) {
	return alloc[NetEventSubscription0](a)
}
