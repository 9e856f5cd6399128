package replay

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/wfpsim/wfpsim/engine"
)

// Link types the replay decodes (LINKTYPE_* numbers of tcpdump.org).
const (
	linkNull     = 0
	linkEthernet = 1
	linkRaw      = 101
	linkLoop     = 108
	linkLinuxSLL = 113
	linkIPv4     = 228
	linkIPv6     = 229
	linkRawAlt12 = 12 // DLT_RAW on some BSDs
	linkRawAlt14 = 14
)

// linkTypeNames names the link types a capture may carry, for messages.
var linkTypeNames = map[uint16]string{
	0: "NULL", 1: "ETHERNET", 101: "RAW", 105: "IEEE802_11", 108: "LOOP", 113: "LINUX_SLL",
	127: "IEEE802_11_RADIOTAP", 160: "USER13", 228: "IPV4", 229: "IPV6", 276: "LINUX_SLL2", 274: "ETHERNET_MPACKET",
}

// LinkTypeName is "LINUX_SLL2 (276)".
func LinkTypeName(lt uint16) string {
	if n, ok := linkTypeNames[lt]; ok {
		return fmt.Sprintf("%s (%d)", n, lt)
	}
	return fmt.Sprintf("%d", lt)
}

// Supported reports whether the replay decodes frames of link type lt.
func Supported(lt uint16) bool {
	switch lt {
	case linkNull, linkEthernet, linkRaw, linkLoop, linkLinuxSLL, linkIPv4, linkIPv6, linkRawAlt12, linkRawAlt14:
		return true
	}
	return false
}

// decoder turns frames into engine packets with a reusable gopacket
// DecodingLayerParser per first layer (no per-packet gopacket.Packet).
type decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	loop    layers.Loopback
	sll     layers.LinuxSLL
	ip4     layers.IPv4
	ip6     layers.IPv6
	hop     layers.IPv6HopByHop
	dst     layers.IPv6Destination
	tcp     layers.TCP
	udp     layers.UDP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	payload gopacket.Payload
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
	// pkt is the packet decode returns, reused: it is valid until the next decode
	// (the stack keeps nothing of it).
	pkt engine.Packet
}

func newDecoder() *decoder {
	d := &decoder{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}}
	all := []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.loop, &d.sll, &d.ip4, &d.ip6, &d.tcp, &d.udp, &d.icmp4, &d.icmp6, &d.payload}
	for _, first := range []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLoopback, layers.LayerTypeLinuxSLL, layers.LayerTypeIPv4, layers.LayerTypeIPv6} {
		p := gopacket.NewDecodingLayerParser(first, all...)
		p.IgnoreUnsupported = true
		d.parsers[first] = p
	}
	return d
}

// errNotDecodable marks frames that carry no decodable packet.
type decodeError struct{ msg string }

func (e *decodeError) Error() string { return e.msg }

