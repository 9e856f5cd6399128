package engine

import (
	"slices"

	"github.com/wfpsim/wfpsim/wfp"
)

// filterIndex lets classification visit only the filters of a sublayer that can
// match, instead of every filter. Each filter is filed under one of its condition
// groups when that group only tests equality:
//
//	exact   ports, protocols, exact addresses, app ids: value -> filters
//	prefix4 IPv4 subnets: (prefix length, masked address) -> filters
//	ranges  unsigned ranges (port ranges): the segments between range bounds -> filters
//	rest    everything else, always visited
//
// Candidates are visited in the sublayer's weight order by merging the few lists that
// apply, so arbitration sees them exactly as a full scan would (a test checks it).
type filterIndex struct {
	enabled bool
	exact   []exactIndex
	prefix4 []prefixIndex
	ranges  []rangeIndex
	rest    []*cfilter
}

// rangeIndex files filters by an unsigned range condition: the bounds of all ranges
// cut the values into segments, and each segment lists the filters whose ranges cover
// it, in weight order. Lookup is a binary search.
type rangeIndex struct {
	field  int
	starts []uint64     // the first value of each segment, ascending
	lists  [][]*cfilter // the filters covering each segment
}

// maxRangeEntries bounds a range index's size as a multiple of its filters; heavily
// overlapping ranges are left to the rest list instead.
const maxRangeEntries = 8

// indexThreshold: below this many filters a sublayer is scanned.
const indexThreshold = 16

// maxMergeLists bounds the lists merged per sublayer; more and the sublayer is
// scanned (no allocation either way).
const maxMergeLists = 12

type numKey struct {
	t      wfp.DataType
	hi, lo uint64
}

type exactIndex struct {
	field int
	num   map[numKey][]*cfilter
	blob  map[string][]*cfilter
}

type prefixIndex struct {
	field int
	lens  []int // prefix lengths present, in no particular order
	byLen [33]map[uint32][]*cfilter
}

func keyOf(v wfp.Value) (numKey, []byte, bool) {
	switch x := v.(type) {
	case wfp.Uint8:
		return numKey{t: wfp.TypeUint8, lo: uint64(x)}, nil, true
	case wfp.Uint16:
		return numKey{t: wfp.TypeUint16, lo: uint64(x)}, nil, true
	case wfp.Uint32:
		return numKey{t: wfp.TypeUint32, lo: uint64(x)}, nil, true
	case wfp.Uint64:
		return numKey{t: wfp.TypeUint64, lo: uint64(x)}, nil, true
	case wfp.ByteArray16:
		var hi, lo uint64
		for i := 0; i < 8; i++ {
			hi = hi<<8 | uint64(x[i])
			lo = lo<<8 | uint64(x[8+i])
		}
		return numKey{t: wfp.TypeByteArray16, hi: hi, lo: lo}, nil, true
	case wfp.ByteBlob:
		if x == nil {
			x = wfp.ByteBlob{} // an empty blob is a blob key, nil or not
		}
		return numKey{}, x, true
	}
	return numKey{}, nil, false
}

func buildIndex(fs []*cfilter) filterIndex {
	ix := filterIndex{enabled: len(fs) >= indexThreshold}
	if !ix.enabled {
		return ix
	}
	exact := map[int]*exactIndex{}
	var ranged []rangedFilter
	prefix := map[int]*prefixIndex{}
	var exactOrder, prefixOrder []int
	for _, f := range fs {
		if g := exactGroup(f); g != nil {
			ei, ok := exact[g.index]
			if !ok {
				ei = &exactIndex{field: g.index, num: map[numKey][]*cfilter{}, blob: map[string][]*cfilter{}}
				exact[g.index] = ei
				exactOrder = append(exactOrder, g.index)
			}
			for _, c := range g.conds {
				k, b, _ := keyOf(c.c.Value)
				if b != nil {
					ei.blob[string(b)] = appendOnce(ei.blob[string(b)], f)
				} else {
					ei.num[k] = appendOnce(ei.num[k], f)
				}
			}
			continue
		}
		if g := rangeGroup(f); g != nil {
			ranged = append(ranged, rangedFilter{f, g})
			continue
		}
		if g := prefixGroup(f); g != nil {
			pi, ok := prefix[g.index]
			if !ok {
				pi = &prefixIndex{field: g.index}
				prefix[g.index] = pi
				prefixOrder = append(prefixOrder, g.index)
			}
			for _, c := range g.conds {
				addr, bits := v4Prefix(c.c.Value)
				if pi.byLen[bits] == nil {
					pi.byLen[bits] = map[uint32][]*cfilter{}
					pi.lens = append(pi.lens, bits)
				}
				pi.byLen[bits][addr] = appendOnce(pi.byLen[bits][addr], f)
			}
			continue
		}
		ix.rest = append(ix.rest, f)
	}
	for _, i := range exactOrder {
		ix.exact = append(ix.exact, *exact[i])
	}
	for _, i := range prefixOrder {
		ix.prefix4 = append(ix.prefix4, *prefix[i])
	}
	ix.ranges, ix.rest = buildRanges(ranged, ix.rest)
	return ix
}

