package replay

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const (
	sharedPcap = "../../shared/testdata-real/pcap"
	captured   = "../testdata/pcap/captured"
	generated  = "../testdata/pcap/generated"
)

// run is one replay's outcome.
type run struct {
	results  []*PacketResult
	problems []Problem
	r        *Replayer
}

func (o *run) byN(n uint64) *PacketResult {
	for _, pr := range o.results {
		if pr.N == n {
			return pr
		}
	}
	return nil
}

func (o *run) problemText() string {
	var b strings.Builder
	for _, p := range o.problems {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func replayFiles(t testing.TB, policyFile string, opts Options, files ...string) *run {
	t.Helper()
	o := &run{r: New(loadEngine(t, policyFile), opts)}
	require.NoError(t, o.r.Start(files))
	for _, f := range files {
		err := o.r.Replay(f, func(pr *PacketResult) error {
			o.results = append(o.results, pr.Clone())
			return nil
		}, func(p Problem) { o.problems = append(o.problems, p) })
		require.NoError(t, err)
	}
	o.r.Stack().Close()
	return o
}

// openLicensed lists the captures of dir under an open licence.
func openLicensed(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is absent", dir)
	}
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "chrissanders-") || strings.HasPrefix(n, "scapy-") || !(strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng")) {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	require.NotEmpty(t, out)
	return out
}

// broken are the captures that cannot be replayed whole, with what the account of
// each must say.
var broken = map[string][]string{
	"gopacket-pcapng-le-test901.pcapng":      {"section 2: pcapng version 2.0", "packets were skipped"},
	"tcpdump-empty.pcap":                     {"holds no packets"},
	"tcpdump-empty.pcapng":                   {"holds no packets"},
	"tcpdump-unsupported-link-type-160.pcap": {"packet 1: unsupported link type USER13 (160)"},
	"zeek-linux_dlt_sll2.pcap":               {"packet 1: unsupported link type LINUX_SLL2 (276)", "6 packets of link type LINUX_SLL2 (276) skipped"},
	"zeek-nflog-http.pcap":                   {"packet 1: unsupported link type 239"},
	"zeek-trunc_trunc-hdr.pcap":              {"packet 1: not replayed: undecodable: Ethernet packet too small", "longer than the file's snapshot length"},
	"zeek-trunc_ip4-trunc.pcap":              {"packet 1: not replayed: an IPv4 frame whose IP header does not decode"},
	"zeek-trunc_ip6-trunc.pcap":              {"packet 1: not replayed: an IPv6 frame whose IP header does not decode"},
	"zeek-trunc_icmp-header-trunc.pcap":      {"packet 1: not replayed: engine: decode: ICMP header needs 8 bytes", "packet 2: not replayed"},
	"gopacket2-linux_sll_oversized_addr.pcapng": {"packet 8: not replayed: undecodable: panic: runtime error: slice bounds out of range",
		"packet 76: not replayed: undecodable: panic"},
	"scapy-bad_rsn_parsing_overrides_ssid.pcap": {"packet 2: the file ends inside this record (truncated capture)"},
}

// checkCapture replays one capture and checks its account: every frame is either
// replayed or skipped with a reason; broken captures name the file, the packet and
// what was wrong; the others replay whole.
func checkCapture(t *testing.T, file string) {
	o := replayFiles(t, "", Options{}, file)
	base := filepath.Base(file)
	for _, p := range o.problems {
		assert.Equal(t, file, p.File)
		assert.NotEmpty(t, p.Msg)
		assert.NotContains(t, p.Msg, "LinkType(", "link types are named by their number")
	}
	for _, pr := range o.results {
		if pr.Skipped {
			assert.True(t, strings.HasPrefix(pr.Reason, "not replayed: "), pr.Reason)
			continue
		}
		assert.Contains(t, []string{"permit", "block"}, pr.Verdict)
		assert.Contains(t, []string{"inbound", "outbound", "forward", "loopback"}, pr.Direction)
		assert.NotEmpty(t, pr.Reason)
	}
	s := o.r.Summary
	assert.Equal(t, s.Frames, s.Skipped+s.NotThisHost+s.Packets["permit"]+s.Packets["block"], "every frame is accounted for")
	want, isBroken := broken[base]
	if !isBroken {
		assert.Empty(t, o.problemText(), "a good capture replays whole")
		assert.Positive(t, s.Frames)
		return
	}
	require.NotEmpty(t, o.problems, "a broken capture is reported")
	text := o.problemText()
	for _, w := range want {
		assert.Contains(t, text, w)
	}
	assert.Contains(t, text, file+": ")
}

func TestReplaySharedCaptures(t *testing.T) {
	files := openLicensed(t, sharedPcap)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { checkCapture(t, f) })
	}
	// The GPL'd one is only read, never bundled: the replay reports its cut record.
	if _, err := os.Stat(filepath.Join(sharedPcap, "scapy-bad_rsn_parsing_overrides_ssid.pcap")); err == nil {
		t.Run("scapy-bad_rsn", func(t *testing.T) {
			checkCapture(t, filepath.Join(sharedPcap, "scapy-bad_rsn_parsing_overrides_ssid.pcap"))
		})
	}
}