// decode turns one frame into an engine packet. A frame that is not IP (ARP, ...)
// gives a packet with IPVersion 0 when its link layer was read. The packet is the
// decoder's own, valid until the next decode, and points into f.Data.
func (d *decoder) decode(f Frame) (*engine.Packet, error) {
	var first gopacket.LayerType
	data := f.Data
	switch f.LinkType {
	case linkEthernet:
		first = layers.LayerTypeEthernet
	case linkNull, linkLoop:
		// The 4-byte address family: host byte order for NULL (whichever order gives
		// a small number), network order for LOOP. gopacket's Loopback decoder does
		// not know Windows' AF_INET6 (23), so the replay reads the family itself.
		if len(data) < 4 {
			return nil, &decodeError{fmt.Sprintf("loopback frame of %d bytes is shorter than its 4-byte address family", len(data))}
		}
		fam := binary.LittleEndian.Uint32(data)
		if f.LinkType == linkLoop || (data[0] == 0 && data[1] == 0) {
			fam = binary.BigEndian.Uint32(data)
		}
		switch fam {
		case 2: // AF_INET everywhere
			first = layers.LayerTypeIPv4
		case 10, 23, 24, 28, 30: // AF_INET6: Linux, Windows, NetBSD/OpenBSD, FreeBSD, macOS
			first = layers.LayerTypeIPv6
		default:
			return nil, &decodeError{fmt.Sprintf("loopback frame with address family %d (not IPv4: 2; IPv6: 10, 23, 24, 28, 30)", fam)}
		}
		data = data[4:]
	case linkLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case linkRaw, linkRawAlt12, linkRawAlt14, linkIPv4, linkIPv6:
		if len(data) == 0 {
			return nil, &decodeError{"empty frame"}
		}
		switch data[0] >> 4 {
		case 4:
			first = layers.LayerTypeIPv4
		case 6:
			first = layers.LayerTypeIPv6
		default:
			return nil, &decodeError{fmt.Sprintf("raw IP frame with IP version %d", data[0]>>4)}
		}
		if (f.LinkType == linkIPv4 && first != layers.LayerTypeIPv4) || (f.LinkType == linkIPv6 && first != layers.LayerTypeIPv6) {
			return nil, &decodeError{fmt.Sprintf("link type %s holds an IPv%d packet", LinkTypeName(f.LinkType), data[0]>>4)}
		}
	default:
		return nil, &decodeError{fmt.Sprintf("unsupported link type %s", LinkTypeName(f.LinkType))}
	}
	if first == layers.LayerTypeEthernet && len(data) >= 18 && data[12] == 0x88 && data[13] == 0xa8 {
		// gopacket v1.1.19 does not decode 802.1ad (QinQ, 0x88a8) service tags; they
		// have the 802.1Q layout, so the replay reads them as 802.1Q tags.
		data = append([]byte(nil), data...)
		data[12], data[13] = 0x81, 0x00
	}
	d.decoded = d.decoded[:0]
	err := d.parsers[first].DecodeLayers(data, &d.decoded)
	if err != nil && len(d.decoded) == 0 {
		return nil, &decodeError{fmt.Sprintf("undecodable: %v", err)}
	}
	p := &d.pkt
	*p = engine.Packet{Time: f.Time}
	var ipBytes []byte
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeEthernet:
			p.Ethernet = true
			copy(p.MACSrc[:], d.eth.SrcMAC)
			copy(p.MACDst[:], d.eth.DstMAC)
			p.EtherType = uint16(d.eth.EthernetType)
		case layers.LayerTypeDot1Q:
			if p.VLANID == 0 {
				p.VLANID = d.dot1q.VLANIdentifier // the outer tag
			}
			p.EtherType = uint16(d.dot1q.Type)
		case layers.LayerTypeIPv4:
			if p.IPVersion != 0 {
				continue // a tunnelled packet: the outer header stands
			}
			ip := &d.ip4
			p.IPVersion, p.Src, p.Dst, p.Protocol, p.TTL = 4, addr(ip.SrcIP), addr(ip.DstIP), uint8(ip.Protocol), ip.TTL
			p.IPHeaderLen = int(ip.IHL) * 4
			p.FragID, p.FragOffset, p.MoreFragments = uint32(ip.Id), int(ip.FragOffset)*8, ip.Flags&layers.IPv4MoreFragments != 0
			ipBytes = ipPacket(ip.Contents, ip.Payload)
			if p.IsFragment() {
				p.Payload = ip.Payload
			}
		case layers.LayerTypeIPv6:
			if p.IPVersion != 0 {
				continue
			}
			ip := &d.ip6
			p.IPVersion, p.Src, p.Dst, p.Protocol, p.TTL = 6, addr(ip.SrcIP), addr(ip.DstIP), uint8(ip.NextHeader), ip.HopLimit
			p.IPHeaderLen = 40
			ipBytes = ipPacket(ip.Contents, ip.Payload)
		case layers.LayerTypeTCP:
			if p.IsFragment() {
				continue
			}
			t := &d.tcp
			p.Protocol, p.SrcPort, p.DstPort, p.Seq, p.Ack = 6, uint16(t.SrcPort), uint16(t.DstPort), t.Seq, t.Ack
			p.TCPFlags = tcpFlags(t)
			p.TransportHeaderLen, p.Payload = int(t.DataOffset)*4, t.Payload
		case layers.LayerTypeUDP:
			if p.IsFragment() {
				continue
			}
			p.Protocol, p.SrcPort, p.DstPort = 17, uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
			p.TransportHeaderLen, p.Payload = 8, d.udp.Payload
		}
	}
	switch p.EtherType {
	case 0x0800, 0x86dd, 0:
	default:
		if p.IPVersion == 0 {
			return p, nil // ARP, LLDP, ...: the MAC layers see it, no IP layer does
		}
	}
	if p.IPVersion == 0 && (p.EtherType == 0x0800 || p.EtherType == 0x86dd) {
		why := "truncated or malformed IP header"
		if err != nil {
			why = err.Error()
		}
		return nil, &decodeError{fmt.Sprintf("an IPv%d frame whose IP header does not decode: %s", map[uint16]int{0x0800: 4, 0x86dd: 6}[p.EtherType], why)}
	}
	if p.IPVersion == 0 {
		for _, t := range d.decoded {
			if t == layers.LayerTypeLinuxSLL || t == layers.LayerTypeLoopback {
				p.EtherType = uint16(d.sll.EthernetType)
				return p, nil // a non-IP frame on a link without MAC layers
			}
		}
		if p.Ethernet {
			return p, nil
		}
		return nil, &decodeError{"no IP packet in the frame"}
	}
	if len(ipBytes) > 0 {
		p.Raw = ipBytes
		// IPv6 extension headers (fragments included), ICMP and anything gopacket's
		// parser left undecoded: read the IP packet with the engine's decoder, which
		// also decodes the packet an ICMP error quotes.
		if p.IPVersion == 6 || p.Protocol == 1 || p.Protocol == 58 || (p.SrcPort == 0 && !p.IsFragment() && (p.Protocol == 6 || p.Protocol == 17)) {
			link := *p
			if err := engine.DecodeIPInto(ipBytes, p); err != nil {
				return nil, &decodeError{err.Error()}
			}
			p.Time, p.Ethernet, p.MACSrc, p.MACDst, p.EtherType, p.VLANID = link.Time, link.Ethernet, link.MACSrc, link.MACDst, link.EtherType, link.VLANID
			return p, nil
		}
	}
	return p, nil
}

