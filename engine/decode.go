package engine

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// DecodeIP decodes an IP packet (IPv4 or IPv6, with the TCP, UDP or ICMP header) into
// a Packet. The stack uses it for reassembled datagrams and injected packets; captures
// are decoded by the replay package. Errors say what was malformed and where.
func DecodeIP(b []byte) (*Packet, error) {
	p := new(Packet)
	if err := DecodeIPInto(b, p); err != nil {
		return nil, err
	}
	return p, nil
}

// DecodeIPInto is DecodeIP writing into p, which it resets first: a caller decoding
// packet after packet reuses one Packet. p points into b afterwards.
func DecodeIPInto(b []byte, p *Packet) error {
	if len(b) < 1 {
		return fmt.Errorf("engine: decode: empty packet")
	}
	*p = Packet{Raw: b}
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return fmt.Errorf("engine: decode: IPv4 header needs 20 bytes, have %d", len(b))
		}
		ihl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:4]))
		if ihl < 20 || ihl > len(b) || total < ihl {
			return fmt.Errorf("engine: decode: IPv4 header length %d / total length %d do not fit %d bytes", ihl, total, len(b))
		}
		if total > len(b) {
			total = len(b) // a capture cut at its snapshot length: decode what is there
		}
		p.IPVersion, p.IPHeaderLen, p.TTL, p.Protocol = 4, ihl, b[8], b[9]
		p.Src = netip.AddrFrom4([4]byte(b[12:16]))
		p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		p.FragID = uint32(binary.BigEndian.Uint16(b[4:6]))
		frag := binary.BigEndian.Uint16(b[6:8])
		p.MoreFragments = frag&0x2000 != 0
		p.FragOffset = int(frag&0x1fff) * 8
		p.Raw = b[:total]
		p.Payload = b[ihl:total]
	case 6:
		if len(b) < 40 {
			return fmt.Errorf("engine: decode: IPv6 header needs 40 bytes, have %d", len(b))
		}
		plen := int(binary.BigEndian.Uint16(b[4:6]))
		if 40+plen > len(b) {
			plen = len(b) - 40 // a capture cut at its snapshot length: decode what is there
		}
		p.IPVersion, p.TTL = 6, b[7]
		p.Src = netip.AddrFrom16([16]byte(b[8:24]))
		p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		next, off := b[6], 40
		end := 40 + plen
		for {
			switch next {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if off+2 > end {
					return fmt.Errorf("engine: decode: truncated IPv6 extension header at byte %d", off)
				}
				next, off = b[off], off+8+int(b[off+1])*8
				continue
			case 44: // fragment
				if off+8 > end {
					return fmt.Errorf("engine: decode: truncated IPv6 fragment header at byte %d", off)
				}
				fo := binary.BigEndian.Uint16(b[off+2 : off+4])
				p.FragOffset, p.MoreFragments = int(fo>>3)*8, fo&1 != 0
				p.FragID = binary.BigEndian.Uint32(b[off+4 : off+8])
				next, off = b[off], off+8
				continue
			}
			break
		}
		if off > end {
			return fmt.Errorf("engine: decode: IPv6 extension headers run past the payload")
		}
		p.Protocol, p.IPHeaderLen, p.Raw, p.Payload = next, off, b[:end], b[off:end]
	default:
		return fmt.Errorf("engine: decode: IP version %d: want 4 or 6", b[0]>>4)
	}
	if p.IsFragment() && p.FragOffset != 0 {
		return nil // no transport header in a later fragment
	}
	if p.IsFragment() {
		return nil // the first fragment's transport header is read after reassembly
	}
	return decodeTransport(p)
}

// decodeTransport reads the TCP, UDP or ICMP header at the start of p.Payload.
func decodeTransport(p *Packet) error {
	b := p.Payload
	switch p.Protocol {
	case 6:
		if len(b) < 20 {
			return fmt.Errorf("engine: decode: TCP header needs 20 bytes, have %d", len(b))
		}
		hl := int(b[12]>>4) * 4
		if hl < 20 || hl > len(b) {
			return fmt.Errorf("engine: decode: TCP data offset %d does not fit %d bytes", hl, len(b))
		}
		p.SrcPort, p.DstPort = binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4])
		p.Seq, p.Ack = binary.BigEndian.Uint32(b[4:8]), binary.BigEndian.Uint32(b[8:12])
		p.TCPFlags = b[13] & 0x1f
		p.TransportHeaderLen, p.Payload = hl, b[hl:]
	case 17:
		if len(b) < 8 {
			return fmt.Errorf("engine: decode: UDP header needs 8 bytes, have %d", len(b))
		}
		p.SrcPort, p.DstPort = binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4])
		p.TransportHeaderLen, p.Payload = 8, b[8:]
	case 1, 58:
		if len(b) < 8 {
			return fmt.Errorf("engine: decode: ICMP header needs 8 bytes, have %d", len(b))
		}
		p.ICMPType, p.ICMPCode = b[0], b[1]
		p.ICMPID, p.ICMPSeq = binary.BigEndian.Uint16(b[4:6]), binary.BigEndian.Uint16(b[6:8])
		p.TransportHeaderLen, p.Payload = 8, b[8:]
		if p.IsICMPError() && len(b) > 8 {
			if inner, err := DecodeIP(b[8:]); err == nil {
				p.Embedded = inner
			} else if inner := decodeQuoted(b[8:]); inner != nil {
				p.Embedded = inner
			}
		}
	}
	return nil
}

// decodeQuoted reads what an ICMP error quotes: an IP header and the first 8 bytes of
// the transport header, which a full decode rejects as truncated.
func decodeQuoted(b []byte) *Packet {
	if len(b) < 1 {
		return nil
	}
	p := &Packet{}
	var hl int
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return nil
		}
		hl = int(b[0]&0x0f) * 4
		p.IPVersion, p.Protocol = 4, b[9]
		p.Src, p.Dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
	case 6:
		if len(b) < 40 {
			return nil
		}
		hl = 40
		p.IPVersion, p.Protocol = 6, b[6]
		p.Src, p.Dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	default:
		return nil
	}
	p.IPHeaderLen = hl
	if len(b) >= hl+4 && (p.Protocol == 6 || p.Protocol == 17) {
		p.SrcPort, p.DstPort = binary.BigEndian.Uint16(b[hl:hl+2]), binary.BigEndian.Uint16(b[hl+2:hl+4])
	}
	return p
}
