package fwpm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/wfpsim/wfpsim/wfp"
)

func newArena(t *testing.T) *Arena {
	t.Helper()
	a := NewArena()
	t.Cleanup(func() {
		if err := a.Free(); err != nil {
			t.Errorf("Free: %v", err)
		}
	})
	return a
}

var localSystem = wfp.SID{1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0} // S-1-5-18

// everyValue has one condition value of every type the encoder handles off Windows.
var everyValue = []wfp.Value{
	wfp.Empty{},
	wfp.Uint8(6), wfp.Uint16(443), wfp.Uint32(0x7F000001), wfp.Uint64(1 << 40),
	wfp.Int8(-3), wfp.Int16(-300), wfp.Int32(-70000), wfp.Int64(-1 << 40),
	wfp.Float(1.5), wfp.Double(-2.25),
	wfp.V6FromAddr(netip.MustParseAddr("::1")),
	wfp.ByteArray6{0, 0x11, 0x22, 0x33, 0x44, 0x55},
	wfp.ByteBlob{1, 2, 3},
	wfp.AppID(`\device\harddiskvolume3\windows\system32\svchost.exe`),
	wfp.UnicodeString("héllo, wörld"),
	wfp.UnicodeString(""),
	localSystem,
	wfp.TokenInformation{SIDs: []wfp.SID{localSystem}, RestrictedSIDs: []wfp.SID{localSystem, localSystem}},
	wfp.BitmapIndex(9),
	wfp.BitmapArray64{1, 2, 3, 4, 5, 6, 7, 8},
	wfp.V4AddrMask{Addr: 0x0A000000, Mask: 0xFF000000},
	wfp.V6AddrMask{Addr: netip.MustParseAddr("fe80::").As16(), PrefixLength: 10},
	wfp.Range{Low: wfp.Uint16(1000), High: wfp.Uint16(2000)},
	wfp.Range{Low: wfp.Int64(-5), High: wfp.Int64(5)},
	wfp.Range{Low: wfp.V6FromAddr(netip.MustParseAddr("::1")), High: wfp.V6FromAddr(netip.MustParseAddr("::ff"))},
}

func TestValueRoundTrip(t *testing.T) {
	a := newArena(t)
	for _, v := range everyValue {
		dst, err := alloc[Value0](a)
		if err != nil {
			t.Fatal(err)
		}
		if err := EncodeConditionValue(a, dst, v); err != nil {
			t.Errorf("encode %s %v: %v", v.Type(), v, err)
			continue
		}
		if got := wfp.DataType(dst.Type); got != v.Type() {
			t.Errorf("%v: type tag %s, want %s", v, got, v.Type())
		}
		back, err := DecodeValue(dst)
		if err != nil {
			t.Errorf("decode %s %v: %v", v.Type(), v, err)
			continue
		}
		if !reflect.DeepEqual(back, v) {
			t.Errorf("round trip of %s: got %#v, want %#v", v.Type(), back, v)
		}
	}
}

func TestValueErrors(t *testing.T) {
	a := newArena(t)
	dst, _ := alloc[Value0](a)
	cases := []struct {
		v    wfp.Value
		want error
	}{
		{wfp.Range{Low: wfp.Uint8(1)}, wfp.ErrInvalidRange},
		{wfp.Range{Low: wfp.Uint8(1), High: wfp.Uint16(2)}, wfp.ErrInvalidRange},
		{wfp.Range{Low: wfp.V4AddrMask{}, High: wfp.V4AddrMask{}}, wfp.ErrTypeMismatch},
		{wfp.SID{1, 2, 3}, nil},
		{wfp.UnicodeString("a\x00b"), nil},
		{wfp.TokenAccessInformation{User: localSystem}, nil},
	}
	for _, c := range cases {
		err := EncodeConditionValue(a, dst, c.v)
		if err == nil {
			t.Errorf("encode %#v: no error", c.v)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("encode %#v: %v, want %v", c.v, err, c.want)
		}
	}
	if err := EncodeValue(a, dst, wfp.V4AddrMask{}); !errors.Is(err, wfp.ErrTypeMismatch) {
		t.Errorf("EncodeValue(V4AddrMask) = %v, want FWP_E_TYPE_MISMATCH", err)
	}
	if _, err := DecodeValue(&Value0{Type: 99}); err == nil {
		t.Error("decoding type 99: no error")
	}
	if _, err := DecodeValue(&Value0{Type: uint32(wfp.TypeUint64)}); !errors.Is(err, wfp.ErrNullPointer) {
		t.Errorf("decoding a UINT64 at NULL: %v, want FWP_E_NULL_POINTER", err)
	}
}

func TestSecurityDescriptorOffWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows converts SDDL")
	}
	a := newArena(t)
	dst, _ := alloc[Value0](a)
	err := EncodeConditionValue(a, dst, wfp.SecurityDescriptor("O:LSD:(A;;CC;;;S-1-5-18)"))
	if !errors.Is(err, wfp.ErrNotSupported) {
		t.Errorf("encoding an SDDL value off Windows: %v, want ErrNotSupported", err)
	}
}

func testFilter() wfp.Filter {
	return wfp.Filter{
		Key:         wfp.FilterKey(wfp.MustParseGUID("11111111-2222-3333-4444-555555555555")),
		DisplayData: wfp.DisplayData{Name: "block 8080", Description: "test filter"},
		Flags:       wfp.FilterFlagClearActionRight,
		Provider:    wfp.ProviderKey(wfp.MustParseGUID("aaaaaaaa-0000-0000-0000-000000000001")),
		Layer:       wfp.LayerKey(wfp.MustParseGUID("c38d57d1-05a7-4c33-904f-7fbceee60e82")),
		Sublayer:    wfp.SublayerKey(wfp.MustParseGUID("aaaaaaaa-0000-0000-0000-000000000002")),
		Weight:      wfp.ExactWeight(0x1234),
		Conditions: []wfp.Condition{
			{Field: wfp.FieldKey(wfp.MustParseGUID("c35a604d-d22b-4e1a-91b4-68f674ee674b")), Match: wfp.MatchEqual, Value: wfp.Uint16(8080)},
			{Field: wfp.FieldKey(wfp.MustParseGUID("b235ae9a-1d64-49b8-a44c-5ff3d9095045")), Match: wfp.MatchEqual, Value: wfp.V4AddrMask{Addr: 0x7F000000, Mask: 0xFF000000}},
		},
		Action:     wfp.Action{Type: wfp.ActionBlock},
		RawContext: 0xDEADBEEF,
	}
}

func TestFilterRoundTrip(t *testing.T) {
	a := newArena(t)
	for _, f := range []wfp.Filter{
		testFilter(),
		{Layer: wfp.LayerKey(wfp.MustParseGUID("c38d57d1-05a7-4c33-904f-7fbceee60e82")), DisplayData: wfp.DisplayData{Name: "auto"}, Action: wfp.Action{Type: wfp.ActionPermit}},
		{
			DisplayData: wfp.DisplayData{Name: "callout"}, Weight: wfp.RangeWeight(3),
			Flags:           wfp.FilterFlagHasProviderContext,
			ProviderContext: wfp.MustParseGUID("bbbbbbbb-0000-0000-0000-000000000003"),
			Action:          wfp.Action{Type: wfp.ActionCalloutTerminating, Callout: wfp.CalloutKey(wfp.MustParseGUID("cccccccc-0000-0000-0000-000000000004"))},
		},
	} {
		enc, err := EncodeFilter(a, &f)
		if err != nil {
			t.Fatalf("EncodeFilter: %v", err)
		}
		back, err := DecodeFilter(enc)
		if err != nil {
			t.Fatalf("DecodeFilter: %v", err)
		}
		if !reflect.DeepEqual(back, f) {
			t.Errorf("filter round trip:\n got %#v\nwant %#v", back, f)
		}
	}
}

