package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSimulator runs every scenario's probes through the simulator and compares
// them with the expectations written from the rule book.
func TestSimulator(t *testing.T) {
	scenarios, err := Load("testdata")
	require.NoError(t, err)
	require.NotEmpty(t, scenarios)
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			got, err := Simulate(sc)
			require.NoError(t, err)
			want := make([]Outcome, len(sc.Probes))
			failed := false
			for i := range sc.Probes {
				want[i] = sc.Probes[i].Want
				if d := sc.Probes[i].Diff(got[i]); d != "" {
					failed = true
					t.Errorf("%s:%d: %s\n     %s", sc.File, sc.Probes[i].Line, sc.Probes[i].Text, d)
				}
			}
			if failed {
				t.Logf("\n%s", Table(sc, "want", "wfpsim", want, got))
			}
		})
	}
}

// TestConfined: a policy that is not confined to loopback and the test ports is
// refused, so the suite can never block a real machine's traffic.
func TestConfined(t *testing.T) {
	bad := []string{
		"version: 1\nfilters:\n  - {name: all, layer: ALE_AUTH_CONNECT_V4, action: block}\n",
		"version: 1\nfilters:\n  - name: port-only\n    layer: ALE_AUTH_CONNECT_V4\n    action: block\n    conditions:\n      - {field: IP_REMOTE_PORT, value: 47001}\n",
		"version: 1\nfilters:\n  - name: lan\n    layer: ALE_AUTH_CONNECT_V4\n    action: block\n    conditions:\n      - {field: IP_REMOTE_PORT, value: 47001}\n      - {field: IP_REMOTE_ADDRESS, value: 10.0.0.1}\n",
		"version: 1\nfilters:\n  - name: wide-range\n    layer: ALE_AUTH_CONNECT_V4\n    action: block\n    conditions:\n      - {field: IP_REMOTE_PORT, match: range, value: 1-47001}\n      - {field: IP_REMOTE_ADDRESS, value: 127.0.0.1}\n",
		"version: 1\nfilters:\n  - name: not-equal\n    layer: ALE_AUTH_CONNECT_V4\n    action: block\n    conditions:\n      - {field: IP_REMOTE_PORT, value: 47001}\n      - {field: IP_REMOTE_ADDRESS, match: not_equal, value: 127.0.0.1}\n",
	}
	for _, doc := range bad {
		_, err := Parse("bad.txtar", []byte("-- policy.yaml --\n"+doc+"-- probes --\ntcp 127.0.0.1:47001 => permit\n"))
		assert.ErrorContains(t, err, "not confined", doc)
	}
	_, err := Parse("bad.txtar", []byte("-- policy.yaml --\nversion: 1\n-- probes --\ntcp 10.0.0.1:47001 => permit\n"))
	assert.ErrorContains(t, err, "loopback")
	_, err = Parse("bad.txtar", []byte("-- policy.yaml --\nversion: 1\n-- probes --\ntcp 127.0.0.1:47001 => block\n"))
	assert.ErrorContains(t, err, "names its layer")
}
