package policy

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// Objects are the wfp objects a document describes, in the order Apply adds them
// (providers, sublayers, callouts, filters; each in document order), with the names
// of their keys.
type Objects struct {
	Providers []wfp.Provider
	Sublayers []wfp.Sublayer
	Callouts  []wfp.Callout
	Filters   []wfp.Filter
	Names     *Names
	// Warnings are problems the BFE would accept silently, such as a callout named
	// by a block or permit filter (the callout is ignored).
	Warnings ErrorList

	file string
	// where each object was written, for Apply's errors
	providerAt, sublayerAt, calloutAt, filterAt []origin
}

type origin struct {
	pos  Pos
	path string
}

// Names maps the keys of a document's objects back to their document names, so
// that traces and errors can print names instead of GUIDs.
type Names struct {
	Providers map[wfp.ProviderKey]string
	Sublayers map[wfp.SublayerKey]string
	Callouts  map[wfp.CalloutKey]string
	Filters   map[wfp.FilterKey]string
}

func newNames() *Names {
	return &Names{
		Providers: map[wfp.ProviderKey]string{},
		Sublayers: map[wfp.SublayerKey]string{},
		Callouts:  map[wfp.CalloutKey]string{},
		Filters:   map[wfp.FilterKey]string{},
	}
}

// Provider returns the document name of a provider, else the C name of a
// built-in one, else the GUID.
func (n *Names) Provider(k wfp.ProviderKey) string {
	if s, ok := n.Providers[k]; ok {
		return s
	}
	return builtinName(wfp.GUID(k))
}

// Sublayer is Provider for sublayers; the zero key is FWPM_SUBLAYER_UNIVERSAL.
func (n *Names) Sublayer(k wfp.SublayerKey) string {
	if s, ok := n.Sublayers[k]; ok {
		return s
	}
	if k.IsZero() {
		return "FWPM_SUBLAYER_UNIVERSAL"
	}
	return builtinName(wfp.GUID(k))
}

// Callout is Provider for callouts.
func (n *Names) Callout(k wfp.CalloutKey) string {
	if s, ok := n.Callouts[k]; ok {
		return s
	}
	return builtinName(wfp.GUID(k))
}

// Filter is Provider for filters.
func (n *Names) Filter(k wfp.FilterKey) string {
	if s, ok := n.Filters[k]; ok {
		return s
	}
	return builtinName(wfp.GUID(k))
}

func builtinName(g wfp.GUID) string {
	if s, ok := layers.KeyName(g); ok {
		return s
	}
	return g.String()
}

// Objects resolves the document: names to keys, layer and condition names to the
// catalogue, values to typed wfp values, with every check the BFE would make that
// can be made without an engine. Errors are an ErrorList with every problem found.
func (d *Document) Objects() (*Objects, error) {
	o, errs := d.resolve()
	if len(errs) > 0 {
		return nil, errs
	}
	return o, nil
}

type resolver struct {
	doc  *Document
	errs ErrorList
	o    *Objects

	provByName map[string]wfp.ProviderKey
	subByName  map[string]wfp.SublayerKey
	coByName   map[string]wfp.CalloutKey
	coLayer    map[wfp.CalloutKey]*layers.Layer
}

func (r *resolver) errorf(pm posMap, key, path string, code error, format string, args ...any) {
	p := pm.at(key)
	r.errs = append(r.errs, &Error{File: r.doc.File, Line: p.Line, Column: p.Column, Path: path, Msg: fmt.Sprintf(format, args...), Err: code})
}

// wrap reports an error from package wfp.
// parseFlags ORs a document's flag names together with parse, reporting each name it
// refuses at path.flags[j].
func parseFlags[F ~uint32](r *resolver, names []string, pm posMap, path string, parse func(string) (F, error)) F {
	var out F
	for j, name := range names {
		v, err := parse(name)
		if err != nil {
			r.wrap(pm, fmt.Sprintf("flags[%d]", j), fmt.Sprintf("%s.flags[%d]", path, j), err)
		}
		out |= v
	}
	return out
}

func (r *resolver) wrap(pm posMap, key, path string, err error) {
	msg, code := wfpMessage(err)
	r.errorf(pm, key, path, code, "%s", msg)
}

