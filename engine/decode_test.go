package engine_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
)

// buildIP serializes a packet the way it would appear on the wire (checksums left
// zero): the IPv4 or IPv6 header (with a fragment header for an IPv6 fragment), then
// the TCP, UDP or ICMP header and the payload. A fragment carries p.Payload as its
// bytes after the IP header. An ICMP error quotes p.Embedded (its IP header and the
// first 8 bytes after it).
func buildIP(p *engine.Packet) []byte {
	var l4 []byte
	switch {
	case p.IsFragment():
		l4 = append(l4, p.Payload...)
	case p.Protocol == 6:
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], p.SrcPort)
		binary.BigEndian.PutUint16(h[2:], p.DstPort)
		binary.BigEndian.PutUint32(h[4:], p.Seq)
		binary.BigEndian.PutUint32(h[8:], p.Ack)
		h[12] = 5 << 4
		h[13] = p.TCPFlags
		binary.BigEndian.PutUint16(h[14:], 65535)
		l4 = append(h, p.Payload...)
	case p.Protocol == 17:
		h := make([]byte, 8)
		binary.BigEndian.PutUint16(h[0:], p.SrcPort)
		binary.BigEndian.PutUint16(h[2:], p.DstPort)
		binary.BigEndian.PutUint16(h[4:], uint16(8+len(p.Payload)))
		l4 = append(h, p.Payload...)
	case p.Protocol == 1 || p.Protocol == 58:
		h := make([]byte, 8)
		h[0], h[1] = p.ICMPType, p.ICMPCode
		binary.BigEndian.PutUint16(h[4:], p.ICMPID)
		binary.BigEndian.PutUint16(h[6:], p.ICMPSeq)
		l4 = h
		if p.Embedded != nil {
			inner := buildIP(p.Embedded)
			n := p.Embedded.IPHeaderLen + 8
			if n > len(inner) {
				n = len(inner)
			}
			l4 = append(l4, inner[:n]...)
		}
		l4 = append(l4, p.Payload...)
	default:
		l4 = append(l4, p.Payload...)
	}
	if p.IPVersion == 6 {
		h := make([]byte, 40)
		h[0] = 6 << 4
		h[6], h[7] = p.Protocol, p.TTL
		s, d := p.Src.As16(), p.Dst.As16()
		copy(h[8:], s[:])
		copy(h[24:], d[:])
		if p.IsFragment() {
			h[6] = 44
			fh := make([]byte, 8)
			fh[0] = p.Protocol
			fo := uint16(p.FragOffset/8) << 3
			if p.MoreFragments {
				fo |= 1
			}
			binary.BigEndian.PutUint16(fh[2:], fo)
			binary.BigEndian.PutUint32(fh[4:], p.FragID)
			l4 = append(fh, l4...)
		}
		binary.BigEndian.PutUint16(h[4:], uint16(len(l4)))
		return append(h, l4...)
	}
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
	binary.BigEndian.PutUint16(h[4:], uint16(p.FragID))
	frag := uint16(p.FragOffset / 8)
	if p.MoreFragments {
		frag |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8], h[9] = p.TTL, p.Protocol
	s, d := p.Src.As4(), p.Dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	return append(h, l4...)
}

