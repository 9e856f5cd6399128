package engine

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// flowKey identifies an ALE flow from the host's side (rule D1): TCP and UDP by
// protocol, local and remote address and port; ICMP echo by the echo id (held in
// lport); other protocols by addresses only.
type flowKey struct {
	proto  uint8
	local  netip.AddrPort
	remote netip.AddrPort
}

func (k flowKey) String() string {
	if !k.remote.IsValid() {
		// the shared flow of inbound broadcast and multicast (rule C14)
		return fmt.Sprintf("%s %s <-> any (broadcast/multicast)", protoName(k.proto), k.local)
	}
	return fmt.Sprintf("%s %s <-> %s", protoName(k.proto), k.local, k.remote)
}

func protoName(p uint8) string {
	if n, ok := protocolNames[uint64(p)]; ok {
		return n
	}
	return fmt.Sprintf("proto-%d", p)
}

// FlowState is where a flow stands.
type FlowState uint8

const (
	// FlowAuthorized: ALE permitted the first packet; TCP is still in its handshake.
	FlowAuthorized FlowState = iota + 1
	// FlowEstablished: FLOW_ESTABLISHED was indicated (rule D3).
	FlowEstablished
	// FlowBlocked: ALE blocked the first packet; later packets of the same
	// connection are dropped because of that decision.
	FlowBlocked
	// FlowClosed: the flow ended (FIN, RST, idle, eviction, reauthorization failure).
	FlowClosed
)

func (s FlowState) String() string {
	switch s {
	case FlowAuthorized:
		return "authorized"
	case FlowEstablished:
		return "established"
	case FlowBlocked:
		return "blocked"
	case FlowClosed:
		return "closed"
	}
	return "unknown"
}

// Flow is one ALE flow.
type Flow struct {
	ID        uint64
	key       flowKey
	Direction wfp.Direction // of the flow's first packet (rule D1)
	State     FlowState
	// Layer is the ALE layer that authorized (or blocked) the flow: AUTH_CONNECT
	// outbound, AUTH_RECV_ACCEPT inbound.
	Layer *layers.Layer
	// FilterID and FilterName name the filter that decided at Layer (zero when no
	// filter decided).
	FilterID   wfp.FilterID
	FilterName string
	// FirstPacket numbers the packet that created the flow (Stack.Packets at the time).
	FirstPacket uint64
	owner       *owner // the process and its app id; nil when unknown
	ep          *endpoint
	iface       *Interface
	loopback    bool
	// authorizedBy is the compiled layer the flow was authorized against; a commit
	// that recompiles the layer means its policy changed (reauthorization, rule D2).
	authorizedBy *compiledLayer
	lastSeen     time.Time
	idle         time.Duration
	finSeen      [2]bool // per direction
	lastFIN      int8    // the direction (0 out, 1 in) of the second FIN
	contexts     []flowContext
	// handle and parent are the flow's FWPS_METADATA_FIELD_TRANSPORT_ENDPOINT_HANDLE
	// and PARENT_ENDPOINT_HANDLE; closure: it ends with an ENDPOINT_CLOSURE (rule C8).
	handle, parent uint64
	closure        bool
	// streamFrom is the first filter id added after the TCP connection began (0 for
	// other flows): a stream callout's filter from then on sees the flow only when
	// the callout allows mid-stream inspection (rule D11).
	streamFrom wfp.FilterID
	prev, next *Flow // the flow table's recency list
	stream     [2]streamState
}

// owner is a process with its app id computed once (shared by its flows).
type owner struct {
	proc  *Process
	appID wfp.ByteBlob
	path  string // the NT path, for FWPS_METADATA_FIELD_PROCESS_PATH
}

type flowContext struct {
	layerID   wfp.LayerID
	calloutID wfp.CalloutID
	callout   wfp.CalloutKey
	value     uint64
}

// FlowContext implements FlowContexts.
func (f *Flow) FlowContext(layerID wfp.LayerID, calloutID wfp.CalloutID) uint64 {
	if f == nil {
		return 0
	}
	for _, c := range f.contexts {
		if c.calloutID == calloutID && c.layerID == layerID {
			return c.value
		}
	}
	return 0
}

// Key returns a printable form of the flow's 5-tuple.
func (f *Flow) Key() string { return f.key.String() }

// flowTable holds the flows, bounded: when full, the least recently used flow is
// evicted (and its contexts' FlowDelete called). The recency list is threaded through
// the flows themselves (no per-flow list element).
type flowTable struct {
	byKey      map[flowKey]*Flow
	byID       map[uint64]*Flow
	head, tail *Flow // head: most recently used
	max        int
	nextID     uint64
}

func newFlowTable(max int) *flowTable {
	return &flowTable{byKey: map[flowKey]*Flow{}, byID: map[uint64]*Flow{}, max: max, nextID: 1}
}

func (t *flowTable) get(k flowKey) *Flow {
	f := t.byKey[k]
	if f != nil && f != t.head {
		t.unlink(f)
		t.pushFront(f)
	}
	return f
}

