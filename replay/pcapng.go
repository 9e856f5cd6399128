package replay

import (
	"bufio"
	"encoding/binary"
	"io"
)

// AnnotatedWriter writes a pcapng copy of a capture whose packet comments (option 1 of
// the enhanced packet block) carry each packet's verdict and reason, so the copy opens
// in Wireshark with the verdicts shown (frame.comment). gopacket's pcapng writer writes
// no per-packet options, hence this small writer.
type AnnotatedWriter struct {
	w      *bufio.Writer
	ifaces map[uint16]uint32 // link type -> interface id
	err    error
}

const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockEPB = 0x00000006

	optEnd         = 0
	optComment     = 1
	optShbUserAppl = 4
	optIfTsresol   = 9
)

// NewAnnotatedWriter starts a pcapng file (one section) on w.
func NewAnnotatedWriter(w io.Writer) (*AnnotatedWriter, error) {
	a := &AnnotatedWriter{w: bufio.NewWriterSize(w, 1<<16), ifaces: map[uint16]uint32{}}
	var body []byte
	body = binary.LittleEndian.AppendUint32(body, 0x1A2B3C4D) // byte-order magic
	body = binary.LittleEndian.AppendUint16(body, 1)          // major version
	body = binary.LittleEndian.AppendUint16(body, 0)          // minor version
	body = binary.LittleEndian.AppendUint64(body, ^uint64(0)) // section length: unknown
	body = appendOption(body, optShbUserAppl, []byte("wfpsim replay"))
	body = appendOption(body, optEnd, nil)
	a.block(blockSHB, body)
	return a, a.err
}

// WritePacket appends a frame with its comment; an empty comment adds none.
func (a *AnnotatedWriter) WritePacket(f Frame, comment string) error {
	id, ok := a.ifaces[f.LinkType]
	if !ok {
		id = uint32(len(a.ifaces))
		a.ifaces[f.LinkType] = id
		var body []byte
		body = binary.LittleEndian.AppendUint16(body, f.LinkType)
		body = binary.LittleEndian.AppendUint16(body, 0)
		body = binary.LittleEndian.AppendUint32(body, 0)   // snaplen: no limit
		body = appendOption(body, optIfTsresol, []byte{9}) // nanoseconds
		body = appendOption(body, optEnd, nil)
		a.block(blockIDB, body)
	}
	ts := uint64(f.Time.UnixNano())
	orig := f.OrigLen
	if orig < len(f.Data) {
		orig = len(f.Data)
	}
	body := make([]byte, 0, 20+len(f.Data)+len(comment)+16)
	body = binary.LittleEndian.AppendUint32(body, id)
	body = binary.LittleEndian.AppendUint32(body, uint32(ts>>32))
	body = binary.LittleEndian.AppendUint32(body, uint32(ts))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(f.Data)))
	body = binary.LittleEndian.AppendUint32(body, uint32(orig))
	body = append(body, f.Data...)
	body = pad4(body)
	if comment != "" {
		body = appendOption(body, optComment, []byte(comment))
		body = appendOption(body, optEnd, nil)
	}
	a.block(blockEPB, body)
	return a.err
}

// Flush writes out what is buffered.
func (a *AnnotatedWriter) Flush() error {
	if a.err != nil {
		return a.err
	}
	return a.w.Flush()
}

func (a *AnnotatedWriter) block(typ uint32, body []byte) {
	if a.err != nil {
		return
	}
	total := uint32(12 + len(body))
	var hdr [8]byte
	binary.LittleEndian.PutUint32(hdr[0:4], typ)
	binary.LittleEndian.PutUint32(hdr[4:8], total)
	if _, a.err = a.w.Write(hdr[:]); a.err != nil {
		return
	}
	if _, a.err = a.w.Write(body); a.err != nil {
		return
	}
	_, a.err = a.w.Write(hdr[4:8])
}

func appendOption(b []byte, code uint16, value []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(value)))
	b = append(b, value...)
	return pad4(b)
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
