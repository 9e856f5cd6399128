package engine_test

// The reference arbiter: a slow, obviously correct implementation of the rule book's
// A-algorithm (SEMANTICS.md A2-A9, A12) and of condition matching (B3, B5, B6),
// written from the rule book alone. It shares nothing with the engine but the public
// types of package wfp, so the fast engine (index, compiled filters, trace path) can be
// fuzzed against it (DESIGN §5).

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// refCallout is the fixed behaviour of a registered callout: what it writes into
// classifyOut.actionType, whether it clears FWPS_RIGHT_ACTION_WRITE, and whether it
// sets FWPS_CLASSIFY_OUT_FLAG_ABSORB. It is well behaved (rule A7): without the write
// right on entry it writes only Block, and otherwise leaves classifyOut untouched.
type refCallout struct {
	Action wfp.ActionType
	Hard   bool
	Absorb bool
}

// refInput is one classification as the reference sees it.
type refInput struct {
	Layer *layers.Layer
	// Filters of the layer, as Session.Filters reports them (ids, effective weights,
	// resolved sublayer keys).
	Filters []wfp.Filter
	// Sublayers gives the weight of every sublayer key.
	Sublayers map[wfp.SublayerKey]uint16
	// Callouts are the registered callouts; a key absent here is unregistered (A9).
	Callouts map[wfp.CalloutKey]refCallout
	Values   []wfp.Value
}

type refSublayer struct {
	Key      wfp.SublayerKey
	Action   wfp.ActionType // 0: the sublayer did not decide
	Hard     bool
	FilterID wfp.FilterID
}

type refResult struct {
	Action    wfp.ActionType
	Hard      bool
	Vetoed    bool
	Decided   bool
	Absorb    bool
	FilterID  wfp.FilterID
	Sublayers []refSublayer
	// Invoked lists the filters whose callout was invoked, in order.
	Invoked []wfp.FilterID
}

// referenceArbitrate is the A-algorithm of the rule book, step by step.
func referenceArbitrate(in refInput) refResult {
	var res refResult
	// A1/A2: the sublayers of the layer that hold filters, highest weight first. Equal
	// weights are ordered by key text (a wfpsim choice, like A13's tie-break).
	var subs []wfp.SublayerKey
	for _, f := range in.Filters {
		if f.Layer == in.Layer.Key && !slices.Contains(subs, f.Sublayer) {
			subs = append(subs, f.Sublayer)
		}
	}
	slices.SortFunc(subs, func(a, b wfp.SublayerKey) int {
		return cmp.Or(cmp.Compare(in.Sublayers[b], in.Sublayers[a]), strings.Compare(a.String(), b.String()))
	})

	var verdict wfp.ActionType // 0: none yet
	write := true              // FWPS_RIGHT_ACTION_WRITE
	for _, sk := range subs {
		// A3: the filters of this sublayer, highest effective weight first; equal
		// weights by filter id (A13, wfpsim's tie-break).
		var fs []wfp.Filter
		for _, f := range in.Filters {
			if f.Layer == in.Layer.Key && f.Sublayer == sk {
				fs = append(fs, f)
			}
		}
		slices.SortFunc(fs, func(a, b wfp.Filter) int {
			return cmp.Or(cmp.Compare(b.EffectiveWeight, a.EffectiveWeight), cmp.Compare(a.ID, b.ID))
		})
		sub := refSublayer{Key: sk}
		var byCallout, absorb bool
		for _, f := range fs {
			if !refFilterMatches(in.Layer, f, in.Values) {
				continue
			}
			a, hard, abs, fromCallout, invoked := refFilterAction(in, f, verdict, write)
			if invoked {
				res.Invoked = append(res.Invoked, f.ID)
			}
			if a != wfp.ActionPermit && a != wfp.ActionBlock {
				continue // CONTINUE or nothing: the next filter (A3)
			}
			sub.Action, sub.Hard, sub.FilterID = a, hard, f.ID
			byCallout, absorb = fromCallout, abs
			break // the first terminating filter ends the sublayer (A3)
		}
		res.Sublayers = append(res.Sublayers, sub)
		if sub.Action == 0 {
			continue
		}
		switch {
		case verdict == 0 || write: // nothing yet, or soft: the sublayer's action wins (A4)
			verdict, write = sub.Action, !sub.Hard
			res.FilterID = sub.FilterID
			res.Absorb = absorb && sub.Action == wfp.ActionBlock
		case verdict == wfp.ActionPermit && sub.Action == wfp.ActionBlock && byCallout: // veto (A7)
			verdict, write, res.Vetoed = wfp.ActionBlock, false, true
			res.FilterID = sub.FilterID
			res.Absorb = absorb
		default: // the hard action stands (A4)
		}
	}
	if verdict == 0 { // A12: nothing decided, wfpsim permits
		res.Action = wfp.ActionPermit
		return res
	}
	res.Action, res.Decided, res.Hard = verdict, true, !write
	return res
}

