package callout

import (
	"net/netip"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// value returns the incoming value of condition c at the classifying layer, or nil
// when the layer has no such field or it is FWP_EMPTY. The teaching callouts read
// incoming values this way: by the layer's FWPS_FIELD_* index, as a driver does.
func value(in *IncomingValues, c *layers.Condition) wfp.Value {
	if in == nil {
		return nil
	}
	l, ok := layers.LayerByID(in.LayerID)
	if !ok {
		return nil
	}
	f, ok := l.Field(c.Key)
	if !ok || f.Index < 0 || f.Index >= len(in.Values) {
		return nil
	}
	return in.Values[f.Index]
}

func portValue(in *IncomingValues, c *layers.Condition) uint16 {
	if p, ok := value(in, c).(wfp.Uint16); ok {
		return uint16(p)
	}
	return 0
}

func protocolValue(in *IncomingValues) uint8 {
	if p, ok := value(in, layers.ConditionIPProtocol).(wfp.Uint8); ok {
		return uint8(p)
	}
	return 0
}

func addrValue(in *IncomingValues, c *layers.Condition) netip.Addr {
	switch a := value(in, c).(type) {
	case wfp.Uint32:
		return wfp.V4ToAddr(uint32(a))
	case wfp.ByteArray16:
		return netip.AddrFrom16(a).Unmap()
	}
	return netip.Addr{}
}

// layerName is the short name of the classifying layer, "" when unknown.
func layerName(id wfp.LayerID) string {
	if l, ok := layers.LayerByID(id); ok {
		return l.ShortName
	}
	return ""
}
