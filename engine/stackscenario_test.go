package engine_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

// TestStackScenarios walks testdata/scenarios/stack/*.txtar: a host, a policy and a
// packet script run through engine.Stack, with the layer walk of every packet as the
// golden trace. Each file holds:
//
//	-- policy.yaml --  a policy document, applied before the first packet
//	-- callouts --     optional: "NAME ACTION" per line, as in TestScenarios (permit,
//	                   block, continue, permit-hard, block-hard), plus "absorb" (block
//	                   hard with FWPS_CLASSIFY_OUT_FLAG_ABSORB) and "panic"
//	-- host --         the host, one item per line:
//	                     iface INDEX NAME ethernet|noeth [type=N] [mac=..-..] ADDR/BITS...
//	                     process PID SID IMAGE-PATH (the path may hold spaces)
//	                     socket tcp|udp|icmp|icmpv6 ADDR:PORT pid=N [listen]
//	                     forwarding on|off
//	                   an interface's LUID is IF_TYPE<<48 | INDEX<<24, as NET_LUID
//	                   packs them; the loopback interface is added when not listed
//	-- packets --      the script, one command per line (# comments):
//	                     send PROTO SRC > DST [TCPFLAGS] [OPTION...]
//	                     recv IFINDEX PROTO SRC > DST [TCPFLAGS] [OPTION...]
//	                       PROTO tcp, udp (SRC and DST are ADDR:PORT), icmp, icmpv6
//	                       (bare addresses); TCPFLAGS letters S A F R P ("SA");
//	                       options: payload=TEXT, len=N (N bytes), type=N code=N
//	                       id=N seq=N (ICMP), embed=PROTO:SRC>DST (the packet an ICMP
//	                       error quotes), vlan=N, noeth (no Ethernet header; frames
//	                       otherwise get one when the interface is Ethernet),
//	                       frags=N (the datagram goes as N IP fragments, each its
//	                       own numbered packet), fragid=N
//	                     listen tcp ADDR:PORT pid=N
//	                     advance DURATION   (the virtual clock, "61s")
//	                     apply SECTION      (adds the objects of another policy section)
//	                     close              (Stack.Close)
//	-- want.trace --   per packet its number and summary, each layer (C name), its
//	                   decision and why the packet met it (with the FLAGS bits when
//	                   any), the verdict and reason; replies and injections indented
//	                   under it; flows ending and callout faults as they happen.
//
// Every packet's time is the script's virtual clock. The script runs twice, traced and
// untraced: the walks must agree. -update rewrites want.trace.
func TestStackScenarios(t *testing.T) {
	files, err := filepath.Glob("../testdata/scenarios/stack/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			sections, order := parseTxtar(string(data))
			got := runStackScenario(t, file, sections, true)
			untraced := runStackScenario(t, file, sections, false)
			assert.Equal(t, stripFlags(got), untraced, "traced and untraced walks differ")
			if *update {
				sections["want.trace"] = got
				require.NoError(t, os.WriteFile(file, []byte(formatTxtar(sections, order)), 0o644))
				return
			}
			assert.Equal(t, sections["want.trace"], got, "run go test ./engine -run TestStackScenarios -update")
		})
	}
}

// stripFlags removes the " flags=..." annotations, which only traced runs know.
func stripFlags(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if i := strings.Index(l, " [flags="); i >= 0 {
			j := strings.Index(l[i:], "]")
			l = l[:i] + l[i+j+1:]
		}
		b.WriteString(l)
	}
	return b.String()
}

var scenarioEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

var remoteMAC = [6]byte{0x02, 0, 0, 0, 0, 0x01}

type stackRun struct {
	t     *testing.T
	file  string
	e     *engine.Engine
	sess  *engine.Session
	s     *engine.Stack
	host  engine.Host
	now   time.Time
	b     strings.Builder
	logs  int
	fault int
	trace bool
	secs  map[string]string
}

func runStackScenario(t *testing.T, file string, sections map[string]string, trace bool) string {
	r := &stackRun{t: t, file: file, e: engine.New(engine.Options{}), now: scenarioEpoch, trace: trace, secs: sections}
	r.sess = r.e.Open(wfp.SessionOptions{Name: "stack-scenario"})
	defer r.sess.Close()
	r.apply("policy.yaml")
	r.host = parseHost(t, sections["host"])
	s, err := r.e.NewStack(r.host, engine.StackOptions{Trace: trace})
	require.NoError(t, err)
	r.s = s
	for _, line := range lines(sections["packets"]) {
		r.command(line)
		r.notes("  ")
	}
	if n := len(r.s.Flows()); n > 0 {
		fmt.Fprintf(&r.b, "end of script: %d live flow(s); the stack closes\n", n)
		r.s.Close()
		r.notes("  ")
	}
	return r.b.String()
}

