package policy

import (
	"bufio"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// NetshExportOptions configure ExportNetsh.
type NetshExportOptions struct {
	// Filters writes the layout of `netsh wfp show filters` (root <wfpdiag>:
	// <filters> then <providers>), which has no sublayers and no callouts. The
	// default is the layout of `netsh wfp show state` (root <wfpstate>: <layers>, each
	// with its callouts and filters, then <providers> and <subLayers>), which keeps
	// sublayer weights and callouts.
	Filters bool
}

// ExportNetsh writes an engine's state as netsh-style XML, in the element layout
// of the real dumps (rule E9): built-in keys as their symbolic names, weights
// with their type, effectiveWeight, conditions with <type> and one value element.
// ReadNetsh reads it back to the same filters (keys, layers, sublayers, effective
// weights, conditions, actions). IPv4 addresses in FWP_UINT32 values are written
// as numbers; FWP_V4_ADDR_MASK and FWP_V6_ADDR_MASK, which no real dump holds, are
// written as <v4AddrMask><addr/><mask/> and <v6AddrMask><addr/><prefixLength/>
// (wfpsim's choice).
func ExportNetsh(w io.Writer, e wfp.Engine, opts NetshExportOptions) error {
	provs, err := e.Providers()
	if err != nil {
		return fmt.Errorf("policy: export netsh: %w", err)
	}
	subs, err := e.Sublayers()
	if err != nil {
		return fmt.Errorf("policy: export netsh: %w", err)
	}
	cos, err := e.Callouts()
	if err != nil {
		return fmt.Errorf("policy: export netsh: %w", err)
	}
	filters, err := e.Filters(nil)
	if err != nil {
		return fmt.Errorf("policy: export netsh: %w", err)
	}
	x := &xw{w: bufio.NewWriter(w)}
	x.raw("\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n")
	if opts.Filters {
		x.open("wfpdiag")
		x.list("filters", len(filters), func(i int) { x.filter(filters[i]) })
	} else {
		x.open("wfpstate")
		var order []*layers.Layer
		byLayer := map[wfp.LayerKey][]int{}
		coByLayer := map[wfp.LayerKey][]int{}
		seen := map[wfp.LayerKey]bool{}
		note := func(k wfp.LayerKey) {
			if !seen[k] {
				seen[k] = true
				if l, ok := layers.LayerByKey(k); ok {
					order = append(order, l)
				}
			}
		}
		for i, f := range filters {
			note(f.Layer)
			byLayer[f.Layer] = append(byLayer[f.Layer], i)
		}
		for i, c := range cos {
			note(c.Layer)
			coByLayer[c.Layer] = append(coByLayer[c.Layer], i)
		}
		x.list("layers", len(order), func(i int) {
			l := order[i]
			x.open("layer")
			x.elem("layerKey", keyName(wfp.GUID(l.Key)))
			x.display(wfp.DisplayData{Name: l.Name})
			if l.IDKnown {
				x.elem("layerId", strconv.Itoa(int(l.ID)))
			}
			x.close("layer")
			cs := coByLayer[l.Key]
			x.list("callouts", len(cs), func(j int) { x.callout(cos[cs[j]]) })
			fs := byLayer[l.Key]
			x.list("filters", len(fs), func(j int) { x.filter(filters[fs[j]]) })
		})
	}
	x.list("providers", len(provs), func(i int) {
		p := provs[i]
		x.elem("providerKey", keyName(wfp.GUID(p.Key)))
		x.display(p.DisplayData)
		x.flags(p.Flags.Names(), "FWPM_PROVIDER_FLAG_")
		x.data("providerData", p.Data)
		x.elem("serviceName", p.ServiceName)
	})
	if !opts.Filters {
		x.list("subLayers", len(subs), func(i int) {
			s := subs[i]
			x.elem("subLayerKey", keyName(wfp.GUID(s.Key)))
			x.display(s.DisplayData)
			x.flags(s.Flags.Names(), "FWPM_SUBLAYER_FLAG_")
			x.elem("providerKey", keyNameOrEmpty(wfp.GUID(s.Provider)))
			x.data("providerData", s.Data)
			x.elem("weight", strconv.Itoa(int(s.Weight)))
		})
		x.close("wfpstate")
	} else {
		x.close("wfpdiag")
	}
	return x.flush()
}

func keyName(g wfp.GUID) string {
	if s, ok := layers.KeyName(g); ok {
		return s
	}
	return "{" + strings.TrimSuffix(strings.TrimPrefix(g.String(), "{"), "}") + "}"
}

func keyNameOrEmpty(g wfp.GUID) string {
	if g.IsZero() {
		return ""
	}
	return keyName(g)
}

// xw writes indented XML with tabs, as netsh does.
type xw struct {
	w     *bufio.Writer
	depth int
	err   error
}

func (x *xw) raw(s string) {
	if x.err == nil {
		_, x.err = x.w.WriteString(s)
	}
}

func (x *xw) indent() { x.raw(strings.Repeat("\t", x.depth)) }

func (x *xw) open(name string) {
	x.indent()
	x.raw("<" + name + ">\n")
	x.depth++
}

func (x *xw) openN(name string, n int) {
	x.indent()
	x.raw(fmt.Sprintf("<%s numItems=\"%d\">\n", name, n))
	x.depth++
}

func (x *xw) close(name string) {
	x.depth--
	x.indent()
	x.raw("</" + name + ">\n")
}

func (x *xw) elem(name, text string) {
	x.indent()
	if text == "" {
		x.raw("<" + name + "/>\n")
		return
	}
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(text))
	x.raw("<" + name + ">" + b.String() + "</" + name + ">\n")
}

