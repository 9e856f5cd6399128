package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// protocols are the IP protocol names a condition value may use.
var protocols = []struct {
	name string
	num  uint8
}{
	{"hopopt", 0}, {"icmp", 1}, {"igmp", 2}, {"ipv4", 4}, {"tcp", 6}, {"egp", 8}, {"udp", 17},
	{"ipv6", 41}, {"ipv6_route", 43}, {"ipv6_frag", 44}, {"rsvp", 46}, {"gre", 47}, {"esp", 50},
	{"ah", 51}, {"icmpv6", 58}, {"ipv6_nonxt", 59}, {"ipv6_opts", 60}, {"ospf", 89}, {"pim", 103},
	{"l2tp", 115}, {"sctp", 132}, {"udplite", 136}, {"raw", 255},
}

func protocolByName(s string) (uint8, bool) {
	n := strings.ToLower(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "IPPROTO_"))
	n = strings.ReplaceAll(n, "-", "_")
	switch n {
	case "icmp6", "ipv6_icmp":
		n = "icmpv6"
	case "ipv6_fragment":
		n = "ipv6_frag"
	}
	for _, p := range protocols {
		if p.name == n {
			return p.num, true
		}
	}
	return 0, false
}

func protocolName(v uint8) (string, bool) {
	for _, p := range protocols {
		if p.num == v {
			return p.name, true
		}
	}
	return "", false
}

// flagGroup returns the constants group whose names a condition's values may use.
func flagGroup(c *layers.Condition) (group, prefix string) {
	switch c.Canonical().ShortName {
	case "FLAGS":
		return "FWP_CONDITION_FLAG", "FWP_CONDITION_FLAG_"
	case "L2_FLAGS":
		return "FWP_CONDITION_L2", "FWP_CONDITION_L2_"
	}
	return "", ""
}

func isAppID(c *layers.Condition) bool {
	switch c.Canonical().ShortName {
	case "ALE_APP_ID", "ALE_ORIGINAL_APP_ID":
		return true
	}
	return false
}

func isAddress(c *layers.Condition) bool {
	return c.AcceptsType(wfp.TypeV4AddrMask) || c.AcceptsType(wfp.TypeV6AddrMask)
}

func isTokenType(t wfp.DataType) bool {
	return t == wfp.TypeTokenInformation || t == wfp.TypeTokenAccessInformation
}

// compatible reports whether a condition value of type v may test a field of type
// f (rule B4).
func compatible(f, v wfp.DataType) bool {
	switch {
	case f == v:
		return true
	case f == wfp.TypeUint32 && v == wfp.TypeV4AddrMask, f == wfp.TypeByteArray16 && v == wfp.TypeV6AddrMask:
		return true
	case isTokenType(f) && (v == wfp.TypeSecurityDescriptor || v == wfp.TypeSID):
		return true
	}
	return false
}

// valueTypes returns the condition value types a condition takes at a layer, the
// field's own type first, address masks last.
func valueTypes(l *layers.Layer, c *layers.Condition) []wfp.DataType {
	f, ok := l.Field(c.Key)
	var out []wfp.DataType
	switch {
	case ok && f.TypeKnown && c.TypesKnown():
		if slices.Contains(c.Types, f.Type) {
			out = append(out, f.Type)
		}
		for _, t := range c.Types {
			if t != f.Type && compatible(f.Type, t) {
				out = append(out, t)
			}
		}
		if len(out) == 0 && !isTokenType(f.Type) {
			out = append(out, f.Type)
		}
	case ok && f.TypeKnown:
		if isTokenType(f.Type) {
			out = append(out, wfp.TypeSecurityDescriptor)
		} else {
			out = append(out, f.Type)
		}
	case c.TypesKnown():
		out = append(out, c.Types...)
	}
	slices.SortStableFunc(out, func(a, b wfp.DataType) int {
		am, bm := a == wfp.TypeV4AddrMask || a == wfp.TypeV6AddrMask, b == wfp.TypeV4AddrMask || b == wfp.TypeV6AddrMask
		switch {
		case am == bm:
			return 0
		case am:
			return 1
		}
		return -1
	})
	return out
}

func typeNames(ts []wfp.DataType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, " or ")
}