func (d *Document) resolve() (*Objects, ErrorList) {
	r := &resolver{
		doc:        d,
		o:          &Objects{Names: newNames(), file: d.File},
		provByName: map[string]wfp.ProviderKey{},
		subByName:  map[string]wfp.SublayerKey{},
		coByName:   map[string]wfp.CalloutKey{},
		coLayer:    map[wfp.CalloutKey]*layers.Layer{},
	}
	if d.Version != 1 && d.pos == nil {
		r.errorf(d.pos, "", "", wfp.ErrInvalidParameter, "unsupported version %d: want version: 1", d.Version)
	}
	// Names first, so that references may point forward.
	seenP := map[wfp.ProviderKey]string{}
	for i := range d.Providers {
		p := &d.Providers[i]
		path := fmt.Sprintf("providers[%d]", i)
		k, ok := r.key("provider", p.Name, p.Key, p.pos, path, r.provByName != nil)
		pk := wfp.ProviderKey(k)
		if !ok {
			continue
		}
		if r.dup("provider", p.Name, p.pos, path, r.provByName, pk, seenP) {
			continue
		}
		obj := wfp.Provider{Key: pk, DisplayData: display(p.Name, p.DisplayName, p.Description), ServiceName: p.ServiceName}
		obj.Flags = parseFlags(r, p.Flags, p.pos, path, wfp.ParseProviderFlag)
		obj.Data = r.data(p.Data, p.pos, path)
		r.o.Providers = append(r.o.Providers, obj)
		r.o.providerAt = append(r.o.providerAt, origin{p.pos.at(""), path})
		r.o.Names.Providers[pk] = p.Name
	}
	seenS := map[wfp.SublayerKey]string{}
	for i := range d.Sublayers {
		s := &d.Sublayers[i]
		path := fmt.Sprintf("sublayers[%d]", i)
		k, ok := r.key("sublayer", s.Name, s.Key, s.pos, path, true)
		sk := wfp.SublayerKey(k)
		if !ok || r.dup("sublayer", s.Name, s.pos, path, r.subByName, sk, seenS) {
			continue
		}
		obj := wfp.Sublayer{Key: sk, DisplayData: display(s.Name, s.DisplayName, s.Description)}
		obj.Provider = r.providerRef(s.Provider, s.pos, path)
		if s.Weight != "" {
			w, err := strconv.ParseUint(strings.TrimSpace(s.Weight), 0, 16)
			if err != nil {
				r.errorf(s.pos, "weight", path+".weight", wfp.ErrInvalidParameter, "sublayer weight %q is not a valid FWP_UINT16: want 0..65535 (0xffff), higher is evaluated first", s.Weight)
			}
			obj.Weight = uint16(w)
		}
		obj.Flags = parseFlags(r, s.Flags, s.pos, path, wfp.ParseSublayerFlag)
		obj.Data = r.data(s.Data, s.pos, path)
		r.o.Sublayers = append(r.o.Sublayers, obj)
		r.o.sublayerAt = append(r.o.sublayerAt, origin{s.pos.at(""), path})
		r.o.Names.Sublayers[sk] = s.Name
	}
	seenC := map[wfp.CalloutKey]string{}
	for i := range d.Callouts {
		c := &d.Callouts[i]
		path := fmt.Sprintf("callouts[%d]", i)
		k, ok := r.key("callout", c.Name, c.Key, c.pos, path, true)
		ck := wfp.CalloutKey(k)
		if !ok || r.dup("callout", c.Name, c.pos, path, r.coByName, ck, seenC) {
			continue
		}
		obj := wfp.Callout{Key: ck, DisplayData: display(c.Name, c.DisplayName, c.Description)}
		obj.Provider = r.providerRef(c.Provider, c.pos, path)
		if l := r.layer(c.Layer, c.pos, path); l != nil {
			obj.Layer = l.Key
			r.coLayer[ck] = l
		}
		obj.Flags = parseFlags(r, c.Flags, c.pos, path, wfp.ParseCalloutFlag)
		obj.Data = r.data(c.Data, c.pos, path)
		r.o.Callouts = append(r.o.Callouts, obj)
		r.o.calloutAt = append(r.o.calloutAt, origin{c.pos.at(""), path})
		r.o.Names.Callouts[ck] = c.Name
	}
	seenF := map[wfp.FilterKey]string{}
	fByName := map[string]wfp.FilterKey{}
	for i := range d.Filters {
		f := &d.Filters[i]
		path := fmt.Sprintf("filters[%d]", i)
		k, ok := r.key("filter", f.Name, f.Key, f.pos, path, true)
		fk := wfp.FilterKey(k)
		if !ok || r.dup("filter", f.Name, f.pos, path, fByName, fk, seenF) {
			continue
		}
		obj, ok := r.filter(f, path)
		obj.Key = fk
		if !ok {
			continue
		}
		r.o.Filters = append(r.o.Filters, obj)
		r.o.filterAt = append(r.o.filterAt, origin{f.pos.at(""), path})
		r.o.Names.Filters[fk] = f.Name
	}
	return r.o, r.errs
}

