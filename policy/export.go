package policy

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// Export reads an engine's state (the providers, sublayers and callouts that are not
// built in, and every filter) into a document that loads to the same state:
// display names become document names (made unique with " (2)", ...), keys are
// written only when they differ from the name-derived key, weights keep their kind,
// values use their text forms and conditions their short names. Output-only flags
// (disabled, registered) are left out.
func Export(e wfp.Engine) (*Document, error) {
	provs, err := e.Providers()
	if err != nil {
		return nil, fmt.Errorf("policy: export: %w", err)
	}
	subs, err := e.Sublayers()
	if err != nil {
		return nil, fmt.Errorf("policy: export: %w", err)
	}
	cos, err := e.Callouts()
	if err != nil {
		return nil, fmt.Errorf("policy: export: %w", err)
	}
	filters, err := e.Filters(nil)
	if err != nil {
		return nil, fmt.Errorf("policy: export: %w", err)
	}
	doc := &Document{Version: 1}
	x := exporter{
		prov: map[wfp.ProviderKey]string{}, sub: map[wfp.SublayerKey]string{}, co: map[wfp.CalloutKey]string{},
		used: map[string]map[string]bool{},
	}
	for _, p := range provs {
		if _, builtin := layers.ProviderByKey(p.Key); builtin {
			continue
		}
		name := x.unique("provider", p.DisplayData.Name, wfp.GUID(p.Key))
		x.prov[p.Key] = name
		doc.Providers = append(doc.Providers, Provider{
			Name: name, DisplayName: displayIfDiffers(name, p.DisplayData.Name), Key: keyIfDiffers("provider", name, wfp.GUID(p.Key)),
			Description: p.DisplayData.Description, ServiceName: p.ServiceName,
			Flags: (p.Flags &^ wfp.ProviderFlagDisabled).Names(), Data: hexData(p.Data),
		})
	}
	for _, s := range subs {
		if _, builtin := layers.SublayerByKey(s.Key); builtin {
			continue
		}
		name := x.unique("sublayer", s.DisplayData.Name, wfp.GUID(s.Key))
		x.sub[s.Key] = name
		w := ""
		if s.Weight != 0 {
			w = fmt.Sprintf("0x%04x", s.Weight)
		}
		doc.Sublayers = append(doc.Sublayers, Sublayer{
			Name: name, DisplayName: displayIfDiffers(name, s.DisplayData.Name), Key: keyIfDiffers("sublayer", name, wfp.GUID(s.Key)),
			Description: s.DisplayData.Description, Provider: x.providerRef(s.Provider), Weight: w,
			Flags: s.Flags.Names(), Data: hexData(s.Data),
		})
	}
	for _, c := range cos {
		if _, builtin := layers.CalloutByKey(c.Key); builtin {
			continue
		}
		name := x.unique("callout", c.DisplayData.Name, wfp.GUID(c.Key))
		x.co[c.Key] = name
		l, ok := layers.LayerByKey(c.Layer)
		if !ok {
			return nil, fmt.Errorf("policy: export: callout %q is at unknown layer %s", name, c.Layer)
		}
		doc.Callouts = append(doc.Callouts, Callout{
			Name: name, DisplayName: displayIfDiffers(name, c.DisplayData.Name), Key: keyIfDiffers("callout", name, wfp.GUID(c.Key)),
			Description: c.DisplayData.Description, Provider: x.providerRef(c.Provider), Layer: l.ShortName,
			Flags: (c.Flags &^ wfp.CalloutFlagRegistered).Names(), Data: hexData(c.Data),
		})
	}
	for _, f := range filters {
		name := x.unique("filter", f.DisplayData.Name, wfp.GUID(f.Key))
		l, ok := layers.LayerByKey(f.Layer)
		if !ok {
			return nil, fmt.Errorf("policy: export: filter %q is at unknown layer %s", name, f.Layer)
		}
		flags := f.Flags &^ wfp.FilterFlagDisabled
		df := Filter{
			Name: name, DisplayName: displayIfDiffers(name, f.DisplayData.Name), Key: keyIfDiffers("filter", name, wfp.GUID(f.Key)),
			Description: f.DisplayData.Description, Layer: l.ShortName, Sublayer: x.sublayerRef(f.Sublayer),
			Provider: x.providerRef(f.Provider), Action: f.Action.Type.ShortName(),
		}
		if !f.ProviderContext.IsZero() {
			df.ProviderContext = f.ProviderContext.String()
			flags &^= wfp.FilterFlagHasProviderContext
		}
		df.Flags = flags.Names()
		if f.RawContext != 0 {
			df.RawContext = strconv.FormatUint(f.RawContext, 10)
		}
		switch f.Weight.Kind {
		case wfp.WeightRange:
			df.Weight = Weight{Kind: wfp.WeightRange, Value: strconv.FormatUint(f.Weight.Value, 10)}
		case wfp.WeightExact:
			df.Weight = Weight{Kind: wfp.WeightExact, Value: fmt.Sprintf("0x%016x", f.Weight.Value)}
		}
		if f.Action.Type.IsCallout() {
			df.Callout = x.calloutRef(f.Action.Callout)
		}
		for i, c := range f.Conditions {
			lc, ok := layers.ConditionByKey(c.Field)
			if !ok {
				return nil, fmt.Errorf("policy: export: filter %q: condition %d has unknown field %s", name, i, c.Field)
			}
			dc := Condition{Field: lc.ShortName, Match: c.Match.ShortName()}
			if rg, ok := c.Value.(wfp.Range); ok && rg.Low != nil && rg.High != nil {
				lo, hi := formatValue(l, lc, rg.Low), formatValue(l, lc, rg.High)
				if strings.Contains(lo+hi, "-") || strings.Contains(lo+hi, "..") || lo == "" || hi == "" {
					dc.Low, dc.High, dc.isRange = lo, hi, true
				} else {
					dc.Value = lo + "-" + hi
				}
			} else if c.Value != nil {
				dc.Value = formatValue(l, lc, c.Value)
			}
			df.Conditions = append(df.Conditions, dc)
		}
		doc.Filters = append(doc.Filters, df)
	}
	return doc, nil
}

