package replay

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Frame is one record of a capture.
type Frame struct {
	N        uint64 // 1-based packet number in the file
	Time     time.Time
	LinkType uint16 // the real link type, also above 255 (gopacket's LinkType is a uint8)
	Data     []byte
	// OrigLen is the length on the wire (the record may be shorter: the snapshot length).
	OrigLen int
	// Interface is the pcapng interface id (0 for pcap).
	Interface int
}

// Source reads the frames of a pcap or pcapng file, streaming: memory does not grow
// with the file.
type Source struct {
	name string
	f    *os.File
	br   *bufio.Reader
	pcap *pcapgo.Reader
	ng   *pcapgo.NgReader
	// ngSections are the pcapng file's readable sections with their interfaces'
	// link types and packet counts, read from the file itself (pcapgo truncates link
	// types to 8 bits and says nothing when a section starts).
	ngSections []ngSection
	section    int // index in ngSections of the current packet's section
	inSection  int // packets read in that section
	// badAt is the number of the first packet whose block the scan found malformed
	// (0: none); reading stops there with badMsg instead of trusting its lengths.
	badAt  uint64
	badMsg string
	n      uint64
	// Warnings are problems with single records that did not stop reading.
	Warnings []string
	pcapLink uint16
	broken   error // set when the reader panicked: nothing more is read
	// zeroCopy: a frame's Data is only valid until the next call to Next (the first
	// pass, which keeps nothing of it, reads this way).
	zeroCopy bool
}

// maxRecord bounds a record's captured length (tcpdump's MAXIMUM_SNAPLEN).
const maxRecord = 262144

const (
	magicPcapMicro   = 0xa1b2c3d4
	magicPcapNano    = 0xa1b23c4d
	magicPcapngBlock = 0x0a0d0d0a
)

// Open opens a capture file: pcap (micro- or nanosecond, either byte order) or pcapng
// (several sections and interfaces, mixed link types).
func Open(name string) (*Source, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	s, err := newSourceSafe(name, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func newSourceSafe(name string, f *os.File) (s *Source, err error) {
	defer func() {
		if v := recover(); v != nil {
			s, err = nil, fmt.Errorf("replay: %s: the capture reader failed on a corrupt header: %v", name, v)
		}
	}()
	return newSource(name, f)
}

func newSource(name string, f *os.File) (*Source, error) {
	s := &Source{name: name, f: f, br: bufio.NewReaderSize(f, bufSize(f))}
	head, err := s.br.Peek(4)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("replay: %s: empty or shorter than a capture header (want a pcap or pcapng file)", name)
		}
		return nil, fmt.Errorf("replay: %s: %w", name, err)
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == magicPcapngBlock:
		sections, skipped, badAt, badMsg, err := scanPcapng(name, f)
		if err != nil {
			return nil, err
		}
		s.ngSections, s.badAt, s.badMsg = sections, badAt, badMsg
		s.Warnings = append(s.Warnings, skipped...)
		s.ng, err = pcapgo.NewNgReader(s.br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("replay: %s: not a readable pcapng file: %v", name, err)
		}
	case le == magicPcapMicro || be == magicPcapMicro || le == magicPcapNano || be == magicPcapNano:
		s.pcap, err = pcapgo.NewReader(s.br)
		if err != nil {
			return nil, fmt.Errorf("replay: %s: not a readable pcap file: %v", name, err)
		}
		if s.pcap.Snaplen() > maxRecord {
			// pcapgo allocates what a record header claims, up to the snapshot length:
			// bound it so that a corrupt header cannot ask for gigabytes.
			s.pcap.SetSnaplen(maxRecord)
		}
		var hdr [24]byte
		if _, err := f.ReadAt(hdr[:], 0); err == nil {
			order := binary.ByteOrder(binary.LittleEndian)
			if be == magicPcapMicro || be == magicPcapNano {
				order = binary.BigEndian
			}
			s.pcapLink = uint16(order.Uint32(hdr[20:24]))
		}
	default:
		return nil, fmt.Errorf("replay: %s: not a capture: the file starts with 0x%08x, want a pcap (a1b2c3d4 / a1b23c4d) or pcapng (0a0d0d0a) magic number", name, be)
	}
	return s, nil
}

// bufSize is the read buffer for a file: 64 KB, or less for a small file (a replay
// of many small captures would otherwise spend its time clearing buffers). Never
// below 4096: pcapgo.NewReader then reads through this very buffer (bufio.NewReader
// returns a big enough *bufio.Reader as is), which nextPcap relies on when it reads
// a record longer than the snapshot length itself.
func bufSize(f *os.File) int {
	if fi, err := f.Stat(); err == nil && fi.Size() < 1<<16 {
		return max(int(fi.Size()), 4096)
	}
	return 1 << 16
}

