package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// base is the first packet's time; every packet is 1 ms after the one before.
var base = time.Date(2024, 3, 5, 9, 30, 0, 0, time.UTC)

var (
	hostMAC = net.HardwareAddr{0x00, 0x15, 0x5d, 0x01, 0x02, 0x03}
	gwMAC   = net.HardwareAddr{0x00, 0x15, 0x5d, 0x00, 0x00, 0x01}
	peerMAC = net.HardwareAddr{0x00, 0x15, 0x5d, 0x00, 0x00, 0x32}
	smbMAC  = net.HardwareAddr{0x00, 0x15, 0x5d, 0x00, 0x00, 0x0a}

	hostIP  = net.IP{192, 168, 1, 20}
	hostIP6 = net.ParseIP("2001:db8:1::20")
)

// capture collects frames of one file.
type capture struct {
	name   string
	link   layers.LinkType
	frames [][]byte
	times  []time.Time
	ifaces []int
	t      time.Time
}

func newCapture(name string, link layers.LinkType) *capture {
	return &capture{name: name, link: link, t: base}
}

func (c *capture) add(frame []byte) { c.addOn(0, frame) }

func (c *capture) addOn(iface int, frame []byte) {
	c.t = c.t.Add(time.Millisecond)
	c.frames = append(c.frames, frame)
	c.times = append(c.times, c.t)
	c.ifaces = append(c.ifaces, iface)
}

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		panic(err) // the generator's own frames: a bug here, not bad input
	}
	return append([]byte(nil), buf.Bytes()...)
}

// ep is one side of a conversation.
type ep struct {
	mac  net.HardwareAddr
	ip   net.IP
	port uint16
}

// tcpConv builds the frames of one TCP conversation between a (the initiator) and b.
type tcpConv struct {
	a, b       ep
	seqA, seqB uint32
	vlan       []uint16 // tags, outermost first; the outer one is 802.1ad when len 2
	noEther    bool     // the IP packet alone (raw, loopback, SLL captures wrap it)
}

const (
	fSYN = 1 << iota
	fACK
	fPSH
	fFIN
	fRST
)

// seg returns a segment from a (fromA) or b with the flags and payload, and advances
// the sequence numbers.
func (c *tcpConv) seg(fromA bool, flags int, payload []byte) []byte {
	src, dst, seq, ack := c.a, c.b, &c.seqA, &c.seqB
	if !fromA {
		src, dst, seq, ack = c.b, c.a, &c.seqB, &c.seqA
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.port), DstPort: layers.TCPPort(dst.port), Seq: *seq, Window: 64240,
		SYN: flags&fSYN != 0, ACK: flags&fACK != 0, PSH: flags&fPSH != 0, FIN: flags&fFIN != 0, RST: flags&fRST != 0}
	if tcp.ACK {
		tcp.Ack = *ack
	}
	*seq += uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		*seq++
	}
	return c.frame(src, dst, layers.IPProtocolTCP, tcp, gopacket.Payload(payload))
}

func (c *tcpConv) frame(src, dst ep, proto layers.IPProtocol, l4 interface {
	gopacket.SerializableLayer
	SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
}, payload gopacket.Payload) []byte {
	var ls []gopacket.SerializableLayer
	var ip gopacket.NetworkLayer
	etype := layers.EthernetTypeIPv4
	if src.ip.To4() != nil {
		ip4 := &layers.IPv4{Version: 4, TTL: 128, Id: 0x4000, Flags: layers.IPv4DontFragment, Protocol: proto, SrcIP: src.ip.To4(), DstIP: dst.ip.To4()}
		ip, ls = ip4, append(ls, ip4)
	} else {
		etype = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 128, NextHeader: proto, SrcIP: src.ip, DstIP: dst.ip}
		ip, ls = ip6, append(ls, ip6)
	}
	if err := l4.SetNetworkLayerForChecksum(ip); err != nil {
		panic(err)
	}
	ls = append(ls, l4, payload)
	if c.noEther {
		return serialize(ls...)
	}
	return serialize(append(c.link(src, dst, etype), ls...)...)
}

