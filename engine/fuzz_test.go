package engine_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// byteSrc turns fuzz bytes into choices; past the end every choice is 0.
type byteSrc struct {
	b []byte
	i int
}

func (s *byteSrc) u8() byte {
	if s.i >= len(s.b) {
		return 0
	}
	v := s.b[s.i]
	s.i++
	return v
}

func (s *byteSrc) n(k int) int { return int(s.u8()) % k }

func (s *byteSrc) u16() uint16 { return uint16(s.u8())<<8 | uint16(s.u8()) }

func (s *byteSrc) u64() uint64 {
	var v uint64
	for i := 0; i < 8; i++ {
		v = v<<8 | uint64(s.u8())
	}
	return v
}

func pick[T any](s *byteSrc, xs []T) T { return xs[s.n(len(xs))] }

var (
	fzProtos = []wfp.Uint8{6, 17, 1}
	fzPorts  = []wfp.Uint16{80, 443, 53, 8080, 22, 3389}
	fzAddrs  = []string{"10.0.0.1", "10.0.0.2", "10.0.1.5", "192.168.1.10", "8.8.8.8", "10.1.2.3"}
	fzApps   = []string{
		`\device\harddiskvolume3\windows\system32\inetsrv\iis.exe`,
		`\device\harddiskvolume3\program files\app\iis.exe`,
		`\device\harddiskvolume3\windows\system32\svchost.exe`,
		`\device\harddiskvolume3\tools\curl.exe`,
	}
	fzLayers = []*layers.Layer{layers.ALEAuthConnectV4, layers.ALEAuthRecvAcceptV4}
	fzFields = []*layers.Condition{layers.ConditionIPProtocol, layers.ConditionIPRemotePort,
		layers.ConditionIPLocalPort, layers.ConditionIPRemoteAddress, layers.ConditionALEAppID, layers.ConditionFlags}
	fzCalloutActions = []wfp.ActionType{wfp.ActionPermit, wfp.ActionBlock, wfp.ActionContinue,
		wfp.ActionPermit, wfp.ActionBlock, wfp.ActionNone, wfp.ActionType(0x9999)}
)

func v4(s string) wfp.Uint32 { return wfp.V4FromAddr(netip.MustParseAddr(s)) }

// fuzzCondition returns 1 or 2 conditions on one field (two are ORed, rule B3).
func fuzzConditions(s *byteSrc, field *layers.Condition) []wfp.Condition {
	n := 1 + s.n(2)
	var out []wfp.Condition
	for i := 0; i < n; i++ {
		c := wfp.Condition{Field: field.Key, Match: wfp.MatchEqual}
		if s.n(16) == 0 { // B6: a condition on FWP_EMPTY
			c.Value = wfp.Empty{}
			out = append(out, c)
			continue
		}
		k := s.n(8)
		switch field {
		case layers.ConditionIPProtocol:
			c.Value = pick(s, fzProtos)
			if k == 6 {
				c.Match, c.Value = wfp.MatchRange, wfp.Range{Low: wfp.Uint8(6), High: wfp.Uint8(17)}
			} else if k == 7 {
				c.Match = wfp.MatchNotEqual
			}
		case layers.ConditionIPRemotePort, layers.ConditionIPLocalPort:
			c.Value = pick(s, fzPorts)
			switch k {
			case 4:
				a, b := pick(s, fzPorts), pick(s, fzPorts)
				c.Match, c.Value = wfp.MatchRange, wfp.Range{Low: min(a, b), High: max(a, b)}
			case 5:
				c.Match = pick(s, []wfp.MatchType{wfp.MatchGreater, wfp.MatchLess, wfp.MatchGreaterOrEqual, wfp.MatchLessOrEqual})
			case 6:
				c.Match = wfp.MatchNotEqual
			case 7:
				c.Match, c.Value = wfp.MatchFlagsAnySet, wfp.Uint16(1<<s.n(16))
			}
		case layers.ConditionIPRemoteAddress:
			a := v4(pick(s, fzAddrs))
			switch {
			case k < 3:
				c.Value = a
			case k < 6:
				bits := pick(s, []int{0, 8, 16, 24, 31, 32})
				c.Value = wfp.V4AddrMask{Addr: uint32(a), Mask: wfp.V4Mask(bits)}
			default:
				b := v4(pick(s, fzAddrs))
				c.Match, c.Value = wfp.MatchRange, wfp.Range{Low: min(a, b), High: max(a, b)}
			}
		case layers.ConditionALEAppID:
			c.Value = wfp.AppID(pick(s, fzApps))
			switch k {
			case 5, 6:
				c.Match, c.Value = wfp.MatchPrefix, wfp.UTF16Blob(pick(s, []string{"iis.exe", `\iis.exe`, "svchost.exe", "exe"}))
			case 7:
				c.Match, c.Value = wfp.MatchNotPrefix, wfp.UTF16Blob("iis.exe")
			}
		case layers.ConditionFlags:
			c.Match = pick(s, []wfp.MatchType{wfp.MatchFlagsAllSet, wfp.MatchFlagsAnySet, wfp.MatchFlagsNoneSet, wfp.MatchEqual})
			c.Value = wfp.Uint32(s.n(16))
		}
		out = append(out, c)
	}
	return out
}

