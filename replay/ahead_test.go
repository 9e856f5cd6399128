package replay

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
)

// segWriter writes TCP and UDP packets between a server 10.9.0.1 and a client
// 10.9.0.5 to a pcap file.
type segWriter struct {
	tb testing.TB
	w  *pcapgo.Writer
	t  time.Time
	n  int
}

func newSegWriter(tb testing.TB, path string) (*segWriter, func()) {
	f, err := os.Create(path)
	require.NoError(tb, err)
	w := pcapgo.NewWriter(f)
	require.NoError(tb, w.WriteFileHeader(65535, layers.LinkTypeEthernet))
	return &segWriter{tb: tb, w: w, t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, func() { require.NoError(tb, f.Close()) }
}

// writePayload writes a TCP segment with its payload.
func (s *segWriter) writePayload(fromServer bool, tcp *layers.TCP) {
	payload := tcp.Payload
	tcp.Payload = nil
	s.write(fromServer, tcp, layers.IPProtocolTCP, gopacket.Payload(payload))
}

func (s *segWriter) write(fromServer bool, l4 gopacket.SerializableLayer, proto layers.IPProtocol, more ...gopacket.SerializableLayer) {
	srv, cli := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 5}
	eth := &layers.Ethernet{SrcMAC: cli, DstMAC: srv, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.IP{10, 9, 0, 5}, DstIP: net.IP{10, 9, 0, 1}}
	if fromServer {
		eth.SrcMAC, eth.DstMAC = srv, cli
		ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
	}
	switch l := l4.(type) {
	case *layers.TCP:
		_ = l.SetNetworkLayerForChecksum(ip)
	case *layers.UDP:
		_ = l.SetNetworkLayerForChecksum(ip)
	}
	buf := gopacket.NewSerializeBuffer()
	all := append([]gopacket.SerializableLayer{eth, ip, l4}, more...)
	require.NoError(s.tb, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, all...))
	s.t = s.t.Add(time.Millisecond)
	s.n++
	require.NoError(s.tb, s.w.WritePacket(gopacket.CaptureInfo{Timestamp: s.t, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes()))
}

// syn writes a client SYN to port and, when open, the server's SYN-ACK; when
// closed, its RST. It returns the SYN's packet number.
func (s *segWriter) syn(port layers.TCPPort, open bool) int {
	s.write(false, &layers.TCP{SrcPort: 40000 + port, DstPort: port, SYN: true, Seq: 1, Window: 64240}, layers.IPProtocolTCP)
	n := s.n
	if open {
		s.write(true, &layers.TCP{SrcPort: port, DstPort: 40000 + port, SYN: true, ACK: true, Seq: 9, Ack: 2, Window: 64240}, layers.IPProtocolTCP)
	} else {
		s.write(true, &layers.TCP{SrcPort: port, DstPort: 40000 + port, RST: true, ACK: true, Ack: 2}, layers.IPProtocolTCP)
	}
	return n
}

// filler writes n datagrams from the client, which the server never answers.
func (s *segWriter) filler(n int) {
	for i := 0; i < n; i++ {
		s.write(false, &layers.UDP{SrcPort: 7000, DstPort: 7001}, layers.IPProtocolUDP)
	}
}

// The replay reads a capture once and learns the host's sockets from the frames it
// has read ahead: a port that answers a SYN further on than the first window is
// listening when its SYN is replayed, and a port that was closed early and opened
// later is closed for its early SYN (the capture's RST) and open for the later one.
func TestReadAheadLearnsSocketsInTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "late.pcap")
	w, done := newSegWriter(t, path)
	early := w.syn(9090, false)
	w.filler(3 * aheadFrames)
	late := w.syn(8080, true)
	reopened := w.syn(9090, true)
	done()

	o := replayFiles(t, "", Options{Locals: []netip.Addr{netip.MustParseAddr("10.9.0.1")}}, path)
	assert.Empty(t, o.problems)
	closed := o.byN(uint64(early))
	require.NotNil(t, closed)
	assert.Contains(t, closed.Reason, "closed port", "the capture shows a RST: the port was closed then")
	require.Len(t, closed.Replies, 1, "the stack answers a closed port with a RST")
	for _, n := range []int{late, reopened} {
		pr := o.byN(uint64(n))
		require.NotNil(t, pr)
		assert.Equal(t, "permit", pr.Verdict)
		assert.NotContains(t, pr.Reason, "closed port", "packet %d: the SYN-ACK that follows shows a listening socket", n)
		assert.Empty(t, pr.Replies, "packet %d", n)
		assert.Contains(t, layerNames(pr), "FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V4", "packet %d is accepted at ALE", n)
	}
}

