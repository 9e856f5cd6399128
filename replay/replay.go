package replay

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/wfp"
)

// Options configure a replay.
type Options struct {
	// Host is the machine the capture was taken on. Nil: a host is built from Locals,
	// or, when Locals is empty too, from an inference over the captures (see Infer).
	Host *engine.Host
	// Locals are this host's addresses (wfpsim replay --local).
	Locals []netip.Addr
	// Trace records each step's arbitration trace (wfpsim replay -v).
	Trace bool
	// FilterName maps a filter id to the name to print; nil prints the engine's name.
	FilterName func(wfp.FilterID) string
	// MaxFlows bounds the stack's flow table (0: the stack's default).
	MaxFlows int
}

// PacketResult is what the policy would have done to one packet.
//
// Replay reuses one PacketResult, its steps and the frame's bytes from packet to
// packet (a replay then allocates almost nothing per packet): what emit receives is
// valid until emit returns. Keep a copy with Clone.
type PacketResult struct {
	File string
	N    uint64 // 1-based packet number in its file
	Time time.Time
	// Direction is inbound, outbound, forward or loopback.
	Direction string
	// Flow is "<proto> <src>:<port> -> <dst>:<port>" as the packet travels.
	Flow    string
	Verdict string // permit or block
	// Layer is the C name of the layer that blocked, empty when permitted.
	Layer  string
	Filter string
	Reason string
	Steps  []engine.Step
	// Replies are packets the stack sent in answer (RST, ICMP unreachable).
	Replies []*engine.Result
	// Frame is the captured record.
	Frame Frame
	// Skipped: the frame was not replayed (Reason says why: undecodable, an
	// unsupported link type, not this host's traffic); Verdict is empty.
	Skipped bool
}

// Clone returns a copy of pr that stays valid after emit returns: its steps, their
// sublayer results and the frame's bytes are copied.
func (pr *PacketResult) Clone() *PacketResult {
	c := *pr
	c.Steps = slices.Clone(pr.Steps)
	for i := range c.Steps {
		c.Steps[i].Decision.Sublayers = slices.Clone(c.Steps[i].Decision.Sublayers)
	}
	c.Replies = slices.Clone(pr.Replies) // each reply is the stack's own, made for it
	c.Frame.Data = bytes.Clone(pr.Frame.Data)
	return &c
}

// Problem is a frame the replay could not use, or a file it could not finish.
type Problem struct {
	File string
	N    uint64 // 0 when about the file as a whole
	Msg  string
}

func (p Problem) String() string {
	if p.N == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return fmt.Sprintf("%s: packet %d: %s", p.File, p.N, p.Msg)
}

// Replayer replays captures through a simulated host on an engine that already holds
// the policy.
type Replayer struct {
	e     *engine.Engine
	opts  Options
	stack *engine.Stack
	dec   *decoder
	iface map[netip.Addr]uint32 // local address -> interface index
	// Inference says how the host was chosen when it was inferred.
	Inference string
	Summary   Summary
	// res and pr are reused from packet to packet.
	res engine.Result
	pr  PacketResult
	// pending is the first capture, opened by Start with its read-ahead window
	// filled, for Replay to go on with.
	pending *ahead
	// streams reassembles the captures' TCP streams for the stream layer.
	streams *tcpStreams
	// ring is the read-ahead ring of the last capture replayed, for the next one.
	ring []slot
	// sockets are the host's sockets by protocol and local address (see learn).
	sockets socketSet
	// flowNames caches the Flow text of recent packets (see flowName).
	flowNames map[flowNameKey]string
}

type flowNameKey struct {
	proto    uint8
	src, dst netip.AddrPort
}

// maxFlowNames bounds the flow text cache; it is emptied when full.
const maxFlowNames = 4096

// flowName is flowString(p), cached: every packet of a flow in one direction has
// the same text, and making it for each packet was most of the replay's garbage.
func (r *Replayer) flowName(p *engine.Packet) string {
	if p.IPVersion == 0 || p.IsFragment() {
		return flowString(p)
	}
	k := flowNameKey{p.Protocol, netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort)}
	if name, ok := r.flowNames[k]; ok {
		return name
	}
	if r.flowNames == nil || len(r.flowNames) >= maxFlowNames {
		r.flowNames = make(map[flowNameKey]string, 64)
	}
	name := flowString(p)
	r.flowNames[k] = name
	return name
}