// condition resolves one condition of a filter at layer l.
func (r *resolver) condition(l *layers.Layer, cs *Condition, path string, drives map[string]string) (wfp.Condition, bool) {
	pm := cs.pos
	if cs.Field == "" {
		r.errorf(pm, "", path, wfp.ErrConditionNotFound, "missing field: add field: with a condition name such as IP_REMOTE_PORT")
		return wfp.Condition{}, false
	}
	c, ok := layers.ConditionByName(cs.Field)
	if !ok {
		r.errorf(pm, "field", path+".field", wfp.ErrConditionNotFound, "unknown condition %q%s", cs.Field, suggestion(layers.Suggest(layers.KindCondition, cs.Field)))
		return wfp.Condition{}, false
	}
	if !c.KeyKnown {
		r.errorf(pm, "field", path+".field", wfp.ErrConditionNotFound, "condition %s has no documented key", c.Name)
		return wfp.Condition{}, false
	}
	if _, hasField := l.Field(c.Key); !l.AcceptsCondition(c.Key) && !hasField {
		r.errorf(pm, "field", path+".field", wfp.ErrIncompatibleLayer, "condition %s is not available at layer %s: use a layer that has it, or remove the condition", c.ShortName, l.ShortName)
		return wfp.Condition{}, false
	}
	m := wfp.MatchEqual
	if cs.Match != "" {
		var err error
		if m, err = wfp.ParseMatchType(cs.Match); err != nil {
			r.errorf(pm, "match", path+".match", wfp.ErrMatchTypeMismatch, "unknown match type %q%s: want equal, not_equal, greater, less, greater_or_equal, less_or_equal, range, flags_all_set, flags_any_set, flags_none_set, equal_case_insensitive, prefix or not_prefix",
				cs.Match, suggestion(closest(cs.Match, matchShortNames())))
			return wfp.Condition{}, false
		}
	}
	ts := valueTypes(l, c)
	if len(ts) == 0 {
		r.errorf(pm, "field", path+".field", wfp.ErrTypeMismatch, "the data type of condition %s at layer %s is not documented, so its value cannot be typed", c.ShortName, l.ShortName)
		return wfp.Condition{}, false
	}
	vp := path + ".value"
	if _, given := pm["value"]; !given && cs.Value == "" && !cs.IsRange() {
		r.errorf(pm, "", path, wfp.ErrTypeMismatch, "missing value: add value: with a %s value", typeNames(ts))
		return wfp.Condition{}, false
	}
	v, err := conditionValue(l, c, m, ts, cs, drives)
	if err != nil {
		r.wrap(pm, "value", vp, err)
		return wfp.Condition{}, false
	}
	// Rule B5: the match type must fit the value type.
	bt := v.Type()
	if rg, ok := v.(wfp.Range); ok {
		bt = rg.Low.Type()
	}
	okMatch := bt.AcceptsMatch(m)
	if c.TypesKnown() && bt != wfp.TypeEmpty {
		okMatch = okMatch && c.AcceptsMatch(bt, m)
	}
	if bt == wfp.TypeEmpty {
		okMatch = m == wfp.MatchEqual
	}
	if !okMatch {
		key := "match"
		if cs.Match == "" {
			key = "value"
		}
		var valid []string
		for _, mt := range wfp.MatchTypes() {
			if bt.AcceptsMatch(mt) && (!c.TypesKnown() || c.AcceptsMatch(bt, mt)) {
				valid = append(valid, mt.ShortName())
			}
		}
		r.errorf(pm, key, path+"."+key, wfp.ErrMatchTypeMismatch, "match %s does not apply to a %s value of %s: use %s", m.ShortName(), bt, c.ShortName, strings.Join(valid, ", "))
		return wfp.Condition{}, false
	}
	return wfp.Condition{Field: c.Key, Match: m, Value: v}, true
}

func matchShortNames() []string {
	var out []string
	for _, m := range wfp.MatchTypes() {
		out = append(out, m.ShortName())
	}
	return out
}

func typeMismatch(s string, t wfp.DataType, want string) error {
	return fmt.Errorf("%q is not a valid %s value: want %s: %w", s, t, want, wfp.ErrTypeMismatch)
}

