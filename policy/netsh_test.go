package policy_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

const keployDump = "../testdata/wfpstate/keploy-wfpstate.xml"

const sharedDumps = "../../shared/testdata-real/wfpstate"

func newSession() (*engine.Engine, *engine.Session) {
	e := engine.New(engine.Options{})
	return e, e.Open(wfp.SessionOptions{Name: "netsh test"})
}

func readDump(t testing.TB, path string) *policy.Dump {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	d, err := policy.ReadNetsh(f, policy.ImportOptions{File: filepath.Base(path)})
	require.NoError(t, err)
	return d
}

// importAndApply imports a dump, applies it to a fresh engine and checks that the
// account covers every filter of the dump.
func importAndApply(t *testing.T, path string, wantFilters int) (*engine.Session, *policy.Account) {
	t.Helper()
	_, s := newSession()
	doc, acct, err := policy.ImportNetshFile(path, policy.ImportOptions{Existing: s})
	require.NoError(t, err)
	assert.Equal(t, wantFilters, acct.DumpFilters, "filters in the dump")
	skippedFilters := 0
	for _, n := range acct.Skipped {
		assert.NotEmpty(t, n.Reason)
		if strings.HasPrefix(n.Object, "filter ") {
			skippedFilters++
		}
	}
	assert.Equal(t, acct.DumpFilters, acct.Filters+skippedFilters, "every filter is imported or listed with its reason")
	sum := 0
	for _, c := range acct.ByLayer {
		sum += c.N
	}
	assert.Equal(t, acct.Filters, sum)
	_, err = policy.Apply(s, doc)
	require.NoError(t, err)
	fs, err := s.Filters(nil)
	require.NoError(t, err)
	assert.Len(t, fs, acct.Filters)
	var buf bytes.Buffer
	require.NoError(t, acct.WriteText(&buf))
	assert.Contains(t, buf.String(), "not carried over")
	return s, acct
}

func TestImportKeploy(t *testing.T) {
	s, acct := importAndApply(t, keployDump, 1254)
	assert.Equal(t, "show state", acct.Format)
	assert.Equal(t, 89, acct.DumpCallouts)
	assert.Equal(t, 45, acct.DumpSublayers)
	assert.Equal(t, 16, acct.DumpProviders)
	d := readDump(t, keployDump)
	// Effective weights are kept exactly.
	want := map[wfp.FilterKey]uint64{}
	for _, f := range d.Filters {
		want[f.Key] = f.EffectiveWeight
	}
	fs, err := s.Filters(nil)
	require.NoError(t, err)
	for _, f := range fs {
		assert.Equal(t, want[f.Key], f.EffectiveWeight, "filter %s", f.DisplayData.Name)
	}
	// Everything the import left out says why.
	for _, n := range acct.Skipped {
		assert.Positive(t, n.Line, n.String())
	}
}

func TestImportRealDumps(t *testing.T) {
	if _, err := os.Stat(sharedDumps); err != nil {
		t.Skip("../shared is absent")
	}
	for _, tc := range []struct {
		file    string
		filters int
		format  string
	}{
		{"keploy-wfpstate.xml", 1254, "show state"},
		{"python_pi_burner-wfpstate.xml", 1050, "show state"},
		{"python_pi_burner-filters.xml", 990, "show filters"},
		{"fanyi-wfpstate.xml", 200, "show state"},
		{"AstralWfp-filters.xml", 1246, "show filters"},
		{"VPNWindows-filters.xml", 308, "show filters"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(sharedDumps, tc.file)
			_, acct := importAndApply(t, path, tc.filters)
			assert.Equal(t, tc.format, acct.Format)
			// Rule B1: an FWP_UINT8 weight r gives effectiveWeight >> 60 == r; an
			// FWP_UINT64 weight is copied; FWP_EMPTY stays below 2^60.
			d := readDump(t, path)
			require.Len(t, d.Filters, tc.filters)
			for _, f := range d.Filters {
				switch f.DumpedWeight.Kind {
				case wfp.WeightRange:
					assert.Equal(t, f.DumpedWeight.Value, f.EffectiveWeight>>60, "filter %d", f.ID)
				case wfp.WeightExact:
					assert.Equal(t, f.DumpedWeight.Value, f.EffectiveWeight, "filter %d", f.ID)
				default:
					assert.Less(t, f.EffectiveWeight, uint64(1)<<60, "filter %d", f.ID)
				}
			}
		})
	}
}

