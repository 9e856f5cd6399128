package engine

import (
	"net/netip"
	"strings"
	"sync"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// classifyCtx is everything the stack knows when it classifies at a layer; values
// turns it into the layer's incoming values.
type classifyCtx struct {
	pkt           *Packet
	dir           wfp.Direction // the packet's direction
	connDir       wfp.Direction // the flow's direction (its first packet's, rule D1)
	local, remote netip.Addr
	lport, rport  uint16
	proto         uint8
	iface         *Interface // the local interface: arrival inbound, next hop outbound
	outIface      *Interface // forwarding: the egress interface
	flags         uint32
	reauthReason  uint32
	proc          *Process
	appID         wfp.ByteBlob
	flow          *Flow
	discard       *callout.DiscardReason
	stream        *callout.StreamPacket // layer data at the stream layer
	// handle and parent are the endpoint handles of rule C8 (0: none).
	handle, parent uint64
}

// NL_ADDRESS_TYPE values (nldef.h) for the *_ADDRESS_TYPE fields.
const (
	nlatUnicast   = 1
	nlatMulticast = 3
	nlatBroadcast = 4
)

// DL_ADDRESS_TYPE values (constants.tsv) for the MAC_*_ADDRESS_TYPE fields.
const (
	dlUnicast   = 0
	dlMulticast = 1
	dlBroadcast = 2
)

// The FWP_CONDITION_FLAG_* bits the stack sets (constants.tsv).
const (
	flagIsLoopback    = 0x1
	flagIsReauthorize = 0x4
	flagIsFragment    = 0x20
	flagImplicitBind  = 0x200
	flagIsReassembled = 0x400
	flagWildcardBind  = 0x8
)

// reauthReasonPolicyChange is FWP_CONDITION_REAUTHORIZE_REASON_POLICY_CHANGE.
const reauthReasonPolicyChange = 0x1

var nullSID = wfp.MustParseSID("S-1-0-0")

// flagMasks holds, per layer, the FWP_CONDITION_FLAG_* bits that can appear in its
// FLAGS field (Layer.ConditionFlags, from condition_flag_layers.tsv).
var flagMasks = func() map[*layers.Layer]uint32 {
	m := map[*layers.Layer]uint32{}
	for _, l := range layers.Layers() {
		var mask uint32
		for _, name := range l.ConditionFlags {
			if c, ok := layers.ConstantByName(name); ok {
				mask |= uint32(c.Value)
			}
		}
		m[l] = mask
	}
	return m
}()

func addrType(a netip.Addr) wfp.Value {
	switch {
	case a.IsMulticast():
		return wfp.Uint8(nlatMulticast)
	case a.Is4() && (a == netip.AddrFrom4([4]byte{255, 255, 255, 255})):
		return wfp.Uint8(nlatBroadcast)
	}
	return wfp.Uint8(nlatUnicast)
}

func macType(m [6]byte) wfp.Value {
	switch {
	case m == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}:
		return wfp.Uint8(dlBroadcast)
	case m[0]&1 != 0:
		return wfp.Uint8(dlMulticast)
	}
	return wfp.Uint8(dlUnicast)
}

// values fills the layer's incoming values from the context, field by field (the
// layer's FWPS_FIELD_* order). A field the stack does not know stays FWP_EMPTY
// (rule B6).
func (c *classifyCtx) values(l *layers.Layer) []wfp.Value {
	return c.valuesInto(l, nil, nil)
}