// link returns the Ethernet header with the conversation's VLAN tags.
func (c *tcpConv) link(src, dst ep, etype layers.EthernetType) []gopacket.SerializableLayer {
	eth := &layers.Ethernet{SrcMAC: src.mac, DstMAC: dst.mac, EthernetType: etype}
	out := []gopacket.SerializableLayer{eth}
	for i, id := range c.vlan {
		if i == 0 {
			eth.EthernetType = layers.EthernetTypeDot1Q
			if len(c.vlan) > 1 {
				eth.EthernetType = layers.EthernetTypeQinQ
			}
		}
		next := etype
		if i+1 < len(c.vlan) {
			next = layers.EthernetTypeDot1Q
		}
		out = append(out, &layers.Dot1Q{VLANIdentifier: id, Type: next})
	}
	return out
}

// session is a full client session: handshake, request, response, FIN teardown.
func (c *tcpConv) session(req, resp []byte) [][]byte {
	out := [][]byte{
		c.seg(true, fSYN, nil),
		c.seg(false, fSYN|fACK, nil),
		c.seg(true, fACK, nil),
	}
	if req != nil {
		out = append(out, c.seg(true, fPSH|fACK, req))
	}
	if resp != nil {
		out = append(out, c.seg(false, fPSH|fACK, resp), c.seg(true, fACK, nil))
	}
	return append(out,
		c.seg(true, fFIN|fACK, nil),
		c.seg(false, fFIN|fACK, nil),
		c.seg(true, fACK, nil))
}

func udp(src, dst ep, payload []byte, tags ...uint16) []byte {
	c := &tcpConv{vlan: tags}
	return c.frame(src, dst, layers.IPProtocolUDP, &layers.UDP{SrcPort: layers.UDPPort(src.port), DstPort: layers.UDPPort(dst.port)}, payload)
}

func icmpEcho(src, dst ep, reply bool, seq uint16) []byte {
	typ := uint8(layers.ICMPv4TypeEchoRequest)
	if reply {
		typ = layers.ICMPv4TypeEchoReply
	}
	return serialize(
		&layers.Ethernet{SrcMAC: src.mac, DstMAC: dst.mac, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, TTL: 128, Id: 0x100 + seq, Protocol: layers.IPProtocolICMPv4, SrcIP: src.ip, DstIP: dst.ip},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: 1, Seq: seq},
		gopacket.Payload("abcdefghijklmnopqrstuvwabcdefghi"))
}

// fragments returns a UDP datagram of n payload bytes split into IPv4 fragments of
// at most 1480 bytes of IP payload.
func fragments(src, dst ep, n int) [][]byte {
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	ip := &layers.IPv4{Version: 4, TTL: 128, Protocol: layers.IPProtocolUDP, SrcIP: src.ip, DstIP: dst.ip}
	u := &layers.UDP{SrcPort: layers.UDPPort(src.port), DstPort: layers.UDPPort(dst.port)}
	_ = u.SetNetworkLayerForChecksum(ip)
	whole := serialize(ip, u, gopacket.Payload(payload))
	body := whole[20:]
	var out [][]byte
	for off := 0; off < len(body); off += 1480 {
		end := min(off+1480, len(body))
		f := &layers.IPv4{Version: 4, TTL: 128, Id: 0x5151, Protocol: layers.IPProtocolUDP, SrcIP: src.ip, DstIP: dst.ip, FragOffset: uint16(off / 8)}
		if end < len(body) {
			f.Flags = layers.IPv4MoreFragments
		}
		out = append(out, serialize(&layers.Ethernet{SrcMAC: src.mac, DstMAC: dst.mac, EthernetType: layers.EthernetTypeIPv4}, f, gopacket.Payload(body[off:end])))
	}
	return out
}

