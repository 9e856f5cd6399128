package replay

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/wfpsim/wfpsim/engine"
)

// scan is what the head of the captures says about the host that took them. It sees
// at most aheadFrames packets (Start's window and the heads of further files), which
// bounds its tables.
type scan struct {
	syns      map[netip.Addr]int // TCP SYNs (without ACK) sent, by source
	synTotal  int
	sources   map[netip.Addr]int      // packets sent, by source
	macOf     map[netip.Addr][6]byte  // the source MAC address of an IP source
	tcpListen map[netip.AddrPort]bool // sent a SYN-ACK: a listening socket
	udpBound  map[netip.AddrPort]bool // sent a datagram: a bound socket
	// initiators counts, per address, the conversations whose first packet it sent.
	initiators map[netip.Addr]int
	seenConv   map[convKey]bool
	macAddrs   map[[6]byte]map[netip.Addr]bool // the IP sources behind a MAC address
	// frames counts the IP packets scanned; partial is set when the scan did not
	// reach the end of the captures (Start reads a bounded head of them).
	frames  int
	partial bool
}

// convKey is an unordered conversation: protocol and both endpoints.
type convKey struct {
	proto uint8
	a, b  netip.AddrPort
}

func convOf(p *engine.Packet) convKey {
	a, b := netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort)
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return convKey{p.Protocol, a, b}
}

func newScan() *scan {
	return &scan{syns: map[netip.Addr]int{}, sources: map[netip.Addr]int{}, macOf: map[netip.Addr][6]byte{},
		tcpListen: map[netip.AddrPort]bool{}, udpBound: map[netip.AddrPort]bool{},
		initiators: map[netip.Addr]int{}, seenConv: map[convKey]bool{}, macAddrs: map[[6]byte]map[netip.Addr]bool{}}
}

// head scans up to max frames from the start of a capture that the replay will
// read again later (only for the inference, and only the files after the first,
// whose start Start keeps in its read-ahead window). It returns the frames read and
// whether that was the whole file. Unreadable files are reported by the replay.
func (s *scan) head(file string, d *decoder, max int) (int, bool) {
	src, err := Open(file)
	if err != nil {
		return 0, true
	}
	defer src.Close()
	src.readInPlace() // the scan keeps addresses and ports, never the bytes
	n := 0
	for ; n < max; n++ {
		f, err := src.Next()
		if err != nil {
			return n, true
		}
		if !Supported(f.LinkType) {
			continue
		}
		if p, err := d.decode(f); err == nil {
			s.add(p)
		}
	}
	_, err = src.Next()
	return n, err != nil
}

// add learns from one packet what the inference needs and the sockets it shows in
// use; packets that are not IP teach nothing.
func (s *scan) add(p *engine.Packet) {
	if p.IPVersion == 0 {
		return
	}
	s.frames++
	s.sources[p.Src]++
	if p.Ethernet {
		if _, ok := s.macOf[p.Src]; !ok {
			s.macOf[p.Src] = p.MACSrc
		}
		if s.macAddrs[p.MACSrc] == nil {
			s.macAddrs[p.MACSrc] = map[netip.Addr]bool{}
		}
		if len(s.macAddrs[p.MACSrc]) <= maxHostAddrs {
			s.macAddrs[p.MACSrc][p.Src] = true
		}
	}
	if c := convOf(p); !s.seenConv[c] {
		s.seenConv[c] = true
		if !p.Src.IsUnspecified() {
			s.initiators[p.Src]++
		}
	}
	if p.Protocol == 6 && p.TCPFlags&(engine.TCPSyn|engine.TCPAck) == engine.TCPSyn {
		s.syns[p.Src]++
		s.synTotal++
	}
	s.addSockets(p)
}

// addSockets learns only the sockets a packet shows in use (the host is known).
func (s *scan) addSockets(p *engine.Packet) {
	switch {
	case p.IPVersion == 0:
	case p.Protocol == 6 && p.TCPFlags&(engine.TCPSyn|engine.TCPAck) == engine.TCPSyn|engine.TCPAck:
		s.tcpListen[netip.AddrPortFrom(p.Src, p.SrcPort)] = true
	case p.Protocol == 17 && !p.IsFragment():
		s.udpBound[netip.AddrPortFrom(p.Src, p.SrcPort)] = true
	}
}

