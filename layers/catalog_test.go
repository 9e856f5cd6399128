package layers_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// readTSV reads a fact table into maps keyed by the header, independently of the
// generator.
func readTSV(t *testing.T, name string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("facts", name))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	head := strings.Split(lines[0], "\t")
	var rows []map[string]string
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		r := map[string]string{}
		for i, v := range strings.Split(l, "\t") {
			r[head[i]] = strings.TrimSpace(v)
		}
		rows = append(rows, r)
	}
	return rows
}

func TestLayersMatchTable(t *testing.T) {
	var want []map[string]string
	for _, r := range readTSV(t, "layers.tsv") {
		if r["fwpm_name"] != "(none)" {
			want = append(want, r)
		}
	}
	got := layers.Layers()
	require.Len(t, want, 99)
	require.Len(t, got, len(want))
	for i, r := range want {
		l := got[i]
		t.Run(r["fwpm_name"], func(t *testing.T) {
			assert.Equal(t, r["fwpm_name"], l.Name)
			assert.Equal(t, r["fwpm_name"], l.String())
			assert.Equal(t, strings.TrimPrefix(r["fwpm_name"], "FWPM_LAYER_"), l.ShortName)
			assert.Equal(t, strings.Fields(r["fwps_layer_id_name"])[0], l.FWPSName)
			if r["guid"] == "unknown" {
				assert.False(t, l.KeyKnown)
				assert.True(t, l.Key.IsZero())
			} else {
				require.True(t, l.KeyKnown)
				assert.Equal(t, r["guid"], l.Key.String())
				g, err := wfp.ParseGUID(l.Key.String())
				require.NoError(t, err)
				assert.Equal(t, wfp.GUID(l.Key), g)
			}
			id := strings.Fields(r["fwps_numeric_id"])[0]
			if id == "unknown" {
				assert.False(t, l.IDKnown)
			} else {
				assert.True(t, l.IDKnown)
				assert.Equal(t, id, strconv.Itoa(int(l.ID)))
			}
			assert.Equal(t, r["family"], l.Family.String())
			assert.Equal(t, r["discard"] == "yes", l.Discard)
			dir := map[string]string{"na": "none", "both (forwarded)": "forwarded"}[r["direction"]]
			if dir == "" {
				dir = r["direction"]
			}
			assert.Equal(t, dir, l.Direction.String())
			assert.Equal(t, strings.Fields(r["kernel_or_user"])[0], l.Mode.String())
			assert.Equal(t, strings.Contains(r["kernel_or_user"], "inferred"), strings.Contains(l.ModeNote, "inferred"))
			assert.Equal(t, r["purpose"], l.Purpose)
		})
	}
}

func TestFieldsMatchTable(t *testing.T) {
	byLayer := map[string][]map[string]string{}
	for _, r := range readTSV(t, "fields.tsv") {
		if strings.HasSuffix(r["field_name"], "_MAX") {
			continue
		}
		byLayer[r["fwps_layer"]] = append(byLayer[r["fwps_layer"]], r)
	}
	for _, l := range layers.Layers() {
		t.Run(l.ShortName, func(t *testing.T) {
			rows, own := byLayer[l.FWPSName]
			if !own && l.Discard && l.Twin != nil {
				rows = byLayer[l.Twin.FWPSName] // the FWPS_FIELDS_* enum serves the twin too
				assert.NotEmpty(t, l.FieldsNote)
			}
			require.Len(t, l.Fields, len(rows))
			for i, r := range rows {
				f := l.Fields[i]
				assert.Equal(t, i, f.Index)
				assert.Equal(t, r["index"], strconv.Itoa(f.Index))
				assert.Equal(t, r["field_name"], f.Name)
				assert.Equal(t, r["condition_name"], f.ConditionName)
				if c, ok := layers.ConditionByName(r["condition_name"]); ok {
					assert.Same(t, c, f.Condition)
				} else {
					assert.Nil(t, f.Condition)
				}
				if !f.TypeKnown {
					assert.True(t, strings.HasPrefix(f.TypeNote, "unknown"), f.TypeNote)
				}
			}
		})
	}
}