var (
	httpReq  = []byte("GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\nAccept: */*\r\n\r\n")
	httpResp = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 22\r\n\r\n<html>hello</html>\r\n\r\n")
	tlsHello = []byte{0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, 'w', 'f', 'p', 's', 'i', 'm'}
	tlsReply = []byte{0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d, 0x03, 0x03, 's', 'e', 'r', 'v', 'e', 'r'}
	smbNeg   = []byte{0x00, 0x00, 0x00, 0x10, 0xfe, 'S', 'M', 'B', 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
	smbResp  = []byte{0x00, 0x00, 0x00, 0x10, 0xfe, 'S', 'M', 'B', 0x40, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
	rdpReq   = []byte{0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00}
	dnsQuery = []byte{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
	dnsReply = append(append([]byte{0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}, dnsQuery[12:]...),
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34)
)

func workstation() *capture {
	c := newCapture("workstation.pcap", layers.LinkTypeEthernet)
	host := func(port uint16) ep { return ep{hostMAC, hostIP, port} }
	web := func(port uint16) ep { return ep{gwMAC, net.IP{93, 184, 216, 34}, port} }
	dnsSrv := ep{gwMAC, net.IP{192, 168, 1, 1}, 53}
	// DNS
	c.add(udp(host(50000), dnsSrv, dnsQuery))
	c.add(udp(dnsSrv, host(50000), dnsReply))
	// HTTP to :80
	for _, f := range (&tcpConv{a: host(49701), b: web(80), seqA: 1000, seqB: 5000}).session(httpReq, httpResp) {
		c.add(f)
	}
	// TLS-looking :443
	for _, f := range (&tcpConv{a: host(49702), b: web(443), seqA: 2000, seqB: 6000}).session(tlsHello, tlsReply) {
		c.add(f)
	}
	// SMB to a file server on the LAN
	for _, f := range (&tcpConv{a: host(49703), b: ep{smbMAC, net.IP{192, 168, 1, 10}, 445}, seqA: 3000, seqB: 7000}).session(smbNeg, smbResp) {
		c.add(f)
	}
	// ICMP echo
	c.add(icmpEcho(host(0), ep{gwMAC, net.IP{8, 8, 8, 8}, 0}, false, 1))
	c.add(icmpEcho(ep{gwMAC, net.IP{8, 8, 8, 8}, 0}, host(0), true, 1))
	// Inbound RDP to a listening port: the peer opens, then closes.
	peer := func(port uint16) ep { return ep{peerMAC, net.IP{192, 168, 1, 50}, port} }
	for _, f := range (&tcpConv{a: peer(51000), b: host(3389), seqA: 8000, seqB: 9000}).session(rdpReq, nil) {
		c.add(f)
	}
	// Inbound to a closed port: SYN answered by RST/ACK.
	closed := &tcpConv{a: peer(51001), b: host(23), seqA: 10000}
	c.add(closed.seg(true, fSYN, nil))
	c.add(closed.seg(false, fRST|fACK, nil))
	// IPv6 TCP :443
	v6 := &tcpConv{a: ep{hostMAC, hostIP6, 49704}, b: ep{gwMAC, net.ParseIP("2001:db8::443"), 443}, seqA: 11000, seqB: 12000}
	for _, f := range v6.session(tlsHello, tlsReply) {
		c.add(f)
	}
	// A UDP datagram in two IPv4 fragments.
	for _, f := range fragments(host(50001), ep{smbMAC, net.IP{192, 168, 1, 10}, 9000}, 2000) {
		c.add(f)
	}
	return c
}

func vlanQinQ() *capture {
	c := newCapture("vlan-qinq.pcap", layers.LinkTypeEthernet)
	a := ep{hostMAC, net.IP{10, 1, 0, 20}, 49800}
	b := ep{gwMAC, net.IP{10, 1, 0, 1}, 80}
	for _, f := range (&tcpConv{a: a, b: b, seqA: 100, seqB: 200, vlan: []uint16{100}}).session(httpReq, httpResp) {
		c.add(f)
	}
	a.port, b.port = 49801, 8080
	for _, f := range (&tcpConv{a: a, b: b, seqA: 300, seqB: 400, vlan: []uint16{200, 100}}).session(httpReq, httpResp) {
		c.add(f)
	}
	return c
}

// loopback frames carry a 4-byte address family in the capturing host's byte order
// (little-endian here, as on x86 Windows and BSD).
func loopbackNull() *capture {
	c := newCapture("loopback-null.pcap", layers.LinkTypeNull)
	wrap := func(af uint32, ip []byte) []byte {
		return binary.LittleEndian.AppendUint32(nil, af) // then the IP packet
	}
	v4 := &tcpConv{a: ep{nil, net.IP{127, 0, 0, 1}, 49900}, b: ep{nil, net.IP{127, 0, 0, 1}, 8080}, seqA: 1, seqB: 2, noEther: true}
	for _, f := range v4.session(httpReq, httpResp) {
		c.add(append(wrap(2, nil), f...))
	}
	// IPv6 with each family value an OS uses: Windows (23), NetBSD/OpenBSD (24),
	// FreeBSD (28), macOS (30).
	for i, af := range []uint32{23, 24, 28, 30} {
		v6 := &tcpConv{a: ep{nil, net.IPv6loopback, 49910 + uint16(i)}, b: ep{nil, net.IPv6loopback, 8080}, seqA: 10, seqB: 20, noEther: true}
		c.add(append(wrap(af, nil), v6.seg(true, fSYN, nil)...))
		c.add(append(wrap(af, nil), v6.seg(false, fSYN|fACK, nil)...))
		c.add(append(wrap(af, nil), v6.seg(true, fACK, nil)...))
	}
	return c
}

func rawIP() *capture {
	c := newCapture("raw-ip.pcap", layers.LinkTypeRaw)
	a := ep{nil, net.IP{10, 2, 0, 20}, 50100}
	dns := ep{nil, net.IP{10, 2, 0, 1}, 53}
	raw := &tcpConv{noEther: true}
	c.add(raw.frame(a, dns, layers.IPProtocolUDP, &layers.UDP{SrcPort: 50100, DstPort: 53}, dnsQuery))
	c.add(raw.frame(dns, a, layers.IPProtocolUDP, &layers.UDP{SrcPort: 53, DstPort: 50100}, dnsReply))
	v6 := &tcpConv{a: ep{nil, net.ParseIP("2001:db8:2::20"), 50101}, b: ep{nil, net.ParseIP("2001:db8::80"), 80}, seqA: 1, seqB: 2, noEther: true}
	for _, f := range v6.session(httpReq, httpResp) {
		c.add(f)
	}
	return c
}

// linuxSLL wraps IP packets in the 16-byte Linux cooked header.
func linuxSLL() *capture {
	c := newCapture("linux-sll.pcap", layers.LinkTypeLinuxSLL)
	sll := func(outgoing bool, etype uint16, ip []byte) []byte {
		h := make([]byte, 16, 16+len(ip))
		if outgoing {
			binary.BigEndian.PutUint16(h[0:2], 4) // LINUX_SLL_OUTGOING
		}
		binary.BigEndian.PutUint16(h[2:4], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:6], 6)
		copy(h[6:12], hostMAC)
		binary.BigEndian.PutUint16(h[14:16], etype)
		return append(h, ip...)
	}
	conv := &tcpConv{a: ep{nil, net.IP{10, 3, 0, 20}, 50200}, b: ep{nil, net.IP{10, 3, 0, 80}, 443}, seqA: 1, seqB: 2, noEther: true}
	for i, f := range conv.session(tlsHello, tlsReply) {
		c.add(sll(i%2 == 0, 0x0800, f))
	}
	// An ARP frame: not IP, the IP layers never see it.
	arp := serialize(&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: hostMAC, SourceProtAddress: []byte{10, 3, 0, 20},
		DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 3, 0, 80}})
	c.add(sll(true, 0x0806, arp))
	return c
}

