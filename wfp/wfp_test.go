package wfp

import (
	"bufio"
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGUIDRoundTrip(t *testing.T) {
	for _, s := range []string{
		"c38d57d1-05a7-4c33-904f-7fbceee60e82",
		"{C38D57D1-05A7-4C33-904F-7FBCEEE60E82}",
		"00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff",
	} {
		t.Run(s, func(t *testing.T) {
			g, err := ParseGUID(s)
			require.NoError(t, err)
			want := strings.ToLower(strings.Trim(s, "{}"))
			assert.Equal(t, want, g.String())
			text, err := g.MarshalText()
			require.NoError(t, err)
			var back GUID
			require.NoError(t, back.UnmarshalText(text))
			assert.Equal(t, g, back)
		})
	}
	g := MustParseGUID("c38d57d1-05a7-4c33-904f-7fbceee60e82")
	assert.Equal(t, uint32(0xc38d57d1), g.Data1)
	assert.Equal(t, uint16(0x05a7), g.Data2)
	assert.Equal(t, [8]byte{0x90, 0x4f, 0x7f, 0xbc, 0xee, 0xe6, 0x0e, 0x82}, g.Data4)
}

func TestGUIDParseErrors(t *testing.T) {
	for _, s := range []string{"", "c38d57d1", "c38d57d1-05a7-4c33-904f-7fbceee60e8", "g38d57d1-05a7-4c33-904f-7fbceee60e82",
		"c38d57d1x05a7-4c33-904f-7fbceee60e82", "{c38d57d1-05a7-4c33-904f-7fbceee60e82"} {
		_, err := ParseGUID(s)
		assert.ErrorIs(t, err, ErrInvalid, s)
	}
}

func TestGUIDFromNameIsDeterministicAndDistinct(t *testing.T) {
	a := GUIDFromName("filter", "block-http")
	assert.Equal(t, a, GUIDFromName("filter", "block-http"))
	assert.NotEqual(t, a, GUIDFromName("sublayer", "block-http"))
	assert.NotEqual(t, a, GUIDFromName("filter", "block-https"))
	assert.Equal(t, uint16(5), a.Data3>>12, "version 5")
	// Pinned: documents keep the same keys across releases. This is RFC 9562 UUIDv5
	// (Python: uuid.uuid5(ns, "filter\x00block-http")).
	assert.Equal(t, "c1c8697b-25b0-5ad0-8cd0-b8eb2809364b", a.String())
}

func TestValueStringParseRoundTrip(t *testing.T) {
	values := []Value{
		Empty{}, Uint8(6), Uint16(443), Uint32(0xc0a80001), Uint64(1 << 63), Int8(-3), Int16(-300),
		Int32(-70000), Int64(-1 << 40), Float(1.5), Double(-2.25),
		V6FromAddr(netip.MustParseAddr("2001:db8::1")),
		AppID(`\device\harddiskvolume3\windows\system32\svchost.exe`),
		ByteBlob{0x00, 0x01, 0xff}, ByteBlob{},
		MustParseSID("S-1-5-21-1004336348-1177238915-682003330-512"), MustParseSID("S-1-5-18"),
		SecurityDescriptor("O:SYD:(A;;CC;;;S-1-5-18)"), UnicodeString("Hello, wörld"),
		ByteArray6{0, 0x11, 0x22, 0x33, 0x44, 0x55}, BitmapIndex(63), BitmapArray64{1, 2, 3, 4, 5, 6, 7, 8},
		PrefixValue(netip.MustParsePrefix("10.0.0.0/8")), PrefixValue(netip.MustParsePrefix("10.1.2.3/32")),
		V4AddrMask{Addr: 0x0a000001, Mask: 0xff00ff00},
		PrefixValue(netip.MustParsePrefix("2001:db8::/32")),
	}
	for _, v := range values {
		t.Run(v.Type().String()+"/"+v.String(), func(t *testing.T) {
			back, err := ParseValue(v.Type(), v.String())
			require.NoError(t, err)
			assert.Equal(t, v, back)
		})
	}
	r, err := ParseRange(TypeUint16, "5000-6000")
	require.NoError(t, err)
	assert.Equal(t, Range{Low: Uint16(5000), High: Uint16(6000)}, r)
	back, err := ParseRange(TypeUint16, r.String())
	require.NoError(t, err)
	assert.Equal(t, r, back)
	r6, err := ParseRange(TypeByteArray16, "2001:db8::1..2001:db8::ff")
	require.NoError(t, err)
	assert.Equal(t, V6FromAddr(netip.MustParseAddr("2001:db8::ff")), r6.High)
}

func TestParseValueConveniences(t *testing.T) {
	v, err := ParseValue(TypeUint32, "192.168.0.1")
	require.NoError(t, err)
	assert.Equal(t, Uint32(0xc0a80001), v, "IPv4 addresses are host-order UINT32 (rule B7)")
	v, err = ParseValue(TypeUint16, "0x1bb")
	require.NoError(t, err)
	assert.Equal(t, Uint16(443), v)
	v, err = ParseValue(TypeByteArray6, "00:11:22:33:44:55")
	require.NoError(t, err)
	assert.Equal(t, ByteArray6{0, 0x11, 0x22, 0x33, 0x44, 0x55}, v)
	v, err = ParseValue(TypeV4AddrMask, "10.0.0.0/255.0.0.0")
	require.NoError(t, err)
	assert.Equal(t, V4AddrMask{Addr: 0x0a000000, Mask: 0xff000000}, v)
	assert.Equal(t, "10.0.0.0/8", v.String())
}

func TestParseValueErrors(t *testing.T) {
	cases := []struct {
		t DataType
		s string
	}{
		{TypeUint8, "256"}, {TypeUint16, "-1"}, {TypeUint16, "http"}, {TypeInt8, "200"},
		{TypeByteArray16, "10.0.0.1"}, {TypeByteBlob, "0xabc"}, {TypeSID, "S-2-5"}, {TypeSID, "S-1-5-x"},
		{TypeByteArray6, "00:11"}, {TypeV4AddrMask, "2001:db8::/32"}, {TypeV6AddrMask, "10.0.0.0/8"},
		{TypeV4AddrMask, "10.0.0.0/33"}, {TypeBitmapIndex, "64"}, {TypeRange, "1-2"}, {TypeEmpty, "x"},
		{TypeSecurityDescriptor, ""}, {TypeTokenInformation, "x"},
	}
	for _, c := range cases {
		_, err := ParseValue(c.t, c.s)
		assert.ErrorIs(t, err, ErrTypeMismatch, "%s %q", c.t, c.s)
		assert.ErrorIs(t, err, ErrInvalid, "%s %q", c.t, c.s)
	}
	_, err := ParseRange(TypeUint16, "80")
	assert.ErrorIs(t, err, ErrInvalidRange)
}

func TestAppIDAndUTF16(t *testing.T) {
	b := AppID(`\device\x\a.exe`)
	assert.Equal(t, byte('\\'), b[0])
	assert.Equal(t, byte(0), b[1])
	assert.Equal(t, []byte{0, 0}, []byte(b[len(b)-2:]))
	s, ok := b.UTF16()
	require.True(t, ok)
	assert.Equal(t, `\device\x\a.exe`, s)
	emoji := UTF16Blob("a😀")
	s, ok = emoji.UTF16()
	require.True(t, ok)
	assert.Equal(t, "a😀", s)
	_, ok = ByteBlob{1, 2, 3}.UTF16()
	assert.False(t, ok)
}

func TestSID(t *testing.T) {
	sid := MustParseSID("S-1-5-32-544")
	assert.Equal(t, []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0}, []byte(sid))
	assert.Equal(t, "S-1-5-32-544", sid.String())
	assert.True(t, sid.Equal(MustParseSID("s-1-5-32-544")))
	assert.Equal(t, "invalid-sid", SID{1}.String())
}

