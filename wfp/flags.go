package wfp

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// flagName is one named bit of a flags word.
type flagName struct {
	bit  uint32
	name string // C name
}

// formatFlags prints the set bits by C name joined with "|", unknown bits in hex,
// and "0" for none.
func formatFlags(v uint32, names []flagName) string {
	if v == 0 {
		return "0"
	}
	var parts []string
	for _, n := range names {
		if v&n.bit != 0 {
			parts = append(parts, n.name)
			v &^= n.bit
		}
	}
	if v != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(v), 16))
	}
	return strings.Join(parts, "|")
}

// flagNames lists the short (lower-case, prefix-less) names.
func flagShortNames(names []flagName, prefix string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(strings.TrimPrefix(n.name, prefix))
	}
	return out
}

// parseFlag reads one flag by C name, by name without prefix in any case, or as a
// number ("0x8").
func parseFlag(s, prefix, kind string, names []flagName) (uint32, error) {
	if u, err := strconv.ParseUint(strings.TrimSpace(s), 0, 32); err == nil {
		return uint32(u), nil
	}
	want := normalizeName(s, prefix)
	for _, n := range names {
		if strings.TrimPrefix(n.name, prefix) == want {
			return n.bit, nil
		}
	}
	return 0, fmt.Errorf("wfp: unknown %s flag %q (want one of %s, or a number): %w",
		kind, s, strings.Join(flagShortNames(names, prefix), ", "), ErrInvalidFlags)
}

// FilterFlags is FWPM_FILTER0.flags.
type FilterFlags uint32

const (
	FilterFlagPersistent                      FilterFlags = 0x1   // survives BFE restart
	FilterFlagBoottime                        FilterFlags = 0x2   // enforced from tcpip start until BFE is up
	FilterFlagHasProviderContext              FilterFlags = 0x4   // providerContextKey is set
	FilterFlagClearActionRight                FilterFlags = 0x8   // the action is hard (rule A6)
	FilterFlagPermitIfCalloutUnregistered     FilterFlags = 0x10  // permit while the callout is unregistered (rule A9)
	FilterFlagDisabled                        FilterFlags = 0x20  // output only: the BFE disabled the filter (rule E6)
	FilterFlagIndexed                         FilterFlags = 0x40  // lookup hint (Win8+)
	FilterFlagHasSecurityRealmProviderContext FilterFlags = 0x80  //
	FilterFlagSystemOSOnly                    FilterFlags = 0x100 //
	FilterFlagGameOSOnly                      FilterFlags = 0x200 //
	FilterFlagSilentMode                      FilterFlags = 0x400 //
	FilterFlagIPsecNoAcquireInitiate          FilterFlags = 0x800 //
)

var filterFlagNames = []flagName{
	{0x1, "FWPM_FILTER_FLAG_PERSISTENT"},
	{0x2, "FWPM_FILTER_FLAG_BOOTTIME"},
	{0x4, "FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT"},
	{0x8, "FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT"},
	{0x10, "FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED"},
	{0x20, "FWPM_FILTER_FLAG_DISABLED"},
	{0x40, "FWPM_FILTER_FLAG_INDEXED"},
	{0x80, "FWPM_FILTER_FLAG_HAS_SECURITY_REALM_PROVIDER_CONTEXT"},
	{0x100, "FWPM_FILTER_FLAG_SYSTEMOS_ONLY"},
	{0x200, "FWPM_FILTER_FLAG_GAMEOS_ONLY"},
	{0x400, "FWPM_FILTER_FLAG_SILENT_MODE"},
	{0x800, "FWPM_FILTER_FLAG_IPSEC_NO_ACQUIRE_INITIATE"},
	{0x1000, "FWPM_FILTER_FLAG_RESERVED0"},
	{0x2000, "FWPM_FILTER_FLAG_RESERVED1"},
	{0x4000, "FWPM_FILTER_FLAG_RESERVED2"},
}

func (f FilterFlags) String() string { return formatFlags(uint32(f), filterFlagNames) }

// Names returns the short names of the set flags ("clear_action_right"), unknown bits in hex.
func (f FilterFlags) Names() []string {
	return shortNames(uint32(f), filterFlagNames, "FWPM_FILTER_FLAG_")
}