// nano is a nanosecond pcap: timestamps with sub-microsecond digits.
func nano() *capture {
	c := newCapture("nano.pcap", layers.LinkTypeEthernet)
	conv := &tcpConv{a: ep{hostMAC, hostIP, 49750}, b: ep{gwMAC, net.IP{93, 184, 216, 34}, 80}, seqA: 1, seqB: 2}
	for i, f := range conv.session(nil, nil) {
		c.add(f)
		c.times[i] = c.times[i].Add(time.Duration(123*(i+1)) * time.Nanosecond)
	}
	return c
}

// multi is a pcapng file with two interfaces of different link types.
func multi() *capture {
	c := newCapture("multi.pcapng", layers.LinkTypeEthernet)
	eth := &tcpConv{a: ep{hostMAC, hostIP, 49760}, b: ep{gwMAC, net.IP{93, 184, 216, 34}, 443}, seqA: 1, seqB: 2}
	raw := &tcpConv{a: ep{nil, net.IP{10, 8, 0, 2}, 49761}, b: ep{nil, net.IP{10, 8, 0, 1}, 53}, noEther: true}
	for _, f := range eth.session(tlsHello, tlsReply) {
		c.addOn(0, f)
		if len(c.frames) == 3 {
			c.addOn(1, raw.frame(raw.a, raw.b, layers.IPProtocolUDP, &layers.UDP{SrcPort: 49761, DstPort: 53}, dnsQuery))
			c.addOn(1, raw.frame(raw.b, raw.a, layers.IPProtocolUDP, &layers.UDP{SrcPort: 53, DstPort: 49761}, dnsReply))
		}
	}
	return c
}