// The two python_pi_burner dumps come from the same machine: the filters they
// share agree.
func TestImportStateAndFiltersAgree(t *testing.T) {
	if _, err := os.Stat(sharedDumps); err != nil {
		t.Skip("../shared is absent")
	}
	st := readDump(t, filepath.Join(sharedDumps, "python_pi_burner-wfpstate.xml"))
	fl := readDump(t, filepath.Join(sharedDumps, "python_pi_burner-filters.xml"))
	byKey := map[wfp.FilterKey]policy.DumpFilter{}
	for _, f := range st.Filters {
		byKey[f.Key] = f
	}
	shared := 0
	for _, f := range fl.Filters {
		g, ok := byKey[f.Key]
		if !ok {
			continue
		}
		shared++
		assert.Equal(t, g.Layer, f.Layer, "layer of %s", f.Key)
		assert.Equal(t, g.Sublayer, f.Sublayer, "sublayer of %s", f.Key)
		assert.Equal(t, g.EffectiveWeight, f.EffectiveWeight, "weight of %s", f.Key)
		assert.Equal(t, g.Action, f.Action, "action of %s", f.Key)
		assert.True(t, reflect.DeepEqual(g.Conditions, f.Conditions), "conditions of %s", f.Key)
	}
	t.Logf("%d filters shared", shared)
	assert.Greater(t, shared, 500)
}

// Import keploy, apply, export as netsh XML, import again: the same filters.
func TestNetshRoundTrip(t *testing.T) {
	for _, filtersLayout := range []bool{false, true} {
		s1, _ := importAndApply(t, keployDump, 1254)
		var xml bytes.Buffer
		require.NoError(t, policy.ExportNetsh(&xml, s1, policy.NetshExportOptions{Filters: filtersLayout}))
		_, s2 := newSession()
		doc, acct, err := policy.ImportNetsh(bytes.NewReader(xml.Bytes()), policy.ImportOptions{File: "export.xml", Existing: s2})
		require.NoError(t, err)
		assert.Empty(t, acct.Skipped)
		_, err = policy.Apply(s2, doc)
		require.NoError(t, err)
		f1, err := s1.Filters(nil)
		require.NoError(t, err)
		f2, err := s2.Filters(nil)
		require.NoError(t, err)
		require.Equal(t, len(f1), len(f2))
		byKey := map[wfp.FilterKey]wfp.Filter{}
		for _, f := range f2 {
			byKey[f.Key] = f
		}
		for _, a := range f1 {
			b, ok := byKey[a.Key]
			require.True(t, ok, "filter %s", a.Key)
			assert.Equal(t, a.Key, b.Key)
			assert.Equal(t, a.Layer, b.Layer)
			assert.Equal(t, a.Sublayer, b.Sublayer)
			assert.Equal(t, a.EffectiveWeight, b.EffectiveWeight)
			assert.Equal(t, a.Action, b.Action)
			assert.Equal(t, a.Flags, b.Flags)
			assert.True(t, reflect.DeepEqual(a.Conditions, b.Conditions), "conditions of %s", a.DisplayData.Name)
		}
		if !filtersLayout {
			sub1, _ := s1.Sublayers()
			sub2, _ := s2.Sublayers()
			assert.Equal(t, sub1, sub2)
		}
	}
}