// ParseFilterFlag reads "clear_action_right", "FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT" or "0x8".
func ParseFilterFlag(s string) (FilterFlags, error) {
	v, err := parseFlag(s, "FWPM_FILTER_FLAG_", "filter", filterFlagNames)
	return FilterFlags(v), err
}

// SublayerFlags is FWPM_SUBLAYER0.flags.
type SublayerFlags uint32

const SublayerFlagPersistent SublayerFlags = 0x1 // FWPM_SUBLAYER_FLAG_PERSISTENT

var sublayerFlagNames = []flagName{{0x1, "FWPM_SUBLAYER_FLAG_PERSISTENT"}}

func (f SublayerFlags) String() string { return formatFlags(uint32(f), sublayerFlagNames) }
func (f SublayerFlags) Names() []string {
	return shortNames(uint32(f), sublayerFlagNames, "FWPM_SUBLAYER_FLAG_")
}

// ParseSublayerFlag reads "persistent" or the C name.
func ParseSublayerFlag(s string) (SublayerFlags, error) {
	v, err := parseFlag(s, "FWPM_SUBLAYER_FLAG_", "sublayer", sublayerFlagNames)
	return SublayerFlags(v), err
}

// ProviderFlags is FWPM_PROVIDER0.flags.
type ProviderFlags uint32

const (
	ProviderFlagPersistent ProviderFlags = 0x1  // FWPM_PROVIDER_FLAG_PERSISTENT
	ProviderFlagDisabled   ProviderFlags = 0x10 // FWPM_PROVIDER_FLAG_DISABLED, output only
)

var providerFlagNames = []flagName{{0x1, "FWPM_PROVIDER_FLAG_PERSISTENT"}, {0x10, "FWPM_PROVIDER_FLAG_DISABLED"}}

func (f ProviderFlags) String() string { return formatFlags(uint32(f), providerFlagNames) }
func (f ProviderFlags) Names() []string {
	return shortNames(uint32(f), providerFlagNames, "FWPM_PROVIDER_FLAG_")
}

// ParseProviderFlag reads "persistent" or the C name.
func ParseProviderFlag(s string) (ProviderFlags, error) {
	v, err := parseFlag(s, "FWPM_PROVIDER_FLAG_", "provider", providerFlagNames)
	return ProviderFlags(v), err
}

// CalloutFlags is FWPM_CALLOUT0.flags.
type CalloutFlags uint32

const (
	CalloutFlagPersistent          CalloutFlags = 0x10000 // FWPM_CALLOUT_FLAG_PERSISTENT
	CalloutFlagUsesProviderContext CalloutFlags = 0x20000 // FWPM_CALLOUT_FLAG_USES_PROVIDER_CONTEXT
	CalloutFlagRegistered          CalloutFlags = 0x40000 // FWPM_CALLOUT_FLAG_REGISTERED, output only
)

var calloutFlagNames = []flagName{
	{0x10000, "FWPM_CALLOUT_FLAG_PERSISTENT"},
	{0x20000, "FWPM_CALLOUT_FLAG_USES_PROVIDER_CONTEXT"},
	{0x40000, "FWPM_CALLOUT_FLAG_REGISTERED"},
}

func (f CalloutFlags) String() string { return formatFlags(uint32(f), calloutFlagNames) }
func (f CalloutFlags) Names() []string {
	return shortNames(uint32(f), calloutFlagNames, "FWPM_CALLOUT_FLAG_")
}

// ParseCalloutFlag reads "persistent" or the C name.
func ParseCalloutFlag(s string) (CalloutFlags, error) {
	v, err := parseFlag(s, "FWPM_CALLOUT_FLAG_", "callout", calloutFlagNames)
	return CalloutFlags(v), err
}

func shortNames(v uint32, names []flagName, prefix string) []string {
	var out []string
	for _, n := range names {
		if v&n.bit != 0 {
			out = append(out, strings.ToLower(strings.TrimPrefix(n.name, prefix)))
			v &^= n.bit
		}
	}
	for v != 0 {
		b := uint32(1) << bits.TrailingZeros32(v)
		out = append(out, "0x"+strconv.FormatUint(uint64(b), 16))
		v &^= b
	}
	return out
}
