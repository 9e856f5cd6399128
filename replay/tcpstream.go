package replay

import (
	"fmt"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/reassembly"

	"github.com/wfpsim/wfpsim/engine"
)

// Reassembly limits. Out-of-order data waits in pages of about 1900 bytes: at most
// streamPagesPerConn per connection (then its earliest gap is given up and the data
// behind it offered) and streamPagesTotal in all. A connection idle for streamIdle
// is closed; what it still holds (data behind a gap the capture never fills) is
// dropped.
const (
	streamPagesPerConn = 64
	streamPagesTotal   = 4096
	streamIdle         = 5 * time.Second
)

// tcpStreams reassembles the captured TCP segments with gopacket's reassembly
// package, so that the stream layer is offered what the receiving TCP hands it:
// each byte once and in sequence order. A retransmission offers nothing; a segment
// that arrives ahead of a gap offers nothing until the segment that fills the gap,
// which offers both; a connection seen mid-stream starts at its first segment.
//
// The capture is reassembled as it is read ahead (in capture order, the order the
// replay keeps), and each packet carries what it offers in Packet.Stream.
type tcpStreams struct {
	asm  *reassembly.Assembler
	ctx  streamContext
	got  [][]byte // what the current segment released, in order
	in   bool     // a segment is being assembled (a flush releases nothing to keep)
	last time.Time
}

func newTCPStreams() *tcpStreams {
	t := &tcpStreams{}
	t.reset()
	return t
}

// reset starts the reassembly afresh, with no connection.
func (t *tcpStreams) reset() {
	a := reassembly.NewAssembler(reassembly.NewStreamPool(t))
	a.MaxBufferedPagesPerConnection = streamPagesPerConn
	a.MaxBufferedPagesTotal = streamPagesTotal
	t.asm, t.in, t.got = a, false, t.got[:0]
}

// streamContext gives the assembler a segment's capture time.
type streamContext struct{ ci gopacket.CaptureInfo }

func (c *streamContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// assemble runs one decoded TCP segment through the reassembly and sets what p
// offers the stream layer: p.Payload itself when the segment was in order, else a
// copy in buf (returned for reuse).
//
// Should gopacket's reassembly fail on a segment (it panics on states it does not
// expect), the segment is offered as it is, the reassembly starts afresh, and the
// failure is returned to be reported.
func (t *tcpStreams) assemble(net gopacket.Flow, tcp *layers.TCP, p *engine.Packet, buf []byte) (_ []byte, failed error) {
	defer func() {
		if v := recover(); v != nil {
			t.reset()
			p.Stream, p.StreamSet = nil, false
			failed = fmt.Errorf("the TCP reassembly failed on this segment (%v): its payload is offered to the stream layer as it is, and the reassembly starts afresh", v)
		}
	}()
	if p.Time.Sub(t.last) >= time.Second || p.Time.Before(t.last) {
		t.last = p.Time
		t.asm.FlushCloseOlderThan(p.Time.Add(-streamIdle))
	}
	t.ctx.ci.Timestamp = p.Time
	t.got = t.got[:0]
	t.in = true
	t.asm.AssembleWithContext(net, tcp, &t.ctx)
	t.in = false
	p.StreamSet = true
	switch {
	case len(t.got) == 0:
		p.Stream = nil
	case len(t.got) == 1 && sameBytes(t.got[0], p.Payload):
		p.Stream = p.Payload
	default:
		buf = buf[:0]
		for _, b := range t.got {
			buf = append(buf, b...)
		}
		p.Stream = buf
	}
	return buf, nil
}

// sameBytes reports whether a and b are the same bytes in memory.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// New makes every connection's stream this one object: the replay keeps no state per
// stream beyond the assembler's own.
func (t *tcpStreams) New(_, _ gopacket.Flow, _ *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	return t
}

// Accept takes every segment, and starts a connection seen mid-stream (no SYN) at
// its first segment, as the stack adopts such connections.
func (t *tcpStreams) Accept(_ *layers.TCP, _ gopacket.CaptureInfo, _ reassembly.TCPFlowDirection, next reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	if next < 0 {
		*start = true
	}
	return true
}

// ReassembledSG receives the bytes released in order: the segment's own, or the
// assembler's pages, which it reuses only for a later segment; assemble copies them
// before it assembles another.
func (t *tcpStreams) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	if !t.in {
		return // a flush of a closed connection: no packet to offer it to
	}
	n, _ := sg.Lengths()
	if n > 0 {
		t.got = append(t.got, sg.Fetch(n))
	}
}

// ReassemblyComplete lets the pool forget a connection once both halves ended.
func (t *tcpStreams) ReassemblyComplete(reassembly.AssemblerContext) bool { return true }