// add inserts a flow, returning the flow evicted to make room, if any.
func (t *flowTable) add(f *Flow) (evicted *Flow) {
	if t.max > 0 && len(t.byKey) >= t.max && t.tail != nil {
		evicted = t.tail
		t.remove(evicted)
	}
	f.ID = t.nextID
	t.nextID++
	t.byKey[f.key] = f
	t.byID[f.ID] = f
	t.pushFront(f)
	return evicted
}

func (t *flowTable) remove(f *Flow) {
	if t.byKey[f.key] == f {
		delete(t.byKey, f.key)
	}
	if t.byID[f.ID] == f {
		delete(t.byID, f.ID)
		t.unlink(f)
	}
}

func (t *flowTable) pushFront(f *Flow) {
	f.prev, f.next = nil, t.head
	if t.head != nil {
		t.head.prev = f
	}
	t.head = f
	if t.tail == nil {
		t.tail = f
	}
}

func (t *flowTable) unlink(f *Flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else if t.head == f {
		t.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else if t.tail == f {
		t.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

// FlowAssociateContext implements callout.Kernel (FwpsFlowAssociateContext0, rule D4).
func (s *Stack) FlowAssociateContext(flowID uint64, layerID wfp.LayerID, calloutID wfp.CalloutID, value uint64) error {
	f := s.flows.byID[flowID]
	if f == nil || f.State == FlowClosed {
		return fmt.Errorf("engine: associate context: flow %d does not exist (STATUS_NOT_FOUND): %w", flowID, wfp.ErrNotFound)
	}
	if value == 0 {
		return fmt.Errorf("engine: associate context: the context must not be zero (STATUS_INVALID_PARAMETER): %w", wfp.ErrInvalidParameter)
	}
	key, ok := s.calloutKeyByID(calloutID)
	if !ok || s.e.registered(key) == nil {
		return fmt.Errorf("engine: associate context: callout %d is not registered (STATUS_INVALID_PARAMETER): %w", calloutID, wfp.ErrInvalidParameter)
	}
	for _, c := range f.contexts {
		if c.calloutID == calloutID {
			return fmt.Errorf("engine: associate context: callout %d already has a context on flow %d (STATUS_OBJECT_NAME_EXISTS); remove it first: %w", calloutID, flowID, wfp.ErrAlreadyExists)
		}
	}
	f.contexts = append(f.contexts, flowContext{layerID: layerID, calloutID: calloutID, callout: key, value: value})
	return nil
}

// FlowRemoveContext implements callout.Kernel (FwpsFlowRemoveContext0): the context is
// removed and FlowDelete is not called for it.
func (s *Stack) FlowRemoveContext(flowID uint64, layerID wfp.LayerID, calloutID wfp.CalloutID) error {
	f := s.flows.byID[flowID]
	if f == nil {
		return fmt.Errorf("engine: remove context: flow %d does not exist: %w", flowID, wfp.ErrNotFound)
	}
	for i, c := range f.contexts {
		if c.calloutID == calloutID && c.layerID == layerID {
			f.contexts = append(f.contexts[:i], f.contexts[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("engine: remove context: callout %d has no context on flow %d at layer %d: %w", calloutID, flowID, layerID, wfp.ErrNotFound)
}

func (s *Stack) calloutKeyByID(id wfp.CalloutID) (wfp.CalloutKey, bool) {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	c, ok := s.e.st.calloutsByID[id]
	if !ok {
		return wfp.CalloutKey{}, false
	}
	return c.c.Key, true
}

// endFlow ends a flow however it ends: every context's FlowDelete is called exactly
// once, with the latest context, and the contexts are dropped (rule D4, D8).
func (s *Stack) endFlow(f *Flow, why string) {
	if f.State == FlowClosed {
		return
	}
	f.State = FlowClosed
	s.flows.remove(f)
	if f.closure {
		s.closeEndpoint(s.flowCtx(f), why)
	}
	if ep := f.ep; ep != nil {
		// An implicit bind ends with its last flow, and so does a connecting TCP
		// socket of the host; a listening or UDP socket of the host stays bound.
		goes := ep.sock == nil || (ep.key.proto == 6 && !ep.sock.Listen)
		if ep.flows--; ep.flows <= 0 && goes && s.endpoints[ep.key] == ep {
			delete(s.endpoints, ep.key)
			s.release(ep, "its last flow ended")
		}
		f.ep = nil
	}
	contexts := f.contexts
	f.contexts = nil
	for _, c := range contexts {
		if code := s.e.registered(c.callout); code != nil {
			s.safeFlowDelete(code, c)
		}
	}
	s.note(fmt.Sprintf("flow %d %s ended: %s", f.ID, f.key, why))
}

func (s *Stack) safeFlowDelete(code callout.Callout, c flowContext) {
	defer func() {
		if r := recover(); r != nil {
			s.faults = append(s.faults, fmt.Sprintf("callout %d panicked in flowDeleteFn: %v", c.calloutID, r))
		}
	}()
	code.FlowDelete(c.layerID, c.calloutID, c.value)
}
