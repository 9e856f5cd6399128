package render_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/render"
	"github.com/wfpsim/wfpsim/replay"
	"github.com/wfpsim/wfpsim/wfp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/NAME.golden (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./render -update")
	assert.Equal(t, string(want), got)
}

var profiles = []struct {
	name string
	p    render.Profile
}{{"plain", render.ProfilePlain}, {"ansi256", render.ProfileANSI256}}

// checkPlain asserts that plain output is ASCII without escape sequences and
// fits the width.
func checkPlain(t *testing.T, s string, width int) {
	t.Helper()
	for i, line := range strings.Split(s, "\n") {
		for _, r := range line {
			if r > 0x7e || (r < 0x20 && r != '\t') {
				t.Fatalf("line %d: not plain ASCII: %q", i+1, line)
			}
		}
		assert.LessOrEqual(t, len(line), width, "line %d too wide: %q", i+1, line)
	}
}

// replayed replays the workstation capture with the hard-permit policy.
func replayed(t *testing.T) map[uint64]*replay.PacketResult {
	t.Helper()
	doc, err := policy.Load("../testdata/policies/hard-permit.yaml")
	require.NoError(t, err)
	eng := engine.New(engine.Options{})
	_, err = policy.Apply(eng.Open(wfp.SessionOptions{}), doc)
	require.NoError(t, err)
	r := replay.New(eng, replay.Options{Trace: true})
	file := "../testdata/pcap/generated/workstation.pcap"
	require.NoError(t, r.Start([]string{file}))
	got := map[uint64]*replay.PacketResult{}
	require.NoError(t, r.Replay(file, func(pr *replay.PacketResult) error {
		got[pr.N] = pr.Clone()
		return nil
	}, func(p replay.Problem) { t.Errorf("problem: %v", p) }))
	return got
}

func TestStack(t *testing.T) {
	prs := replayed(t)
	cases := []struct {
		name string
		n    uint64
	}{
		{"udp-out-permit", 1},
		{"connect-block", 3},
		{"in-flow-blocked", 4},
		{"hard-permit", 12},
		{"in-permit", 13},
	}
	for _, c := range cases {
		for _, p := range profiles {
			t.Run(c.name+"/"+p.name, func(t *testing.T) {
				pr := prs[c.n]
				require.NotNil(t, pr)
				got := render.Stack(pr.Steps, render.Packet{
					Title: strings.Join(strings.Fields(pr.Line(false)), " "), Direction: pr.Direction, Verdict: pr.Verdict, Reason: pr.Reason,
				}, render.Options{Profile: p.p, Highlight: 2})
				if p.p == render.ProfilePlain {
					checkPlain(t, got, 80)
				}
				golden(t, "stack-"+c.name+"-"+p.name, got)
			})
		}
	}
}

func TestStackZeroPacket(t *testing.T) {
	prs := replayed(t)
	got := render.Stack(prs[3].Steps, render.Packet{}, render.Options{})
	checkPlain(t, got, 80)
	assert.Contains(t, got, "path (outbound)")
	assert.Contains(t, got, "BLOCK (hard)")
	assert.Contains(t, got, "discard")
}

const vetoPolicy = `version: 1
sublayers:
  - {name: high, weight: 0xc000}
  - {name: low, weight: 0x4000}
callouts:
  - {name: vetoer, layer: ALE_AUTH_CONNECT_V6}
  - {name: inspector, layer: ALE_AUTH_CONNECT_V6}
filters:
  - {name: hard-permit, layer: ALE_AUTH_CONNECT_V6, sublayer: high, weight: 10, action: permit, flags: [clear_action_right]}
  - name: not-this-port
    layer: ALE_AUTH_CONNECT_V6
    sublayer: high
    weight: 12
    action: block
    conditions: [{field: IP_REMOTE_PORT, match: equal, value: 80}]
  - {name: inspect, layer: ALE_AUTH_CONNECT_V6, sublayer: low, weight: 9, action: callout_inspection, callout: inspector}
  - {name: veto, layer: ALE_AUTH_CONNECT_V6, sublayer: low, weight: 5, action: callout_terminating, callout: vetoer}
`

func TestArbitration(t *testing.T) {
	doc, err := policy.Parse("veto.yaml", []byte(vetoPolicy))
	require.NoError(t, err)
	eng := engine.New(engine.Options{})
	applied, err := policy.Apply(eng.Open(wfp.SessionOptions{}), doc)
	require.NoError(t, err)
	for name, a := range map[string]wfp.ActionType{"vetoer": wfp.ActionBlock, "inspector": wfp.ActionContinue} {
		key, ok := applied.Names.CalloutKey(name)
		require.True(t, ok)
		require.NoError(t, eng.RegisterCallout(key, callout.Static(a, false)))
	}
	l, ok := layers.LayerByName("ALE_AUTH_CONNECT_V6")
	require.True(t, ok)
	f, ok := l.Field(mustCondition(t, "IP_REMOTE_PORT"))
	require.True(t, ok)
	values := make([]wfp.Value, len(l.Fields))
	values[f.Index] = wfp.Uint16(443)
	var d engine.Decision
	var tr engine.Trace
	require.NoError(t, eng.Classify(&engine.Request{Layer: l, Values: values}, &d, &tr))
	require.True(t, d.Vetoed, tr.String())
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			got := render.Arbitration(&tr, render.Options{Profile: p.p, Values: true})
			if p.p == render.ProfilePlain {
				checkPlain(t, got, 80)
				assert.Contains(t, got, "VETO")
				assert.Contains(t, got, "not matched: IP_REMOTE_PORT")
			}
			golden(t, "arbitration-veto-"+p.name, got)
		})
	}
}

func mustCondition(t *testing.T, name string) wfp.FieldKey {
	t.Helper()
	c, ok := layers.ConditionByName(name)
	require.True(t, ok)
	return c.Key
}

func TestArbitrationReplay(t *testing.T) {
	prs := replayed(t)
	for _, s := range prs[3].Steps {
		if s.Trace == nil || len(s.Trace.Sublayers) == 0 {
			continue
		}
		got := render.Arbitration(s.Trace, render.Options{})
		checkPlain(t, got, 80)
		golden(t, "arbitration-connect-block-plain", got)
		return
	}
	t.Fatal("no step with filters")
}

func TestSummary(t *testing.T) {
	c := render.Counts{
		Frames: 26, Skipped: 1,
		Packets:      map[string]int{"permit": 17, "block": 8},
		ByLayer:      map[string]int{"FWPM_LAYER_ALE_AUTH_CONNECT_V4": 8},
		ByFilter:     map[string]int{"block-web-server": 6, "block-dns": 2},
		BlockedFlows: map[string]int{"tcp 192.168.1.20:49701 -> 93.184.216.34:80": 6, "udp 192.168.1.20:50000 -> 192.168.1.1:53": 1, "udp 192.168.1.20:50001 -> 192.168.1.1:53": 1},
		Top:          2,
	}
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			got := render.Summary(c, render.Options{Profile: p.p})
			if p.p == render.ProfilePlain {
				checkPlain(t, got, 80)
			}
			golden(t, "summary-"+p.name, got)
		})
	}
}

func TestDetect(t *testing.T) {
	var b strings.Builder
	assert.Equal(t, render.ProfilePlain, render.Detect(&b))
	t.Setenv("NO_COLOR", "1")
	assert.Equal(t, render.ProfilePlain, render.Detect(os.Stdout))
}

func TestProfileString(t *testing.T) {
	assert.Equal(t, "plain", render.ProfilePlain.String())
	assert.Equal(t, "ansi256", render.ProfileANSI256.String())
}
