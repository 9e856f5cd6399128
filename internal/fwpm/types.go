// Package fwpm holds Go mirrors of the C structs of the WFP management API
// (fwptypes.h, fwpmtypes.h), an arena that lays them out in memory outside the Go
// heap, encoders from package wfp's values into them and decoders back, and (in
// _windows.go files only) the fwpuclnt.dll system calls.
//
// Layout: x64 and arm64 Windows are both LLP64, so every struct here has one layout on
// both: pointers and UINT64 are 8 bytes and 8-aligned, UINT32/ULONG/BOOL/enums 4,
// GUID 16 bytes with 4-byte alignment, and a union is as big as its largest member and
// aligned as its most aligned one. The Go structs reproduce that layout with explicit
// padding; layout_test.go checks every size and offset on the 64-bit GOARCH the tests
// run on (Go's amd64 and arm64 layouts of these structs are the same as Windows').
//
// Pointers inside the structs are typed Go pointers, but the memory they point at is
// always arena memory or memory the BFE returned, never the Go heap: the arena copies
// every string, GUID and blob in.
package fwpm

import (
	"unsafe"

	"github.com/wfpsim/wfpsim/wfp"
)

// GUID is the C GUID; wfp.GUID already has its layout (Data1 UINT32, Data2 and Data3
// UINT16, Data4 [8]UINT8).
type GUID = wfp.GUID

// ByteBlob is FWP_BYTE_BLOB {UINT32 size; UINT8 *data;}: 16 bytes.
type ByteBlob struct {
	Size uint32
	_    [4]byte
	Data *byte
}

// Value0 is FWP_VALUE0 {FWP_DATA_TYPE type; union {...};}: 16 bytes. The union holds
// UINT8, UINT16, UINT32, INT8, INT16, INT32, float inline, and a pointer for every
// other type (UINT64 *uint64, INT64 *int64, double *double64, FWP_BYTE_ARRAY16 *,
// FWP_BYTE_BLOB *, SID *, the security descriptor as FWP_BYTE_BLOB *sd,
// FWP_TOKEN_INFORMATION *, LPWSTR unicodeString, FWP_BYTE_ARRAY6 *,
// FWP_BITMAP_ARRAY64 *). Data is that union: read and written through unsafe.
type Value0 struct {
	Type uint32
	_    [4]byte
	Data unsafe.Pointer
}

// ConditionValue0 is FWP_CONDITION_VALUE0: FWP_VALUE0's union plus three pointer
// members, FWP_V4_ADDR_AND_MASK *v4AddrMask, FWP_V6_ADDR_AND_MASK *v6AddrMask and
// FWP_RANGE0 *rangeValue, so the same 16 bytes.
type ConditionValue0 = Value0

// Range0 is FWP_RANGE0 {FWP_VALUE0 valueLow; FWP_VALUE0 valueHigh;}: 32 bytes.
type Range0 struct {
	Low  Value0
	High Value0
}

// V4AddrAndMask is FWP_V4_ADDR_AND_MASK {UINT32 addr; UINT32 mask;}, host order: 8 bytes.
type V4AddrAndMask struct {
	Addr uint32
	Mask uint32
}

// V6AddrAndMask is FWP_V6_ADDR_AND_MASK {UINT8 addr[16]; UINT8 prefixLength;}: 17 bytes.
type V6AddrAndMask struct {
	Addr         [16]byte
	PrefixLength uint8
}

// ByteArray16 is FWP_BYTE_ARRAY16 {UINT8 byteArray16[16];}.
type ByteArray16 [16]byte

// ByteArray6 is FWP_BYTE_ARRAY6 {UINT8 byteArray6[6];}.
type ByteArray6 [6]byte

// SIDAndAttributes is SID_AND_ATTRIBUTES {PSID Sid; DWORD Attributes;}: 16 bytes.
type SIDAndAttributes struct {
	SID        *byte
	Attributes uint32
	_          [4]byte
}