func (r *stackRun) apply(section string) {
	text, ok := r.secs[section]
	require.True(r.t, ok, "no section %q", section)
	doc, err := policy.Parse(r.file+"#"+section, []byte(text))
	require.NoError(r.t, err)
	objs, err := doc.Objects()
	require.NoError(r.t, err)
	_, err = policy.ApplyObjects(r.sess, objs)
	require.NoError(r.t, err)
	for _, line := range lines(r.secs["callouts"]) {
		name, act, ok := strings.Cut(line, " ")
		require.True(r.t, ok, "callouts: want NAME ACTION, got %q", line)
		key, ok := objs.Names.CalloutKey(name)
		if !ok {
			continue // declared in another section
		}
		require.NoError(r.t, r.e.RegisterCallout(key, scenarioCallout(r.t, act)))
	}
}

func scenarioCallout(t *testing.T, act string) callout.Callout {
	switch act {
	case "absorb":
		return callout.Func(func(_ *callout.IncomingValues, _ *callout.Metadata, _ any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
			out.Action, out.Flags = wfp.ActionBlock, out.Flags|callout.FlagAbsorb
			out.Rights &^= callout.RightActionWrite
		})
	case "panic":
		return callout.Func(func(*callout.IncomingValues, *callout.Metadata, any, *callout.Filter, uint64, *callout.ClassifyOut) {
			panic("scenario callout panics")
		})
	}
	a, err := wfp.ParseActionType(strings.TrimSuffix(act, "-hard"))
	require.NoError(t, err)
	return callout.Static(a, strings.HasSuffix(act, "-hard"))
}

// notes prints the flows that ended and the faults recorded since the last call.
func (r *stackRun) notes(indent string) {
	log := r.s.Log()
	for _, l := range log[r.logs:] {
		fmt.Fprintf(&r.b, "%s%s\n", indent, l)
	}
	r.logs = len(log)
	faults := r.s.Faults()
	for _, f := range faults[r.fault:] {
		fmt.Fprintf(&r.b, "%sfault: %s\n", indent, f)
	}
	r.fault = len(faults)
}

func (r *stackRun) command(line string) {
	t := r.t
	f := strings.Fields(line)
	switch f[0] {
	case "advance":
		d, err := time.ParseDuration(f[1])
		require.NoError(t, err)
		r.now = r.now.Add(d)
		fmt.Fprintf(&r.b, "advance %s\n", f[1])
		r.s.Advance(r.now)
	case "apply":
		fmt.Fprintf(&r.b, "apply %s\n", f[1])
		r.apply(f[1])
	case "close":
		fmt.Fprintf(&r.b, "close\n")
		r.s.Close()
	case "listen":
		require.Len(t, f, 4, "listen tcp ADDR:PORT pid=N")
		pid, err := strconv.ParseUint(strings.TrimPrefix(f[3], "pid="), 10, 64)
		require.NoError(t, err)
		res := r.s.Listen(engine.Socket{Protocol: 6, Local: netip.MustParseAddrPort(f[2]), PID: pid})
		r.result(res, "", "listen tcp "+f[2])
	case "send", "recv":
		ifIndex := uint32(0)
		args := f[1:]
		if f[0] == "recv" {
			n, err := strconv.ParseUint(args[0], 10, 32)
			require.NoError(t, err)
			ifIndex, args = uint32(n), args[1:]
		}
		for _, p := range r.packets(f[0] == "send", ifIndex, args) {
			p.Time = r.now
			var res *engine.Result
			if f[0] == "send" {
				res = r.s.Send(p)
			} else {
				res = r.s.Receive(ifIndex, p)
			}
			prefix := "send"
			if f[0] == "recv" {
				prefix = fmt.Sprintf("recv if %d", ifIndex)
			}
			r.result(res, "", prefix+" "+p.String())
		}
	default:
		t.Fatalf("unknown command %q", line)
	}
}