func TestImportBadInput(t *testing.T) {
	const head = "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<wfpdiag>\n<filters numItems=\"1\">\n"
	const item = `<item>
<filterKey>{935b7f48-0ede-44dd-9bc2-e00bb635cda3}</filterKey>
<displayData><name>f</name><description/></displayData>
<flags/>
<providerKey/>
<layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey>
<subLayerKey>FWPM_SUBLAYER_UNIVERSAL</subLayerKey>
<weight><type>FWP_EMPTY</type></weight>
<filterCondition numItems="1"><item>
<fieldKey>FWPM_CONDITION_IP_REMOTE_PORT</fieldKey>
<matchType>FWP_MATCH_EQUAL</matchType>
<conditionValue><type>FWP_UINT16</type><uint16>PORTVAL</uint16></conditionValue>
</item></filterCondition>
<action><type>FWP_ACTION_BLOCK</type><filterType/></action>
<rawContext>0</rawContext>
<reserved/>
<filterId>7</filterId>
<effectiveWeight><type>FWP_UINT64</type><uint64>5</uint64></effectiveWeight>
</item>
`
	const tail = "</filters>\n</wfpdiag>\n<firewallState/>\n"
	good := head + strings.Replace(item, "PORTVAL", "80", 1) + tail
	doc, acct, err := policy.ImportNetsh(strings.NewReader(good), policy.ImportOptions{})
	require.NoError(t, err)
	require.Len(t, doc.Filters, 1)
	assert.Equal(t, 1, acct.Filters)
	assert.Equal(t, policy.Weight{Kind: wfp.WeightExact, Value: "0x0000000000000005"}, doc.Filters[0].Weight)

	for _, tc := range []struct {
		name, in, want string
	}{
		{"value", head + item + tail, `netsh.xml:15:1: wfpdiag/filters/item[1]/filterCondition/item[1]/conditionValue/uint16: "PORTVAL" is not a valid FWP_UINT16 value`},
		{"truncated", head + item[:300], "wfpdiag/filters/item[1]: the dump is truncated"},
		{"malformed", head + "<item><filterKey></item>" + tail, "netsh.xml:4:1: wfpdiag/filters/item[1]/filterKey: malformed XML: element <filterKey> closed by </item>"},
		{"unknown element", head + strings.Replace(strings.Replace(item, "PORTVAL", "80", 1), "<reserved/>", "<bogus/>", 1) + tail, "wfpdiag/filters/item[1]/bogus: unknown element <bogus> in <item>"},
		{"unknown section", head + "</filters><bogus/></wfpdiag>", "netsh.xml:4:1: wfpdiag/bogus: unknown element <bogus>"},
		{"root", "<html/>", "unknown root element <html>"},
		{"empty", "", "no netsh XML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := policy.ImportNetsh(strings.NewReader(tc.in), policy.ImportOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var pe *policy.Error
			require.ErrorAs(t, err, &pe)
			assert.Positive(t, pe.Line)
		})
	}
	// Partial: the good filter is imported, the bad one listed.
	two := head + strings.Replace(item, "PORTVAL", "80", 1) +
		strings.Replace(strings.Replace(item, "PORTVAL", "x", 1), "935b7f48", "935b7f49", 1) + tail
	doc, acct, err = policy.ImportNetsh(strings.NewReader(two), policy.ImportOptions{Partial: true})
	require.NoError(t, err)
	assert.Len(t, doc.Filters, 1)
	require.Len(t, acct.Skipped, 1)
	assert.Equal(t, 2, acct.DumpFilters)
	assert.Contains(t, acct.Skipped[0].String(), `"x" is not a valid FWP_UINT16 value`)
	assert.Contains(t, acct.Skipped[0].Path, "wfpdiag/filters/item[2]/filterCondition/item[1]/conditionValue/uint16")
	// Partial on a truncated dump keeps what was read and says where it stopped.
	doc, acct, err = policy.ImportNetsh(strings.NewReader(head+strings.Replace(item, "PORTVAL", "80", 1)+item[:200]), policy.ImportOptions{Partial: true})
	require.NoError(t, err)
	assert.Len(t, doc.Filters, 1)
	require.NotEmpty(t, acct.Skipped)
	assert.Contains(t, acct.Skipped[len(acct.Skipped)-1].Reason, "truncated")
}

func BenchmarkImportKeploy(b *testing.B) {
	data, err := os.ReadFile(keployDump)
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, _, err := policy.ImportNetsh(bytes.NewReader(data), policy.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadNetshKeploy(b *testing.B) {
	data, err := os.ReadFile(keployDump)
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := policy.ReadNetsh(bytes.NewReader(data), policy.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzReadNetsh: a dump never panics the importer; what it accepts converts
// to a document.
func FuzzReadNetsh(f *testing.F) {
	f.Add([]byte("\ufeff<wfpdiag><filters/></wfpdiag><firewallState/>"))
	f.Add([]byte(`<wfpdiag><filters numItems="1"><item><filterKey>{935b7f48-0ede-44dd-9bc2-e00bb635cda3}</filterKey>` +
		`<layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey><filterCondition><item><fieldKey>FWPM_CONDITION_IP_REMOTE_ADDRESS</fieldKey>` +
		`<matchType>FWP_MATCH_RANGE</matchType><conditionValue><type>FWP_RANGE_TYPE</type><rangeValue><valueLow><type>FWP_UINT32</type>` +
		`<uint32>10.0.0.1</uint32></valueLow><valueHigh><type>FWP_UINT32</type><uint32>10.0.0.9</uint32></valueHigh></rangeValue>` +
		`</conditionValue></item></filterCondition><action><type>FWP_ACTION_CALLOUT_UNKNOWN</type><filterType>{b255c296-7e0c-4115-95f3-b7f24a8a1162}</filterType></action>` +
		`<effectiveWeight><type>FWP_UINT64</type><uint64>7</uint64></effectiveWeight></item></filters></wfpdiag>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, partial := range []bool{false, true} {
			d, err := policy.ReadNetsh(bytes.NewReader(data), policy.ImportOptions{Partial: partial})
			if err != nil {
				continue
			}
			doc, acct := d.Document(policy.ImportOptions{})
			if doc == nil || acct == nil {
				t.Fatal("nil document")
			}
		}
	})
}
