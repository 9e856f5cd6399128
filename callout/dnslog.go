package callout

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// DNSLogger is an inspection callout for FWPM_LAYER_DATAGRAM_DATA_V4/V6 that logs the
// DNS queries it sees (UDP port 53): the question's name and type. It shows the layer
// data of a packet layer: a PacketData whose data offset depends on the layer and the
// direction (data_offsets.tsv). At DATAGRAM_DATA an inbound datagram starts at its
// payload, an outbound one at its transport header, so the logger skips the UDP
// header (Metadata.TransportHeaderSize) when sending.
//
// Malformed datagrams are counted, never trusted: the parser checks every length
// against the bytes it has, as a driver must. It returns FWP_ACTION_CONTINUE; give it
// a CALLOUT_INSPECTION filter (ideally with IP_PROTOCOL = udp and a port 53 condition,
// so the engine calls it only for DNS). It is safe for concurrent use.
//
// See https://learn.microsoft.com/en-us/windows-hardware/drivers/network/data-offset-positions
type DNSLogger struct {
	mu        sync.Mutex
	w         io.Writer
	queries   []DNSQuery
	malformed int
}

// DNSQuery is one logged query.
type DNSQuery struct {
	// ID is the DNS message id.
	ID uint16
	// Name is the first question's name, dotted, without the final dot; a byte that
	// is not printable ASCII, or a dot inside a label, is written \DDD.
	Name string
	// Type is the question's QTYPE (1 A, 28 AAAA, ...).
	Type uint16
	// Direction is the datagram's direction; FlowHandle its ALE flow (0 outside a
	// stack).
	Direction  wfp.Direction
	FlowHandle uint64
}

// TypeName returns the QTYPE's mnemonic, "TYPE<n>" for the ones it does not know.
func (q DNSQuery) TypeName() string {
	if n, ok := dnsTypes[q.Type]; ok {
		return n
	}
	return fmt.Sprintf("TYPE%d", q.Type)
}

// String is "<direction> query <type> <name> (id 0x<id>)".
func (q DNSQuery) String() string {
	dir := "query"
	switch q.Direction {
	case wfp.DirectionOutbound:
		dir = "outbound query"
	case wfp.DirectionInbound:
		dir = "inbound query"
	}
	return fmt.Sprintf("%s %s %s (id 0x%04x)", dir, q.TypeName(), q.Name, q.ID)
}

var dnsTypes = map[uint16]string{1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV", 65: "HTTPS", 255: "ANY"}

// NewDNSLogger returns a logger; each query is also written to w, one line each,
// when w is not nil.
func NewDNSLogger(w io.Writer) *DNSLogger { return &DNSLogger{w: w} }

// Classify logs a DNS query found in the datagram and returns continue.
func (l *DNSLogger) Classify(in *IncomingValues, meta *Metadata, layerData any, _ *Filter, _ uint64, out *ClassifyOut) {
	out.Action = wfp.ActionContinue
	pd, ok := layerData.(*PacketData)
	if !ok || pd == nil {
		return
	}
	if protocolValue(in) != 17 {
		return
	}
	if portValue(in, layers.ConditionIPRemotePort) != 53 && portValue(in, layers.ConditionIPLocalPort) != 53 {
		return
	}
	data := pd.Data()
	var dir wfp.Direction
	var flow uint64
	if meta != nil {
		dir = meta.PacketDirection
		if meta.Has(MetaFlowHandle) {
			flow = meta.FlowHandle
		}
	}
	if dir == wfp.DirectionOutbound {
		// Outbound, the data offset is the transport header (data_offsets.tsv).
		hl := 8
		if meta.Has(MetaTransportHeaderSize) && meta.TransportHeaderSize != 0 {
			hl = int(meta.TransportHeaderSize)
		}
		if len(data) < hl {
			l.mu.Lock()
			l.malformed++
			l.mu.Unlock()
			return
		}
		data = data[hl:]
	}
	q, err := ParseDNSQuery(data)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if !errors.Is(err, ErrNotDNSQuery) {
			l.malformed++
		}
		return
	}
	q.Direction, q.FlowHandle = dir, flow
	l.queries = append(l.queries, q)
	if l.w != nil {
		fmt.Fprintln(l.w, q)
	}
}

