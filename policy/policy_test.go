package policy

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

func mustObjects(t *testing.T, name, src string) *Objects {
	t.Helper()
	doc, err := Parse(name, []byte(src))
	require.NoError(t, err)
	o, err := doc.Objects()
	require.NoError(t, err)
	return o
}

func loadExample(t *testing.T, file string) *Objects {
	t.Helper()
	doc, err := Load("testdata/" + file)
	require.NoError(t, err)
	o, err := doc.Objects()
	require.NoError(t, err)
	return o
}

func TestExampleDocument(t *testing.T) {
	o := loadExample(t, "example.yaml")
	require.Len(t, o.Providers, 1)
	require.Len(t, o.Sublayers, 1)
	require.Len(t, o.Callouts, 1)
	require.Len(t, o.Filters, 2)

	p := o.Providers[0]
	assert.Equal(t, wfp.ProviderKey(wfp.GUIDFromName("provider", "Contoso Firewall")), p.Key)
	s := o.Sublayers[0]
	assert.Equal(t, uint16(0x8000), s.Weight)
	assert.Equal(t, p.Key, s.Provider)
	c := o.Callouts[0]
	l, _ := layers.LayerByName("INBOUND_TRANSPORT_V4")
	assert.Equal(t, l.Key, c.Layer)

	f := o.Filters[0]
	assert.Equal(t, "block-http", f.DisplayData.Name)
	assert.Equal(t, s.Key, f.Sublayer)
	assert.Equal(t, wfp.RangeWeight(10), f.Weight)
	assert.Equal(t, wfp.ActionBlock, f.Action.Type)
	assert.True(t, f.Action.Callout.IsZero(), "a callout with action block is ignored")
	require.Len(t, o.Warnings, 1)
	assert.Contains(t, o.Warnings[0].Error(), "example.yaml:17:14:")
	assert.Equal(t, wfp.FilterFlagClearActionRight, f.Flags)
	require.Len(t, f.Conditions, 4)
	assert.Equal(t, wfp.Uint16(80), f.Conditions[0].Value)
	assert.Equal(t, wfp.V4AddrMask{Addr: 0x0a000000, Mask: 0xff000000}, f.Conditions[1].Value)
	assert.Equal(t, wfp.Uint8(6), f.Conditions[2].Value)
	assert.Equal(t, wfp.AppID(`\device\harddiskvolume3\windows\system32\svchost.exe`), f.Conditions[3].Value)

	g := o.Filters[1]
	assert.Equal(t, wfp.AutoWeight(), g.Weight)
	assert.Equal(t, wfp.Condition{Field: f.Conditions[0].Field, Match: wfp.MatchRange, Value: wfp.Range{Low: wfp.Uint16(5000), High: wfp.Uint16(6000)}}, g.Conditions[0])
	assert.Equal(t, wfp.Uint8(17), g.Conditions[1].Value)
	assert.Equal(t, wfp.MatchNotEqual, g.Conditions[2].Match)
	assert.Equal(t, wfp.ByteArray16{0x20, 0x01, 0x0d, 0xb8, 15: 0x53}, g.Conditions[2].Value)

	assert.Equal(t, "block-http", o.Names.Filter(f.Key))
	assert.Equal(t, "contoso", o.Names.Sublayer(s.Key))
	assert.Equal(t, "FWPM_SUBLAYER_UNIVERSAL", o.Names.Sublayer(wfp.SublayerKey{}))
}

func TestYAMLJSONEquivalent(t *testing.T) {
	y := loadExample(t, "example.yaml")
	j := loadExample(t, "example.json")
	assert.Equal(t, y.Providers, j.Providers)
	assert.Equal(t, y.Sublayers, j.Sublayers)
	assert.Equal(t, y.Callouts, j.Callouts)
	assert.Equal(t, y.Filters, j.Filters)

	// JSON that yaml.v3 rejects (a tab before the first token) goes through encoding/json.
	data, err := os.ReadFile("testdata/example.json")
	require.NoError(t, err)
	tabbed := append([]byte("\t"), data...)
	doc, err := Parse("tabbed.json", tabbed)
	require.NoError(t, err)
	o, err := doc.Objects()
	require.NoError(t, err)
	assert.Equal(t, y.Filters, o.Filters)
}

