package replay

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
	wl "github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// benchEngine holds a 10,000-filter policy: block lists of remote ports and of
// remote IPv4 addresses at the v4 and v6 connect and accept layers, in two
// sublayers, built with the engine API in one transaction.
func benchEngine(tb testing.TB, n int) *engine.Engine {
	e := engine.New(engine.Options{NetEventCapacity: -1})
	p := pol{tb, e.Open(wfp.SessionOptions{Name: "bench"})}
	require.NoError(tb, p.s.BeginTransaction(false))
	ports, addrs := p.sublayer("ports", 0x9000), p.sublayer("addresses", 0x5000)
	for i := 0; i < n; i++ {
		l := []*wl.Layer{wl.ALEAuthConnectV4, wl.ALEAuthRecvAcceptV4, wl.ALEAuthConnectV6, wl.ALEAuthRecvAcceptV6}[i%4]
		name := fmt.Sprint("bench-", i)
		if i%2 == 0 || l.Key == wl.ALEAuthConnectV6.Key || l.Key == wl.ALEAuthRecvAcceptV6.Key {
			// 20000..: ports the captures' servers do not use, so flows are decided
			// after a full look at the block list.
			p.filter(name, l, ports, 8, wfp.ActionBlock, 0, cond(wl.ConditionIPRemotePort, wfp.Uint16(20000+i)))
		} else {
			p.filter(name, l, addrs, 8, wfp.ActionBlock, 0, cond(wl.ConditionIPRemoteAddress, wfp.Uint32(0x0ac80000+uint32(i))))
		}
	}
	require.NoError(tb, p.s.CommitTransaction())
	return e
}

// benchCaptures are the bundled real captures that replay whole.
func benchCaptures(tb testing.TB) []string {
	m, err := filepath.Glob(filepath.Join(captured, "*.pcap*"))
	require.NoError(tb, err)
	var out []string
	for _, f := range m {
		if _, bad := broken[filepath.Base(f)]; !bad {
			out = append(out, f)
		}
	}
	return out
}

// bareDecoder is gopacket's DecodingLayerParser alone, the yardstick.
type bareDecoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	loop    layers.Loopback
	sll     layers.LinuxSLL
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	payload gopacket.Payload
	parsers map[uint16]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newBareDecoder() *bareDecoder {
	d := &bareDecoder{parsers: map[uint16]*gopacket.DecodingLayerParser{}}
	all := []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.loop, &d.sll, &d.ip4, &d.ip6, &d.tcp, &d.udp, &d.icmp4, &d.icmp6, &d.payload}
	for lt, first := range map[uint16]gopacket.LayerType{linkEthernet: layers.LayerTypeEthernet, linkNull: layers.LayerTypeLoopback,
		linkLinuxSLL: layers.LayerTypeLinuxSLL, linkRaw: layers.LayerTypeIPv4, linkIPv4: layers.LayerTypeIPv4, linkIPv6: layers.LayerTypeIPv6} {
		p := gopacket.NewDecodingLayerParser(first, all...)
		p.IgnoreUnsupported = true
		d.parsers[lt] = p
	}
	return d
}

func (d *bareDecoder) decode(f Frame) int {
	p := d.parsers[f.LinkType]
	if p == nil {
		return 0
	}
	_ = p.DecodeLayers(f.Data, &d.decoded)
	return len(d.decoded)
}

func readFrames(tb testing.TB, files []string) []Frame {
	var out []Frame
	for _, f := range files {
		src, err := Open(f)
		require.NoError(tb, err)
		for {
			fr, err := src.Next()
			if err != nil {
				break
			}
			out = append(out, fr)
		}
		src.Close()
	}
	return out
}

// yardsticks times the same captures through the bare gopacket decoder, both ways:
// read from their files (as the replay reads them), and already in memory.
type yardsticks struct {
	files                       []string
	frames                      []Frame
	bare                        *bareDecoder
	replay, fromFiles, inMemory time.Duration
	n                           int // frames per run
}

func newYardsticks(tb testing.TB, files []string) *yardsticks {
	frames := readFrames(tb, files)
	return &yardsticks{files: files, frames: frames, bare: newBareDecoder(), n: len(frames)}
}