func TestDecodeIP(t *testing.T) {
	udp := engine.UDP("10.0.0.5:50000", "8.8.8.8:53", []byte("query"))
	tcp := engine.TCP("10.0.0.5:51000", "93.184.216.34:443", engine.TCPSyn|engine.TCPAck, []byte("hello"))
	tcp.Seq, tcp.Ack = 1000, 2000
	tcp6 := engine.TCP("[2001:db8::5]:51000", "[2001:db8::1]:80", engine.TCPAck|engine.TCPPsh, []byte("GET /"))
	echo := engine.ICMP("10.0.0.5", "8.8.8.8", 8, 0, 77, 3)
	echo6 := engine.ICMP("2001:db8::5", "2001:db8::1", 128, 0, 9, 1)
	unreach := engine.ICMP("8.8.8.8", "10.0.0.5", 3, 3, 0, 0)
	unreach.Embedded = engine.UDP("10.0.0.5:50000", "8.8.8.8:53", []byte("query"))
	frag := engine.UDP("10.0.0.9:5000", "10.0.0.5:53", []byte("0123456789abcdef"))
	frag.FragID, frag.FragOffset, frag.MoreFragments = 42, 16, true
	frag6 := engine.UDP("[2001:db8::9]:5000", "[2001:db8::5]:53", []byte("01234567"))
	frag6.FragID, frag6.FragOffset = 0x01020304, 24

	for _, tc := range []struct {
		name string
		p    *engine.Packet
	}{
		{"udp/v4", udp}, {"tcp/v4 SA with data", tcp}, {"tcp/v6", tcp6},
		{"icmp echo", echo}, {"icmpv6 echo", echo6}, {"icmp port unreachable quoting udp", unreach},
		{"ipv4 fragment", frag}, {"ipv6 fragment", frag6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := buildIP(tc.p)
			got, err := engine.DecodeIP(b)
			require.NoError(t, err)
			assert.Equal(t, tc.p.IPVersion, got.IPVersion)
			assert.Equal(t, tc.p.Src, got.Src)
			assert.Equal(t, tc.p.Dst, got.Dst)
			assert.Equal(t, tc.p.Protocol, got.Protocol)
			assert.Equal(t, tc.p.TTL, got.TTL)
			assert.Equal(t, tc.p.FragID, got.FragID)
			assert.Equal(t, tc.p.FragOffset, got.FragOffset)
			assert.Equal(t, tc.p.MoreFragments, got.MoreFragments)
			assert.Equal(t, b, got.Raw)
			if tc.p.IsFragment() {
				assert.Equal(t, tc.p.Payload, got.Payload, "a fragment's payload is its bytes after the IP header")
				return
			}
			assert.Equal(t, tc.p.SrcPort, got.SrcPort)
			assert.Equal(t, tc.p.DstPort, got.DstPort)
			assert.Equal(t, tc.p.TCPFlags, got.TCPFlags)
			assert.Equal(t, tc.p.Seq, got.Seq)
			assert.Equal(t, tc.p.Ack, got.Ack)
			assert.Equal(t, tc.p.ICMPType, got.ICMPType)
			assert.Equal(t, tc.p.ICMPCode, got.ICMPCode)
			assert.Equal(t, tc.p.ICMPID, got.ICMPID)
			assert.Equal(t, tc.p.ICMPSeq, got.ICMPSeq)
			assert.Equal(t, tc.p.IPHeaderLen, got.IPHeaderLen)
			assert.Equal(t, tc.p.TransportHeaderLen, got.TransportHeaderLen)
			if tc.p.Embedded != nil {
				require.NotNil(t, got.Embedded, "the quoted packet of an ICMP error")
				assert.Equal(t, tc.p.Embedded.Src, got.Embedded.Src)
				assert.Equal(t, tc.p.Embedded.Dst, got.Embedded.Dst)
				assert.Equal(t, tc.p.Embedded.SrcPort, got.Embedded.SrcPort)
				assert.Equal(t, tc.p.Embedded.DstPort, got.Embedded.DstPort)
				assert.Equal(t, uint8(17), got.Embedded.Protocol)
				return
			}
			assert.Equal(t, string(tc.p.Payload), string(got.Payload))
		})
	}
}

func TestDecodeIPv6ExtensionHeaders(t *testing.T) {
	p := engine.UDP("[2001:db8::9]:5000", "[2001:db8::5]:53", []byte("x"))
	b := buildIP(p)
	// Insert an 8-byte hop-by-hop header before UDP.
	hbh := []byte{17, 0, 1, 4, 0, 0, 0, 0}
	b[6] = 0
	out := append(append(append([]byte(nil), b[:40]...), hbh...), b[40:]...)
	binary.BigEndian.PutUint16(out[4:], uint16(len(out)-40))
	got, err := engine.DecodeIP(out)
	require.NoError(t, err)
	assert.Equal(t, uint8(17), got.Protocol)
	assert.Equal(t, 48, got.IPHeaderLen)
	assert.Equal(t, uint16(53), got.DstPort)
	assert.Equal(t, "x", string(got.Payload))
}

// A capture cut at its snapshot length: the length fields promise more than there
// is; DecodeIP decodes what is there.
func TestDecodeIPSnapLength(t *testing.T) {
	for _, p := range []*engine.Packet{
		engine.UDP("10.0.0.5:50000", "8.8.8.8:53", []byte("0123456789")),
		engine.UDP("[2001:db8::5]:50000", "[2001:db8::1]:53", []byte("0123456789")),
	} {
		t.Run(p.String(), func(t *testing.T) {
			b := buildIP(p)
			cut := b[:len(b)-4]
			got, err := engine.DecodeIP(cut)
			require.NoError(t, err)
			assert.Equal(t, "012345", string(got.Payload))
			assert.Len(t, got.Raw, len(cut))
		})
	}
}