func TestKeysAreDeterministic(t *testing.T) {
	src := "version: 1\nfilters:\n  - {name: a, layer: ALE_AUTH_CONNECT_V4, action: permit}\n"
	a := mustObjects(t, "a.yaml", src)
	b := mustObjects(t, "b.yaml", src)
	assert.Equal(t, a.Filters[0].Key, b.Filters[0].Key)
	assert.Equal(t, wfp.FilterKey(wfp.GUIDFromName("filter", "a")), a.Filters[0].Key)

	explicit := mustObjects(t, "c.yaml", "version: 1\nfilters:\n  - {name: a, key: '{11111111-2222-3333-4444-555555555555}', layer: ALE_AUTH_CONNECT_V4, action: permit}\n")
	assert.Equal(t, "11111111-2222-3333-4444-555555555555", explicit.Filters[0].Key.String())
}

func TestNameForms(t *testing.T) {
	short := mustObjects(t, "s.yaml", `version: 1
filters:
  - name: f
    layer: ALE_AUTH_CONNECT_V4
    sublayer: UNIVERSAL
    action: block
    flags: [clear_action_right]
    conditions: [{field: IP_REMOTE_PORT, match: greater_or_equal, value: 1024}, {field: FLAGS, match: flags_all_set, value: is_loopback}]
`)
	long := mustObjects(t, "l.yaml", `version: 1
filters:
  - name: f
    layer: FWPM_LAYER_ALE_AUTH_CONNECT_V4
    sublayer: FWPM_SUBLAYER_UNIVERSAL
    action: FWP_ACTION_BLOCK
    flags: FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT
    conditions: [{field: FWPM_CONDITION_IP_REMOTE_PORT, match: FWP_MATCH_GREATER_OR_EQUAL, value: "0x400"}, {field: fwpm_condition_flags, match: FLAGS_ALL_SET, value: FWP_CONDITION_FLAG_IS_LOOPBACK}]
`)
	assert.Equal(t, short.Filters, long.Filters)
	u, _ := layers.SublayerByName("UNIVERSAL")
	assert.Equal(t, u.Key, short.Filters[0].Sublayer)
}

