package callout

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// ConnTracker is a per-connection tracker built on flow contexts (rule D4): what a
// driver does to keep state per connection without a table lookup per packet.
//
//	FLOW_ESTABLISHED      classifyFn: allocate a Conn, FwpsFlowAssociateContext0(
//	                        flowHandle, STREAM or DATAGRAM_DATA layer, that layer's
//	                        callout id, context)
//	STREAM / DATAGRAM     classifyFn: flowContext is the Conn: count its bytes
//	flow ends             flowDeleteFn(layer, callout, context): the Conn is done
//
// A context is associated for a layer and a callout: the classifyFn of that callout at
// that layer receives it, and its flowDeleteFn hears the end of the flow (exactly
// once, however the flow ends: FIN, RST, idle, eviction, a dropped connection, the
// stack's close). So one ConnTracker is registered as the code of several callouts:
// one at FLOW_ESTABLISHED and one per data layer, whose runtime ids (known once the
// management objects are added) are given to Deliver.
//
// All its filters should be CALLOUT_INSPECTION: it returns FWP_ACTION_CONTINUE. It is
// safe for concurrent use.
//
// See https://learn.microsoft.com/en-us/windows-hardware/drivers/network/associating-context-with-a-data-flow
type ConnTracker struct {
	mu      sync.Mutex
	targets map[wfp.LayerID]wfp.CalloutID
	next    uint64
	live    map[uint64]*Conn
	done    []Conn
	errs    []error
}

// Conn is one tracked connection.
type Conn struct {
	// Context is the flow context value (a handle into the tracker, never 0).
	Context    uint64
	FlowHandle uint64
	Protocol   uint8
	Local      netip.AddrPort
	Remote     netip.AddrPort
	// ProcessPath is the NT path of the owning process, when known.
	ProcessPath string
	// Segments counts stream indications or datagrams; BytesIn and BytesOut their
	// data bytes.
	Segments          uint64
	BytesIn, BytesOut uint64
	// DeleteLayer and DeleteCallout are what flowDeleteFn was called with.
	DeleteLayer   wfp.LayerID
	DeleteCallout wfp.CalloutID
}

// NewConnTracker returns an empty tracker.
func NewConnTracker() *ConnTracker {
	return &ConnTracker{targets: map[wfp.LayerID]wfp.CalloutID{}, live: map[uint64]*Conn{}}
}

// Deliver names the callout (by runtime id) that receives the tracker's context at a
// data layer: STREAM_V4/V6 for TCP, DATAGRAM_DATA_V4/V6 for other protocols.
func (t *ConnTracker) Deliver(layer *layers.Layer, calloutID wfp.CalloutID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.targets[layer.ID] = calloutID
}

// Classify creates the context at FLOW_ESTABLISHED and counts data at STREAM and
// DATAGRAM_DATA.
func (t *ConnTracker) Classify(in *IncomingValues, meta *Metadata, layerData any, _ *Filter, flowContext uint64, out *ClassifyOut) {
	out.Action = wfp.ActionContinue
	if in == nil {
		return
	}
	switch in.LayerID {
	case layers.ALEFlowEstablishedV4.ID, layers.ALEFlowEstablishedV6.ID:
		t.established(in, meta)
	default:
		t.count(meta, layerData, flowContext)
	}
}

func (t *ConnTracker) established(in *IncomingValues, meta *Metadata) {
	if !meta.Has(MetaFlowHandle) || meta.Kernel == nil {
		return
	}
	proto := protocolValue(in)
	v6 := in.LayerID == layers.ALEFlowEstablishedV6.ID
	target := layers.DatagramDataV4
	switch {
	case proto == 6 && v6:
		target = layers.StreamV6
	case proto == 6:
		target = layers.StreamV4
	case v6:
		target = layers.DatagramDataV6
	}
	t.mu.Lock()
	calloutID, ok := t.targets[target.ID]
	if !ok {
		t.mu.Unlock()
		return // no callout of ours at that data layer
	}
	t.next++
	c := &Conn{
		Context: t.next, FlowHandle: meta.FlowHandle, Protocol: proto,
		Local:  netip.AddrPortFrom(addrValue(in, layers.ConditionIPLocalAddress), portValue(in, layers.ConditionIPLocalPort)),
		Remote: netip.AddrPortFrom(addrValue(in, layers.ConditionIPRemoteAddress), portValue(in, layers.ConditionIPRemotePort)),
	}
	if meta.Has(MetaProcessPath) {
		c.ProcessPath = meta.ProcessPath
	}
	t.live[c.Context] = c
	t.mu.Unlock()
	// Call the kernel without holding the lock: it may call FlowDelete.
	if err := meta.Kernel.FlowAssociateContext(meta.FlowHandle, target.ID, calloutID, c.Context); err != nil {
		t.mu.Lock()
		delete(t.live, c.Context)
		t.errs = append(t.errs, fmt.Errorf("callout: conntrack: flow %d: %w", meta.FlowHandle, err))
		t.mu.Unlock()
	}
}