func TestConditionsMatchTable(t *testing.T) {
	rows := readTSV(t, "conditions.tsv")
	got := layers.Conditions()
	require.Len(t, got, len(rows))
	for i, r := range rows {
		c := got[i]
		t.Run(r["condition_name"], func(t *testing.T) {
			assert.Equal(t, r["condition_name"], c.Name)
			assert.Equal(t, strings.TrimPrefix(r["condition_name"], "FWPM_CONDITION_"), c.ShortName)
			if r["guid"] == "unknown" {
				assert.False(t, c.KeyKnown)
			} else {
				require.True(t, c.KeyKnown)
				assert.Equal(t, r["guid"], c.Key.String())
			}
			if r["fwp_data_type"] == "unknown" {
				assert.False(t, c.TypesKnown())
			} else {
				var want []string
				for _, s := range strings.Split(strings.ReplaceAll(r["fwp_data_type"], "UNIT32", "UINT32"), ",") {
					if !slices.Contains(want, s) {
						want = append(want, s)
					}
				}
				var gotTypes []string
				for _, dt := range c.Types {
					gotTypes = append(gotTypes, dt.String())
				}
				assert.Equal(t, want, gotTypes)
			}
			if r["alias_of"] != "" {
				require.NotNil(t, c.AliasOf)
				assert.Equal(t, r["alias_of"], c.AliasOf.Name)
				assert.Equal(t, c.Key, c.AliasOf.Key, "an alias shares its GUID")
				canon, ok := layers.ConditionByKey(c.Key)
				require.True(t, ok)
				assert.Same(t, c.AliasOf, canon)
			} else {
				assert.Nil(t, c.AliasOf)
			}
			assert.Equal(t, r["notes"], c.Notes)
			// Match types: every listed one, per type.
			if !strings.HasPrefix(r["valid_match_types"], "unknown") {
				for _, part := range strings.Split(r["valid_match_types"], "|") {
					tn, list, _ := strings.Cut(part, ":")
					dt, err := wfp.ParseDataType(strings.ReplaceAll(strings.TrimSpace(tn), "UNIT32", "UINT32"))
					require.NoError(t, err)
					list, _, _ = strings.Cut(list, "(")
					for _, m := range strings.Split(list, ",") {
						mt, err := wfp.ParseMatchType(strings.TrimSuffix(strings.TrimSpace(m), "*"))
						require.NoError(t, err)
						assert.True(t, c.AcceptsMatch(dt, mt), "%s %s", dt, mt)
					}
				}
			}
		})
	}
}

// TestMatchTypesFollowAcceptsMatch checks that the match types conditions.tsv
// lists per condition value type are exactly what wfp.DataType.AcceptsMatch
// (rule B5) allows.
func TestMatchTypesFollowAcceptsMatch(t *testing.T) {
	for _, c := range layers.Conditions() {
		for _, tm := range c.Matches {
			t.Run(c.ShortName+"/"+tm.Type.String(), func(t *testing.T) {
				for _, m := range wfp.MatchTypes() {
					inTable := slices.Contains(tm.Matches, m)
					assert.Equal(t, inTable, tm.Type.AcceptsMatch(m),
						"%s: conditions.tsv says %s with %s is valid=%t; wfp.DataType.AcceptsMatch says %t",
						c.Name, tm.Type, m, inTable, tm.Type.AcceptsMatch(m))
				}
			})
		}
	}
}

func TestLayerConditionsMatchTable(t *testing.T) {
	want := map[string][]string{}
	for _, r := range readTSV(t, "layer_conditions.tsv") {
		if !slices.Contains(want[r["fwpm_layer"]], r["condition_name"]) {
			want[r["fwpm_layer"]] = append(want[r["fwpm_layer"]], r["condition_name"])
		}
	}
	for _, l := range layers.Layers() {
		t.Run(l.ShortName, func(t *testing.T) {
			var got []string
			for _, c := range l.Conditions {
				got = append(got, c.Name)
				if c.Condition != nil && c.Condition.KeyKnown {
					assert.True(t, l.AcceptsCondition(c.Condition.Key))
				}
			}
			assert.Equal(t, want[l.Name], got)
		})
	}
	assert.True(t, layers.ALEAuthConnectV4.AcceptsCondition(layers.ConditionIPRemotePort.Key))
	assert.False(t, layers.InboundIPPacketV4.AcceptsCondition(layers.ConditionALEAppID.Key))
	assert.False(t, layers.ALEAuthConnectV4.AcceptsCondition(wfp.FieldKey{}))
}

