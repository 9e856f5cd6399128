package engine

import (
	"fmt"
	"net/netip"

	"github.com/wfpsim/wfpsim/wfp"
)

// Host is the machine a stack simulates: its interfaces and addresses, processes and
// their users, and sockets. It is plain data that a test or a host file builds.
type Host struct {
	Name       string
	Interfaces []Interface
	Processes  []Process
	Sockets    []Socket
	// Forwarding: IP forwarding is on, so packets for other hosts are routed through
	// the IPFORWARD layers (rule C15) instead of dropped.
	Forwarding bool
	// Drives maps DOS drive letters to NT device paths for app ids; nil is
	// wfp.DefaultDrives().
	Drives map[string]string
}

// Interface types (IF_TYPE_* of ipifcons.h) used by the FWPM_CONDITION_INTERFACE_TYPE field.
const (
	IfTypeEthernet         uint32 = 6
	IfTypeSoftwareLoopback uint32 = 24
	IfTypeTunnel           uint32 = 131
	IfTypeWiFi             uint32 = 71
)

// Interface is one network interface.
type Interface struct {
	Index uint32 // IF_INDEX
	LUID  uint64 // NET_LUID: the IP_LOCAL_INTERFACE value
	Name  string
	MAC   [6]byte
	// Addrs are the interface's addresses with their prefix (the on-link subnet).
	Addrs []netip.Prefix
	Type  uint32 // IF_TYPE_*
	// Ethernet: frames on this interface pass the MAC layers; loopback and tunnel
	// interfaces carry bare IP packets.
	Ethernet bool
}

// Process is a program owning sockets.
type Process struct {
	PID uint64
	// Image is the program's path, "C:\Program Files\App\app.exe" or an NT device path;
	// ALE_APP_ID is its lower-case NT device path (FwpmGetAppIdFromFileName0).
	Image  string
	User   wfp.SID
	Groups []wfp.SID
}

// Socket is a bound socket; Listen marks a TCP listener.
type Socket struct {
	Protocol uint8          // 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...
	Local    netip.AddrPort // an unspecified address is a wildcard bind
	PID      uint64
	Listen   bool
}

// LoopbackInterface is the interface Windows calls "Loopback Pseudo-Interface 1".
var LoopbackInterface = Interface{
	Index: 1, LUID: 0x0018000000000000, Name: "Loopback Pseudo-Interface 1",
	Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")},
	Type:  IfTypeSoftwareLoopback,
}

// validate checks a host: unique interface indexes and PIDs, sockets owned by a
// process, addresses present.
func (h *Host) validate() error {
	seen := map[uint32]bool{}
	for _, i := range h.Interfaces {
		if seen[i.Index] {
			return fmt.Errorf("engine: host %q: two interfaces with index %d", h.Name, i.Index)
		}
		seen[i.Index] = true
	}
	pids := map[uint64]bool{}
	for _, p := range h.Processes {
		if pids[p.PID] {
			return fmt.Errorf("engine: host %q: two processes with PID %d", h.Name, p.PID)
		}
		pids[p.PID] = true
		if p.User != nil && !p.User.Valid() {
			return fmt.Errorf("engine: host %q: process %d: malformed user SID", h.Name, p.PID)
		}
	}
	for _, s := range h.Sockets {
		if s.PID != 0 && !pids[s.PID] {
			return fmt.Errorf("engine: host %q: socket %d/%s belongs to PID %d, which is not a process of the host", h.Name, s.Protocol, s.Local, s.PID)
		}
	}
	return nil
}

// interfaceOf returns the interface holding address a, if it is local.
func (h *Host) interfaceOf(a netip.Addr) (*Interface, bool) {
	a = a.Unmap()
	for i := range h.Interfaces {
		for _, p := range h.Interfaces[i].Addrs {
			if p.Addr() == a {
				return &h.Interfaces[i], true
			}
		}
	}
	if a.IsLoopback() {
		return h.loopback(), true
	}
	return nil, false
}

