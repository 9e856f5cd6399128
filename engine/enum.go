package engine

import (
	"bytes"
	"slices"

	"github.com/wfpsim/wfpsim/wfp"
)

// matchesTemplate reports whether an enumeration template selects a filter
// (FWPM_FILTER_ENUM_TEMPLATE0, rule E7). Layer, provider, sublayer (a wfpsim
// extension), callout and action mask select exactly. The template's conditions select
// as netsh's address, port, protocol and app filters do; Microsoft does not document
// the exact rules, so wfpsim defines them per field the template tests:
//
//	overlapping      the filter has no condition on the field, or some value matches
//	                 both the filter's and the template's conditions on it
//	fully contained  the filter tests the field, and every value its conditions match
//	                 the template's conditions match too
//
// Values are compared as intervals (equal, range, greater/less, not equal, subnets);
// other match types (flags, suffixes, descriptors) overlap anything and are contained
// only in an identical template condition.
func matchesTemplate(f *filterObj, t *wfp.FilterEnumTemplate) bool {
	if !t.Layer.IsZero() && f.f.Layer != t.Layer {
		return false
	}
	if t.Provider != nil && f.f.Provider != *t.Provider {
		return false
	}
	if t.Sublayer != nil && f.f.Sublayer != *t.Sublayer {
		return false
	}
	if t.Callout != nil && (!f.f.Action.Type.IsCallout() || f.f.Action.Callout != *t.Callout) {
		return false
	}
	if t.ActionMask != 0 && uint32(f.f.Action.Type)&t.ActionMask == 0 {
		return false
	}
	boot := f.f.Flags&wfp.FilterFlagBoottime != 0
	if t.Flags&wfp.EnumFlagBoottimeOnly != 0 && !boot {
		return false
	}
	if boot && t.Flags&(wfp.EnumFlagBoottimeOnly|wfp.EnumFlagIncludeBoottime) == 0 {
		return false
	}
	var fields []wfp.FieldKey
	for _, c := range t.Conditions {
		if !slices.Contains(fields, c.Field) {
			fields = append(fields, c.Field)
		}
	}
	for _, field := range fields {
		tc := condsOn(t.Conditions, field)
		fc := condsOn(f.f.Conditions, field)
		if t.EnumType == wfp.EnumFullyContained {
			if len(fc) == 0 || !contained(fc, tc) {
				return false
			}
		} else if len(fc) > 0 && !overlaps(fc, tc) {
			return false
		}
	}
	return true
}

func condsOn(cs []wfp.Condition, field wfp.FieldKey) []wfp.Condition {
	var out []wfp.Condition
	for _, c := range cs {
		if c.Field == field {
			out = append(out, c)
		}
	}
	return out
}

type ival struct{ lo, hi [16]byte }

