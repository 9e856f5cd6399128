package layers

import (
	"cmp"
	"slices"
	"strings"

	"github.com/wfpsim/wfpsim/wfp"
)

// index holds the lookup maps, built once from the generated tables. Building it
// also links each layer with its discard twin.
type index struct {
	layerByName    map[string]*Layer
	layerByKey     map[wfp.LayerKey]*Layer
	layerByID      map[wfp.LayerID]*Layer
	condByName     map[string]*Condition
	condByKey      map[wfp.FieldKey]*Condition
	sublayerByName map[string]*Sublayer
	sublayerByKey  map[wfp.SublayerKey]*Sublayer
	providerByName map[string]*Provider
	providerByKey  map[wfp.ProviderKey]*Provider
	calloutByName  map[string]*Callout
	calloutByKey   map[wfp.CalloutKey]*Callout
	constantByName map[string]Constant
	keyName        map[wfp.GUID]string
}

var idx = buildIndex()

func buildIndex() *index {
	x := &index{
		layerByName:    map[string]*Layer{},
		layerByKey:     map[wfp.LayerKey]*Layer{},
		layerByID:      map[wfp.LayerID]*Layer{},
		condByName:     map[string]*Condition{},
		condByKey:      map[wfp.FieldKey]*Condition{},
		sublayerByName: map[string]*Sublayer{},
		sublayerByKey:  map[wfp.SublayerKey]*Sublayer{},
		providerByName: map[string]*Provider{},
		providerByKey:  map[wfp.ProviderKey]*Provider{},
		calloutByName:  map[string]*Callout{},
		calloutByKey:   map[wfp.CalloutKey]*Callout{},
		constantByName: map[string]Constant{},
		keyName:        map[wfp.GUID]string{},
	}
	addKey := func(g wfp.GUID, name string) {
		if _, ok := x.keyName[g]; !ok && !g.IsZero() {
			x.keyName[g] = name
		}
	}
	for _, l := range layerTable {
		x.layerByName[l.Name] = l
		x.layerByName[l.ShortName] = l
		x.layerByName[l.FWPSName] = l
		if l.KeyKnown {
			x.layerByKey[l.Key] = l
			addKey(wfp.GUID(l.Key), l.Name)
		}
		if l.IDKnown {
			x.layerByID[l.ID] = l
		}
	}
	for _, l := range layerTable {
		if l.Discard {
			if t, ok := x.layerByName[strings.TrimSuffix(l.Name, "_DISCARD")]; ok && t != l {
				l.Twin, t.Twin = t, l
			}
		}
	}
	for _, s := range sublayerTable {
		x.sublayerByName[s.Name] = s
		x.sublayerByName[s.ShortName] = s
		if _, ok := x.sublayerByKey[s.Key]; !ok {
			x.sublayerByKey[s.Key] = s
		}
		addKey(wfp.GUID(s.Key), s.Name)
	}
	// Canonical conditions first, so a GUID names its canonical condition.
	for _, c := range conditionTable {
		x.condByName[c.Name] = c
		x.condByName[c.ShortName] = c
		if c.KeyKnown && c.AliasOf == nil {
			if _, ok := x.condByKey[c.Key]; !ok {
				x.condByKey[c.Key] = c
			}
			addKey(wfp.GUID(c.Key), c.Name)
		}
	}
	for _, p := range providerTable {
		x.providerByName[p.Name] = p
		x.providerByName[p.ShortName] = p
		x.providerByKey[p.Key] = p
		addKey(wfp.GUID(p.Key), p.Name)
	}
	for _, c := range calloutTable {
		x.calloutByName[c.Name] = c
		x.calloutByName[c.ShortName] = c
		x.calloutByKey[c.Key] = c
		addKey(wfp.GUID(c.Key), c.Name)
	}
	for _, p := range providerContextTable {
		addKey(p.Key, p.Name)
	}
	for _, k := range keyingModuleTable {
		addKey(k.Key, k.Name)
	}
	for _, c := range constantTable {
		x.constantByName[strings.ToUpper(c.Name)] = c
	}
	return x
}