func TestSublayersAndObjectsMatchTable(t *testing.T) {
	rows := readTSV(t, "sublayers.tsv")
	observed := map[string]string{}
	for _, r := range readTSV(t, "sublayer_weights_observed.tsv") {
		observed[r["name"]] = r["weight"]
	}
	subs := layers.Sublayers()
	require.Len(t, subs, len(rows))
	for i, r := range rows {
		s := subs[i]
		t.Run(r["name"], func(t *testing.T) {
			assert.Equal(t, r["name"], s.Name)
			assert.Equal(t, r["guid"], s.Key.String())
			if w, ok := observed[r["name"]]; ok {
				assert.True(t, s.WeightKnown)
				assert.Equal(t, w, strconv.Itoa(int(s.Weight)))
				assert.Contains(t, s.WeightNote, "observed in real dumps")
			} else {
				assert.False(t, s.WeightKnown)
				assert.Equal(t, r["weight"], s.WeightNote)
			}
			got, ok := layers.SublayerByName(s.ShortName)
			require.True(t, ok)
			assert.Same(t, s, got)
			byKey, ok := layers.SublayerByKey(s.Key)
			require.True(t, ok)
			assert.Equal(t, s.Key, byKey.Key)
		})
	}
	byKind := map[string][]string{}
	for _, r := range readTSV(t, "builtin_objects.tsv") {
		byKind[r["kind"]] = append(byKind[r["kind"]], r["name"]+" "+r["guid"])
	}
	var got []string
	for _, p := range layers.Providers() {
		got = append(got, p.Name+" "+p.Key.String())
		q, ok := layers.ProviderByKey(p.Key)
		require.True(t, ok)
		assert.Same(t, p, q)
	}
	assert.Equal(t, byKind["FWPM_PROVIDER"], got)
	got = nil
	for _, c := range layers.Callouts() {
		got = append(got, c.Name+" "+c.Key.String())
		q, ok := layers.CalloutByName(strings.ToLower(c.ShortName))
		require.True(t, ok)
		assert.Same(t, c, q)
	}
	assert.Equal(t, byKind["FWPM_CALLOUT"], got)
	got = nil
	for _, p := range layers.ProviderContexts() {
		got = append(got, p.Name+" "+p.Key.String())
	}
	assert.Equal(t, byKind["FWPM_PROVIDER_CONTEXT"], got)
	got = nil
	for _, k := range layers.KeyingModules() {
		got = append(got, k.Name+" "+k.Key.String())
	}
	assert.Equal(t, byKind["FWPM_KEYING_MODULE"], got)
}

func TestConstantsMatchTable(t *testing.T) {
	var n, skipped int
	for _, r := range readTSV(t, "constants.tsv") {
		v, err := strconv.ParseUint(r["value"], 0, 64)
		if err != nil {
			skipped++
			_, ok := layers.ConstantByName(r["name"])
			assert.False(t, ok, r["name"])
			continue
		}
		n++
		c, ok := layers.ConstantByName(r["name"])
		require.True(t, ok, r["name"])
		assert.Equal(t, v, c.Value, r["name"])
		assert.Equal(t, r["group"], c.Group, r["name"])
	}
	assert.Len(t, layers.Constants(), n)
	assert.Positive(t, skipped)

	flags := layers.ConstantsInGroup("FWP_CONDITION_FLAG")
	require.NotEmpty(t, flags)
	loop, ok := layers.ConstantByName("FWP_CONDITION_FLAG_IS_LOOPBACK")
	require.True(t, ok)
	assert.Contains(t, flags, loop)
	assert.Equal(t, uint64(1), loop.Value)
}

func TestLayerLookups(t *testing.T) {
	for _, l := range layers.Layers() {
		t.Run(l.ShortName, func(t *testing.T) {
			for _, name := range []string{l.Name, l.ShortName, strings.ToLower(l.ShortName), strings.ToLower(l.Name), l.FWPSName} {
				got, ok := layers.LayerByName(name)
				require.True(t, ok, name)
				assert.Same(t, l, got, name)
			}
			if l.KeyKnown {
				got, ok := layers.LayerByKey(l.Key)
				require.True(t, ok)
				assert.Same(t, l, got)
				n, ok := layers.KeyName(wfp.GUID(l.Key))
				require.True(t, ok)
				assert.Equal(t, l.Name, n)
			}
			if l.IDKnown {
				got, ok := layers.LayerByID(l.ID)
				require.True(t, ok)
				assert.Same(t, l, got)
			}
			if l.Twin != nil {
				assert.Same(t, l, l.Twin.Twin)
				assert.NotEqual(t, l.Discard, l.Twin.Discard)
			}
		})
	}
	_, ok := layers.LayerByName("ALE_AUTH_CONECT_V4")
	assert.False(t, ok)
	_, ok = layers.LayerByID(200)
	assert.False(t, ok)
	assert.Same(t, layers.ALEAuthConnectV4Discard, layers.ALEAuthConnectV4.Twin)
	assert.Nil(t, layers.ALEConnectRedirectV4.Twin)
	assert.Equal(t, 28, countDiscard())
}

