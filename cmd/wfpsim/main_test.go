package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/layers"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func runCLI(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

const killSwitch = "../../testdata/policies/kill-switch.yaml"

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"layers_table", []string{"layers"}},
		{"layers_tsv", []string{"layers", "--format", "tsv"}},
		{"layers_json", []string{"layers", "--format=json"}},
		{"fields_table", []string{"fields", "ALE_AUTH_CONNECT_V4"}},
		{"fields_tsv", []string{"fields", "fwpm_layer_ale_auth_connect_v6", "--format", "tsv"}},
		{"fields_json", []string{"fields", "--format", "json", "FWPS_LAYER_INBOUND_TRANSPORT_V4"}},
		{"fields_discard_table", []string{"fields", "INBOUND_TRANSPORT_V4_DISCARD"}},
		{"conditions_table", []string{"conditions"}},
		{"conditions_tsv", []string{"conditions", "--format", "tsv"}},
		{"conditions_json", []string{"conditions", "--format", "json"}},
		{"conditions_layer_table", []string{"conditions", "ALE_AUTH_CONNECT_V4"}},
		{"conditions_layer_tsv", []string{"conditions", "inbound_transport_v4", "--format", "tsv"}},
		{"conditions_layer_json", []string{"conditions", "INGRESS_VSWITCH_ETHERNET", "--format", "json"}},
		{"help", []string{"--help"}},
		{"help_fields", []string{"help", "fields"}},
		{"layers_h", []string{"layers", "-h"}},
		{"check_ok", []string{"check", "--policy", killSwitch}},
		{"explain_block", []string{"explain", "--policy", killSwitch, "--layer", "ALE_AUTH_CONNECT_V4",
			"--set", "IP_REMOTE_ADDRESS=93.184.216.34", "--set", "IP_REMOTE_PORT=443", "--set", "IP_PROTOCOL=tcp"}},
		{"explain_permit_json", []string{"explain", "--policy", killSwitch, "--layer", "ALE_AUTH_CONNECT_V4",
			"--set", "IP_REMOTE_ADDRESS=192.168.1.20", "--set", "IP_REMOTE_PORT=445", "--format", "json"}},
		{"explain_empty_layer", []string{"explain", "--policy", killSwitch, "--layer", "INBOUND_TRANSPORT_V6"}},
		{"help_explain", []string{"help", "explain"}},
		{"help_apply", []string{"help", "apply"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, code := runCLI(tt.args...)
			require.Equal(t, 0, code, errOut)
			assert.Empty(t, errOut)
			path := filepath.Join("testdata", tt.golden+".golden")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./cmd/wfpsim -update")
			assert.Equal(t, string(want), out)
			// Runs are deterministic.
			again, _, _ := runCLI(tt.args...)
			assert.Equal(t, out, again)
		})
	}
}

func TestLayersTSVShape(t *testing.T) {
	out, _, code := runCLI("layers", "--format", "tsv")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 100)
	assert.True(t, strings.HasPrefix(lines[0], "name\tkey\tid\t"))
	for _, l := range lines[1:] {
		cols := strings.Split(l, "\t")
		require.Len(t, cols, 8, l)
		assert.True(t, strings.HasPrefix(cols[0], "FWPM_LAYER_"))
	}
}