// TokenInformation is FWP_TOKEN_INFORMATION {ULONG sidCount; PSID_AND_ATTRIBUTES sids;
// ULONG restrictedSidCount; PSID_AND_ATTRIBUTES restrictedSids;}: 32 bytes.
type TokenInformation struct {
	SIDCount           uint32
	_                  [4]byte
	SIDs               *SIDAndAttributes
	RestrictedSIDCount uint32
	_                  [4]byte
	RestrictedSIDs     *SIDAndAttributes
}

// DisplayData0 is FWPM_DISPLAY_DATA0 {wchar_t *name; wchar_t *description;}: 16 bytes.
type DisplayData0 struct {
	Name        *uint16
	Description *uint16
}

// FilterCondition0 is FWPM_FILTER_CONDITION0 {GUID fieldKey; FWP_MATCH_TYPE matchType;
// FWP_CONDITION_VALUE0 conditionValue;}: 16 + 4 + 4 padding + 16 = 40 bytes.
type FilterCondition0 struct {
	FieldKey       GUID
	MatchType      uint32
	_              [4]byte
	ConditionValue ConditionValue0
}

// Action0 is FWPM_ACTION0 {FWP_ACTION_TYPE type; union {GUID filterType; GUID
// calloutKey; UINT8 bitmapIndex;};}: the union is a GUID (4-aligned), so 20 bytes.
type Action0 struct {
	Type uint32
	GUID GUID
}

// Filter0 is FWPM_FILTER0: 200 bytes (see layout_test.go for every offset).
type Filter0 struct {
	FilterKey           GUID
	DisplayData         DisplayData0
	Flags               uint32
	_                   [4]byte
	ProviderKey         *GUID
	ProviderData        ByteBlob
	LayerKey            GUID
	SublayerKey         GUID
	Weight              Value0
	NumFilterConditions uint32
	_                   [4]byte
	FilterCondition     *FilterCondition0
	Action              Action0
	_                   [4]byte
	// Context is union {UINT64 rawContext; GUID providerContextKey;}: 16 bytes, 8-aligned
	// because of the UINT64. RawContext reads the first 8 bytes.
	Context         GUID
	Reserved        *GUID
	FilterID        uint64
	EffectiveWeight Value0
}

// Sublayer0 is FWPM_SUBLAYER0 {GUID subLayerKey; FWPM_DISPLAY_DATA0 displayData;
// UINT32 flags; GUID *providerKey; FWP_BYTE_BLOB providerData; UINT16 weight;}: 72 bytes.
type Sublayer0 struct {
	SublayerKey  GUID
	DisplayData  DisplayData0
	Flags        uint32
	_            [4]byte
	ProviderKey  *GUID
	ProviderData ByteBlob
	Weight       uint16
	_            [6]byte
}

// Provider0 is FWPM_PROVIDER0 {GUID providerKey; FWPM_DISPLAY_DATA0 displayData;
// UINT32 flags; FWP_BYTE_BLOB providerData; wchar_t *serviceName;}: 64 bytes.
type Provider0 struct {
	ProviderKey  GUID
	DisplayData  DisplayData0
	Flags        uint32
	_            [4]byte
	ProviderData ByteBlob
	ServiceName  *uint16
}

// Callout0 is FWPM_CALLOUT0 {GUID calloutKey; FWPM_DISPLAY_DATA0 displayData; UINT32
// flags; GUID *providerKey; FWP_BYTE_BLOB providerData; GUID applicableLayer; UINT32
// calloutId;}: 88 bytes.
type Callout0 struct {
	CalloutKey      GUID
	DisplayData     DisplayData0
	Flags           uint32
	_               [4]byte
	ProviderKey     *GUID
	ProviderData    ByteBlob
	ApplicableLayer GUID
	CalloutID       uint32
	_               [4]byte
}