func TestReplayBundledCaptures(t *testing.T) {
	for _, dir := range []string{captured, generated} {
		for _, f := range openLicensed(t, dir) {
			t.Run(filepath.Base(f), func(t *testing.T) { checkCapture(t, f) })
		}
	}
}

// The bundled copies are the shared files, byte for byte, and each has its row.
func TestBundledProvenance(t *testing.T) {
	sources, err := os.ReadFile(filepath.Join(captured, "SOURCES.md"))
	require.NoError(t, err)
	total := int64(0)
	for _, f := range openLicensed(t, captured) {
		base := filepath.Base(f)
		assert.Contains(t, string(sources), "| `"+base+"` |", "provenance row")
		fi, err := os.Stat(f)
		require.NoError(t, err)
		total += fi.Size()
		if shared, err := os.ReadFile(filepath.Join(sharedPcap, base)); err == nil {
			mine, _ := os.ReadFile(f)
			assert.True(t, bytes.Equal(shared, mine), "%s differs from the shared copy", base)
		}
	}
	assert.Less(t, total, int64(300<<10))
}

func TestLinkTypes(t *testing.T) {
	tests := []struct {
		file      string
		frames    int
		replayed  int
		direction string
		flow      string // of some packet
	}{
		{generated + "/loopback-null.pcap", 21, 21, "loopback", "tcp [::1]:49910 -> [::1]:8080"}, // AF 23, Windows
		{generated + "/raw-ip.pcap", 11, 9, "outbound", "tcp [2001:db8:2::20]:50101 -> [2001:db8::80]:80"},
		{generated + "/linux-sll.pcap", 10, 10, "outbound", "tcp 10.3.0.20:50200 -> 10.3.0.80:443"},
		{generated + "/vlan-qinq.pcap", 18, 18, "outbound", "tcp 10.1.0.20:49801 -> 10.1.0.1:8080"},
		{generated + "/multi.pcapng", 11, 9, "outbound", "tcp 192.168.1.20:49760 -> 93.184.216.34:443"},
		{captured + "/tcpdump-LINKTYPE_IPV4.pcap", 1, 1, "outbound", ""},
		{captured + "/tcpdump-LINKTYPE_IPV6.pcap", 1, 1, "outbound", ""},
		{captured + "/zeek-tcp_timeout-with-pings.pcap", 15, 15, "", ""},
		{captured + "/zeek-zip_descriptor.pcap", 26, 26, "loopback", ""},        // AF 2 and 30
		{captured + "/tcpdump-icmpv6-RFC2894-RR.pcap", 6, 6, "", ""},            // AF 28
		{captured + "/zeek-http-qinq-0.pcap", 14, 14, "outbound", ""},           // two 802.1Q tags
		{captured + "/zeek-vlan-qinqinq.pcap", 14, 14, "outbound", ""},          // three
		{captured + "/tcpdump-tcp-handshake-nano.pcap", 3, 3, "outbound", ""},   // SLL, ns
		{captured + "/zeek-tls_irc-starttls.pcap", 20, 20, "outbound", ""},      // SLL
		{captured + "/gopacket-pcapng-le-test006.pcapng", 5, 5, "", ""},         // Ethernet + NULL interfaces
		{captured + "/gopacket-pcapng-be-test006.pcapng", 5, 5, "", ""},         // big-endian
		{captured + "/gopacket-pcapng-le-test100.pcapng", 5, 5, "", ""},         // 3 interfaces
		{captured + "/gopacket-pcapng-le-test202.pcapng", 8, 8, "", ""},         // 3 sections
		{captured + "/zeek-pcapng-multi-interface.pcapng", 6, 4, "", ""},        // 2 interfaces
		{captured + "/zeek-ldap_modify-request.pcapng", 17, 17, "outbound", ""}, // 126 interfaces, Windows
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			o := replayFiles(t, "", Options{}, tt.file)
			assert.Empty(t, o.problemText())
			assert.Equal(t, tt.frames, o.r.Summary.Frames)
			assert.Equal(t, tt.replayed, o.r.Summary.Packets["permit"]+o.r.Summary.Packets["block"])
			if tt.direction != "" {
				for _, pr := range o.results {
					if !pr.Skipped {
						assert.Equal(t, tt.direction, pr.Direction)
						break
					}
				}
			}
			if tt.flow != "" {
				var flows []string
				for _, pr := range o.results {
					flows = append(flows, pr.Flow)
				}
				assert.Contains(t, flows, tt.flow)
			}
		})
	}
}