// valuesInto is values writing into out (reused when large enough) and boxing numbers
// through bx (nil: box afresh).
func (c *classifyCtx) valuesInto(l *layers.Layer, out []wfp.Value, bx *boxCache) []wfp.Value {
	if n := len(l.Fields); cap(out) >= n {
		out = out[:n]
		clear(out)
	} else {
		out = make([]wfp.Value, n)
	}
	inbound := c.dir == wfp.DirectionInbound
	isALE := strings.HasPrefix(l.ShortName, "ALE_")
	kinds := fieldKindsOf(l)
	for i, f := range l.Fields {
		if kinds[i] == kNone {
			continue
		}
		var v wfp.Value
		switch kinds[i] {
		case kIpLocalAddress:
			v = bx.addr(c.local)
		case kIpRemoteAddress:
			v = bx.addr(c.remote)
		case kIpSourceAddress:
			if c.pkt != nil {
				v = bx.addr(c.pkt.Src)
			}
		case kIpDestinationAddress:
			if c.pkt != nil {
				v = bx.addr(c.pkt.Dst)
			}
		case kIpLocalAddressType:
			if c.local.IsValid() {
				v = addrType(c.local)
			}
		case kIpDestinationAddressType:
			if c.pkt != nil && c.pkt.Dst.IsValid() {
				v = addrType(c.pkt.Dst)
			} else if c.remote.IsValid() {
				v = addrType(c.remote)
			}
		case kIpLocalPort: // also ICMP_TYPE (rule B8)
			if c.proto != 0 {
				v = bx.u16(c.lport)
			}
		case kIpRemotePort: // also ICMP_CODE (rule B8)
			if c.proto != 0 {
				v = bx.u16(c.rport)
			}
		case kIpProtocol:
			if c.proto != 0 || c.pkt != nil {
				v = wfp.Uint8(c.proto)
			}
		case kIpLocalInterface:
			if c.iface != nil {
				v = bx.u64(c.iface.LUID)
			}
		case kInterfaceIndex:
			if c.iface != nil {
				v = bx.u32(c.iface.Index)
			}
		case kSubInterfaceIndex:
			if c.iface != nil {
				v = bx.u32(c.iface.Index)
			}
		case kInterfaceType:
			if c.iface != nil {
				v = bx.u32(c.iface.Type)
			}
		case kTunnelType, kArrivalTunnelType, kNexthopTunnelType:
			if c.iface != nil {
				v = bx.u32(0) // TUNNEL_TYPE_NONE
			}
		case kIpArrivalInterface, kIpPhysicalArrivalInterface:
			if inbound && c.iface != nil {
				v = bx.u64(c.iface.LUID)
			}
		case kArrivalInterfaceIndex:
			if inbound && c.iface != nil {
				v = bx.u32(c.iface.Index)
			}
		case kArrivalInterfaceType:
			if inbound && c.iface != nil {
				v = bx.u32(c.iface.Type)
			}
		case kIpNexthopInterface, kIpPhysicalNexthopInterface:
			if nh := c.nextHop(); nh != nil {
				v = bx.u64(nh.LUID)
			}
		case kNexthopInterfaceIndex, kNexthopSubInterfaceIndex:
			if nh := c.nextHop(); nh != nil {
				v = bx.u32(nh.Index)
			}
		case kNexthopInterfaceType:
			if nh := c.nextHop(); nh != nil {
				v = bx.u32(nh.Type)
			}
		case kIpForwardInterface:
			if c.outIface != nil {
				v = bx.u64(c.outIface.LUID)
			}
		case kSourceInterfaceIndex, kSourceSubInterfaceIndex:
			if c.iface != nil {
				v = bx.u32(c.iface.Index)
			}
		case kDestinationInterfaceIndex, kDestinationSubInterfaceIndex:
			if c.outIface != nil {
				v = bx.u32(c.outIface.Index)
			}
		case kFlags:
			// Only the flags condition_flag_layers.tsv lists for this layer: the
			// context carries flags (loopback, fragment) for the whole path.
			v = bx.u32(c.flags & flagMasks[l])
		case kDirection:
			// Rule D3: the connection's direction at FLOW_ESTABLISHED and STREAM, the
			// packet's at DATAGRAM_DATA and STREAM_PACKET.
			if strings.HasPrefix(l.ShortName, "ALE_FLOW_ESTABLISHED") || strings.HasPrefix(l.ShortName, "STREAM_V") {
				v = bx.u32(uint32(c.connDir))
			} else {
				v = bx.u32(uint32(c.dir))
			}
		case kAleAppId, kAleOriginalAppId:
			if c.appID != nil {
				v = c.appID
			}
		case kAleUserId:
			if c.proc != nil && c.proc.User != nil {
				v = wfp.TokenAccessInformation{User: c.proc.User, Groups: c.proc.Groups}
			}
		case kAlePackageId:
			if isALE {
				v = nullSID // not an AppContainer process
			}
		case kAleReauthReason, kReauthorizeReason:
			if c.reauthReason != 0 {
				v = bx.u32(c.reauthReason)
			}
		case kCompartmentId:
			v = bx.u32(1) // the default compartment
		case kInterfaceMacAddress:
			if c.iface != nil {
				v = wfp.ByteArray6(c.iface.MAC)
			}
		case kMacLocalAddress, kMacRemoteAddress, kMacLocalAddressType, kMacRemoteAddressType:
			v = c.macField(f.Condition.Canonical().ShortName) // rare: MAC layers
		case kEtherType:
			if c.pkt != nil && c.pkt.Ethernet {
				v = wfp.Uint16(c.pkt.EtherType)
			}
		case kVlanId:
			if c.pkt != nil && c.pkt.Ethernet {
				v = wfp.Uint16(c.pkt.VLANID)
			}
		case kEmbeddedProtocol, kEmbeddedRemoteAddress, kEmbeddedLocalAddressType, kEmbeddedLocalPort, kEmbeddedRemotePort:
			v = c.embeddedField(f.Condition.Canonical().ShortName) // rare: ICMP errors
		}
		if v != nil && f.TypeKnown && v.Type() != f.Type {
			continue // never hand a callout a value of the wrong type
		}
		out[f.Index] = v
	}
	return out
}