// value types one condition at a time.
func TestValueTyping(t *testing.T) {
	v4 := func(a, b, c, d byte) wfp.Uint32 {
		return wfp.Uint32(uint32(a)<<24 | uint32(b)<<16 | uint32(c)<<8 | uint32(d))
	}
	tests := []struct {
		name, layer, field, match, value string
		want                             wfp.Value
	}{
		{"port", "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT", "equal", "443", wfp.Uint16(443)},
		{"port hex", "ALE_AUTH_CONNECT_V4", "IP_LOCAL_PORT", "", "'0x1bb'", wfp.Uint16(443)},
		{"port range", "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT", "range", "5000-6000", wfp.Range{Low: wfp.Uint16(5000), High: wfp.Uint16(6000)}},
		{"port range mapping", "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT", "range", "{low: 1, high: 2}", wfp.Range{Low: wfp.Uint16(1), High: wfp.Uint16(2)}},
		{"protocol name", "ALE_AUTH_CONNECT_V4", "IP_PROTOCOL", "equal", "icmpv6", wfp.Uint8(58)},
		{"protocol sctp", "ALE_AUTH_CONNECT_V4", "IP_PROTOCOL", "equal", "SCTP", wfp.Uint8(132)},
		{"protocol number", "ALE_AUTH_CONNECT_V4", "IP_PROTOCOL", "equal", "47", wfp.Uint8(47)},
		{"v4 exact", "ALE_AUTH_CONNECT_V4", "IP_REMOTE_ADDRESS", "equal", "192.168.1.2", v4(192, 168, 1, 2)},
		{"v4 prefix", "ALE_AUTH_CONNECT_V4", "IP_REMOTE_ADDRESS", "equal", "192.168.0.0/16", wfp.V4AddrMask{Addr: uint32(v4(192, 168, 0, 0)), Mask: 0xffff0000}},
		{"v4 range", "ALE_AUTH_CONNECT_V4", "IP_LOCAL_ADDRESS", "range", "10.0.0.1-10.0.0.9", wfp.Range{Low: v4(10, 0, 0, 1), High: v4(10, 0, 0, 9)}},
		{"v6 exact", "ALE_AUTH_CONNECT_V6", "IP_REMOTE_ADDRESS", "equal", "'::1'", wfp.ByteArray16{15: 1}},
		{"v6 prefix", "ALE_AUTH_CONNECT_V6", "IP_REMOTE_ADDRESS", "equal", "'2001:db8::/32'", wfp.V6AddrMask{Addr: [16]byte{0x20, 0x01, 0x0d, 0xb8}, PrefixLength: 32}},
		{"v6 range", "ALE_AUTH_CONNECT_V6", "IP_REMOTE_ADDRESS", "range", "'::1-::9'", wfp.Range{Low: wfp.ByteArray16{15: 1}, High: wfp.ByteArray16{15: 9}}},
		{"app id dos", "ALE_AUTH_CONNECT_V4", "ALE_APP_ID", "equal", `'C:\Program Files\App.exe'`, wfp.AppID(`\device\harddiskvolume3\program files\app.exe`)},
		{"app id device", "ALE_AUTH_CONNECT_V4", "ALE_APP_ID", "equal", `'\Device\HarddiskVolume2\x.exe'`, wfp.AppID(`\device\harddiskvolume2\x.exe`)},
		{"sid", "ALE_AUTH_CONNECT_V4", "ALE_USER_ID", "equal", "S-1-5-18", wfp.SecurityDescriptor("D:(A;;CC;;;S-1-5-18)")},
		{"sddl", "ALE_AUTH_CONNECT_V4", "ALE_USER_ID", "equal", "'O:LSD:(A;;CC;;;WD)'", wfp.SecurityDescriptor("O:LSD:(A;;CC;;;WD)")},
		{"flags list", "ALE_AUTH_CONNECT_V4", "FLAGS", "flags_any_set", "[is_loopback, FWP_CONDITION_FLAG_IS_REAUTHORIZE]", wfp.Uint32(0x5)},
		{"flags pipe", "ALE_AUTH_CONNECT_V4", "FLAGS", "flags_none_set", "'is_loopback|0x2'", wfp.Uint32(0x3)},
		{"flags number", "ALE_AUTH_CONNECT_V4", "FLAGS", "flags_all_set", "1", wfp.Uint32(1)},
		{"mac", "INBOUND_MAC_FRAME_ETHERNET", "MAC_REMOTE_ADDRESS", "equal", "00-11-22-33-44-55", wfp.ByteArray6{0, 0x11, 0x22, 0x33, 0x44, 0x55}},
		{"mac colons", "INBOUND_MAC_FRAME_ETHERNET", "MAC_REMOTE_ADDRESS", "equal", "'00:11:22:33:44:55'", wfp.ByteArray6{0, 0x11, 0x22, 0x33, 0x44, 0x55}},
		{"ether type", "INBOUND_MAC_FRAME_ETHERNET", "ETHER_TYPE", "equal", "0x86dd", wfp.Uint16(0x86dd)},
		{"interface uint64", "ALE_AUTH_CONNECT_V4", "IP_LOCAL_INTERFACE", "equal", "12345678901", wfp.Uint64(12345678901)},
		{"empty", "ALE_AUTH_CONNECT_V4", "IP_LOCAL_INTERFACE", "equal", "empty", wfp.Empty{}},
		{"icmp type alias", "ALE_AUTH_CONNECT_V4", "ICMP_TYPE", "equal", "8", wfp.Uint16(8)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			match := ""
			if tt.match != "" {
				match = ", match: " + tt.match
			}
			src := "version: 1\nfilters:\n  - name: f\n    layer: " + tt.layer + "\n    action: block\n    conditions:\n      - {field: " + tt.field + match + ", value: " + tt.value + "}\n"
			o := mustObjects(t, "v.yaml", src)
			require.Len(t, o.Filters[0].Conditions, 1)
			assert.Equal(t, tt.want, o.Filters[0].Conditions[0].Value)
		})
	}
}

