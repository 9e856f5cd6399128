package engine

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/wfpsim/wfpsim/wfp"
)

type fragKey struct {
	src, dst netip.Addr
	proto    uint8
	id       uint32
}

type fragment struct {
	offset int
	data   []byte
}

type fragBuffer struct {
	first  *Packet // the fragment at offset 0, once seen
	pieces []fragment
	total  int // the datagram's payload length, once the last fragment is seen
	since  time.Time
}

const (
	maxDatagram       = 65535
	maxPendingFrags   = 4096
	reassemblyTimeout = 60 * time.Second
)

// reassembleFor adds a fragment to its datagram for a packet's walk: the datagram
// once complete, else false with res saying why (dropped, or buffered).
func (s *Stack) reassembleFor(res *Result, p *Packet) (*Packet, bool) {
	whole, err := s.reassemble(p)
	if err != nil {
		res.Verdict, res.Reason = wfp.ActionBlock, err.Error()
		return nil, false
	}
	if whole == nil {
		res.Pending, res.Reason = true, "fragment buffered until its datagram is complete"
		return nil, false
	}
	return whole, true
}

// reassemble adds a fragment to its datagram and returns the datagram once every
// byte is there, nil before. Overlapping fragments and datagrams beyond 64 KiB are
// errors (Windows drops overlapping fragments). Incomplete datagrams are dropped after
// 60 s.
func (s *Stack) reassemble(p *Packet) (*Packet, error) {
	for k, b := range s.frags {
		if s.now.Sub(b.since) > reassemblyTimeout {
			delete(s.frags, k)
		}
	}
	k := fragKey{p.Src.Unmap(), p.Dst.Unmap(), p.Protocol, p.FragID}
	b := s.frags[k]
	if b == nil {
		if len(s.frags) >= maxPendingFrags {
			return nil, fmt.Errorf("fragment dropped: %d datagrams are already waiting for fragments", maxPendingFrags)
		}
		b = &fragBuffer{total: -1, since: s.now}
		s.frags[k] = b
	}
	end := p.FragOffset + len(p.Payload)
	if end > maxDatagram {
		delete(s.frags, k)
		return nil, fmt.Errorf("fragment dropped: the datagram would exceed %d bytes", maxDatagram)
	}
	for _, f := range b.pieces {
		if p.FragOffset < f.offset+len(f.data) && f.offset < end {
			delete(s.frags, k)
			return nil, fmt.Errorf("fragment dropped: it overlaps bytes %d-%d already received; the datagram is discarded", f.offset, f.offset+len(f.data)-1)
		}
	}
	b.pieces = append(b.pieces, fragment{p.FragOffset, append([]byte(nil), p.Payload...)})
	if p.FragOffset == 0 {
		b.first = p.clone() // kept until the datagram completes: the stack's own copy
	}
	if !p.MoreFragments {
		b.total = end
	}
	if b.first == nil || b.total < 0 {
		return nil, nil
	}
	sort.Slice(b.pieces, func(i, j int) bool { return b.pieces[i].offset < b.pieces[j].offset })
	at := 0
	for _, f := range b.pieces {
		if f.offset != at {
			return nil, nil // a hole
		}
		at += len(f.data)
	}
	if at != b.total {
		return nil, nil
	}
	delete(s.frags, k)
	data := make([]byte, 0, b.total)
	for _, f := range b.pieces {
		data = append(data, f.data...)
	}
	whole := *b.first
	whole.FragOffset, whole.MoreFragments, whole.Embedded = 0, false, nil
	whole.Payload = data
	if b.first.Raw != nil && len(b.first.Raw) >= b.first.IPHeaderLen {
		whole.Raw = append(append([]byte(nil), b.first.Raw[:b.first.IPHeaderLen]...), data...)
	}
	if err := decodeTransport(&whole); err != nil {
		return nil, fmt.Errorf("reassembled datagram dropped: %v", err)
	}
	return &whole, nil
}
