package main

import (
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/render"
	"github.com/wfpsim/wfpsim/replay"
)

// stepPackets replays the workstation capture with the hard-permit policy the
// way replay --step does.
func stepPackets(t *testing.T, limit int) ([]stepPacket, string) {
	t.Helper()
	var out strings.Builder
	e := &env{stdout: &out, stderr: &out}
	l, err := loadPolicy(e, policiesDir+"hard-permit.yaml")
	require.NoError(t, err)
	pkts, note, err := collectSteps(e, l.e, replay.Options{}, []string{wsPcap}, "", limit)
	require.NoError(t, err)
	return pkts, note
}

func keys(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// A scripted session: the model is driven with key messages, as bubbletea's
// program would, and its view checked after each.
func TestStepSession(t *testing.T) {
	pkts, note := stepPackets(t, stepCap)
	require.Empty(t, note)
	require.Greater(t, len(pkts), 10)
	var m tea.Model = newStepModel(pkts, render.ProfilePlain, "")
	m, _ = m.Update(tea.WindowSizeMsg{Width: 90, Height: 60})
	press := func(k string) string {
		t.Helper()
		var cmd tea.Cmd
		m, cmd = m.Update(keys(k))
		if cmd != nil {
			t.Fatalf("key %q returned a command", k)
		}
		return m.View()
	}
	v := m.View()
	assert.Contains(t, v, "packet 1 of")
	assert.Contains(t, v, "path (outbound)")
	assert.Contains(t, v, "q quit", "keys are shown on screen")
	assert.Contains(t, v, "n next")

	v = press("n")
	assert.Contains(t, v, "packet 2 of")
	v = press("p")
	assert.Contains(t, v, "packet 1 of")
	v = press("p")
	assert.Contains(t, v, "this is the first packet")

	// Jump to the first block: the connection to the web server on port 80.
	v = press("b")
	assert.Contains(t, v, "packet 3 of")
	assert.Contains(t, v, "BLOCK (hard)")
	assert.Contains(t, v, "ALE_AUTH_CONNECT_V4")

	// Select the second step (AUTH_CONNECT) and open its arbitration table.
	v = press("j")
	assert.Contains(t, v, "> 2 ALE_AUTH_CONNECT_V4")
	v = press("enter")
	assert.Contains(t, v, "arbitration of ALE_AUTH_CONNECT_V4")
	assert.Contains(t, v, `sublayer "helpdesk"`)
	assert.Contains(t, v, "not matched: IP_REMOTE_PORT is 80, want equal 443")
	assert.Contains(t, v, `decision: BLOCK (hard) by "block-web-server"`)
	v = press("esc")
	assert.Contains(t, v, "- stack")

	// The trace view.
	v = press("tab")
	assert.Contains(t, v, "- trace")
	assert.Contains(t, v, "layer FWPM_LAYER_ALE_AUTH_CONNECT_V4")
	v = press("tab")
	assert.Contains(t, v, "- stack")

	// Only this flow: its later packets are dropped because of packet 3.
	v = press("f")
	assert.Contains(t, v, "packet 1 of")
	assert.Contains(t, v, "in flow tcp 192.168.1.20:49701 -> 93.184.216.34:80")
	v = press("n")
	assert.Contains(t, v, "its flow was blocked")
	v = press("f")
	assert.Contains(t, v, "packet 5 of "+strconv.Itoa(len(pkts)))

	// Help toggles, q quits.
	v = press("?")
	assert.Contains(t, v, "previous block")
	_, cmd := m.Update(keys("q"))
	require.NotNil(t, cmd)
	assert.IsType(t, tea.QuitMsg{}, cmd())

	for _, line := range strings.Split(v, "\n") {
		for _, r := range line {
			require.True(t, r < 0x7f, "plain view is ASCII: %q", line)
		}
	}
}

func TestStepCap(t *testing.T) {
	pkts, note := stepPackets(t, 5)
	assert.Len(t, pkts, 5)
	assert.Contains(t, note, "first 5 packets")
	m := newStepModel(pkts, render.ProfilePlain, note)
	assert.Contains(t, m.View(), "first 5 packets")
}

func TestStepNeedsTerminal(t *testing.T) {
	_, errOut, code := runCLI("replay", "--step", "--policy", policiesDir+"hard-permit.yaml", wsPcap)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--step needs a terminal")
	_, errOut, code = runCLI("replay", "--step", "--format", "jsonl", wsPcap)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--step")
}

func TestStepNoLayers(t *testing.T) {
	m := newStepModel([]stepPacket{{title: "1 outbound x", verdict: "block", reason: "dropped by the stack"}}, render.ProfilePlain, "")
	m.Update(keys("enter"))
	assert.Contains(t, m.View(), "this packet met no layer")
	m.Update(keys("tab"))
	assert.Contains(t, m.View(), "the packet met no layer")
}