// refFilterAction is what one matching filter contributes: permit or block with its
// hardness (A5, A6), or continue / 0. Callouts follow A7, A8 and A9.
func refFilterAction(in refInput, f wfp.Filter, verdict wfp.ActionType, write bool) (a wfp.ActionType, hard, absorb, byCallout, invoked bool) {
	clearRight := f.Flags&wfp.FilterFlagClearActionRight != 0
	switch f.Action.Type {
	case wfp.ActionBlock: // A5: a static block is hard
		return wfp.ActionBlock, true, false, false, false
	case wfp.ActionPermit: // A5: a static permit is soft; A6: unless clear_action_right
		return wfp.ActionPermit, clearRight, false, false, false
	}
	beh, registered := in.Callouts[f.Action.Callout]
	if !registered { // A9
		switch {
		case f.Action.Type == wfp.ActionCalloutInspection:
			return 0, false, false, false, false // ignored
		case f.Flags&wfp.FilterFlagPermitIfCalloutUnregistered != 0:
			return wfp.ActionPermit, clearRight, false, false, false
		}
		return wfp.ActionBlock, true, false, false, false // A9 behaves as a static block: no veto
	}
	// The callout runs. classifyOut holds the current action on entry (FWP_ACTION_NONE
	// when nothing decided yet) and the current rights.
	returned := verdict
	if returned == 0 {
		returned = wfp.ActionNone
	}
	writeAfter := write
	if write || beh.Action == wfp.ActionBlock { // A7: without the right it writes only Block
		returned = beh.Action
		if beh.Hard {
			writeAfter = false
		}
		absorb = beh.Absorb
	}
	// A8: what the returned value means for the filter's action type.
	mapped := returned
	switch f.Action.Type {
	case wfp.ActionCalloutTerminating:
		if mapped != wfp.ActionPermit {
			mapped = wfp.ActionBlock // CONTINUE and anything else: BLOCK
		}
	case wfp.ActionCalloutInspection:
		mapped = wfp.ActionContinue // everything: CONTINUE
	case wfp.ActionCalloutUnknown:
		if mapped != wfp.ActionPermit && mapped != wfp.ActionBlock {
			mapped = wfp.ActionContinue // undocumented values: wfpsim continues
		}
	}
	if !write && f.Action.Type != wfp.ActionCalloutInspection && returned != wfp.ActionBlock {
		return 0, false, false, false, true // A7: without the right only a Block counts
	}
	if mapped != wfp.ActionPermit && mapped != wfp.ActionBlock {
		return wfp.ActionContinue, false, false, false, true
	}
	// A5: a callout's decision is soft unless it cleared the right; A6: the filter's
	// clear_action_right makes it hard.
	return mapped, !writeAfter || clearRight, absorb, true, true
}

