package engine

// Internal tests of condition matching (rules B4-B6) and weights (B1): matchValue is
// checked against a hand-written table for every match type and data type family.

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/wfp"
)

func TestB5MatchValue(t *testing.T) {
	v6 := func(s string) wfp.ByteArray16 { return wfp.V6FromAddr(netip.MustParseAddr(s)) }
	u32 := func(s string) wfp.Uint32 { return wfp.V4FromAddr(netip.MustParseAddr(s)) }
	type row struct {
		m    wfp.MatchType
		in   wfp.Value
		cond wfp.Value
		want bool
	}
	families := map[string][]row{
		"uint8": {
			{wfp.MatchEqual, wfp.Uint8(6), wfp.Uint8(6), true},
			{wfp.MatchEqual, wfp.Uint8(6), wfp.Uint8(17), false},
			{wfp.MatchNotEqual, wfp.Uint8(6), wfp.Uint8(17), true},
			{wfp.MatchNotEqual, wfp.Uint8(6), wfp.Uint8(6), false},
			{wfp.MatchGreater, wfp.Uint8(7), wfp.Uint8(6), true},
			{wfp.MatchGreater, wfp.Uint8(6), wfp.Uint8(6), false},
			{wfp.MatchGreaterOrEqual, wfp.Uint8(6), wfp.Uint8(6), true},
			{wfp.MatchLess, wfp.Uint8(5), wfp.Uint8(6), true},
			{wfp.MatchLess, wfp.Uint8(6), wfp.Uint8(6), false},
			{wfp.MatchLessOrEqual, wfp.Uint8(6), wfp.Uint8(6), true},
			{wfp.MatchLessOrEqual, wfp.Uint8(7), wfp.Uint8(6), false},
			{wfp.MatchRange, wfp.Uint8(6), wfp.Range{Low: wfp.Uint8(6), High: wfp.Uint8(17)}, true},
			{wfp.MatchRange, wfp.Uint8(17), wfp.Range{Low: wfp.Uint8(6), High: wfp.Uint8(17)}, true},
			{wfp.MatchRange, wfp.Uint8(18), wfp.Range{Low: wfp.Uint8(6), High: wfp.Uint8(17)}, false},
			{wfp.MatchRange, wfp.Uint8(5), wfp.Range{Low: wfp.Uint8(6), High: wfp.Uint8(17)}, false},
		},
		"uint16 ports": {
			{wfp.MatchEqual, wfp.Uint16(443), wfp.Uint16(443), true},
			{wfp.MatchRange, wfp.Uint16(1024), wfp.Range{Low: wfp.Uint16(1024), High: wfp.Uint16(65535)}, true},
			{wfp.MatchRange, wfp.Uint16(1023), wfp.Range{Low: wfp.Uint16(1024), High: wfp.Uint16(65535)}, false},
			{wfp.MatchGreater, wfp.Uint16(0xffff), wfp.Uint16(0xfffe), true},
		},
		"uint32 flags (rule B9: FLAGS_ALL_SET, FLAGS_ANY_SET, FLAGS_NONE_SET)": {
			{wfp.MatchFlagsAllSet, wfp.Uint32(0x7), wfp.Uint32(0x5), true},
			{wfp.MatchFlagsAllSet, wfp.Uint32(0x6), wfp.Uint32(0x5), false},
			{wfp.MatchFlagsAnySet, wfp.Uint32(0x4), wfp.Uint32(0x5), true},
			{wfp.MatchFlagsAnySet, wfp.Uint32(0x2), wfp.Uint32(0x5), false},
			{wfp.MatchFlagsNoneSet, wfp.Uint32(0x2), wfp.Uint32(0x5), true},
			{wfp.MatchFlagsNoneSet, wfp.Uint32(0x3), wfp.Uint32(0x5), false},
			{wfp.MatchFlagsAllSet, wfp.Uint32(0x0), wfp.Uint32(0x0), true},
		},
		"uint64": {
			{wfp.MatchEqual, wfp.Uint64(1 << 63), wfp.Uint64(1 << 63), true},
			{wfp.MatchGreater, wfp.Uint64(1 << 63), wfp.Uint64(1), true},
			{wfp.MatchFlagsAnySet, wfp.Uint64(1 << 63), wfp.Uint64(1<<63 | 1), true},
		},
		"signed": {
			{wfp.MatchLess, wfp.Int32(-5), wfp.Int32(3), true},
			{wfp.MatchGreater, wfp.Int8(-1), wfp.Int8(-2), true},
			{wfp.MatchRange, wfp.Int64(-3), wfp.Range{Low: wfp.Int64(-10), High: wfp.Int64(-1)}, true},
			{wfp.MatchEqual, wfp.Int16(-7), wfp.Int16(-7), true},
		},
		"v4 address and mask (B4 exception)": {
			{wfp.MatchEqual, u32("10.1.2.3"), wfp.V4AddrMask{Addr: uint32(u32("10.0.0.0")), Mask: wfp.V4Mask(8)}, true},
			{wfp.MatchEqual, u32("11.1.2.3"), wfp.V4AddrMask{Addr: uint32(u32("10.0.0.0")), Mask: wfp.V4Mask(8)}, false},
			{wfp.MatchEqual, u32("10.1.2.3"), wfp.V4AddrMask{Addr: uint32(u32("10.1.2.3")), Mask: wfp.V4Mask(32)}, true},
			{wfp.MatchEqual, u32("10.1.2.4"), wfp.V4AddrMask{Addr: uint32(u32("10.1.2.3")), Mask: wfp.V4Mask(32)}, false},
			{wfp.MatchEqual, u32("1.2.3.4"), wfp.V4AddrMask{Addr: 0, Mask: 0}, true},
			{wfp.MatchRange, u32("10.0.0.5"), wfp.Range{Low: u32("10.0.0.1"), High: u32("10.0.0.9")}, true},
			{wfp.MatchRange, u32("10.0.0.10"), wfp.Range{Low: u32("10.0.0.1"), High: u32("10.0.0.9")}, false},
		},
		"v6 address and mask (B4 exception)": {
			{wfp.MatchEqual, v6("2001:db8::1"), v6("2001:db8::1"), true},
			{wfp.MatchEqual, v6("2001:db8::1"), wfp.V6AddrMask{Addr: v6("2001:db8::"), PrefixLength: 32}, true},
			{wfp.MatchEqual, v6("2001:db9::1"), wfp.V6AddrMask{Addr: v6("2001:db8::"), PrefixLength: 32}, false},
			{wfp.MatchEqual, v6("2001:db8:ff00::"), wfp.V6AddrMask{Addr: v6("2001:db8:f000::"), PrefixLength: 36}, true},
			{wfp.MatchEqual, v6("2001:db8:e000::"), wfp.V6AddrMask{Addr: v6("2001:db8:f000::"), PrefixLength: 36}, false},
			{wfp.MatchEqual, v6("::1"), wfp.V6AddrMask{Addr: v6("::"), PrefixLength: 0}, true},
			{wfp.MatchGreater, v6("2001:db8::2"), v6("2001:db8::1"), true},
			{wfp.MatchRange, v6("2001:db8::5"), wfp.Range{Low: v6("2001:db8::1"), High: v6("2001:db8::9")}, true},
		},
		"byte blob app id": {
			{wfp.MatchEqual, wfp.AppID(`\x\iis.exe`), wfp.AppID(`\x\iis.exe`), true},
			{wfp.MatchEqual, wfp.AppID(`\x\iis.exe`), wfp.AppID(`\x\IIS.exe`), false},
			// B5: PREFIX tests the END of the value.
			{wfp.MatchPrefix, wfp.AppID(`\x\iis.exe`), wfp.UTF16Blob(`iis.exe`), true},
			{wfp.MatchPrefix, wfp.AppID(`\x\iis.exe`), wfp.UTF16Blob(`\x`), false},
			{wfp.MatchNotPrefix, wfp.AppID(`\x\iis.exe`), wfp.UTF16Blob(`iis.exe`), false},
			{wfp.MatchNotPrefix, wfp.AppID(`\x\curl.exe`), wfp.UTF16Blob(`iis.exe`), true},
			{wfp.MatchLess, wfp.ByteBlob{1, 2}, wfp.ByteBlob{1, 3}, true},
			{wfp.MatchNotEqual, wfp.ByteBlob{1, 2}, wfp.ByteBlob{1, 3}, true},
		},
		"unicode string": {
			{wfp.MatchEqual, wfp.UnicodeString("Host"), wfp.UnicodeString("Host"), true},
			{wfp.MatchEqual, wfp.UnicodeString("Host"), wfp.UnicodeString("host"), false},
			{wfp.MatchEqualCaseInsensitive, wfp.UnicodeString("Host"), wfp.UnicodeString("hOST"), true},
			{wfp.MatchEqualCaseInsensitive, wfp.UnicodeString("Host"), wfp.UnicodeString("hOSTs"), false},
			{wfp.MatchPrefix, wfp.UnicodeString("www.example.com"), wfp.UnicodeString("example.com"), true},
			{wfp.MatchPrefix, wfp.UnicodeString("www.example.com"), wfp.UnicodeString("www"), false},
			{wfp.MatchNotPrefix, wfp.UnicodeString("www.example.com"), wfp.UnicodeString("www"), true},
			{wfp.MatchGreater, wfp.UnicodeString("b"), wfp.UnicodeString("a"), true},
		},
		"sid": {
			{wfp.MatchEqual, wfp.MustParseSID("S-1-5-18"), wfp.MustParseSID("S-1-5-18"), true},
			{wfp.MatchEqual, wfp.MustParseSID("S-1-5-18"), wfp.MustParseSID("S-1-5-19"), false},
		},
		"mac and bitmap": {
			{wfp.MatchEqual, wfp.ByteArray6{1, 2, 3, 4, 5, 6}, wfp.ByteArray6{1, 2, 3, 4, 5, 6}, true},
			{wfp.MatchEqual, wfp.ByteArray6{1, 2, 3, 4, 5, 6}, wfp.ByteArray6{1, 2, 3, 4, 5, 7}, false},
		},
		"B4 no type conversion": {
			{wfp.MatchEqual, wfp.Uint16(80), wfp.Uint32(80), false},
			{wfp.MatchEqual, wfp.Uint8(6), wfp.Uint16(6), false},
			{wfp.MatchGreater, wfp.Uint32(80), wfp.Uint16(1), false},
			{wfp.MatchRange, wfp.Uint16(80), wfp.Range{Low: wfp.Uint32(1), High: wfp.Uint32(100)}, false},
			{wfp.MatchFlagsAnySet, wfp.Uint16(1), wfp.Uint32(1), false},
			{wfp.MatchEqual, wfp.Uint32(1), wfp.ByteArray16{15: 1}, false},
			{wfp.MatchEqual, wfp.ByteArray16{}, wfp.V4AddrMask{}, false},
			{wfp.MatchEqual, wfp.Uint32(0), wfp.V6AddrMask{}, false},
		},
		"B6 empty values": {
			{wfp.MatchEqual, wfp.Empty{}, wfp.Empty{}, true},
			{wfp.MatchEqual, nil, wfp.Empty{}, true},
			{wfp.MatchEqual, wfp.Empty{}, wfp.Uint16(80), false},
			{wfp.MatchNotEqual, wfp.Empty{}, wfp.Uint16(80), false},
			{wfp.MatchFlagsNoneSet, wfp.Empty{}, wfp.Uint32(1), false},
			{wfp.MatchEqual, wfp.Uint16(80), wfp.Empty{}, false},
			{wfp.MatchNotPrefix, wfp.Empty{}, wfp.UTF16Blob("x"), false},
		},
	}
	for name, rows := range families {
		for _, r := range rows {
			t.Run(fmt.Sprintf("%s/%s %v vs %v", name, r.m.ShortName(), r.in, r.cond), func(t *testing.T) {
				assert.Equal(t, r.want, matchValue(r.m, r.in, r.cond, nil))
			})
		}
	}
}

