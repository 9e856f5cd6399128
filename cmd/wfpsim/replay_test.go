package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	wsPcap       = "../../testdata/pcap/generated/workstation.pcap"
	policiesDir  = "../../testdata/policies/"
	hostFile     = "../../testdata/hosts/workstation.yaml"
	replayGolden = "../../replay/testdata/"
)

// The README's main command: a bundled capture replayed with a bundled policy.
func TestReplayTextGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"cli-workstation-block-port.txt", []string{"replay", "--policy", policiesDir + "block-port.yaml", wsPcap}},
		{"cli-workstation-app-rule-blocked.txt", []string{"replay", "--policy", policiesDir + "app-rule.yaml", "--host", hostFile, "--only", "blocked", wsPcap}},
		{"cli-workstation-hard-permit-summary.txt", []string{"replay", "--policy", policiesDir + "hard-permit.yaml", "--format", "summary", wsPcap}},
		{"cli-vlan-kill-switch.txt", []string{"replay", "--policy", killSwitch, "../../testdata/pcap/captured/zeek-http-vlan-0.pcap"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, code := runCLI(tt.args...)
			require.Equal(t, 0, code, errOut)
			path := filepath.Join(replayGolden, tt.golden+".golden")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./cmd/wfpsim -run TestReplay -update")
			assert.Equal(t, string(want), out)
		})
	}
}

// Every bundled policy makes the wsPcap capture interesting: some packets
// permitted, some blocked by one of its filters.
func TestReplayBundledPolicies(t *testing.T) {
	for _, tt := range []struct {
		policy string
		args   []string
		filter string
	}{
		{"block-port.yaml", nil, "block-smb-out"},
		{"app-rule.yaml", []string{"--host", hostFile}, "block-other-apps"},
		{"hard-permit.yaml", nil, "block-web-server"},
	} {
		t.Run(tt.policy, func(t *testing.T) {
			args := append([]string{"replay", "--format", "jsonl", "--policy", policiesDir + tt.policy}, tt.args...)
			out, errOut, code := runCLI(append(args, wsPcap)...)
			require.Equal(t, 0, code, errOut)
			verdicts := map[string]int{}
			filters := map[string]int{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var j struct {
					N       int    `json:"n"`
					Verdict string `json:"verdict"`
					Filter  string `json:"filter"`
				}
				require.NoError(t, json.Unmarshal([]byte(line), &j))
				verdicts[j.Verdict]++
				filters[j.Filter]++
			}
			assert.Positive(t, verdicts["permit"])
			assert.Positive(t, verdicts["block"])
			assert.Positive(t, filters[tt.filter])
		})
	}
}

func TestReplayJSONLines(t *testing.T) {
	out, errOut, code := runCLI("replay", "--policy", policiesDir+"block-port.yaml", "--format", "jsonl", "--only", "blocked", wsPcap)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "wfpsim: treating 192.168.1.20, 2001:db8:1::20 as local: it sent 3 of the 6 TCP SYNs")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Len(t, lines, 17)
	assert.Equal(t, `{"n":21,"direction":"outbound","flow":"tcp 192.168.1.20:49703 -> 192.168.1.10:445","verdict":"block","layer":"FWPM_LAYER_ALE_AUTH_CONNECT_V4","filter":"block-smb-out","layers":[{"layer":"FWPM_LAYER_ALE_RESOURCE_ASSIGNMENT_V4","action":"permit"},{"layer":"FWPM_LAYER_ALE_AUTH_CONNECT_V4","action":"block"},{"layer":"FWPM_LAYER_ALE_ENDPOINT_CLOSURE_V4","action":"permit"}]}`, lines[0])
	// Two captures: each line names its file.
	out, _, code = runCLI("replay", "--format", "jsonl", wsPcap, "../../testdata/pcap/generated/nano.pcap")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `{"file":"../../testdata/pcap/generated/nano.pcap","n":1,`)
}