func TestJSONIsValid(t *testing.T) {
	for _, args := range [][]string{
		{"layers", "--format", "json"},
		{"fields", "ALE_AUTH_CONNECT_V4", "--format", "json"},
		{"conditions", "--format", "json"},
		{"conditions", "ALE_AUTH_CONNECT_V4", "--format", "json"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			out, _, code := runCLI(args...)
			require.Equal(t, 0, code)
			var v []map[string]any
			require.NoError(t, json.Unmarshal([]byte(out), &v))
			assert.NotEmpty(t, v)
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"no args", nil, 2, []string{"Usage:", "wfpsim COMMAND"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{"help unknown command", []string{"help", "frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{"unknown layer", []string{"fields", "ALE_AUTH_CONECT_V4"}, 2, []string{
			`wfpsim: unknown layer "ALE_AUTH_CONECT_V4"; did you mean ALE_AUTH_CONNECT_V4, `}},
		{"unknown layer far", []string{"fields", "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"}, 2, []string{
			`unknown layer "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"; run 'wfpsim layers' for the list`}},
		{"unknown layer conditions", []string{"conditions", "INBOUND_TRANSPRT_V4"}, 2, []string{
			`unknown layer "INBOUND_TRANSPRT_V4"; did you mean INBOUND_TRANSPORT_V4`}},
		{"fields without layer", []string{"fields"}, 2, []string{"one LAYER argument"}},
		{"fields two layers", []string{"fields", "a", "b"}, 2, []string{"one LAYER argument"}},
		{"layers extra arg", []string{"layers", "x"}, 2, []string{"no arguments"}},
		{"unknown flag", []string{"layers", "--bogus"}, 2, []string{"flag provided but not defined: -bogus", "Usage:", "--format"}},
		{"bad format", []string{"layers", "--format", "xml"}, 2, []string{`unknown format "xml"`, "Usage:"}},
		{"missing format value", []string{"fields", "ALE_AUTH_CONNECT_V4", "--format"}, 2, []string{"flag needs an argument"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, out)
			for _, s := range tt.stderr {
				assert.Contains(t, errOut, s)
			}
		})
	}
}

func TestDoubleDash(t *testing.T) {
	_, errOut, code := runCLI("fields", "--", "--format")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown layer "--format"`)
}

func TestStyledTable(t *testing.T) {
	var out bytes.Buffer
	e := &env{stdout: &out, stderr: &out, styled: true}
	require.NoError(t, e.write(formatTable, fieldsGrid(mustLayer(t, "ALE_AUTH_CONNECT_V4"))))
	assert.Contains(t, out.String(), "FWPS_FIELD_ALE_AUTH_CONNECT_V4_ALE_APP_ID")
	assert.Contains(t, out.String(), "╭")
}

func TestNoColorDisablesStyling(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	assert.False(t, stdoutIsTerminal())
	var b bytes.Buffer
	assert.False(t, styledOutput(&b))
}

func mustLayer(t *testing.T, name string) *layers.Layer {
	t.Helper()
	l, err := findLayer(name)
	require.NoError(t, err)
	return l
}

func TestCheckReportsEveryError(t *testing.T) {
	out, errOut, code := runCLI("check", "--policy", "testdata/bad-policy.yaml")
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	for _, want := range []string{
		"testdata/bad-policy.yaml:11:", "filters[0].conditions[0].value", "FWP_E_TYPE_MISMATCH",
		"testdata/bad-policy.yaml:13:", "ALE_AUTH_CONNECT_V4", "FWP_E_LAYER_NOT_FOUND",
		"testdata/bad-policy.yaml:17:", "FWP_E_INVALID_WEIGHT",
		"filters[3].conditions[0]", "FWP_E_MATCH_TYPE_MISMATCH",
		"4 error(s)",
	} {
		assert.Contains(t, errOut, want)
	}
}

func TestExplainBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no policy", []string{"explain", "--layer", "ALE_AUTH_CONNECT_V4"}, 2, "explain needs --policy FILE"},
		{"unknown layer", []string{"explain", "--policy", killSwitch, "--layer", "ALE_AUTH_CONECT_V4"}, 2, `did you mean ALE_AUTH_CONNECT_V4`},
		{"unknown field", []string{"explain", "--policy", killSwitch, "--layer", "ALE_AUTH_CONNECT_V4", "--set", "IP_REMOTE_PROT=1"}, 2, "did you mean"},
		{"field not at layer", []string{"explain", "--policy", killSwitch, "--layer", "INBOUND_IPPACKET_V4", "--set", "ALE_APP_ID=x"}, 2, "has no field ALE_APP_ID"},
		{"bad value", []string{"explain", "--policy", killSwitch, "--layer", "ALE_AUTH_CONNECT_V4", "--set", "IP_REMOTE_PORT=http"}, 2, "FWP_UINT16"},
		{"bad set syntax", []string{"explain", "--policy", killSwitch, "--layer", "ALE_AUTH_CONNECT_V4", "--set", "IP_REMOTE_PORT"}, 2, "want FIELD=VALUE"},
		{"unknown callout", []string{"explain", "--policy", killSwitch, "--layer", "ALE_AUTH_CONNECT_V4", "--callout", "ids=permit"}, 2, `no callout "ids"`},
		{"bad format", []string{"explain", "--policy", killSwitch, "--layer", "ALE_AUTH_CONNECT_V4", "--format", "xml"}, 2, "want text or json"},
		{"missing file", []string{"explain", "--policy", "nope.yaml", "--layer", "ALE_AUTH_CONNECT_V4"}, 1, "nope.yaml"},
		{"bad policy", []string{"explain", "--policy", "testdata/bad-policy.yaml", "--layer", "ALE_AUTH_CONNECT_V4"}, 1, "FWP_E_TYPE_MISMATCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCLI(tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.want)
		})
	}
}
