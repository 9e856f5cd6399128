package fwpm

import (
	"fmt"
	"net/netip"
	"unsafe"

	"github.com/wfpsim/wfpsim/wfp"
)

// DecodeNetEvent copies an FWPM_NET_EVENT0 into the Go heap. Version 0 of the event
// carries, for a classify drop, only the filter id and the layer id
// (FWPM_NET_EVENT_CLASSIFY_DROP0): direction, loopback and the per-sublayer
// terminating filters arrived in later versions and stay zero here. Other event types
// (IKE and IPsec failures) keep their header and type only.
func DecodeNetEvent(e *NetEvent0) (wfp.NetEvent, error) {
	h := &e.Header
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
			return out, fmt.Errorf("fwpm: a classify-drop net event without its FWPM_NET_EVENT_CLASSIFY_DROP0: %w", wfp.ErrNullPointer)
		}
		d := (*NetEventClassifyDrop0)(e.Event)
		out.FilterID = wfp.FilterID(d.FilterID)
		out.LayerID = wfp.LayerID(d.LayerID)
	}
	return out, nil
}