func countDiscard() int {
	n := 0
	for _, l := range layers.Layers() {
		if l.Discard {
			n++
		}
	}
	return n
}

func TestConditionLookups(t *testing.T) {
	for _, c := range layers.Conditions() {
		t.Run(c.ShortName, func(t *testing.T) {
			for _, name := range []string{c.Name, c.ShortName, strings.ToLower(c.ShortName)} {
				got, ok := layers.ConditionByName(name)
				require.True(t, ok, name)
				assert.Same(t, c, got)
			}
			if c.KeyKnown {
				got, ok := layers.ConditionByKey(c.Key)
				require.True(t, ok)
				assert.Same(t, c.Canonical(), got)
				n, ok := layers.KeyName(wfp.GUID(c.Key))
				require.True(t, ok)
				if got, ok := layers.LayerByKey(wfp.LayerKey(c.Key)); !ok {
					assert.Equal(t, c.Canonical().Name, n)
				} else {
					assert.Equal(t, got.Name, n)
				}
			}
		})
	}
	assert.Same(t, layers.ConditionIPLocalPort, layers.ConditionICMPType.Canonical())
	assert.Same(t, layers.ConditionIPRemotePort, layers.ConditionICMPCode.AliasOf)
	assert.Same(t, layers.ConditionIPSourcePort, layers.ConditionVSwitchICMPType.AliasOf)
}

func TestFieldsByHand(t *testing.T) {
	tests := []struct {
		layer     *layers.Layer
		index     int
		field     string
		cond      *layers.Condition
		typ       wfp.DataType
		known     bool
		noteStart string
	}{
		{layers.ALEAuthConnectV4, 0, "FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_APP_ID", layers.ConditionALEAppID, wfp.TypeByteBlob, true, "conditions.tsv"},
		{layers.ALEAuthConnectV4, 1, "FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_USER_ID", layers.ConditionALEUserID, wfp.TypeTokenAccessInformation, true, "derived: B4"},
		{layers.ALEAuthConnectV4, 2, "FWPS_FIELD_ALE_AUTH_CONNECT_V4_IP_LOCAL_ADDRESS", layers.ConditionIPLocalAddress, wfp.TypeUint32, true, "derived: B4"},
		{layers.ALEAuthConnectV6, 2, "FWPS_FIELD_ALE_AUTH_CONNECT_V6_IP_LOCAL_ADDRESS", layers.ConditionIPLocalAddress, wfp.TypeByteArray16, true, "derived: B4"},
		{layers.ALEAuthConnectV4Discard, 0, "FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_APP_ID", layers.ConditionALEAppID, wfp.TypeByteBlob, true, "conditions.tsv"},
		{layers.InboundIPPacketV4, 0, "FWPS_FIELD_INBOUND_IPPACKET_V4_IP_LOCAL_ADDRESS", layers.ConditionIPLocalAddress, wfp.TypeUint32, true, "derived: B4"},
		{layers.InboundIPPacketV4, 3, "FWPS_FIELD_INBOUND_IPPACKET_V4_IP_LOCAL_INTERFACE", layers.ConditionIPLocalInterface, wfp.TypeUint64, true, "conditions.tsv"},
		{layers.InboundTransportV4, 1, "FWPS_FIELD_INBOUND_TRANSPORT_V4_IP_LOCAL_ADDRESS", layers.ConditionIPLocalAddress, wfp.TypeUint32, true, "derived: B4"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			require.Greater(t, len(tt.layer.Fields), tt.index)
			f := tt.layer.Fields[tt.index]
			assert.Equal(t, tt.field, f.Name)
			assert.Same(t, tt.cond, f.Condition)
			assert.Equal(t, tt.known, f.TypeKnown)
			assert.Equal(t, tt.typ, f.Type)
			assert.True(t, strings.HasPrefix(f.TypeNote, tt.noteStart), f.TypeNote)
			byKey, ok := tt.layer.Field(tt.cond.Key)
			require.True(t, ok)
			assert.Equal(t, f, byKey)
		})
	}
	// The ICMP type travels in the local-port field (rule B8).
	f, ok := layers.InboundTransportV4.Field(layers.ConditionICMPType.Key)
	require.True(t, ok)
	assert.Same(t, layers.ConditionIPLocalPort, f.Condition)
	// Ambiguous and undocumented types stay unknown.
	for _, l := range layers.Layers() {
		for _, f := range l.Fields {
			if f.Condition == layers.ConditionNDISPort || f.Condition == layers.ConditionBitmapIPLocalAddress {
				assert.False(t, f.TypeKnown, "%s %s", l, f.Name)
			}
		}
	}
}