// Session0 is FWPM_SESSION0 {GUID sessionKey; FWPM_DISPLAY_DATA0 displayData; UINT32
// flags; UINT32 txnWaitTimeoutInMSec; DWORD processId; SID *sid; wchar_t *username;
// BOOL kernelMode;}: 72 bytes.
type Session0 struct {
	SessionKey           GUID
	DisplayData          DisplayData0
	Flags                uint32
	TxnWaitTimeoutInMSec uint32
	ProcessID            uint32
	_                    [4]byte
	SID                  *byte
	Username             *uint16
	KernelMode           int32
	_                    [4]byte
}

// SessionFlagDynamic is FWPM_SESSION_FLAG_DYNAMIC.
const SessionFlagDynamic = 0x1

// FilterEnumTemplate0 is FWPM_FILTER_ENUM_TEMPLATE0 {GUID *providerKey; GUID layerKey;
// FWP_FILTER_ENUM_TYPE enumType; UINT32 flags; FWPM_PROVIDER_CONTEXT_ENUM_TEMPLATE0
// *providerContextTemplate; UINT32 numFilterConditions; FWPM_FILTER_CONDITION0
// *filterCondition; UINT32 actionMask; GUID *calloutKey;}: 72 bytes.
type FilterEnumTemplate0 struct {
	ProviderKey             *GUID
	LayerKey                GUID
	EnumType                uint32
	Flags                   uint32
	ProviderContextTemplate unsafe.Pointer
	NumFilterConditions     uint32
	_                       [4]byte
	FilterCondition         *FilterCondition0
	ActionMask              uint32
	_                       [4]byte
	CalloutKey              *GUID
}

// ProviderEnumTemplate0 is FWPM_PROVIDER_ENUM_TEMPLATE0 {UINT64 reserved;}.
type ProviderEnumTemplate0 struct{ Reserved uint64 }

// SublayerEnumTemplate0 is FWPM_SUBLAYER_ENUM_TEMPLATE0 {GUID *providerKey;}.
type SublayerEnumTemplate0 struct{ ProviderKey *GUID }

// CalloutEnumTemplate0 is FWPM_CALLOUT_ENUM_TEMPLATE0 {GUID *providerKey; GUID
// layerKey;}: 24 bytes.
type CalloutEnumTemplate0 struct {
	ProviderKey *GUID
	LayerKey    GUID
}

// FileTime is FILETIME {DWORD dwLowDateTime; DWORD dwHighDateTime;}: 100 ns intervals
// since 1601-01-01 UTC, 4-aligned.
type FileTime struct {
	Low, High uint32
}

// NetEventHeader0 is FWPM_NET_EVENT_HEADER0 {FILETIME timeStamp; UINT32 flags;
// FWP_IP_VERSION ipVersion; UINT8 ipProtocol; union {UINT32 localAddrV4;
// FWP_BYTE_ARRAY16 localAddrV6;}; union {remote...}; UINT16 localPort; UINT16
// remotePort; UINT32 scopeId; FWP_BYTE_BLOB appId; SID *userId;}: 88 bytes. The
// address unions are 16 bytes, 4-aligned (UINT32 is their most aligned member).
type NetEventHeader0 struct {
	TimeStamp  FileTime
	Flags      uint32
	IPVersion  uint32
	IPProtocol uint8
	_          [3]byte
	LocalAddr  [16]byte
	RemoteAddr [16]byte
	LocalPort  uint16
	RemotePort uint16
	ScopeID    uint32
	_          [4]byte
	AppID      ByteBlob
	UserID     *byte
}

// FWPM_NET_EVENT_FLAG_* bits of NetEventHeader0.Flags: which fields are set.
const (
	NetEventFlagIPProtocolSet = 0x1
	NetEventFlagLocalAddrSet  = 0x2
	NetEventFlagRemoteAddrSet = 0x4
	NetEventFlagLocalPortSet  = 0x8
	NetEventFlagRemotePortSet = 0x10
	NetEventFlagAppIDSet      = 0x20
	NetEventFlagUserIDSet     = 0x40
	NetEventFlagScopeIDSet    = 0x80
	NetEventFlagIPVersionSet  = 0x100
)