func TestDecodeIPErrors(t *testing.T) {
	v4 := func(mod func(b []byte) []byte, p *engine.Packet) []byte { return mod(buildIP(p)) }
	udp := engine.UDP("10.0.0.5:50000", "8.8.8.8:53", nil)
	tcp := engine.TCP("10.0.0.5:51000", "8.8.8.8:443", engine.TCPSyn, nil)
	icmp := engine.ICMP("10.0.0.5", "8.8.8.8", 8, 0, 1, 1)
	v6 := engine.UDP("[2001:db8::5]:1", "[2001:db8::1]:2", nil)
	setLen := func(n int) func(b []byte) []byte {
		return func(b []byte) []byte { binary.BigEndian.PutUint16(b[2:], uint16(n)); return b }
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "empty packet"},
		{"version", []byte{0x50, 0, 0, 0}, "IP version 5: want 4 or 6"},
		{"short v4", []byte{0x45, 0, 0, 10}, "IPv4 header needs 20 bytes, have 4"},
		{"ihl too small", v4(func(b []byte) []byte { b[0] = 0x44; return b }, udp), "IPv4 header length 16"},
		{"ihl beyond packet", v4(func(b []byte) []byte { b[0] = 0x4f; return b[:40] }, tcp), "IPv4 header length 60"},
		{"total below header", v4(setLen(10), udp), "total length 10"},
		{"short v6", make([]byte, 39), "IP version 0"},
		{"short v6 header", append([]byte{0x60}, make([]byte, 20)...), "IPv6 header needs 40 bytes, have 21"},
		{"v6 extension truncated", v4(func(b []byte) []byte { b[6] = 0; binary.BigEndian.PutUint16(b[4:], 1); return b[:41] }, v6), "truncated IPv6 extension header"},
		{"v6 extension past payload", v4(func(b []byte) []byte { b[6], b[40], b[41] = 60, 17, 4; return b }, v6), "IPv6 extension headers run past the payload"},
		{"v6 fragment header truncated", v4(func(b []byte) []byte { b[6] = 44; binary.BigEndian.PutUint16(b[4:], 4); return b[:44] }, v6), "truncated IPv6 fragment header"},
		{"tcp truncated", v4(func(b []byte) []byte { b = b[:30]; binary.BigEndian.PutUint16(b[2:], 30); return b }, tcp), "TCP header needs 20 bytes, have 10"},
		{"tcp data offset", v4(func(b []byte) []byte { b[32] = 15 << 4; return b }, tcp), "TCP data offset 60 does not fit 20 bytes"},
		{"tcp data offset too small", v4(func(b []byte) []byte { b[32] = 4 << 4; return b }, tcp), "TCP data offset 16"},
		{"udp truncated", v4(func(b []byte) []byte { b = b[:24]; binary.BigEndian.PutUint16(b[2:], 24); return b }, udp), "UDP header needs 8 bytes, have 4"},
		{"icmp truncated", v4(func(b []byte) []byte { b = b[:25]; binary.BigEndian.PutUint16(b[2:], 25); return b }, icmp), "ICMP header needs 8 bytes, have 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := engine.DecodeIP(tc.b)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "engine: decode: ")
		})
	}
}

// FuzzDecodeIP: DecodeIP never panics, and what it decodes lies within its bytes.
func FuzzDecodeIP(f *testing.F) {
	for _, p := range []*engine.Packet{
		engine.UDP("10.0.0.5:50000", "8.8.8.8:53", []byte("q")),
		engine.TCP("[2001:db8::5]:1", "[2001:db8::1]:2", engine.TCPSyn, []byte("x")),
		engine.ICMP("10.0.0.5", "8.8.8.8", 8, 0, 1, 1),
	} {
		f.Add(buildIP(p))
	}
	un := engine.ICMP("8.8.8.8", "10.0.0.5", 3, 3, 0, 0)
	un.Embedded = engine.TCP("10.0.0.5:1", "8.8.8.8:2", engine.TCPSyn, nil)
	f.Add(buildIP(un))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := engine.DecodeIP(b)
		if err != nil {
			return
		}
		within := func(sub []byte) bool {
			if len(sub) == 0 {
				return true
			}
			// sub must alias b: its last byte is one of b's.
			last := &sub[len(sub)-1]
			for i := range b {
				if &b[i] == last {
					return true
				}
			}
			return false
		}
		if !within(p.Raw) || !within(p.Payload) {
			t.Fatalf("decoded slices outside the input")
		}
		if p.IPHeaderLen < 0 || p.IPHeaderLen > len(p.Raw) {
			t.Fatalf("IPHeaderLen %d outside %d bytes", p.IPHeaderLen, len(p.Raw))
		}
		if p.IPHeaderLen+p.TransportHeaderLen+len(p.Payload) > len(p.Raw) {
			t.Fatalf("headers %d+%d and payload %d exceed the packet's %d bytes", p.IPHeaderLen, p.TransportHeaderLen, len(p.Payload), len(p.Raw))
		}
		if p.IPVersion != 4 && p.IPVersion != 6 {
			t.Fatalf("IPVersion %d", p.IPVersion)
		}
		_ = netip.Addr(p.Src).String()
		_ = p.String()
	})
}
