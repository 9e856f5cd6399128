package callout_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

const (
	client = "10.0.0.5:50000"
	server = "10.0.0.9:80"
	dnsSrv = "10.0.0.53:53"
)

// lab is a simulated host with a policy applied and callouts registered.
type lab struct {
	t   testing.TB
	e   *engine.Engine
	st  *engine.Stack
	app *policy.Applied
}

// newLab applies doc and registers code for the callouts it names.
func newLab(t testing.TB, doc string, code map[string]callout.Callout) *lab {
	e := engine.New(engine.Options{})
	s := e.Open(wfp.SessionOptions{Name: "lab"})
	t.Cleanup(func() { _ = s.Close() })
	d, err := policy.Parse("lab.yaml", []byte(doc))
	require.NoError(t, err)
	objs, err := d.Objects()
	require.NoError(t, err)
	app, err := policy.ApplyObjects(s, objs)
	require.NoError(t, err)
	for _, c := range objs.Callouts {
		if x, ok := code[c.DisplayData.Name]; ok {
			require.NoError(t, e.RegisterCallout(c.Key, x))
		}
	}
	h := engine.Host{
		Name: "lab",
		Interfaces: []engine.Interface{{Index: 2, Name: "eth0", Type: engine.IfTypeEthernet,
			Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}},
		Processes: []engine.Process{{PID: 100, Image: `C:\app\app.exe`}},
		Sockets: []engine.Socket{
			{Protocol: 6, Local: netip.MustParseAddrPort(client), PID: 100},
			{Protocol: 17, Local: netip.MustParseAddrPort("10.0.0.5:5353"), PID: 100},
		},
	}
	st, err := e.NewStack(h, engine.StackOptions{})
	require.NoError(t, err)
	return &lab{t: t, e: e, st: st, app: app}
}

func (l *lab) connect() *engine.Flow {
	require.False(l.t, l.st.Send(engine.TCP(client, server, engine.TCPSyn, nil)).Dropped())
	r := l.st.Receive(2, engine.TCP(server, client, engine.TCPSyn|engine.TCPAck, nil))
	require.False(l.t, r.Dropped(), r.Reason)
	require.False(l.t, l.st.Send(engine.TCP(client, server, engine.TCPAck, nil)).Dropped())
	return r.Flow
}

// udp builds a UDP datagram with its bytes (so callouts see layer data), decoded
// as the stack decodes injected packets.
func udp(t testing.TB, src, dst string, payload []byte) *engine.Packet {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	b := make([]byte, 28+len(payload))
	b[0], b[8], b[9] = 0x45, 128, 17
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	copy(b[12:16], s.Addr().AsSlice())
	copy(b[16:20], d.Addr().AsSlice())
	binary.BigEndian.PutUint16(b[20:], s.Port())
	binary.BigEndian.PutUint16(b[22:], d.Port())
	binary.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
	copy(b[28:], payload)
	p, err := engine.DecodeIP(b)
	require.NoError(t, err)
	return p
}

// dnsQuery builds a DNS query message for name and qtype.
func dnsQuery(id uint16, name string, qtype uint16) []byte {
	b := []byte{byte(id >> 8), byte(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			b = append(b, byte(i-start))
			b = append(b, name[start:i]...)
			start = i + 1
		}
	}
	return append(b, 0, byte(qtype>>8), byte(qtype), 0, 1)
}

// deletes counts FlowDelete calls per context, to check "exactly once".
type deletes struct {
	callout.Callout
	mu sync.Mutex
	n  map[uint64]int
}

func (d *deletes) FlowDelete(l wfp.LayerID, c wfp.CalloutID, ctx uint64) {
	d.mu.Lock()
	if d.n == nil {
		d.n = map[uint64]int{}
	}
	d.n[ctx]++
	d.mu.Unlock()
	d.Callout.FlowDelete(l, c, ctx)
}

