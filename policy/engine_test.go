package policy_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

// TestApplyExportAgainstEngine applies documents to the simulated engine, exports
// the engine's state, and applies the export to a fresh engine: both engines must
// hold the same objects (DESIGN §4: an export loads to the same state).
func TestApplyExportAgainstEngine(t *testing.T) {
	for _, file := range []string{"testdata/example.yaml", "../testdata/policies/kill-switch.yaml"} {
		t.Run(file, func(t *testing.T) {
			doc, err := policy.Load(file)
			require.NoError(t, err)
			s1 := engine.New(engine.Options{}).Open(wfp.SessionOptions{})
			applied, err := policy.Apply(s1, doc)
			require.NoError(t, err)
			require.NotEmpty(t, applied.FilterIDs)

			exported, err := policy.Export(s1)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, exported.WriteYAML(&buf))
			back, err := policy.Parse("export.yaml", buf.Bytes())
			require.NoError(t, err, buf.String())
			s2 := engine.New(engine.Options{}).Open(wfp.SessionOptions{})
			_, err = policy.Apply(s2, back)
			require.NoError(t, err, buf.String())

			f1, err := s1.Filters(nil)
			require.NoError(t, err)
			f2, err := s2.Filters(nil)
			require.NoError(t, err)
			assert.Equal(t, f1, f2)
			for _, get := range []func(wfp.Engine) (any, error){
				func(e wfp.Engine) (any, error) { return e.Sublayers() },
				func(e wfp.Engine) (any, error) { return e.Providers() },
				func(e wfp.Engine) (any, error) { return e.Callouts() },
			} {
				a, err := get(s1)
				require.NoError(t, err)
				b, err := get(s2)
				require.NoError(t, err)
				assert.Equal(t, a, b)
			}
		})
	}
}

// TestApplyFailureLeavesEngineUnchanged: a document whose last filter the engine
// rejects adds nothing (one transaction, aborted).
func TestApplyFailureLeavesEngineUnchanged(t *testing.T) {
	doc, err := policy.Parse("dup.yaml", []byte(`version: 1
sublayers:
  - {name: mine, weight: 0x100}
filters:
  - {name: a, layer: ALE_AUTH_CONNECT_V4, sublayer: mine, action: permit}
  - {name: b, key: 11111111-2222-3333-4444-555555555555, layer: ALE_AUTH_CONNECT_V4, action: block}
`))
	require.NoError(t, err)
	e := engine.New(engine.Options{})
	s := e.Open(wfp.SessionOptions{})
	before, err := s.Sublayers()
	require.NoError(t, err)
	// Occupy filter b's key so that the engine, not the document, rejects it.
	_, err = s.AddFilter(wfp.Filter{Key: wfp.FilterKey(wfp.MustParseGUID("11111111-2222-3333-4444-555555555555")),
		DisplayData: wfp.DisplayData{Name: "squatter"}, Layer: layers.ALEAuthConnectV4.Key, Action: wfp.Action{Type: wfp.ActionPermit}})
	require.NoError(t, err)
	_, err = policy.Apply(s, doc)
	require.ErrorIs(t, err, wfp.ErrAlreadyExists)
	var pe *policy.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 6, pe.Line)
	after, err := s.Sublayers()
	require.NoError(t, err)
	assert.Equal(t, before, after, "the sublayer of the failed document must not stay")
	fs, err := s.Filters(nil)
	require.NoError(t, err)
	assert.Len(t, fs, 1, "only the squatter")
}
