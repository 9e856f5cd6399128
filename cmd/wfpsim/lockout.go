package main

import (
	"fmt"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

// lockoutLayers are the layers every connection or packet of the machine passes:
// a block of everything at one of them cuts the machine off, remote shells included.
var lockoutLayers = map[string]bool{
	"ALE_AUTH_CONNECT_V4": true, "ALE_AUTH_CONNECT_V6": true,
	"ALE_AUTH_RECV_ACCEPT_V4": true, "ALE_AUTH_RECV_ACCEPT_V6": true,
	"INBOUND_IPPACKET_V4": true, "INBOUND_IPPACKET_V6": true,
	"OUTBOUND_IPPACKET_V4": true, "OUTBOUND_IPPACKET_V6": true,
	"INBOUND_TRANSPORT_V4": true, "INBOUND_TRANSPORT_V6": true,
	"OUTBOUND_TRANSPORT_V4": true, "OUTBOUND_TRANSPORT_V6": true,
}

// lockoutFinding is a filter that would block all traffic at a layer.
type lockoutFinding struct {
	Filter, Layer string
}

func (f lockoutFinding) String() string {
	return fmt.Sprintf("filter %q blocks all traffic at %s", f.Filter, f.Layer)
}

// lockout reports the filters of a policy that would block all traffic: a static
// block at one of lockoutLayers whose conditions match everything (none at all, rule
// B3, or only conditions such as 0.0.0.0/0 or the port range 0-65535), unless a
// permit at the same layer takes precedence over it: a permit of higher weight in
// the same sublayer (rule A3: it decides first) or a hard permit (clear_action_right)
// in a sublayer of higher weight (rules A4, A6). Such a permit is a deliberate
// exception, so the policy is not treated as a lockout. The policy is resolved on a
// simulated engine to know the effective weights (rule B1).
func lockout(objs *policy.Objects) ([]lockoutFinding, error) {
	e := engine.New(engine.Options{})
	sess := e.Open(wfp.SessionOptions{Name: "wfpsim lockout guard", Dynamic: true})
	defer sess.Close()
	if _, err := policy.ApplyObjects(sess, objs); err != nil {
		return nil, err
	}
	filters, err := sess.Filters(nil)
	if err != nil {
		return nil, err
	}
	subWeight := func(k wfp.SublayerKey) uint16 {
		if s, err := sess.Sublayer(k); err == nil {
			return s.Weight
		}
		return 0
	}
	var out []lockoutFinding
	for _, f := range filters {
		l, ok := layers.LayerByKey(f.Layer)
		if !ok || !lockoutLayers[l.ShortName] || f.Action.Type != wfp.ActionBlock || !matchesEverything(f.Conditions) {
			continue
		}
		rescued := false
		for _, g := range filters {
			if g.Layer != f.Layer || g.Action.Type != wfp.ActionPermit {
				continue
			}
			sameSub := sublayerOf(g) == sublayerOf(f)
			if sameSub && g.EffectiveWeight > f.EffectiveWeight ||
				!sameSub && subWeight(sublayerOf(g)) > subWeight(sublayerOf(f)) && g.Flags&wfp.FilterFlagClearActionRight != 0 {
				rescued = true
				break
			}
		}
		if !rescued {
			out = append(out, lockoutFinding{Filter: objs.Names.Filter(f.Key), Layer: l.ShortName})
		}
	}
	return out, nil
}

func sublayerOf(f wfp.Filter) wfp.SublayerKey {
	if f.Sublayer == (wfp.SublayerKey{}) {
		if s, ok := layers.SublayerByName("FWPM_SUBLAYER_UNIVERSAL"); ok {
			return s.Key
		}
	}
	return f.Sublayer
}

// matchesEverything: conditions on different fields are ANDed and consecutive ones on
// the same field ORed (rule B3), so the filter matches everything when every group of
// a field holds a condition that matches every value.
func matchesEverything(conds []wfp.Condition) bool {
	for i := 0; i < len(conds); {
		j, any := i, false
		for ; j < len(conds) && conds[j].Field == conds[i].Field; j++ {
			any = any || universal(conds[j])
		}
		if !any {
			return false
		}
		i = j
	}
	return true
}

// universal reports whether one condition matches every value of its field.
func universal(c wfp.Condition) bool {
	switch v := c.Value.(type) {
	case wfp.V4AddrMask:
		return c.Match == wfp.MatchEqual && v.Mask == 0
	case wfp.V6AddrMask:
		return c.Match == wfp.MatchEqual && v.PrefixLength == 0
	case wfp.Range:
		if c.Match != wfp.MatchRange {
			return false
		}
		lo, _, lok := wfp.Unsigned(v.Low)
		hi, maxv, hok := wfp.Unsigned(v.High)
		return lok && hok && lo == 0 && hi == maxv
	}
	if n, maxv, ok := wfp.Unsigned(c.Value); ok {
		switch c.Match {
		case wfp.MatchGreaterOrEqual:
			return n == 0
		case wfp.MatchLessOrEqual:
			return n == maxv
		case wfp.MatchFlagsNoneSet:
			return n == 0
		}
	}
	return false
}
