package engine

import (
	"fmt"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// streamBufferLimit is how much stream data WFP buffers for NEED_MORE_DATA (about
// 8 MB, rule D5).
const streamBufferLimit = 8 << 20

// streamState is one direction of a flow's stream layer.
type streamState struct {
	pending []byte // bytes held for a callout that asked for more
	allowed bool   // a callout answered ALLOW_CONNECTION: no more classification
}

// stream classifies a TCP segment's data at the stream layer (rules A10, D5): the
// callout sees the stream's bytes with what it asked to buffer, may ask for more
// (the data is held), allow the rest of the connection, or drop the connection. It
// reports whether the segment goes on.
func (s *Stack) stream(res *Result, f *Flow, c *classifyCtx, p *Packet) bool {
	dir := 0
	flags := callout.StreamFlagSend
	if c.dir == wfp.DirectionInbound {
		dir, flags = 1, callout.StreamFlagReceive
	}
	if p.TCPFlags&TCPFin != 0 {
		if dir == 1 {
			flags |= callout.StreamFlagReceiveDisconnect
		} else {
			flags |= callout.StreamFlagSendDisconnect
		}
	}
	st := &f.stream[dir]
	if st.allowed {
		return true
	}
	l := layer(layers.StreamV4, layers.StreamV6, p)
	data := append(st.pending, p.Payload...)
	sp := &callout.StreamPacket{Flags: flags, Data: data}
	req := s.streamCtx(c, sp)
	d := s.classifyWith(res, l, req, fmt.Sprintf("stream data: %d bytes", len(data)))
	switch sp.StreamAction {
	case callout.StreamActionNeedMoreData:
		if len(data) >= streamBufferLimit {
			sp.StreamAction = callout.StreamActionNone
			res.Reason = "stream: buffer limit reached; the callout had to decide (FWPS_CLASSIFY_OUT_FLAG_BUFFER_LIMIT_REACHED)"
			break
		}
		st.pending = data
		res.Pending = true
		res.Reason = fmt.Sprintf("stream data held: a callout asked for %d more bytes", sp.CountBytesRequired)
		return false
	case callout.StreamActionDropConnection:
		res.Verdict, res.DroppedAt, res.FilterID, res.FilterName = wfp.ActionBlock, l, d.FilterID, d.FilterName
		res.Reason = fmt.Sprintf("stream: filter %q dropped the connection", d.FilterName)
		s.endFlow(f, "a stream callout dropped the connection")
		return false
	case callout.StreamActionAllowConnection:
		st.allowed = true
	}
	st.pending = nil
	if d.Action == wfp.ActionBlock {
		res.Verdict, res.DroppedAt, res.FilterID, res.FilterName = wfp.ActionBlock, l, d.FilterID, d.FilterName
		res.Reason = fmt.Sprintf("stream data blocked by filter %q: the bytes leave the stream for good (rule A10)", d.FilterName)
		return false
	}
	return true
}

// streamCtx is a copy of c whose layer data is the stream packet.
func (s *Stack) streamCtx(c *classifyCtx, sp *callout.StreamPacket) *classifyCtx {
	sc := *c
	sc.stream = sp
	return &sc
}

// classifyWith classifies with the context's own layer data.
func (s *Stack) classifyWith(res *Result, l *layers.Layer, c *classifyCtx, note string) Decision {
	return s.classifyOnly(res, l, c, note)
}