// New returns a replayer. Start must be called with the captures before Replay (it
// infers the host when needed).
func New(e *engine.Engine, opts Options) *Replayer {
	return &Replayer{e: e, opts: opts, dec: newDecoder(), iface: map[netip.Addr]uint32{}, streams: newTCPStreams()}
}

// Start builds the simulated host: the given host, or one built from the local
// addresses, or one inferred from the captures. Ports the capture shows in use on
// the local side (a SYN-ACK sent: a listening TCP socket; datagrams sent: a bound UDP
// socket) become sockets when the host file does not list them, so that what worked
// in the capture is not refused as a closed port.
//
// The captures are read once: Start opens the first one and reads ahead (up to 2048
// frames or 4 MB), and Replay goes on from there, reading ahead of the packet it
// replays by as much, so that a socket is known before the packets that use it are
// replayed. An inferred host is inferred from the first 2048 IP packets of the
// captures (a further file's head is read twice when the first file is shorter).
func (r *Replayer) Start(files []string) error {
	if r.pending != nil {
		r.ring = r.pending.close()
		r.pending = nil
	}
	scan := newScan()
	learn := scan.add
	if r.opts.Host != nil || len(r.opts.Locals) > 0 {
		learn = scan.addSockets // the host is known: only its sockets are to learn
	}
	if len(files) > 0 {
		if a, err := openAhead(files[0], r.ring, r.streams); err == nil {
			a.fill(r.dec, learn)
			r.pending = a
			scan.partial = a.end == nil
		}
	}
	var h engine.Host
	switch {
	case r.opts.Host != nil:
		h = *r.opts.Host
		h.Sockets = append([]engine.Socket(nil), h.Sockets...)
	default:
		locals := r.opts.Locals
		if len(locals) == 0 {
			for _, f := range files[min(1, len(files)):] {
				if scan.frames >= aheadFrames {
					scan.partial = true
					break
				}
				_, whole := scan.head(f, r.dec, aheadFrames-scan.frames)
				scan.partial = scan.partial || !whole
			}
			var why string
			locals, why = scan.infer()
			if len(locals) == 0 {
				why = "no local address: " + why + "; IP packets will not be replayed (give --host FILE or --local ADDR)"
			}
			r.Inference = why
		}
		h = hostFor(locals, scan)
	}
	r.sockets = socketSet{}
	for _, s := range h.Sockets {
		r.sockets[sockKey{s.Protocol, s.Local}] = true
	}
	h.Sockets = append(h.Sockets, scan.sockets(&h, r.sockets)...)
	for _, i := range h.Interfaces {
		for _, p := range i.Addrs {
			r.iface[p.Addr()] = i.Index
		}
	}
	st, err := r.e.NewStack(h, engine.StackOptions{Trace: r.opts.Trace, AdoptMidstream: true, MaxFlows: r.opts.MaxFlows})
	if err != nil {
		if r.pending != nil {
			r.ring = r.pending.close()
			r.pending = nil
		}
		return fmt.Errorf("replay: %w", err)
	}
	r.stack = st
	r.Summary = newSummary()
	return nil
}

// learn adds the sockets a packet read ahead shows in use on the host: a SYN-ACK
// it sent (a listening TCP socket) or a datagram it sent (a bound UDP socket),
// unless the host has one for that port at that address or at the unspecified one.
func (r *Replayer) learn(p *engine.Packet) {
	if p.IsFragment() {
		return
	}
	switch {
	case p.Protocol == 6 && p.TCPFlags&(engine.TCPSyn|engine.TCPAck) == engine.TCPSyn|engine.TCPAck:
	case p.Protocol == 17:
	default:
		return
	}
	ap := netip.AddrPortFrom(p.Src, p.SrcPort)
	if r.sockets.has(p.Protocol, ap) || !r.stack.Host().IsLocal(p.Src) {
		return
	}
	r.sockets[sockKey{p.Protocol, ap}] = true
	_ = r.stack.AddSocket(engine.Socket{Protocol: p.Protocol, Local: ap, Listen: p.Protocol == 6})
}

// Stack is the simulated host's stack (after Start).
func (r *Replayer) Stack() *engine.Stack { return r.stack }