// Captures returns every capture the generator writes.
func Captures() []*capture {
	return []*capture{workstation(), vlanQinQ(), loopbackNull(), rawIP(), linuxSLL(), nano(), multi()}
}

// encode returns a capture's file content.
func (c *capture) encode() ([]byte, error) {
	var b bytes.Buffer
	ci := func(i int) gopacket.CaptureInfo {
		return gopacket.CaptureInfo{Timestamp: c.times[i], CaptureLength: len(c.frames[i]), Length: len(c.frames[i]), InterfaceIndex: c.ifaces[i]}
	}
	if filepath.Ext(c.name) == ".pcapng" {
		opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "wfpsim mkpcap"}}
		w, err := pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{Name: "Ethernet", LinkType: c.link, TimestampResolution: 9}, opts)
		if err != nil {
			return nil, err
		}
		if _, err := w.AddInterface(pcapgo.NgInterface{Name: "wintun", LinkType: layers.LinkTypeRaw, TimestampResolution: 9}); err != nil {
			return nil, err
		}
		for i, f := range c.frames {
			if err := w.WritePacket(ci(i), f); err != nil {
				return nil, err
			}
		}
		if err := w.Flush(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	var w *pcapgo.Writer
	if c.name == "nano.pcap" {
		w = pcapgo.NewWriterNanos(&b)
	} else {
		w = pcapgo.NewWriter(&b)
	}
	if err := w.WriteFileHeader(65535, c.link); err != nil {
		return nil, err
	}
	for i, f := range c.frames {
		if err := w.WritePacket(ci(i), f); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// Generate writes every capture into dir.
func Generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mkpcap: %w", err)
	}
	for _, c := range Captures() {
		data, err := c.encode()
		if err != nil {
			return fmt.Errorf("mkpcap: %s: %w", c.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, c.name), data, 0o644); err != nil {
			return fmt.Errorf("mkpcap: %w", err)
		}
	}
	return nil
}
