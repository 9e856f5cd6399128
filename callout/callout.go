// Package callout is the callout SDK of the simulator: what a driver's classifyFn,
// notifyFn and flowDeleteFn see and return (fwpsk.h), as Go values.
//
// As on Windows, a callout has two faces: the management object (wfp.Callout, added
// through wfp.Engine like FwpmCalloutAdd0) and its code (a Callout value, registered on
// a simulated engine like FwpsCalloutRegister). A filter may name a callout whose code
// is not registered; arbitration then follows rule A9.
//
// References:
//   - classifyFn: https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/fwpsk/nc-fwpsk-fwps_callout_classify_fn0
//   - notifyFn: https://learn.microsoft.com/en-us/windows-hardware/drivers/network/processing-notify-callouts
//   - FWPS_CLASSIFY_OUT0: https://learn.microsoft.com/en-us/windows/win32/api/fwpstypes/ns-fwpstypes-fwps_classify_out0
package callout

import (
	"fmt"

	"github.com/wfpsim/wfpsim/wfp"
)

// Rights is FWPS_CLASSIFY_OUT0.rights.
type Rights uint32

// RightActionWrite is FWPS_RIGHT_ACTION_WRITE: while set, a lower-priority sublayer may
// still override the current action (it is soft); once clear, the action is hard and
// only a callout veto (a Block) can change it (rules A4, A7).
const RightActionWrite Rights = 0x1

// OutFlags is FWPS_CLASSIFY_OUT0.flags.
type OutFlags uint32

const (
	// FlagAbsorb with Block drops silently: no net event, no discard layer (rule A11).
	FlagAbsorb OutFlags = 0x1
	// FlagBufferLimitReached and FlagNoMoreData are set by the stream layer (rule D5).
	FlagBufferLimitReached OutFlags = 0x2
	FlagNoMoreData         OutFlags = 0x4
)

// ClassifyOut is FWPS_CLASSIFY_OUT0: what classifyFn writes.
type ClassifyOut struct {
	// Action is what the callout decides: wfp.ActionPermit, ActionBlock or
	// ActionContinue. On entry it holds the current action of the layer.
	Action wfp.ActionType
	// Rights holds RightActionWrite on entry when the current action is soft. A callout
	// clears it to make its decision hard (rule D9). Without it a callout may only
	// write Block (a veto, rule A7).
	Rights Rights
	Flags  OutFlags
	// OutContext is passed back to the engine (used by pended operations).
	OutContext uint64
}

// FilterFlags is FWPS_FILTER0.flags, the kernel view of a filter's flags.
type FilterFlags uint16

const (
	FilterFlagClearActionRight            FilterFlags = 0x1
	FilterFlagPermitIfCalloutUnregistered FilterFlags = 0x2
	FilterFlagORConditions                FilterFlags = 0x4 // same-field conditions are ORed (rule B3)
)

// Filter is FWPS_FILTER0: the kernel copy of the filter that invoked the callout.
type Filter struct {
	ID             wfp.FilterID
	Weight         uint64 // effective weight
	SublayerWeight uint16
	Flags          FilterFlags
	Conditions     []wfp.Condition
	Action         wfp.ActionType
	CalloutID      wfp.CalloutID
	// Context is FWPS_FILTER0.context, which notifyFn may set on ADD_FILTER.
	Context uint64
}

// IncomingValues is FWPS_INCOMING_VALUES0: the layer's fields, indexed by the layer's
// FWPS_FIELD_* numbers (the catalogue's Field.Index).
type IncomingValues struct {
	LayerID wfp.LayerID
	Values  []wfp.Value
}

