package conformance

import (
	"regexp"
	"strings"
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

// TestObserve runs the Windows runner's view (verdict plus net events mapped back to
// names, Observe and Agree) against the simulator's own net events, so the mapping is
// tested on every OS.
func TestObserve(t *testing.T) {
	scenarios, err := Load("testdata")
	require.NoError(t, err)
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			direct, observed, err := simulate(sc)
			require.NoError(t, err)
			for i, p := range sc.Probes {
				assert.Empty(t, Agree(direct[i], observed[i]), "%s:%d: %s\n%s", sc.File, p.Line, p.Text, Table(sc, "wfpsim", "events", direct, observed))
				if direct[i].Verdict == "block" {
					assert.Equal(t, direct[i].Layer, observed[i].Layer, "a drop event names the layer")
					assert.False(t, observed[i].Partial)
				}
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

// The simulator's drop events say what Windows' FWPM_NET_EVENT_CLASSIFY_DROP1 says
// of a probe: outbound at AUTH_CONNECT, inbound at AUTH_RECV_ACCEPT, and loopback
// (every probe is; FWP_CONDITION_FLAG_IS_LOOPBACK, rule C17).
func TestEventDirectionAndLoopback(t *testing.T) {
	scenarios, err := Load("testdata")
	require.NoError(t, err)
	blocks := 0
	for _, sc := range scenarios {
		sim, err := Simulate(sc)
		require.NoError(t, err)
		for i, o := range sim {
			if o.Verdict != "block" || o.Direction == "" {
				continue
			}
			blocks++
			p := sc.Probes[i]
			assert.True(t, o.Loopback, "%s:%d: %s", sc.File, p.Line, p.Text)
			switch {
			case strings.HasPrefix(o.Layer, "ALE_AUTH_CONNECT"):
				assert.Equal(t, "outbound", o.Direction, "%s:%d", sc.File, p.Line)
			case strings.HasPrefix(o.Layer, "ALE_AUTH_RECV_ACCEPT"):
				assert.Equal(t, "inbound", o.Direction, "%s:%d", sc.File, p.Line)
			}
		}
	}
	assert.Greater(t, blocks, 5)
}

func TestAgree(t *testing.T) {
	sim := Outcome{Verdict: "block", Layer: "ALE_AUTH_CONNECT_V4", Deciders: []string{"hi=a", "lo=b"}, Direction: "outbound", Loopback: true}
	tests := []struct {
		name string
		real Outcome
		want string
	}{
		{"same", Outcome{Verdict: "block", Layer: "ALE_AUTH_CONNECT_V4", Deciders: []string{"lo=b", "hi=a"}}, ""},
		{"verdict", Outcome{Verdict: "permit"}, "verdicts differ"},
		{"no event", Outcome{Verdict: "block"}, ""},
		{"layer", Outcome{Verdict: "block", Layer: "ALE_AUTH_RECV_ACCEPT_V4", Deciders: sim.Deciders}, "deciding layers differ"},
		{"veto", Outcome{Verdict: "block", Layer: "ALE_AUTH_CONNECT_V4", Veto: true, Deciders: sim.Deciders}, "veto differs"},
		{"deciders", Outcome{Verdict: "block", Layer: "ALE_AUTH_CONNECT_V4", Deciders: []string{"hi=a"}}, "deciding filters differ"},
		{"partial ok", Outcome{Verdict: "block", Layer: "ALE_AUTH_CONNECT_V4", Deciders: []string{"lo=b"}, Partial: true}, ""},
		{"partial bad", Outcome{Verdict: "block", Layer: "ALE_AUTH_CONNECT_V4", Deciders: []string{"lo=c"}, Partial: true}, "deciding filter differs"},
		{"direction", Outcome{Verdict: "block", Layer: "ALE_AUTH_CONNECT_V4", Deciders: sim.Deciders, Direction: "inbound", Loopback: true}, "event directions differ"},
		{"loopback", Outcome{Verdict: "block", Layer: "ALE_AUTH_CONNECT_V4", Deciders: sim.Deciders, Direction: "outbound"}, "event loopback flags differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Agree(sim, tt.real))
		})
	}
}

// TestRulesCited: every scenario says which rules of the rule book it checks.
func TestRulesCited(t *testing.T) {
	scenarios, err := Load("testdata")
	require.NoError(t, err)
	rule := regexp.MustCompile(`\b[A-E][0-9]{1,2}\b`)
	for _, sc := range scenarios {
		assert.Regexp(t, rule, sc.Comment, "%s: the comment cites no rule id", sc.File)
	}
}
