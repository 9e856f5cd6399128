// Command block-websites blocks web sites by name: a callout at
// FWPM_LAYER_DATAGRAM_DATA_V4 reads the DNS answers the machine receives, and
// for a name on the block list a worker adds a block filter for each answered
// address at FWPM_LAYER_ALE_AUTH_CONNECT_V4, so the connection that follows the
// lookup is blocked. It replays the bundled workstation capture.
//
//	go run ./examples/block-websites [NAME...]
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/replay"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "block-websites:", err)
		os.Exit(1)
	}
}

// find returns the first of the paths that exists (the example runs from its
// own directory under go test, and from the repository root under go run).
func find(rel string) string {
	for _, p := range []string{filepath.Join("..", "..", rel), rel} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return rel
}

// answer is one A record of a blocked name, found in a DNS response.
type answer struct {
	name string
	addr netip.Addr
}

// dnsWatcher is the callout. classifyFn runs at DISPATCH_LEVEL on Windows, where
// FwpmFilterAdd0 may not be called; like a real driver, it only queues what it
// found, and a worker (here: the replay loop, after each packet) adds the filters
// through its session.
type dnsWatcher struct {
	blocked map[string]bool
	mu      sync.Mutex
	queue   []answer
}

func (d *dnsWatcher) Classify(_ *callout.IncomingValues, meta *callout.Metadata, layerData any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
	out.Action = wfp.ActionContinue // inspection: never change the verdict
	pd, ok := layerData.(*callout.PacketData)
	if !ok || meta == nil || meta.PacketDirection != wfp.DirectionInbound {
		return // an answer is inbound; there the data offset is the UDP payload
	}
	name, addrs, err := parseAnswers(pd.Data())
	if err != nil || !d.blocked[strings.ToLower(name)] {
		return
	}
	d.mu.Lock()
	for _, a := range addrs {
		d.queue = append(d.queue, answer{name, a})
	}
	d.mu.Unlock()
}

func (d *dnsWatcher) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error { return nil }
func (d *dnsWatcher) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64)                   {}

// take empties the queue.
func (d *dnsWatcher) take() []answer {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queue
	d.queue = nil
	return q
}

func run(w io.Writer, args []string) error {
	names := []string{"example.com"}
	if len(args) > 0 {
		names = args
	}
	host, err := replay.LoadHost(find("testdata/hosts/workstation.yaml"))
	if err != nil {
		return err
	}
	capture := find("testdata/pcap/generated/workstation.pcap")

	eng := engine.New(engine.Options{})
	s := eng.Open(wfp.SessionOptions{Name: "web-blocker"})
	watcher := &dnsWatcher{blocked: map[string]bool{}}
	for _, n := range names {
		watcher.blocked[strings.ToLower(n)] = true
	}
	key := wfp.CalloutKey(wfp.GUIDFromName("callout", "dns-watcher"))
	if err := eng.RegisterCallout(key, watcher); err != nil {
		return err
	}
	if _, err := s.AddCallout(wfp.Callout{Key: key, DisplayData: wfp.DisplayData{Name: "dns watcher"}, Layer: layers.DatagramDataV4.Key}); err != nil {
		return err
	}
	if _, err := s.AddFilter(wfp.Filter{
		DisplayData: wfp.DisplayData{Name: "watch dns answers"},
		Layer:       layers.DatagramDataV4.Key,
		Action:      wfp.Action{Type: wfp.ActionCalloutInspection, Callout: key},
		Conditions: []wfp.Condition{
			{Field: layers.ConditionIPProtocol.Key, Match: wfp.MatchEqual, Value: wfp.Uint8(17)},
			{Field: layers.ConditionIPRemotePort.Key, Match: wfp.MatchEqual, Value: wfp.Uint16(53)},
		},
	}); err != nil {
		return err
	}

	r := replay.New(eng, replay.Options{Host: host})
	if err := r.Start([]string{capture}); err != nil {
		return err
	}
	seen := map[string]bool{}
	err = r.Replay(capture, func(pr *replay.PacketResult) error {
		if connects(pr) && !seen[pr.Flow] {
			seen[pr.Flow] = true
			verdict := "permit"
			if pr.Verdict == "block" {
				verdict = "BLOCK by " + pr.Filter
			}
			fmt.Fprintf(w, "packet %2d  %-40s %s\n", pr.N, pr.Flow, verdict)
		}
		// The worker: add a block filter per answered address of a blocked name.
		for _, a := range watcher.take() {
			b := a.addr.As4()
			if _, err := s.AddFilter(wfp.Filter{
				DisplayData: wfp.DisplayData{Name: "block " + a.name + " " + a.addr.String()},
				Layer:       layers.ALEAuthConnectV4.Key,
				Action:      wfp.Action{Type: wfp.ActionBlock},
				Conditions: []wfp.Condition{{Field: layers.ConditionIPRemoteAddress.Key, Match: wfp.MatchEqual,
					Value: wfp.Uint32(binary.BigEndian.Uint32(b[:]))}},
			}); err != nil && !errors.Is(err, wfp.ErrAlreadyExists) {
				return err
			}
			fmt.Fprintf(w, "packet %2d  DNS answer: %s is %s -> block filter added at ALE_AUTH_CONNECT_V4\n", pr.N, a.name, a.addr)
		}
		return nil
	}, func(p replay.Problem) { fmt.Fprintf(w, "problem: %s\n", p) })
	r.Stack().Close()
	return err
}