// refFilterMatches is B3: conditions on one field are ORed, fields are ANDed, no
// conditions match everything.
func refFilterMatches(layer *layers.Layer, f wfp.Filter, values []wfp.Value) bool {
	byField := map[wfp.FieldKey][]wfp.Condition{}
	var order []wfp.FieldKey
	for _, c := range f.Conditions {
		if _, ok := byField[c.Field]; !ok {
			order = append(order, c.Field)
		}
		byField[c.Field] = append(byField[c.Field], c)
	}
	for _, field := range order {
		var in wfp.Value = wfp.Empty{}
		if fld, ok := layer.Field(field); ok && fld.Index < len(values) && values[fld.Index] != nil {
			in = values[fld.Index]
		}
		any := false
		for _, c := range byField[field] {
			if refMatch(c.Match, in, c.Value) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	return true
}

// refMatch is one condition against one incoming value (B4, B5, B6).
func refMatch(m wfp.MatchType, in, v wfp.Value) bool {
	// B6: an empty incoming value matches only EQUAL FWP_EMPTY; a non-empty one never
	// matches an FWP_EMPTY condition.
	_, inEmpty := in.(wfp.Empty)
	_, vEmpty := v.(wfp.Empty)
	if inEmpty || vEmpty {
		return inEmpty && vEmpty && m == wfp.MatchEqual
	}
	switch c := v.(type) {
	case wfp.V4AddrMask: // B4 exception: a UINT32 address against a subnet
		a, ok := in.(wfp.Uint32)
		return ok && m == wfp.MatchEqual && uint32(a)&c.Mask == c.Addr&c.Mask
	case wfp.V6AddrMask:
		a, ok := in.(wfp.ByteArray16)
		if !ok || m != wfp.MatchEqual {
			return false
		}
		for i := 0; i < int(c.PrefixLength); i++ {
			bit := byte(0x80 >> (i % 8))
			if a[i/8]&bit != c.Addr[i/8]&bit {
				return false
			}
		}
		return true
	case wfp.Range:
		if m != wfp.MatchRange {
			return false
		}
		lo, ok1 := refCompare(in, c.Low)
		hi, ok2 := refCompare(in, c.High)
		return ok1 && ok2 && lo >= 0 && hi <= 0
	}
	if in.Type() != v.Type() { // B4: no conversion
		return false
	}
	switch m {
	case wfp.MatchEqual:
		c, ok := refCompare(in, v)
		return ok && c == 0
	case wfp.MatchNotEqual:
		c, ok := refCompare(in, v)
		return ok && c != 0
	case wfp.MatchGreater:
		c, ok := refCompare(in, v)
		return ok && c > 0
	case wfp.MatchLess:
		c, ok := refCompare(in, v)
		return ok && c < 0
	case wfp.MatchGreaterOrEqual:
		c, ok := refCompare(in, v)
		return ok && c >= 0
	case wfp.MatchLessOrEqual:
		c, ok := refCompare(in, v)
		return ok && c <= 0
	case wfp.MatchFlagsAllSet, wfp.MatchFlagsAnySet, wfp.MatchFlagsNoneSet:
		a, ok1 := refUnsigned(in)
		b, ok2 := refUnsigned(v)
		if !ok1 || !ok2 {
			return false
		}
		switch m {
		case wfp.MatchFlagsAllSet:
			return a&b == b
		case wfp.MatchFlagsAnySet:
			return a&b != 0
		}
		return a&b == 0
	case wfp.MatchEqualCaseInsensitive:
		a, ok1 := in.(wfp.UnicodeString)
		b, ok2 := v.(wfp.UnicodeString)
		return ok1 && ok2 && strings.EqualFold(string(a), string(b))
	case wfp.MatchPrefix, wfp.MatchNotPrefix: // B5: tests the END of the value
		var has bool
		switch a := in.(type) {
		case wfp.ByteBlob:
			has = bytes.HasSuffix(a, v.(wfp.ByteBlob))
		case wfp.UnicodeString:
			has = strings.HasSuffix(string(a), string(v.(wfp.UnicodeString)))
		default:
			return false
		}
		return has == (m == wfp.MatchPrefix)
	}
	return false
}

func refUnsigned(v wfp.Value) (uint64, bool) {
	switch x := v.(type) {
	case wfp.Uint8:
		return uint64(x), true
	case wfp.Uint16:
		return uint64(x), true
	case wfp.Uint32:
		return uint64(x), true
	case wfp.Uint64:
		return uint64(x), true
	}
	return 0, false
}

// refCompare orders two values of one type; ok is false for other pairs.
func refCompare(a, b wfp.Value) (int, bool) {
	if a.Type() != b.Type() {
		return 0, false
	}
	if x, ok := refUnsigned(a); ok {
		y, _ := refUnsigned(b)
		return cmp.Compare(x, y), true
	}
	switch x := a.(type) {
	case wfp.Int8:
		return cmp.Compare(int64(x), int64(b.(wfp.Int8))), true
	case wfp.Int16:
		return cmp.Compare(int64(x), int64(b.(wfp.Int16))), true
	case wfp.Int32:
		return cmp.Compare(int64(x), int64(b.(wfp.Int32))), true
	case wfp.Int64:
		return cmp.Compare(int64(x), int64(b.(wfp.Int64))), true
	case wfp.ByteArray16:
		y := b.(wfp.ByteArray16)
		return bytes.Compare(x[:], y[:]), true
	case wfp.ByteBlob:
		return bytes.Compare(x, b.(wfp.ByteBlob)), true
	case wfp.UnicodeString:
		return strings.Compare(string(x), string(b.(wfp.UnicodeString))), true
	case wfp.SID:
		return bytes.Compare(x, b.(wfp.SID)), true
	case wfp.ByteArray6:
		y := b.(wfp.ByteArray6)
		return bytes.Compare(x[:], y[:]), true
	}
	return 0, false
}