func (r *stackRun) result(res *engine.Result, indent, summary string) {
	if indent == "" {
		fmt.Fprintf(&r.b, "#%d %s\n", res.Number, summary)
	} else {
		fmt.Fprintf(&r.b, "%s%s\n", indent, summary)
	}
	for _, st := range res.Steps {
		r.assertFlags(st)
		fmt.Fprintf(&r.b, "%s  %s: %s%s -- %s\n", indent, st.Layer.Name, decisionText(st.Decision), flagsText(st), st.Note)
	}
	verdict := "permit"
	if res.Dropped() {
		verdict = "block"
	}
	if res.Pending {
		verdict = "pending"
	}
	flow := ""
	if res.Flow != nil {
		flow = fmt.Sprintf(" [flow %d %s]", res.Flow.ID, res.Flow.State)
	}
	fmt.Fprintf(&r.b, "%s  => %s: %s%s\n", indent, verdict, res.Reason, flow)
	for _, rep := range res.Replies {
		r.result(rep, indent+"    ", "reply "+rep.Packet.String())
	}
	for _, inj := range r.s.Injections() {
		r.result(inj.Result, indent+"    ", fmt.Sprintf("injected %s by handle %d: %s", inj.Request.Kind, inj.Request.Handle, inj.Result.Packet))
	}
}

// assertFlags checks that the stack set only flags condition_flag_layers.tsv lists
// for the layer (Layer.ConditionFlags).
func (r *stackRun) assertFlags(st engine.Step) {
	if st.Trace == nil {
		return
	}
	var allowed uint32
	for _, n := range st.Layer.ConditionFlags {
		c, ok := layers.ConstantByName(n)
		require.True(r.t, ok, n)
		allowed |= uint32(c.Value)
	}
	for _, v := range st.Trace.Values {
		if v.Field == "FLAGS" {
			got := uint32(v.Value.(wfp.Uint32))
			assert.Zero(r.t, got&^allowed, "%s: FLAGS %#x holds flags the layer cannot carry (allowed %#x)", st.Layer.ShortName, got, allowed)
		}
	}
}

func decisionText(d engine.Decision) string {
	if !d.Decided {
		return "permit (no filter decided)"
	}
	s := fmt.Sprintf("%s by %q", strings.ToLower(strings.TrimPrefix(d.Action.String(), "FWP_ACTION_")), d.FilterName)
	if d.Hard {
		s += " (hard)"
	} else {
		s += " (soft)"
	}
	if d.Vetoed {
		s += ", veto"
	}
	if d.Absorb {
		s += ", absorb"
	}
	return s
}

func flagsText(st engine.Step) string {
	if st.Trace == nil {
		return ""
	}
	for _, v := range st.Trace.Values {
		if v.Field == "FLAGS" && uint32(v.Value.(wfp.Uint32)) != 0 {
			return " [flags=" + v.Text + "]"
		}
	}
	return ""
}

// packets builds the packets of a send or recv line: one, or its fragments.
func (r *stackRun) packets(send bool, ifIndex uint32, args []string) []*engine.Packet {
	t := r.t
	require.GreaterOrEqual(t, len(args), 4, "want PROTO SRC > DST")
	proto, src, dst := args[0], args[1], args[3]
	require.Equal(t, ">", args[2])
	rest := args[4:]
	var flags uint8
	if proto == "tcp" && len(rest) > 0 && !strings.Contains(rest[0], "=") && rest[0] != "noeth" {
		for _, c := range rest[0] {
			flags |= map[rune]uint8{'S': engine.TCPSyn, 'A': engine.TCPAck, 'F': engine.TCPFin, 'R': engine.TCPRst, 'P': engine.TCPPsh}[c]
		}
		rest = rest[1:]
	}
	opts := map[string]string{}
	for _, o := range rest {
		k, v, _ := strings.Cut(o, "=")
		opts[k] = v
	}
	num := func(k string) int {
		if opts[k] == "" {
			return 0
		}
		n, err := strconv.Atoi(opts[k])
		require.NoError(t, err, k)
		return n
	}
	payload := []byte(opts["payload"])
	if n := num("len"); n > 0 {
		payload = []byte(strings.Repeat("x", n))
	}
	var p *engine.Packet
	switch proto {
	case "tcp":
		p = engine.TCP(src, dst, flags, payload)
	case "udp":
		p = engine.UDP(src, dst, payload)
	case "icmp", "icmpv6":
		p = engine.ICMP(src, dst, uint8(num("type")), uint8(num("code")), uint16(num("id")), uint16(num("seq")))
		p.Payload = payload
		if e := opts["embed"]; e != "" {
			ep, rest, _ := strings.Cut(e, ":")
			a, b, _ := strings.Cut(rest, ">")
			if ep == "tcp" {
				p.Embedded = engine.TCP(a, b, engine.TCPSyn, nil)
			} else {
				p.Embedded = engine.UDP(a, b, nil)
			}
		}
	default:
		t.Fatalf("unknown protocol %q", proto)
	}
	p.Raw = buildIP(p)
	r.ethernet(p, send, ifIndex, opts)
	n := num("frags")
	if n < 2 {
		return []*engine.Packet{p}
	}
	// Split the transport bytes into n fragments, 8-byte aligned.
	l4 := p.Raw[p.IPHeaderLen:]
	size := (len(l4)/n + 7) &^ 7
	var out []*engine.Packet
	for off := 0; off < len(l4); off += size {
		end := min(off+size, len(l4))
		fp := *p
		fp.FragID, fp.FragOffset, fp.MoreFragments = uint32(num("fragid")), off, end < len(l4)
		fp.Payload = l4[off:end]
		if fp.IPVersion == 6 {
			fp.IPHeaderLen = 48
		}
		fp.Raw = buildIP(&fp)
		out = append(out, &fp)
	}
	return out
}

