package replay_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/replay"
	"github.com/wfpsim/wfpsim/wfp"
)

// TestFaultSessionClosedDuringReplay (issue 9, point 3): the dynamic session that
// applied the policy closes in the middle of a replay. The replay carries on with the
// policy gone: no panic, no error, and no packet after the close is blocked by it.
func TestFaultSessionClosedDuringReplay(t *testing.T) {
	const capture = "../testdata/pcap/generated/workstation.pcap"
	doc, err := policy.Load("../testdata/policies/block-port.yaml")
	require.NoError(t, err)

	// A run without the close, to know which packets the policy blocks.
	blockedAt := func(closeAfter uint64) (blocked []uint64, closedAt uint64) {
		e := engine.New(engine.Options{})
		s := e.Open(wfp.SessionOptions{Name: "policy", Dynamic: true})
		_, err := policy.Apply(s, doc)
		require.NoError(t, err)
		r := replay.New(e, replay.Options{Host: mustHost(t)})
		require.NoError(t, r.Start([]string{capture}))
		var problems []replay.Problem
		require.NotPanics(t, func() {
			err = r.Replay(capture, func(pr *replay.PacketResult) error {
				// A fresh decision of the policy, not a later packet of a flow it blocked
				// (that flow keeps its decision, as on Windows).
				if pr.Verdict == "block" && strings.HasPrefix(pr.Reason, "blocked at") {
					blocked = append(blocked, pr.N)
				}
				if closeAfter != 0 && pr.N == closeAfter {
					require.NoError(t, s.Close())
					closedAt = pr.N
				}
				return nil
			}, func(p replay.Problem) { problems = append(problems, p) })
		})
		require.NoError(t, err)
		assert.Empty(t, problems)
		return blocked, closedAt
	}
	all, _ := blockedAt(0)
	require.Equal(t, []uint64{21, 32}, all, "the policy blocks the SMB and the RDP connection")
	// Close right after the first blocked packet.
	got, closedAt := blockedAt(all[0])
	require.NotZero(t, closedAt, "the session closed during the replay")
	assert.Equal(t, all[:1], got, "no packet after the close is blocked by the policy that went")
}

func mustHost(t *testing.T) *engine.Host {
	h, err := replay.LoadHost("../testdata/hosts/workstation.yaml")
	require.NoError(t, err)
	return h
}