// IsLocal reports whether a is one of the host's addresses (loopback included).
func (h *Host) IsLocal(a netip.Addr) bool {
	_, ok := h.interfaceOf(a)
	return ok
}

func (h *Host) loopback() *Interface {
	for i := range h.Interfaces {
		if h.Interfaces[i].Type == IfTypeSoftwareLoopback {
			return &h.Interfaces[i]
		}
	}
	return &LoopbackInterface
}

// route returns the interface a packet to dst leaves by: loopback for local
// addresses, the interface whose subnet holds dst, else the first interface of the
// address family that is not loopback (the default route).
func (h *Host) route(dst netip.Addr) *Interface {
	dst = dst.Unmap()
	if h.IsLocal(dst) {
		return h.loopback()
	}
	for i := range h.Interfaces {
		for _, p := range h.Interfaces[i].Addrs {
			if p.Contains(dst) && h.Interfaces[i].Type != IfTypeSoftwareLoopback {
				return &h.Interfaces[i]
			}
		}
	}
	for i := range h.Interfaces {
		if h.Interfaces[i].Type == IfTypeSoftwareLoopback {
			continue
		}
		for _, p := range h.Interfaces[i].Addrs {
			if p.Addr().Is4() == dst.Is4() {
				return &h.Interfaces[i]
			}
		}
	}
	for i := range h.Interfaces {
		if h.Interfaces[i].Type != IfTypeSoftwareLoopback {
			return &h.Interfaces[i]
		}
	}
	return h.loopback()
}

// routeFrom returns the interface a packet from src to dst leaves by. Windows sends
// in the strong host model: a packet leaves by the interface that owns its source
// address (loopback for local destinations); else route(dst) picks.
func (h *Host) routeFrom(src, dst netip.Addr) *Interface {
	if h.IsLocal(dst) {
		return h.loopback()
	}
	if i, ok := h.interfaceOf(src); ok && i.Type != IfTypeSoftwareLoopback {
		return i
	}
	return h.route(dst)
}

// iface returns the interface with that index.
func (h *Host) iface(index uint32) (*Interface, bool) {
	for i := range h.Interfaces {
		if h.Interfaces[i].Index == index {
			return &h.Interfaces[i], true
		}
	}
	if index == LoopbackInterface.Index {
		return h.loopback(), true
	}
	return nil, false
}

func (h *Host) process(pid uint64) *Process {
	for i := range h.Processes {
		if h.Processes[i].PID == pid {
			return &h.Processes[i]
		}
	}
	return nil
}

// socketFor finds the socket that receives traffic to local: an exact bind first,
// then a wildcard bind of the same family. The sockets are looked up by protocol
// and port in an index the stack keeps up to date as sockets are added (a replay
// may learn thousands), so a new flow does not scan every socket.
func (s *Stack) socketFor(proto uint8, local netip.AddrPort, listening bool) (*Socket, bool) {
	h := &s.host
	if len(h.Sockets) < s.sockIndexed {
		s.sockIdx, s.sockIndexed = nil, 0 // the list was replaced: index it again
	}
	if s.sockIdx == nil {
		s.sockIdx = map[sockPort][]int{}
	}
	for ; s.sockIndexed < len(h.Sockets); s.sockIndexed++ {
		so := &h.Sockets[s.sockIndexed]
		k := sockPort{so.Protocol, so.Local.Port()}
		s.sockIdx[k] = append(s.sockIdx[k], s.sockIndexed)
	}
	var wildcard *Socket
	for _, i := range s.sockIdx[sockPort{proto, local.Port()}] {
		so := &h.Sockets[i]
		if listening && !so.Listen {
			continue
		}
		if so.Local.Addr().Unmap() == local.Addr().Unmap() {
			return so, true
		}
		if sa := so.Local.Addr(); sa.IsUnspecified() && (sa.Is4() == local.Addr().Unmap().Is4() || sa.Is6()) {
			wildcard = so // a wildcard bind; "::" is dual-stack and takes IPv4 too
		}
	}
	return wildcard, wildcard != nil
}

// sockPort is the key of the stack's socket index.
type sockPort struct {
	proto uint8
	port  uint16
}