func (t *ConnTracker) count(meta *Metadata, layerData any, flowContext uint64) {
	if flowContext == 0 {
		return // a flow that began before we were there, or not ours
	}
	var n int
	inbound := false
	switch d := layerData.(type) {
	case *StreamPacket:
		if d == nil {
			return
		}
		n, inbound = len(d.Data), d.Flags&StreamFlagReceive != 0
	case *PacketData:
		data := d.Data()
		inbound = meta != nil && meta.PacketDirection == wfp.DirectionInbound
		n = len(data)
		if !inbound && meta != nil {
			// Outbound, DATAGRAM_DATA's offset is the transport header.
			n = max(n-int(meta.TransportHeaderSize), 0)
		}
	default:
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.live[flowContext]
	if c == nil {
		return
	}
	c.Segments++
	if inbound {
		c.BytesIn += uint64(n)
	} else {
		c.BytesOut += uint64(n)
	}
}

// Notify accepts every filter.
func (t *ConnTracker) Notify(NotifyType, wfp.FilterKey, *Filter) error { return nil }

// FlowDelete is flowDeleteFn: the connection is finished. The engine removes the
// context itself; the tracker moves the Conn to Done. A context it does not know (a
// second call for the same context would be an engine bug) is ignored.
func (t *ConnTracker) FlowDelete(layerID wfp.LayerID, calloutID wfp.CalloutID, flowContext uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.live[flowContext]
	if c == nil {
		t.errs = append(t.errs, fmt.Errorf("callout: conntrack: flowDeleteFn for unknown context %d", flowContext))
		return
	}
	delete(t.live, flowContext)
	c.DeleteLayer, c.DeleteCallout = layerID, calloutID
	t.done = append(t.done, *c)
}

// Live returns the connections still open, by context.
func (t *ConnTracker) Live() []Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Conn, 0, len(t.live))
	for i := uint64(1); i <= t.next; i++ {
		if c, ok := t.live[i]; ok {
			out = append(out, *c)
		}
	}
	return out
}

// Done returns the finished connections in the order they ended.
func (t *ConnTracker) Done() []Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Conn(nil), t.done...)
}

// Errors returns what went wrong: failed associations, unexpected flowDeleteFn calls.
func (t *ConnTracker) Errors() []error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]error(nil), t.errs...)
}

var _ Callout = (*ConnTracker)(nil)

// value returns the incoming value of condition c at the classifying layer, or nil
// when the layer has no such field or it is FWP_EMPTY. The teaching callouts read
// incoming values this way: by the layer's FWPS_FIELD_* index, as a driver does.
func value(in *IncomingValues, c *layers.Condition) wfp.Value {
	if in == nil {
		return nil
	}
	l, ok := layers.LayerByID(in.LayerID)
	if !ok {
		return nil
	}
	f, ok := l.Field(c.Key)
	if !ok || f.Index < 0 || f.Index >= len(in.Values) {
		return nil
	}
	return in.Values[f.Index]
}

func portValue(in *IncomingValues, c *layers.Condition) uint16 {
	if p, ok := value(in, c).(wfp.Uint16); ok {
		return uint16(p)
	}
	return 0
}

func protocolValue(in *IncomingValues) uint8 {
	if p, ok := value(in, layers.ConditionIPProtocol).(wfp.Uint8); ok {
		return uint8(p)
	}
	return 0
}

func addrValue(in *IncomingValues, c *layers.Condition) netip.Addr {
	switch a := value(in, c).(type) {
	case wfp.Uint32:
		return wfp.V4ToAddr(uint32(a))
	case wfp.ByteArray16:
		return netip.AddrFrom16(a).Unmap()
	}
	return netip.Addr{}
}

// layerName is the short name of the classifying layer, "" when unknown.
func layerName(id wfp.LayerID) string {
	if l, ok := layers.LayerByID(id); ok {
		return l.ShortName
	}
	return ""
}
