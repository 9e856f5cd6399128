package fwpm

import (
	"testing"
	"unsafe"
)

// The expected sizes and offsets of the x64/arm64 Windows layout, worked out by hand
// from the declarations in fwptypes.h and fwpmtypes.h with the LLP64 rules: pointers
// and UINT64 8 bytes, 8-aligned; UINT32, enums and BOOL 4; UINT16 2; GUID 16 bytes,
// 4-aligned (its widest member is the UINT32 Data1); a union is as big as its largest
// member; a struct is padded to a multiple of its most aligned member. For
// FWPM_FILTER0: filterKey 0 (GUID, 16), displayData 16 (two pointers), flags 32,
// 4 padding, providerKey 40, providerData 48 (FWP_BYTE_BLOB, 16), layerKey 64,
// subLayerKey 80, weight 96 (FWP_VALUE0, 16), numFilterConditions 112, 4 padding,
// filterCondition 120, action 128 (FWPM_ACTION0: UINT32 and a GUID, 20), 4 padding
// because the next union holds a UINT64, rawContext/providerContextKey 152 (16),
// reserved 168, filterId 176, effectiveWeight 184, total 200, the size the Windows SDK
// gives sizeof(FWPM_FILTER0) on x64. The FWPM_NET_EVENT_HEADER0 and
// FWPM_FILTER_ENUM_TEMPLATE0 offsets were also cross-checked against the offsets that
// projections generated from Microsoft's win32metadata publish (88 bytes, appId at 64;
// flags at 28, calloutKey at 64).
func TestLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the Windows layout is checked on 64-bit architectures only")
	}
	type row struct {
		name      string
		got, want uintptr
	}
	var (
		f   Filter0
		s   Sublayer0
		p   Provider0
		c   Callout0
		ses Session0
		ft  FilterEnumTemplate0
		h   NetEventHeader0
		h1  NetEventHeader1
		ne  NetEvent1
		cd  NetEventClassifyDrop1
		sub NetEventSubscription0
		fc  FilterCondition0
		tet NetEventEnumTemplate0
		ti  TokenInformation
	)
	rows := []row{
		{"sizeof(FWP_BYTE_BLOB)", unsafe.Sizeof(ByteBlob{}), 16},
		{"sizeof(FWP_VALUE0)", unsafe.Sizeof(Value0{}), 16},
		{"sizeof(FWP_CONDITION_VALUE0)", unsafe.Sizeof(ConditionValue0{}), 16},
		{"sizeof(FWP_RANGE0)", unsafe.Sizeof(Range0{}), 32},
		{"sizeof(FWP_V4_ADDR_AND_MASK)", unsafe.Sizeof(V4AddrAndMask{}), 8},
		{"sizeof(FWP_V6_ADDR_AND_MASK)", unsafe.Sizeof(V6AddrAndMask{}), 17},
		{"sizeof(FWP_BYTE_ARRAY16)", unsafe.Sizeof(ByteArray16{}), 16},
		{"sizeof(FWP_BYTE_ARRAY6)", unsafe.Sizeof(ByteArray6{}), 6},
		{"sizeof(SID_AND_ATTRIBUTES)", unsafe.Sizeof(SIDAndAttributes{}), 16},
		{"sizeof(FWP_TOKEN_INFORMATION)", unsafe.Sizeof(ti), 32},
		{"FWP_TOKEN_INFORMATION.restrictedSids", unsafe.Offsetof(ti.RestrictedSIDs), 24},
		{"sizeof(FWPM_DISPLAY_DATA0)", unsafe.Sizeof(DisplayData0{}), 16},
		{"sizeof(FWPM_FILTER_CONDITION0)", unsafe.Sizeof(fc), 40},
		{"FWPM_FILTER_CONDITION0.matchType", unsafe.Offsetof(fc.MatchType), 16},
		{"FWPM_FILTER_CONDITION0.conditionValue", unsafe.Offsetof(fc.ConditionValue), 24},
		{"sizeof(FWPM_ACTION0)", unsafe.Sizeof(Action0{}), 20},

		{"sizeof(FWPM_FILTER0)", unsafe.Sizeof(f), 200},
		{"FWPM_FILTER0.displayData", unsafe.Offsetof(f.DisplayData), 16},
		{"FWPM_FILTER0.flags", unsafe.Offsetof(f.Flags), 32},
		{"FWPM_FILTER0.providerKey", unsafe.Offsetof(f.ProviderKey), 40},
		{"FWPM_FILTER0.providerData", unsafe.Offsetof(f.ProviderData), 48},
		{"FWPM_FILTER0.layerKey", unsafe.Offsetof(f.LayerKey), 64},
		{"FWPM_FILTER0.subLayerKey", unsafe.Offsetof(f.SublayerKey), 80},
		{"FWPM_FILTER0.weight", unsafe.Offsetof(f.Weight), 96},
		{"FWPM_FILTER0.numFilterConditions", unsafe.Offsetof(f.NumFilterConditions), 112},
		{"FWPM_FILTER0.filterCondition", unsafe.Offsetof(f.FilterCondition), 120},
		{"FWPM_FILTER0.action", unsafe.Offsetof(f.Action), 128},
		{"FWPM_FILTER0.rawContext", unsafe.Offsetof(f.Context), 152},
		{"FWPM_FILTER0.reserved", unsafe.Offsetof(f.Reserved), 168},
		{"FWPM_FILTER0.filterId", unsafe.Offsetof(f.FilterID), 176},
		{"FWPM_FILTER0.effectiveWeight", unsafe.Offsetof(f.EffectiveWeight), 184},

		{"sizeof(FWPM_SUBLAYER0)", unsafe.Sizeof(s), 72},
		{"FWPM_SUBLAYER0.providerKey", unsafe.Offsetof(s.ProviderKey), 40},
		{"FWPM_SUBLAYER0.providerData", unsafe.Offsetof(s.ProviderData), 48},
		{"FWPM_SUBLAYER0.weight", unsafe.Offsetof(s.Weight), 64},

		{"sizeof(FWPM_PROVIDER0)", unsafe.Sizeof(p), 64},
		{"FWPM_PROVIDER0.providerData", unsafe.Offsetof(p.ProviderData), 40},
		{"FWPM_PROVIDER0.serviceName", unsafe.Offsetof(p.ServiceName), 56},

		{"sizeof(FWPM_CALLOUT0)", unsafe.Sizeof(c), 88},
		{"FWPM_CALLOUT0.providerKey", unsafe.Offsetof(c.ProviderKey), 40},
		{"FWPM_CALLOUT0.providerData", unsafe.Offsetof(c.ProviderData), 48},
		{"FWPM_CALLOUT0.applicableLayer", unsafe.Offsetof(c.ApplicableLayer), 64},
		{"FWPM_CALLOUT0.calloutId", unsafe.Offsetof(c.CalloutID), 80},

		{"sizeof(FWPM_SESSION0)", unsafe.Sizeof(ses), 72},
		{"FWPM_SESSION0.flags", unsafe.Offsetof(ses.Flags), 32},
		{"FWPM_SESSION0.txnWaitTimeoutInMSec", unsafe.Offsetof(ses.TxnWaitTimeoutInMSec), 36},
		{"FWPM_SESSION0.processId", unsafe.Offsetof(ses.ProcessID), 40},
		{"FWPM_SESSION0.sid", unsafe.Offsetof(ses.SID), 48},
		{"FWPM_SESSION0.username", unsafe.Offsetof(ses.Username), 56},
		{"FWPM_SESSION0.kernelMode", unsafe.Offsetof(ses.KernelMode), 64},

		{"sizeof(FWPM_FILTER_ENUM_TEMPLATE0)", unsafe.Sizeof(ft), 72},
		{"FWPM_FILTER_ENUM_TEMPLATE0.layerKey", unsafe.Offsetof(ft.LayerKey), 8},
		{"FWPM_FILTER_ENUM_TEMPLATE0.enumType", unsafe.Offsetof(ft.EnumType), 24},
		{"FWPM_FILTER_ENUM_TEMPLATE0.flags", unsafe.Offsetof(ft.Flags), 28},
		{"FWPM_FILTER_ENUM_TEMPLATE0.providerContextTemplate", unsafe.Offsetof(ft.ProviderContextTemplate), 32},
		{"FWPM_FILTER_ENUM_TEMPLATE0.numFilterConditions", unsafe.Offsetof(ft.NumFilterConditions), 40},
		{"FWPM_FILTER_ENUM_TEMPLATE0.filterCondition", unsafe.Offsetof(ft.FilterCondition), 48},
		{"FWPM_FILTER_ENUM_TEMPLATE0.actionMask", unsafe.Offsetof(ft.ActionMask), 56},
		{"FWPM_FILTER_ENUM_TEMPLATE0.calloutKey", unsafe.Offsetof(ft.CalloutKey), 64},
		{"sizeof(FWPM_CALLOUT_ENUM_TEMPLATE0)", unsafe.Sizeof(CalloutEnumTemplate0{}), 24},

		{"sizeof(FWPM_NET_EVENT_HEADER0)", unsafe.Sizeof(h), 88},
		{"FWPM_NET_EVENT_HEADER0.flags", unsafe.Offsetof(h.Flags), 8},
		{"FWPM_NET_EVENT_HEADER0.ipVersion", unsafe.Offsetof(h.IPVersion), 12},
		{"FWPM_NET_EVENT_HEADER0.ipProtocol", unsafe.Offsetof(h.IPProtocol), 16},
		{"FWPM_NET_EVENT_HEADER0.localAddrV4", unsafe.Offsetof(h.LocalAddr), 20},
		{"FWPM_NET_EVENT_HEADER0.remoteAddrV4", unsafe.Offsetof(h.RemoteAddr), 36},
		{"FWPM_NET_EVENT_HEADER0.localPort", unsafe.Offsetof(h.LocalPort), 52},
		{"FWPM_NET_EVENT_HEADER0.remotePort", unsafe.Offsetof(h.RemotePort), 54},
		{"FWPM_NET_EVENT_HEADER0.scopeId", unsafe.Offsetof(h.ScopeID), 56},
		{"FWPM_NET_EVENT_HEADER0.appId", unsafe.Offsetof(h.AppID), 64},
		{"FWPM_NET_EVENT_HEADER0.userId", unsafe.Offsetof(h.UserID), 80},
		{"sizeof(FWPM_NET_EVENT_HEADER1)", unsafe.Sizeof(h1), 144},
		{"FWPM_NET_EVENT_HEADER1.reserved1", unsafe.Offsetof(h1.Reserved1), 88},
		{"FWPM_NET_EVENT_HEADER1.reserved2", unsafe.Offsetof(h1.Reserved), 96},
		{"sizeof(FWPM_NET_EVENT1)", unsafe.Sizeof(ne), 160},
		{"FWPM_NET_EVENT1.type", unsafe.Offsetof(ne.Type), 144},
		{"FWPM_NET_EVENT1.classifyDrop", unsafe.Offsetof(ne.Event), 152},
		{"sizeof(FWPM_NET_EVENT_CLASSIFY_DROP1)", unsafe.Sizeof(cd), 32},
		{"FWPM_NET_EVENT_CLASSIFY_DROP1.layerId", unsafe.Offsetof(cd.LayerID), 8},
		{"FWPM_NET_EVENT_CLASSIFY_DROP1.reauthReason", unsafe.Offsetof(cd.ReauthReason), 12},
		{"FWPM_NET_EVENT_CLASSIFY_DROP1.msFwpDirection", unsafe.Offsetof(cd.MsFwpDirection), 24},
		{"FWPM_NET_EVENT_CLASSIFY_DROP1.isLoopback", unsafe.Offsetof(cd.IsLoopback), 28},
		{"sizeof(FWPM_NET_EVENT_SUBSCRIPTION0)", unsafe.Sizeof(sub), 32},
		{"FWPM_NET_EVENT_SUBSCRIPTION0.flags", unsafe.Offsetof(sub.Flags), 8},
		{"FWPM_NET_EVENT_SUBSCRIPTION0.sessionKey", unsafe.Offsetof(sub.SessionKey), 12},
		{"sizeof(FWPM_NET_EVENT_ENUM_TEMPLATE0)", unsafe.Sizeof(tet), 32},
		{"FWPM_NET_EVENT_ENUM_TEMPLATE0.numFilterConditions", unsafe.Offsetof(tet.NumFilterConditions), 16},
		{"FWPM_NET_EVENT_ENUM_TEMPLATE0.filterCondition", unsafe.Offsetof(tet.FilterCondition), 24},
	}
	for _, r := range rows {
		if r.got != r.want {
			t.Errorf("%s = %d, want %d", r.name, r.got, r.want)
		}
	}
}
