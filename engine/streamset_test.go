package engine_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// The stream layer sees what the receiving TCP hands it (rule D5): with StreamSet,
// a retransmitted segment offers nothing and is not indicated at STREAM, and a
// segment that fills a gap offers the bytes that waited for it as well.
func TestStreamSeesReassembledBytes(t *testing.T) {
	v := newStreamEnv(t, false)
	rec := &recorder{}
	v.streamFilter("watch", wfp.SublayerKey{}, 1, wfp.ActionCalloutInspection, rec)
	v.connect()

	seg := func(payload, stream string, set bool) *engine.Result {
		p := engine.TCP(srv, cli, engine.TCPAck, []byte(payload))
		p.Stream, p.StreamSet = []byte(stream), set
		return v.st.Receive(2, p)
	}
	assert.False(t, seg("hello", "hello", true).Dropped())
	r := seg("hello", "", true) // a retransmission
	assert.False(t, r.Dropped())
	for _, s := range r.Steps {
		assert.NotEqual(t, layers.StreamV4, s.Layer, "a retransmission is not indicated at STREAM")
	}
	assert.Contains(t, r.Reason, "delivered; its data gave the stream nothing new")
	seg("!", "", true)             // ahead of a gap: held by TCP
	seg(" world", " world!", true) // fills the gap: both pieces, in order
	seg("plain", "", false)        // no reassembly: Payload as it is
	assert.Equal(t, []string{"hello", " world!", "plain"}, rec.Seen())
}