// Notify accepts every filter.
func (l *DNSLogger) Notify(NotifyType, wfp.FilterKey, *Filter) error { return nil }

// FlowDelete does nothing: a DNSLogger keeps no flow contexts.
func (l *DNSLogger) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64) {}

// Queries returns the queries logged so far, oldest first.
func (l *DNSLogger) Queries() []DNSQuery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]DNSQuery(nil), l.queries...)
}

// Malformed returns how many port-53 datagrams could not be parsed.
func (l *DNSLogger) Malformed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.malformed
}

// ErrNotDNSQuery is returned by ParseDNSQuery for a well-formed message that is not
// a query (a response, or no question).
var ErrNotDNSQuery = errors.New("callout: dns: not a query")

// ParseDNSQuery reads the header and first question of a DNS message (RFC 1035 §4.1).
// It never panics: lengths are checked against msg, compression pointers are
// followed at most 16 times, names are at most 255 bytes.
func ParseDNSQuery(msg []byte) (DNSQuery, error) {
	if len(msg) < 12 {
		return DNSQuery{}, fmt.Errorf("callout: dns: header needs 12 bytes, have %d", len(msg))
	}
	q := DNSQuery{ID: binary.BigEndian.Uint16(msg[0:2])}
	flags := binary.BigEndian.Uint16(msg[2:4])
	if flags&0x8000 != 0 {
		return DNSQuery{}, fmt.Errorf("%w: a response (QR set)", ErrNotDNSQuery)
	}
	if binary.BigEndian.Uint16(msg[4:6]) == 0 {
		return DNSQuery{}, fmt.Errorf("%w: no question", ErrNotDNSQuery)
	}
	name, end, err := dnsName(msg, 12)
	if err != nil {
		return DNSQuery{}, err
	}
	if end+4 > len(msg) {
		return DNSQuery{}, fmt.Errorf("callout: dns: question truncated at byte %d", end)
	}
	q.Name = name
	q.Type = binary.BigEndian.Uint16(msg[end : end+2])
	return q, nil
}

// dnsName reads a domain name at off; end is where the question goes on (after the
// name, or after its first compression pointer).
func dnsName(msg []byte, off int) (name string, end int, err error) {
	var b strings.Builder
	end = -1
	total, hops := 0, 0
	for {
		if off >= len(msg) {
			return "", 0, fmt.Errorf("callout: dns: name runs past the message at byte %d", off)
		}
		n := int(msg[off])
		switch {
		case n == 0:
			if end < 0 {
				end = off + 1
			}
			if b.Len() == 0 {
				return ".", end, nil
			}
			return b.String(), end, nil
		case n&0xc0 == 0xc0:
			if off+1 >= len(msg) {
				return "", 0, fmt.Errorf("callout: dns: truncated compression pointer at byte %d", off)
			}
			if hops++; hops > 16 {
				return "", 0, fmt.Errorf("callout: dns: too many compression pointers")
			}
			if end < 0 {
				end = off + 2
			}
			off = int(binary.BigEndian.Uint16(msg[off:off+2]) & 0x3fff)
			continue
		case n&0xc0 != 0:
			return "", 0, fmt.Errorf("callout: dns: unsupported label type 0x%02x at byte %d", n&0xc0, off)
		}
		if off+1+n > len(msg) {
			return "", 0, fmt.Errorf("callout: dns: label of %d bytes at byte %d runs past the message", n, off)
		}
		if total += n + 1; total > 255 {
			return "", 0, fmt.Errorf("callout: dns: name longer than 255 bytes")
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		for _, c := range msg[off+1 : off+1+n] {
			if c <= ' ' || c > '~' || c == '.' || c == '\\' {
				fmt.Fprintf(&b, "\\%03d", c)
			} else {
				b.WriteByte(c)
			}
		}
		off += 1 + n
	}
}

var _ Callout = (*DNSLogger)(nil)