// TestB5SecurityDescriptor: a user condition matches when its SDDL grants
// FWP_ACTRL_MATCH_FILTER (CC) to the token; deny entries come first.
func TestB5SecurityDescriptor(t *testing.T) {
	system := wfp.MustParseSID("S-1-5-18")
	user := wfp.MustParseSID("S-1-5-21-1-2-3-1001")
	admins := wfp.MustParseSID("S-1-5-32-544")
	tests := []struct {
		name string
		sddl string
		tok  wfp.Value
		want bool
	}{
		{"allow system, token is system", "D:(A;;CC;;;S-1-5-18)", wfp.TokenAccessInformation{User: system}, true},
		{"allow system, token is a user", "D:(A;;CC;;;S-1-5-18)", wfp.TokenAccessInformation{User: user}, false},
		{"allow by group", "D:(A;;CC;;;BA)", wfp.TokenAccessInformation{User: user, Groups: []wfp.SID{admins}}, true},
		{"deny first wins", "D:(D;;CC;;;BA)(A;;CC;;;WD)", wfp.TokenAccessInformation{User: user, Groups: []wfp.SID{admins}}, false},
		{"deny not applying", "D:(D;;CC;;;BA)(A;;CC;;;WD)", wfp.TokenAccessInformation{User: user}, true},
		{"everyone", "O:SYG:SYD:(A;;CC;;;WD)", wfp.TokenAccessInformation{User: user}, true},
		{"allow without CC does not grant", "D:(A;;RC;;;S-1-5-18)", wfp.TokenAccessInformation{User: system}, false},
		{"GA grants", "D:(A;;GA;;;S-1-5-18)", wfp.TokenAccessInformation{User: system}, true},
		{"empty DACL grants nothing", "D:", wfp.TokenAccessInformation{User: system}, false},
		{"token information", "D:(A;;CC;;;S-1-5-18)", wfp.TokenInformation{SIDs: []wfp.SID{system}}, true},
		{"not a token", "D:(A;;CC;;;S-1-5-18)", system, false},
		{"empty incoming", "D:(A;;CC;;;S-1-5-18)", wfp.Empty{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd, err := parseSDDL(tc.sddl)
			require.NoError(t, err)
			assert.Equal(t, tc.want, matchValue(wfp.MatchEqual, tc.tok, wfp.SecurityDescriptor(tc.sddl), sd))
			assert.Equal(t, tc.want, matchValue(wfp.MatchEqual, tc.tok, wfp.SecurityDescriptor(tc.sddl), nil), "parsed on the fly")
		})
	}
	_, err := parseSDDL("O:SY")
	assert.ErrorIs(t, err, wfp.ErrInvalidParameter)
	_, err = parseSDDL("D:(A;;CC;;;NOT-A-SID)")
	assert.ErrorIs(t, err, wfp.ErrInvalidParameter)
}