func TestCounter(t *testing.T) {
	c := callout.NewCounter()
	l := newLab(t, `version: 1
callouts:
  - {name: count-stream, layer: STREAM_V4}
  - {name: count-dgram, layer: DATAGRAM_DATA_V4}
filters:
  - {name: s, layer: STREAM_V4, action: callout_inspection, callout: count-stream}
  - {name: d, layer: DATAGRAM_DATA_V4, action: callout_inspection, callout: count-dgram}
`, map[string]callout.Callout{"count-stream": c, "count-dgram": c})
	l.connect()
	assert.False(t, l.st.Send(engine.TCP(client, server, engine.TCPAck, []byte("hello"))).Dropped())
	assert.False(t, l.st.Receive(2, engine.TCP(server, client, engine.TCPAck, []byte("world!"))).Dropped())
	assert.False(t, l.st.Send(udp(t, "10.0.0.5:5353", dnsSrv, []byte("1234"))).Dropped())
	assert.Equal(t, callout.Count{Packets: 2, Bytes: 11}, c.Count(layers.StreamV4.ID))
	// Outbound at DATAGRAM_DATA the data starts at the UDP header: 8 + 4 bytes.
	assert.Equal(t, callout.Count{Packets: 1, Bytes: 12}, c.Count(layers.DatagramDataV4.ID))
	assert.Equal(t, callout.Count{Packets: 3, Bytes: 23}, c.Total())

	// Safe for concurrent use.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out callout.ClassifyOut
			c.Classify(&callout.IncomingValues{LayerID: 1}, nil, &callout.PacketData{Bytes: []byte("ab")}, nil, 0, &out)
		}()
	}
	wg.Wait()
	assert.Equal(t, callout.Count{Packets: 8, Bytes: 16}, c.Count(1))
}

func TestDNSLogger(t *testing.T) {
	lg := callout.NewDNSLogger(nil)
	l := newLab(t, `version: 1
callouts:
  - {name: dns, layer: DATAGRAM_DATA_V4}
filters:
  - name: dns
    layer: DATAGRAM_DATA_V4
    action: callout_inspection
    callout: dns
    conditions: [{field: IP_PROTOCOL, value: udp}]
`, map[string]callout.Callout{"dns": lg})
	r := l.st.Send(udp(t, "10.0.0.5:5353", dnsSrv, dnsQuery(0x1234, "example.com", 1)))
	require.False(t, r.Dropped(), r.Reason)
	// The reply is a response: not logged.
	resp := dnsQuery(0x1234, "example.com", 1)
	resp[2] |= 0x80
	require.False(t, l.st.Receive(2, udp(t, dnsSrv, "10.0.0.5:5353", resp)).Dropped())
	// Malformed: a label running past the end.
	require.False(t, l.st.Send(udp(t, "10.0.0.5:5353", dnsSrv, []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 60, 'a'})).Dropped())
	// Not DNS: another port.
	require.False(t, l.st.Send(udp(t, "10.0.0.5:5353", "10.0.0.9:9999", dnsQuery(1, "x.org", 1))).Dropped())

	q := lg.Queries()
	require.Len(t, q, 1)
	assert.Equal(t, "example.com", q[0].Name)
	assert.Equal(t, "A", q[0].TypeName())
	assert.Equal(t, wfp.DirectionOutbound, q[0].Direction)
	assert.NotZero(t, q[0].FlowHandle)
	assert.Equal(t, 1, lg.Malformed())
}

func TestParseDNSQuery(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  []byte
		want string
		err  bool
	}{
		{"a", dnsQuery(7, "www.example.org", 28), "www.example.org", false},
		{"root", dnsQuery(7, "", 2), ".", false},
		{"short", []byte{1, 2, 3}, "", true},
		{"pointer loop", []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}, "", true},
		{"odd bytes", append([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'a', '.', 0xff, 0}, 0, 1, 0, 1), `a\046\255`, false},
		{"no type", dnsQuery(7, "a.b", 1)[:17], "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := callout.ParseDNSQuery(tc.msg)
			if tc.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, q.Name)
		})
	}
}

