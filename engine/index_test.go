package engine

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// TestIndexMatchesScan: for random policies at the IPv4 and IPv6 connect layers, the
// index visits exactly the matching filters a full scan finds, in the same order
// (engine/index.go's promise), for every sublayer and many incoming values.
func TestIndexMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	v6s := []string{"2001:db8::1", "2001:db8::2", "2001:db8:1::5", "fe80::1", "::1"}
	v4s := []string{"10.0.0.1", "10.0.0.2", "10.0.1.5", "192.168.1.10"}
	ports := []uint16{80, 443, 53, 22}
	apps := []string{`\a\iis.exe`, `\b\curl.exe`, `\c\svchost.exe`}
	ifaces := []uint64{1, 2, 1 << 40}
	addrCond := func(l *layers.Layer) wfp.Condition {
		c := wfp.Condition{Field: layers.ConditionIPRemoteAddress.Key, Match: wfp.MatchEqual}
		if l.Family == layers.FamilyV6 {
			a := netip.MustParseAddr(v6s[r.IntN(len(v6s))])
			if r.IntN(2) == 0 {
				c.Value = wfp.V6FromAddr(a)
			} else {
				c.Value = wfp.PrefixValue(netip.PrefixFrom(a, []int{0, 16, 32, 48, 64, 128}[r.IntN(6)]))
			}
		} else {
			a := netip.MustParseAddr(v4s[r.IntN(len(v4s))])
			if r.IntN(2) == 0 {
				c.Value = wfp.V4FromAddr(a)
			} else {
				c.Value = wfp.PrefixValue(netip.PrefixFrom(a, []int{0, 8, 16, 24, 32}[r.IntN(5)]))
			}
		}
		return c
	}
	for _, l := range []*layers.Layer{layers.ALEAuthConnectV4, layers.ALEAuthConnectV6} {
		for round := 0; round < 20; round++ {
			t.Run(fmt.Sprint(l.ShortName, "/", round), func(t *testing.T) {
				e := New(Options{})
				s := e.Open(wfp.SessionOptions{Name: "t"})
				require.NoError(t, s.BeginTransaction(false))
				n := 20 + r.IntN(60)
				for i := 0; i < n; i++ {
					f := wfp.Filter{DisplayData: wfp.DisplayData{Name: fmt.Sprint(i)}, Layer: l.Key, Action: wfp.Action{Type: wfp.ActionBlock}}
					for _, k := range r.Perm(5)[:r.IntN(4)] {
						for j := 0; j <= r.IntN(2); j++ {
							switch k {
							case 0:
								f.Conditions = append(f.Conditions, addrCond(l))
							case 1:
								f.Conditions = append(f.Conditions, wfp.Condition{Field: layers.ConditionIPRemotePort.Key, Value: wfp.Uint16(ports[r.IntN(len(ports))])})
							case 2:
								f.Conditions = append(f.Conditions, wfp.Condition{Field: layers.ConditionALEAppID.Key, Value: wfp.AppID(apps[r.IntN(len(apps))])})
							case 3:
								f.Conditions = append(f.Conditions, wfp.Condition{Field: layers.ConditionIPLocalInterface.Key, Value: wfp.Uint64(ifaces[r.IntN(len(ifaces))])})
							case 4:
								f.Conditions = append(f.Conditions, wfp.Condition{Field: layers.ConditionIPProtocol.Key, Match: wfp.MatchGreaterOrEqual, Value: wfp.Uint8(6)})
							}
						}
					}
					_, err := s.AddFilter(f)
					require.NoError(t, err)
				}
				require.NoError(t, s.CommitTransaction())
				cl := e.snap.Load().layers[l.Key]
				require.NotNil(t, cl)
				require.True(t, cl.sublayers[0].index.enabled)
				idx := func(c *layers.Condition) int { f, _ := l.Field(c.Key); return f.Index }
				for q := 0; q < 200; q++ {
					vals := make([]wfp.Value, len(l.Fields))
					if l.Family == layers.FamilyV6 {
						vals[idx(layers.ConditionIPRemoteAddress)] = wfp.V6FromAddr(netip.MustParseAddr(v6s[r.IntN(len(v6s))]))
					} else {
						vals[idx(layers.ConditionIPRemoteAddress)] = wfp.V4FromAddr(netip.MustParseAddr(v4s[r.IntN(len(v4s))]))
					}
					vals[idx(layers.ConditionIPRemotePort)] = wfp.Uint16(ports[r.IntN(len(ports))])
					vals[idx(layers.ConditionALEAppID)] = wfp.AppID(apps[r.IntN(len(apps))])
					vals[idx(layers.ConditionIPLocalInterface)] = wfp.Uint64(ifaces[r.IntN(len(ifaces))])
					vals[idx(layers.ConditionIPProtocol)] = wfp.Uint8(r.IntN(20))
					for _, k := range r.Perm(len(vals))[:r.IntN(3)] {
						vals[k] = nil // some fields empty
					}
					for _, cs := range cl.sublayers {
						var scan, viaIndex []wfp.FilterID
						for _, f := range cs.all() {
							if ok, _ := f.matches(vals); ok {
								scan = append(scan, f.id)
							}
						}
						var c candidates
						c.init(cs, vals)
						for f := c.next(); f != nil; f = c.next() {
							if ok, _ := f.matches(vals); ok {
								viaIndex = append(viaIndex, f.id)
							}
						}
						require.Equal(t, scan, viaIndex, "values %v", vals)
					}
				}
			})
		}
	}
}
