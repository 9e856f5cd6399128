package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGeneratedIsCurrent is the drift check without go generate: the committed
// layers/zz_catalog_generated.go is what the generator writes from layers/facts.
func TestGeneratedIsCurrent(t *testing.T) {
	got, err := generate("../../../layers/facts")
	require.NoError(t, err)
	want, err := os.ReadFile("../../../layers/zz_catalog_generated.go")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "run go generate ./layers")
}

func TestGoName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ALE_AUTH_CONNECT_V4", "ALEAuthConnectV4"},
		{"IP_REMOTE_PORT", "IPRemotePort"},
		{"IPSEC_INBOUND_TRANSPORT_V4", "IPsecInboundTransportV4"},
		{"IKEEXT", "IKEEXT"},
		{"INBOUND_IPPACKET_V4_DISCARD", "InboundIPPacketV4Discard"},
		{"RPC_EPMAP", "RPCEPMap"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, goName(tt.in))
		})
	}
}

func TestParseMatches(t *testing.T) {
	ms, typo, err := parseMatches("UINT32: EQUAL,RANGE | UNIT32: EQUAL,FLAGS_ALL_SET")
	require.NoError(t, err)
	assert.True(t, typo)
	require.Len(t, ms, 1, "the UNIT32 typo merges into UINT32")
	assert.Len(t, ms[0].ms, 3)
	ms, _, err = parseMatches("BYTE_BLOB_TYPE: EQUAL,PREFIX*,NOT_PREFIX* (*suffix test; string blobs)")
	require.NoError(t, err)
	assert.Len(t, ms[0].ms, 3)
	ms, _, err = parseMatches("unknown (EQUAL is valid for all types)")
	require.NoError(t, err)
	assert.Nil(t, ms)
}