func display(name, displayName, desc string) wfp.DisplayData {
	if displayName == "" {
		displayName = name
	}
	return wfp.DisplayData{Name: displayName, Description: desc}
}

// key returns an object's key: the explicit GUID, or one derived from its name.
func (r *resolver) key(kind, name, key string, pm posMap, path string, _ bool) (wfp.GUID, bool) {
	if strings.TrimSpace(name) == "" {
		r.errorf(pm, "name", path+".name", wfp.ErrNullDisplayName, "a %s needs a name: add name: ...", kind)
		return wfp.GUID{}, false
	}
	if key == "" {
		return wfp.GUIDFromName(kind, name), true
	}
	g, err := wfp.ParseGUID(key)
	if err != nil {
		r.errorf(pm, "key", path+".key", wfp.ErrInvalidParameter, "%q is not a GUID: want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, or leave key out to derive it from the name", key)
		return wfp.GUID{}, false
	}
	if g.IsZero() {
		r.errorf(pm, "key", path+".key", wfp.ErrInvalidParameter, "the zero GUID is not a key: leave key out to derive it from the name")
		return wfp.GUID{}, false
	}
	return g, true
}

// dup records a name and key and reports duplicates within a kind.
func dupCheck[K comparable](r *resolver, kind, name string, pm posMap, path string, byName map[string]K, k K, seen map[K]string) bool {
	if _, ok := byName[name]; ok {
		r.errorf(pm, "name", path+".name", wfp.ErrAlreadyExists, "a second %s named %q: %s names must be unique", kind, name, kind)
		return true
	}
	if other, ok := seen[k]; ok {
		r.errorf(pm, "key", path+".key", wfp.ErrAlreadyExists, "%s %q has the same key as %s %q: keys must be unique", kind, name, kind, other)
		return true
	}
	byName[name] = k
	seen[k] = name
	return false
}

func (r *resolver) dup(kind, name string, pm posMap, path string, byName any, k any, seen any) bool {
	switch m := byName.(type) {
	case map[string]wfp.ProviderKey:
		return dupCheck(r, kind, name, pm, path, m, k.(wfp.ProviderKey), seen.(map[wfp.ProviderKey]string))
	case map[string]wfp.SublayerKey:
		return dupCheck(r, kind, name, pm, path, m, k.(wfp.SublayerKey), seen.(map[wfp.SublayerKey]string))
	case map[string]wfp.CalloutKey:
		return dupCheck(r, kind, name, pm, path, m, k.(wfp.CalloutKey), seen.(map[wfp.CalloutKey]string))
	case map[string]wfp.FilterKey:
		return dupCheck(r, kind, name, pm, path, m, k.(wfp.FilterKey), seen.(map[wfp.FilterKey]string))
	}
	return false
}

func (r *resolver) data(s string, pm posMap, path string) []byte {
	if s == "" {
		return nil
	}
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(s), "0x") {
		r.errorf(pm, "data", path+".data", wfp.ErrInvalidParameter, "data %q is not a byte string: want 0x and an even number of hex digits", s)
		return nil
	}
	return b
}