// Replay replays one capture, calling emit for every packet the host sent or
// received. Frames that cannot be replayed are reported to problem and skipped; a
// file that ends early is reported too, and Replay returns nil so that the next file
// is replayed. Only an error from emit stops it.
func (r *Replayer) Replay(file string, emit func(*PacketResult) error, problem func(Problem)) error {
	a := r.pending
	r.pending = nil
	if a == nil || a.file != file {
		if a != nil {
			r.ring = a.close()
		}
		var err error
		if a, err = openAhead(file, r.ring, r.streams); err != nil {
			problem(Problem{File: file, Msg: strings.TrimPrefix(strings.TrimPrefix(err.Error(), "replay: "), file+": ")})
			r.Summary.Incomplete = true
			return nil
		}
	}
	defer func() { r.ring = a.close() }()
	unsupported := map[uint16]int{}
	for {
		a.fill(r.dec, r.learn)
		sl := a.pop()
		if sl == nil {
			break
		}
		f := sl.f
		r.Summary.Frames++
		skip := func(why string) error {
			r.pr = PacketResult{File: file, N: f.N, Time: f.Time, Frame: f, Skipped: true, Reason: why}
			return emit(&r.pr)
		}
		if sl.unsupported {
			msg := fmt.Sprintf("unsupported link type %s: its packets are skipped (supported: ETHERNET, NULL/LOOP, RAW, IPV4, IPV6, LINUX_SLL)", LinkTypeName(f.LinkType))
			if unsupported[f.LinkType] == 0 {
				problem(Problem{File: file, N: f.N, Msg: msg})
			}
			unsupported[f.LinkType]++
			r.Summary.Skipped++
			if err := skip("not replayed: " + msg); err != nil {
				return err
			}
			continue
		}
		if err := sl.err; err != nil {
			problem(Problem{File: file, N: f.N, Msg: "not replayed: " + err.Error()})
			r.Summary.Skipped++
			if err := skip("not replayed: " + err.Error()); err != nil {
				return err
			}
			continue
		}
		p := &sl.pkt
		dir := r.direction(p)
		if dir == "" {
			r.Summary.NotThisHost++
			if err := skip("not replayed: neither to nor from this host, which does not forward"); err != nil {
				return err
			}
			continue
		}
		r.one(p, dir)
		if p.StreamSet && len(p.Stream) == 0 && len(p.Payload) > 0 {
			r.Summary.StreamNothingNew++
		}
		r.result(file, f, p, dir, &r.res)
		r.Summary.add(&r.pr, &r.res)
		if err := emit(&r.pr); err != nil {
			return err
		}
	}
	src := a.src
	cutShort := false
	if err := a.readError(); err != nil {
		problem(Problem{File: file, Msg: strings.TrimPrefix(err.Error(), "replay: "+file+": ")})
		r.Summary.Incomplete = true
		cutShort = true
	}
	if src.n == 0 && !cutShort {
		problem(Problem{File: file, Msg: "the capture holds no packets"})
	}
	for lt, n := range unsupported {
		if n > 1 {
			problem(Problem{File: file, Msg: fmt.Sprintf("%d packets of link type %s skipped", n, LinkTypeName(lt))})
		}
	}
	for _, w := range src.Warnings {
		problem(Problem{File: file, Msg: strings.TrimPrefix(w, file+": ")})
	}
	return nil
}

// direction says how a packet travels as seen from the host: loopback, outbound,
// inbound (also a frame that is not IP) or forward; empty when it is neither to nor
// from the host and the host does not forward.
func (r *Replayer) direction(p *engine.Packet) string {
	if p.IPVersion == 0 {
		return "inbound"
	}
	h := r.stack.Host()
	src, dst := h.IsLocal(p.Src), h.IsLocal(p.Dst)
	switch {
	case src && dst:
		return "loopback"
	case src:
		return "outbound"
	case dst || isMulticastOrBroadcast(p.Dst):
		return "inbound"
	case h.Forwarding:
		return "forward"
	}
	return ""
}

// one walks a packet through the stack from the host's side into r.res: sent when
// the host sent it, received otherwise (a frame that is not IP meets the MAC layers
// of the interface that saw it).
func (r *Replayer) one(p *engine.Packet, dir string) {
	if dir == "outbound" || dir == "loopback" {
		r.stack.SendInto(p, &r.res)
		return
	}
	r.stack.ReceiveInto(r.arrival(p), p, &r.res)
}

// arrival picks the interface a received packet came in on: the one holding its
// destination, else the first Ethernet-like interface.
func (r *Replayer) arrival(p *engine.Packet) uint32 {
	if i, ok := r.iface[p.Dst]; ok {
		return i
	}
	h := r.stack.Host()
	for _, i := range h.Interfaces {
		if i.Type != engine.IfTypeSoftwareLoopback {
			return i.Index
		}
	}
	return h.Interfaces[0].Index
}

