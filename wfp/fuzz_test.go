package wfp_test

import (
	"math"
	"strings"
	"testing"

	"github.com/wfpsim/wfpsim/wfp"
)

// FuzzParseGUID: whatever ParseGUID accepts prints in the canonical form and parses
// back to the same GUID; braces and letter case do not matter; text and binary
// marshalling agree. Seeds are GUIDs as they appear in netsh dumps, the catalogue and
// policy files.
func FuzzParseGUID(f *testing.F) {
	for _, s := range []string{
		"{935b7f48-0ede-44dd-9bc2-e00bb635cda3}", // netsh wfp show state: filterKey
		"c38d57d1-05a7-4c33-904f-7fbceee60e82",   // FWPM_LAYER_ALE_AUTH_CONNECT_V4
		"{C38D57D1-05A7-4C33-904F-7FBCEEE60E82}",
		"00000000-0000-0000-0000-000000000000",
		"{c38d57d1-05a7-4c33-904f-7fbceee60e8}",
		"c38d57d1-05a7-4c33-904f_7fbceee60e82",
		"{c38d57d1-05a7-4c33-904f-7fbceee60e82",
		"+38d57d1-05a7-4c33-904f-7fbceee60e82",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := wfp.ParseGUID(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "wfp: invalid GUID") {
				t.Fatalf("ParseGUID(%q): error %q does not say what was wrong", s, err)
			}
			return
		}
		text := g.String()
		if len(text) != 36 || strings.ToLower(text) != text {
			t.Fatalf("ParseGUID(%q).String() = %q: not the canonical form", s, text)
		}
		for _, again := range []string{text, "{" + text + "}", strings.ToUpper(text)} {
			g2, err := wfp.ParseGUID(again)
			if err != nil || g2 != g {
				t.Fatalf("ParseGUID(%q) = %v, %v; want %v (from %q)", again, g2, err, g, s)
			}
		}
		var g3 wfp.GUID
		if b, _ := g.MarshalText(); g3.UnmarshalText(b) != nil || g3 != g {
			t.Fatalf("MarshalText/UnmarshalText of %v gave %v", g, g3)
		}
	})
}

// valueSeeds are value texts from real files: netsh dumps, the bundled policies and
// the examples of ParseValue's documentation, with their types.
var valueSeeds = []struct {
	t wfp.DataType
	s string
}{
	{wfp.TypeUint8, "6"}, {wfp.TypeUint8, "0x11"}, {wfp.TypeUint16, "443"}, {wfp.TypeUint16, "0x1bb"},
	{wfp.TypeUint32, "192.168.1.20"}, {wfp.TypeUint32, "4294967295"}, {wfp.TypeUint64, "0x0000000000000100"},
	{wfp.TypeInt8, "-128"}, {wfp.TypeInt32, "-0x10"}, {wfp.TypeInt64, "9223372036854775807"},
	{wfp.TypeFloat, "1.5"}, {wfp.TypeFloat, "NaN"}, {wfp.TypeDouble, "-0"}, {wfp.TypeDouble, "1e308"},
	{wfp.TypeByteArray16, "2001:db8::1"}, {wfp.TypeByteArray16, "::ffff:10.0.0.1"},
	{wfp.TypeByteArray16, "20010db8000000000000000000000001"},
	{wfp.TypeByteBlob, `\device\harddiskvolume3\program files\mozilla firefox\firefox.exe`},
	{wfp.TypeByteBlob, "0x0102"}, {wfp.TypeByteBlob, ""}, {wfp.TypeByteBlob, " padded "},
	{wfp.TypeSID, "S-1-5-19"}, {wfp.TypeSID, "S-1-5-21-1004336348-1177238915-682003330-512"},
	{wfp.TypeSecurityDescriptor, "O:SYG:SYD:(A;;CCRC;;;S-1-5-80-3055155277-3816794035-3994065555-2874236192-2193176987)"},
	{wfp.TypeUnicodeString, "Contoso Firewall"},
	{wfp.TypeByteArray6, "00-11-22-33-44-55"}, {wfp.TypeByteArray6, "00:11:22:33:44:55"},
	{wfp.TypeBitmapIndex, "63"}, {wfp.TypeBitmapArray64, "0x0000000000000001"},
	{wfp.TypeV4AddrMask, "10.0.0.0/8"}, {wfp.TypeV4AddrMask, "10.1.2.3"}, {wfp.TypeV4AddrMask, "10.0.0.0/255.0.0.0"},
	{wfp.TypeV4AddrMask, "1.2.3.4/255.0.255.0"},
	{wfp.TypeV6AddrMask, "2001:db8::/32"}, {wfp.TypeV6AddrMask, "fe80::1"},
	{wfp.TypeEmpty, "empty"}, {wfp.TypeEmpty, ""},
	{wfp.TypeRange, "0-3"}, {wfp.TypeRange, "5..12"}, {wfp.TypeRange, "49152-65535"},
}