type rangedFilter struct {
	f *cfilter
	g *condGroup
}

// rangeGroup returns a condition group that tests only unsigned ranges (or equality
// with unsigned numbers, a range of one).
func rangeGroup(f *cfilter) *condGroup {
	for i := range f.groups {
		g := &f.groups[i]
		if g.index < 0 {
			continue
		}
		ok := true
		for _, c := range g.conds {
			if _, _, is := unsignedBounds(c.c); !is {
				ok = false
				break
			}
		}
		if ok {
			return g
		}
	}
	return nil
}

func unsignedBounds(c wfp.Condition) (lo, hi uint64, ok bool) {
	switch c.Match {
	case wfp.MatchRange:
		r, isRange := c.Value.(wfp.Range)
		if !isRange {
			return 0, 0, false
		}
		lo, ok1 := unsignedOf(r.Low)
		hi, ok2 := unsignedOf(r.High)
		return lo, hi, ok1 && ok2 && lo <= hi
	case wfp.MatchEqual:
		v, ok := unsignedOf(c.Value)
		return v, v, ok
	}
	return 0, 0, false
}

// buildRanges builds one range index per field from filters in weight order; filters
// of a field whose index would grow too large go to rest, which is merged back into
// weight order.
func buildRanges(ranged []rangedFilter, rest []*cfilter) ([]rangeIndex, []*cfilter) {
	byField := map[int][]rangedFilter{}
	var order []int
	for _, rf := range ranged {
		if _, ok := byField[rf.g.index]; !ok {
			order = append(order, rf.g.index)
		}
		byField[rf.g.index] = append(byField[rf.g.index], rf)
	}
	var out []rangeIndex
	for _, field := range order {
		fs := byField[field]
		var cuts []uint64
		for _, rf := range fs {
			for _, c := range rf.g.conds {
				lo, hi, _ := unsignedBounds(c.c)
				cuts = append(cuts, lo)
				if hi != ^uint64(0) {
					cuts = append(cuts, hi+1)
				}
			}
		}
		cuts = append(cuts, 0)
		slices.Sort(cuts)
		cuts = slices.Compact(cuts)
		ri := rangeIndex{field: field, starts: cuts, lists: make([][]*cfilter, len(cuts))}
		entries := 0
		for _, rf := range fs {
			for _, c := range rf.g.conds {
				lo, hi, _ := unsignedBounds(c.c)
				i, _ := slices.BinarySearch(cuts, lo)
				for ; i < len(cuts) && cuts[i] <= hi; i++ {
					ri.lists[i] = appendOnce(ri.lists[i], rf.f)
					entries++
				}
			}
		}
		if entries > maxRangeEntries*len(fs)+1024 {
			for _, rf := range fs {
				rest = append(rest, rf.f)
			}
			slices.SortFunc(rest, compareFilters)
			continue
		}
		out = append(out, ri)
	}
	return out, rest
}

// lookup returns the filters whose ranges cover v.
func (ri *rangeIndex) lookup(v uint64) []*cfilter {
	i, found := slices.BinarySearch(ri.starts, v)
	if !found {
		i--
	}
	if i < 0 {
		return nil
	}
	return ri.lists[i]
}

func appendOnce(l []*cfilter, f *cfilter) []*cfilter {
	if len(l) > 0 && l[len(l)-1] == f {
		return l
	}
	return append(l, f)
}