func addrOrNil(a netip.Addr) wfp.Value {
	if !a.IsValid() {
		return nil
	}
	return wfp.AddrValue(a)
}

func (c *classifyCtx) nextHop() *Interface {
	if c.dir == wfp.DirectionOutbound {
		if c.outIface != nil {
			return c.outIface
		}
		return c.iface
	}
	return c.outIface
}

// macField: inbound, the frame's destination is local; outbound, its source.
func (c *classifyCtx) macField(name string) wfp.Value {
	if c.pkt == nil || !c.pkt.Ethernet {
		return nil
	}
	local, remote := c.pkt.MACDst, c.pkt.MACSrc
	if c.dir == wfp.DirectionOutbound {
		local, remote = c.pkt.MACSrc, c.pkt.MACDst
	}
	switch name {
	case "MAC_LOCAL_ADDRESS":
		return wfp.ByteArray6(local)
	case "MAC_REMOTE_ADDRESS":
		return wfp.ByteArray6(remote)
	case "MAC_LOCAL_ADDRESS_TYPE":
		return macType(local)
	}
	return macType(remote)
}

// embeddedField describes the packet an ICMP error quotes, seen from this host: the
// quoted packet was sent by the side that receives the error.
func (c *classifyCtx) embeddedField(name string) wfp.Value {
	if c.pkt == nil || c.pkt.Embedded == nil {
		return nil
	}
	e := c.pkt.Embedded
	local, remote := e.Src, e.Dst
	lport, rport := e.SrcPort, e.DstPort
	if c.dir == wfp.DirectionOutbound { // we quote a packet we received
		local, remote, lport, rport = e.Dst, e.Src, e.DstPort, e.SrcPort
	}
	switch name {
	case "EMBEDDED_PROTOCOL":
		return wfp.Uint8(e.Protocol)
	case "EMBEDDED_REMOTE_ADDRESS":
		return addrOrNil(remote)
	case "EMBEDDED_LOCAL_ADDRESS_TYPE":
		if local.IsValid() {
			return addrType(local)
		}
		return nil
	case "EMBEDDED_LOCAL_PORT":
		return wfp.Uint16(lport)
	}
	return wfp.Uint16(rport)
}

// procPath is the process's NT path for FWPS_METADATA_FIELD_PROCESS_PATH, cached on the
// flow.
func (c *classifyCtx) procPath() string {
	if c.flow != nil && c.flow.owner != nil {
		return c.flow.owner.path
	}
	p, _ := c.appID.UTF16()
	return p
}

// boxCache keeps the interface values of the numbers and addresses the stack hands
// out, so that classifying a packet of an established flow allocates nothing (putting
// a uint16 or an address in an interface allocates). A nil cache boxes afresh. The
// maps are emptied when they grow past boxCacheMax entries.
type boxCache struct {
	w32  map[uint32]wfp.Value
	w64  map[uint64]wfp.Value
	w128 map[[16]byte]wfp.Value
}

const boxCacheMax = 1 << 16

// boxedPorts holds every FWP_UINT16 value boxed once, shared by all stacks (values
// are immutable); built on first use.
var boxedPorts = sync.OnceValue(func() *[1 << 16]wfp.Value {
	var t [1 << 16]wfp.Value
	for i := range t {
		t[i] = wfp.Uint16(i)
	}
	return &t
})