func TestDirectionValue(t *testing.T) {
	// DIRECTION is at the MAC and datagram-data layers; find one that has it.
	c, ok := layers.ConditionByName("DIRECTION")
	require.True(t, ok)
	var layer string
	for _, l := range layers.Layers() {
		if l.KeyKnown && l.AcceptsCondition(c.Key) {
			if f, ok := l.Field(c.Key); ok && f.TypeKnown {
				layer = l.ShortName
				break
			}
		}
	}
	require.NotEmpty(t, layer)
	o := mustObjects(t, "d.yaml", "version: 1\nfilters:\n  - name: f\n    layer: "+layer+"\n    action: block\n    conditions: [{field: DIRECTION, value: inbound}, {field: DIRECTION, value: outbound}]\n")
	assert.Equal(t, "1", o.Filters[0].Conditions[0].Value.String())
	assert.Equal(t, "0", o.Filters[0].Conditions[1].Value.String())
}

func TestErrors(t *testing.T) {
	head := "version: 1\nfilters:\n  - name: f\n    layer: ALE_AUTH_CONNECT_V4\n    action: block\n"
	cond := func(c string) string { return head + "    conditions:\n      - " + c + "\n" }
	tests := []struct {
		name, src string
		want      string // full first error text
		code      error
	}{
		{"syntax", "version: 1\nfilters: [\n", "", wfp.ErrInvalidParameter},
		{"json syntax", "{\n\t\"version\": 1,\n\t\"filters\": [}\n", "e.json:3:", wfp.ErrInvalidParameter},
		{"no version", "filters: []\n", "e.yaml:1:1: missing version: add version: 1 at the top of the document (FWP_E_INVALID_PARAMETER)", wfp.ErrInvalidParameter},
		{"bad version", "version: 2\n", `e.yaml:1:10: version: unsupported version "2": this wfpsim reads version: 1 (FWP_E_INVALID_PARAMETER)`, wfp.ErrInvalidParameter},
		{"unknown key", "version: 1\nfilter: []\n", `e.yaml:2:1: filter: unknown key "filter" in the document (did you mean filters?)`, wfp.ErrInvalidParameter},
		{"unknown layer", "version: 1\nfilters:\n  - {name: f, layer: ALE_AUTH_CONECT_V4, action: block}\n", `e.yaml:3:22: filters[0].layer: unknown layer "ALE_AUTH_CONECT_V4" (did you mean ALE_AUTH_CONNECT_V4`, wfp.ErrLayerNotFound},
		{"unknown condition", cond("{field: IP_REMOTE_PROT, value: 80}"), `e.yaml:7:17: filters[0].conditions[0].field: unknown condition "IP_REMOTE_PROT" (did you mean IP_REMOTE_PORT`, wfp.ErrConditionNotFound},
		{"condition not at layer", cond("{field: MAC_LOCAL_ADDRESS, value: 00-11-22-33-44-55}"), "e.yaml:7:17: filters[0].conditions[0].field: condition MAC_LOCAL_ADDRESS is not available at layer ALE_AUTH_CONNECT_V4", wfp.ErrIncompatibleLayer},
		{"bad value", cond("{field: IP_REMOTE_PORT, match: equal, value: http}"), `e.yaml:7:54: filters[0].conditions[0].value: "http" is not a valid FWP_UINT16 value: want an unsigned 16-bit integer (FWP_E_TYPE_MISMATCH)`, wfp.ErrTypeMismatch},
		{"port too big", cond("{field: IP_REMOTE_PORT, value: 70000}"), `"70000" is not a valid FWP_UINT16 value`, wfp.ErrTypeMismatch},
		{"v6 at v4", cond("{field: IP_REMOTE_ADDRESS, value: '::1'}"), "layer ALE_AUTH_CONNECT_V4 is IPv4", wfp.ErrTypeMismatch},
		{"dotted in non-address", cond("{field: INTERFACE_INDEX, value: 1.2.3.4}"), `"1.2.3.4" is not a valid FWP_UINT32 value`, wfp.ErrTypeMismatch},
		{"bool for port", cond("{field: IP_REMOTE_PORT, value: true}"), `"true" is not a valid FWP_UINT16 value`, wfp.ErrTypeMismatch},
		{"bad flag", cond("{field: FLAGS, match: flags_all_set, value: is_loopbak}"), `unknown flag "is_loopbak" (did you mean is_loopback?)`, wfp.ErrTypeMismatch},
		{"bad protocol", cond("{field: IP_PROTOCOL, value: tcpp}"), `"tcpp" is not a valid FWP_UINT8 value: want a protocol name`, wfp.ErrTypeMismatch},
		{"bad app path", cond("{field: ALE_APP_ID, value: svchost.exe}"), `"svchost.exe" is not a valid FWP_BYTE_BLOB_TYPE value: want an application path`, wfp.ErrTypeMismatch},
		{"bad sid", cond("{field: ALE_USER_ID, value: S-1-x}"), `"S-1-x" is not a valid FWP_SECURITY_DESCRIPTOR_TYPE value`, wfp.ErrTypeMismatch},
		{"range without match range", cond("{field: IP_REMOTE_PORT, value: 5000-6000}"), `"5000-6000" is a range, but match is equal: write match: range`, wfp.ErrMatchTypeMismatch},
		{"match type mismatch", cond("{field: IP_REMOTE_ADDRESS, match: greater, value: 10.0.0.0/8}"), "match greater does not apply to a FWP_V4_ADDR_MASK value of IP_REMOTE_ADDRESS: use equal", wfp.ErrMatchTypeMismatch},
		{"flags on blob", cond("{field: ALE_APP_ID, match: flags_all_set, value: 'C:\\x.exe'}"), "match flags_all_set does not apply to a FWP_BYTE_BLOB_TYPE value", wfp.ErrMatchTypeMismatch},
		{"unknown match", cond("{field: IP_REMOTE_PORT, match: equals, value: 1}"), `unknown match type "equals" (did you mean equal?`, wfp.ErrMatchTypeMismatch},
		{"inverted range", cond("{field: IP_REMOTE_PORT, match: range, value: 6000-5000}"), "low end above its high end", wfp.ErrInvalidRange},
		{"weight range", "version: 1\nfilters:\n  - {name: f, layer: ALE_AUTH_CONNECT_V4, action: block, weight: 16}\n", "e.yaml:3:66: filters[0].weight: weight range 16 is above 15: use 0..15, or {exact: 16} for an exact 64-bit weight (FWP_E_INVALID_WEIGHT)", wfp.ErrInvalidWeight},
		{"bad exact weight", "version: 1\nfilters:\n  - {name: f, layer: ALE_AUTH_CONNECT_V4, action: block, weight: {exact: -1}}\n", `exact weight "-1" is not a valid FWP_UINT64`, wfp.ErrInvalidWeight},
		{"sublayer weight", "version: 1\nsublayers:\n  - {name: s, weight: 0x10000}\n", `sublayer weight "0x10000" is not a valid FWP_UINT16`, wfp.ErrInvalidParameter},
		{"duplicate filter", "version: 1\nfilters:\n  - {name: f, layer: ALE_AUTH_CONNECT_V4, action: block}\n  - {name: f, layer: ALE_AUTH_CONNECT_V4, action: block}\n", `e.yaml:4:12: filters[1].name: a second filter named "f": filter names must be unique (FWP_E_ALREADY_EXISTS)`, wfp.ErrAlreadyExists},
		{"duplicate key", "version: 1\nproviders:\n  - {name: a, key: 11111111-2222-3333-4444-555555555555}\n  - {name: b, key: 11111111-2222-3333-4444-555555555555}\n", `provider "b" has the same key as provider "a"`, wfp.ErrAlreadyExists},
		{"unknown sublayer", "version: 1\nsublayers: [{name: contoso}]\nfilters:\n  - {name: f, layer: ALE_AUTH_CONNECT_V4, action: block, sublayer: contosso}\n", `unknown sublayer "contosso" (did you mean contoso`, wfp.ErrSublayerNotFound},
		{"unknown provider", "version: 1\nsublayers: [{name: s, provider: nobody}]\n", `unknown provider "nobody"`, wfp.ErrProviderNotFound},
		{"callout action without callout", "version: 1\nfilters:\n  - {name: f, layer: ALE_AUTH_CONNECT_V4, action: callout_terminating}\n", "action callout_terminating needs a callout", wfp.ErrCalloutNotFound},
		{"unknown callout", "version: 1\nfilters:\n  - {name: f, layer: ALE_AUTH_CONNECT_V4, action: callout_inspection, callout: idz}\n", `unknown callout "idz"`, wfp.ErrCalloutNotFound},
		{"callout at another layer", "version: 1\ncallouts: [{name: ids, layer: INBOUND_TRANSPORT_V4}]\nfilters:\n  - {name: f, layer: ALE_AUTH_CONNECT_V4, action: callout_inspection, callout: ids}\n", `callout "ids" applies at INBOUND_TRANSPORT_V4, but the filter is at ALE_AUTH_CONNECT_V4`, wfp.ErrIncompatibleLayer},
		{"bad action", "version: 1\nfilters:\n  - {name: f, layer: ALE_AUTH_CONNECT_V4, action: drop}\n", `"drop" is not a filter action`, wfp.ErrInvalidActionType},
		{"missing action", "version: 1\nfilters:\n  - {name: f, layer: ALE_AUTH_CONNECT_V4}\n", "missing action", wfp.ErrInvalidActionType},
		{"bad filter flag", "version: 1\nfilters:\n  - {name: f, layer: ALE_AUTH_CONNECT_V4, action: block, flags: [hard]}\n", `unknown filter flag "hard"`, wfp.ErrInvalidFlags},
		{"missing name", "version: 1\nfilters:\n  - {layer: ALE_AUTH_CONNECT_V4, action: block}\n", "a filter needs a name", wfp.ErrNullDisplayName},
		{"bad key", "version: 1\nfilters:\n  - {name: f, key: nope, layer: ALE_AUTH_CONNECT_V4, action: block}\n", `"nope" is not a GUID`, wfp.ErrInvalidParameter},
		{"not a list", "version: 1\nfilters: 3\n", `filters must be a list, not "3"`, wfp.ErrInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := "e.yaml"
			if strings.HasPrefix(tt.name, "json") {
				file = "e.json"
			}
			errs := Check(file, []byte(tt.src))
			require.NotEmpty(t, errs)
			first := errs[0]
			assert.Contains(t, first.Error(), tt.want)
			assert.True(t, strings.HasPrefix(first.Error(), file+":"), first.Error())
			assert.Positive(t, first.Line, "line of %v", first)
			assert.Positive(t, first.Column, "column of %v", first)
			assert.ErrorIs(t, first, tt.code)
			assert.ErrorIs(t, errs, tt.code)
			msg := strings.TrimPrefix(first.Error(), file+":")
			assert.Equal(t, strings.ToLower(msg[:1]), msg[:1])
		})
	}
}

