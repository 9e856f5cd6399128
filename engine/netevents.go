package engine

import (
	"net/netip"
	"sync"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/wfp"
)

// netEventRing keeps the newest net events, like Windows' circular log (rule E8), and
// counts those that fell out.
type netEventRing struct {
	mu      sync.Mutex
	buf     []wfp.NetEvent
	start   int
	n       int
	dropped uint64
}

func newNetEventRing(capacity int) *netEventRing {
	if capacity < 0 {
		return nil
	}
	return &netEventRing{buf: make([]wfp.NetEvent, capacity)}
}

func (r *netEventRing) add(ev wfp.NetEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		r.dropped++
		return
	}
	if r.n == len(r.buf) {
		r.buf[r.start] = ev
		r.start = (r.start + 1) % len(r.buf)
		r.dropped++
		return
	}
	r.buf[(r.start+r.n)%len(r.buf)] = ev
	r.n++
}

func (r *netEventRing) snapshot() ([]wfp.NetEvent, uint64) {
	if r == nil {
		return nil, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]wfp.NetEvent, r.n)
	for i := range out {
		out[i] = r.buf[(r.start+i)%len(r.buf)]
	}
	return out, r.dropped
}

// recordEvent writes CLASSIFY_DROP for a block (not for an absorbed one, rule A11)
// and CLASSIFY_ALLOW for a permit a filter decided when allows are logged.
func (e *Engine) recordEvent(cl *compiledLayer, req *Request, d *Decision) {
	if e.events == nil || !d.Decided || (d.Action == wfp.ActionBlock && d.Absorb) {
		return
	}
	typ := wfp.NetEventClassifyDrop
	if d.Action == wfp.ActionPermit {
		if !e.opts.LogAllows {
			return
		}
		typ = wfp.NetEventClassifyAllow
	}
	ev := wfp.NetEvent{Type: typ, FilterID: d.FilterID, Vetoed: d.Vetoed}
	ev.Header.TimeStamp = e.now()
	if req.Meta != nil && req.Meta.Has(callout.MetaPacketDirection) {
		// The packet's direction, as msFwpDirection says, at every layer (most ALE
		// layers have no DIRECTION field to take it from).
		ev.Direction = req.Meta.PacketDirection
	}
	if req.Layer.IDKnown {
		ev.LayerID = req.Layer.ID
	}
	if cl != nil {
		h := cl.header
		v := req.Values
		if p, ok := valueAt(v, h.protocol).(wfp.Uint8); ok {
			ev.Header.IPProtocol = uint8(p)
		}
		ev.Header.LocalAddr = addrOf(valueAt(v, h.localAddr))
		ev.Header.RemoteAddr = addrOf(valueAt(v, h.remoteAddr))
		if p, ok := valueAt(v, h.localPort).(wfp.Uint16); ok {
			ev.Header.LocalPort = uint16(p)
		}
		if p, ok := valueAt(v, h.remotePort).(wfp.Uint16); ok {
			ev.Header.RemotePort = uint16(p)
		}
		if a, ok := valueAt(v, h.appID).(wfp.ByteBlob); ok {
			ev.Header.AppID = append(wfp.ByteBlob(nil), a...)
		}
		if dir, ok := valueAt(v, h.direction).(wfp.Uint32); ok && (req.Meta == nil || !req.Meta.Has(callout.MetaPacketDirection)) {
			ev.Direction = wfp.Direction(dir)
		}
		if fl, ok := valueAt(v, h.flags).(wfp.Uint32); ok {
			ev.Loopback = fl&flagIsLoopback != 0
		}
	}
	for _, s := range d.Sublayers {
		if s.Action != 0 {
			ev.Terminating = append(ev.Terminating, wfp.TerminatingFilter{Sublayer: s.Sublayer, FilterID: s.FilterID, Action: s.Action})
		}
	}
	e.events.add(ev)
}

func addrOf(v wfp.Value) netip.Addr {
	switch a := v.(type) {
	case wfp.Uint32:
		return wfp.V4ToAddr(uint32(a))
	case wfp.ByteArray16:
		return netip.AddrFrom16(a)
	}
	return netip.Addr{}
}
