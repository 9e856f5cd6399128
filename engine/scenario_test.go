package engine_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

var update = flag.Bool("update", false, "rewrite the want.trace sections of scenario files")

// TestScenarios walks testdata/scenarios/*.txtar. Each file holds:
//
//	-- policy.yaml --  a policy document
//	-- callouts --     optional: "NAME ACTION" per line (permit, block, continue, permit-hard,
//	                   block-hard); callouts not listed stay unregistered
//	-- classify --     one classification per line: LAYER FIELD=VALUE ...
//	-- want.trace --   the traces, in order, then the net events
//
// -update rewrites want.trace.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("../testdata/scenarios/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			sections, order := parseTxtar(string(data))
			got := runScenario(t, file, sections)
			if *update {
				sections["want.trace"] = got
				require.NoError(t, os.WriteFile(file, []byte(formatTxtar(sections, order)), 0o644))
				return
			}
			assert.Equal(t, sections["want.trace"], got, "run go test ./engine -run TestScenarios -update")
		})
	}
}

func runScenario(t *testing.T, file string, sections map[string]string) string {
	doc, err := policy.Parse(file+"#policy.yaml", []byte(sections["policy.yaml"]))
	require.NoError(t, err)
	objs, err := doc.Objects()
	require.NoError(t, err)
	e := engine.New(engine.Options{})
	s := e.Open(wfp.SessionOptions{Name: "scenario"})
	_, err = policy.ApplyObjects(s, objs)
	require.NoError(t, err)

	invocations := map[string]int{}
	for _, line := range lines(sections["callouts"]) {
		name, act, ok := strings.Cut(line, " ")
		require.True(t, ok, "callouts: want NAME ACTION, got %q", line)
		key, ok := objs.Names.CalloutKey(name)
		require.True(t, ok, "no callout %q in the policy", name)
		hard := strings.HasSuffix(act, "-hard")
		a, err := wfp.ParseActionType(strings.TrimSuffix(act, "-hard"))
		require.NoError(t, err)
		static := callout.Static(a, hard)
		counted := callout.Func(func(in *callout.IncomingValues, m *callout.Metadata, ld any, f *callout.Filter, fc uint64, out *callout.ClassifyOut) {
			invocations[name]++
			static.Classify(in, m, ld, f, fc, out)
		})
		require.NoError(t, e.RegisterCallout(key, counted))
	}

	var b strings.Builder
	for _, line := range lines(sections["classify"]) {
		fields := strings.Fields(line)
		l, ok := layers.LayerByName(fields[0])
		require.True(t, ok, "unknown layer %q", fields[0])
		values := make([]wfp.Value, len(l.Fields))
		for _, set := range fields[1:] {
			name, text, ok := strings.Cut(set, "=")
			require.True(t, ok, "want FIELD=VALUE, got %q", set)
			c, ok := layers.ConditionByName(name)
			require.True(t, ok, "unknown condition %q", name)
			f, ok := l.Field(c.Key)
			require.True(t, ok, "%s has no field %s", l.ShortName, name)
			v, err := policy.IncomingValue(l, f, text)
			require.NoError(t, err)
			values[f.Index] = v
		}
		var d engine.Decision
		var tr engine.Trace
		c0 := copyCounts(invocations)
		require.NoError(t, e.Classify(&engine.Request{Layer: l, Values: values}, &d, &tr))
		// The untraced path must decide the same and invoke the same callouts.
		c1 := copyCounts(invocations)
		var fast engine.Decision
		require.NoError(t, e.Classify(&engine.Request{Layer: l, Values: values}, &fast, nil))
		assert.Equal(t, d, fast, "traced and untraced classification differ: %s", line)
		for name, n := range invocations {
			assert.Equal(t, c1[name]-c0[name], n-c1[name], "callout %s invoked differently with tracing off: %s", name, line)
		}
		b.WriteString(tr.String())
	}
	events, dropped := e.NetEvents()
	fmt.Fprintf(&b, "net events (%d dropped; each classification above ran twice, traced and untraced)\n", dropped)
	for _, ev := range events {
		fmt.Fprintf(&b, "  %s filter #%d layer %d vetoed=%t\n", ev.Type, ev.FilterID, ev.LayerID, ev.Vetoed)
	}
	names := make([]string, 0, len(invocations))
	for n := range invocations {
		names = append(names, n)
	}
	for _, n := range sortedStrings(names) {
		fmt.Fprintf(&b, "callout %s invoked %d time(s) (traced; as often again untraced)\n", n, invocations[n]/2)
	}
	return b.String()
}

func copyCounts(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedStrings(s []string) []string {
	slices.Sort(s)
	return s
}

func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// parseTxtar reads the txtar format: a comment, then files each introduced by a
// "-- name --" line.
func parseTxtar(s string) (map[string]string, []string) {
	sections := map[string]string{}
	var order []string
	name := ""
	var b strings.Builder
	flush := func() {
		sections[name] = b.String()
		b.Reset()
	}
	for _, line := range strings.SplitAfter(s, "\n") {
		trimmed := strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			name = strings.TrimSuffix(strings.TrimPrefix(trimmed, "-- "), " --")
			order = append(order, name)
			continue
		}
		b.WriteString(line)
	}
	flush()
	return sections, order
}

func formatTxtar(sections map[string]string, order []string) string {
	var b strings.Builder
	b.WriteString(sections[""])
	for _, name := range order {
		fmt.Fprintf(&b, "-- %s --\n%s", name, sections[name])
	}
	return b.String()
}