// maxHostAddrs: a MAC address behind more IP sources than this is a router's, and
// does not say which addresses belong to one host.
const maxHostAddrs = 4

// infer picks the capturing host: the source of the most TCP SYNs (it opened the
// connections), else the address that started the most conversations (sent their
// first packet); then the other addresses sent from the same MAC address (its IPv4
// and IPv6 addresses), unless that MAC is a router's. It says why.
func (s *scan) infer() ([]netip.Addr, string) {
	best, n, total, what := pick(s.syns), 0, s.synTotal, "TCP SYNs"
	if best.IsValid() {
		n = s.syns[best]
	} else {
		best = pick(s.initiators)
		if !best.IsValid() {
			return nil, "no IP packet in the captures"
		}
		n, what, total = s.initiators[best], "conversations' first packets", 0
		for _, c := range s.initiators {
			total += c
		}
	}
	locals := []netip.Addr{best}
	if mac, ok := s.macOf[best]; ok && len(s.macAddrs[mac]) <= maxHostAddrs {
		for a := range s.macAddrs[mac] {
			if a != best && !a.IsUnspecified() {
				locals = append(locals, a)
			}
		}
	}
	sort.Slice(locals[1:], func(i, j int) bool { return locals[1+i].Less(locals[1+j]) })
	names := make([]string, len(locals))
	for i, a := range locals {
		names[i] = a.String()
	}
	why := fmt.Sprintf("treating %s as local: it sent %d of the %d %s", strings.Join(names, ", "), n, total, what)
	if s.partial {
		why += fmt.Sprintf(" among the first %d IP packets", s.frames)
	}
	if len(locals) > 1 {
		why += " (the other addresses share its MAC address)"
	}
	return locals, why
}

func pick(m map[netip.Addr]int) netip.Addr {
	var best netip.Addr
	for a, c := range m {
		if a.IsUnspecified() {
			continue
		}
		if !best.IsValid() || c > m[best] || (c == m[best] && a.Less(best)) {
			best = a
		}
	}
	return best
}

// hostFor builds a host owning the local addresses on one Ethernet interface (index
// 2) besides the loopback interface (index 1).
func hostFor(locals []netip.Addr, s *scan) engine.Host {
	iface := engine.Interface{Index: 2, Name: "capture", Type: engine.IfTypeEthernet, Ethernet: true,
		LUID: uint64(engine.IfTypeEthernet)<<48 | 2}
	for _, a := range locals {
		iface.Addrs = append(iface.Addrs, netip.PrefixFrom(a, a.BitLen()))
		if mac, ok := s.macOf[a]; ok {
			iface.MAC = mac
		}
	}
	return engine.Host{Name: "inferred from the capture", Interfaces: []engine.Interface{engine.LoopbackInterface, iface}}
}

// sockets returns the sockets the capture shows in use on the host that it does not
// have (known): TCP ports that answered a SYN (listening) and UDP ports that sent.
// They are added to known.
func (s *scan) sockets(h *engine.Host, known socketSet) []engine.Socket {
	var out []engine.Socket
	add := func(m map[netip.AddrPort]bool, proto uint8, listen bool) {
		keys := make([]netip.AddrPort, 0, len(m))
		for ap := range m {
			keys = append(keys, ap)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].Compare(keys[j]) < 0 })
		for _, ap := range keys {
			if h.IsLocal(ap.Addr()) && !known.has(proto, ap) {
				known[sockKey{proto, ap}] = true
				out = append(out, engine.Socket{Protocol: proto, Local: ap, Listen: listen})
			}
		}
	}
	add(s.tcpListen, 6, true)
	add(s.udpBound, 17, false)
	return out
}

type sockKey struct {
	proto uint8
	local netip.AddrPort
}

// socketSet holds the host's sockets by protocol and local address.
type socketSet map[sockKey]bool

// has reports whether the host has a socket for proto on ap's port, at ap's address
// or at the unspecified one (of either family).
func (ss socketSet) has(proto uint8, ap netip.AddrPort) bool {
	return ss[sockKey{proto, ap}] || ss[sockKey{proto, netip.AddrPortFrom(netip.IPv4Unspecified(), ap.Port())}] ||
		ss[sockKey{proto, netip.AddrPortFrom(netip.IPv6Unspecified(), ap.Port())}]
}