// measure runs the bare decoder over the captures from their files and from memory,
// after a replay that took d.
func (y *yardsticks) measure(tb testing.TB, d time.Duration) {
	y.replay += d
	t0 := time.Now()
	frames, layersSeen := y.bare.fromFiles(tb, y.files)
	t1 := time.Now()
	for _, fr := range y.frames {
		layersSeen += y.bare.decode(fr)
	}
	y.fromFiles += t1.Sub(t0)
	y.inMemory += time.Since(t1)
	if frames != y.n || layersSeen == 0 {
		tb.Fatalf("the bare decoder read %d frames (want %d) and decoded %d layers", frames, y.n, layersSeen)
	}
}

// report gives both throughputs and both ratios. The target (replay >= 0.20 of bare
// decode) is read against the bare decoder reading the same files: both then do
// the same job, from a capture file to decoded packets. The in-memory figure is
// reported too; it leaves out the reading, which the replay cannot.
func (y *yardsticks) report(b *testing.B) {
	n := float64(y.n * b.N)
	replay := n / y.replay.Seconds()
	files, mem := n/y.fromFiles.Seconds(), n/y.inMemory.Seconds()
	b.ReportMetric(replay, "replay-pkts/s")
	b.ReportMetric(files, "bare-file-pkts/s")
	b.ReportMetric(mem, "bare-mem-pkts/s")
	b.ReportMetric(replay/files, "replay/bare-file")
	b.ReportMetric(replay/mem, "replay/bare-mem")
}

// BenchmarkReplay replays the bundled real captures (one replay of all the files, as
// `wfpsim replay --local ... FILE...` runs it, with each file's inferred host
// addresses as local addresses) through the full stack with a 10,000-filter policy
// and, in the same run, decodes the same packets with a bare DecodingLayerParser.
func BenchmarkReplay(b *testing.B) {
	files := benchCaptures(b)
	e := benchEngine(b, 10000)
	y := newYardsticks(b, files)
	replayed := 0
	b.ReportAllocs()
	var locals []netip.Addr
	for _, f := range files {
		r := New(e, Options{})
		require.NoError(b, r.Start([]string{f}))
		for _, i := range r.Stack().Host().Interfaces {
			for _, p := range i.Addrs {
				if !p.Addr().IsLoopback() {
					locals = append(locals, p.Addr())
				}
			}
		}
		r.Stack().Close()
	}
	for b.Loop() {
		t0 := time.Now()
		r := New(e, Options{Locals: locals})
		if err := r.Start(files); err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			if err := r.Replay(f, func(pr *PacketResult) error {
				if !pr.Skipped {
					replayed++
				}
				return nil
			}, func(Problem) {}); err != nil {
				b.Fatal(err)
			}
		}
		r.Stack().Close()
		b.StopTimer() // ns/op and B/op are the replay's alone
		y.measure(b, time.Since(t0))
		b.StartTimer()
	}
	y.report(b)
	b.ReportMetric(float64(replayed)/float64(b.N), "replayed-pkts/op")
	b.ReportMetric(float64(y.n), "pkts/op")
	if replayed == 0 {
		b.Fatal("nothing replayed")
	}
}

// heapSampler records the largest live heap seen.
type heapSampler struct {
	base, peak uint64
	n          int
}

func newHeapSampler() *heapSampler {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &heapSampler{base: m.HeapAlloc}
}

func (h *heapSampler) sample(every int) {
	h.n++
	if h.n%every != 0 {
		return
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.peak = max(h.peak, m.HeapAlloc)
}

func (h *heapSampler) growth() uint64 {
	if h.peak < h.base {
		return 0
	}
	return h.peak - h.base
}

// writeSynScan writes a SYN scan: n SYNs from 10.9.0.5 to n ports of 10.9.0.1, each
// answered by RST/ACK.
func writeSynScan(tb testing.TB, path string, n int) {
	f, err := os.Create(path)
	require.NoError(tb, err)
	defer f.Close()
	w := pcapgo.NewWriter(f)
	require.NoError(tb, w.WriteFileHeader(65535, layers.LinkTypeEthernet))
	a, bm := net.HardwareAddr{2, 0, 0, 0, 0, 5}, net.HardwareAddr{2, 0, 0, 0, 0, 1}
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		for _, syn := range []bool{true, false} {
			eth := &layers.Ethernet{SrcMAC: a, DstMAC: bm, EthernetType: layers.EthernetTypeIPv4}
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 9, 0, 5}, DstIP: net.IP{10, 9, 0, 1}}
			tcp := &layers.TCP{SrcPort: 40000, DstPort: layers.TCPPort(1 + i), SYN: true, Seq: uint32(i)}
			if !syn {
				eth.SrcMAC, eth.DstMAC = bm, a
				ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
				tcp = &layers.TCP{SrcPort: layers.TCPPort(1 + i), DstPort: 40000, RST: true, ACK: true, Ack: uint32(i) + 1}
			}
			_ = tcp.SetNetworkLayerForChecksum(ip)
			buf := gopacket.NewSerializeBuffer()
			require.NoError(tb, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp))
			t = t.Add(time.Millisecond)
			require.NoError(tb, w.WritePacket(gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes()))
		}
	}
}

