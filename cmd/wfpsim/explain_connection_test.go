package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	appRule   = "../../testdata/policies/app-rule.yaml"
	blockPort = "../../testdata/policies/block-port.yaml"
	firefox   = `C:\Program Files\Mozilla Firefox\firefox.exe`
)

// TestExplainConnectionGolden walks whole connections (first packet and reply)
// through a host's stack.
func TestExplainConnectionGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		// Outbound, blocked at ALE_AUTH_CONNECT: the walk ends at the SYN.
		{"explain_conn_block", []string{"explain", "--policy", killSwitch, "tcp", "192.168.1.20:49702", "->", "93.184.216.34:443"}},
		// Outbound to the LAN, permitted: SYN, SYN-ACK, ACK through every layer down to MAC.
		{"explain_conn_lan", []string{"explain", "--policy", killSwitch, "tcp", "192.168.1.20:49703", "->", "192.168.1.10:445"}},
		// Inbound (the source is not local) with a host file: blocked at RECV_ACCEPT.
		{"explain_conn_inbound", []string{"explain", "--policy", blockPort, "--host", hostFile,
			"tcp", "192.168.1.50:50123", "->", "192.168.1.20:3389"}},
		// An app rule: --app names the program owning the socket; UDP, JSON.
		{"explain_conn_app_json", []string{"explain", "--policy", appRule, "--app", firefox, "--user", "S-1-5-21-1-2-3-1001",
			"udp", "10.0.0.5:50000", "->", "8.8.8.8:53", "--format", "json"}},
		// ICMP echo with no process: the app rule's catch-all block.
		{"explain_conn_icmp", []string{"explain", "--policy", appRule, "icmp", "10.0.0.5", "->", "1.1.1.1"}},
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
			again, _, _ := runCLI(tt.args...)
			assert.Equal(t, out, again, "runs are deterministic")
		})
	}
}

func TestExplainConnectionJSONShape(t *testing.T) {
	out, errOut, code := runCLI("explain", "--policy", killSwitch, "--format", "json", "tcp", "192.168.1.20:49703", "->", "192.168.1.10:445")
	require.Equal(t, 0, code, errOut)
	var packets []struct {
		Packet, Kind, Direction, Verdict string
		Layers                           []struct{ Layer, Action, Filter string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &packets))
	require.Len(t, packets, 3)
	assert.Equal(t, []string{"SYN", "SYN-ACK", "ACK"}, []string{packets[0].Kind, packets[1].Kind, packets[2].Kind})
	assert.Equal(t, "outbound", packets[0].Direction)
	assert.Equal(t, "inbound", packets[1].Direction)
	var ale bool
	for _, l := range packets[0].Layers {
		if l.Layer == "FWPM_LAYER_ALE_AUTH_CONNECT_V4" {
			ale = true
			assert.Equal(t, "permit", l.Action)
			assert.Equal(t, "allow-lan", l.Filter)
		}
	}
	assert.True(t, ale, "the SYN is authorized at ALE_AUTH_CONNECT")
	for _, l := range packets[2].Layers {
		assert.NotEqual(t, "FWPM_LAYER_ALE_AUTH_CONNECT_V4", l.Layer, "only the first packet reaches ALE")
	}
}

func TestExplainConnectionErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"protocol", []string{"sctp", "10.0.0.5:1", "->", "10.0.0.6:2"}, `protocol "sctp"`},
		{"address", []string{"tcp", "10.0.0.5", "->", "10.0.0.6:2"}, "want ADDR:PORT"},
		{"shape", []string{"tcp", "10.0.0.5:1"}, "PROTO SRC '->' DST"},
		{"families", []string{"tcp", "10.0.0.5:1", "->", "[2001:db8::1]:2"}, "different address families"},
		{"not local", []string{"--host", hostFile, "tcp", "10.9.9.9:1", "->", "10.9.9.8:2"}, "neither"},
		{"user", []string{"--user", "nobody", "tcp", "10.0.0.5:1", "->", "10.0.0.6:2"}, `--user "nobody"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCLI(append([]string{"explain", "--policy", killSwitch}, tt.args...)...)
			assert.Equal(t, 2, code)
			assert.Contains(t, errOut, tt.want)
		})
	}
}