type fuzzPolicy struct {
	eng       *engine.Engine
	sess      *engine.Session
	sublayers map[wfp.SublayerKey]uint16
	callouts  map[wfp.CalloutKey]refCallout
	invoked   *[]wfp.FilterID
	filters   []wfp.Filter
	desc      strings.Builder
}

// buildFuzzPolicy decodes a random policy: one or two layers, a few sublayers with
// random (often equal) weights, 1..60 filters with every action type, flags and weight
// kind, conditions on six fields, and registered or unregistered callouts.
func buildFuzzPolicy(t testing.TB, s *byteSrc) *fuzzPolicy {
	p := &fuzzPolicy{
		eng:       engine.New(engine.Options{}),
		sublayers: map[wfp.SublayerKey]uint16{},
		callouts:  map[wfp.CalloutKey]refCallout{},
		invoked:   new([]wfp.FilterID),
	}
	p.sess = p.eng.Open(wfp.SessionOptions{Name: "fuzz"})
	sess := p.sess
	require.NoError(t, sess.BeginTransaction(false))

	nLayers := 1 + s.n(2)
	nSubs := 1 + s.n(4)
	subKeys := []wfp.SublayerKey{{}} // zero: FWPM_SUBLAYER_UNIVERSAL
	uni, err := sess.Sublayer(layers.SublayerUniversal.Key)
	require.NoError(t, err)
	p.sublayers[layers.SublayerUniversal.Key] = uni.Weight
	for i := 0; i < nSubs; i++ {
		w := pick(s, []uint16{0x100, 0x200, 0x300, uni.Weight, 0xffff, 0})
		if s.n(4) == 0 {
			w = s.u16()
		}
		key := wfp.SublayerKey(wfp.GUIDFromName("fuzz-sublayer", fmt.Sprint(i)))
		require.NoError(t, sess.AddSublayer(wfp.Sublayer{Key: key, DisplayData: wfp.DisplayData{Name: fmt.Sprint("S", i)}, Weight: w}))
		p.sublayers[key] = w
		subKeys = append(subKeys, key)
		fmt.Fprintf(&p.desc, "sublayer S%d weight 0x%x\n", i, w)
	}
	calloutsAt := map[*layers.Layer][]wfp.CalloutKey{}
	for li := 0; li < nLayers; li++ {
		l := fzLayers[li]
		nc := 1 + s.n(4)
		for i := 0; i < nc; i++ {
			key := wfp.CalloutKey(wfp.GUIDFromName("fuzz-callout", fmt.Sprint(li, "-", i)))
			_, err := sess.AddCallout(wfp.Callout{Key: key, DisplayData: wfp.DisplayData{Name: fmt.Sprint("C", li, i)}, Layer: l.Key})
			require.NoError(t, err)
			calloutsAt[l] = append(calloutsAt[l], key)
			beh := refCallout{Action: pick(s, fzCalloutActions), Hard: s.n(2) == 0, Absorb: s.n(4) == 0}
			if s.n(4) == 0 {
				fmt.Fprintf(&p.desc, "callout C%d%d unregistered\n", li, i)
				continue
			}
			p.callouts[key] = beh
			fmt.Fprintf(&p.desc, "callout C%d%d returns %s hard=%v absorb=%v\n", li, i, beh.Action, beh.Hard, beh.Absorb)
			invoked := p.invoked
			require.NoError(t, p.eng.RegisterCallout(key, callout.Func(func(_ *callout.IncomingValues, _ *callout.Metadata, _ any, f *callout.Filter, _ uint64, out *callout.ClassifyOut) {
				*invoked = append(*invoked, f.ID)
				if out.Rights&callout.RightActionWrite == 0 && beh.Action != wfp.ActionBlock {
					return // rule A7: without the right, only Block may be written
				}
				out.Action = beh.Action
				if beh.Hard {
					out.Rights &^= callout.RightActionWrite
				}
				if beh.Absorb {
					out.Flags |= callout.FlagAbsorb
				}
			})))
		}
	}

	// Many filters and few sublayers: more than 16 filters in a sublayer turn the
	// engine's index on (engine/index.go).
	nFilters := 1 + s.n(16)
	if s.n(3) != 0 {
		nFilters = 17 + s.n(44)
	}
	for i := 0; i < nFilters; i++ {
		l := fzLayers[0]
		if nLayers > 1 && s.n(4) == 0 {
			l = fzLayers[1]
		}
		sub := subKeys[s.n(len(subKeys))]
		if s.n(2) == 0 {
			sub = subKeys[len(subKeys)-1] // a crowded sublayer
		}
		f := wfp.Filter{
			DisplayData: wfp.DisplayData{Name: fmt.Sprint("F", i)},
			Layer:       l.Key,
			Sublayer:    sub,
		}
		switch s.n(8) {
		case 0, 1:
			f.Action.Type = wfp.ActionPermit
		case 2, 3:
			f.Action.Type = wfp.ActionBlock
		case 4, 5:
			f.Action.Type = wfp.ActionCalloutTerminating
		case 6:
			f.Action.Type = wfp.ActionCalloutInspection
		default:
			f.Action.Type = wfp.ActionCalloutUnknown
		}
		if f.Action.Type.IsCallout() {
			f.Action.Callout = pick(s, calloutsAt[l])
		}
		if s.n(4) == 0 {
			f.Flags |= wfp.FilterFlagClearActionRight
		}
		if (f.Action.Type == wfp.ActionCalloutTerminating || f.Action.Type == wfp.ActionCalloutUnknown) && s.n(3) == 0 {
			f.Flags |= wfp.FilterFlagPermitIfCalloutUnregistered
		}
		switch s.n(3) {
		case 1:
			f.Weight = wfp.RangeWeight(uint8(s.n(16)))
		case 2:
			f.Weight = wfp.ExactWeight(pick(s, []uint64{0, 1, 100, 1 << 60, 5 << 60, s.u64()}))
		}
		// Conditions: the first field is often the port, so that many filters share
		// one indexed field; up to three fields.
		nf := s.n(4)
		var used []*layers.Condition
		for j := 0; j < nf; j++ {
			fld := pick(s, fzFields)
			if j == 0 && s.n(2) == 0 {
				fld = layers.ConditionIPRemotePort
			}
			if slices.Contains(used, fld) {
				continue
			}
			used = append(used, fld)
			f.Conditions = append(f.Conditions, fuzzConditions(s, fld)...)
		}
		_, err := sess.AddFilter(f)
		require.NoError(t, err, "filter %d: %+v", i, f)
	}
	require.NoError(t, sess.CommitTransaction())
	p.filters, err = sess.Filters(nil)
	require.NoError(t, err)
	for _, f := range p.filters {
		fmt.Fprintf(&p.desc, "filter #%d %s %s sub=%s w=0x%016x flags=%s action=%s callout=%s conds=", f.ID, f.DisplayData.Name,
			layerName(f.Layer), f.Sublayer, f.EffectiveWeight, f.Flags, f.Action.Type, f.Action.Callout)
		for _, c := range f.Conditions {
			cond, _ := layers.ConditionByKey(c.Field)
			fmt.Fprintf(&p.desc, "[%s %s %s]", cond.ShortName, c.Match.ShortName(), c.Value)
		}
		p.desc.WriteString("\n")
	}
	return p
}