// tcpSegment returns, after decode gave p, the TCP layer gopacket decoded for it and
// its network flow, for the TCP reassembly; false when p is not a whole TCP segment
// of the packet's own IP header (a fragment, a tunnel, a header gopacket did not
// decode).
func (d *decoder) tcpSegment(p *engine.Packet) (gopacket.Flow, *layers.TCP, bool) {
	if p.Protocol != 6 || p.IsFragment() {
		return gopacket.Flow{}, nil, false
	}
	var net gopacket.Flow
	ip, tcp := false, false
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			if !ip && p.IPVersion == 4 {
				net, ip = d.ip4.NetworkFlow(), true
			}
		case layers.LayerTypeIPv6:
			if !ip && p.IPVersion == 6 {
				net, ip = d.ip6.NetworkFlow(), true
			}
		case layers.LayerTypeTCP:
			tcp = true
		}
	}
	if !ip || !tcp || uint16(d.tcp.SrcPort) != p.SrcPort || uint16(d.tcp.DstPort) != p.DstPort {
		return gopacket.Flow{}, nil, false
	}
	return net, &d.tcp, true
}

// ipPacket returns the IP packet's bytes, header and payload: a slice of the frame
// when they are contiguous in it (they are, as gopacket decodes in place; each
// frame's bytes are its own), else a copy.
func ipPacket(header, payload []byte) []byte {
	n := len(header) + len(payload)
	if cap(header) >= n && len(payload) > 0 && &header[:n][len(header)] == &payload[0] {
		return header[:n:n]
	}
	return append(header[:len(header):len(header)], payload...)
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	if t.FIN {
		f |= engine.TCPFin
	}
	if t.SYN {
		f |= engine.TCPSyn
	}
	if t.RST {
		f |= engine.TCPRst
	}
	if t.PSH {
		f |= engine.TCPPsh
	}
	if t.ACK {
		f |= engine.TCPAck
	}
	return f
}

func addr(ip []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