func mapKeys[K any](m map[string]K) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// providerRef resolves provider: a provider of the document, a built-in provider or
// a GUID.
func (r *resolver) providerRef(s string, pm posMap, path string) wfp.ProviderKey {
	if s == "" {
		return wfp.ProviderKey{}
	}
	if k, ok := r.provByName[s]; ok {
		return k
	}
	if p, ok := layers.ProviderByName(s); ok {
		return p.Key
	}
	if g, err := wfp.ParseGUID(s); err == nil {
		return wfp.ProviderKey(g)
	}
	names := closest(s, mapKeys(r.provByName))
	names = append(names, layers.Suggest(layers.KindProvider, s)...)
	r.errorf(pm, "provider", path+".provider", wfp.ErrProviderNotFound, "unknown provider %q%s: name a provider of this document, a built-in provider or a GUID", s, suggestion(trim3(names)))
	return wfp.ProviderKey{}
}

func (r *resolver) sublayerRef(s string, pm posMap, path string) wfp.SublayerKey {
	if s == "" {
		return wfp.SublayerKey{}
	}
	if k, ok := r.subByName[s]; ok {
		return k
	}
	if b, ok := layers.SublayerByName(s); ok {
		return b.Key
	}
	if g, err := wfp.ParseGUID(s); err == nil {
		return wfp.SublayerKey(g)
	}
	names := closest(s, mapKeys(r.subByName))
	names = append(names, layers.Suggest(layers.KindSublayer, s)...)
	r.errorf(pm, "sublayer", path+".sublayer", wfp.ErrSublayerNotFound, "unknown sublayer %q%s: name a sublayer of this document, a built-in sublayer (UNIVERSAL) or a GUID", s, suggestion(trim3(names)))
	return wfp.SublayerKey{}
}

// calloutRef returns the callout's key and, when known, its applicable layer.
func (r *resolver) calloutRef(s string, pm posMap, path string) (wfp.CalloutKey, *layers.Layer, bool) {
	if k, ok := r.coByName[s]; ok {
		return k, r.coLayer[k], true
	}
	if c, ok := layers.CalloutByName(s); ok {
		return c.Key, nil, true
	}
	if g, err := wfp.ParseGUID(s); err == nil {
		k := wfp.CalloutKey(g)
		return k, r.coLayer[k], true
	}
	names := closest(s, mapKeys(r.coByName))
	names = append(names, layers.Suggest(layers.KindCallout, s)...)
	r.errorf(pm, "callout", path+".callout", wfp.ErrCalloutNotFound, "unknown callout %q%s: name a callout of this document, a built-in callout or a GUID", s, suggestion(trim3(names)))
	return wfp.CalloutKey{}, nil, false
}

func trim3(s []string) []string {
	var out []string
	for _, x := range s {
		dup := false
		for _, y := range out {
			dup = dup || x == y
		}
		if !dup && len(out) < 3 {
			out = append(out, x)
		}
	}
	return out
}

func (r *resolver) layer(s string, pm posMap, path string) *layers.Layer {
	if s == "" {
		r.errorf(pm, "", path, wfp.ErrLayerNotFound, "missing layer: add layer: with a layer name such as ALE_AUTH_CONNECT_V4")
		return nil
	}
	l, ok := layers.LayerByName(s)
	if !ok {
		r.errorf(pm, "layer", path+".layer", wfp.ErrLayerNotFound, "unknown layer %q%s", s, suggestion(layers.Suggest(layers.KindLayer, s)))
		return nil
	}
	if !l.KeyKnown {
		r.errorf(pm, "layer", path+".layer", wfp.ErrLayerNotFound, "layer %s has no documented key, so no filter can be added at it", l.Name)
		return nil
	}
	return l
}

