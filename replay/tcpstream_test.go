package replay

import (
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	wl "github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// streamLog is a stream-layer inspection callout that records what it is offered.
type streamLog struct {
	mu   sync.Mutex
	seen []string
}

func (s *streamLog) Classify(_ *callout.IncomingValues, _ *callout.Metadata, ld any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
	sp := ld.(*callout.StreamPacket)
	s.mu.Lock()
	s.seen = append(s.seen, string(sp.Data))
	s.mu.Unlock()
	out.Action = wfp.ActionPermit
}
func (s *streamLog) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error { return nil }
func (s *streamLog) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64)                   {}

// streamEngine has an inspection callout at STREAM_V4 recording what it sees.
func streamEngine(t *testing.T) (*engine.Engine, *streamLog) {
	e := engine.New(engine.Options{})
	s := e.Open(wfp.SessionOptions{Name: "stream test"})
	k := wfp.CalloutKey(wfp.GUIDFromName("test", "stream log"))
	_, err := s.AddCallout(wfp.Callout{Key: k, DisplayData: wfp.DisplayData{Name: "stream log"}, Layer: wl.StreamV4.Key})
	require.NoError(t, err)
	log := &streamLog{}
	require.NoError(t, e.RegisterCallout(k, log))
	_, err = s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "watch the stream"}, Layer: wl.StreamV4.Key,
		Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: k}})
	require.NoError(t, err)
	return e, log
}

// The stream layer is offered each byte of a TCP stream once and in order, as the
// receiving TCP hands it on: a retransmission offers nothing, a segment that arrives
// ahead of a gap waits for the segment that fills it (gopacket's reassembly).
func TestStreamLayerSeesTheReassembledStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reordered.pcap")
	w, done := newSegWriter(t, path)
	const port = 8080
	w.write(false, &layers.TCP{SrcPort: 40000, DstPort: port, SYN: true, Seq: 100, Window: 64240}, layers.IPProtocolTCP)
	w.write(true, &layers.TCP{SrcPort: port, DstPort: 40000, SYN: true, ACK: true, Seq: 500, Ack: 101, Window: 64240}, layers.IPProtocolTCP)
	w.write(false, &layers.TCP{SrcPort: 40000, DstPort: port, ACK: true, Seq: 101, Ack: 501, Window: 64240}, layers.IPProtocolTCP)
	data := func(seq uint32, s string) *layers.TCP {
		l := &layers.TCP{SrcPort: 40000, DstPort: port, ACK: true, PSH: true, Seq: seq, Ack: 501, Window: 64240}
		l.Payload = []byte(s)
		return l
	}
	send := func(seq uint32, s string) { w.writePayload(false, data(seq, s)) }
	send(101, "GET /")    // packet 4: in order
	send(101, "GET /")    // 5: a retransmission
	send(111, " HTTP")    // 6: ahead of a gap (bytes 106-110 missing)
	send(106, "index")    // 7: fills the gap
	send(104, "T /index") // 8: overlaps what was seen, adds nothing
	send(116, "/1.1")     // 9: in order again
	done()

	e, log := streamEngine(t)
	r := New(e, Options{Locals: []netip.Addr{netip.MustParseAddr("10.9.0.1")}})
	require.NoError(t, r.Start([]string{path}))
	offered := map[uint64]string{}
	require.NoError(t, r.Replay(path, func(pr *PacketResult) error {
		for _, s := range pr.Steps {
			if s.Layer == wl.StreamV4 {
				offered[pr.N], _, _ = strings.Cut(s.Note, ",")
			}
		}
		return nil
	}, func(p Problem) { t.Error(p) }))
	assert.Equal(t, "GET /index HTTP/1.1", strings.Join(log.seen, ""), "each byte once, in order")
	assert.Equal(t, []string{"GET /", "index HTTP", "/1.1"}, log.seen)
	assert.Equal(t, map[uint64]string{4: "stream data: 5 bytes", 7: "stream data: 10 bytes", 9: "stream data: 4 bytes"}, offered,
		"packets 5, 6 and 8 are not indicated at STREAM")
	assert.Equal(t, 3, r.Summary.StreamNothingNew)
	var sum strings.Builder
	require.NoError(t, r.Summary.WriteSummary(&sum, nil))
	assert.Contains(t, sum.String(), "gave the stream nothing new (retransmitted, or waiting for an earlier segment): 3")
}

// A gap the capture never fills (a segment it lost) holds the data behind it only
// until 64 pages wait; then that data is offered, with the segment that overflowed.
func TestStreamGapNeverFilled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lost.pcap")
	w, done := newSegWriter(t, path)
	w.write(false, &layers.TCP{SrcPort: 40000, DstPort: 8080, SYN: true, Seq: 100, Window: 64240}, layers.IPProtocolTCP)
	w.write(true, &layers.TCP{SrcPort: 8080, DstPort: 40000, SYN: true, ACK: true, Seq: 500, Ack: 101, Window: 64240}, layers.IPProtocolTCP)
	chunk := strings.Repeat("x", 1000)
	seq := uint32(101 + 1000) // the first 1000 bytes never reach the capture
	for i := 0; i < 3*streamPagesPerConn; i++ {
		l := &layers.TCP{SrcPort: 40000, DstPort: 8080, ACK: true, Seq: seq, Ack: 501, Window: 64240}
		l.Payload = []byte(chunk)
		w.writePayload(false, l)
		seq += 1000
	}
	done()
	e, log := streamEngine(t)
	r := New(e, Options{Locals: []netip.Addr{netip.MustParseAddr("10.9.0.1")}})
	require.NoError(t, r.Start([]string{path}))
	require.NoError(t, r.Replay(path, func(*PacketResult) error { return nil }, func(p Problem) { t.Error(p) }))
	total := len(strings.Join(log.seen, ""))
	assert.Greater(t, total, 2*streamPagesPerConn*1000/2, "the data behind the lost segment is offered")
	assert.LessOrEqual(t, total, 3*streamPagesPerConn*1000, "each byte at most once")
}