// TestErrorTableMatchesFacts checks the hand-written FWP_E_* table against
// constants.tsv, the committed copy of the reference.
func TestErrorTableMatchesFacts(t *testing.T) {
	f, err := os.Open("../layers/facts/constants.tsv")
	require.NoError(t, err)
	defer f.Close()
	want := map[string]uint32{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if cols[0] != "FWP_E" {
			continue
		}
		code, err := strconv.ParseUint(cols[2], 0, 32)
		if err != nil {
			continue // "does not exist" rows
		}
		want[cols[1]] = uint32(code)
	}
	require.NotEmpty(t, want)
	got := map[string]uint32{}
	for _, e := range Errors() {
		got[e.Name] = e.Code
		assert.Same(t, e, ErrorByCode(e.Code))
		assert.Same(t, e, ErrorByName(e.Name))
	}
	assert.Equal(t, want, got)
}

func TestErrorSentinels(t *testing.T) {
	assert.ErrorIs(t, ErrFilterNotFound, ErrNotFound)
	assert.ErrorIs(t, ErrLayerNotFound, ErrNotFound)
	assert.NotErrorIs(t, ErrInUse, ErrNotFound)
	assert.ErrorIs(t, ErrTypeMismatch, ErrInvalid)
	assert.ErrorIs(t, ErrAlreadyExists, ErrExists)
	assert.ErrorIs(t, ErrNotSupported, errors.ErrUnsupported)
	assert.Equal(t, "wfp: FWP_E_FILTER_NOT_FOUND (0x80320003): the filter does not exist", ErrFilterNotFound.Error())
}