func (b *boxCache) u16(v uint16) wfp.Value {
	if b == nil {
		return wfp.Uint16(v)
	}
	return boxedPorts()[v]
}

func (b *boxCache) u32(v uint32) wfp.Value {
	if b == nil {
		return wfp.Uint32(v)
	}
	x, ok := b.w32[v]
	if !ok {
		if b.w32 == nil || len(b.w32) >= boxCacheMax {
			b.w32 = map[uint32]wfp.Value{}
		}
		x = wfp.Uint32(v)
		b.w32[v] = x
	}
	return x
}

func (b *boxCache) u64(v uint64) wfp.Value {
	if b == nil {
		return wfp.Uint64(v)
	}
	x, ok := b.w64[v]
	if !ok {
		if b.w64 == nil || len(b.w64) >= boxCacheMax {
			b.w64 = map[uint64]wfp.Value{}
		}
		x = wfp.Uint64(v)
		b.w64[v] = x
	}
	return x
}

// addr boxes an address as its incoming value (UINT32 or BYTE_ARRAY16); nil when
// the address is not set.
func (b *boxCache) addr(a netip.Addr) wfp.Value {
	if !a.IsValid() {
		return nil
	}
	a = a.Unmap()
	if a.Is4() {
		return b.u32(uint32(wfp.V4FromAddr(a)))
	}
	if b == nil {
		return wfp.V6FromAddr(a)
	}
	k := a.As16()
	x, ok := b.w128[k]
	if !ok {
		if b.w128 == nil || len(b.w128) >= boxCacheMax {
			b.w128 = map[[16]byte]wfp.Value{}
		}
		x = wfp.ByteArray16(k)
		b.w128[k] = x
	}
	return x
}

// fieldKind names the incoming fields the stack fills, so that filling a layer's
// values switches on small numbers, not on condition names.
type fieldKind uint8

const (
	kNone fieldKind = iota
	kIpLocalAddress
	kIpRemoteAddress
	kIpSourceAddress
	kIpDestinationAddress
	kIpLocalAddressType
	kIpDestinationAddressType
	kIpLocalPort
	kIpRemotePort
	kIpProtocol
	kIpLocalInterface
	kInterfaceIndex
	kSubInterfaceIndex
	kInterfaceType
	kTunnelType
	kArrivalTunnelType
	kNexthopTunnelType
	kIpArrivalInterface
	kIpPhysicalArrivalInterface
	kArrivalInterfaceIndex
	kArrivalInterfaceType
	kIpNexthopInterface
	kIpPhysicalNexthopInterface
	kNexthopInterfaceIndex
	kNexthopSubInterfaceIndex
	kNexthopInterfaceType
	kIpForwardInterface
	kSourceInterfaceIndex
	kSourceSubInterfaceIndex
	kDestinationInterfaceIndex
	kDestinationSubInterfaceIndex
	kFlags
	kDirection
	kAleAppId
	kAleOriginalAppId
	kAleUserId
	kAlePackageId
	kAleReauthReason
	kReauthorizeReason
	kCompartmentId
	kInterfaceMacAddress
	kMacLocalAddress
	kMacRemoteAddress
	kMacLocalAddressType
	kMacRemoteAddressType
	kEtherType
	kVlanId
	kEmbeddedProtocol
	kEmbeddedRemoteAddress
	kEmbeddedLocalAddressType
	kEmbeddedLocalPort
	kEmbeddedRemotePort
)

