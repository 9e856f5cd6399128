package replay

import (
	"errors"
	"fmt"
	"io"

	"github.com/wfpsim/wfpsim/engine"
)

// How far the replay reads ahead of the packet it replays.
const (
	aheadFrames = 2048
	aheadBytes  = 4 << 20
	// keepSlotBuf: a slot keeps its buffer for the next frame up to this size; a
	// bigger one (a TSO frame) is left to the garbage collector, so the ring's memory
	// stays near aheadFrames ordinary frames.
	keepSlotBuf = 16 << 10
)

// ahead is a capture read ahead of its replay, so that the capture is read once:
// each frame is copied into a slot of a ring and decoded as it enters, and the
// replayer learns from it (the host's sockets, and during Start the host itself)
// before it replays the packets before it. A port that answers a SYN is then a
// listening socket by the time that SYN is replayed, though the capture shows the
// answer only later.
type ahead struct {
	file     string
	src      *Source
	ring     []slot
	first, n int // the oldest buffered slot, and how many are buffered
	bytes    int
	end      error  // what stopped reading (io.EOF or a read error), once reached
	chunk    []byte // what is left of the last allocation of slot buffers
	// streams reassembles the TCP segments as they are read (nil: not at all, as
	// when only scanning).
	streams *tcpStreams
}

// slot is one frame read ahead.
type slot struct {
	f   Frame
	buf []byte
	pkt engine.Packet
	// err says why the frame does not decode; nil when pkt holds it. unsupported:
	// its link type is not decoded at all.
	err         error
	unsupported bool
	// stream holds what pkt offers the stream layer when that is not its own
	// payload (see tcpStreams.assemble).
	stream []byte
}

// openAhead opens a capture to read ahead, with the ring of a capture replayed
// before (nil for a new one).
func openAhead(file string, ring []slot, streams *tcpStreams) (*ahead, error) {
	src, err := Open(file)
	if err != nil {
		return nil, err
	}
	src.readInPlace()
	return &ahead{file: file, src: src, ring: ring, streams: streams}, nil
}

// full reports whether the window holds as much as it may.
func (a *ahead) full() bool {
	return a.n >= aheadFrames || a.bytes >= aheadBytes
}

// fill reads frames until the window is full or the capture ends, decoding each one
// and handing the packets that decode to learn.
func (a *ahead) fill(d *decoder, learn func(*engine.Packet)) {
	for a.end == nil && !a.full() {
		f, err := a.src.Next()
		if err != nil {
			a.end = err
			return
		}
		if a.n == len(a.ring) {
			a.grow()
		}
		s := &a.ring[(a.first+a.n)%len(a.ring)]
		if a.src.zeroCopy {
			if cap(s.buf) < len(f.Data) {
				s.buf = a.slotBuf(len(f.Data))
			}
			s.buf = append(s.buf[:0], f.Data...)
			f.Data = s.buf[:len(f.Data):len(f.Data)]
		} else {
			s.buf = f.Data // the reader's own allocation: no copy needed
		}
		s.f, s.err, s.unsupported = f, nil, !Supported(f.LinkType)
		if !s.unsupported {
			p, err := d.decode(s.f)
			if err != nil {
				s.err = err
			} else {
				s.pkt = *p
				if net, tcp, ok := d.tcpSegment(p); ok && a.streams != nil {
					var err error
					if s.stream, err = a.streams.assemble(net, tcp, &s.pkt, s.stream); err != nil {
						a.src.Warnings = append(a.src.Warnings, fmt.Sprintf("packet %d: %v", f.N, err))
					}
				}
				learn(&s.pkt)
			}
		}
		a.n++
		a.bytes += len(f.Data)
	}
}

// slotBuf returns an empty buffer for a frame of n bytes: a piece of a shared chunk
// for an ordinary frame (one allocation serves 64 slots), its own for a big one.
func (a *ahead) slotBuf(n int) []byte {
	const size = 2048
	if n > size {
		return make([]byte, 0, n)
	}
	if len(a.chunk) < size {
		a.chunk = make([]byte, 64*size)
	}
	b := a.chunk[:0:size]
	a.chunk = a.chunk[size:]
	return b
}

// grow makes room for one more frame, keeping the buffered ones in order.
func (a *ahead) grow() {
	ring := make([]slot, min(max(2*len(a.ring), 16), aheadFrames))
	for i := 0; i < a.n; i++ {
		ring[i] = a.ring[(a.first+i)%len(a.ring)]
	}
	a.ring, a.first = ring, 0
}

// pop returns the oldest buffered frame, valid until the next fill; nil when the
// capture is done.
func (a *ahead) pop() *slot {
	if a.n == 0 {
		return nil
	}
	s := &a.ring[a.first]
	a.first = (a.first + 1) % len(a.ring)
	a.n--
	a.bytes -= len(s.f.Data)
	if cap(s.buf) > keepSlotBuf {
		s.buf = nil // the frame stays valid (s.f.Data); the slot does not keep it
	}
	return s
}

// readError is the error that cut the capture short, nil when it was read to its end.
func (a *ahead) readError() error {
	if a.end == nil || errors.Is(a.end, io.EOF) {
		return nil
	}
	return a.end
}

// close closes the capture and returns the ring for the next one.
func (a *ahead) close() []slot {
	a.src.Close()
	ring := a.ring
	a.ring, a.n = nil, 0
	return ring
}