// readInPlace makes Next read a big file's frames into one reused buffer: a frame's
// Data is then valid until the next call to Next. pcapgo sizes that buffer to the
// snapshot length (up to 256 KB), which costs more than it saves on a small file.
func (s *Source) readInPlace() {
	if fi, err := s.f.Stat(); err == nil && fi.Size() > 1<<20 {
		s.zeroCopy = true
	}
}

// Close closes the file.
func (s *Source) Close() error { return s.f.Close() }

// Name is the file name.
func (s *Source) Name() string { return s.name }

// Next returns the next frame, or io.EOF at the end. Any other error means the rest
// of the file cannot be read (a truncated or corrupt record); it names the file and
// the packet number.
func (s *Source) Next() (f Frame, err error) {
	if s.broken != nil {
		return Frame{}, s.broken
	}
	// pcapgo panics on some corrupt files (an if_tsresol of 2^-113 divides by
	// zero): the file cannot be read further, which is reported like truncation.
	defer func() {
		if v := recover(); v != nil {
			f, err = Frame{}, fmt.Errorf("replay: %s: packet %d: the capture reader failed on a corrupt block: %v", s.name, s.n+1, v)
			s.broken = err
		}
	}()
	if s.pcap != nil {
		f, err = s.nextPcap()
	} else {
		f, err = s.nextNg()
	}
	// A frame read in place must not reach into the bytes after it: decoders that
	// slice past a frame's length within its capacity would read the next record.
	f.Data = f.Data[:len(f.Data):len(f.Data)]
	return f, err
}

func (s *Source) nextPcap() (Frame, error) {
	read := s.pcap.ReadPacketData
	if s.zeroCopy {
		read = s.pcap.ZeroCopyReadPacketData
	}
	data, ci, err := read()
	n := s.n + 1
	if err != nil {
		if errors.Is(err, io.EOF) && ci.CaptureLength == 0 {
			return Frame{}, io.EOF
		}
		if strings.Contains(err.Error(), "exceeds snap length") && ci.CaptureLength > 0 && ci.CaptureLength <= maxRecord {
			// The record is longer than the file's snapshot length: read it anyway.
			data = make([]byte, ci.CaptureLength)
			if _, rerr := io.ReadFull(s.br, data); rerr != nil {
				return Frame{}, fmt.Errorf("replay: %s: packet %d: record of %d bytes is longer than the snapshot length and the file ends inside it: %v", s.name, n, ci.CaptureLength, rerr)
			}
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s: packet %d: record of %d bytes is longer than the file's snapshot length %d; replayed anyway", s.name, n, ci.CaptureLength, s.pcap.Snaplen()))
		} else {
			return Frame{}, fmt.Errorf("replay: %s: packet %d: %s", s.name, n, describeReadError(err))
		}
	}
	s.n = n
	return Frame{N: n, Time: ci.Timestamp, LinkType: s.pcapLink, Data: data, OrigLen: ci.Length}, nil
}

func (s *Source) nextNg() (Frame, error) {
	n := s.n + 1
	if s.badAt != 0 && n >= s.badAt {
		return Frame{}, fmt.Errorf("replay: %s: packet %d: %s", s.name, n, s.badMsg)
	}
	read := s.ng.ReadPacketData
	if s.zeroCopy {
		read = s.ng.ZeroCopyReadPacketData
	}
	data, ci, err := read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Frame{}, io.EOF
		}
		return Frame{}, fmt.Errorf("replay: %s: packet %d: %s", s.name, n, describeReadError(err))
	}
	s.n = n
	// pcapgo returns every packet block of the readable sections in file order, so
	// the packet count says which section a packet belongs to.
	for s.section < len(s.ngSections) && s.inSection >= s.ngSections[s.section].packets {
		s.section++
		s.inSection = 0
	}
	s.inSection++
	lt := uint16(0)
	if lt8, ok := linkFromAncillary(ci); ok {
		lt = uint16(lt8)
	}
	if s.section < len(s.ngSections) && ci.InterfaceIndex < len(s.ngSections[s.section].linkTypes) {
		lt = s.ngSections[s.section].linkTypes[ci.InterfaceIndex]
	}
	return Frame{N: n, Time: ci.Timestamp, LinkType: lt, Data: data, OrigLen: ci.Length, Interface: ci.InterfaceIndex}, nil
}

func linkFromAncillary(ci gopacket.CaptureInfo) (layers.LinkType, bool) {
	if len(ci.AncillaryData) == 0 {
		return 0, false
	}
	lt, ok := ci.AncillaryData[0].(layers.LinkType)
	return lt, ok
}

func describeReadError(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the file ends inside this record (truncated capture)"
	}
	return err.Error()
}

// ngSection is one pcapng section as the file holds it.
type ngSection struct {
	linkTypes []uint16 // per interface, full 16 bits
	snaplens  []uint32 // per interface
	packets   int      // packet blocks (enhanced, simple, obsolete)
}