// Metadata is FWPS_INCOMING_METADATA_VALUES0: what the stack knows besides the
// incoming values. Fields is the FWPS_METADATA_FIELD_* bit mask of the members that are
// valid at this classification; layer_metadata.tsv lists which may be at each layer.
type Metadata struct {
	Fields                    MetadataFields
	FlowHandle                uint64 // FWPS_METADATA_FIELD_FLOW_HANDLE: the flow id for flow contexts
	ProcessID                 uint64
	ProcessPath               string // the NT device path of the process image
	IPHeaderSize              uint32
	TransportHeaderSize       uint32
	SourceInterfaceIndex      uint32
	DestinationInterfaceIndex uint32
	PacketDirection           wfp.Direction // FWPS_METADATA_FIELD_PACKET_DIRECTION
	// DiscardReason is set at discard layers (rule C20).
	DiscardReason DiscardReason
	// TransportEndpointHandle names the endpoint (rule C8): the same handle at its
	// RESOURCE_ASSIGNMENT and RESOURCE_RELEASE, and for a TCP connection at its ALE
	// authorization and its ENDPOINT_CLOSURE.
	TransportEndpointHandle uint64
	// ParentEndpointHandle is the listening endpoint of an accepted TCP connection.
	ParentEndpointHandle uint64
	ICMPIDAndSequence    uint32
	FrameLength          uint32
	// InjectedBy is the injection handle of the callout that injected this packet, 0
	// when it was not injected (FwpsQueryPacketInjectionState0): a callout skips its
	// own packets. At a callout_terminating filter, return Permit (not Continue) for
	// your own injected packets: Continue there is treated as Block (rule A8).
	InjectedBy uint64
	// Kernel gives the callout the FwpsXxx functions of the engine that called it:
	// flow contexts and injection. It is nil outside a stack (engine.Classify alone).
	Kernel Kernel
}

// MetadataFields is the FWPS_METADATA_FIELD_* mask.
type MetadataFields uint32

const (
	MetaDiscardReason           MetadataFields = 0x1
	MetaFlowHandle              MetadataFields = 0x2
	MetaIPHeaderSize            MetadataFields = 0x4
	MetaProcessPath             MetadataFields = 0x8
	MetaToken                   MetadataFields = 0x10
	MetaProcessID               MetadataFields = 0x20
	MetaSourceInterfaceIndex    MetadataFields = 0x100
	MetaDestinationInterfaceIdx MetadataFields = 0x200
	MetaTransportHeaderSize     MetadataFields = 0x400
	MetaTransportEndpointHandle MetadataFields = 0x8000
	MetaPacketDirection         MetadataFields = 0x40000
	MetaFrameLength             MetadataFields = 0x2000000
	MetaICMPIDAndSequence       MetadataFields = 0x8000000
	MetaParentEndpointHandle    MetadataFields = 0x4000000
)

// Has reports whether the metadata member f is valid.
func (m *Metadata) Has(f MetadataFields) bool { return m != nil && m.Fields&f != 0 }

// DiscardReason is FWPS_DISCARD_METADATA0 (rule C20).
type DiscardReason struct {
	Module   DiscardModule
	Reason   uint32
	FilterID wfp.FilterID
}

// DiscardModule is FWPS_DISCARD_MODULE0.
type DiscardModule uint32

const (
	DiscardModuleNetwork   DiscardModule = 0
	DiscardModuleTransport DiscardModule = 1
	DiscardModuleGeneral   DiscardModule = 2
)

// General discard reasons (FWPS_GENERAL_DISCARD_REASON).
const (
	GeneralDiscardReasonFirewallPolicy = 0
	GeneralDiscardReasonIPsec          = 1
)

// PacketData is the layer data at packet layers: the NET_BUFFER_LIST's bytes, and
// where its data offset points at this layer (data_offsets.tsv): at the network
// layers inbound, the transport header; at the transport layers inbound, the payload;
// outbound, the start of what the layer sends.
type PacketData struct {
	Bytes  []byte
	Offset int
}

// Data returns the bytes from the data offset on.
func (p *PacketData) Data() []byte {
	if p == nil || p.Offset > len(p.Bytes) {
		return nil
	}
	return p.Bytes[p.Offset:]
}

// Kernel is what a callout may call back into during classify: the FwpsFlow*Context0
// and FwpsInject*0 functions. The simulated stack implements it.
type Kernel interface {
	// FlowAssociateContext is FwpsFlowAssociateContext0 (rule D4): at most one
	// context per callout per flow; the callout must have a FlowDelete to hear the end.
	FlowAssociateContext(flowID uint64, layerID wfp.LayerID, calloutID wfp.CalloutID, context uint64) error
	// FlowRemoveContext is FwpsFlowRemoveContext0; FlowDelete is then not called.
	FlowRemoveContext(flowID uint64, layerID wfp.LayerID, calloutID wfp.CalloutID) error
	// Inject re-enters a (possibly modified) packet into the stack (FwpsInject*).
	Inject(req InjectRequest) error
	// StreamInject is FwpsStreamInjectAsync0: data enters a flow's stream just below
	// the injecting callout's filter, in the direction its flags say; the filters of
	// lower-weight sublayers see it, the injector does not see it again (rule D5).
	StreamInject(req StreamInjectRequest) error
}

