package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const keployDump = "../../testdata/wfpstate/keploy-wfpstate.xml"

const workstation = "../../testdata/pcap/generated/workstation.pcap"

const hardPermit = "../../testdata/policies/hard-permit.yaml"

func TestImportCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "machine.yaml")
	stdout, stderr, code := runCLI("import", keployDump, "-o", out)
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{
		"(netsh wfp show state)",
		"filters     1254 in the dump,  1254 imported",
		"filters by layer:",
		"FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V4",
		"filters by provider:",
		"filters by sublayer:",
		"callouts imported unregistered",
		"not carried over (1):",
		"layer {c9809347-218f-4b7f-a742-b281a3f631b4} is not in the catalogue",
		"second root element <firewallState>",
		"wrote " + out,
	} {
		assert.Contains(t, stdout, want)
	}
	// The document it wrote checks clean and loads.
	stdout, stderr, code = runCLI("check", "--policy", out)
	assert.Equal(t, 0, code, stdout+stderr)
}

func TestImportCommandErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.xml")
	data, err := os.ReadFile(keployDump)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bad, data[:len(data)/2], 0o644))
	_, stderr, code := runCLI("import", bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "bad.xml:")
	assert.Contains(t, stderr, "the dump is truncated")
	assert.Contains(t, stderr, "wfpstate/")
	stdout, stderr, code := runCLI("import", "--partial", bad)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "nothing after this point was imported")
	_, _, code = runCLI("import")
	assert.Equal(t, 2, code)
}

func TestReplayAndExplainWithState(t *testing.T) {
	stdout, stderr, code := runCLI("replay", "--state", keployDump, "--policy", hardPermit, "--format", "summary", workstation)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "state "+keployDump+": 1254 filters imported")
	assert.Contains(t, stdout, "block-web-server")
	stdout, stderr, code = runCLI("explain", "--state", keployDump, "--policy", hardPermit, "--layer", "ALE_AUTH_CONNECT_V4",
		"--set", "IP_REMOTE_ADDRESS=93.184.216.34", "--set", "IP_REMOTE_PORT=443", "--set", "IP_PROTOCOL=tcp", "--format", "json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"action": "permit"`)
	assert.Contains(t, stdout, `"hard": true`)
	assert.Contains(t, stdout, "hard-permit-https")
}

func TestDiffCommand(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.yaml")
	require.NoError(t, os.WriteFile(empty, []byte("version: 1\n"), 0o644))
	stdout, stderr, code := runCLI("diff", "--state", keployDump, "--policy", empty, "--policy", hardPermit, workstation)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "tcp 192.168.1.20:49701 -> 93.184.216.34:80")
	assert.Contains(t, stdout, `new (`+hardPermit+`): block by filter block-web-server at FWPM_LAYER_ALE_AUTH_CONNECT_V4`)
	assert.Contains(t, stdout, "1 flows change verdict")
	_, _, code = runCLI("diff", "--policy", empty, workstation)
	assert.Equal(t, 2, code)
}

func TestExportCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.xml")
	_, stderr, code := runCLI("export", "--state", keployDump, "--policy", hardPermit, "-o", out)
	require.Equal(t, 0, code, stderr)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	s := string(data)
	assert.True(t, strings.HasPrefix(s, "\ufeff<?xml"))
	assert.Contains(t, s, "<wfpstate>")
	assert.Contains(t, s, "<name>block-web-server</name>")
	assert.Contains(t, s, "<subLayerKey>FWPM_SUBLAYER_MPSSVC_WF</subLayerKey>")
	// It imports back: 1254 machine filters and the policy's 2.
	stdout, stderr, code := runCLI("import", out)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "filters     1256 in the dump,  1256 imported")
	assert.Contains(t, stdout, "not carried over (0):")

	stdout, stderr, code = runCLI("export", "--filters", "--policy", hardPermit)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "<wfpdiag>")
	assert.Contains(t, stdout, "<filters numItems=\"2\">")
}

func TestNetshHelp(t *testing.T) {
	for _, c := range []string{"import", "export", "diff"} {
		stdout, _, code := runCLI("help", c)
		assert.Equal(t, 0, code)
		assert.Contains(t, stdout, "Examples:")
	}
}
