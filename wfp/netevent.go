package wfp

import (
	"fmt"
	"net/netip"
	"time"
)

// NetEventType is FWPM_NET_EVENT_TYPE (rule E8).
type NetEventType uint32

const (
	NetEventIKEEXTMMFailure  NetEventType = 0
	NetEventIKEEXTQMFailure  NetEventType = 1
	NetEventIKEEXTEMFailure  NetEventType = 2
	NetEventClassifyDrop     NetEventType = 3
	NetEventIPsecKernelDrop  NetEventType = 4
	NetEventIPsecDoSPDrop    NetEventType = 5
	NetEventClassifyAllow    NetEventType = 6
	NetEventCapabilityDrop   NetEventType = 7
	NetEventCapabilityAllow  NetEventType = 8
	NetEventClassifyDropMAC  NetEventType = 9
	NetEventLPMPacketArrival NetEventType = 10
)

var netEventNames = [...]string{
	"FWPM_NET_EVENT_TYPE_IKEEXT_MM_FAILURE", "FWPM_NET_EVENT_TYPE_IKEEXT_QM_FAILURE",
	"FWPM_NET_EVENT_TYPE_IKEEXT_EM_FAILURE", "FWPM_NET_EVENT_TYPE_CLASSIFY_DROP",
	"FWPM_NET_EVENT_TYPE_IPSEC_KERNEL_DROP", "FWPM_NET_EVENT_TYPE_IPSEC_DOSP_DROP",
	"FWPM_NET_EVENT_TYPE_CLASSIFY_ALLOW", "FWPM_NET_EVENT_TYPE_CAPABILITY_DROP",
	"FWPM_NET_EVENT_TYPE_CAPABILITY_ALLOW", "FWPM_NET_EVENT_TYPE_CLASSIFY_DROP_MAC",
	"FWPM_NET_EVENT_TYPE_LPM_PACKET_ARRIVAL",
}

func (t NetEventType) String() string {
	if int(t) < len(netEventNames) {
		return netEventNames[t]
	}
	return fmt.Sprintf("FWPM_NET_EVENT_TYPE(%d)", uint32(t))
}

// Direction is FWP_DIRECTION.
type Direction uint32

const (
	DirectionOutbound Direction = 0 // FWP_DIRECTION_OUTBOUND
	DirectionInbound  Direction = 1 // FWP_DIRECTION_INBOUND
)

func (d Direction) String() string {
	switch d {
	case DirectionOutbound:
		return "outbound"
	case DirectionInbound:
		return "inbound"
	}
	return fmt.Sprintf("FWP_DIRECTION(%d)", uint32(d))
}

// NetEventHeader is FWPM_NET_EVENT_HEADER: the traffic an event is about. Fields the
// classification did not know are zero.
type NetEventHeader struct {
	// TimeStamp is when the event was recorded. The simulator stamps events with the
	// engine's clock, which tests and replays set, never the wall clock.
	TimeStamp  time.Time
	IPProtocol uint8
	LocalAddr  netip.Addr
	RemoteAddr netip.Addr
	LocalPort  uint16
	RemotePort uint16
	AppID      ByteBlob
	UserID     SID
}

// NetEvent is FWPM_NET_EVENT: one classify drop or allow. Its shape follows Windows,
// so a simulated event can be compared with a real one.
type NetEvent struct {
	Type   NetEventType
	Header NetEventHeader
	// FilterID is the filter that decided (for a drop, the blocking filter).
	FilterID FilterID
	// LayerID is the runtime id of the layer that classified.
	LayerID   LayerID
	Direction Direction
	Loopback  bool
	// Vetoed: a callout overrode a hard permit (rule A7, audit 5153).
	Vetoed bool
	// Terminating lists, per sublayer that decided, the filter that decided and its
	// action, in evaluation order (terminatingFiltersInfo in Windows' events).
	Terminating []TerminatingFilter
}

// TerminatingFilter is the deciding filter of one sublayer.
type TerminatingFilter struct {
	Sublayer SublayerKey
	FilterID FilterID
	Action   ActionType
}