type exporter struct {
	prov map[wfp.ProviderKey]string
	sub  map[wfp.SublayerKey]string
	co   map[wfp.CalloutKey]string
	used map[string]map[string]bool
}

func (x *exporter) unique(kind, name string, key wfp.GUID) string {
	if strings.TrimSpace(name) == "" {
		name = key.String()
	}
	if x.used[kind] == nil {
		x.used[kind] = map[string]bool{}
	}
	n := name
	for i := 2; x.used[kind][n]; i++ {
		n = fmt.Sprintf("%s (%d)", name, i)
	}
	x.used[kind][n] = true
	return n
}

func (x *exporter) providerRef(k wfp.ProviderKey) string {
	if k.IsZero() {
		return ""
	}
	if n, ok := x.prov[k]; ok {
		return n
	}
	if p, ok := layers.ProviderByKey(k); ok {
		return p.ShortName
	}
	return k.String()
}

func (x *exporter) sublayerRef(k wfp.SublayerKey) string {
	if k.IsZero() {
		return ""
	}
	if n, ok := x.sub[k]; ok {
		return n
	}
	if s, ok := layers.SublayerByKey(k); ok {
		if b, ok := layers.SublayerByName(s.ShortName); ok && b.Key == k {
			return s.ShortName
		}
	}
	return k.String()
}

func (x *exporter) calloutRef(k wfp.CalloutKey) string {
	if n, ok := x.co[k]; ok {
		return n
	}
	if c, ok := layers.CalloutByKey(k); ok {
		return c.ShortName
	}
	return k.String()
}

func displayIfDiffers(name, display string) string {
	if name == display {
		return ""
	}
	return display
}

func keyIfDiffers(kind, name string, key wfp.GUID) string {
	if wfp.GUIDFromName(kind, name) == key {
		return ""
	}
	return key.String()
}

func hexData(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return "0x" + hex.EncodeToString(b)
}

// formatValue writes a condition value in the text form the parser reads back to
// the same value.
func formatValue(l *layers.Layer, c *layers.Condition, v wfp.Value) string {
	t := v.Type()
	if _, ok := v.(wfp.Empty); ok {
		return "empty"
	}
	if g, prefix := flagGroup(c); g != "" && t.IsUnsigned() {
		bits, _ := asUint(v)
		var parts []string
		for _, k := range layers.ConstantsInGroup(g) {
			if k.Value != 0 && bits&k.Value == k.Value {
				parts = append(parts, strings.ToLower(strings.TrimPrefix(k.Name, prefix)))
				bits &^= k.Value
			}
		}
		if bits != 0 || len(parts) == 0 {
			parts = append(parts, "0x"+strconv.FormatUint(bits, 16))
		}
		return strings.Join(parts, "|")
	}
	canon := c.Canonical().ShortName
	switch x := v.(type) {
	case wfp.Uint8:
		if canon == "IP_PROTOCOL" {
			if n, ok := protocolName(uint8(x)); ok {
				return n
			}
		}
	case wfp.Uint32:
		if isAddress(c) {
			return wfp.V4ToAddr(uint32(x)).String()
		}
		if canon == "DIRECTION" && x <= 1 {
			return []string{"outbound", "inbound"}[x]
		}
	case wfp.ByteBlob:
		s := x.String()
		back, err := typedValue(l, c, t, s, nil)
		if strings.HasPrefix(s, "0x") || err != nil || !reflect.DeepEqual(back, v) {
			return "0x" + hex.EncodeToString(x)
		}
		return s
	}
	return v.String()
}