func layerName(k wfp.LayerKey) string {
	if l, ok := layers.LayerByKey(k); ok {
		return l.ShortName
	}
	return k.String()
}

// fuzzValues returns random incoming values at a layer; some fields stay empty (B6).
func fuzzValues(s *byteSrc, l *layers.Layer) []wfp.Value {
	vals := make([]wfp.Value, len(l.Fields))
	set := func(c *layers.Condition, v wfp.Value) {
		if s.n(10) == 0 {
			return
		}
		fld, ok := l.Field(c.Key)
		if ok {
			vals[fld.Index] = v
		}
	}
	set(layers.ConditionIPProtocol, pick(s, fzProtos))
	set(layers.ConditionIPRemotePort, pick(s, fzPorts))
	set(layers.ConditionIPLocalPort, pick(s, fzPorts))
	a := v4(pick(s, fzAddrs))
	if s.n(4) == 0 {
		a = wfp.Uint32(uint32(a) ^ uint32(s.u8()))
	}
	set(layers.ConditionIPRemoteAddress, a)
	set(layers.ConditionALEAppID, wfp.AppID(pick(s, fzApps)))
	set(layers.ConditionFlags, wfp.Uint32(s.n(16)))
	return vals
}

// checkAgainstReference classifies with tracing off and on and compares both with the
// reference arbiter.
func checkAgainstReference(t testing.TB, p *fuzzPolicy, l *layers.Layer, vals []wfp.Value) {
	want := referenceArbitrate(refInput{
		Layer: l, Filters: p.filters, Sublayers: p.sublayers, Callouts: p.callouts, Values: vals,
	})
	for _, traced := range []bool{false, true} {
		*p.invoked = (*p.invoked)[:0]
		var d engine.Decision
		var tr *engine.Trace
		if traced {
			tr = &engine.Trace{}
		}
		require.NoError(t, p.eng.Classify(&engine.Request{Layer: l, Values: vals}, &d, tr))
		got := refResult{Action: d.Action, Hard: d.Hard, Vetoed: d.Vetoed, Decided: d.Decided, Absorb: d.Absorb,
			FilterID: d.FilterID, Invoked: slices.Clone(*p.invoked)}
		for _, sr := range d.Sublayers {
			got.Sublayers = append(got.Sublayers, refSublayer{Key: sr.Sublayer, Action: sr.Action, Hard: sr.Hard, FilterID: sr.FilterID})
		}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			var vs []string
			for _, f := range l.Fields {
				if f.Index < len(vals) && vals[f.Index] != nil {
					vs = append(vs, f.ConditionName+"="+vals[f.Index].String())
				}
			}
			trace := ""
			if tr != nil {
				trace = tr.String()
			}
			t.Fatalf("engine (traced=%v) disagrees with the reference at %s\nvalues: %s\npolicy:\n%s\ngot:  %+v\nwant: %+v\n%s",
				traced, l.ShortName, strings.Join(vs, " "), p.desc.String(), got, want, trace)
		}
	}
}

func runArbitrationCase(t testing.TB, data []byte) {
	s := &byteSrc{b: data}
	p := buildFuzzPolicy(t, s)
	for i := 0; i < 6; i++ {
		l := fzLayers[s.n(2)]
		checkAgainstReference(t, p, l, fuzzValues(s, l))
	}
}

func FuzzArbitration(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 8; i++ {
		b := make([]byte, 400+r.IntN(1200))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runArbitrationCase(t, data)
	})
}

// TestEngineMatchesReference runs seeded random policies through the fuzz target, so
// that plain `go test` compares the engine with the reference arbiter.
func TestEngineMatchesReference(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	r := rand.New(rand.NewPCG(20261126, 7))
	for i := 0; i < n; i++ {
		b := make([]byte, 200+r.IntN(2000))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		t.Run(fmt.Sprint("case", i), func(t *testing.T) {
			runArbitrationCase(t, b)
		})
		if t.Failed() {
			return
		}
	}
}
