package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/replay"
	"github.com/wfpsim/wfpsim/wfp"
)

// The connection form of explain:
//
//	wfpsim explain --policy FILE tcp 10.0.0.5:51000 '->' 93.184.216.34:443 [--app PATH] [--user SID] [--host FILE]
//
// walks a connection's first packet and the reply (for TCP the handshake: SYN,
// SYN-ACK, ACK) through a simulated host's stack, and prints every packet's path:
// the layers it was classified at with their verdict and deciding filter, then
// the arbitration trace of every layer where a filter decided.

const explainConnectionHelp = `
The connection form: PROTO SRC '->' DST (tcp, udp or icmp; SRC and DST are
ADDR:PORT, [V6]:PORT, or bare addresses for icmp) builds a host, walks the
connection's first packet and its reply through the host's stack (for TCP the
handshake: SYN, SYN-ACK, ACK; for UDP a datagram and its answer; for ICMP an
echo request and reply) and prints each packet's path: every layer it met,
with the verdict and the filter that decided, then the arbitration trace of
each layer where a filter decided. When SRC is one of the host's addresses the
connection is outbound; otherwise DST must be, and it is inbound (the host
listens on DST). A packet that is blocked ends the walk.

--host FILE        the host (interfaces, processes, sockets; see
                   testdata/hosts/workstation.yaml). Without it, a host with one
                   Ethernet interface holding the local address.
--app PATH         the program owning the local socket (ALE_APP_ID), e.g.
                   'C:\Program Files\Mozilla Firefox\firefox.exe'
--user SID         the user it runs as (ALE_USER_ID), e.g. S-1-5-18
--format json      [{"packet", "direction", "verdict", "filter",
                     "layers": [{"layer", "action", "hard", "filter", "note"}]}]

  wfpsim explain --policy testdata/policies/kill-switch.yaml \
      tcp 192.168.1.20:49702 '->' 93.184.216.34:443
  wfpsim explain --policy testdata/policies/app-rule.yaml --app 'C:\Program Files\Mozilla Firefox\firefox.exe' \
      tcp 192.168.1.20:49702 '->' 93.184.216.34:443 --format json
`

// connFlags are the flags of the connection form.
type connFlags struct {
	app, user, host *string
}

func connectionFlags(fs *flag.FlagSet) *connFlags {
	return &connFlags{
		app:  fs.String("app", "", "connection form: the `PATH` of the program owning the local socket"),
		user: fs.String("user", "", "connection form: the `SID` of the user the program runs as"),
		host: fs.String("host", "", "connection form: the host `FILE` (default: one Ethernet interface with the local address)"),
	}
}

// connection is a parsed PROTO SRC -> DST.
type connection struct {
	proto    string
	src, dst netip.AddrPort
}

func parseConnection(args []string) (connection, error) {
	if len(args) == 4 && (args[2] == "->" || args[2] == ">") {
		args = []string{args[0], args[1], args[3]}
	}
	if len(args) != 3 {
		return connection{}, usagef("explain: a connection is PROTO SRC '->' DST, e.g. tcp 10.0.0.5:51000 '->' 93.184.216.34:443 (got %q)", strings.Join(args, " "))
	}
	c := connection{proto: strings.ToLower(args[0])}
	switch c.proto {
	case "tcp", "udp", "icmp":
	default:
		return c, usagef("explain: protocol %q: want tcp, udp or icmp", args[0])
	}
	parse := func(s string) (netip.AddrPort, error) {
		if c.proto == "icmp" {
			if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
				return netip.AddrPortFrom(a, 0), nil
			}
		}
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return ap, usagef("explain: %q: want ADDR:PORT (or [IPv6]:PORT)", s)
		}
		return ap, nil
	}
	var err error
	if c.src, err = parse(args[1]); err != nil {
		return c, err
	}
	if c.dst, err = parse(args[2]); err != nil {
		return c, err
	}
	if c.src.Addr().Unmap().Is4() != c.dst.Addr().Unmap().Is4() {
		return c, usagef("explain: %s and %s are of different address families", c.src.Addr(), c.dst.Addr())
	}
	return c, nil
}

// explainPID is the process the connection form adds for --app and --user.
const explainPID = 4242