var fieldKindByName = map[string]fieldKind{
	"IP_LOCAL_ADDRESS":                kIpLocalAddress,
	"IP_REMOTE_ADDRESS":               kIpRemoteAddress,
	"IP_SOURCE_ADDRESS":               kIpSourceAddress,
	"IP_DESTINATION_ADDRESS":          kIpDestinationAddress,
	"IP_LOCAL_ADDRESS_TYPE":           kIpLocalAddressType,
	"IP_DESTINATION_ADDRESS_TYPE":     kIpDestinationAddressType,
	"IP_LOCAL_PORT":                   kIpLocalPort,
	"IP_REMOTE_PORT":                  kIpRemotePort,
	"IP_PROTOCOL":                     kIpProtocol,
	"IP_LOCAL_INTERFACE":              kIpLocalInterface,
	"INTERFACE_INDEX":                 kInterfaceIndex,
	"SUB_INTERFACE_INDEX":             kSubInterfaceIndex,
	"INTERFACE_TYPE":                  kInterfaceType,
	"TUNNEL_TYPE":                     kTunnelType,
	"ARRIVAL_TUNNEL_TYPE":             kArrivalTunnelType,
	"NEXTHOP_TUNNEL_TYPE":             kNexthopTunnelType,
	"IP_ARRIVAL_INTERFACE":            kIpArrivalInterface,
	"IP_PHYSICAL_ARRIVAL_INTERFACE":   kIpPhysicalArrivalInterface,
	"ARRIVAL_INTERFACE_INDEX":         kArrivalInterfaceIndex,
	"ARRIVAL_INTERFACE_TYPE":          kArrivalInterfaceType,
	"IP_NEXTHOP_INTERFACE":            kIpNexthopInterface,
	"IP_PHYSICAL_NEXTHOP_INTERFACE":   kIpPhysicalNexthopInterface,
	"NEXTHOP_INTERFACE_INDEX":         kNexthopInterfaceIndex,
	"NEXTHOP_SUB_INTERFACE_INDEX":     kNexthopSubInterfaceIndex,
	"NEXTHOP_INTERFACE_TYPE":          kNexthopInterfaceType,
	"IP_FORWARD_INTERFACE":            kIpForwardInterface,
	"SOURCE_INTERFACE_INDEX":          kSourceInterfaceIndex,
	"SOURCE_SUB_INTERFACE_INDEX":      kSourceSubInterfaceIndex,
	"DESTINATION_INTERFACE_INDEX":     kDestinationInterfaceIndex,
	"DESTINATION_SUB_INTERFACE_INDEX": kDestinationSubInterfaceIndex,
	"FLAGS":                           kFlags,
	"DIRECTION":                       kDirection,
	"ALE_APP_ID":                      kAleAppId,
	"ALE_ORIGINAL_APP_ID":             kAleOriginalAppId,
	"ALE_USER_ID":                     kAleUserId,
	"ALE_PACKAGE_ID":                  kAlePackageId,
	"ALE_REAUTH_REASON":               kAleReauthReason,
	"REAUTHORIZE_REASON":              kReauthorizeReason,
	"COMPARTMENT_ID":                  kCompartmentId,
	"INTERFACE_MAC_ADDRESS":           kInterfaceMacAddress,
	"MAC_LOCAL_ADDRESS":               kMacLocalAddress,
	"MAC_REMOTE_ADDRESS":              kMacRemoteAddress,
	"MAC_LOCAL_ADDRESS_TYPE":          kMacLocalAddressType,
	"MAC_REMOTE_ADDRESS_TYPE":         kMacRemoteAddressType,
	"ETHER_TYPE":                      kEtherType,
	"VLAN_ID":                         kVlanId,
	"EMBEDDED_PROTOCOL":               kEmbeddedProtocol,
	"EMBEDDED_REMOTE_ADDRESS":         kEmbeddedRemoteAddress,
	"EMBEDDED_LOCAL_ADDRESS_TYPE":     kEmbeddedLocalAddressType,
	"EMBEDDED_LOCAL_PORT":             kEmbeddedLocalPort,
	"EMBEDDED_REMOTE_PORT":            kEmbeddedRemotePort,
}

// fieldKindsOf returns, for each field of the layer, what the stack fills it with
// (kNone: nothing, the field stays FWP_EMPTY). Computed once for every layer.
func fieldKindsOf(l *layers.Layer) []fieldKind {
	if ks, ok := layerFieldKinds()[l]; ok {
		return ks
	}
	ks := make([]fieldKind, len(l.Fields)) // a layer value not from the catalogue
	for i, f := range l.Fields {
		if f.Condition != nil {
			ks[i] = fieldKindByName[f.Condition.Canonical().ShortName]
		}
	}
	return ks
}

var layerFieldKinds = sync.OnceValue(func() map[*layers.Layer][]fieldKind {
	m := map[*layers.Layer][]fieldKind{}
	for _, l := range layers.Layers() {
		ks := make([]fieldKind, len(l.Fields))
		for i, f := range l.Fields {
			if f.Condition != nil {
				ks[i] = fieldKindByName[f.Condition.Canonical().ShortName]
			}
		}
		m[l] = ks
	}
	return m
})