func FuzzDNSQuery(f *testing.F) {
	f.Add(dnsQuery(1, "example.com", 1))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := callout.ParseDNSQuery(b)
		if err == nil && len(q.Name) == 0 {
			t.Fatal("a parsed query has a name")
		}
		// The callout tolerates anything as layer data, inbound and outbound.
		lg := callout.NewDNSLogger(nil)
		in := &callout.IncomingValues{LayerID: layers.DatagramDataV4.ID, Values: make([]wfp.Value, len(layers.DatagramDataV4.Fields))}
		for _, fl := range layers.DatagramDataV4.Fields {
			switch fl.Condition {
			case layers.ConditionIPProtocol:
				in.Values[fl.Index] = wfp.Uint8(17)
			case layers.ConditionIPRemotePort:
				in.Values[fl.Index] = wfp.Uint16(53)
			}
		}
		for _, dir := range []wfp.Direction{wfp.DirectionInbound, wfp.DirectionOutbound} {
			var out callout.ClassifyOut
			meta := &callout.Metadata{PacketDirection: dir, Fields: callout.MetaTransportHeaderSize, TransportHeaderSize: 8}
			lg.Classify(in, meta, &callout.PacketData{Bytes: b}, nil, 0, &out)
			lg.Classify(in, meta, &callout.PacketData{Bytes: b, Offset: 3}, nil, 0, &out)
		}
	})
}

func TestStreamBlocker(t *testing.T) {
	doc := func(action string) string {
		return fmt.Sprintf(`version: 1
callouts:
  - {name: blocker, layer: STREAM_V4}
filters:
  - {name: no-evil, layer: STREAM_V4, action: %s, callout: blocker}
`, action)
	}
	t.Run("split across segments, callout_unknown drops the connection", func(t *testing.T) {
		sb := callout.NewStreamBlocker([]byte("evil"))
		d := &deletes{Callout: sb}
		l := newLab(t, doc("callout_unknown"), map[string]callout.Callout{"blocker": d})
		f := l.connect()
		r := l.st.Send(engine.TCP(client, server, engine.TCPAck, []byte("GET /e")))
		assert.False(t, r.Dropped())
		r = l.st.Send(engine.TCP(client, server, engine.TCPAck, []byte("vi")))
		assert.True(t, r.Pending, "the partial match is held")
		r = l.st.Send(engine.TCP(client, server, engine.TCPAck, []byte("l HTTP/1.1")))
		assert.True(t, r.Dropped())
		assert.Equal(t, engine.FlowClosed, f.State)
		require.Len(t, sb.Matches(), 1)
		assert.Equal(t, f.ID, sb.Matches()[0].FlowHandle)
	})
	t.Run("callout_terminating blocks the data, the connection stays", func(t *testing.T) {
		sb := callout.NewStreamBlocker([]byte("evil"))
		l := newLab(t, doc("callout_terminating"), map[string]callout.Callout{"blocker": sb})
		f := l.connect()
		assert.True(t, l.st.Receive(2, engine.TCP(server, client, engine.TCPAck, []byte("so evil"))).Dropped())
		assert.NotEqual(t, engine.FlowClosed, f.State)
		assert.False(t, l.st.Receive(2, engine.TCP(server, client, engine.TCPAck, []byte("fine"))).Dropped())
	})
	t.Run("no match is delivered, the held tail released on FIN", func(t *testing.T) {
		sb := callout.NewStreamBlocker([]byte("evil"))
		l := newLab(t, doc("callout_unknown"), map[string]callout.Callout{"blocker": sb})
		l.connect()
		assert.False(t, l.st.Send(engine.TCP(client, server, engine.TCPAck, []byte("good"))).Dropped())
		assert.True(t, l.st.Send(engine.TCP(client, server, engine.TCPAck, []byte("e"))).Pending)
		r := l.st.Send(engine.TCP(client, server, engine.TCPAck|engine.TCPFin, []byte("x")))
		assert.False(t, r.Dropped())
		assert.False(t, r.Pending)
		assert.Empty(t, sb.Matches())
	})
}