// connectionHost builds the host: the host file, or one Ethernet interface
// holding the source address (or, when --host is not given and the connection is
// written from the peer's side, nothing can tell: the source is taken as local).
// --app and --user add a process owning the local endpoint's socket.
func connectionHost(cf *connFlags, c connection) (*engine.Host, error) {
	var h *engine.Host
	if *cf.host != "" {
		var err error
		if h, err = replay.LoadHost(*cf.host); err != nil {
			return nil, err
		}
	} else {
		bits := 24
		if c.src.Addr().Is6() {
			bits = 64
		}
		h = &engine.Host{
			Name: "explain",
			Interfaces: []engine.Interface{{
				Index: 7, LUID: 0x0006000007000000, Name: "Ethernet", Type: engine.IfTypeEthernet, Ethernet: true,
				MAC:   [6]byte{0x00, 0x15, 0x5d, 0x00, 0x00, 0x05},
				Addrs: []netip.Prefix{netip.PrefixFrom(c.src.Addr(), bits)},
			}},
		}
	}
	if *cf.app == "" && *cf.user == "" {
		return h, nil
	}
	p := engine.Process{PID: explainPID, Image: *cf.app}
	if p.Image == "" {
		p.Image = `C:\Program Files\App\app.exe`
	}
	if *cf.user != "" {
		sid, err := wfp.ParseSID(*cf.user)
		if err != nil {
			return nil, usagef("--user %q: %v", *cf.user, err)
		}
		p.User = sid
	}
	h.Processes = append(h.Processes, p)
	local, listen := c.src, false
	if !h.IsLocal(c.src.Addr()) {
		local, listen = c.dst, c.proto == "tcp"
	}
	if c.proto != "icmp" {
		proto := uint8(6)
		if c.proto == "udp" {
			proto = 17
		}
		// An exact bind is found before a wildcard one, so this socket wins over the
		// host file's.
		h.Sockets = append([]engine.Socket{{Protocol: proto, Local: local, PID: explainPID, Listen: listen}}, h.Sockets...)
	}
	return h, nil
}

// peerMAC is the MAC address of the connection's peer (or of the gateway).
var peerMAC = [6]byte{0x00, 0x15, 0x5d, 0x00, 0x00, 0x01}

// walked is one packet of the connection and what became of it.
type walked struct {
	label string
	res   *engine.Result
}

// walkConnection sends and receives the connection's packets through the stack.
func walkConnection(st *engine.Stack, h *engine.Host, c connection) ([]walked, bool, error) {
	outbound := h.IsLocal(c.src.Addr())
	if !outbound && !h.IsLocal(c.dst.Addr()) {
		return nil, false, usagef("explain: neither %s nor %s is an address of host %q", c.src.Addr(), c.dst.Addr(), h.Name)
	}
	src, dst := c.src.String(), c.dst.String()
	type step struct {
		label string
		fwd   bool // from SRC to DST
		pkt   func(from, to string) *engine.Packet
	}
	var steps []step
	switch c.proto {
	case "tcp":
		steps = []step{
			{"SYN", true, func(f, t string) *engine.Packet { return engine.TCP(f, t, engine.TCPSyn, nil) }},
			{"SYN-ACK", false, func(f, t string) *engine.Packet { return engine.TCP(f, t, engine.TCPSyn|engine.TCPAck, nil) }},
			{"ACK", true, func(f, t string) *engine.Packet { return engine.TCP(f, t, engine.TCPAck, nil) }},
		}
	case "udp":
		steps = []step{
			{"request", true, func(f, t string) *engine.Packet { return engine.UDP(f, t, []byte("request")) }},
			{"reply", false, func(f, t string) *engine.Packet { return engine.UDP(f, t, []byte("reply")) }},
		}
	case "icmp":
		src, dst = c.src.Addr().String(), c.dst.Addr().String()
		req, rep := uint8(8), uint8(0)
		if c.src.Addr().Is6() {
			req, rep = 128, 129
		}
		steps = []step{
			{"echo request", true, func(f, t string) *engine.Packet { return engine.ICMP(f, t, req, 0, 1, 1) }},
			{"echo reply", false, func(f, t string) *engine.Packet { return engine.ICMP(f, t, rep, 0, 1, 1) }},
		}
	}
	local := c.src.Addr()
	if !outbound {
		local = c.dst.Addr()
	}
	var out []walked
	for _, s := range steps {
		from, to := src, dst
		if !s.fwd {
			from, to = dst, src
		}
		p := s.pkt(from, to)
		// The interface holding the local address; on Ethernet the packets are
		// frames, so they meet the MAC layers. The peer's MAC is made up.
		ifIndex := uint32(engine.LoopbackInterface.Index)
		for _, i := range h.Interfaces {
			for _, a := range i.Addrs {
				if a.Addr() == local.Unmap() {
					ifIndex = i.Index
					if i.Ethernet && s.fwd == outbound {
						p = p.WithEthernet(i.MAC, peerMAC, 0)
					} else if i.Ethernet {
						p = p.WithEthernet(peerMAC, i.MAC, 0)
					}
				}
			}
		}
		var res *engine.Result
		if s.fwd == outbound {
			res = st.Send(p)
		} else {
			res = st.Receive(ifIndex, p)
		}
		out = append(out, walked{label: s.label, res: res})
		if res.Dropped() || res.Pending {
			break
		}
	}
	return out, outbound, nil
}

func explainConnection(e *env, l *loaded, cf *connFlags, args []string, format string) error {
	c, err := parseConnection(args)
	if err != nil {
		return err
	}
	h, err := connectionHost(cf, c)
	if err != nil {
		return err
	}
	st, err := l.e.NewStack(*h, engine.StackOptions{Trace: true})
	if err != nil {
		return err
	}
	defer st.Close()
	path, outbound, err := walkConnection(st, h, c)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeConnectionJSON(e.stdout, path)
	}
	return writeConnectionText(e.stdout, c, h, outbound, path)
}