// scanPcapng reads a pcapng file's block headers and returns its readable sections
// (version 1.0, the ones pcapgo reads) and a message for each section it skips.
// It reads through f at its own offsets (ReadAt), so f's position is untouched.
func scanPcapng(name string, f *os.File) (out []ngSection, skipped []string, badAt uint64, badMsg string, err error) {
	out, skipped, badAt, badMsg, err = scanPcapngBlocks(name, f)
	return
}

func scanPcapngBlocks(name string, f *os.File) ([]ngSection, []string, uint64, string, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), bufSize(f))
	var out []ngSection
	var skipped []string
	var order binary.ByteOrder = binary.LittleEndian
	var hdr [16]byte
	var off int64
	cur := -1 // index in out of the current section; -1 inside a skipped one
	nSections, skippedPackets := 0, 0
	total := uint64(0)
	skipReason := ""
	flushSkipped := func() {
		if cur == -1 && nSections > 0 {
			skipped = append(skipped, fmt.Sprintf("%s: section %d: %s; its %d packets were skipped", name, nSections, skipReason, skippedPackets))
		}
	}
	for {
		if _, err := io.ReadFull(r, hdr[:8]); err != nil {
			flushSkipped()
			return out, skipped, 0, "", nil // the packet reader reports truncation with the packet number
		}
		typ := binary.LittleEndian.Uint32(hdr[0:4])
		if typ == magicPcapngBlock {
			flushSkipped()
			if _, err := io.ReadFull(r, hdr[8:16]); err != nil {
				return out, skipped, 0, "", nil
			}
			switch binary.LittleEndian.Uint32(hdr[8:12]) {
			case 0x1a2b3c4d:
				order = binary.LittleEndian
			case 0x4d3c2b1a:
				order = binary.BigEndian
			default:
				return out, skipped, 0, "", nil
			}
			nSections++
			major, minor := order.Uint16(hdr[12:14]), order.Uint16(hdr[14:16])
			if major == 1 && minor == 0 {
				out = append(out, ngSection{})
				cur = len(out) - 1
			} else {
				cur, skippedPackets = -1, 0
				skipReason = fmt.Sprintf("pcapng version %d.%d at byte %d (want 1.0)", major, minor, off)
			}
			length := order.Uint32(hdr[4:8])
			if length < 16 || length%4 != 0 || length > 1<<28 {
				return out, skipped, total + 1, fmt.Sprintf("section header block at byte %d has an impossible length %d", off, length), nil
			}
			if _, err := r.Discard(int(length) - 16); err != nil {
				return out, skipped, 0, "", nil
			}
			off += int64(length)
			continue
		}
		typ = order.Uint32(hdr[0:4])
		length := order.Uint32(hdr[4:8])
		if length < 12 || length%4 != 0 || length > 1<<28 {
			flushSkipped()
			return out, skipped, total + 1, fmt.Sprintf("block of type %d at byte %d has an impossible length %d", typ, off, length), nil
		}
		off += int64(length)
		body := int(length) - 8
		switch {
		case cur == -1:
			if typ == 2 || typ == 3 || typ == 6 {
				skippedPackets++
			}
		case typ == 1: // interface description block
			var idb [8]byte
			if body < 12 {
				return out, skipped, total + 1, fmt.Sprintf("interface description block at byte %d is too short", off-int64(length)), nil
			}
			if _, err := io.ReadFull(r, idb[:]); err != nil {
				return out, skipped, 0, "", nil
			}
			out[cur].linkTypes = append(out[cur].linkTypes, order.Uint16(idb[0:2]))
			out[cur].snaplens = append(out[cur].snaplens, order.Uint32(idb[4:8]))
			body -= 8
		case typ == 2 || typ == 3 || typ == 6:
			out[cur].packets++
			total++
			// The captured length must fit the block: pcapgo allocates what it says.
			var ph [20]byte
			hl := 20
			if typ == 3 {
				hl = 4
			}
			if body < hl+4 {
				return out, skipped, total, fmt.Sprintf("packet block at byte %d is too short (%d bytes)", off-int64(length), length), nil
			}
			if _, err := io.ReadFull(r, ph[:hl]); err != nil {
				return out, skipped, 0, "", nil
			}
			body -= hl
			capLen := order.Uint32(ph[12:16])
			if typ == 3 {
				// A simple packet block holds the original length; pcapgo reads it cut
				// at the first interface's snapshot length.
				capLen = order.Uint32(ph[0:4])
				if len(out[cur].snaplens) == 0 {
					return out, skipped, total, fmt.Sprintf("simple packet block at byte %d comes before any interface", off-int64(length)), nil
				}
				if sl := out[cur].snaplens[0]; sl != 0 && sl < capLen {
					capLen = sl
				}
			}
			if int64(capLen) > int64(body-4) {
				return out, skipped, total, fmt.Sprintf("packet block at byte %d claims %d captured bytes but holds at most %d", off-int64(length), capLen, body-4), nil
			}
		}
		if _, err := r.Discard(body); err != nil {
			flushSkipped()
			return out, skipped, 0, "", nil
		}
	}
}