func TestEveryErrorReported(t *testing.T) {
	src := `version: 1
filters:
  - name: a
    layer: ALE_AUTH_CONECT_V4
    action: blok
  - name: b
    layer: ALE_AUTH_CONNECT_V4
    action: permit
    weight: 16
    conditions:
      - {field: IP_REMOTE_PORT, value: http}
      - {feild: x}
`
	errs := Check("all.yaml", []byte(src))
	require.Len(t, errs, 6, errs.Error())
	lines := []int{4, 5, 9, 11, 12, 12}
	for i, e := range errs {
		assert.Equal(t, lines[i], e.Line, e.Error())
	}
	_, err := Parse("all.yaml", []byte(src))
	var list ErrorList
	require.ErrorAs(t, err, &list)
	assert.Len(t, list, 1, "Parse reports schema errors only")
}

func TestApply(t *testing.T) {
	doc, err := Load("testdata/example.yaml")
	require.NoError(t, err)
	t.Run("commit", func(t *testing.T) {
		r := &recorder{}
		got, err := Apply(r, doc)
		require.NoError(t, err)
		assert.Equal(t, []string{"Begin", "AddProvider Contoso Firewall", "AddSublayer contoso", "AddCallout ids",
			"AddFilter block-http", "AddFilter no-high-udp-except-dns-server", "Commit"}, r.calls)
		assert.Len(t, r.committed.filters, 2)
		id := got.FilterIDs["block-http"]
		assert.NotZero(t, id)
		assert.Equal(t, "block-http", got.FilterNames[id])
		assert.NotZero(t, got.CalloutIDs["ids"])
	})
	for n := 1; n <= 5; n++ {
		t.Run("fail add "+string(rune('0'+n)), func(t *testing.T) {
			r := &recorder{failAt: n}
			_, err := Apply(r, doc)
			require.Error(t, err)
			assert.ErrorIs(t, err, wfp.ErrInvalidParameter)
			assert.Equal(t, "Abort", r.calls[len(r.calls)-1])
			assert.NotContains(t, r.calls, "Commit")
			assert.Equal(t, state{}, r.committed, "nothing committed")
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.Positive(t, pe.Line)
			assert.Contains(t, pe.Error(), "the engine rejected")
		})
	}
	t.Run("invalid document changes nothing", func(t *testing.T) {
		bad, err := Parse("bad.yaml", []byte("version: 1\nfilters: [{name: f, layer: NOPE, action: block}]\n"))
		require.NoError(t, err)
		r := &recorder{}
		_, err = Apply(r, bad)
		require.ErrorIs(t, err, wfp.ErrLayerNotFound)
		assert.Empty(t, r.calls)
	})
	t.Run("error position", func(t *testing.T) {
		r := &recorder{failAt: 4}
		_, err := Apply(r, doc)
		assert.Contains(t, err.Error(), "example.yaml:12:5: filters[0]: the engine rejected filter \"block-http\"")
	})
}

