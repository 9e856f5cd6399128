package main

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/policy"
)

func TestLockout(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"no conditions", `
filters:
  - {name: all, layer: ALE_AUTH_CONNECT_V4, action: block}`, []string{`filter "all" blocks all traffic at ALE_AUTH_CONNECT_V4`}},
		{"everything conditions", `
filters:
  - name: wide
    layer: INBOUND_TRANSPORT_V6
    action: block
    conditions:
      - {field: IP_REMOTE_ADDRESS, value: '::/0'}
      - {field: IP_LOCAL_PORT, match: range, value: 0-65535}`, []string{`filter "wide" blocks all traffic at INBOUND_TRANSPORT_V6`}},
		{"or group with a universal member", `
filters:
  - name: ored
    layer: ALE_AUTH_RECV_ACCEPT_V4
    action: block
    conditions:
      - {field: IP_REMOTE_ADDRESS, value: 10.0.0.0/8}
      - {field: IP_REMOTE_ADDRESS, value: 0.0.0.0/0}`, []string{`filter "ored" blocks all traffic at ALE_AUTH_RECV_ACCEPT_V4`}},
		{"narrow block", `
filters:
  - name: http
    layer: ALE_AUTH_CONNECT_V4
    action: block
    conditions:
      - {field: IP_REMOTE_PORT, value: 80}`, nil},
		{"other layer", `
filters:
  - {name: listen, layer: ALE_AUTH_LISTEN_V4, action: block}`, nil},
		{"permit above in the same sublayer (A3)", `
sublayers:
  - {name: s, weight: 0x100}
filters:
  - {name: all, layer: ALE_AUTH_CONNECT_V4, sublayer: s, weight: 1, action: block}
  - name: vpn
    layer: ALE_AUTH_CONNECT_V4
    sublayer: s
    weight: 10
    action: permit
    conditions:
      - {field: IP_REMOTE_PORT, value: 1194}`, nil},
		{"permit below in the same sublayer", `
sublayers:
  - {name: s, weight: 0x100}
filters:
  - {name: all, layer: ALE_AUTH_CONNECT_V4, sublayer: s, weight: 10, action: block}
  - {name: late, layer: ALE_AUTH_CONNECT_V4, sublayer: s, weight: 1, action: permit}`, []string{`filter "all" blocks all traffic at ALE_AUTH_CONNECT_V4`}},
		{"soft permit in a higher sublayer (A4)", `
sublayers:
  - {name: hi, weight: 0x9000}
  - {name: lo, weight: 0x100}
filters:
  - {name: all, layer: ALE_AUTH_CONNECT_V4, sublayer: lo, action: block}
  - {name: soft, layer: ALE_AUTH_CONNECT_V4, sublayer: hi, action: permit}`, []string{`filter "all" blocks all traffic at ALE_AUTH_CONNECT_V4`}},
		{"hard permit in a higher sublayer (A6)", `
sublayers:
  - {name: hi, weight: 0x9000}
  - {name: lo, weight: 0x100}
filters:
  - {name: all, layer: ALE_AUTH_CONNECT_V4, sublayer: lo, action: block}
  - name: rdp
    layer: ALE_AUTH_CONNECT_V4
    sublayer: hi
    action: permit
    flags: [clear_action_right]
    conditions:
      - {field: IP_REMOTE_PORT, value: 3389}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := policy.Parse("lockout.yaml", []byte("version: 1\n"+tt.doc+"\n"))
			require.NoError(t, err)
			objs, err := doc.Objects()
			require.NoError(t, err)
			got, err := lockout(objs)
			require.NoError(t, err)
			var s []string
			for _, f := range got {
				s = append(s, f.String())
			}
			assert.Equal(t, tt.want, s)
		})
	}
}

func TestApplyStateRemove(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the messages differ on Windows")
	}
	dir := t.TempDir()
	blockAll := filepath.Join(dir, "block-all.yaml")
	require.NoError(t, os.WriteFile(blockAll, []byte("version: 1\nfilters:\n  - {name: all, layer: ALE_AUTH_CONNECT_V4, action: block}\n"), 0o644))

	const needs = "needs Windows (the Base Filtering Engine) and an administrator shell; to dry-run the policy here use: wfpsim check / wfpsim replay\n"
	out, errOut, code := runCLI("apply", "--policy", killSwitch)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Equal(t, "wfpsim apply "+needs, errOut)

	_, errOut, code = runCLI("apply", "--policy", blockAll)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `filter "all" blocks all traffic at ALE_AUTH_CONNECT_V4`)
	assert.Contains(t, errOut, "add --force")
	assert.NotContains(t, errOut, "needs Windows")

	_, errOut, code = runCLI("apply", "--policy", blockAll, "--force", "--persistent")
	assert.Equal(t, 1, code)
	assert.Equal(t, "wfpsim apply "+needs, errOut)

	_, errOut, code = runCLI("state", "--format", "netsh")
	assert.Equal(t, 1, code)
	assert.Equal(t, "wfpsim state "+needs, errOut)
	_, _, code = runCLI("state", "--format", "xml")
	assert.Equal(t, 2, code)

	_, errOut, code = runCLI("remove")
	assert.Equal(t, 1, code)
	assert.Equal(t, "wfpsim remove "+needs, errOut)

	_, _, code = runCLI("apply")
	assert.Equal(t, 2, code)
	_, errOut, code = runCLI("apply", "--policy", "testdata/bad-policy.yaml")
	assert.Equal(t, 1, code)
	assert.NotContains(t, errOut, "needs Windows")
}