// result fills r.pr from the stack's result.
func (r *Replayer) result(file string, f Frame, p *engine.Packet, dir string, res *engine.Result) {
	r.pr = PacketResult{File: file, N: f.N, Time: p.Time, Direction: dir, Flow: r.flowName(p), Verdict: "permit", Reason: res.Reason, Steps: res.Steps, Replies: res.Replies, Frame: f}
	pr := &r.pr
	if res.Dropped() {
		pr.Verdict = "block"
		if res.DroppedAt != nil {
			pr.Layer = res.DroppedAt.Name
		}
		pr.Filter = r.filterName(res.FilterID, res.FilterName)
	}
	if res.Pending {
		pr.Reason = res.Reason
	}
}

func (r *Replayer) filterName(id wfp.FilterID, name string) string {
	if r.opts.FilterName != nil && id != 0 {
		if n := r.opts.FilterName(id); n != "" {
			return n
		}
	}
	return name
}

var protoNames = [256]string{1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}

// flowString is "<proto> <src>:<port> -> <dst>:<port>", built without fmt: it is made
// for every packet.
func flowString(p *engine.Packet) string {
	if p.IPVersion == 0 {
		return fmt.Sprintf("ethertype-0x%04x", p.EtherType)
	}
	b := make([]byte, 0, 64)
	if name := protoNames[p.Protocol]; name != "" {
		b = append(b, name...)
	} else {
		b = append(append(b, "ip-"...), strconv.Itoa(int(p.Protocol))...)
	}
	b = append(b, ' ')
	ports := (p.Protocol == 6 || p.Protocol == 17) && !p.IsFragment()
	if ports {
		b = netip.AddrPortFrom(p.Src, p.SrcPort).AppendTo(b)
		b = append(b, " -> "...)
		b = netip.AddrPortFrom(p.Dst, p.DstPort).AppendTo(b)
	} else {
		b = p.Src.AppendTo(b)
		b = append(b, " -> "...)
		b = p.Dst.AppendTo(b)
	}
	if p.IsFragment() {
		// A fragment's ports are in the datagram's first fragment only: none shown.
		b = fmt.Appendf(b, " fragment id 0x%x offset %d", p.FragID, p.FragOffset)
	}
	return string(b)
}

func isMulticastOrBroadcast(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// Summary counts a replay's outcome.
type Summary struct {
	Frames, Skipped, NotThisHost int
	// StreamNothingNew counts the TCP segments with data whose bytes the reassembly
	// did not hand the stream (retransmissions, data ahead of a gap).
	StreamNothingNew int
	Packets          map[string]int // by verdict
	ByLayer          map[string]int // blocked packets by deciding layer
	ByFilter         map[string]int // blocked packets by deciding filter
	// flows holds the verdict of each flow that may still see packets; ended flows
	// are folded into ended, so memory follows the live flows, not the capture.
	flows   map[*engine.Flow]string
	ended   map[string]int
	pruneAt int
	// Incomplete is set when a file could not be read to its end.
	Incomplete bool
}

func newSummary() Summary {
	return Summary{Packets: map[string]int{}, ByLayer: map[string]int{}, ByFilter: map[string]int{}, flows: map[*engine.Flow]string{}, ended: map[string]int{}, pruneAt: 4096}
}

func (s *Summary) add(pr *PacketResult, res *engine.Result) {
	s.Packets[pr.Verdict]++
	if pr.Verdict == "block" {
		s.ByLayer[pr.Layer]++
		if pr.Filter != "" {
			s.ByFilter[pr.Filter]++
		}
	}
	if f := res.Flow; f != nil {
		if s.flows[f] != "block" {
			s.flows[f] = pr.Verdict
		}
		if len(s.flows) >= s.pruneAt {
			s.prune()
		}
	}
}

// prune folds the flows that ended into the counts; it runs when the table has
// doubled since the last prune, so its cost per packet is constant.
func (s *Summary) prune() {
	for f, v := range s.flows {
		if f.State == engine.FlowClosed {
			s.ended[v]++
			delete(s.flows, f)
		}
	}
	s.pruneAt = max(2*len(s.flows), 4096)
}

// FlowsByVerdict counts flows: a flow with any blocked packet counts as blocked.
func (s *Summary) FlowsByVerdict() map[string]int {
	out := map[string]int{}
	for v, n := range s.ended {
		out[v] += n
	}
	for _, v := range s.flows {
		out[v]++
	}
	return out
}

// sortedKeys returns a map's keys by descending count, then name.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