func layerNames(pr *PacketResult) []string {
	var out []string
	for _, s := range pr.Steps {
		out = append(out, s.Layer.Name)
	}
	return out
}

// An inferred host is inferred from the captures' first IP packets, and says so
// when the capture is longer.
func TestInferenceFromTheHead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.pcap")
	w, done := newSegWriter(t, path)
	w.syn(8080, true)
	w.filler(aheadFrames)
	done()
	o := replayFiles(t, "", Options{}, path)
	assert.Equal(t, "treating 10.9.0.5 as local: it sent 1 of the 1 TCP SYNs among the first 2048 IP packets", o.r.Inference)
	assert.Equal(t, aheadFrames+2, o.r.Summary.Frames, "every frame is replayed, read once")

	// Several short files: the inference reads on into the next files.
	a, b := filepath.Join(t.TempDir(), "a.pcap"), filepath.Join(t.TempDir(), "b.pcap")
	w, done = newSegWriter(t, a)
	w.filler(3)
	done()
	w, done = newSegWriter(t, b)
	w.syn(8080, true)
	done()
	o = replayFiles(t, "", Options{}, a, b)
	assert.Equal(t, "treating 10.9.0.5 as local: it sent 1 of the 1 TCP SYNs", o.r.Inference)
}

// Start's window is handed to Replay; a Replay of another file first, or of a file
// Start was not given, still replays it whole.
func TestReplayOrderIndependent(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a.pcap"), filepath.Join(t.TempDir(), "b.pcap")
	for _, p := range []string{a, b} {
		w, done := newSegWriter(t, p)
		w.syn(8080, true)
		w.filler(10)
		done()
	}
	r := New(engine.New(engine.Options{}), Options{})
	require.NoError(t, r.Start([]string{a}))
	for _, f := range []string{b, a} {
		n := 0
		require.NoError(t, r.Replay(f, func(*PacketResult) error { n++; return nil }, func(p Problem) { t.Error(p) }))
		assert.Equal(t, 12, n, f)
	}
	r.Stack().Close()
}

// emit receives one reused PacketResult; Clone keeps a packet's result, steps and
// bytes intact after the replay moved on.
func TestCloneKeepsAResult(t *testing.T) {
	file := generated + "/workstation.pcap"
	frames := readFrames(t, []string{file})
	r := New(loadEngine(t, "block-port"), Options{})
	require.NoError(t, r.Start([]string{file}))
	var seen []*PacketResult
	var kept []*PacketResult
	var stepsAt []int
	require.NoError(t, r.Replay(file, func(pr *PacketResult) error {
		seen = append(seen, pr)
		kept = append(kept, pr.Clone())
		stepsAt = append(stepsAt, len(pr.Steps))
		return nil
	}, func(p Problem) { t.Error(p) }))
	require.Len(t, kept, len(frames))
	for i, pr := range kept {
		assert.Same(t, seen[0], seen[i], "one PacketResult is reused")
		assert.Equal(t, uint64(i+1), pr.N)
		assert.Equal(t, frames[i].Data, pr.Frame.Data, "packet %d's bytes", i+1)
		assert.Len(t, pr.Steps, stepsAt[i], "packet %d's steps", i+1)
	}
	assert.NotEqual(t, layerNames(kept[0]), layerNames(kept[1]), "an outbound and an inbound packet walk different layers")
}