func TestActionTypes(t *testing.T) {
	for _, a := range []ActionType{ActionBlock, ActionPermit, ActionCalloutTerminating, ActionCalloutInspection, ActionCalloutUnknown, ActionContinue} {
		back, err := ParseActionType(a.ShortName())
		require.NoError(t, err)
		assert.Equal(t, a, back)
		back, err = ParseActionType(a.String())
		require.NoError(t, err)
		assert.Equal(t, a, back)
	}
	// Rule A8: the flag bits of the action numbers.
	assert.True(t, ActionCalloutTerminating.IsCallout() && ActionCalloutTerminating.IsTerminating())
	assert.True(t, ActionCalloutInspection.IsCallout() && !ActionCalloutInspection.IsTerminating())
	assert.True(t, ActionCalloutUnknown.IsCallout() && !ActionCalloutUnknown.IsTerminating())
	assert.False(t, ActionBlock.IsCallout())
	_, err := ParseActionType("allow")
	assert.ErrorIs(t, err, ErrInvalidActionType)
}

func TestMatchTypes(t *testing.T) {
	for _, m := range MatchTypes() {
		back, err := ParseMatchType(m.ShortName())
		require.NoError(t, err)
		assert.Equal(t, m, back)
	}
	// Rule B5.
	assert.True(t, TypeUint16.AcceptsMatch(MatchFlagsAllSet))
	assert.False(t, TypeInt16.AcceptsMatch(MatchFlagsAllSet))
	assert.True(t, TypeByteBlob.AcceptsMatch(MatchPrefix))
	assert.False(t, TypeByteBlob.AcceptsMatch(MatchEqualCaseInsensitive))
	assert.True(t, TypeUnicodeString.AcceptsMatch(MatchEqualCaseInsensitive))
	assert.False(t, TypeV4AddrMask.AcceptsMatch(MatchRange))
	assert.True(t, TypeSID.AcceptsMatch(MatchEqual))
	assert.True(t, TypeSID.AcceptsMatch(MatchNotEqual), "observed in real dumps (match_types_observed.tsv)")
}

func TestDataTypeNames(t *testing.T) {
	for _, d := range DataTypes() {
		back, err := ParseDataType(d.String())
		require.NoError(t, err)
		assert.Equal(t, d, back)
	}
	d, err := ParseDataType("byte_blob")
	require.NoError(t, err)
	assert.Equal(t, TypeByteBlob, d)
}

func TestWeight(t *testing.T) {
	assert.True(t, RangeWeight(15).Valid())
	assert.False(t, RangeWeight(16).Valid())
	for _, w := range []Weight{AutoWeight(), RangeWeight(3), ExactWeight(42)} {
		back, err := WeightFromValue(w.FWPValue())
		require.NoError(t, err)
		assert.Equal(t, w, back)
	}
	_, err := WeightFromValue(Uint16(3))
	assert.ErrorIs(t, err, ErrInvalidWeight)
	_, err = WeightFromValue(Uint8(16))
	assert.ErrorIs(t, err, ErrInvalidWeight)
}

func TestFlags(t *testing.T) {
	f := FilterFlagClearActionRight | FilterFlagPersistent | 0x100000
	assert.Equal(t, "FWPM_FILTER_FLAG_PERSISTENT|FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT|0x100000", f.String())
	assert.Equal(t, []string{"persistent", "clear_action_right", "0x100000"}, f.Names())
	for _, s := range []string{"clear_action_right", "FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT", "Clear-Action-Right", "0x8"} {
		got, err := ParseFilterFlag(s)
		require.NoError(t, err, s)
		assert.Equal(t, FilterFlagClearActionRight, got, s)
	}
	_, err := ParseFilterFlag("hard")
	assert.ErrorIs(t, err, ErrInvalidFlags)
	c, err := ParseCalloutFlag("registered")
	require.NoError(t, err)
	assert.Equal(t, CalloutFlagRegistered, c)
}

func TestUnsigned(t *testing.T) {
	for _, tc := range []struct {
		v      Value
		n, max uint64
		ok     bool
	}{
		{Uint8(7), 7, 0xff, true},
		{Uint16(443), 443, 0xffff, true},
		{Uint32(1 << 31), 1 << 31, 0xffffffff, true},
		{Uint64(1 << 63), 1 << 63, ^uint64(0), true},
		{Int8(-1), 0, 0, false},
		{UnicodeString("x"), 0, 0, false},
		{nil, 0, 0, false},
	} {
		n, max, ok := Unsigned(tc.v)
		if n != tc.n || max != tc.max || ok != tc.ok {
			t.Errorf("Unsigned(%#v) = %d, %d, %v; want %d, %d, %v", tc.v, n, max, ok, tc.n, tc.max, tc.ok)
		}
	}
}
