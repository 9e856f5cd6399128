package engine

import (
	"fmt"
	"net/netip"
	"time"
)

// TCP flags.
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
)

// Packet is a decoded packet as the stack sees it. The replay package fills it from
// a capture (it is the only package that decodes bytes); tests build it with the
// helpers below. Fields that do not apply are zero.
type Packet struct {
	// Time is when the packet was seen; it drives the stack's virtual clock.
	Time time.Time

	// Ethernet is true when the packet came with an Ethernet header.
	Ethernet  bool
	MACSrc    [6]byte
	MACDst    [6]byte
	EtherType uint16
	VLANID    uint16 // the outer 802.1Q tag, 0 when none

	// IPVersion is 4 or 6; 0 means the frame carries no IP (ARP, ...).
	IPVersion   uint8
	Src, Dst    netip.Addr
	Protocol    uint8 // the transport protocol (after IPv6 extension headers)
	TTL         uint8
	IPHeaderLen int
	// Fragments: FragOffset in bytes, MoreFragments, and the datagram id.
	FragID        uint32
	FragOffset    int
	MoreFragments bool

	SrcPort, DstPort   uint16
	TCPFlags           uint8
	Seq, Ack           uint32
	ICMPType, ICMPCode uint8
	ICMPID, ICMPSeq    uint16
	// Embedded is the packet an ICMP error quotes.
	Embedded           *Packet
	TransportHeaderLen int

	// Payload is what follows the transport header (for a fragment: the fragment's
	// bytes after the IP header).
	Payload []byte
	// Raw is the IP packet's bytes (from the IP header on), for callouts' layer
	// data; may be nil.
	Raw []byte
	// Stream, when StreamSet, is what the receiving TCP hands the stream layer for
	// this TCP segment: its bytes not seen before, in sequence order, with those of
	// earlier segments that waited for it; nothing for a retransmission or for a
	// segment that arrived ahead of a gap. The replay sets it from a TCP reassembly
	// of the capture; when StreamSet is false the stream layer is offered Payload as
	// it is (a test's or a library user's segments, in order and once each).
	Stream    []byte
	StreamSet bool
	// InjectedBy is the injection handle of the callout that injected the packet, 0
	// for a packet from the wire or a socket.
	InjectedBy uint64
}

// clone returns a deep copy of p: the stack keeps clones, never the caller's packet
// or its bytes, which the caller may reuse as soon as Send or Receive returns.
func (p *Packet) clone() *Packet {
	if p == nil {
		return nil
	}
	c := *p
	c.Payload = append([]byte(nil), p.Payload...)
	c.Raw = append([]byte(nil), p.Raw...)
	c.Stream = append([]byte(nil), p.Stream...)
	c.Embedded = p.Embedded.clone()
	return &c
}

// StreamBytes is what the segment offers the stream layer: Stream when StreamSet,
// else Payload.
func (p *Packet) StreamBytes() []byte {
	if p.StreamSet {
		return p.Stream
	}
	return p.Payload
}

// IsFragment reports whether the packet is one fragment of a larger datagram.
func (p *Packet) IsFragment() bool { return p.FragOffset != 0 || p.MoreFragments }

// IsICMPError reports ICMP and ICMPv6 error messages, which never reach ALE (rule C13).
func (p *Packet) IsICMPError() bool {
	switch p.Protocol {
	case 1:
		switch p.ICMPType {
		case 3, 4, 5, 11, 12:
			return true
		}
	case 58:
		return p.ICMPType < 128
	}
	return false
}

// isICMP reports ICMP or ICMPv6.
func (p *Packet) isICMP() bool { return p.Protocol == 1 || p.Protocol == 58 }

// isEchoRequest / isEchoReply: the ICMP messages ALE keys by id (rule C13).
func (p *Packet) isEchoRequest() bool {
	return (p.Protocol == 1 && p.ICMPType == 8) || (p.Protocol == 58 && p.ICMPType == 128)
}