var (
	keyMin [16]byte
	keyMax = [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// intervals returns the values a condition matches as intervals over 16-byte
// big-endian keys, or ok=false when the condition is not interval-shaped.
func intervals(c wfp.Condition) ([]ival, bool) {
	if r, isRange := c.Value.(wfp.Range); isRange {
		lo, ok1 := scalarKey(r.Low)
		hi, ok2 := scalarKey(r.High)
		return []ival{{lo, hi}}, ok1 && ok2 && c.Match == wfp.MatchRange
	}
	if c.Match == wfp.MatchEqual {
		switch v := c.Value.(type) {
		case wfp.V4AddrMask:
			lo, _ := scalarKey(wfp.Uint32(v.Addr & v.Mask))
			hi, _ := scalarKey(wfp.Uint32(v.Addr | ^v.Mask))
			return []ival{{lo, hi}}, true
		case wfp.V6AddrMask:
			var lo, hi [16]byte
			for i := 0; i < 128; i++ {
				bit := byte(0x80 >> (i % 8))
				if i < int(v.PrefixLength) {
					lo[i/8] |= v.Addr[i/8] & bit
					hi[i/8] |= v.Addr[i/8] & bit
				} else {
					hi[i/8] |= bit
				}
			}
			return []ival{{lo, hi}}, true
		}
	}
	k, ok := scalarKey(c.Value)
	if !ok {
		return nil, false
	}
	switch c.Match {
	case wfp.MatchEqual:
		return []ival{{k, k}}, true
	case wfp.MatchGreater:
		if k == keyMax {
			return nil, true
		}
		return []ival{{inc(k), keyMax}}, true
	case wfp.MatchGreaterOrEqual:
		return []ival{{k, keyMax}}, true
	case wfp.MatchLess:
		if k == keyMin {
			return nil, true
		}
		return []ival{{keyMin, dec(k)}}, true
	case wfp.MatchLessOrEqual:
		return []ival{{keyMin, k}}, true
	case wfp.MatchNotEqual:
		var out []ival
		if k != keyMin {
			out = append(out, ival{keyMin, dec(k)})
		}
		if k != keyMax {
			out = append(out, ival{inc(k), keyMax})
		}
		return out, true
	}
	return nil, false
}

func scalarKey(v wfp.Value) ([16]byte, bool) {
	var k [16]byte
	if u, ok := unsignedOf(v); ok {
		for i := 0; i < 8; i++ {
			k[15-i] = byte(u >> (8 * i))
		}
		return k, true
	}
	if a, ok := v.(wfp.ByteArray16); ok {
		return a, true
	}
	return k, false
}

func inc(k [16]byte) [16]byte {
	for i := 15; i >= 0; i-- {
		k[i]++
		if k[i] != 0 {
			break
		}
	}
	return k
}

func dec(k [16]byte) [16]byte {
	for i := 15; i >= 0; i-- {
		k[i]--
		if k[i] != 0xff {
			break
		}
	}
	return k
}

func overlaps(fc, tc []wfp.Condition) bool {
	for _, a := range fc {
		ia, okA := intervals(a)
		for _, b := range tc {
			ib, okB := intervals(b)
			if !okA || !okB {
				if !okA && !okB && a.Match == wfp.MatchEqual && b.Match == wfp.MatchEqual && !equalValue(a.Value, b.Value, nil) {
					continue // two different exact values (app ids, strings)
				}
				return true
			}
			for _, x := range ia {
				for _, y := range ib {
					if bytes.Compare(x.lo[:], y.hi[:]) <= 0 && bytes.Compare(y.lo[:], x.hi[:]) <= 0 {
						return true
					}
				}
			}
		}
	}
	return false
}

// contained reports whether every value the filter's conditions fc match is matched
// by the template's conditions tc.
func contained(fc, tc []wfp.Condition) bool {
	for _, a := range fc {
		ia, ok := intervals(a)
		if !ok {
			if !slices.ContainsFunc(tc, func(b wfp.Condition) bool {
				return b.Match == a.Match && b.Value.Type() == a.Value.Type() && b.Value.String() == a.Value.String()
			}) {
				return false
			}
			continue
		}
		var cover []ival
		for _, b := range tc {
			if ib, ok := intervals(b); ok {
				cover = append(cover, ib...)
			}
		}
		for _, x := range ia {
			if !covered(x, cover) {
				return false
			}
		}
	}
	return true
}

// covered reports whether the union of cover includes all of x.
func covered(x ival, cover []ival) bool {
	slices.SortFunc(cover, func(a, b ival) int { return bytes.Compare(a.lo[:], b.lo[:]) })
	at := x.lo
	for _, c := range cover {
		if bytes.Compare(c.lo[:], at[:]) > 0 {
			return false
		}
		if bytes.Compare(c.hi[:], at[:]) >= 0 {
			if bytes.Compare(c.hi[:], x.hi[:]) >= 0 {
				return true
			}
			at = inc(c.hi)
		}
	}
	return false
}
