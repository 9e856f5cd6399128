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

// Metadata is FWPS_INCOMING_METADATA_VALUES0; fields the classification does not know
// are zero. The stack fills more of it.
type Metadata struct {
	FlowHandle  uint64
	ProcessID   uint64
	ProcessPath string
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