func TestReplayExitStatus(t *testing.T) {
	captured := "../../testdata/pcap/captured/"
	tests := []struct {
		file string
		code int
		want []string
	}{
		{"zeek-linux_dlt_sll2.pcap", 1, []string{captured + "zeek-linux_dlt_sll2.pcap: packet 1: unsupported link type LINUX_SLL2 (276)"}},
		{"tcpdump-unsupported-link-type-160.pcap", 1, []string{"packet 1: unsupported link type USER13 (160)"}},
		{"tcpdump-empty.pcap", 1, []string{"tcpdump-empty.pcap: the capture holds no packets"}},
		{"gopacket-pcapng-le-test901.pcapng", 1, []string{"gopacket-pcapng-le-test901.pcapng: section 2: pcapng version 2.0"}},
		{"zeek-trunc_ip4-trunc.pcap", 1, []string{"zeek-trunc_ip4-trunc.pcap: packet 1: not replayed: an IPv4 frame whose IP header does not decode"}},
		{"gopacket2-linux_sll_oversized_addr.pcapng", 1, []string{"gopacket2-linux_sll_oversized_addr.pcapng: packet 8: not replayed: undecodable: panic"}},
		{"zeek-http-vlan-0.pcap", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, errOut, code := runCLI("replay", "--format", "summary", captured+tt.file)
			assert.Equal(t, tt.code, code, errOut)
			for _, w := range tt.want {
				assert.Contains(t, errOut, w)
			}
			assert.Contains(t, out, "packets: ")
		})
	}
	// The rest is replayed: a broken file next to a good one.
	out, errOut, code := runCLI("replay", "--format", "summary", captured+"zeek-linux_dlt_sll2.pcap", captured+"zeek-http-vlan-0.pcap")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "LINUX_SLL2 (276)")
	assert.Contains(t, out, "packets: 14 replayed")
}

func TestReplayUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"replay"}, "replay needs at least one CAPTURE"},
		{[]string{"replay", "--format", "xml", wsPcap}, `unknown format "xml"`},
		{[]string{"replay", "--only", "maybe", wsPcap}, `--only "maybe"`},
		{[]string{"replay", "--host", hostFile, "--local", "1.2.3.4", wsPcap}, "give --host or --local, not both"},
		{[]string{"replay", "--local", "nope", wsPcap}, `--local "nope": want an IP address`},
	}
	for _, tt := range tests {
		_, errOut, code := runCLI(tt.args...)
		assert.Equal(t, 2, code, tt.args)
		assert.Contains(t, errOut, tt.want)
	}
	// Host-file errors name the file and the entry.
	bad := filepath.Join(t.TempDir(), "bad-host.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("interfaces:\n  - index: 1\n    addresses: [not-an-address]\n"), 0o644))
	_, errOut, code := runCLI("replay", "--host", bad, wsPcap)
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, bad+": interfaces[0].addresses[0]")
	_, errOut, code = runCLI("replay", "--host", "no-such.yaml", wsPcap)
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, "no-such.yaml")
}

func TestReplayLocal(t *testing.T) {
	out, errOut, code := runCLI("replay", "--local", "192.168.1.50", "--format", "jsonl", wsPcap)
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, errOut, "treating")
	assert.Contains(t, out, `{"n":32,"direction":"outbound","flow":"tcp 192.168.1.50:51000 -> 192.168.1.20:3389"`)
}

// --out writes a pcapng whose every packet carries its verdict as a comment.
func TestReplayAnnotatedOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "annotated.pcapng")
	_, errOut, code := runCLI("replay", "--policy", policiesDir+"block-port.yaml", "--format", "summary", "--out", path, wsPcap)
	require.Equal(t, 0, code, errOut)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var comments []string
	for off := 0; off+12 <= len(data); {
		typ, n := binary.LittleEndian.Uint32(data[off:]), int(binary.LittleEndian.Uint32(data[off+4:]))
		require.True(t, n >= 12 && off+n <= len(data))
		if typ == 6 {
			body := data[off+8 : off+n-4]
			opts := body[20+(int(binary.LittleEndian.Uint32(body[12:]))+3)/4*4:]
			require.GreaterOrEqual(t, len(opts), 4)
			require.Equal(t, uint16(1), binary.LittleEndian.Uint16(opts), "the first option is the comment")
			comments = append(comments, string(opts[4:4+int(binary.LittleEndian.Uint16(opts[2:]))]))
		}
		off += n
	}
	require.Len(t, comments, 51)
	assert.Equal(t, "wfpsim: permit: sent", comments[0])
	assert.Equal(t, `wfpsim: block by filter block-smb-out at FWPM_LAYER_ALE_AUTH_CONNECT_V4: blocked at FWPM_LAYER_ALE_AUTH_CONNECT_V4 by filter "block-smb-out"`, comments[20])
	sc := bufio.NewScanner(strings.NewReader(strings.Join(comments, "\n")))
	for sc.Scan() {
		assert.True(t, strings.HasPrefix(sc.Text(), "wfpsim: permit") || strings.HasPrefix(sc.Text(), "wfpsim: block"), sc.Text())
	}
}