// connects reports whether the packet opened an outbound connection: it met
// ALE_AUTH_CONNECT.
func connects(pr *replay.PacketResult) bool {
	for _, st := range pr.Steps {
		if st.Layer == layers.ALEAuthConnectV4 || st.Layer == layers.ALEAuthConnectV6 {
			return true
		}
	}
	return false
}

// parseAnswers reads a DNS response (RFC 1035 §4.1): the first question's name
// and the addresses of the A records that answer it (following CNAMEs is left
// out). Every length is checked against msg: a driver must never trust a packet.
func parseAnswers(msg []byte) (string, []netip.Addr, error) {
	if len(msg) < 12 {
		return "", nil, errors.New("dns: short header")
	}
	if msg[2]&0x80 == 0 {
		return "", nil, errors.New("dns: not a response")
	}
	qd, an := binary.BigEndian.Uint16(msg[4:]), binary.BigEndian.Uint16(msg[6:])
	if qd != 1 {
		return "", nil, errors.New("dns: want one question")
	}
	name, off, err := readName(msg, 12)
	if err != nil {
		return "", nil, err
	}
	off += 4 // QTYPE, QCLASS
	var addrs []netip.Addr
	for i := 0; i < int(an); i++ {
		owner, next, err := readName(msg, off)
		if err != nil {
			return "", nil, err
		}
		if next+10 > len(msg) {
			return "", nil, errors.New("dns: short answer")
		}
		typ, class := binary.BigEndian.Uint16(msg[next:]), binary.BigEndian.Uint16(msg[next+2:])
		rdlen := int(binary.BigEndian.Uint16(msg[next+8:]))
		rdata := next + 10
		if rdata+rdlen > len(msg) {
			return "", nil, errors.New("dns: short rdata")
		}
		if typ == 1 && class == 1 && rdlen == 4 && strings.EqualFold(owner, name) {
			addrs = append(addrs, netip.AddrFrom4([4]byte(msg[rdata:rdata+4])))
		}
		off = rdata + rdlen
	}
	return name, addrs, nil
}

// readName reads a domain name at off, following at most 16 compression
// pointers; it returns the name and the offset after it in the message.
func readName(msg []byte, off int) (string, int, error) {
	var labels []string
	end := -1
	for jumps := 0; ; {
		if off >= len(msg) {
			return "", 0, errors.New("dns: name out of bounds")
		}
		n := int(msg[off])
		switch {
		case n == 0:
			if end < 0 {
				end = off + 1
			}
			return strings.Join(labels, "."), end, nil
		case n&0xc0 == 0xc0:
			if off+1 >= len(msg) || jumps == 16 {
				return "", 0, errors.New("dns: bad compression pointer")
			}
			if end < 0 {
				end = off + 2
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
			jumps++
		case n > 63 || off+1+n > len(msg):
			return "", 0, errors.New("dns: bad label")
		default:
			labels = append(labels, string(msg[off+1:off+1+n]))
			off += 1 + n
		}
	}
}