// A SYN scan's flows stay within the flow table's bound, and so does the replay's
// own memory (the summary keeps live flows only).
func TestSynScanBoundedFlows(t *testing.T) {
	file := filepath.Join(sharedPcap, "chrissanders-synscan.pcapng")
	if _, err := os.Stat(file); err != nil {
		file = filepath.Join(t.TempDir(), "synscan.pcap")
		writeSynScan(t, file, 2000)
	}
	const maxFlows = 256
	r := New(engine.New(engine.Options{}), Options{MaxFlows: maxFlows})
	require.NoError(t, r.Start([]string{file}))
	peakFlows := 0
	require.NoError(t, r.Replay(file, func(pr *PacketResult) error {
		if pr.N%100 == 0 {
			peakFlows = max(peakFlows, len(r.Stack().Flows()))
		}
		return nil
	}, func(p Problem) { t.Error(p) }))
	assert.LessOrEqual(t, peakFlows, maxFlows)
	assert.LessOrEqual(t, len(r.Summary.flows), 4096, "the summary keeps live flows only")
	fv := r.Summary.FlowsByVerdict()
	assert.GreaterOrEqual(t, fv["permit"]+fv["block"], 1000, "every flow is counted: %v", fv)

	// Many more flows than the bound: memory stays flat.
	big := filepath.Join(t.TempDir(), "scan-60k.pcap")
	writeSynScan(t, big, 60000)
	r = New(engine.New(engine.Options{}), Options{MaxFlows: maxFlows})
	require.NoError(t, r.Start([]string{big}))
	h := newHeapSampler()
	require.NoError(t, r.Replay(big, func(*PacketResult) error { h.sample(20000); return nil }, func(p Problem) { t.Error(p) }))
	fi, _ := os.Stat(big)
	t.Logf("60,000-flow scan: file %d bytes, heap growth %d bytes, summary holds %d flows", fi.Size(), h.growth(), len(r.Summary.flows))
	assert.Less(t, h.growth(), uint64(fi.Size()/2))
	assert.Equal(t, 60000, r.Summary.FlowsByVerdict()["permit"]+r.Summary.FlowsByVerdict()["block"])
}

// writeBulk writes one long TCP download of about size bytes: the client
// 10.7.0.5:50000 fetches from 10.7.0.1:80.
func writeBulk(tb testing.TB, path string, size int) int {
	f, err := os.Create(path)
	require.NoError(tb, err)
	defer f.Close()
	w := pcapgo.NewWriter(f)
	require.NoError(tb, w.WriteFileHeader(65535, layers.LinkTypeEthernet))
	c, s := net.HardwareAddr{2, 0, 0, 0, 0, 5}, net.HardwareAddr{2, 0, 0, 0, 0, 1}
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	seg := func(fromClient bool, flags func(*layers.TCP), seq, ack uint32, payload []byte) []byte {
		eth := &layers.Ethernet{SrcMAC: s, DstMAC: c, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 7, 0, 1}, DstIP: net.IP{10, 7, 0, 5}}
		tcp := &layers.TCP{SrcPort: 80, DstPort: 50000, Seq: seq, Ack: ack, Window: 65535}
		if fromClient {
			eth.SrcMAC, eth.DstMAC = c, s
			ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
			tcp.SrcPort, tcp.DstPort = 50000, 80
		}
		flags(tcp)
		_ = tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		require.NoError(tb, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)))
		return append([]byte(nil), buf.Bytes()...)
	}
	put := func(b []byte) {
		t = t.Add(10 * time.Microsecond)
		require.NoError(tb, w.WritePacket(gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(b), Length: len(b)}, b))
	}
	put(seg(true, func(p *layers.TCP) { p.SYN = true }, 100, 0, nil))
	put(seg(false, func(p *layers.TCP) { p.SYN, p.ACK = true, true }, 1000, 101, nil))
	put(seg(true, func(p *layers.TCP) { p.ACK = true }, 101, 1001, nil))
	data := seg(false, func(p *layers.TCP) { p.ACK, p.PSH = true, true }, 1001, 101, []byte(strings.Repeat("x", 1448)))
	packets := 3
	seq := uint32(1001)
	for written := 0; written < size; written += len(data) + 16 {
		binary.BigEndian.PutUint32(data[14+20+4:], seq) // the TCP sequence number
		seq += 1448
		put(data)
		packets++
	}
	return packets
}