func TestFilterGoldenBytes(t *testing.T) {
	a := newArena(t)
	f := testFilter()
	enc, err := EncodeFilter(a, &f)
	if err != nil {
		t.Fatal(err)
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(enc)), unsafe.Sizeof(*enc))
	// Zero the pointers (their values depend on where the arena was mapped) and compare
	// the rest with the bytes worked out by hand from the FWPM_FILTER0 layout.
	b := append([]byte(nil), raw...)
	for _, off := range []int{16, 24, 40, 104, 120} {
		if bytes.Equal(b[off:off+8], make([]byte, 8)) {
			t.Errorf("offset %d: want a pointer, got zero", off)
		}
		copy(b[off:off+8], make([]byte, 8))
	}
	want := "" +
		"11111111222233334444555555555555" + // filterKey: Data1..3 little-endian, Data4 as is
		"0000000000000000" + "0000000000000000" + // displayData.name, .description (pointers)
		"08000000" + "00000000" + // flags FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT, padding
		"0000000000000000" + // providerKey (pointer)
		"00000000" + "00000000" + "0000000000000000" + // providerData: size 0, padding, NULL
		"d1578dc3a705334c904f7fbceee60e82" + // layerKey FWPM_LAYER_ALE_AUTH_CONNECT_V4
		"aaaaaaaa000000000000000000000002" + // subLayerKey
		"04000000" + "00000000" + "0000000000000000" + // weight: FWP_UINT64, padding, *uint64
		"02000000" + "00000000" + "0000000000000000" + // numFilterConditions, padding, filterCondition
		"01100000" + "00000000000000000000000000000000" + // action: FWP_ACTION_BLOCK, filterType zero
		"00000000" + // padding before the 8-aligned union
		"efbeadde000000000000000000000000" + // rawContext 0xDEADBEEF
		"0000000000000000" + // reserved
		"0000000000000000" + // filterId
		"00000000000000000000000000000000" // effectiveWeight FWP_EMPTY
	wantB, _ := hex.DecodeString(want)
	// The GUID's Data1..Data3 are little-endian in memory.
	if len(wantB) != 200 {
		t.Fatalf("golden has %d bytes, want 200", len(wantB))
	}
	fixGUID := func(off int) {
		g := wantB[off : off+16]
		g[0], g[1], g[2], g[3] = g[3], g[2], g[1], g[0]
		g[4], g[5] = g[5], g[4]
		g[6], g[7] = g[7], g[6]
	}
	fixGUID(0)
	fixGUID(80)
	if !bytes.Equal(b, wantB) {
		t.Errorf("FWPM_FILTER0 bytes:\n got %x\nwant %x", b, wantB)
	}
	// The weight points at the exact weight and the conditions at two 40-byte entries.
	if got := *(*uint64)(enc.Weight.Data); got != 0x1234 {
		t.Errorf("*weight.uint64 = %#x, want 0x1234", got)
	}
	conds := unsafe.Slice(enc.FilterCondition, 2)
	if conds[0].MatchType != 0 || *inline[uint16](&conds[0].ConditionValue) != 8080 || conds[0].ConditionValue.Type != 2 {
		t.Errorf("condition 0 = %+v, want FWP_MATCH_EQUAL FWP_UINT16 8080", conds[0])
	}
	if m := (*V4AddrAndMask)(conds[1].ConditionValue.Data); conds[1].ConditionValue.Type != 256 || *m != (V4AddrAndMask{0x7F000000, 0xFF000000}) {
		t.Errorf("condition 1 = type %d %+v, want FWP_V4_ADDR_MASK 127.0.0.0/8", conds[1].ConditionValue.Type, *m)
	}
	if got := UTF16ToString(enc.DisplayData.Name); got != "block 8080" {
		t.Errorf("name = %q", got)
	}
}