func TestExportRoundTrip(t *testing.T) {
	src := `version: 1
providers:
  - {name: Contoso, description: the firewall, service_name: contososvc, flags: [persistent], data: "0x0102"}
sublayers:
  - {name: s1, weight: 0x8000, provider: Contoso}
  - {name: s2, key: 0a0b0c0d-0000-4000-8000-000000000001, display_name: Second}
callouts:
  - {name: ids, layer: INBOUND_TRANSPORT_V4, provider: Contoso}
filters:
  - name: f1
    layer: ALE_AUTH_CONNECT_V4
    sublayer: s1
    weight: 3
    action: block
    flags: [clear_action_right]
    raw_context: 7
    conditions:
      - {field: IP_REMOTE_PORT, match: range, value: 5000-6000}
      - {field: IP_REMOTE_ADDRESS, value: 10.0.0.0/8}
      - {field: IP_REMOTE_ADDRESS, value: 10.1.2.3}
      - {field: IP_LOCAL_ADDRESS, match: range, value: 10.0.0.1-10.0.0.9}
      - {field: IP_PROTOCOL, value: tcp}
      - {field: IP_PROTOCOL, value: 200}
      - {field: ALE_APP_ID, value: 'C:\Windows\System32\svchost.exe'}
      - {field: ALE_USER_ID, value: S-1-5-18}
      - {field: FLAGS, match: flags_any_set, value: [is_loopback, 0x80000000]}
      - {field: IP_LOCAL_INTERFACE, value: empty}
  - name: f2
    layer: ALE_AUTH_CONNECT_V6
    sublayer: 0a0b0c0d-0000-4000-8000-000000000001
    weight: {exact: 0x1234}
    action: permit
    provider_context: 0a0b0c0d-0000-4000-8000-0000000000ff
    conditions:
      - {field: IP_REMOTE_ADDRESS, match: range, value: '2001:db8::1-2001:db8::9'}
      - {field: IP_REMOTE_ADDRESS, value: '2001:db8::/32'}
  - name: f3
    layer: INBOUND_TRANSPORT_V4
    sublayer: UNIVERSAL
    action: callout_inspection
    callout: ids
    flags: [permit_if_callout_unregistered]
  - name: f4
    layer: INBOUND_MAC_FRAME_ETHERNET
    action: block
    conditions: [{field: MAC_REMOTE_ADDRESS, value: 00-11-22-33-44-55}]
`
	orig := mustObjects(t, "rt.yaml", src)
	r := &recorder{}
	_, err := ApplyObjects(r, orig)
	require.NoError(t, err)

	doc, err := Export(r)
	require.NoError(t, err)
	for _, format := range []string{"yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if format == "yaml" {
				require.NoError(t, doc.WriteYAML(&b))
			} else {
				require.NoError(t, doc.WriteJSON(&b))
			}
			again, err := Parse("export."+format, b.Bytes())
			require.NoError(t, err, b.String())
			o, err := again.Objects()
			require.NoError(t, err, b.String())
			assert.Equal(t, orig.Providers, o.Providers)
			assert.Equal(t, orig.Sublayers, o.Sublayers)
			assert.Equal(t, orig.Callouts, o.Callouts)
			assert.Equal(t, orig.Filters, o.Filters)

			// Deterministic output.
			var b2 bytes.Buffer
			if format == "yaml" {
				require.NoError(t, again.WriteYAML(&b2))
			} else {
				require.NoError(t, again.WriteJSON(&b2))
			}
			assert.Equal(t, b.String(), b2.String())
		})
	}
}

