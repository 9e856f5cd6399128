package engine

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// StackOptions configure a simulated host's TCP/IP stack.
type StackOptions struct {
	// Trace records an engine.Trace at every step.
	Trace bool
	// MaxFlows bounds the flow table; the least recently used flow is evicted (its
	// contexts' FlowDelete called). Zero means 65536.
	MaxFlows int
	// UDPIdle is how long a UDP, ICMP or other non-TCP flow lives without traffic
	// (60 s by default, rule C13). TCPIdle ends TCP flows that saw no FIN or RST; the
	// TCB's lifetime is not documented, wfpsim uses 2 h by default.
	UDPIdle, TCPIdle time.Duration
	// AdoptMidstream treats a TCP packet of a connection whose handshake the stack
	// never saw (a capture that starts mid-connection) as the first packet of a new
	// flow, classified at ALE as if it opened the connection. Without it such packets
	// are dropped as Windows drops segments with no TCB.
	AdoptMidstream bool
}

// Stack is a simulated Windows host's TCP/IP stack: it walks packets through the WFP
// layers of the engine in the order Windows classifies them, keeps ALE flows, and
// gives callouts flow contexts and injection. It is driven by one goroutine.
//
//	inbound (Receive):  MAC -> IPPACKET -> TRANSPORT -> ALE RECV_ACCEPT (first packet)
//	                    -> FLOW_ESTABLISHED -> STREAM_PACKET -> STREAM / DATAGRAM_DATA
//	outbound (Send):    ALE RESOURCE_ASSIGNMENT (bind) -> ALE CONNECT (first packet)
//	                    -> FLOW_ESTABLISHED (not TCP) -> STREAM / DATAGRAM_DATA
//	                    -> STREAM_PACKET -> TRANSPORT -> IPPACKET -> MAC
//	forwarded:          MAC -> IPFORWARD -> MAC
//	a block at X:       X_DISCARD (unless absorbed); the packet goes no further
type Stack struct {
	e    *Engine
	host Host
	opts StackOptions

	flows     *flowTable
	endpoints map[flowKey]*endpoint
	frags     map[fragKey]*fragBuffer
	mcastOut  map[mcastKey]time.Time
	now       time.Time
	lastScan  time.Time
	scanned   bool // lastScan is set
	packets   uint64
	injecting int
	injected  []Injected
	scratch   []*scratch
	boxes     boxCache
	owners    map[uint64]*owner
	// sockIdx indexes host.Sockets[:sockIndexed] by protocol and port (socketFor).
	sockIdx     map[sockPort][]int
	sockIndexed int
	// handles numbers endpoints (rule C8); cur is the result of the packet being
	// walked, which a flow's or endpoint's end records its steps in (nil between
	// packets).
	handles uint64
	cur     *Result
	spare   Result // the steps of a lifetime classification between packets
	ends    []lifetimeStep
	// streamWalks are the stream walks under way (innermost last) and
	// pendingInjections the stream injections waiting for their injector to return.
	streamWalks       []*streamWalk
	pendingInjections []streamInjection

	log    []string
	faults []string
}

// endpoint is a local (protocol, address, port) that went through resource assignment.
type endpoint struct {
	key     flowKey
	sock    *Socket // nil for an implicit bind
	blocked bool
	flows   int // live flows using the endpoint
	// handle is its FWPS_METADATA_FIELD_TRANSPORT_ENDPOINT_HANDLE (rule C8); released
	// is set once RESOURCE_RELEASE was indicated for it.
	handle   uint64
	released bool
}

type mcastKey struct {
	proto uint8
	local netip.AddrPort
}

// NewStack builds a host's stack on the engine. The host is copied.
func (e *Engine) NewStack(h Host, opts StackOptions) (*Stack, error) {
	if err := h.validate(); err != nil {
		return nil, err
	}
	if opts.MaxFlows == 0 {
		opts.MaxFlows = 65536
	}
	if opts.UDPIdle == 0 {
		opts.UDPIdle = 60 * time.Second
	}
	if opts.TCPIdle == 0 {
		opts.TCPIdle = 2 * time.Hour
	}
	h.Interfaces = append([]Interface(nil), h.Interfaces...)
	h.Processes = append([]Process(nil), h.Processes...)
	h.Sockets = append([]Socket(nil), h.Sockets...)
	return &Stack{e: e, host: h, opts: opts, flows: newFlowTable(opts.MaxFlows),
		endpoints: map[flowKey]*endpoint{}, frags: map[fragKey]*fragBuffer{}, mcastOut: map[mcastKey]time.Time{}}, nil
}