// conditionValue types the value text of a condition.
func conditionValue(l *layers.Layer, c *layers.Condition, m wfp.MatchType, ts []wfp.DataType, cs *Condition, drives map[string]string) (wfp.Value, error) {
	bt := ts[0] // the first non-mask type (masks sort last)
	if cs.IsRange() || m == wfp.MatchRange {
		if !bt.IsSortable() || bt == wfp.TypeV4AddrMask || bt == wfp.TypeV6AddrMask {
			return nil, fmt.Errorf("match range does not apply to %s values of %s: %w", bt, c.ShortName, wfp.ErrMatchTypeMismatch)
		}
		if m != wfp.MatchRange {
			return nil, fmt.Errorf("a {low, high} value is a range: write match: range: %w", wfp.ErrMatchTypeMismatch)
		}
		lo, hi := cs.Low, cs.High
		if !cs.IsRange() {
			var ok bool
			lo, hi, ok = splitRange(cs.Value)
			if !ok {
				return nil, fmt.Errorf("%q is not a range: match range wants low-high, such as 5000-6000 or 10.0.0.1-10.0.0.9: %w", cs.Value, wfp.ErrInvalidRange)
			}
		}
		lv, err := typedValue(l, c, bt, lo, drives)
		if err != nil {
			return nil, err
		}
		hv, err := typedValue(l, c, bt, hi, drives)
		if err != nil {
			return nil, err
		}
		if less(hv, lv) {
			return nil, fmt.Errorf("range %s-%s has its low end above its high end: %w", lv, hv, wfp.ErrInvalidRange)
		}
		return wfp.Range{Low: lv, High: hv}, nil
	}
	s := cs.Value
	if strings.EqualFold(strings.TrimSpace(s), "empty") && bt != wfp.TypeByteBlob && bt != wfp.TypeUnicodeString {
		return wfp.Empty{}, nil
	}
	if isAddress(c) && strings.Contains(s, "/") {
		for _, t := range ts {
			if t == wfp.TypeV4AddrMask || t == wfp.TypeV6AddrMask {
				if v, err := wfp.ParseValue(t, s); err == nil {
					return v, nil
				}
			}
		}
		return nil, typeMismatch(s, bt, addrWant(l, ts, true))
	}
	v, err := typedValue(l, c, bt, s, drives)
	if err != nil {
		if lo, hi, ok := splitRange(s); ok {
			_, e1 := typedValue(l, c, bt, lo, drives)
			_, e2 := typedValue(l, c, bt, hi, drives)
			if e1 == nil && e2 == nil {
				return nil, fmt.Errorf("%q is a range, but match is %s: write match: range: %w", s, m.ShortName(), wfp.ErrMatchTypeMismatch)
			}
		}
		return nil, err
	}
	return v, nil
}

// splitRange cuts "low-high" or "low..high"; a leading '-' is not a separator.
func splitRange(s string) (string, string, bool) {
	if lo, hi, ok := strings.Cut(s, ".."); ok {
		return strings.TrimSpace(lo), strings.TrimSpace(hi), true
	}
	i := strings.Index(s[min(1, len(s)):], "-")
	if i < 0 {
		return "", "", false
	}
	i++
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:]), true
}

func addrWant(l *layers.Layer, ts []wfp.DataType, prefix bool) string {
	v4 := slices.Contains(ts, wfp.TypeUint32) || slices.Contains(ts, wfp.TypeV4AddrMask)
	v6 := slices.Contains(ts, wfp.TypeByteArray16) || slices.Contains(ts, wfp.TypeV6AddrMask)
	switch {
	case v4 && !v6:
		return fmt.Sprintf("an IPv4 address such as 10.0.0.1 or a subnet such as 10.0.0.0/8 (layer %s is IPv4)", l.ShortName)
	case v6 && !v4:
		return fmt.Sprintf("an IPv6 address such as 2001:db8::1 or a prefix such as 2001:db8::/32 (layer %s is IPv6)", l.ShortName)
	}
	return "an IP address or a subnet"
}

// less orders two values of the same integer or address type.
func less(a, b wfp.Value) bool {
	ai, aok := asUint(a)
	bi, bok := asUint(b)
	if aok && bok {
		return ai < bi
	}
	if x, ok := a.(wfp.ByteArray16); ok {
		if y, ok := b.(wfp.ByteArray16); ok {
			return string(x[:]) < string(y[:])
		}
	}
	return false
}

func asUint(v wfp.Value) (uint64, bool) {
	n, _, ok := wfp.Unsigned(v)
	return n, ok
}

