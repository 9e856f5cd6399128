package engine

import (
	"bytes"
	"cmp"
	"strings"

	"github.com/wfpsim/wfpsim/wfp"
)

// matchValue reports whether the incoming value in satisfies match type m against the
// condition value v. The BFE never converts types (rule B4): a value of another type
// does not match, with the documented exceptions of address masks against addresses
// and security descriptors against tokens.
func matchValue(m wfp.MatchType, in, v wfp.Value, sd *securityDescriptor) bool {
	if in == nil {
		in = wfp.Empty{}
	}
	// Rule B6: an EQUAL condition on FWP_EMPTY matches a field the stack could not
	// fill. Whether anything else matches an empty field is undocumented; wfpsim says
	// no, for every match type (NOT_EQUAL included).
	if _, empty := in.(wfp.Empty); empty {
		_, condEmpty := v.(wfp.Empty)
		return condEmpty && m == wfp.MatchEqual
	}
	switch m {
	case wfp.MatchEqual:
		return equalValue(in, v, sd)
	case wfp.MatchNotEqual:
		if _, ok := compareValue(in, v); ok {
			return !equalValue(in, v, sd)
		}
		// Not sortable (a SID): not equal within the same type.
		return in.Type() == v.Type() && !equalValue(in, v, sd)
	case wfp.MatchGreater, wfp.MatchLess, wfp.MatchGreaterOrEqual, wfp.MatchLessOrEqual:
		c, ok := compareValue(in, v)
		if !ok {
			return false
		}
		switch m {
		case wfp.MatchGreater:
			return c > 0
		case wfp.MatchLess:
			return c < 0
		case wfp.MatchGreaterOrEqual:
			return c >= 0
		}
		return c <= 0
	case wfp.MatchRange:
		r, ok := v.(wfp.Range)
		if !ok {
			return false
		}
		lo, ok1 := compareValue(in, r.Low)
		hi, ok2 := compareValue(in, r.High)
		return ok1 && ok2 && lo >= 0 && hi <= 0
	case wfp.MatchFlagsAllSet, wfp.MatchFlagsAnySet, wfp.MatchFlagsNoneSet:
		if in.Type() != v.Type() {
			return false
		}
		a, ok1 := unsignedOf(in)
		b, ok2 := unsignedOf(v)
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
	case wfp.MatchPrefix, wfp.MatchNotPrefix:
		// Rule B5: despite the name, PREFIX tests the end of the value.
		var has, ok bool
		switch a := in.(type) {
		case wfp.ByteBlob:
			b, isBlob := v.(wfp.ByteBlob)
			has, ok = isBlob && bytes.HasSuffix(a, b), isBlob
		case wfp.UnicodeString:
			b, isStr := v.(wfp.UnicodeString)
			has, ok = isStr && strings.HasSuffix(string(a), string(b)), isStr
		}
		if m == wfp.MatchPrefix {
			return has
		}
		return ok && !has
	}
	return false
}

// equalValue is FWP_MATCH_EQUAL.
func equalValue(in, v wfp.Value, sd *securityDescriptor) bool {
	switch c := v.(type) {
	case wfp.V4AddrMask:
		a, ok := in.(wfp.Uint32)
		return ok && uint32(a)&c.Mask == c.Addr&c.Mask
	case wfp.V6AddrMask:
		a, ok := in.(wfp.ByteArray16)
		return ok && prefixEqual(a, c.Addr, int(c.PrefixLength))
	case wfp.SecurityDescriptor:
		if sd == nil {
			parsed, err := parseSDDL(string(c))
			if err != nil {
				return false
			}
			sd = parsed
		}
		switch tok := in.(type) {
		case wfp.TokenAccessInformation:
			return sd.grants(append([]wfp.SID{tok.User}, tok.Groups...))
		case wfp.TokenInformation:
			return sd.grants(tok.SIDs)
		}
		return false
	case wfp.ByteBlob:
		a, ok := in.(wfp.ByteBlob)
		return ok && bytes.Equal(a, c)
	case wfp.SID:
		a, ok := in.(wfp.SID)
		return ok && bytes.Equal(a, c)
	case wfp.Range, wfp.TokenInformation, wfp.TokenAccessInformation:
		return false
	}
	return in == v // the remaining types are comparable: integers, floats, arrays, strings
}

func prefixEqual(a, b [16]byte, bits int) bool {
	if bits > 128 {
		return false
	}
	full := bits / 8
	if !bytes.Equal(a[:full], b[:full]) {
		return false
	}
	if rem := bits % 8; rem != 0 {
		mask := byte(0xff << (8 - rem))
		return a[full]&mask == b[full]&mask
	}
	return true
}

// compareValue orders two values of the same sortable type (rule B5).
func compareValue(a, b wfp.Value) (int, bool) {
	if a == nil || b == nil || a.Type() != b.Type() {
		return 0, false
	}
	if x, ok := unsignedOf(a); ok {
		y, _ := unsignedOf(b)
		return cmp.Compare(x, y), true
	}
	switch x := a.(type) {
	case wfp.Int8:
		return cmp.Compare(x, b.(wfp.Int8)), true
	case wfp.Int16:
		return cmp.Compare(x, b.(wfp.Int16)), true
	case wfp.Int32:
		return cmp.Compare(x, b.(wfp.Int32)), true
	case wfp.Int64:
		return cmp.Compare(x, b.(wfp.Int64)), true
	case wfp.ByteArray16:
		y := b.(wfp.ByteArray16)
		return bytes.Compare(x[:], y[:]), true
	case wfp.ByteBlob:
		return bytes.Compare(x, b.(wfp.ByteBlob)), true
	case wfp.UnicodeString:
		return strings.Compare(string(x), string(b.(wfp.UnicodeString))), true
	}
	return 0, false
}

func unsignedOf(v wfp.Value) (uint64, bool) {
	n, _, ok := wfp.Unsigned(v)
	return n, ok
}