// The NULL link type's address family is in the capturing host's byte order; every
// IPv6 value an OS uses decodes as IPv6.
func TestLoopbackFamilies(t *testing.T) {
	ip6 := engine.TCP("[::1]:1000", "[::1]:2000", engine.TCPSyn, nil)
	raw, err := encodeIP6(ip6)
	require.NoError(t, err)
	d := newDecoder()
	for _, fam := range []uint32{10, 23, 24, 28, 30} {
		for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			frame := append(order.AppendUint32(nil, fam), raw...)
			p, err := d.decode(Frame{N: 1, LinkType: linkNull, Data: frame})
			require.NoError(t, err, "family %d %v", fam, order)
			assert.Equal(t, uint8(6), p.IPVersion, "family %d", fam)
		}
	}
	_, err = d.decode(Frame{N: 1, LinkType: linkNull, Data: append(binary.LittleEndian.AppendUint32(nil, 7), raw...)})
	assert.ErrorContains(t, err, "address family 7")
}

// encodeIP6 takes the IPv6 packet of a generated loopback capture's first IPv6 frame.
func encodeIP6(_ *engine.Packet) ([]byte, error) {
	src, err := Open(generated + "/loopback-null.pcap")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	for {
		f, err := src.Next()
		if err != nil {
			return nil, err
		}
		if len(f.Data) > 4 && f.Data[4]>>4 == 6 {
			return f.Data[4:], nil
		}
	}
}

func TestTimestamps(t *testing.T) {
	// Microsecond pcap, nanosecond pcap (generated and real), pcapng.
	first := func(file string) time.Time {
		src, err := Open(file)
		require.NoError(t, err)
		defer src.Close()
		f, err := src.Next()
		require.NoError(t, err)
		return f.Time
	}
	base := time.Date(2024, 3, 5, 9, 30, 0, 0, time.UTC)
	assert.True(t, first(generated+"/workstation.pcap").Equal(base.Add(time.Millisecond)))
	assert.True(t, first(generated+"/nano.pcap").Equal(base.Add(time.Millisecond+123)), "nanoseconds kept")
	assert.True(t, first(generated+"/multi.pcapng").Equal(base.Add(time.Millisecond)))
	assert.NotZero(t, first(captured+"/tcpdump-tcp-handshake-nano.pcap").Nanosecond()%1000, "a nanosecond capture has sub-microsecond digits")
}

func TestDirectionInference(t *testing.T) {
	o := replayFiles(t, "", Options{}, generated+"/workstation.pcap")
	assert.Equal(t, "treating 192.168.1.20, 2001:db8:1::20 as local: it sent 3 of the 6 TCP SYNs (the other addresses share its MAC address)", o.r.Inference)
	assert.Equal(t, "outbound", o.byN(1).Direction)
	assert.Equal(t, "inbound", o.byN(2).Direction)
	assert.Equal(t, "inbound", o.byN(32).Direction, "the RDP client connects in")

	// --local: the other side's view.
	o = replayFiles(t, "", Options{Locals: []netip.Addr{netip.MustParseAddr("192.168.1.50")}}, generated+"/workstation.pcap")
	assert.Empty(t, o.r.Inference)
	assert.Equal(t, "outbound", o.byN(32).Direction)
	assert.Equal(t, 51-9, o.r.Summary.NotThisHost)

	// No IP at all: said so.
	o = replayFiles(t, "", Options{}, captured+"/zeek-linuxsll-arp.pcap")
	assert.Contains(t, o.r.Inference, "no local address: no IP packet in the captures")
}