// TestB1EffectiveWeight: exact kept, automatic below 2^60, range in the top 4 bits.
func TestB1EffectiveWeight(t *testing.T) {
	for seq := uint64(1); seq < 5000; seq += 997 {
		auto := effectiveWeight(wfp.AutoWeight(), nil, seq)
		assert.Less(t, auto, uint64(1)<<60, "auto < 2^60")
		assert.Equal(t, uint64(0xdeadbeef), effectiveWeight(wfp.ExactWeight(0xdeadbeef), nil, seq))
		for r := uint8(0); r <= 15; r++ {
			w := effectiveWeight(wfp.RangeWeight(r), nil, seq)
			assert.Equal(t, uint64(r), w>>60, "range %d", r)
			assert.Equal(t, auto, w&wfp.AutoWeightMax, "the low 60 bits are the automatic weight")
		}
	}
}

// TestIndexEmptyBlob: the index must agree with the scan for an app id that is an
// empty blob, whether nil or zero-length: bytes.Equal treats them as equal.
func TestIndexEmptyBlob(t *testing.T) {
	mk := func(n int) []*cfilter {
		var fs []*cfilter
		for i := 0; i < n; i++ {
			var v wfp.ByteBlob = wfp.UTF16Blob(fmt.Sprint("app", i))
			if i == 0 {
				v = wfp.ByteBlob{} // zero-length, not nil
			}
			fs = append(fs, &cfilter{id: wfp.FilterID(i + 1), groups: []condGroup{{index: 0,
				conds: []ccond{{c: wfp.Condition{Match: wfp.MatchEqual, Value: v}}}}}})
		}
		return fs
	}
	fs := mk(indexThreshold + 4)
	cs := &compiledSublayer{filters: fs, index: buildIndex(fs)}
	require.True(t, cs.index.enabled)
	for _, in := range []wfp.Value{wfp.ByteBlob{}, wfp.ByteBlob(nil), wfp.UTF16Blob("app3")} {
		var scan []wfp.FilterID
		for _, f := range fs {
			if ok, _ := f.matches([]wfp.Value{in}); ok {
				scan = append(scan, f.id)
			}
		}
		var c candidates
		c.init(cs, []wfp.Value{in})
		var idx []wfp.FilterID
		for f := c.next(); f != nil; f = c.next() {
			if ok, _ := f.matches([]wfp.Value{in}); ok {
				idx = append(idx, f.id)
			}
		}
		assert.Equal(t, scan, idx, "incoming %#v", in)
	}
}

// TestNotEqualSID: Windows Firewall's filters test ALE_PACKAGE_ID not_equal the NULL
// SID (every real dump); a SID is not sortable, so not_equal is plain inequality.
func TestNotEqualSID(t *testing.T) {
	null, other := wfp.MustParseSID("S-1-0-0"), wfp.MustParseSID("S-1-15-2-1")
	assert.False(t, matchValue(wfp.MatchNotEqual, null, null, nil))
	assert.True(t, matchValue(wfp.MatchNotEqual, other, null, nil))
	assert.False(t, matchValue(wfp.MatchNotEqual, wfp.Uint8(1), null, nil), "no match across types (rule B4)")
}