// exactGroup returns a condition group that tests only equality with keyable values.
func exactGroup(f *cfilter) *condGroup {
	for i := range f.groups {
		g := &f.groups[i]
		if g.index < 0 {
			continue
		}
		ok := true
		for _, c := range g.conds {
			if _, _, keyable := keyOf(c.c.Value); c.c.Match != wfp.MatchEqual || !keyable {
				ok = false
				break
			}
		}
		if ok {
			return g
		}
	}
	return nil
}

// prefixGroup returns a group that tests only IPv4 subnets (or exact IPv4 addresses
// mixed with subnets).
func prefixGroup(f *cfilter) *condGroup {
	for i := range f.groups {
		g := &f.groups[i]
		if g.index < 0 {
			continue
		}
		ok := true
		for _, c := range g.conds {
			if _, bits := v4Prefix(c.c.Value); c.c.Match != wfp.MatchEqual || bits < 0 {
				ok = false
				break
			}
		}
		if ok {
			return g
		}
	}
	return nil
}

// v4Prefix returns the masked address and prefix length of an IPv4 condition value:
// a contiguous V4AddrMask, or an exact Uint32 (a /32). bits is -1 otherwise.
func v4Prefix(v wfp.Value) (uint32, int) {
	switch x := v.(type) {
	case wfp.V4AddrMask:
		bits, ok := maskBits(x.Mask)
		if !ok {
			return 0, -1
		}
		return x.Addr & x.Mask, bits
	case wfp.Uint32:
		return uint32(x), 32
	}
	return 0, -1
}

// candidates visits a sublayer's filters that may match, in weight order: the lists
// the index gives for the incoming values, merged, plus the filters committed since
// the index was built (extra), less those deleted since.
type candidates struct {
	lists   [maxMergeLists][]*cfilter
	n       int
	last    *cfilter
	extra   int // the list holding cs.extra, -1 when none
	deleted map[wfp.FilterID]bool
}

func (c *candidates) add(l []*cfilter) bool {
	if len(l) == 0 {
		return true
	}
	if c.n == maxMergeLists {
		return false
	}
	c.lists[c.n] = l
	c.n++
	return true
}

// init fills the lists for one classification; it falls back to every filter when
// the index is off or too many lists apply.
func (c *candidates) init(cs *compiledSublayer, values []wfp.Value) {
	c.n, c.last, c.extra, c.deleted = 0, nil, -1, cs.deleted
	ix := &cs.index
	ok := true
	if !ix.enabled {
		c.add(cs.filters)
	} else {
		ok = c.add(ix.rest)
		for i := range ix.exact {
			e := &ix.exact[i]
			k, b, keyable := keyOf(valueAt(values, e.field))
			if !keyable {
				continue
			}
			if b != nil {
				ok = ok && c.add(e.blob[string(b)])
			} else {
				ok = ok && c.add(e.num[k])
			}
		}
		for i := range ix.prefix4 {
			p := &ix.prefix4[i]
			a, isV4 := valueAt(values, p.field).(wfp.Uint32)
			if !isV4 {
				continue
			}
			for _, bits := range p.lens {
				ok = ok && c.add(p.byLen[bits][uint32(a)&wfp.V4Mask(bits)])
			}
		}
		for i := range ix.ranges {
			r := &ix.ranges[i]
			if v, isUnsigned := unsignedOf(valueAt(values, r.field)); isUnsigned {
				ok = ok && c.add(r.lookup(v))
			}
		}
	}
	if !ok {
		c.n = 0
		c.add(cs.filters)
	}
	if len(cs.extra) > 0 {
		if c.n == maxMergeLists { // make room: scan the indexed filters instead
			c.n = 0
			c.add(cs.filters)
		}
		c.extra = c.n
		c.add(cs.extra)
	}
}

// next returns the remaining candidate that comes first in evaluation order, or nil.
func (c *candidates) next() *cfilter {
	for {
		best := -1
		for i := 0; i < c.n; i++ {
			if len(c.lists[i]) > 0 && (best < 0 || compareFilters(c.lists[i][0], c.lists[best][0]) < 0) {
				best = i
			}
		}
		if best < 0 {
			return nil
		}
		f := c.lists[best][0]
		c.lists[best] = c.lists[best][1:]
		if f == c.last {
			continue // a filter reached through two of its subnets
		}
		if best != c.extra && c.deleted[f.id] {
			continue // deleted by a commit since the index was built
		}
		c.last = f
		return f
	}
}