func TestHostFile(t *testing.T) {
	h, err := LoadHost("../testdata/hosts/workstation.yaml")
	require.NoError(t, err)
	o := replayFiles(t, "app-rule", Options{Host: h}, generated+"/workstation.pcap")
	assert.Empty(t, o.r.Inference)
	assert.Equal(t, "permit", o.byN(3).Verdict, "firefox.exe connects")
	assert.Equal(t, "block", o.byN(1).Verdict, "svchost.exe's DNS query")
	assert.Equal(t, "block-other-apps", o.byN(21).Filter, "SMB from the kernel")
	assert.Equal(t, "FWPM_LAYER_ALE_AUTH_CONNECT_V4", o.byN(21).Layer)
	assert.Equal(t, "permit", o.byN(41).Verdict, "firefox.exe over IPv6")
	assert.Equal(t, "permit", o.byN(32).Verdict, "inbound is not affected")

	bad := []struct{ doc, want string }{
		{"interfaces: [{index: 0}]", "h.yaml: interfaces[0].index: an interface needs a non-zero index"},
		{"interfaces: [{index: 1, mac: nope}]", "h.yaml: interfaces[0].mac"},
		{"interfaces: [{index: 1, addresses: [1.2.3]}]", "h.yaml: interfaces[0].addresses[0]"},
		{"processes: [{pid: 1, sockets: [{protocol: tcp, local: 'x'}]}]", "h.yaml: processes[0].sockets[0].local"},
		{"processes: [{pid: 1, sockets: [{protocol: udp, local: '0.0.0.0:53', listen: true}]}]", "processes[0].sockets[0].listen: only TCP sockets listen"},
		{"processes: [{pid: 1, image: 'System'}]", "processes[0].image"},
		{"processes: [{pid: 1, user: 'bob'}]", "processes[0].user"},
		{"nmae: x", "host file h.yaml: line 1: field nmae not found in type replay.HostFile"},
		{"interfaces: [", "h.yaml"},
	}
	for _, b := range bad {
		_, err := ParseHost("h.yaml", []byte(b.doc))
		assert.ErrorContains(t, err, b.want, b.doc)
	}
	_, err = LoadHost("no-such-host.yaml")
	assert.ErrorContains(t, err, "no-such-host.yaml")
}

// Counterfactual replay: once a flow is blocked, its later packets are dropped
// because of that decision, naming the packet and the filter, not re-decided.
func TestCounterfactual(t *testing.T) {
	o := replayFiles(t, "block-port", Options{}, generated+"/workstation.pcap")
	first := o.byN(21)
	assert.Equal(t, "block", first.Verdict)
	assert.Equal(t, `blocked at FWPM_LAYER_ALE_AUTH_CONNECT_V4 by filter "block-smb-out"`, first.Reason)
	for n := uint64(22); n <= 29; n++ {
		pr := o.byN(n)
		assert.Equal(t, "block", pr.Verdict, "packet %d", n)
		assert.Equal(t, "block-smb-out", pr.Filter)
		assert.Equal(t, `dropped: its flow was blocked at FWPM_LAYER_ALE_AUTH_CONNECT_V4 by filter "block-smb-out" (packet 21)`, pr.Reason)
	}
	assert.Equal(t, "block-rdp-in", o.byN(32).Filter)
	assert.Contains(t, o.byN(38).Reason, "(packet 32)")
	assert.Equal(t, "permit", o.byN(3).Verdict)
	assert.Equal(t, 2, o.r.Summary.FlowsByVerdict()["block"])

	// A hard permit in a higher sublayer overrides the block below it.
	o = replayFiles(t, "hard-permit", Options{}, generated+"/workstation.pcap")
	assert.Equal(t, "block-web-server", o.byN(3).Filter, ":80 is blocked")
	assert.Equal(t, "permit", o.byN(12).Verdict, ":443 is hard-permitted")
}

func TestJSONLinesGolden(t *testing.T) {
	o := replayFiles(t, "block-port", Options{}, generated+"/workstation.pcap")
	var b bytes.Buffer
	for _, pr := range o.results {
		require.NoError(t, pr.WriteJSONLine(&b, false))
	}
	golden(t, "workstation-block-port.jsonl.golden", b.Bytes())
	// The contract's field names, exactly.
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		assert.ElementsMatch(t, []string{"n", "direction", "flow", "verdict", "layer", "filter", "layers"}, keys)
		var layers []map[string]string
		require.NoError(t, json.Unmarshal(m["layers"], &layers))
		for _, l := range layers {
			assert.Len(t, l, 2)
			assert.Contains(t, []string{"permit", "block"}, l["action"])
			assert.True(t, strings.HasPrefix(l["layer"], "FWPM_LAYER_"), l["layer"])
		}
	}
	assert.Contains(t, b.String(), `"flow":"tcp 192.168.1.20:49703 -> 192.168.1.10:445"`, "no HTML escaping")
	var j JSONLine
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(b.String(), "\n", 2)[0]), &j))
	assert.Equal(t, uint64(1), j.N)
	// With several files, each line names its file.
	var one bytes.Buffer
	require.NoError(t, o.results[0].WriteJSONLine(&one, true))
	assert.Contains(t, one.String(), `"file":"../testdata/pcap/generated/workstation.pcap"`)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./replay -update")
	assert.Equal(t, string(want), string(got))
}

