package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

// TestPersistentRoundTrip: what apply --persistent adds (tagged with the wfpsim
// provider) is exactly what remove deletes, against the simulator's wfp.Engine.
func TestPersistentRoundTrip(t *testing.T) {
	e := engine.New(engine.Options{})
	sess := e.Open(wfp.SessionOptions{Name: "test"})
	defer sess.Close()
	other, err := policy.Parse("other.yaml", []byte("version: 1\nfilters:\n  - {name: keep, layer: ALE_AUTH_CONNECT_V4, action: permit}\n"))
	require.NoError(t, err)
	_, err = policy.Apply(sess, other)
	require.NoError(t, err)

	doc, err := policy.Load(killSwitch)
	require.NoError(t, err)
	tagPersistent(doc)
	applied, err := policy.Apply(sess, doc)
	require.NoError(t, err)
	filters, err := sess.Filters(nil)
	require.NoError(t, err)
	require.Len(t, filters, len(applied.FilterIDs)+1)

	key, err := wfpsimProviderKey()
	require.NoError(t, err)
	n, err := removeProvider(sess, key)
	require.NoError(t, err)
	assert.Greater(t, n, len(applied.FilterIDs))
	filters, err = sess.Filters(nil)
	require.NoError(t, err)
	require.Len(t, filters, 1)
	assert.Equal(t, "keep", filters[0].DisplayData.Name)

	n, err = removeProvider(sess, key)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to remove")
}
