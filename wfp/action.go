package wfp

import (
	"fmt"
	"strings"
)

// ActionType is FWP_ACTION_TYPE, with the Windows numbers. The high bits are flags:
// 0x1000 terminating, 0x2000 non-terminating, 0x4000 callout (rule A8).
type ActionType uint32

const (
	actionFlagTerminating    = 0x1000
	actionFlagNonTerminating = 0x2000
	actionFlagCallout        = 0x4000
)

const (
	ActionBlock              ActionType = 0x1001 // FWP_ACTION_BLOCK
	ActionPermit             ActionType = 0x1002 // FWP_ACTION_PERMIT
	ActionCalloutTerminating ActionType = 0x5003 // FWP_ACTION_CALLOUT_TERMINATING: the callout returns permit or block
	ActionCalloutInspection  ActionType = 0x6004 // FWP_ACTION_CALLOUT_INSPECTION: the callout only inspects (continue)
	ActionCalloutUnknown     ActionType = 0x4005 // FWP_ACTION_CALLOUT_UNKNOWN: the callout may permit, block or continue
	ActionContinue           ActionType = 0x2006 // FWP_ACTION_CONTINUE: returned by callouts, defer to the next filter
	ActionNone               ActionType = 0x0007 // FWP_ACTION_NONE: classifyOut value
	ActionNoneNoMatch        ActionType = 0x0008 // FWP_ACTION_NONE_NO_MATCH: classifyOut value
	ActionBitmapIndexSet     ActionType = 0x0009 // FWP_ACTION_BITMAP_INDEX_SET (newer SDKs)
)

var actionNames = map[ActionType]string{
	ActionBlock:              "FWP_ACTION_BLOCK",
	ActionPermit:             "FWP_ACTION_PERMIT",
	ActionCalloutTerminating: "FWP_ACTION_CALLOUT_TERMINATING",
	ActionCalloutInspection:  "FWP_ACTION_CALLOUT_INSPECTION",
	ActionCalloutUnknown:     "FWP_ACTION_CALLOUT_UNKNOWN",
	ActionContinue:           "FWP_ACTION_CONTINUE",
	ActionNone:               "FWP_ACTION_NONE",
	ActionNoneNoMatch:        "FWP_ACTION_NONE_NO_MATCH",
	ActionBitmapIndexSet:     "FWP_ACTION_BITMAP_INDEX_SET",
}

// String returns the C name, "FWP_ACTION_BLOCK".
func (a ActionType) String() string {
	if n, ok := actionNames[a]; ok {
		return n
	}
	return fmt.Sprintf("FWP_ACTION_TYPE(0x%x)", uint32(a))
}

// ShortName returns the lower-case name used in policy documents, "callout_terminating".
func (a ActionType) ShortName() string {
	if n, ok := actionNames[a]; ok {
		return strings.ToLower(strings.TrimPrefix(n, "FWP_ACTION_"))
	}
	return a.String()
}

// ParseActionType reads "block", "FWP_ACTION_BLOCK", "callout_terminating", any case.
func ParseActionType(s string) (ActionType, error) {
	want := normalizeName(s, "FWP_ACTION_")
	for a, n := range actionNames {
		if strings.TrimPrefix(n, "FWP_ACTION_") == want {
			return a, nil
		}
	}
	return 0, fmt.Errorf("wfp: unknown action %q (want block, permit, callout_terminating, callout_inspection or callout_unknown): %w", s, ErrInvalidActionType)
}

// IsCallout reports the three callout action types.
func (a ActionType) IsCallout() bool { return a&actionFlagCallout != 0 }

// IsTerminating reports action types that always decide (block, permit,
// callout_terminating).
func (a ActionType) IsTerminating() bool { return a&actionFlagTerminating != 0 }

// IsFilterAction reports the action types a filter may carry (FWPM_ACTION0.type);
// the others are only classify results.
func (a ActionType) IsFilterAction() bool {
	switch a {
	case ActionBlock, ActionPermit, ActionCalloutTerminating, ActionCalloutInspection, ActionCalloutUnknown:
		return true
	}
	return false
}

// Action is FWPM_ACTION0: what a filter does when its conditions match.
type Action struct {
	Type ActionType
	// Callout names the callout for the callout action types; zero otherwise.
	Callout CalloutKey
}