// typedValue reads one value of type t for condition c.
func typedValue(l *layers.Layer, c *layers.Condition, t wfp.DataType, s string, drives map[string]string) (wfp.Value, error) {
	s = strings.TrimSpace(s)
	canon := c.Canonical().ShortName
	if g, prefix := flagGroup(c); g != "" && t.IsUnsigned() {
		return flagsValue(t, s, g, prefix)
	}
	switch {
	case canon == "IP_PROTOCOL" && t == wfp.TypeUint8:
		if p, ok := protocolByName(s); ok {
			return wfp.Uint8(p), nil
		}
		v, err := wfp.ParseValue(t, s)
		if err != nil {
			return nil, typeMismatch(s, t, "a protocol name (tcp, udp, icmp, icmpv6, igmp, gre, esp, ah, sctp, ...) or a number 0..255")
		}
		return v, nil
	case canon == "DIRECTION" && t.IsUnsigned():
		switch strings.ToLower(strings.TrimPrefix(strings.ToUpper(s), "FWP_DIRECTION_")) {
		case "outbound":
			return wfp.ParseValue(t, "0")
		case "inbound":
			return wfp.ParseValue(t, "1")
		}
		v, err := wfp.ParseValue(t, s)
		if err != nil {
			return nil, typeMismatch(s, t, "inbound, outbound or a number (FWP_DIRECTION_OUTBOUND = 0, FWP_DIRECTION_INBOUND = 1)")
		}
		return v, nil
	case isAppID(c) && t == wfp.TypeByteBlob:
		if strings.HasPrefix(s, "0x") {
			return wfp.ParseValue(t, s)
		}
		p, err := wfp.AppIDPathFromFileName(s, drives)
		if err != nil {
			return nil, typeMismatch(s, t, `an application path such as C:\Windows\System32\svchost.exe or \device\harddiskvolume3\..., or 0x and hex digits`)
		}
		return wfp.AppID(p), nil
	case isAddress(c) && (t == wfp.TypeUint32 || t == wfp.TypeByteArray16):
		a, err := netip.ParseAddr(s)
		if err != nil || (t == wfp.TypeUint32) != a.Unmap().Is4() || (t == wfp.TypeByteArray16 && a.Is4In6()) {
			return nil, typeMismatch(s, t, addrWant(l, []wfp.DataType{t}, false))
		}
		return wfp.AddrValue(a), nil
	case t == wfp.TypeSecurityDescriptor:
		up := strings.ToUpper(s)
		switch {
		case strings.HasPrefix(up, "S-"):
			if _, err := wfp.ParseSID(s); err != nil {
				return nil, typeMismatch(s, t, "a SID such as S-1-5-18 or SDDL text such as D:(A;;CC;;;S-1-5-18)")
			}
			return wfp.SecurityDescriptor("D:(A;;CC;;;" + up + ")"), nil
		case strings.HasPrefix(up, "D:"), strings.HasPrefix(up, "O:"), strings.HasPrefix(up, "G:"), strings.HasPrefix(up, "S:"):
			return wfp.SecurityDescriptor(s), nil
		}
		return nil, typeMismatch(s, t, "a SID such as S-1-5-18 or SDDL text starting with D: or O:")
	case t == wfp.TypeUint32 && strings.Count(s, ".") == 3:
		// ParseValue reads dotted IPv4 into any UINT32; only address fields may.
		return nil, typeMismatch(s, t, "an unsigned 32-bit integer")
	}
	return wfp.ParseValue(t, s)
}

// flagsValue reads "is_loopback|is_reauthorize", a full C name or numbers.
func flagsValue(t wfp.DataType, s, group, prefix string) (wfp.Value, error) {
	var bits uint64
	for _, part := range strings.Split(s, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if u, err := strconv.ParseUint(part, 0, 64); err == nil {
			bits |= u
			continue
		}
		name := strings.ToUpper(strings.NewReplacer("-", "_", " ", "_").Replace(part))
		found := false
		var names []string
		for _, k := range layers.ConstantsInGroup(group) {
			short := strings.ToLower(strings.TrimPrefix(k.Name, prefix))
			names = append(names, short)
			if k.Name == name || k.Name == prefix+name {
				bits |= k.Value
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown flag %q%s: want names of %s_* (%s) or a number: %w", part, suggestion(closest(part, names)), group, strings.Join(names, ", "), wfp.ErrTypeMismatch)
		}
	}
	v, err := wfp.ParseValue(t, "0x"+strconv.FormatUint(bits, 16))
	if err != nil {
		return nil, typeMismatch(s, t, "flags that fit the field")
	}
	return v, nil
}