// readEPBComments parses a pcapng file's blocks itself and returns each enhanced
// packet block's comment options (option code 1).
func readEPBComments(t *testing.T, data []byte) []string {
	var out []string
	for off := 0; off < len(data); {
		require.GreaterOrEqual(t, len(data)-off, 12)
		typ := binary.LittleEndian.Uint32(data[off:])
		length := int(binary.LittleEndian.Uint32(data[off+4:]))
		require.True(t, length >= 12 && length%4 == 0 && off+length <= len(data), "block at %d", off)
		require.Equal(t, uint32(length), binary.LittleEndian.Uint32(data[off+length-4:]), "trailing length")
		if typ == blockEPB {
			body := data[off+8 : off+length-4]
			capLen := int(binary.LittleEndian.Uint32(body[12:]))
			opts := body[20+(capLen+3)/4*4:]
			comment := ""
			for len(opts) >= 4 {
				code, n := binary.LittleEndian.Uint16(opts), int(binary.LittleEndian.Uint16(opts[2:]))
				if code == optEnd {
					break
				}
				if code == optComment {
					comment = string(opts[4 : 4+n])
				}
				opts = opts[4+(n+3)/4*4:]
			}
			out = append(out, comment)
		}
		off += length
	}
	return out
}

func writeAnnotated(t *testing.T, o *run) []byte {
	var b bytes.Buffer
	w, err := NewAnnotatedWriter(&b)
	require.NoError(t, err)
	for _, pr := range o.results {
		c := "wfpsim: " + pr.Verdict + ": " + pr.Reason
		if pr.Skipped {
			c = "wfpsim: " + pr.Reason
		}
		require.NoError(t, w.WritePacket(pr.Frame, c))
	}
	require.NoError(t, w.Flush())
	return b.Bytes()
}

func TestAnnotatedPcapng(t *testing.T) {
	files := []string{generated + "/workstation.pcap", generated + "/multi.pcapng", captured + "/tcpdump-unsupported-link-type-160.pcap", generated + "/nano.pcap"}
	o := replayFiles(t, "block-port", Options{}, files...)
	data := writeAnnotated(t, o)

	// pcapgo reads it back: every frame, byte for byte, with its time and link type.
	r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	require.NoError(t, err)
	for i, pr := range o.results {
		d, ci, err := r.ReadPacketData()
		require.NoError(t, err, "packet %d", i+1)
		assert.Equal(t, pr.Frame.Data, d)
		assert.True(t, pr.Frame.Time.Equal(ci.Timestamp), "packet %d time", i+1)
		assert.Equal(t, layers.LinkType(pr.Frame.LinkType), ci.AncillaryData[0].(layers.LinkType), "link type")
	}
	_, _, err = r.ReadPacketData()
	assert.ErrorIs(t, err, io.EOF)

	// Every packet carries its verdict in a comment.
	comments := readEPBComments(t, data)
	require.Len(t, comments, len(o.results))
	for i, pr := range o.results {
		switch {
		case pr.Skipped:
			assert.True(t, strings.HasPrefix(comments[i], "wfpsim: not replayed: "), comments[i])
		default:
			assert.Equal(t, "wfpsim: "+pr.Verdict+": "+pr.Reason, comments[i])
		}
	}
	assert.Contains(t, comments, `wfpsim: block: blocked at FWPM_LAYER_ALE_AUTH_CONNECT_V4 by filter "block-smb-out"`)

	// Wireshark reads the comments back (when tshark is installed).
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Log("tshark not on PATH: skipping the Wireshark check")
		return
	}
	path := filepath.Join(t.TempDir(), "annotated.pcapng")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.comment").Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	require.Len(t, lines, len(comments))
	for i := range lines {
		assert.Equal(t, comments[i], lines[i])
	}
}