func TestUnknowns(t *testing.T) {
	for _, l := range []*layers.Layer{layers.ALEAcceptRedirectV4, layers.ALEAcceptRedirectV6, layers.OutboundNetworkConnectionPolicyV4, layers.OutboundNetworkConnectionPolicyV6} {
		assert.False(t, l.IDKnown, l.Name)
	}
	assert.False(t, layers.ALEAcceptRedirectV6.KeyKnown)
	assert.Equal(t, layers.ModeUnknown, layers.ALEAcceptRedirectV4.Mode)
	assert.Contains(t, layers.IPsecV4.IDNote, "shift")
	assert.False(t, layers.ConditionScopeID.KeyKnown)
	// Rule E10: no weight is documented; the catalogue carries the weight real machines report.
	assert.True(t, layers.SublayerUniversal.WeightKnown)
	assert.Equal(t, uint16(0x8000), layers.SublayerUniversal.Weight)
	assert.False(t, layers.SublayerEdgeTraversal.WeightKnown, "never seen in a dump")
	assert.Equal(t, []wfp.DataType{wfp.TypeUint32}, layers.ConditionALEPromiscuousMode.Types)
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		kind, name string
		first      string
	}{
		{layers.KindLayer, "ALE_AUTH_CONECT_V4", "ALE_AUTH_CONNECT_V4"},
		{layers.KindLayer, "fwpm_layer_ale_auth_connect_v5", "ALE_AUTH_CONNECT_V4"},
		{layers.KindCondition, "IP_REMOTE_PROT", "IP_REMOTE_PORT"},
		{layers.KindSublayer, "UNIVERSE", "UNIVERSAL"},
		{layers.KindCallout, "IPSEC_ALE_CONNECT_V5", "IPSEC_ALE_CONNECT_V4"},
		{layers.KindProvider, "IKEXT", "IKEEXT"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			got := layers.Suggest(tt.kind, tt.name)
			require.NotEmpty(t, got)
			assert.LessOrEqual(t, len(got), 3)
			assert.Equal(t, tt.first, got[0])
		})
	}
	assert.Empty(t, layers.Suggest(layers.KindLayer, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"))
	assert.Nil(t, layers.Suggest("bogus", "x"))
}

func TestKeysAreDistinctAcrossKinds(t *testing.T) {
	seen := map[wfp.GUID]string{}
	add := func(g wfp.GUID, name string) {
		if o, ok := seen[g]; ok && !sharesByDesign(o, name) {
			t.Errorf("%s and %s share GUID %s", o, name, g)
		}
		seen[g] = name
	}
	for _, l := range layers.Layers() {
		if l.KeyKnown {
			add(wfp.GUID(l.Key), l.Name)
		}
	}
	for _, c := range layers.Conditions() {
		if c.KeyKnown && c.AliasOf == nil {
			add(wfp.GUID(c.Key), c.Name)
		}
	}
	for _, s := range layers.Sublayers() {
		add(wfp.GUID(s.Key), s.Name)
	}
	for _, p := range layers.Providers() {
		add(wfp.GUID(p.Key), p.Name)
	}
	for _, c := range layers.Callouts() {
		add(wfp.GUID(c.Key), c.Name)
	}
}

// sharesByDesign lists GUIDs the headers give to two names.
func sharesByDesign(a, b string) bool {
	return a == "FWPM_SUBLAYER_TEREDO" && b == "FWPM_SUBLAYER_EDGE_TRAVERSAL"
}