func (x *xw) list(name string, n int, item func(i int)) {
	if n == 0 {
		x.elem(name, "")
		return
	}
	x.openN(name, n)
	for i := 0; i < n; i++ {
		x.open("item")
		item(i)
		x.close("item")
	}
	x.close(name)
}

func (x *xw) display(d wfp.DisplayData) {
	x.open("displayData")
	x.elem("name", d.Name)
	x.elem("description", d.Description)
	x.close("displayData")
}

// flags writes flag names (wfp's short names) as C names.
func (x *xw) flags(names []string, prefix string) {
	if len(names) == 0 {
		x.elem("flags", "")
		return
	}
	x.openN("flags", len(names))
	for _, n := range names {
		if strings.HasPrefix(n, "0x") {
			v, _ := strconv.ParseUint(n, 0, 32)
			x.elem("item", fmt.Sprintf("%08x", v))
			continue
		}
		x.elem("item", prefix+strings.ToUpper(n))
	}
	x.close("flags")
}

func (x *xw) data(name string, b []byte) {
	if len(b) == 0 {
		x.elem(name, "")
		return
	}
	x.open(name)
	x.elem("data", hex.EncodeToString(b))
	x.elem("asString", printable(b))
	x.close(name)
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 0x20 && c < 0x7f {
			out[i] = c
		} else {
			out[i] = '.'
		}
	}
	return string(out)
}

func (x *xw) flush() error {
	if x.err != nil {
		return fmt.Errorf("policy: export netsh: %w", x.err)
	}
	if err := x.w.Flush(); err != nil {
		return fmt.Errorf("policy: export netsh: %w", err)
	}
	return nil
}

func (x *xw) callout(c wfp.Callout) {
	x.elem("calloutKey", keyName(wfp.GUID(c.Key)))
	x.display(c.DisplayData)
	x.flags(c.Flags.Names(), "FWPM_CALLOUT_FLAG_")
	x.elem("providerKey", keyNameOrEmpty(wfp.GUID(c.Provider)))
	x.data("providerData", c.Data)
	x.elem("applicableLayer", keyName(wfp.GUID(c.Layer)))
	x.elem("calloutId", strconv.FormatUint(uint64(c.ID), 10))
}