func (p *Packet) isEchoReply() bool {
	return (p.Protocol == 1 && p.ICMPType == 0) || (p.Protocol == 58 && p.ICMPType == 129)
}

// String is a one-line summary, "tcp 10.0.0.5:51000 > 93.184.216.34:443 [S]".
func (p *Packet) String() string {
	if p.IPVersion == 0 {
		return fmt.Sprintf("ethertype 0x%04x %s > %s", p.EtherType, macString(p.MACSrc), macString(p.MACDst))
	}
	frag := ""
	if p.IsFragment() {
		frag = fmt.Sprintf(" frag id %d offset %d", p.FragID, p.FragOffset)
		if p.MoreFragments {
			frag += "+"
		}
	}
	switch {
	case p.Protocol == 6:
		return fmt.Sprintf("tcp %s > %s [%s] len %d%s", netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort), tcpFlagString(p.TCPFlags), len(p.Payload), frag)
	case p.Protocol == 17:
		return fmt.Sprintf("udp %s > %s len %d%s", netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort), len(p.Payload), frag)
	case p.isICMP():
		name := "icmp"
		if p.Protocol == 58 {
			name = "icmpv6"
		}
		return fmt.Sprintf("%s %s > %s type %d code %d%s", name, p.Src, p.Dst, p.ICMPType, p.ICMPCode, frag)
	}
	return fmt.Sprintf("ip proto %d %s > %s%s", p.Protocol, p.Src, p.Dst, frag)
}

func tcpFlagString(f uint8) string {
	s := ""
	for _, x := range []struct {
		bit uint8
		c   string
	}{{TCPSyn, "S"}, {TCPFin, "F"}, {TCPRst, "R"}, {TCPPsh, "P"}, {TCPAck, "."}} {
		if f&x.bit != 0 {
			s += x.c
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

func macString(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// TCP builds a TCP packet from src to dst ("10.0.0.5:51000").
func TCP(src, dst string, flags uint8, payload []byte) *Packet {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	return &Packet{IPVersion: ipVersion(s.Addr()), Src: s.Addr(), Dst: d.Addr(), Protocol: 6, TTL: 128,
		SrcPort: s.Port(), DstPort: d.Port(), TCPFlags: flags, Payload: payload,
		IPHeaderLen: ipHeaderLen(s.Addr()), TransportHeaderLen: 20}
}

// UDP builds a UDP datagram from src to dst.
func UDP(src, dst string, payload []byte) *Packet {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	return &Packet{IPVersion: ipVersion(s.Addr()), Src: s.Addr(), Dst: d.Addr(), Protocol: 17, TTL: 128,
		SrcPort: s.Port(), DstPort: d.Port(), Payload: payload,
		IPHeaderLen: ipHeaderLen(s.Addr()), TransportHeaderLen: 8}
}

// ICMP builds an ICMP (IPv4) or ICMPv6 message from src to dst.
func ICMP(src, dst string, typ, code uint8, id, seq uint16) *Packet {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	proto := uint8(1)
	if s.Is6() {
		proto = 58
	}
	return &Packet{IPVersion: ipVersion(s), Src: s, Dst: d, Protocol: proto, TTL: 128,
		ICMPType: typ, ICMPCode: code, ICMPID: id, ICMPSeq: seq,
		IPHeaderLen: ipHeaderLen(s), TransportHeaderLen: 8}
}

// WithEthernet adds an Ethernet header (and a VLAN tag when vlan is not zero).
func (p *Packet) WithEthernet(src, dst [6]byte, vlan uint16) *Packet {
	p.Ethernet, p.MACSrc, p.MACDst, p.VLANID = true, src, dst, vlan
	if p.IPVersion == 6 {
		p.EtherType = 0x86dd
	} else {
		p.EtherType = 0x0800
	}
	return p
}

func ipVersion(a netip.Addr) uint8 {
	if a.Unmap().Is4() {
		return 4
	}
	return 6
}

func ipHeaderLen(a netip.Addr) int {
	if a.Unmap().Is4() {
		return 20
	}
	return 40
}