// FuzzParseValue: a value ParseValue accepts prints (String) and parses back equal,
// for every type; for ranges (the type byte picks the bounds' type) the same holds
// for ParseRange. Errors wrap the documented sentinels.
func FuzzParseValue(f *testing.F) {
	for _, v := range valueSeeds {
		f.Add(uint16(v.t), v.s)
	}
	// Range seeds with other bound types.
	f.Add(uint16(wfp.TypeRange)|uint16(wfp.TypeUint32)<<12, "10.0.0.1-10.0.0.255")
	f.Add(uint16(wfp.TypeRange)|uint16(wfp.TypeByteArray16)<<12, "2001:db8::1..2001:db8::ff")
	f.Fuzz(func(t *testing.T, typ uint16, s string) {
		types := wfp.DataTypes()
		dt := types[int(typ&0xfff)%len(types)]
		if dt == wfp.TypeRange {
			bounds := wfp.DataType(typ >> 12) // 0..15: the scalar types
			r, err := wfp.ParseRange(bounds, s)
			if err != nil {
				return
			}
			text := r.String()
			r2, err := wfp.ParseRange(bounds, text)
			if err != nil {
				if knownRangeLoss(bounds, r) {
					t.Skipf("known: %v", err)
				}
				t.Fatalf("ParseRange(%s, %q) = %v, printed %q, which does not parse: %v", bounds, s, r, text, err)
			}
			if !sameValue(r.Low, r2.Low) || !sameValue(r.High, r2.High) {
				t.Fatalf("ParseRange(%s, %q) = %#v, printed %q, parsed back as %#v", bounds, s, r, text, r2)
			}
			return
		}
		v, err := wfp.ParseValue(dt, s)
		if err != nil {
			return
		}
		if v.Type() != dt {
			t.Fatalf("ParseValue(%s, %q) returned a %s", dt, s, v.Type())
		}
		text := v.String()
		v2, err := wfp.ParseValue(dt, text)
		if err != nil {
			t.Fatalf("ParseValue(%s, %q) = %#v, printed %q, which does not parse: %v", dt, s, v, text, err)
		}
		if !sameValue(v, v2) {
			t.Fatalf("ParseValue(%s, %q) = %#v, printed %q, parsed back as %#v", dt, s, v, text, v2)
		}
	})
}

// knownRangeLoss: a range whose bounds print with ".." (text) has no unambiguous
// text form: "low-high" and "low..high" are the only separators.
func knownRangeLoss(bounds wfp.DataType, r wfp.Range) bool {
	lo, hi := r.Low.String(), r.High.String()
	return strings.Contains(lo, "..") || strings.Contains(hi, "..") ||
		(strings.Contains(lo, "-") || strings.Contains(hi, "-")) && (strings.HasSuffix(lo, ".") || strings.HasPrefix(hi, "."))
}

// sameValue is equality, with NaN equal to NaN.
func sameValue(a, b wfp.Value) bool {
	switch x := a.(type) {
	case wfp.Float:
		y, ok := b.(wfp.Float)
		return ok && (x == y || math.IsNaN(float64(x)) && math.IsNaN(float64(y)))
	case wfp.Double:
		y, ok := b.(wfp.Double)
		return ok && (x == y || math.IsNaN(float64(x)) && math.IsNaN(float64(y)))
	case wfp.ByteBlob:
		y, ok := b.(wfp.ByteBlob)
		return ok && string(x) == string(y)
	case wfp.SID:
		y, ok := b.(wfp.SID)
		return ok && string(x) == string(y)
	}
	return a == b
}