func actionName(d engine.Decision) string {
	if d.Action == wfp.ActionBlock {
		return "block"
	}
	return "permit"
}

func writeConnectionText(w io.Writer, c connection, h *engine.Host, outbound bool, path []walked) error {
	dir := "outbound"
	if !outbound {
		dir = "inbound"
	}
	src, dst := c.src.String(), c.dst.String()
	if c.proto == "icmp" {
		src, dst = c.src.Addr().String(), c.dst.Addr().String()
	}
	fmt.Fprintf(w, "%s %s -> %s: %s connection on host %q\n", c.proto, src, dst, dir, h.Name)
	var traces []*engine.Step
	var traceOf []int
	for i, p := range path {
		r := p.res
		verdict := "permitted"
		switch {
		case r.Pending:
			verdict = "held (fragment)"
		case r.Dropped() && r.DroppedAt != nil:
			verdict = fmt.Sprintf("BLOCKED at %s", r.DroppedAt.ShortName)
			if r.FilterName != "" {
				verdict += fmt.Sprintf(" by %q", r.FilterName)
			}
		case r.Dropped():
			verdict = "DROPPED: " + r.Reason
		}
		fmt.Fprintf(w, "\n%d. %s %s, %s: %s\n", i+1, p.label, r.Packet, r.Direction, verdict)
		for j := range r.Steps {
			s := &r.Steps[j]
			d := s.Decision
			by := "-"
			if d.Decided {
				how := "soft"
				if d.Hard {
					how = "hard"
				}
				if d.Vetoed {
					how = "veto"
				}
				by = fmt.Sprintf("%s, %q", how, d.FilterName)
			}
			note := ""
			if s.Note != "" {
				note = "  (" + s.Note + ")"
			}
			fmt.Fprintf(w, "   %-36s %-6s %s%s\n", s.Layer.ShortName, actionName(d), by, note)
			if d.Decided && s.Trace != nil {
				traces = append(traces, s)
				traceOf = append(traceOf, i+1)
			}
		}
		if len(r.Steps) == 0 && r.Reason != "" {
			fmt.Fprintf(w, "   (no layer: %s)\n", r.Reason)
		}
		for _, rp := range r.Replies {
			fmt.Fprintf(w, "   the stack answered: %s\n", rp.Packet)
		}
	}
	if len(traces) == 0 {
		fmt.Fprint(w, "\nNo filter decided at any layer: every verdict is the default permit.\n")
		return nil
	}
	for i, s := range traces {
		fmt.Fprintf(w, "\nArbitration at %s (packet %d):\n", s.Layer.ShortName, traceOf[i])
		if _, err := s.Trace.WriteTo(w); err != nil {
			return err
		}
	}
	return nil
}

type connPacketJSON struct {
	Packet    string          `json:"packet"`
	Kind      string          `json:"kind"`
	Direction string          `json:"direction"`
	Verdict   string          `json:"verdict"`
	DroppedAt string          `json:"dropped_at,omitempty"`
	Filter    string          `json:"filter,omitempty"`
	Layers    []connLayerJSON `json:"layers"`
}

type connLayerJSON struct {
	Layer  string `json:"layer"`
	Action string `json:"action"`
	Hard   bool   `json:"hard"`
	Filter string `json:"filter"`
	Note   string `json:"note,omitempty"`
}

func writeConnectionJSON(w io.Writer, path []walked) error {
	out := []connPacketJSON{}
	for _, p := range path {
		r := p.res
		pj := connPacketJSON{Packet: r.Packet.String(), Kind: p.label, Direction: r.Direction.String(),
			Verdict: "permit", Filter: r.FilterName, Layers: []connLayerJSON{}}
		if r.Dropped() {
			pj.Verdict = "block"
		}
		if r.DroppedAt != nil {
			pj.DroppedAt = r.DroppedAt.Name
		}
		for _, s := range r.Steps {
			d := s.Decision
			lj := connLayerJSON{Layer: s.Layer.Name, Action: actionName(d), Hard: d.Hard, Note: s.Note}
			if d.Decided {
				lj.Filter = d.FilterName
			}
			pj.Layers = append(pj.Layers, lj)
		}
		out = append(out, pj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// runExplainConnection is the connection form's entry from explainCommand.
func runExplainConnection(e *env, cf *connFlags, args []string, format, state, file, machineCallouts string, callouts []string) error {
	if format != "text" && format != "json" {
		return usagef("unknown format %q: want text or json", format)
	}
	if _, err := parseConnection(args); err != nil {
		return err
	}
	eng, err := loadState(e, state, file, machineCallouts)
	if err != nil {
		return err
	}
	if err := registerCallouts(eng, callouts); err != nil {
		return err
	}
	return explainConnection(e, eng, cf, args, format)
}