// RegisterFlags are the FWP_CALLOUT_FLAG_* flags a driver registers its callout with
// (FWPS_CALLOUT0.flags).
type RegisterFlags uint32

const (
	// FlagConditionalOnFlow (FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW): the callout is
	// called only on flows that hold one of its contexts (rule D11).
	FlagConditionalOnFlow RegisterFlags = 0x1
	// FlagAllowMidStreamInspection (FWP_CALLOUT_FLAG_ALLOW_MID_STREAM_INSPECTION): a
	// stream callout also sees the flows whose stream began before its filter was
	// added (rule D11).
	FlagAllowMidStreamInspection RegisterFlags = 0x8
)

// Flagged is implemented by a callout registered with FWP_CALLOUT_FLAG_* flags; a
// callout that does not implement it has none.
type Flagged interface {
	RegisterFlags() RegisterFlags
}

// StreamInjectRequest is what FwpsStreamInjectAsync0 is given.
type StreamInjectRequest struct {
	Handle    uint64 // the injection handle
	FlowID    uint64 // the flow's FWPS_METADATA_FIELD_FLOW_HANDLE
	CalloutID wfp.CalloutID
	LayerID   wfp.LayerID // FWPS_LAYER_STREAM_V4 or _V6, the flow's
	// Flags hold StreamFlagSend or StreamFlagReceive: the direction of the data.
	Flags StreamFlags
	Data  []byte
}

// InjectKind says where an injected packet enters the stack.
type InjectKind uint8

const (
	InjectTransportSend    InjectKind = iota + 1 // FwpsInjectTransportSendAsync0
	InjectTransportReceive                       // FwpsInjectTransportReceiveAsync0
	InjectNetworkSend                            // FwpsInjectNetworkSendAsync0
	InjectNetworkReceive                         // FwpsInjectNetworkReceiveAsync0
)

func (k InjectKind) String() string {
	switch k {
	case InjectTransportSend:
		return "transport-send"
	case InjectTransportReceive:
		return "transport-receive"
	case InjectNetworkSend:
		return "network-send"
	case InjectNetworkReceive:
		return "network-receive"
	}
	return fmt.Sprintf("InjectKind(%d)", uint8(k))
}

// InjectRequest describes one injection. Packet is the whole IP packet for every
// kind (the simulator takes the addresses from it; Windows passes them separately for
// transport injection).
type InjectRequest struct {
	Kind      InjectKind
	Packet    []byte
	FlowID    uint64
	Interface uint32
	// Handle identifies the injector, so it can recognise its own packets
	// (FwpsQueryPacketInjectionState0); the stack passes it back in
	// InjectionState at every layer the packet reaches.
	Handle uint64
}

// NotifyType is FWPS_CALLOUT_NOTIFY_TYPE (rule D7).
type NotifyType uint32

const (
	NotifyAddFilter           NotifyType = 0
	NotifyDeleteFilter        NotifyType = 1
	NotifyAddFilterPostCommit NotifyType = 2
)

func (n NotifyType) String() string {
	switch n {
	case NotifyAddFilter:
		return "FWPS_CALLOUT_NOTIFY_ADD_FILTER"
	case NotifyDeleteFilter:
		return "FWPS_CALLOUT_NOTIFY_DELETE_FILTER"
	case NotifyAddFilterPostCommit:
		return "FWPS_CALLOUT_NOTIFY_ADD_FILTER_POST_COMMIT"
	}
	return fmt.Sprintf("FWPS_CALLOUT_NOTIFY_TYPE(%d)", uint32(n))
}

// Callout is the code of a callout: what a driver passes to FwpsCalloutRegister.
type Callout interface {
	// Classify is classifyFn: it is called for every matching filter that names the
	// callout, and writes its decision into out.
	Classify(in *IncomingValues, meta *Metadata, layerData any, filter *Filter, flowContext uint64, out *ClassifyOut)
	// Notify is notifyFn: a filter naming the callout is added or deleted. An error
	// on NotifyAddFilter makes the add fail with FWP_E_CALLOUT_NOTIFICATION_FAILED.
	Notify(t NotifyType, key wfp.FilterKey, filter *Filter) error
	// FlowDelete is flowDeleteFn: a flow carrying a context of this callout ended.
	FlowDelete(layerID wfp.LayerID, calloutID wfp.CalloutID, flowContext uint64)
}