// FWP_IP_VERSION values.
const (
	IPVersionV4 = 0
	IPVersionV6 = 1
)

// NetEventHeader1 is FWPM_NET_EVENT_HEADER1: FWPM_NET_EVENT_HEADER0's fields, then a
// reserved union {struct {FWP_AF reserved1; union {struct {FWP_BYTE_ARRAY6
// reserved2; FWP_BYTE_ARRAY6 reserved3; UINT32 reserved4; UINT32 reserved5; UINT16
// reserved6; UINT32 reserved7; UINT32 reserved8; UINT16 reserved9; UINT64
// reserved10;};};};}. The UINT64 makes the union 8-aligned: reserved1 at 88, the inner
// union (48 bytes) at 96, 144 bytes in all.
type NetEventHeader1 struct {
	NetEventHeader0
	Reserved1 uint32
	_         [4]byte
	Reserved  [48]byte
}

// NetEvent1 is FWPM_NET_EVENT1 {FWPM_NET_EVENT_HEADER1 header; FWPM_NET_EVENT_TYPE
// type; union {FWPM_NET_EVENT_IKEEXT_MM_FAILURE1 *ikeMmFailure; ...;
// FWPM_NET_EVENT_CLASSIFY_DROP1 *classifyDrop; ...};}: 160 bytes, what
// FwpmNetEventEnum1 returns and the FwpmNetEventSubscribe0 callback receives. Every
// union member is a pointer; Event points at the member the type selects.
type NetEvent1 struct {
	Header NetEventHeader1
	Type   uint32
	_      [4]byte
	Event  unsafe.Pointer
}

// NetEventClassifyDrop1 is FWPM_NET_EVENT_CLASSIFY_DROP1 {UINT64 filterId; UINT16
// layerId; UINT32 reauthReason; UINT32 originalProfile; UINT32 currentProfile; UINT32
// msFwpDirection; BOOL isLoopback;}: 32 bytes.
type NetEventClassifyDrop1 struct {
	FilterID        uint64
	LayerID         uint16
	_               [2]byte
	ReauthReason    uint32
	OriginalProfile uint32
	CurrentProfile  uint32
	MsFwpDirection  uint32
	IsLoopback      int32
}

// msFwpDirection values. FWPM_NET_EVENT_CLASSIFY_DROP1's page lists FWP_DIRECTION_IN
// (0x3900), FWP_DIRECTION_OUT (0x3901) and FWP_DIRECTION_FORWARD (0x3902), while
// FWPM_NET_EVENT_CLASSIFY_ALLOW0's says FWP_DIRECTION_INBOUND (1) or OUTBOUND (0) for
// the same field: which one Windows writes is undocumented, so both are read.
const (
	MsFwpDirectionIn      = 0x3900
	MsFwpDirectionOut     = 0x3901
	MsFwpDirectionForward = 0x3902
)

// NetEventSubscription0 is FWPM_NET_EVENT_SUBSCRIPTION0 {FWPM_NET_EVENT_ENUM_TEMPLATE0
// *enumTemplate; UINT32 flags; GUID sessionKey;}: the GUID (4-aligned) at 12, 32
// bytes.
type NetEventSubscription0 struct {
	EnumTemplate *NetEventEnumTemplate0
	Flags        uint32
	SessionKey   GUID
	_            [4]byte
}

// NetEventEnumTemplate0 is FWPM_NET_EVENT_ENUM_TEMPLATE0 {FILETIME startTime; FILETIME
// endTime; UINT32 numFilterConditions; FWPM_FILTER_CONDITION0 *filterCondition;}: 32
// bytes.
type NetEventEnumTemplate0 struct {
	StartTime           FileTime
	EndTime             FileTime
	NumFilterConditions uint32
	_                   [4]byte
	FilterCondition     *FilterCondition0
}