// Reading is streaming: a capture far larger than the memory the replay may use
// replays with a flat heap. The capture is 50 MB; WFPSIM_STREAMING_MB=1024 runs it
// with a 1 GB one (BENCHMARKS.md has the figures).
func TestStreamingReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 50 MB capture")
	}
	mb := 50
	if v := os.Getenv("WFPSIM_STREAMING_MB"); v != "" {
		var err error
		mb, err = strconv.Atoi(v)
		require.NoError(t, err, "WFPSIM_STREAMING_MB")
	}
	path := filepath.Join(t.TempDir(), "bulk.pcap")
	n := writeBulk(t, path, mb<<20)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	r := New(engine.New(engine.Options{}), Options{})
	require.NoError(t, r.Start([]string{path}))
	h := newHeapSampler()
	count := 0
	require.NoError(t, r.Replay(path, func(pr *PacketResult) error {
		count++
		h.sample(10000)
		return nil
	}, func(p Problem) { t.Error(p) }))
	assert.Equal(t, n, count)
	assert.Equal(t, n, r.Summary.Packets["permit"], "the download is permitted")
	t.Logf("file %d bytes, %d packets, heap growth %d bytes", fi.Size(), n, h.growth())
	assert.Less(t, h.growth(), uint64(fi.Size()/10), "the heap grows with the file: not streaming")
}

// BenchmarkReplayBulk is the steady state: one long download (about 8,000 packets
// of one flow, written to a temporary file), so the per-file costs (opening, the
// inference, building the stack) are spread thin.
func BenchmarkReplayBulk(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bulk.pcap")
	writeBulk(b, path, 12<<20)
	e := benchEngine(b, 10000)
	y := newYardsticks(b, []string{path})
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		r := New(e, Options{})
		if err := r.Start([]string{path}); err != nil {
			b.Fatal(err)
		}
		if err := r.Replay(path, func(*PacketResult) error { return nil }, func(Problem) {}); err != nil {
			b.Fatal(err)
		}
		r.Stack().Close()
		b.StopTimer() // ns/op and B/op are the replay's alone
		y.measure(b, time.Since(t0))
		b.StartTimer()
	}
	y.report(b)
}

// fromFiles is the yardstick that reads the captures too: each file opened, read
// with pcapgo and decoded by the bare parser, which is the least a gopacket program
// replaying a capture file does. It reads as cheaply as pcapgo allows: a read
// buffer no bigger than the file, and big files read in place (small ones are not:
// pcapgo's in-place buffer is the snapshot length, up to 256 KB per file).
func (d *bareDecoder) fromFiles(tb testing.TB, files []string) (frames, layersSeen int) {
	for _, name := range files {
		f, err := os.Open(name)
		require.NoError(tb, err)
		fi, err := f.Stat()
		require.NoError(tb, err)
		br := bufio.NewReaderSize(f, int(min(max(fi.Size(), 4096), 1<<16)))
		big := fi.Size() > 1<<20
		var read func() ([]byte, gopacket.CaptureInfo, error)
		var link func(gopacket.CaptureInfo) uint16
		if head, _ := br.Peek(4); binary.LittleEndian.Uint32(head) == magicPcapngBlock {
			ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
			require.NoError(tb, err)
			read = ng.ReadPacketData
			if big {
				read = ng.ZeroCopyReadPacketData
			}
			link = func(ci gopacket.CaptureInfo) uint16 {
				lt, _ := linkFromAncillary(ci)
				return uint16(lt)
			}
		} else {
			pr, err := pcapgo.NewReader(br)
			require.NoError(tb, err)
			read = pr.ReadPacketData
			if big {
				read = pr.ZeroCopyReadPacketData
			}
			lt := uint16(pr.LinkType())
			link = func(gopacket.CaptureInfo) uint16 { return lt }
		}
		for {
			data, ci, err := read()
			if err != nil {
				break
			}
			frames++
			layersSeen += d.decode(Frame{LinkType: link(ci), Data: data})
		}
		f.Close()
	}
	return frames, layersSeen
}