func TestConnTracker(t *testing.T) {
	ct := callout.NewConnTracker()
	d := &deletes{Callout: ct}
	l := newLab(t, `version: 1
callouts:
  - {name: ct-est, layer: ALE_FLOW_ESTABLISHED_V4}
  - {name: ct-stream, layer: STREAM_V4}
  - {name: ct-dgram, layer: DATAGRAM_DATA_V4}
filters:
  - {name: est, layer: ALE_FLOW_ESTABLISHED_V4, action: callout_inspection, callout: ct-est}
  - {name: stream, layer: STREAM_V4, action: callout_inspection, callout: ct-stream}
  - {name: dgram, layer: DATAGRAM_DATA_V4, action: callout_inspection, callout: ct-dgram}
`, map[string]callout.Callout{"ct-est": d, "ct-stream": d, "ct-dgram": d})
	ct.Deliver(layers.StreamV4, l.app.CalloutIDs["ct-stream"])
	ct.Deliver(layers.DatagramDataV4, l.app.CalloutIDs["ct-dgram"])

	f := l.connect()
	require.Len(t, ct.Live(), 1)
	require.False(t, l.st.Send(engine.TCP(client, server, engine.TCPAck, []byte("hello"))).Dropped())
	require.False(t, l.st.Receive(2, engine.TCP(server, client, engine.TCPAck, []byte("hi!"))).Dropped())
	require.False(t, l.st.Send(udp(t, "10.0.0.5:5353", dnsSrv, []byte("abcd"))).Dropped())
	require.False(t, l.st.Receive(2, udp(t, dnsSrv, "10.0.0.5:5353", []byte("xy"))).Dropped())
	require.Len(t, ct.Live(), 2)

	// The TCP flow ends with FIN from both sides, then RST arrives too late.
	l.st.Send(engine.TCP(client, server, engine.TCPAck|engine.TCPFin, nil))
	l.st.Receive(2, engine.TCP(server, client, engine.TCPAck|engine.TCPFin, nil))
	l.st.Receive(2, engine.TCP(server, client, engine.TCPRst, nil))
	done := ct.Done()
	require.Len(t, done, 1)
	c := done[0]
	assert.Equal(t, f.ID, c.FlowHandle)
	assert.Equal(t, uint8(6), c.Protocol)
	assert.Equal(t, netip.MustParseAddrPort(server), c.Remote)
	assert.Equal(t, uint64(5), c.BytesOut)
	assert.Equal(t, uint64(3), c.BytesIn)
	assert.Equal(t, layers.StreamV4.ID, c.DeleteLayer)

	// The UDP flow ends when the stack closes.
	l.st.Close()
	l.st.Close()
	done = ct.Done()
	require.Len(t, done, 2)
	assert.Equal(t, uint8(17), done[1].Protocol)
	assert.Equal(t, uint64(4), done[1].BytesOut)
	assert.Equal(t, uint64(2), done[1].BytesIn)
	assert.Empty(t, ct.Live())
	assert.Empty(t, ct.Errors())
	for ctx, n := range d.n {
		assert.Equal(t, 1, n, "FlowDelete for context %d called exactly once", ctx)
	}
	assert.Len(t, d.n, 2)
}

// ExampleDNSLogger logs the DNS query a host sends, seen at DATAGRAM_DATA_V4.
func ExampleDNSLogger() {
	e := engine.New(engine.Options{})
	s := e.Open(wfp.SessionOptions{Name: "example"})
	defer s.Close()
	doc, _ := policy.Parse("dns.yaml", []byte(`version: 1
callouts:
  - {name: dns-logger, layer: DATAGRAM_DATA_V4}
filters:
  - name: log-dns
    layer: DATAGRAM_DATA_V4
    action: callout_inspection
    callout: dns-logger
    conditions: [{field: IP_REMOTE_PORT, value: 53}]
`))
	objs, _ := doc.Objects()
	if _, err := policy.ApplyObjects(s, objs); err != nil {
		fmt.Println(err)
		return
	}
	_ = e.RegisterCallout(objs.Callouts[0].Key, callout.NewDNSLogger(os.Stdout))

	st, _ := e.NewStack(engine.Host{Interfaces: []engine.Interface{{Index: 2, Name: "eth0", Type: engine.IfTypeEthernet,
		Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}}}, engine.StackOptions{})
	// A query for example.com, type A, as IP bytes.
	msg := dnsQuery(0xbeef, "example.com", 1)
	pkt := make([]byte, 28, 28+len(msg))
	pkt = append(pkt, msg...)
	pkt[0], pkt[8], pkt[9] = 0x45, 128, 17
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	copy(pkt[12:], []byte{10, 0, 0, 5, 10, 0, 0, 53})
	binary.BigEndian.PutUint16(pkt[20:], 50001)
	binary.BigEndian.PutUint16(pkt[22:], 53)
	binary.BigEndian.PutUint16(pkt[24:], uint16(8+len(msg)))
	p, _ := engine.DecodeIP(pkt)
	res := st.Send(p)
	fmt.Println("verdict:", res.Verdict.ShortName())
	// Output:
	// outbound query A example.com (id 0xbeef)
	// verdict: permit
}
