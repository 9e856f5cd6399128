package engine

import (
	"fmt"
	"net/netip"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// Receive hands the stack a packet that arrived on the interface with that index.
// Packets for this host walk the receive path; packets for others are forwarded when
// the host forwards (rule C15).
//
// The stack keeps nothing of p or of the bytes it points to once the call returns:
// what it must hold (a fragment waiting for its datagram, stream data a callout held
// or deferred) it copies. The caller may reuse p and its buffers for the next packet;
// only the result's Packet field still points to p.
func (s *Stack) Receive(ifIndex uint32, p *Packet) *Result {
	res := new(Result)
	s.ReceiveInto(ifIndex, p, res)
	return res
}

// ReceiveInto is Receive writing into res, whose buffers it reuses: a packet of an
// established flow then costs no allocation with tracing off.
func (s *Stack) ReceiveInto(ifIndex uint32, p *Packet, res *Result) {
	defer s.walking(res)()
	s.begin(res, p, wfp.DirectionInbound)
	s.receive(ifIndex, p, res)
}

func (s *Stack) receive(ifIndex uint32, p *Packet, res *Result) *Result {
	iface, ok := s.host.iface(ifIndex)
	if !ok {
		res.Verdict, res.Reason = wfp.ActionBlock, fmt.Sprintf("the host has no interface with index %d", ifIndex)
		return res
	}
	if p.Ethernet {
		c := s.ctxFor(p, wfp.DirectionInbound, iface)
		if !s.classify(res, layers.InboundMACFrameEthernet, c, "frame received") {
			return res
		}
	}
	if p.IPVersion == 0 {
		res.Reason = fmt.Sprintf("not IP (ethertype 0x%04x): handed to its protocol; no IP layer sees it", p.EtherType)
		return res
	}
	if !s.host.IsLocal(p.Dst) && !s.isBroadcastOrMulticast(p.Dst) {
		if s.host.Forwarding {
			s.forward(res, iface, p)
			return res
		}
		// wfpsim: a packet for another host, with forwarding off, is seen at
		// INBOUND_IPPACKET and then dropped by IP (indicated at the discard layer).
		c := s.ctxFor(p, wfp.DirectionInbound, iface)
		if s.classify(res, layer(layers.InboundIPPacketV4, layers.InboundIPPacketV6, p), c, "packet received") {
			s.stackDrop(res, layer(layers.InboundIPPacketV4Discard, layers.InboundIPPacketV6Discard, p), c,
				callout.DiscardModuleNetwork, fmt.Sprintf("%s is not an address of this host and forwarding is off", p.Dst))
		}
		return res
	}
	s.receiveIP(res, iface, p)
	return res
}

// stackDrop records a drop by the stack itself (no socket, no route), indicated at a
// discard layer with the module's reason (rule C20). It reports whether the discard
// layer blocked, which suppresses the stack's reply (rules C7, C11).
func (s *Stack) stackDrop(res *Result, discard *layers.Layer, c *classifyCtx, module callout.DiscardModule, why string) bool {
	res.Verdict, res.Reason = wfp.ActionBlock, why
	dc := *c
	dc.discard = &callout.DiscardReason{Module: module}
	d := s.classifyOnly(res, discard, &dc, "discard: "+why)
	return d.Action == wfp.ActionBlock && d.Decided
}

// receiveIP is the receive path from the IP packet layer on.
func (s *Stack) receiveIP(res *Result, iface *Interface, p *Packet) {
	ipLayer := layer(layers.InboundIPPacketV4, layers.InboundIPPacketV6, p)
	c := s.ctxFor(p, wfp.DirectionInbound, iface)
	if p.IsFragment() {
		// Rule C16: each fragment is indicated as a packet, then as a fragment; the
		// reassembled datagram once more; transport layers see only the datagram.
		if !s.classify(res, ipLayer, c, "fragment received, as a packet") {
			return
		}
		fc := *c
		fc.flags |= flagIsFragment
		if !s.classify(res, ipLayer, &fc, "fragment received, as a fragment (IS_FRAGMENT)") {
			return
		}
		whole, ok := s.reassembleFor(res, p)
		if !ok {
			return
		}
		p = whole
		c = s.ctxFor(p, wfp.DirectionInbound, iface)
		c.flags |= flagIsReassembled
		if !s.classify(res, ipLayer, c, "reassembled datagram") {
			return
		}
	} else if !s.classify(res, ipLayer, c, "packet received") {
		return
	}
	s.receiveTransport(res, iface, p, c.flags&^(flagIsFragment|flagIsReassembled))
}

// receiveTransport is the receive path from the transport layer on.
func (s *Stack) receiveTransport(res *Result, iface *Interface, p *Packet, flags uint32) {
	transport := layer(layers.InboundTransportV4, layers.InboundTransportV6, p)
	c := s.ctxFor(p, wfp.DirectionInbound, iface)
	c.flags |= flags
	if p.IsICMPError() {
		// Rule C13: ICMP errors never reach ALE; they are seen at the ICMP error layer
		// with the quoted packet in the EMBEDDED_* fields. wfpsim indicates them at
		// INBOUND_TRANSPORT first, mirroring the documented outbound order.
		if !s.classify(res, transport, c, "ICMP error received") {
			return
		}
		s.classify(res, layer(layers.InboundICMPErrorV4, layers.InboundICMPErrorV6, p), c, "ICMP error")
		if res.Verdict == wfp.ActionPermit {
			res.Reason = "ICMP error delivered"
		}
		return
	}
	key := keyIn(p)
	bm := s.isBroadcastOrMulticast(p.Dst)
	if bm {
		// Rule C14: all inbound multicast and broadcast share one ALE flow per
		// destination; replies within 4 s of our own multicast are let through.
		key.remote = netip.AddrPort{}
	}
	f := s.lookup(key)
	if f == nil && !bm && p.Protocol != 6 {
		if until, ok := s.mcastOut[mcastKey{p.Protocol, netip.AddrPortFrom(p.Dst.Unmap(), p.DstPort)}]; ok && !s.now.After(until) {
			if s.classify(res, transport, c, "reply to our multicast") {
				res.Reason = "delivered: a reply within 4 s of an outbound multicast or broadcast needs no ALE authorization (rule C14)"
			}
			return
		}
	}
	if f == nil {
		s.receiveNewFlow(res, iface, p, c, key)
		return
	}
	c.withFlow(f)
	if f.State == FlowBlocked {
		s.earlierBlock(res, f)
		return
	}
	if !s.classify(res, transport, c, "packet received") {
		return
	}
	if !s.reauthorize(res, f, c) {
		return
	}
	s.afterALE(res, f, c, p)
}

// receiveNewFlow handles a received packet that belongs to no flow: it finds the
// socket, or drops the packet as a closed port, and authorizes the flow at
// ALE_AUTH_RECV_ACCEPT.
func (s *Stack) receiveNewFlow(res *Result, iface *Interface, p *Packet, c *classifyCtx, key flowKey) {
	local := netip.AddrPortFrom(p.Dst, p.DstPort)
	var sock *Socket
	switch {
	case p.Protocol == 6 && p.TCPFlags&(TCPSyn|TCPAck) == TCPSyn:
		var ok bool
		if sock, ok = s.socketFor(6, local, true); !ok {
			// Rule C7: a SYN to a closed port goes to INBOUND_TRANSPORT_DISCARD; the RST
			// is sent unless that layer blocks (stealth mode).
			if !s.stackDrop(res, layer(layers.InboundTransportV4Discard, layers.InboundTransportV6Discard, p), c,
				callout.DiscardModuleTransport, fmt.Sprintf("closed port: no socket listens on tcp %s", local)) {
				res.Replies = append(res.Replies, s.reply(rstFor(p), iface))
			}
			return
		}
	case p.Protocol == 6:
		// A reset never opens a flow, not even mid-stream: it is dropped with no answer.
		if !s.opts.AdoptMidstream || p.TCPFlags&TCPRst != 0 {
			if !s.stackDrop(res, layer(layers.InboundTransportV4Discard, layers.InboundTransportV6Discard, p), c,
				callout.DiscardModuleTransport, "no connection: a TCP segment with no TCB (not a SYN)") && p.TCPFlags&TCPRst == 0 {
				res.Replies = append(res.Replies, s.reply(rstFor(p), iface))
			}
			return
		}
		// A capture that starts mid-connection: the local side is the server when a
		// socket listens on the local port, else the client.
		if ls, ok := s.socketFor(6, local, true); ok {
			sock = ls
		} else {
			s.adoptOutbound(res, iface, p, c, key)
			return
		}
	case p.Protocol == 17:
		var ok bool
		if sock, ok = s.socketFor(17, local, false); !ok {
			// Rule C11: UDP with no endpoint is indicated at the IP packet discard
			// layer; the port unreachable goes out unless that layer blocks.
			if !s.stackDrop(res, layer(layers.InboundIPPacketV4Discard, layers.InboundIPPacketV6Discard, p), c,
				callout.DiscardModuleTransport, fmt.Sprintf("closed port: no socket is bound to udp %s", local)) && !s.isBroadcastOrMulticast(p.Dst) {
				res.Replies = append(res.Replies, s.reply(portUnreachableFor(p), iface))
			}
			return
		}
	default:
		// ICMP (the stack answers echo itself) and other protocols: a raw or system
		// endpoint; wfpsim uses a socket of that protocol when the host lists one.
		sock, _ = s.socketFor(p.Protocol, netip.AddrPortFrom(p.Dst, 0), false)
	}
	s.receiveFlow(res, iface, p, c, key, wfp.DirectionInbound, sock, layer(layers.ALEAuthRecvAcceptV4, layers.ALEAuthRecvAcceptV6, p), "first packet of the flow (rule D1)")
}

// adoptOutbound treats a received packet of a connection the stack never saw open
// as the reply of an outbound connection, authorized at ALE_AUTH_CONNECT.
func (s *Stack) adoptOutbound(res *Result, iface *Interface, p *Packet, c *classifyCtx, key flowKey) {
	sock, _ := s.socketFor(6, netip.AddrPortFrom(p.Dst, p.DstPort), false)
	s.receiveFlow(res, iface, p, c, key, wfp.DirectionOutbound, sock, layer(layers.ALEAuthConnectV4, layers.ALEAuthConnectV6, p),
		"adopted mid-stream: the connection opened before the capture")
}

// receiveFlow opens a flow for a received packet: the inbound transport layer, then
// the flow's authorization at ale, then the layers after ALE.
func (s *Stack) receiveFlow(res *Result, iface *Interface, p *Packet, c *classifyCtx, key flowKey, dir wfp.Direction, sock *Socket, ale *layers.Layer, note string) {
	if !s.classify(res, layer(layers.InboundTransportV4, layers.InboundTransportV6, p), c, "packet received") {
		return
	}
	f := s.newFlow(key, dir, sock, iface, c)
	c.withFlow(f)
	if !s.authorize(res, f, ale, c, note) {
		return
	}
	s.afterALE(res, f, c, p)
}

// newFlow creates a flow for a socket; it is added to the table by authorize.
func (s *Stack) newFlow(key flowKey, dir wfp.Direction, sock *Socket, iface *Interface, c *classifyCtx) *Flow {
	f := &Flow{key: key, Direction: dir, iface: iface, idle: s.idleFor(key.proto), lastSeen: s.now, FirstPacket: s.packets}
	f.loopback = iface != nil && iface.Type == IfTypeSoftwareLoopback
	if sock != nil {
		f.owner = s.ownerOf(sock.PID)
	}
	s.flowHandles(f)
	if key.proto == 6 {
		f.streamFrom = s.e.snap.Load().nextFilterID // the connection's stream begins
	}
	return f
}

// authorize classifies a flow's first packet at its ALE layer. A permit adds the
// flow; a block records it as blocked so its later packets are dropped because of
// that decision.
func (s *Stack) authorize(res *Result, f *Flow, ale *layers.Layer, c *classifyCtx, note string) bool {
	f.Layer = ale
	f.closure = f.key.proto == 6 // rule C8: one ENDPOINT_CLOSURE per AUTH_CONNECT/RECV_ACCEPT indication
	if evicted := s.flows.add(f); evicted != nil {
		s.endFlow(evicted, fmt.Sprintf("evicted: the flow table holds at most %d flows", s.opts.MaxFlows))
	}
	at := len(res.Steps)
	ok := s.classify(res, ale, c, note)
	d := &res.Steps[at].Decision // the ALE layer's, not its discard twin's
	f.FilterID, f.FilterName = d.FilterID, d.FilterName
	f.authorizedBy = s.e.snap.Load().layers[ale.Key]
	res.Flow = f
	if !ok {
		f.State = FlowBlocked
		if f.closure {
			// The connection fails now; the flow stays to report its later packets.
			f.closure = false
			s.closeEndpoint(s.flowCtx(f), "its connection was blocked at "+ale.Name)
		}
		return false
	}
	f.State = FlowAuthorized
	return true
}

// earlierBlock drops a packet of a flow ALE blocked before (counterfactual replays
// report it so, instead of deciding again).
func (s *Stack) earlierBlock(res *Result, f *Flow) {
	f.lastSeen = s.now
	res.Flow = f
	res.Verdict, res.DroppedAt = wfp.ActionBlock, f.Layer
	res.FilterID, res.FilterName = f.FilterID, f.FilterName
	res.Reason = fmt.Sprintf("dropped: its flow was blocked at %s by filter %q (packet %d)", f.Layer.Name, f.FilterName, f.FirstPacket)
}

// reauthorize reclassifies a flow at its ALE layer when that layer's policy changed
// since the flow was authorized (rule D2, C12). A block tears the flow down.
func (s *Stack) reauthorize(res *Result, f *Flow, c *classifyCtx) bool {
	current := s.e.snap.Load().layers[f.Layer.Key]
	if current == f.authorizedBy {
		return true
	}
	rc := *c
	rc.flags |= flagIsReauthorize
	rc.reauthReason = reauthReasonPolicyChange
	ok := s.classify(res, f.Layer, &rc, "reauthorization: the policy at this layer changed (rule D2)")
	f.authorizedBy = current
	if !ok {
		s.endFlow(f, "reauthorization blocked it")
		res.Reason += "; the flow is torn down (rule C12)"
		return false
	}
	return true
}

// afterALE finishes a packet of an authorized flow: FLOW_ESTABLISHED when due, the
// stream or datagram layer, and the end of the flow on FIN or RST.
func (s *Stack) afterALE(res *Result, f *Flow, c *classifyCtx, p *Packet) {
	f.lastSeen = s.now
	res.Flow = f
	inbound := c.dir == wfp.DirectionInbound
	if f.State == FlowAuthorized && s.establishes(f, p, inbound) {
		est := layer(layers.ALEFlowEstablishedV4, layers.ALEFlowEstablishedV6, p)
		if !s.classify(res, est, c, "flow established (rule D3)") {
			s.endFlow(f, "blocked at FLOW_ESTABLISHED")
			return
		}
		f.State = FlowEstablished
	}
	if p.Protocol == 6 {
		if !s.classify(res, layer(layers.StreamPacketV4, layers.StreamPacketV6, p), c, "TCP packet of the flow (wfpsim: STREAM_PACKET sits next to the transport layer)") {
			return
		}
		if !s.offerStream(res, f, c, p) {
			return
		}
		s.tcpEnd(f, p, inbound)
	} else if inbound && !s.classify(res, layer(layers.DatagramDataV4, layers.DatagramDataV6, p), c, "datagram data") {
		return
	}
	if inbound && res.Verdict == wfp.ActionPermit && res.Reason == "" {
		res.Reason = "delivered" + res.streamNote
	}
}

// offerStream offers a TCP segment's stream bytes to the stream layer (rule D5). A
// segment that hands the stream nothing new (Packet.StreamSet with no Stream: a
// retransmission, or data waiting for an earlier segment) is not indicated there,
// and its result's reason says why.
func (s *Stack) offerStream(res *Result, f *Flow, c *classifyCtx, p *Packet) bool {
	data := p.StreamBytes()
	if len(data) == 0 {
		if p.StreamSet && len(p.Payload) > 0 {
			res.streamNote = "; its data gave the stream nothing new (a retransmission, or bytes waiting for an earlier segment): not indicated at STREAM"
		}
		return true
	}
	return s.stream(res, f, c, p, data)
}

// establishes reports whether this packet completes the flow's establishment: for
// TCP the server's final ACK or the client's SYN-ACK (rules C4, C5); for other
// protocols right after authorization (rule D3).
func (s *Stack) establishes(f *Flow, p *Packet, inbound bool) bool {
	if p.Protocol != 6 {
		return true
	}
	if !inbound {
		return false
	}
	if f.Direction == wfp.DirectionOutbound {
		return p.TCPFlags&(TCPSyn|TCPAck) == TCPSyn|TCPAck || (s.opts.AdoptMidstream && p.TCPFlags&TCPSyn == 0)
	}
	return p.TCPFlags&(TCPSyn|TCPAck) == TCPAck || (s.opts.AdoptMidstream && p.TCPFlags&TCPSyn == 0 && p.TCPFlags&TCPAck != 0)
}

// tcpEnd ends a TCP flow on RST, or once both sides sent FIN and the last FIN was
// acknowledged (rule C8: no layer indicates it; the flow's contexts see FlowDelete).
func (s *Stack) tcpEnd(f *Flow, p *Packet, inbound bool) {
	if p.TCPFlags&TCPRst != 0 {
		s.endFlow(f, "RST")
		return
	}
	i := 0
	if inbound {
		i = 1
	}
	if p.TCPFlags&TCPFin != 0 {
		if f.finSeen[0] && f.finSeen[1] {
			return // a retransmitted FIN
		}
		f.finSeen[i] = true
		if f.finSeen[0] && f.finSeen[1] {
			// The TCB lives until the other side acknowledges this last FIN; ending
			// the flow now would turn that ACK into a segment with no TCB.
			f.lastFIN = int8(i)
		}
		return
	}
	if f.finSeen[0] && f.finSeen[1] && int8(i) != f.lastFIN && p.TCPFlags&TCPAck != 0 {
		s.endFlow(f, "FIN from both sides, and the last ACK")
	}
}

// Send hands the stack a packet the host sends from one of its addresses. A packet to
// one of the host's own addresses is loopback: the send path, then the receive path
// on the loopback interface, with no MAC layer (rule C17). Like Receive, the stack
// keeps nothing of p once the call returns.
func (s *Stack) Send(p *Packet) *Result {
	res := new(Result)
	s.SendInto(p, res)
	return res
}

// SendInto is Send writing into res, whose buffers it reuses.
func (s *Stack) SendInto(p *Packet, res *Result) {
	defer s.walking(res)()
	s.begin(res, p, wfp.DirectionOutbound)
	s.send(p, res)
}

func (s *Stack) send(p *Packet, res *Result) *Result {
	if p.IPVersion == 0 {
		res.Reason = "not IP: no IP layer sees it"
		return res
	}
	if !s.host.IsLocal(p.Src) {
		res.Verdict, res.Reason = wfp.ActionBlock, fmt.Sprintf("%s is not an address of this host: use Receive or forward it", p.Src)
		return res
	}
	iface := s.host.routeFrom(p.Src, p.Dst)
	s.sendIP(res, iface, p)
	if res.Verdict == wfp.ActionPermit && s.host.IsLocal(p.Dst) {
		in := *p
		in.Ethernet = false
		s.receiveIP(res, s.host.loopback(), &in)
	}
	return res
}

// sendIP is the send path.
func (s *Stack) sendIP(res *Result, iface *Interface, p *Packet) {
	c := s.ctxFor(p, wfp.DirectionOutbound, iface)
	if p.IsFragment() {
		// wfpsim: outbound fragments are buffered; the whole datagram passes the
		// transport and ALE layers, then this fragment the IP packet and MAC layers.
		whole, ok := s.reassembleFor(res, p)
		if !ok {
			return
		}
		if !s.sendTransport(res, iface, whole) {
			return
		}
		s.sendNetwork(res, iface, p, c)
		return
	}
	if !s.sendTransport(res, iface, p) {
		return
	}
	s.sendNetwork(res, iface, p, c)
}

func (s *Stack) sendNetwork(res *Result, iface *Interface, p *Packet, c *classifyCtx) {
	if !s.classify(res, layer(layers.OutboundIPPacketV4, layers.OutboundIPPacketV6, p), c, "packet sent") {
		return
	}
	if p.Ethernet && iface.Type != IfTypeSoftwareLoopback {
		s.classify(res, layers.OutboundMACFrameEthernet, c, "frame sent")
	}
	if res.Verdict == wfp.ActionPermit && res.Reason == "" {
		res.Reason = "sent" + res.streamNote
	}
}

// sendTransport is the send path down to (and including) the transport layer.
func (s *Stack) sendTransport(res *Result, iface *Interface, p *Packet) bool {
	transport := layer(layers.OutboundTransportV4, layers.OutboundTransportV6, p)
	c := s.ctxFor(p, wfp.DirectionOutbound, iface)
	if p.IsICMPError() {
		// Rule C11: an ICMP error goes out through the ICMP error layer, then the
		// transport layer.
		if !s.classify(res, layer(layers.OutboundICMPErrorV4, layers.OutboundICMPErrorV6, p), c, "ICMP error sent") {
			return false
		}
		return s.classify(res, transport, c, "ICMP error sent")
	}
	key := keyOut(p)
	f := s.lookup(key)
	if f == nil && p.Protocol != 6 && p.isEchoReply() == false {
		if g := s.lookup(flowKey{proto: key.proto, local: key.local}); g != nil {
			f = g // a reply to an inbound multicast on its shared flow
		}
	}
	if f == nil && p.Protocol == 6 && p.TCPFlags&TCPRst != 0 {
		// A reset for a connection with no flow is the stack's own answer (a closed
		// port, rule C7): it goes out through the transport layer, no ALE layer.
		return s.classify(res, transport, c, "reset for a connection with no flow (rule C7)")
	}
	if f == nil {
		var ok bool
		if f, ok = s.sendNewFlow(res, iface, p, c, key); !ok {
			return false
		}
	} else {
		c.withFlow(f)
		if f.State == FlowBlocked {
			s.earlierBlock(res, f)
			return false
		}
		if !s.reauthorize(res, f, c) {
			return false
		}
		f.lastSeen = s.now
		res.Flow = f
	}
	if p.Protocol == 6 {
		if !s.offerStream(res, f, c, p) {
			return false
		}
		if !s.classify(res, layer(layers.StreamPacketV4, layers.StreamPacketV6, p), c, "TCP packet of the flow (wfpsim: STREAM_PACKET sits next to the transport layer)") {
			return false
		}
		s.tcpEnd(f, p, false)
	} else if !s.classify(res, layer(layers.DatagramDataV4, layers.DatagramDataV6, p), c, "datagram data") {
		return false
	}
	return s.classify(res, transport, c, "packet sent")
}

// sendNewFlow opens a flow for a packet the host sends: resource assignment for an
// endpoint not yet assigned, then ALE_AUTH_CONNECT (rules C2, C9).
func (s *Stack) sendNewFlow(res *Result, iface *Interface, p *Packet, c *classifyCtx, key flowKey) (*Flow, bool) {
	local := netip.AddrPortFrom(p.Src, p.SrcPort)
	if p.Protocol == 6 && p.TCPFlags&(TCPSyn|TCPAck) != TCPSyn {
		if ls, ok := s.socketFor(6, local, true); ok && s.opts.AdoptMidstream {
			// The server side of a connection opened before the capture.
			f := s.newFlow(key, wfp.DirectionInbound, ls, iface, c)
			c.withFlow(f)
			return f, s.authorize(res, f, layer(layers.ALEAuthRecvAcceptV4, layers.ALEAuthRecvAcceptV6, p), c, "adopted mid-stream: the connection opened before the capture")
		}
		if !s.opts.AdoptMidstream {
			res.Verdict, res.Reason = wfp.ActionBlock, "no connection: a TCP segment with no TCB (not a SYN)"
			return nil, false
		}
	}
	sock, _ := s.socketFor(p.Protocol, local, false)
	if p.Protocol == 6 || p.Protocol == 17 {
		if !s.assign(res, p, c, sock) {
			return nil, false
		}
	}
	f := s.newFlow(key, wfp.DirectionOutbound, sock, iface, c)
	if ep := s.endpoints[flowKey{proto: p.Protocol, local: netip.AddrPortFrom(p.Src.Unmap(), p.SrcPort)}]; ep != nil {
		f.ep = ep
		ep.flows++
	}
	c.withFlow(f)
	note := "first packet of the flow (rule D1)"
	if p.Protocol == 6 {
		note = "connect(): no packet is attached (rule C2)"
	}
	if !s.authorize(res, f, layer(layers.ALEAuthConnectV4, layers.ALEAuthConnectV6, p), c, note) {
		return nil, false
	}
	if s.isBroadcastOrMulticast(p.Dst) {
		// Rule C14: an outbound multicast or broadcast opens a 4-second window for
		// replies from any remote.
		f.idle = 4_000_000_000
		s.mcastOut[mcastKey{p.Protocol, netip.AddrPortFrom(p.Src.Unmap(), p.SrcPort)}] = s.now.Add(f.idle)
	}
	if p.Protocol != 6 {
		if !s.classify(res, layer(layers.ALEFlowEstablishedV4, layers.ALEFlowEstablishedV6, p), c, "flow established (rule D3)") {
			s.endFlow(f, "blocked at FLOW_ESTABLISHED")
			return nil, false
		}
		f.State = FlowEstablished
	}
	return f, true
}

// assign classifies a local endpoint at ALE_RESOURCE_ASSIGNMENT the first time the
// host uses it (rule C1, C2: bind); an endpoint with no socket of the host is an
// implicit bind.
func (s *Stack) assign(res *Result, p *Packet, c *classifyCtx, sock *Socket) bool {
	k := flowKey{proto: p.Protocol, local: netip.AddrPortFrom(p.Src.Unmap(), p.SrcPort)}
	if ep, ok := s.endpoints[k]; ok {
		if ep.blocked {
			res.Verdict, res.Reason = wfp.ActionBlock, fmt.Sprintf("dropped: binding %s was blocked at %s", k.local, layer(layers.ALEResourceAssignmentV4, layers.ALEResourceAssignmentV6, p).Name)
		}
		return !ep.blocked
	}
	bc := *c
	bc.remote, bc.rport = netip.Addr{}, 0
	bc.flow = nil
	if sock == nil {
		bc.flags |= flagImplicitBind
	} else {
		bc.proc = s.host.process(sock.PID)
		bc.appID = s.appIDOf(bc.proc)
		if sock.Local.Addr().IsUnspecified() {
			bc.flags |= flagWildcardBind
		}
	}
	ep := &endpoint{key: k, sock: sock, handle: s.newHandle()}
	bc.handle = ep.handle
	ok := s.classify(res, layer(layers.ALEResourceAssignmentV4, layers.ALEResourceAssignmentV6, p), &bc, "bind: resource assignment (rule C2)")
	ep.blocked = !ok
	s.endpoints[k] = ep
	if !ok {
		s.release(ep, "the bind was blocked")
	}
	return ok
}

// Listen is the host's listen() on a TCP socket: resource assignment, then
// ALE_AUTH_LISTEN (rule C1). A block means the socket does not listen.
func (s *Stack) Listen(sock Socket) *Result {
	p := &Packet{IPVersion: ipVersion(sock.Local.Addr()), Src: sock.Local.Addr(), SrcPort: sock.Local.Port(), Protocol: 6}
	res := new(Result)
	defer s.walking(res)()
	s.begin(res, p, wfp.DirectionInbound)
	sock.Listen = true
	c := &classifyCtx{pkt: p, dir: wfp.DirectionInbound, local: sock.Local.Addr(), lport: sock.Local.Port(), proto: 6}
	if sock.Local.Addr().IsUnspecified() {
		c.flags |= flagWildcardBind
	}
	if o := s.ownerOf(sock.PID); o != nil {
		c.proc, c.appID = o.proc, o.appID
	}
	ep := &endpoint{key: flowKey{proto: 6, local: sock.Local}, sock: &sock, handle: s.newHandle()}
	s.endpoints[ep.key] = ep
	c.handle = ep.handle
	if !s.classify(res, layer(layers.ALEResourceAssignmentV4, layers.ALEResourceAssignmentV6, p), c, "bind: resource assignment (rule C1)") {
		ep.blocked = true
		s.release(ep, "the bind was blocked")
		return res
	}
	if !s.classify(res, layer(layers.ALEAuthListenV4, layers.ALEAuthListenV6, p), c, "listen() (rule C1)") {
		ep.blocked = true // it never listened: released, not closed
		s.release(ep, "listen() was blocked")
		return res
	}
	s.host.Sockets = append(s.host.Sockets, sock)
	res.Reason = fmt.Sprintf("listening on tcp %s", sock.Local)
	return res
}

// AddSocket gives the host a socket it already had open before the packets the
// stack is shown, like a host file's sockets: no bind or listen is classified. The
// replay adds the sockets a capture shows in use (a port that answered a SYN, a
// port that sent a datagram) as it reads ahead of the packets it replays.
func (s *Stack) AddSocket(sock Socket) error {
	if sock.Protocol != 6 && sock.Protocol != 17 {
		return fmt.Errorf("engine: add socket %s: protocol %d, want 6 (TCP) or 17 (UDP): %w", sock.Local, sock.Protocol, wfp.ErrInvalidParameter)
	}
	if a := sock.Local.Addr(); !a.IsUnspecified() && !s.host.IsLocal(a) {
		return fmt.Errorf("engine: add socket %s: the address is not one of the host's: %w", sock.Local, wfp.ErrInvalidParameter)
	}
	if sock.PID != 0 && s.host.process(sock.PID) == nil {
		return fmt.Errorf("engine: add socket %s: PID %d is not a process of the host: %w", sock.Local, sock.PID, wfp.ErrInvalidParameter)
	}
	s.host.Sockets = append(s.host.Sockets, sock)
	return nil
}

// forward routes a packet through the host (rule C15): the IPFORWARD layer, then
// the egress interface's MAC layer. wfpsim does not indicate forwarded packets at
// the IP packet layers (undocumented, rule C15).
func (s *Stack) forward(res *Result, in *Interface, p *Packet) {
	res.Direction = wfp.DirectionInbound
	out := s.host.route(p.Dst)
	c := s.ctxFor(p, wfp.DirectionInbound, in)
	c.outIface = out
	if !s.classify(res, layer(layers.IPForwardV4, layers.IPForwardV6, p), c, "forwarded") {
		return
	}
	if p.Ethernet && out.Ethernet {
		oc := s.ctxFor(p, wfp.DirectionOutbound, out)
		if !s.classify(res, layers.OutboundMACFrameEthernet, oc, "forwarded frame sent") {
			return
		}
	}
	res.Reason = fmt.Sprintf("forwarded from %s to %s", in.Name, out.Name)
}

// reply runs a packet the stack sends in answer through the send path.
func (s *Stack) reply(p *Packet, iface *Interface) *Result {
	res := &Result{Packet: p, Number: s.packets, Direction: wfp.DirectionOutbound, Verdict: wfp.ActionPermit}
	if p.IsICMPError() {
		s.sendTransport(res, iface, p)
	} else {
		c := s.ctxFor(p, wfp.DirectionOutbound, iface)
		if s.classify(res, layer(layers.OutboundTransportV4, layers.OutboundTransportV6, p), c, "reset sent (rule C7)") {
			s.sendNetwork(res, iface, p, c)
			return res
		}
		return res
	}
	if res.Verdict == wfp.ActionPermit {
		s.sendNetwork(res, iface, p, s.ctxFor(p, wfp.DirectionOutbound, iface))
	}
	return res
}

func rstFor(p *Packet) *Packet {
	r := &Packet{IPVersion: p.IPVersion, Src: p.Dst, Dst: p.Src, Protocol: 6, TTL: 128, SrcPort: p.DstPort, DstPort: p.SrcPort,
		TCPFlags: TCPRst | TCPAck, Ack: p.Seq + 1, IPHeaderLen: ipHeaderLen(p.Src), TransportHeaderLen: 20, Time: p.Time}
	return replyFrame(r, p)
}

// replyFrame gives a reply the Ethernet header of the frame it answers, reversed, so
// it passes the outbound MAC layer as the frame it answers passed the inbound one.
func replyFrame(r, p *Packet) *Packet {
	if p.Ethernet {
		r.WithEthernet(p.MACDst, p.MACSrc, p.VLANID)
	}
	return r
}

func portUnreachableFor(p *Packet) *Packet {
	typ, code, proto := uint8(3), uint8(3), uint8(1)
	if p.IPVersion == 6 {
		typ, code, proto = 1, 4, 58
	}
	return replyFrame(&Packet{IPVersion: p.IPVersion, Src: p.Dst, Dst: p.Src, Protocol: proto, TTL: 128, ICMPType: typ, ICMPCode: code,
		Embedded: p, IPHeaderLen: ipHeaderLen(p.Src), TransportHeaderLen: 8, Time: p.Time}, p)
}

// isBroadcastOrMulticast: multicast, the limited broadcast, or the directed broadcast
// of one of the host's IPv4 subnets.
func (s *Stack) isBroadcastOrMulticast(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	if !a.Is4() {
		return false
	}
	for _, i := range s.host.Interfaces {
		for _, p := range i.Addrs {
			if p.Addr().Is4() && p.Bits() < 31 && p.Contains(a) {
				b := a.As4()
				mask := wfp.V4Mask(p.Bits())
				if uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])|mask == 0xffffffff {
					return true
				}
			}
		}
	}
	return false
}