// normalize upper-cases a user-written name and turns '-' and ' ' into '_'.
func normalize(s string) string {
	u := strings.ToUpper(strings.TrimSpace(s))
	return strings.NewReplacer("-", "_", " ", "_").Replace(u)
}

// Layers returns every FWPM layer in table order (FWPS id order, then the newest
// layers whose id is unknown). The slice is a copy; the layers are shared.
func Layers() []*Layer { return slices.Clone(layerTable) }

// LayerByName finds a layer by its C name with or without FWPM_LAYER_
// ("FWPM_LAYER_ALE_AUTH_CONNECT_V4", "ALE_AUTH_CONNECT_V4") or its FWPS name
// ("FWPS_LAYER_ALE_AUTH_CONNECT_V4"), in any letter case.
func LayerByName(name string) (*Layer, bool) {
	n := normalize(name)
	if l, ok := idx.layerByName[n]; ok {
		return l, true
	}
	l, ok := idx.layerByName[strings.TrimPrefix(n, "FWPM_LAYER_")]
	return l, ok
}

// LayerByKey finds a layer by its FWPM_LAYER_* GUID.
func LayerByKey(key wfp.LayerKey) (*Layer, bool) {
	l, ok := idx.layerByKey[key]
	return l, ok
}

// LayerByID finds a layer by its FWPS_BUILTIN_LAYERS value; only known ids are
// indexed (ids above 89 are SDK-2021 values that shift between SDKs).
func LayerByID(id wfp.LayerID) (*Layer, bool) {
	l, ok := idx.layerByID[id]
	return l, ok
}

// Conditions returns every condition in table order, aliases included.
func Conditions() []*Condition { return slices.Clone(conditionTable) }

// ConditionByName finds a condition (aliases too) by its C name with or without
// FWPM_CONDITION_, in any letter case.
func ConditionByName(name string) (*Condition, bool) {
	n := normalize(name)
	if c, ok := idx.condByName[n]; ok {
		return c, true
	}
	c, ok := idx.condByName[strings.TrimPrefix(n, "FWPM_CONDITION_")]
	return c, ok
}

// ConditionByKey finds the canonical (non-alias) condition with this GUID.
func ConditionByKey(key wfp.FieldKey) (*Condition, bool) {
	c, ok := idx.condByKey[key]
	return c, ok
}

// Sublayers returns the built-in sublayers in table order.
func Sublayers() []*Sublayer { return slices.Clone(sublayerTable) }

// SublayerByName finds a built-in sublayer by C name, with or without
// FWPM_SUBLAYER_, in any letter case.
func SublayerByName(name string) (*Sublayer, bool) {
	n := normalize(name)
	if s, ok := idx.sublayerByName[n]; ok {
		return s, true
	}
	s, ok := idx.sublayerByName[strings.TrimPrefix(n, "FWPM_SUBLAYER_")]
	return s, ok
}

// SublayerByKey finds a built-in sublayer by GUID. TEREDO and EDGE_TRAVERSAL share
// a GUID; the first in table order (TEREDO) is returned.
func SublayerByKey(key wfp.SublayerKey) (*Sublayer, bool) {
	s, ok := idx.sublayerByKey[key]
	return s, ok
}

// Providers returns the built-in providers in table order.
func Providers() []*Provider { return slices.Clone(providerTable) }

// ProviderByName finds a built-in provider by C name, with or without
// FWPM_PROVIDER_, in any letter case.
func ProviderByName(name string) (*Provider, bool) {
	n := normalize(name)
	if p, ok := idx.providerByName[n]; ok {
		return p, true
	}
	p, ok := idx.providerByName[strings.TrimPrefix(n, "FWPM_PROVIDER_")]
	return p, ok
}

// ProviderByKey finds a built-in provider by GUID.
func ProviderByKey(key wfp.ProviderKey) (*Provider, bool) {
	p, ok := idx.providerByKey[key]
	return p, ok
}

// Callouts returns the built-in callouts in table order.
func Callouts() []*Callout { return slices.Clone(calloutTable) }

// CalloutByName finds a built-in callout by C name, with or without
// FWPM_CALLOUT_, in any letter case.
func CalloutByName(name string) (*Callout, bool) {
	n := normalize(name)
	if c, ok := idx.calloutByName[n]; ok {
		return c, true
	}
	c, ok := idx.calloutByName[strings.TrimPrefix(n, "FWPM_CALLOUT_")]
	return c, ok
}