func TestAppIDFromFileName(t *testing.T) {
	tests := []struct {
		in     string
		drives map[string]string
		want   string
		ok     bool
	}{
		{`C:\Windows\System32\svchost.exe`, nil, `\device\harddiskvolume3\windows\system32\svchost.exe`, true},
		{`c:/Tools/x.EXE`, nil, `\device\harddiskvolume3\tools\x.exe`, true},
		{`D:\x.exe`, map[string]string{"d:": `\Device\HarddiskVolume5\`}, `\device\harddiskvolume5\x.exe`, true},
		{`\Device\HarddiskVolume1\A.exe`, nil, `\device\harddiskvolume1\a.exe`, true},
		{`D:\x.exe`, nil, "", false},
		{`x.exe`, nil, "", false},
		{`\\server\share\x.exe`, nil, "", false},
		{``, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, err := wfp.AppIDFromFileName(tt.in, tt.drives)
			if !tt.ok {
				require.Error(t, err)
				assert.ErrorIs(t, err, wfp.ErrInvalidParameter)
				return
			}
			require.NoError(t, err)
			s, ok := b.UTF16()
			require.True(t, ok)
			assert.Equal(t, tt.want, s)
		})
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{File: "p.yaml", Line: 12, Column: 17, Path: "filters[3].conditions[1].value", Msg: `"http" is not a valid FWP_UINT16 value: want an unsigned 16-bit integer`, Err: wfp.ErrTypeMismatch}
	assert.Equal(t, `p.yaml:12:17: filters[3].conditions[1].value: "http" is not a valid FWP_UINT16 value: want an unsigned 16-bit integer (FWP_E_TYPE_MISMATCH)`, e.Error())
	assert.True(t, errors.Is(e, wfp.ErrTypeMismatch))
	assert.True(t, errors.Is(e, wfp.ErrInvalid))
}
