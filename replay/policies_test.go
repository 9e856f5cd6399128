package replay

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
	wl "github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// The replay tests build the bundled policies (testdata/policies/*.yaml) with the
// engine API, filter for filter, so that they depend on no policy parser; the CLI
// tests replay the YAML files themselves.

func cond(c *wl.Condition, v wfp.Value) wfp.Condition {
	return wfp.Condition{Field: c.Key, Match: wfp.MatchEqual, Value: v}
}

type pol struct {
	t testing.TB
	s *engine.Session
}

func (p pol) sublayer(name string, weight uint16) wfp.SublayerKey {
	k := wfp.SublayerKey(wfp.GUIDFromName("test-sublayer", name))
	require.NoError(p.t, p.s.AddSublayer(wfp.Sublayer{Key: k, DisplayData: wfp.DisplayData{Name: name}, Weight: weight}))
	return k
}

func (p pol) filter(name string, l *wl.Layer, sl wfp.SublayerKey, w uint8, a wfp.ActionType, flags wfp.FilterFlags, cs ...wfp.Condition) {
	_, err := p.s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: name}, Layer: l.Key, Sublayer: sl, Weight: wfp.RangeWeight(w),
		Action: wfp.Action{Type: a}, Flags: flags, Conditions: cs})
	require.NoError(p.t, err)
}

// loadEngine returns an engine holding the named bundled policy ("" for none).
func loadEngine(t testing.TB, name string) *engine.Engine {
	t.Helper()
	e := engine.New(engine.Options{})
	p := pol{t, e.Open(wfp.SessionOptions{Name: "test"})}
	tcp := cond(wl.ConditionIPProtocol, wfp.Uint8(6))
	switch name {
	case "":
	case "block-port":
		sl := p.sublayer("contoso", 0x8000)
		p.filter("block-smb-out", wl.ALEAuthConnectV4, sl, 10, wfp.ActionBlock, 0, tcp, cond(wl.ConditionIPRemotePort, wfp.Uint16(445)))
		p.filter("block-smb-out-v6", wl.ALEAuthConnectV6, sl, 10, wfp.ActionBlock, 0, tcp, cond(wl.ConditionIPRemotePort, wfp.Uint16(445)))
		p.filter("block-rdp-in", wl.ALEAuthRecvAcceptV4, sl, 10, wfp.ActionBlock, 0, tcp, cond(wl.ConditionIPLocalPort, wfp.Uint16(3389)))
		p.filter("block-rdp-in-v6", wl.ALEAuthRecvAcceptV6, sl, 10, wfp.ActionBlock, 0, tcp, cond(wl.ConditionIPLocalPort, wfp.Uint16(3389)))
	case "app-rule":
		sl := p.sublayer("contoso-apps", 0x8000)
		ff, err := wfp.AppIDFromFileName(`C:\Program Files\Mozilla Firefox\firefox.exe`, nil)
		require.NoError(t, err)
		p.filter("permit-firefox", wl.ALEAuthConnectV4, sl, 10, wfp.ActionPermit, 0, cond(wl.ConditionALEAppID, ff))
		p.filter("permit-firefox-v6", wl.ALEAuthConnectV6, sl, 10, wfp.ActionPermit, 0, cond(wl.ConditionALEAppID, ff))
		p.filter("block-other-apps", wl.ALEAuthConnectV4, sl, 0, wfp.ActionBlock, 0)
		p.filter("block-other-apps-v6", wl.ALEAuthConnectV6, sl, 0, wfp.ActionBlock, 0)
	case "hard-permit":
		help, corp := p.sublayer("helpdesk", 0xc000), p.sublayer("corp", 0x4000)
		web := wfp.Uint32(ipv4(netip.MustParseAddr("93.184.216.34")))
		p.filter("hard-permit-https", wl.ALEAuthConnectV4, help, 10, wfp.ActionPermit, wfp.FilterFlagClearActionRight,
			cond(wl.ConditionIPRemoteAddress, web), cond(wl.ConditionIPRemotePort, wfp.Uint16(443)))
		p.filter("block-web-server", wl.ALEAuthConnectV4, corp, 15, wfp.ActionBlock, 0, cond(wl.ConditionIPRemoteAddress, web))
	default:
		t.Fatalf("no policy %q", name)
	}
	return e
}

func ipv4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