func TestSummaryText(t *testing.T) {
	o := replayFiles(t, "block-port", Options{}, generated+"/workstation.pcap")
	var b bytes.Buffer
	require.NoError(t, o.r.Summary.WriteSummary(&b, []string{"b", "a"}))
	golden(t, "workstation-block-port.summary.golden", b.Bytes())
}

func TestProblemString(t *testing.T) {
	assert.Equal(t, "f.pcap: packet 3: x", Problem{File: "f.pcap", N: 3, Msg: "x"}.String())
	assert.Equal(t, "f.pcap: x", Problem{File: "f.pcap", Msg: "x"}.String())
	assert.Equal(t, "LINUX_SLL2 (276)", LinkTypeName(276))
	assert.Equal(t, "239", LinkTypeName(239))
	_ = fmt.Sprint
}

func TestNotACapture(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{"empty": nil, "short": {1, 2}, "text": []byte("hello, world\n")} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o644))
		o := replayFiles(t, "", Options{}, path)
		require.Len(t, o.problems, 1, name)
		assert.Contains(t, o.problems[0].String(), path+": ")
		assert.True(t, o.r.Summary.Incomplete)
	}
	_, err := Open(filepath.Join(dir, "missing"))
	assert.ErrorContains(t, err, "missing")
}

// Corrupt lengths must not make the reader allocate what they claim (found by
// FuzzReplayCapture: a 4 GB allocation per record stalled the replay).
func TestCorruptLengths(t *testing.T) {
	le := binary.LittleEndian
	pcapHdr := func(snaplen uint32) []byte {
		b := le.AppendUint32(nil, magicPcapMicro)
		b = le.AppendUint16(b, 2)
		b = le.AppendUint16(b, 4)
		b = le.AppendUint64(b, 0)
		b = le.AppendUint32(b, snaplen)
		return le.AppendUint32(b, 1)
	}
	record := func(capLen, origLen uint32) []byte {
		b := le.AppendUint64(nil, 0)
		b = le.AppendUint32(b, capLen)
		return le.AppendUint32(b, origLen)
	}
	block := func(typ uint32, body []byte) []byte {
		b := le.AppendUint32(nil, typ)
		b = le.AppendUint32(b, uint32(12+len(body)))
		b = append(b, body...)
		return le.AppendUint32(b, uint32(12+len(body)))
	}
	shb := block(blockSHB, []byte{0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	idb := block(blockIDB, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	epb := block(blockEPB, append(le.AppendUint32(le.AppendUint32(make([]byte, 12), 0xfffffff0), 0xfffffff0), make([]byte, 4)...))
	spb := block(3, append(le.AppendUint32(nil, 0xfffffff0), make([]byte, 4)...))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"pcap-huge-record", append(pcapHdr(0xffffffff), record(0xfffffff0, 0xfffffff0)...), "packet 1: capture length exceeds snap length"},
		{"pcap-huge-record-small-snaplen", append(pcapHdr(64), record(0x7ffffff0, 0x7ffffff0)...), "packet 1: capture length exceeds snap length"},
		{"pcapng-huge-epb", append(append(append([]byte(nil), shb...), idb...), epb...), "packet 1: packet block at byte 48 claims 4294967280 captured bytes but holds at most 4"},
		{"pcapng-huge-spb", append(append(append([]byte(nil), shb...), idb...), spb...), "packet 1: packet block at byte 48 claims 4294967280 captured bytes"},
		{"pcapng-bad-block-length", append(append([]byte(nil), shb...), 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f), "packet 1: block of type 1 at byte 28 has an impossible length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.name)
			require.NoError(t, os.WriteFile(path, tt.data, 0o644))
			start := time.Now()
			o := replayFiles(t, "", Options{}, path)
			assert.Less(t, time.Since(start), 2*time.Second)
			assert.Contains(t, o.problemText(), path+": "+tt.want)
			assert.True(t, o.r.Summary.Incomplete)
		})
	}
}

// A fragment shows no ports (it has none of its own), not ":0".
func TestFragmentFlow(t *testing.T) {
	o := replayFiles(t, "", Options{}, generated+"/workstation.pcap")
	assert.Equal(t, "udp 192.168.1.20 -> 192.168.1.10 fragment id 0x5151 offset 0", o.byN(50).Flow)
	assert.Equal(t, "fragment buffered until its datagram is complete", o.byN(50).Reason)
	assert.Equal(t, "udp 192.168.1.20 -> 192.168.1.10 fragment id 0x5151 offset 1480", o.byN(51).Flow)
	assert.Equal(t, "permit", o.byN(51).Verdict)
}