// Host returns the stack's host.
func (s *Stack) Host() *Host { return &s.host }

// Now is the stack's virtual clock: the time of the latest packet or Advance.
func (s *Stack) Now() time.Time { return s.now }

// Log returns the stack's notes on flows that ended, oldest first (at most the
// latest 4096).
func (s *Stack) Log() []string { return append([]string(nil), s.log...) }

// Faults returns the callout faults (panics) the stack contained.
func (s *Stack) Faults() []string { return append([]string(nil), s.faults...) }

// Flows returns the live flows, by id.
func (s *Stack) Flows() []*Flow {
	out := make([]*Flow, 0, len(s.flows.byID))
	for _, f := range s.flows.byID {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *Flow) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Step is one classification along a packet's path.
type Step struct {
	Layer    *layers.Layer
	Decision Decision
	// Trace is set when StackOptions.Trace is.
	Trace *Trace
	// Note says why the packet met this layer: "first packet of the flow",
	// "reauthorization: policy changed", "as a fragment", "discard: ...".
	Note string
}

// Result is what happened to one packet.
type Result struct {
	Packet    *Packet
	Number    uint64 // the stack's packet counter
	Direction wfp.Direction
	Steps     []Step
	// Verdict is wfp.ActionPermit (delivered, sent or forwarded) or wfp.ActionBlock.
	Verdict wfp.ActionType
	// DroppedAt is the layer whose block stopped the packet; nil when it was not
	// stopped by a layer (delivered, or dropped by the stack itself).
	DroppedAt  *layers.Layer
	FilterID   wfp.FilterID
	FilterName string
	Absorbed   bool
	// Reason explains the verdict in one line.
	Reason string
	// Flow is the packet's ALE flow, nil when it has none.
	Flow *Flow
	// Replies are packets the stack sent in answer (a TCP RST or an ICMP port
	// unreachable for a closed port), with their own path.
	Replies []*Result
	// Pending: a fragment was buffered until its datagram is complete.
	Pending bool
	// streamNote completes the reason of a segment not indicated at STREAM.
	streamNote string
}

// Dropped reports whether the packet was blocked.
func (r *Result) Dropped() bool { return r.Verdict == wfp.ActionBlock }

// begin resets res for a new packet, keeping its step buffers.
func (s *Stack) begin(res *Result, p *Packet, dir wfp.Direction) {
	s.packets++
	if p.Time.After(s.now) {
		cur := s.cur
		s.cur = nil // flows that time out end between packets
		s.Advance(p.Time)
		s.cur = cur
	}
	*res = Result{Packet: p, Number: s.packets, Direction: dir, Verdict: wfp.ActionPermit, Steps: res.Steps[:0]}
}

// Advance moves the virtual clock to t and ends flows idle for longer than their
// timeout. The table is scanned at most once per second of virtual time.
func (s *Stack) Advance(t time.Time) {
	if !t.After(s.now) {
		return
	}
	s.now = t
	if s.scanned && t.Sub(s.lastScan) < time.Second {
		return
	}
	s.scanned, s.lastScan = true, t
	for _, f := range s.Flows() {
		s.expired(f)
	}
	for k, until := range s.mcastOut {
		if t.After(until) {
			delete(s.mcastOut, k)
		}
	}
}

// expired ends f if it has been idle for longer than its timeout, and reports so.
// A flow created before the clock was first set has lastSeen zero and is as old as
// the clock says.
func (s *Stack) expired(f *Flow) bool {
	if s.now.Sub(f.lastSeen) > f.idle {
		s.endFlow(f, fmt.Sprintf("idle for more than %v", f.idle))
		return true
	}
	return false
}

// lookup finds a live flow: one idle past its timeout is ended first, even when the
// table was scanned less than a second ago.
func (s *Stack) lookup(k flowKey) *Flow {
	f := s.flows.get(k)
	if f != nil && s.expired(f) {
		return nil
	}
	return f
}

// Close ends every flow (their contexts' FlowDelete is called), then closes and
// releases every endpoint still bound (rule C8).
func (s *Stack) Close() {
	for _, f := range s.Flows() {
		s.endFlow(f, "the stack closed")
	}
	s.releaseAll("the stack closed")
}

// classify runs one layer, records the step, and on a block indicates the packet at
// the layer's discard twin (rule C20) unless a callout absorbed it (rule A11). It
// reports whether the packet may go on.
func (s *Stack) classify(res *Result, l *layers.Layer, c *classifyCtx, note string) bool {
	d := s.classifyOnly(res, l, c, note)
	if d.Action != wfp.ActionBlock {
		return true
	}
	res.Verdict, res.DroppedAt, res.FilterID, res.FilterName, res.Absorbed = wfp.ActionBlock, l, d.FilterID, d.FilterName, d.Absorb
	res.Reason = fmt.Sprintf("blocked at %s by filter %q", l.Name, d.FilterName)
	if d.Vetoed {
		res.Reason += " (a callout veto)"
	}
	if d.Absorb {
		res.Reason += ", absorbed: no discard indication, no event (rule A11)"
		return false
	}
	if l.Twin != nil && l.Twin.Discard {
		dc := *c
		dc.discard = &callout.DiscardReason{Module: callout.DiscardModuleGeneral, Reason: callout.GeneralDiscardReasonFirewallPolicy, FilterID: d.FilterID}
		s.classifyOnly(res, l.Twin, &dc, "discard: blocked by filter "+quoteName(d.FilterName))
	}
	return false
}

// classifyOnly runs one layer and records the step. The incoming values, metadata
// and layer data live in per-depth scratch buffers of the stack (a callout's
// injection classifies one level deeper while the outer classification is still
// running), so an established flow's packets cost no allocation; as on Windows, a
// callout must not keep them past its classifyFn.
func (s *Stack) classifyOnly(res *Result, l *layers.Layer, c *classifyCtx, note string) Decision {
	if c.flow != nil && l.Family != layers.FamilyNone && c.flow.loopback {
		c.flags |= flagIsLoopback
	}
	if !s.opts.Trace && s.e.snap.Load().layers[l.Key] == nil {
		// No filter at the layer: the classification permits without deciding
		// (rule A12), as engine.Classify would, without filling its values.
		n := len(res.Steps)
		var keep []SublayerResult
		if n < cap(res.Steps) {
			keep = res.Steps[:n+1][n].Decision.Sublayers[:0]
		}
		res.Steps = append(res.Steps, Step{Layer: l, Note: note, Decision: Decision{Layer: l, Action: wfp.ActionPermit, Sublayers: keep}})
		return res.Steps[n].Decision
	}
	sc := s.scratchAt(s.injecting)
	sc.meta = callout.Metadata{}
	s.fillMetadata(&sc.meta, l, c)
	sc.vals = c.valuesInto(l, sc.vals, &s.boxes)
	req := Request{Layer: l, Values: sc.vals, Meta: &sc.meta, LayerData: s.layerDataInto(l, c, &sc.pkt)}
	if c.flow != nil {
		req.Flow = c.flow
	}
	// Reuse the step slot's sublayer buffer when the result is being reused.
	n := len(res.Steps)
	var keep []SublayerResult
	if n < cap(res.Steps) {
		keep = res.Steps[:n+1][n].Decision.Sublayers[:0]
	}
	res.Steps = append(res.Steps, Step{Layer: l, Note: note, Decision: Decision{Sublayers: keep}})
	step := &res.Steps[n]
	if s.opts.Trace {
		step.Trace = &Trace{}
	}
	_ = s.e.Classify(&req, &step.Decision, step.Trace)
	if step.Decision.Fault != "" {
		s.faults = append(s.faults, step.Decision.Fault)
	}
	return step.Decision
}

// scratch holds one classification's buffers.
type scratch struct {
	vals []wfp.Value
	meta callout.Metadata
	pkt  callout.PacketData
}

func (s *Stack) scratchAt(depth int) *scratch {
	for len(s.scratch) <= depth {
		s.scratch = append(s.scratch, &scratch{})
	}
	return s.scratch[depth]
}

// metadata returns FWPS_INCOMING_METADATA_VALUES0 for a context, freshly allocated.
func (s *Stack) metadata(l *layers.Layer, c *classifyCtx) *callout.Metadata {
	m := &callout.Metadata{}
	s.fillMetadata(m, l, c)
	return m
}

// fillMetadata fills FWPS_INCOMING_METADATA_VALUES0 with what the stack knows.
func (s *Stack) fillMetadata(m *callout.Metadata, l *layers.Layer, c *classifyCtx) {
	m.Kernel, m.PacketDirection, m.Fields = s, c.dir, callout.MetaPacketDirection
	if c.pkt != nil {
		m.InjectedBy = c.pkt.InjectedBy
	}
	if c.flow != nil {
		m.FlowHandle = c.flow.ID
		m.Fields |= callout.MetaFlowHandle
	}
	if c.proc != nil {
		m.ProcessID = c.proc.PID
		m.Fields |= callout.MetaProcessID
		if c.appID != nil {
			m.ProcessPath = c.procPath()
			m.Fields |= callout.MetaProcessPath
		}
	}
	if c.pkt != nil && c.pkt.IPVersion != 0 {
		m.IPHeaderSize = uint32(c.pkt.IPHeaderLen)
		m.TransportHeaderSize = uint32(c.pkt.TransportHeaderLen)
		m.Fields |= callout.MetaIPHeaderSize | callout.MetaTransportHeaderSize
	}
	if c.iface != nil {
		if c.dir == wfp.DirectionInbound {
			m.SourceInterfaceIndex = c.iface.Index
			m.Fields |= callout.MetaSourceInterfaceIndex
		} else {
			m.DestinationInterfaceIndex = c.iface.Index
			m.Fields |= callout.MetaDestinationInterfaceIdx
		}
	}
	if c.discard != nil {
		m.DiscardReason = *c.discard
		m.Fields |= callout.MetaDiscardReason
	}
	if c.handle != 0 && endpointHandleLayers()[l] {
		m.TransportEndpointHandle = c.handle
		m.Fields |= callout.MetaTransportEndpointHandle
		if c.parent != 0 {
			m.ParentEndpointHandle = c.parent
			m.Fields |= callout.MetaParentEndpointHandle
		}
	}
}

// layerData is the packet at the offset Windows gives at the layer (data_offsets.tsv),
// or the stream data at the stream layer, freshly allocated.
func (s *Stack) layerData(l *layers.Layer, c *classifyCtx) any {
	return s.layerDataInto(l, c, &callout.PacketData{})
}

// layerDataInto is layerData writing the packet view into pd.
func (s *Stack) layerDataInto(l *layers.Layer, c *classifyCtx, pd *callout.PacketData) any {
	p := c.pkt
	if p == nil {
		return nil
	}
	name := l.ShortName
	switch {
	case strings.HasPrefix(name, "INBOUND_MAC_FRAME"), strings.HasPrefix(name, "OUTBOUND_MAC_FRAME"):
		*pd = callout.PacketData{Bytes: p.Raw}
		return pd
	case strings.HasPrefix(name, "STREAM_V"):
		if c.stream != nil {
			return c.stream
		}
		return nil
	case strings.HasPrefix(name, "INBOUND_IPPACKET"):
		*pd = callout.PacketData{Bytes: p.Raw, Offset: p.IPHeaderLen}
		return pd
	case strings.HasPrefix(name, "OUTBOUND_IPPACKET"), strings.HasPrefix(name, "IPFORWARD"):
		*pd = callout.PacketData{Bytes: p.Raw}
		return pd
	case strings.HasPrefix(name, "INBOUND_ICMP_ERROR"):
		*pd = callout.PacketData{Bytes: p.Raw, Offset: p.IPHeaderLen + 8}
		return pd
	case strings.HasPrefix(name, "OUTBOUND_ICMP_ERROR"):
		*pd = callout.PacketData{Bytes: p.Raw, Offset: p.IPHeaderLen}
		return pd
	case strings.HasPrefix(name, "ALE_RESOURCE"), strings.HasPrefix(name, "ALE_AUTH_LISTEN"):
		return nil // no packet at bind and listen (rule C19)
	case strings.HasPrefix(name, "ALE_AUTH_CONNECT") && p.Protocol == 6:
		return nil // no packet is attached to a TCP connect (rule C2)
	}
	if c.dir == wfp.DirectionInbound {
		off := p.IPHeaderLen + p.TransportHeaderLen
		if p.isICMP() {
			off = p.IPHeaderLen
		}
		*pd = callout.PacketData{Bytes: p.Raw, Offset: off}
		return pd
	}
	*pd = callout.PacketData{Bytes: p.Raw, Offset: p.IPHeaderLen}
	return pd
}

// layer picks the v4 or v6 layer of a pair.
func layer(v4, v6 *layers.Layer, p *Packet) *layers.Layer {
	if p.IPVersion == 6 {
		return v6
	}
	return v4
}

// addrLayer is the v4 or v6 layer of a local address's family.
func addrLayer(v4, v6 *layers.Layer, a netip.Addr) *layers.Layer {
	if a.Unmap().Is4() {
		return v4
	}
	return v6
}

// streamIndex is the index in Flow.stream of a direction: 0 send, 1 receive.
func streamIndex(d wfp.Direction) int {
	if d == wfp.DirectionInbound {
		return 1
	}
	return 0
}

// ctxFor builds the classification context of a packet from the host's side. It is
// small enough to inline, so that the context stays on the caller's stack.
func (s *Stack) ctxFor(p *Packet, dir wfp.Direction, iface *Interface) *classifyCtx {
	c := new(classifyCtx)
	s.initCtx(c, p, dir, iface)
	return c
}

func (s *Stack) initCtx(c *classifyCtx, p *Packet, dir wfp.Direction, iface *Interface) {
	*c = classifyCtx{pkt: p, dir: dir, connDir: dir, iface: iface, proto: p.Protocol}
	if dir == wfp.DirectionInbound {
		c.local, c.remote, c.lport, c.rport = p.Dst, p.Src, p.DstPort, p.SrcPort
	} else {
		c.local, c.remote, c.lport, c.rport = p.Src, p.Dst, p.SrcPort, p.DstPort
	}
	if p.isICMP() {
		// Rule B8: the ICMP type travels in the local-port field, the code in the
		// remote-port field.
		c.lport, c.rport = uint16(p.ICMPType), uint16(p.ICMPCode)
	}
	if iface != nil && iface.Type == IfTypeSoftwareLoopback {
		c.flags |= flagIsLoopback
	}
}

// withFlow adds the flow's process, app id and direction to a context.
func (c *classifyCtx) withFlow(f *Flow) *classifyCtx {
	c.flow, c.connDir = f, f.Direction
	c.handle, c.parent = f.handle, f.parent
	if f.owner != nil {
		c.proc, c.appID = f.owner.proc, f.owner.appID
	}
	return c
}

// ownerOf returns the process with that PID and its app id, computed once; nil when
// the host has no such process.
func (s *Stack) ownerOf(pid uint64) *owner {
	if o, ok := s.owners[pid]; ok {
		return o
	}
	p := s.host.process(pid)
	if p == nil {
		return nil
	}
	o := &owner{proc: p, appID: s.appIDOf(p)}
	o.path, _ = o.appID.UTF16()
	if s.owners == nil {
		s.owners = map[uint64]*owner{}
	}
	s.owners[pid] = o
	return o
}

// maxLog bounds Stack.Log: the oldest half is dropped when it is full.
const maxLog = 4096

// note adds a line to the stack's log.
func (s *Stack) note(line string) {
	if len(s.log) >= maxLog {
		s.log = append(s.log[:0], s.log[maxLog/2:]...)
	}
	s.log = append(s.log, line)
}

// appIDOf returns a process's ALE_APP_ID (rule: the lower-case NT device path).
func (s *Stack) appIDOf(p *Process) wfp.ByteBlob {
	if p == nil || p.Image == "" {
		return nil
	}
	id, err := wfp.AppIDFromFileName(p.Image, s.host.Drives)
	if err != nil {
		return nil
	}
	return id
}

// keyOut and keyIn give the flow key of a packet sent or received by the host.
func keyOut(p *Packet) flowKey {
	return flowKeyOf(p.Protocol, p.Src, p.Dst, p.SrcPort, p.DstPort, p)
}

func keyIn(p *Packet) flowKey {
	return flowKeyOf(p.Protocol, p.Dst, p.Src, p.DstPort, p.SrcPort, p)
}

func flowKeyOf(proto uint8, local, remote netip.Addr, lport, rport uint16, p *Packet) flowKey {
	switch {
	case proto == 6 || proto == 17:
	case p.isEchoRequest() || p.isEchoReply():
		lport, rport = p.ICMPID, 0 // rule C13: echo flows are keyed by id
	case p.isICMP():
		lport, rport = uint16(p.ICMPType), uint16(p.ICMPCode)
	default:
		lport, rport = 0, 0
	}
	return flowKey{proto: proto, local: netip.AddrPortFrom(local.Unmap(), lport), remote: netip.AddrPortFrom(remote.Unmap(), rport)}
}

func (s *Stack) idleFor(proto uint8) time.Duration {
	if proto == 6 {
		return s.opts.TCPIdle
	}
	return s.opts.UDPIdle
}

// walking makes res the result of the walk under way, and returns the function that
// restores the previous one (an injection walks inside another walk).
// The endpoint lifetime classifications a walk causes (rule C8) run at its end, after
// the packet's own layers.
func (s *Stack) walking(res *Result) func() {
	prev, queued := s.cur, len(s.ends)
	s.cur = res
	return func() {
		for i := queued; i < len(s.ends); i++ {
			e := s.ends[i]
			s.classifyOnly(res, e.layer, e.ctx, e.note)
		}
		clear(s.ends[queued:])
		s.ends = s.ends[:queued]
		s.cur = prev
	}
}