func (r *resolver) filter(f *Filter, path string) (wfp.Filter, bool) {
	n := len(r.errs)
	obj := wfp.Filter{DisplayData: display(f.Name, f.DisplayName, f.Description)}
	l := r.layer(f.Layer, f.pos, path)
	if l != nil {
		obj.Layer = l.Key
	}
	obj.Sublayer = r.sublayerRef(f.Sublayer, f.pos, path)
	obj.Provider = r.providerRef(f.Provider, f.pos, path)
	obj.Weight = r.weight(f, path)
	obj.Flags = parseFlags(r, f.Flags, f.pos, path, wfp.ParseFilterFlag)
	if f.ProviderContext != "" {
		g, err := wfp.ParseGUID(f.ProviderContext)
		if err != nil {
			r.errorf(f.pos, "provider_context", path+".provider_context", wfp.ErrInvalidParameter, "provider_context %q is not a GUID", f.ProviderContext)
		}
		obj.ProviderContext = g
		obj.Flags |= wfp.FilterFlagHasProviderContext
	}
	if f.RawContext != "" {
		v, err := strconv.ParseUint(strings.TrimSpace(f.RawContext), 0, 64)
		if err != nil {
			r.errorf(f.pos, "raw_context", path+".raw_context", wfp.ErrInvalidParameter, "raw_context %q is not a valid FWP_UINT64: want an unsigned 64-bit integer", f.RawContext)
		}
		obj.RawContext = v
	}
	// Action and callout.
	if f.Action == "" {
		r.errorf(f.pos, "", path, wfp.ErrInvalidActionType, "missing action: add action: block, permit, callout_terminating, callout_inspection or callout_unknown")
	} else if a, err := wfp.ParseActionType(f.Action); err != nil || !a.IsFilterAction() {
		r.errorf(f.pos, "action", path+".action", wfp.ErrInvalidActionType, "%q is not a filter action: want block, permit, callout_terminating, callout_inspection or callout_unknown", f.Action)
	} else {
		obj.Action.Type = a
		switch {
		case a.IsCallout() && f.Callout == "":
			r.errorf(f.pos, "action", path+".action", wfp.ErrCalloutNotFound, "action %s needs a callout: add callout: with a callout name", a.ShortName())
		case !a.IsCallout() && f.Callout != "":
			// FWPM_ACTION0 holds the callout key in a union the BFE ignores for
			// block and permit: accepted, not stored, and reported as a warning.
			p := f.pos.at("callout")
			r.o.Warnings = append(r.o.Warnings, &Error{File: r.doc.File, Line: p.Line, Column: p.Column, Path: path + ".callout",
				Msg: fmt.Sprintf("callout %q is ignored with action %s: use a callout action (callout_terminating, callout_inspection, callout_unknown) or remove callout:", f.Callout, a.ShortName())})
		case a.IsCallout():
			if k, cl, ok := r.calloutRef(f.Callout, f.pos, path); ok {
				obj.Action.Callout = k
				if cl != nil && l != nil && cl != l {
					r.errorf(f.pos, "callout", path+".callout", wfp.ErrIncompatibleLayer, "callout %q applies at %s, but the filter is at %s: a filter may only use a callout of its own layer", f.Callout, cl.ShortName, l.ShortName)
				}
			}
		}
	}
	if l != nil {
		for j := range f.Conditions {
			if c, ok := r.condition(l, &f.Conditions[j], fmt.Sprintf("%s.conditions[%d]", path, j), r.doc.Drives); ok {
				obj.Conditions = append(obj.Conditions, c)
			}
		}
	}
	return obj, len(r.errs) == n
}

func (r *resolver) weight(f *Filter, path string) wfp.Weight {
	w := f.Weight
	p := path + ".weight"
	switch w.Kind {
	case wfp.WeightAuto:
		return wfp.AutoWeight()
	case wfp.WeightRange:
		v, err := strconv.ParseUint(strings.TrimSpace(w.Value), 0, 64)
		if err != nil {
			r.errorf(f.pos, "weight", p, wfp.ErrInvalidWeight, "weight %q is not a number: want a weight range 0..15, or {exact: N}", w.Value)
			return wfp.AutoWeight()
		}
		if v > wfp.WeightRangeMax {
			r.errorf(f.pos, "weight", p, wfp.ErrInvalidWeight, "weight range %d is above 15: use 0..15, or {exact: %d} for an exact 64-bit weight", v, v)
			return wfp.AutoWeight()
		}
		return wfp.RangeWeight(uint8(v))
	case wfp.WeightExact:
		v, err := strconv.ParseUint(strings.TrimSpace(w.Value), 0, 64)
		if err != nil {
			r.errorf(f.pos, "weight", p, wfp.ErrInvalidWeight, "exact weight %q is not a valid FWP_UINT64: want an unsigned 64-bit integer, decimal or 0x hex", w.Value)
			return wfp.AutoWeight()
		}
		return wfp.ExactWeight(v)
	}
	r.errorf(f.pos, "weight", p, wfp.ErrInvalidWeight, "invalid weight kind %d", w.Kind)
	return wfp.AutoWeight()
}