// CalloutByKey finds a built-in callout by GUID.
func CalloutByKey(key wfp.CalloutKey) (*Callout, bool) {
	c, ok := idx.calloutByKey[key]
	return c, ok
}

// ProviderContexts returns the built-in provider contexts.
func ProviderContexts() []*ProviderContext { return slices.Clone(providerContextTable) }

// KeyingModules returns the built-in keying modules.
func KeyingModules() []*KeyingModule { return slices.Clone(keyingModuleTable) }

// KeyName returns the C name of a built-in GUID: a layer, sublayer, canonical
// condition, provider, callout, provider context or keying module, looked up in
// that order. It is what netsh-style output prints instead of the GUID.
func KeyName(g wfp.GUID) (string, bool) {
	n, ok := idx.keyName[g]
	return n, ok
}

// Constants returns every numeric constant in table order. Rows of constants.tsv
// whose value is not a number are not carried.
func Constants() []Constant { return slices.Clone(constantTable) }

// ConstantByName finds a constant by its exact C name, in any letter case.
func ConstantByName(name string) (Constant, bool) {
	c, ok := idx.constantByName[normalize(name)]
	return c, ok
}

// ConstantsInGroup returns the constants of one group ("FWP_CONDITION_FLAG") in
// table order.
func ConstantsInGroup(group string) []Constant {
	g := normalize(group)
	var out []Constant
	for _, c := range constantTable {
		if strings.ToUpper(c.Group) == g {
			out = append(out, c)
		}
	}
	return out
}

// Kinds of names Suggest knows.
const (
	KindLayer     = "layer"
	KindCondition = "condition"
	KindSublayer  = "sublayer"
	KindProvider  = "provider"
	KindCallout   = "callout"
)

// Suggest returns up to three real short names of the given kind (KindLayer, ...)
// closest to name by edit distance, for "did you mean" messages. It returns nil
// for an unknown kind or when nothing is close.
func Suggest(kind, name string) []string {
	var names []string
	prefix := ""
	switch kind {
	case KindLayer:
		prefix = "FWPM_LAYER_"
		for _, l := range layerTable {
			names = append(names, l.ShortName)
		}
	case KindCondition:
		prefix = "FWPM_CONDITION_"
		for _, c := range conditionTable {
			names = append(names, c.ShortName)
		}
	case KindSublayer:
		prefix = "FWPM_SUBLAYER_"
		for _, s := range sublayerTable {
			names = append(names, s.ShortName)
		}
	case KindProvider:
		prefix = "FWPM_PROVIDER_"
		for _, p := range providerTable {
			names = append(names, p.ShortName)
		}
	case KindCallout:
		prefix = "FWPM_CALLOUT_"
		for _, c := range calloutTable {
			names = append(names, c.ShortName)
		}
	default:
		return nil
	}
	want := strings.TrimPrefix(normalize(name), prefix)
	if kind == KindLayer {
		want = strings.TrimPrefix(want, "FWPS_LAYER_")
	}
	return Closest(want, names)
}

// Closest returns up to three of names nearest to s by edit distance, ignoring case,
// nearest first: the "did you mean" of error messages. A name containing s counts as
// close (s is a fragment of it).
func Closest(s string, names []string) []string {
	want := strings.ToUpper(s)
	type cand struct {
		name string
		d    int
	}
	limit := max(3, len(want)/3)
	var cs []cand
	for _, n := range names {
		u := strings.ToUpper(n)
		d := editDistance(want, u)
		if strings.Contains(u, want) && len(want) >= 3 {
			d = min(d, 1+(len(u)-len(want))/4) // a fragment of a real name is close
		}
		if d <= limit {
			cs = append(cs, cand{n, d})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.name, b.name))
	})
	var out []string
	for _, c := range cs {
		if len(out) == 3 {
			break
		}
		if !slices.Contains(out, c.name) {
			out = append(out, c.name)
		}
	}
	return out
}

// editDistance is the Levenshtein distance over bytes (names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