func TestObjectsRoundTrip(t *testing.T) {
	a := newArena(t)
	p := wfp.Provider{Key: wfp.ProviderKey(wfp.MustParseGUID("aaaaaaaa-0000-0000-0000-000000000001")), DisplayData: wfp.DisplayData{Name: "Contoso"}, Flags: wfp.ProviderFlagPersistent, ServiceName: "contososvc", Data: []byte{9, 8}}
	ep, err := EncodeProvider(a, &p)
	if err != nil {
		t.Fatal(err)
	}
	if got := DecodeProvider(ep); !reflect.DeepEqual(got, p) {
		t.Errorf("provider: got %#v, want %#v", got, p)
	}
	s := wfp.Sublayer{Key: wfp.SublayerKey(wfp.MustParseGUID("aaaaaaaa-0000-0000-0000-000000000002")), DisplayData: wfp.DisplayData{Name: "contoso", Description: "d"}, Provider: p.Key, Weight: 0x8000}
	es, err := EncodeSublayer(a, &s)
	if err != nil {
		t.Fatal(err)
	}
	if got := DecodeSublayer(es); !reflect.DeepEqual(got, s) {
		t.Errorf("sublayer: got %#v, want %#v", got, s)
	}
	c := wfp.Callout{Key: wfp.CalloutKey(wfp.MustParseGUID("cccccccc-0000-0000-0000-000000000004")), DisplayData: wfp.DisplayData{Name: "ids"}, Layer: wfp.LayerKey(wfp.MustParseGUID("c38d57d1-05a7-4c33-904f-7fbceee60e82"))}
	ec, err := EncodeCallout(a, &c)
	if err != nil {
		t.Fatal(err)
	}
	if got := DecodeCallout(ec); !reflect.DeepEqual(got, c) {
		t.Errorf("callout: got %#v, want %#v", got, c)
	}
	ses, err := EncodeSession(a, &wfp.SessionOptions{Name: "wfpsim", Dynamic: true, TxnWaitTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if ses.Flags != SessionFlagDynamic || ses.TxnWaitTimeoutInMSec != 2000 || UTF16ToString(ses.DisplayData.Name) != "wfpsim" {
		t.Errorf("session = %+v", *ses)
	}
	pk := p.Key
	tmpl, err := EncodeFilterEnumTemplate(a, &wfp.FilterEnumTemplate{Layer: c.Layer, Provider: &pk, Conditions: testFilter().Conditions})
	if err != nil {
		t.Fatal(err)
	}
	if *tmpl.ProviderKey != GUID(pk) || tmpl.ActionMask != 0xFFFFFFFF || tmpl.NumFilterConditions != 2 {
		t.Errorf("template = %+v", *tmpl)
	}
	if _, err := EncodeFilterEnumTemplate(a, &wfp.FilterEnumTemplate{}); !errors.Is(err, wfp.ErrInvalidEnumerator) {
		t.Errorf("template without a layer: %v, want FWP_E_INVALID_ENUMERATOR", err)
	}
}

func TestNetEventDecode(t *testing.T) {
	a := newArena(t)
	e, _ := alloc[NetEvent1](a)
	d, _ := alloc[NetEventClassifyDrop1](a)
	*d = NetEventClassifyDrop1{FilterID: 77, LayerID: 48, MsFwpDirection: MsFwpDirectionIn, IsLoopback: 1}
	e.Type = uint32(wfp.NetEventClassifyDrop)
	e.Event = unsafe.Pointer(d)
	h := &e.Header
	h.Flags = NetEventFlagIPProtocolSet | NetEventFlagLocalAddrSet | NetEventFlagRemoteAddrSet | NetEventFlagLocalPortSet | NetEventFlagRemotePortSet | NetEventFlagIPVersionSet | NetEventFlagAppIDSet
	h.IPProtocol = 6
	*(*uint32)(unsafe.Pointer(&h.LocalAddr[0])) = 0x7F000001
	*(*uint32)(unsafe.Pointer(&h.RemoteAddr[0])) = 0x7F000002
	h.LocalPort, h.RemotePort = 50000, 8080
	app := wfp.AppID(`\device\x.exe`)
	h.AppID, _ = a.Blob(app)
	// 2020-01-01 00:00:00 UTC is 132223104000000000 ticks after 1601.
	ticks := uint64(132223104000000000)
	h.TimeStamp = FileTime{Low: uint32(ticks), High: uint32(ticks >> 32)}
	got, err := DecodeNetEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	want := wfp.NetEvent{Type: wfp.NetEventClassifyDrop, FilterID: 77, LayerID: 48, Direction: wfp.DirectionInbound, Loopback: true, Header: wfp.NetEventHeader{
		TimeStamp: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), IPProtocol: 6,
		LocalAddr: netip.MustParseAddr("127.0.0.1"), RemoteAddr: netip.MustParseAddr("127.0.0.2"),
		LocalPort: 50000, RemotePort: 8080, AppID: app,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("net event:\n got %#v\nwant %#v", got, want)
	}

	// Both documented encodings of the direction are read; anything else is refused.
	for dir, want := range map[uint32]wfp.Direction{MsFwpDirectionOut: wfp.DirectionOutbound, 0: wfp.DirectionOutbound,
		MsFwpDirectionIn: wfp.DirectionInbound, 1: wfp.DirectionInbound, MsFwpDirectionForward: wfp.DirectionInbound} {
		d.MsFwpDirection = dir
		got, err := DecodeNetEvent(e)
		if err != nil || got.Direction != want {
			t.Errorf("msFwpDirection 0x%x: %v, %v; want %v", dir, got.Direction, err, want)
		}
	}
	d.MsFwpDirection = 7
	if _, err := DecodeNetEvent(e); !errors.Is(err, wfp.ErrInvalidParameter) {
		t.Errorf("msFwpDirection 7: %v, want FWP_E_INVALID_PARAMETER", err)
	}
	e.Event = nil
	if _, err := DecodeNetEvent(e); !errors.Is(err, wfp.ErrNullPointer) {
		t.Errorf("a drop without its body: %v, want FWP_E_NULL_POINTER", err)
	}
}

func TestArena(t *testing.T) {
	a := newArena(t)
	big, err := a.Alloc(3 * chunkSize)
	if err != nil {
		t.Fatal(err)
	}
	s := unsafe.Slice((*byte)(big), 3*chunkSize)
	s[len(s)-1] = 1
	for i := 0; i < 1000; i++ {
		p, err := a.Alloc(13)
		if err != nil {
			t.Fatal(err)
		}
		if uintptr(p)%8 != 0 {
			t.Fatalf("allocation %d at %p is not 8-aligned", i, p)
		}
	}
	if _, err := a.Alloc(-1); err == nil {
		t.Error("Alloc(-1): no error")
	}
}

func TestFilterErrors(t *testing.T) {
	a := newArena(t)
	bad := testFilter()
	bad.Weight = wfp.RangeWeight(16)
	if _, err := EncodeFilter(a, &bad); !errors.Is(err, wfp.ErrInvalidWeight) {
		t.Errorf("weight range 16: %v, want FWP_E_INVALID_WEIGHT", err)
	}
	bad = testFilter()
	bad.Conditions = append(bad.Conditions, wfp.Condition{Field: bad.Conditions[0].Field})
	if _, err := EncodeFilter(a, &bad); err == nil || !strings.Contains(err.Error(), "condition 2") {
		t.Errorf("a condition without a value: %v, want an error naming condition 2", err)
	}
	bad = testFilter()
	bad.DisplayData.Name = "a\x00b"
	if _, err := EncodeFilter(a, &bad); err == nil {
		t.Error("a name with a NUL: no error")
	}
}