// Func adapts a classify function to a Callout whose Notify accepts everything and
// whose FlowDelete does nothing.
type Func func(in *IncomingValues, meta *Metadata, layerData any, filter *Filter, flowContext uint64, out *ClassifyOut)

func (f Func) Classify(in *IncomingValues, meta *Metadata, layerData any, filter *Filter, flowContext uint64, out *ClassifyOut) {
	f(in, meta, layerData, filter, flowContext, out)
}
func (Func) Notify(NotifyType, wfp.FilterKey, *Filter) error { return nil }
func (Func) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64)   {}

// Static returns a callout that always returns action (permit, block or continue).
// With hard, it clears the write right when it permits or blocks, as rule D9 advises;
// without, it keeps the right, so its decision is soft (the defaults of rule A5),
// unless its filter carries clear_action_right. Without the right on entry it may only
// veto: it writes Block and nothing else (rule A7). The CLI's --callout NAME=ACTION
// uses it.
func Static(action wfp.ActionType, hard bool) Callout {
	return Func(func(_ *IncomingValues, _ *Metadata, _ any, f *Filter, _ uint64, out *ClassifyOut) {
		if out.Rights&RightActionWrite == 0 && action != wfp.ActionBlock {
			return
		}
		out.Action = action
		decides := action == wfp.ActionBlock || action == wfp.ActionPermit
		if decides && (hard || f.Flags&FilterFlagClearActionRight != 0) {
			out.Rights &^= RightActionWrite
		}
	})
}

// StreamAction is FWPS_STREAM_ACTION_TYPE (rule D5).
type StreamAction uint32

const (
	StreamActionNone            StreamAction = 0
	StreamActionNeedMoreData    StreamAction = 1
	StreamActionDropConnection  StreamAction = 2
	StreamActionDefer           StreamAction = 3
	StreamActionAllowConnection StreamAction = 4
)

// StreamFlags are FWPS_STREAM_DATA0.flags. Their numeric values are not published
// (constants.tsv); wfpsim numbers them itself.
type StreamFlags uint32

const (
	StreamFlagReceive StreamFlags = 1 << iota
	StreamFlagReceiveExpedited
	StreamFlagReceiveDisconnect // FIN
	StreamFlagReceiveAbort      // RST
	StreamFlagSend
	StreamFlagSendExpedited
	StreamFlagSendNoDelay
	StreamFlagSendDisconnect
	StreamFlagSendAbort
)

// StreamPacket is FWPS_STREAM_CALLOUT_IO_PACKET0, the layer data at the stream layer:
// the in-order bytes of one direction of a TCP connection (segments, not packets).
type StreamPacket struct {
	Flags StreamFlags
	// Data is the stream data offered: what earlier NEED_MORE_DATA answers buffered,
	// followed by the new bytes.
	Data []byte
	// MissedBytes are bytes a higher-weight filter kept from this callout.
	MissedBytes int
	// CountBytesRequired: with StreamActionNeedMoreData, how many more bytes the
	// callout wants before it is called again.
	CountBytesRequired int
	// CountBytesEnforced: the permit or block covers only the first n bytes; the
	// engine calls again with the rest. Zero means all of Data.
	CountBytesEnforced int
	StreamAction       StreamAction
}

// PassThrough returns a stand-in for a callout whose code is not known (a driver on a
// real machine whose state was imported): it lets traffic through without deciding
// where it may (continue), and with a soft permit where it must decide
// (callout_terminating filters treat continue as block, rule A8). It never clears the
// write right, so the other filters still decide.
func PassThrough() Callout {
	return Func(func(_ *IncomingValues, _ *Metadata, _ any, f *Filter, _ uint64, out *ClassifyOut) {
		if f.Action == wfp.ActionCalloutTerminating {
			if out.Rights&RightActionWrite != 0 {
				out.Action = wfp.ActionPermit
			}
			return
		}
		if out.Rights&RightActionWrite != 0 {
			out.Action = wfp.ActionContinue
		}
	})
}