// ethernet adds an Ethernet header when the packet's interface is Ethernet.
func (r *stackRun) ethernet(p *engine.Packet, send bool, ifIndex uint32, opts map[string]string) {
	if _, ok := opts["noeth"]; ok {
		return
	}
	var iface *engine.Interface
	for i := range r.host.Interfaces {
		x := &r.host.Interfaces[i]
		if !send && x.Index == ifIndex {
			iface = x
		}
		for _, a := range x.Addrs {
			if send && a.Addr() == p.Src {
				iface = x
			}
		}
	}
	if iface == nil || !iface.Ethernet {
		return
	}
	vlan := 0
	if opts["vlan"] != "" {
		var err error
		vlan, err = strconv.Atoi(opts["vlan"])
		require.NoError(r.t, err)
	}
	local, remote := iface.MAC, remoteMAC
	switch {
	case p.Dst == netip.MustParseAddr("255.255.255.255") || (p.Dst.Is4() && p.Dst.As4()[3] == 255):
		if !send {
			local = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		} else {
			remote = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
	case p.Dst.IsMulticast():
		m := [6]byte{0x01, 0x00, 0x5e, 0, 0, 0x01}
		if !send {
			local = m
		} else {
			remote = m
		}
	}
	if send {
		p.WithEthernet(local, remote, uint16(vlan))
	} else {
		p.WithEthernet(remote, local, uint16(vlan))
	}
}

func parseHost(t *testing.T, text string) engine.Host {
	h := engine.Host{Name: "scenario"}
	for _, line := range lines(text) {
		f := strings.Fields(line)
		switch f[0] {
		case "iface":
			require.GreaterOrEqual(t, len(f), 4, "iface INDEX NAME ethernet|noeth ...")
			idx, err := strconv.ParseUint(f[1], 10, 32)
			require.NoError(t, err)
			i := engine.Interface{Index: uint32(idx), Name: f[2], Ethernet: f[3] == "ethernet", Type: engine.IfTypeEthernet}
			i.MAC = [6]byte{0x00, 0x15, 0x5d, 0, 0, byte(idx)}
			for _, a := range f[4:] {
				switch {
				case strings.HasPrefix(a, "type="):
					n, err := strconv.ParseUint(a[5:], 10, 32)
					require.NoError(t, err)
					i.Type = uint32(n)
				case strings.HasPrefix(a, "mac="):
					for j, x := range strings.Split(a[4:], "-") {
						n, err := strconv.ParseUint(x, 16, 8)
						require.NoError(t, err)
						i.MAC[j] = byte(n)
					}
				default:
					i.Addrs = append(i.Addrs, netip.MustParsePrefix(a))
				}
			}
			i.LUID = uint64(i.Type)<<48 | uint64(i.Index)<<24
			h.Interfaces = append(h.Interfaces, i)
		case "process":
			require.GreaterOrEqual(t, len(f), 4, "process PID SID PATH")
			pid, err := strconv.ParseUint(f[1], 10, 64)
			require.NoError(t, err)
			sid, err := wfp.ParseSID(f[2])
			require.NoError(t, err)
			_, path, _ := strings.Cut(line, f[2])
			h.Processes = append(h.Processes, engine.Process{PID: pid, User: sid, Image: strings.TrimSpace(path)})
		case "socket":
			require.GreaterOrEqual(t, len(f), 4, "socket PROTO ADDR:PORT pid=N [listen]")
			proto := map[string]uint8{"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}[f[1]]
			require.NotZero(t, proto, f[1])
			pid, err := strconv.ParseUint(strings.TrimPrefix(f[3], "pid="), 10, 64)
			require.NoError(t, err)
			h.Sockets = append(h.Sockets, engine.Socket{Protocol: proto, Local: netip.MustParseAddrPort(f[2]), PID: pid, Listen: len(f) > 4 && f[4] == "listen"})
		case "forwarding":
			h.Forwarding = f[1] == "on"
		default:
			t.Fatalf("host: unknown line %q", line)
		}
	}
	return h
}