func (x *xw) filter(f wfp.Filter) {
	x.elem("filterKey", keyName(wfp.GUID(f.Key)))
	x.display(f.DisplayData)
	x.flags(f.Flags.Names(), "FWPM_FILTER_FLAG_")
	x.elem("providerKey", keyNameOrEmpty(wfp.GUID(f.Provider)))
	x.elem("providerData", "")
	x.elem("layerKey", keyName(wfp.GUID(f.Layer)))
	sub := f.Sublayer
	if sub.IsZero() {
		sub = layers.SublayerUniversal.Key
	}
	x.elem("subLayerKey", keyName(wfp.GUID(sub)))
	x.open("weight")
	switch f.Weight.Kind {
	case wfp.WeightRange:
		x.elem("type", "FWP_UINT8")
		x.elem("uint8", strconv.FormatUint(f.Weight.Value, 10))
	case wfp.WeightExact:
		x.elem("type", "FWP_UINT64")
		x.elem("uint64", strconv.FormatUint(f.Weight.Value, 10))
	default:
		x.elem("type", "FWP_EMPTY")
	}
	x.close("weight")
	x.list("filterCondition", len(f.Conditions), func(i int) {
		c := f.Conditions[i]
		x.elem("fieldKey", keyName(wfp.GUID(c.Field)))
		x.elem("matchType", c.Match.String())
		x.value("conditionValue", c.Value)
	})
	x.open("action")
	x.elem("type", f.Action.Type.String())
	if f.Action.Type.IsCallout() {
		x.elem("filterType", keyName(wfp.GUID(f.Action.Callout)))
	} else {
		x.elem("filterType", "")
	}
	x.close("action")
	if f.Flags&wfp.FilterFlagHasProviderContext != 0 {
		x.elem("providerContextKey", keyName(f.ProviderContext))
	} else {
		x.elem("rawContext", strconv.FormatUint(f.RawContext, 10))
	}
	x.elem("reserved", "")
	x.elem("filterId", strconv.FormatUint(uint64(f.ID), 10))
	x.open("effectiveWeight")
	x.elem("type", "FWP_UINT64")
	x.elem("uint64", strconv.FormatUint(f.EffectiveWeight, 10))
	x.close("effectiveWeight")
}

// valueElem is the element netsh names a value of each type with.
var valueElem = map[wfp.DataType]string{
	wfp.TypeUint8: "uint8", wfp.TypeUint16: "uint16", wfp.TypeUint32: "uint32", wfp.TypeUint64: "uint64",
	wfp.TypeInt8: "int8", wfp.TypeInt16: "int16", wfp.TypeInt32: "int32", wfp.TypeInt64: "int64",
	wfp.TypeFloat: "float32", wfp.TypeDouble: "double", wfp.TypeByteArray16: "byteArray16",
	wfp.TypeByteBlob: "byteBlob", wfp.TypeSID: "sid", wfp.TypeSecurityDescriptor: "sd",
	wfp.TypeUnicodeString: "unicodeString", wfp.TypeByteArray6: "byteArray6",
	wfp.TypeBitmapIndex: "bitmapIndex", wfp.TypeBitmapArray64: "bitmapArray64",
	wfp.TypeRange: "rangeValue", wfp.TypeV4AddrMask: "v4AddrMask", wfp.TypeV6AddrMask: "v6AddrMask",
	wfp.TypeTokenInformation: "tokenInformation", wfp.TypeTokenAccessInformation: "tokenAccessInformation",
}

func (x *xw) value(name string, v wfp.Value) {
	x.open(name)
	if v == nil {
		v = wfp.Empty{}
	}
	t := v.Type()
	x.elem("type", t.String())
	switch v := v.(type) {
	case wfp.Empty:
	case wfp.Range:
		x.open("rangeValue")
		x.value("valueLow", v.Low)
		x.value("valueHigh", v.High)
		x.close("rangeValue")
	case wfp.ByteBlob:
		x.open("byteBlob")
		x.elem("data", hex.EncodeToString(v))
		s, ok := v.UTF16()
		if !ok {
			s = printable(v)
		}
		x.elem("asString", s)
		x.close("byteBlob")
	case wfp.V4AddrMask:
		x.open("v4AddrMask")
		x.elem("addr", wfp.V4ToAddr(v.Addr).String())
		x.elem("mask", wfp.V4ToAddr(v.Mask).String())
		x.close("v4AddrMask")
	case wfp.V6AddrMask:
		x.open("v6AddrMask")
		x.elem("addr", wfp.ByteArray16(v.Addr).String())
		x.elem("prefixLength", strconv.Itoa(int(v.PrefixLength)))
		x.close("v6AddrMask")
	default:
		el := valueElem[t]
		if el == "" {
			el = "value"
		}
		x.elem(el, v.String())
	}
	x.close(name)
}
