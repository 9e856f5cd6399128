// Command gencatalog reads the WFP fact tables in layers/facts and writes
// layers/zz_catalog_generated.go: the data tables behind package layers.
//
// It is run by go generate in the layers directory:
//
//	//go:generate go run ../internal/cmd/gencatalog
//
// The output is deterministic (table order, no timestamps) and gofmt'ed, so
// "go generate ./... && git diff --exit-code" detects drift. Facts the tables do
// not establish are written as unknown, never invented.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	facts := flag.String("facts", "facts", "directory holding the *.tsv fact tables")
	out := flag.String("out", "zz_catalog_generated.go", "output file")
	flag.Parse()
	src, err := generate(*facts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencatalog:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gencatalog:", err)
		os.Exit(1)
	}
}

// table is a TSV file: a header row, then rows addressed by column name.
type table struct {
	name string
	cols map[string]int
	rows [][]string
}

func (t *table) get(row []string, col string) string {
	i, ok := t.cols[col]
	if !ok {
		panic(fmt.Sprintf("%s: no column %q", t.name, col))
	}
	if i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

func readTable(dir, name string, want ...string) (*table, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n")
	t := &table{name: name, cols: map[string]int{}}
	for i, h := range strings.Split(lines[0], "\t") {
		t.cols[strings.TrimSpace(h)] = i
	}
	for _, w := range want {
		if _, ok := t.cols[w]; !ok {
			return nil, fmt.Errorf("%s: missing column %q", name, w)
		}
	}
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		t.rows = append(t.rows, strings.Split(l, "\t"))
	}
	return t, nil
}

// initialisms maps words of C names to their Go spelling (DESIGN §5).
var initialisms = map[string]string{
	"IP": "IP", "ALE": "ALE", "TCP": "TCP", "UDP": "UDP", "ICMP": "ICMP", "MAC": "MAC",
	"RPC": "RPC", "ID": "ID", "SID": "SID", "IPSEC": "IPsec", "IKEEXT": "IKEEXT",
	"V4": "V4", "V6": "V6", "KM": "KM", "UM": "UM", "EP": "EP", "NAP": "NAP",
	"VLAN": "VLAN", "NDIS": "NDIS", "L2": "L2", "DCOM": "DCOM", "UUID": "UUID",
	"IPPACKET": "IPPacket", "IPFORWARD": "IPForward", "EPMAP": "EPMap", "IF": "IF",
	"QM": "QM", "OID": "OID", "FQBN": "FQBN", "SIO": "SIO", "DOSP": "DoSP",
	"AUTHIP": "AuthIP", "IKE": "IKE", "IKEV2": "IKEv2", "LIPS": "LIPS", "MPSSVC": "MPSSvc",
	"WSH": "WSH", "WF": "WF", "EDP": "EDP", "HTTP": "HTTP", "SSL": "SSL", "WFP": "WFP",
	"SEC": "Sec", "VSWITCH": "VSwitch", "VM": "VM", "URL": "URL", "DNS": "DNS",
	"NEXTHOP": "NextHop", "UID": "UID", "QUARANTINE": "Quarantine",
}

func goName(short string) string {
	var b strings.Builder
	for _, w := range strings.Split(short, "_") {
		if w == "" {
			continue
		}
		if g, ok := initialisms[w]; ok {
			b.WriteString(g)
			continue
		}
		b.WriteString(w[:1])
		b.WriteString(strings.ToLower(w[1:]))
	}
	return b.String()
}

func validIdent(s string) bool {
	for i, r := range s {
		ok := r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || (i > 0 && '0' <= r && r <= '9')
		if !ok {
			return false
		}
	}
	return s != ""
}

// parseGUID validates a GUID column; "unknown", "n/a" and "" are unknown.
func parseGUID(s string) (string, bool, error) {
	switch s {
	case "", "unknown", "n/a":
		return "", false, nil
	}
	g, err := wfp.ParseGUID(s)
	if err != nil {
		return "", false, err
	}
	return g.String(), true, nil
}

// dataType reads a type name of conditions.tsv. The source writes FWP_UNIT32 /
// UNIT32 once (ALE_PROMISCUOUS_MODE): a typo for FWP_UINT32, read as such.
func dataType(s string) (wfp.DataType, bool, error) {
	s = strings.TrimSpace(s)
	typo := false
	if s == "FWP_UNIT32" || s == "UNIT32" {
		s, typo = "FWP_UINT32", true
	}
	t, err := wfp.ParseDataType(s)
	return t, typo, err
}

type typeMatches struct {
	t  wfp.DataType
	ms []wfp.MatchType
}

type condition struct {
	name, short, goName, key string
	keyKnown                 bool
	types                    []wfp.DataType
	matches                  []typeMatches
	aliasOf                  string
	notes, source            string
	typo                     bool
}

// parseMatches reads "UINT32: EQUAL,RANGE | V4_ADDR_MASK: EQUAL (note)". "PREFIX*"
// means PREFIX (the star points at the note that it tests a suffix).
func parseMatches(s string) ([]typeMatches, bool, error) {
	if strings.HasPrefix(s, "unknown") {
		return nil, false, nil
	}
	var out []typeMatches
	typo := false
	for _, part := range strings.Split(s, "|") {
		tn, list, ok := strings.Cut(part, ":")
		if !ok {
			return nil, false, fmt.Errorf("bad match list %q", part)
		}
		t, ty, err := dataType(tn)
		if err != nil {
			return nil, false, err
		}
		typo = typo || ty
		if i := strings.Index(list, "("); i >= 0 {
			list = list[:i]
		}
		var ms []wfp.MatchType
		for _, m := range strings.Split(list, ",") {
			m = strings.TrimSuffix(strings.TrimSpace(m), "*")
			mt, err := wfp.ParseMatchType(m)
			if err != nil {
				return nil, false, err
			}
			ms = append(ms, mt)
		}
		// Merge a repeated type (the UNIT32 typo repeats UINT32).
		if j := slices.IndexFunc(out, func(x typeMatches) bool { return x.t == t }); j >= 0 {
			for _, m := range ms {
				if !slices.Contains(out[j].ms, m) {
					out[j].ms = append(out[j].ms, m)
				}
			}
			continue
		}
		out = append(out, typeMatches{t, ms})
	}
	for i := range out {
		slices.Sort(out[i].ms)
	}
	return out, typo, nil
}

// tokenConditions are the conditions whose incoming value is a token (rule B4:
// token fields are compared against an FWP_SECURITY_DESCRIPTOR_TYPE condition
// value when filters are added). Their incoming type is
// FWP_TOKEN_ACCESS_INFORMATION_TYPE.
var tokenConditions = map[string]bool{
	"FWPM_CONDITION_ALE_USER_ID":           true,
	"FWPM_CONDITION_ALE_REMOTE_USER_ID":    true,
	"FWPM_CONDITION_ALE_REMOTE_MACHINE_ID": true,
	"FWPM_CONDITION_REMOTE_USER_TOKEN":     true,
	"FWPM_CONDITION_CLIENT_TOKEN":          true,
}

type field struct {
	index          int
	name, condName string
	cond           *condition
	typ            wfp.DataType
	typeKnown      bool
	typeNote       string
}

type layerCond struct {
	name  string
	cond  *condition
	since string
}

type layer struct {
	name, short, goName, key string
	keyKnown                 bool
	fwps, fwpsNote           string
	id                       int
	idKnown                  bool
	idNote                   string
	family, direction, mode  string
	modeNote                 string
	discard                  bool
	purpose, source          string
	fields                   []field
	fieldsNote               string
	conds                    []layerCond
	metadata, flags          []string
	dataOffset               string
}

// fieldType derives an incoming value's data type from its condition (see the
// package doc of layers and rule B4).
func fieldType(c *condition, family string) (wfp.DataType, bool, string) {
	if c == nil {
		return 0, false, "unknown: condition not in conditions.tsv"
	}
	if len(c.types) == 0 {
		return 0, false, "unknown: condition data type not documented"
	}
	if slices.Contains(c.types, wfp.TypeV4AddrMask) || slices.Contains(c.types, wfp.TypeV6AddrMask) {
		switch family {
		case "v4":
			return wfp.TypeUint32, true, "derived: B4 (IPv4 address field is FWP_UINT32, conditions may use FWP_V4_ADDR_MASK)"
		case "v6":
			return wfp.TypeByteArray16, true, "derived: B4 (IPv6 address field is FWP_BYTE_ARRAY16_TYPE, conditions may use FWP_V6_ADDR_MASK)"
		}
		return 0, false, "unknown: address condition at a layer of no single family"
	}
	if tokenConditions[c.name] {
		return wfp.TypeTokenAccessInformation, true, "derived: B4 (token field, compared against FWP_SECURITY_DESCRIPTOR_TYPE condition values)"
	}
	if len(c.types) > 1 {
		return 0, false, "unknown: condition accepts several types (" + typeList(c.types) + ")"
	}
	if c.types[0] == wfp.TypeSecurityDescriptor {
		return 0, false, "unknown: condition value is FWP_SECURITY_DESCRIPTOR_TYPE; the incoming type is not documented"
	}
	return c.types[0], true, "conditions.tsv"
}

func typeList(ts []wfp.DataType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ",")
}

type object struct {
	kind, name, short, goName, key, source string
	weightNote, purpose                    string
	weight                                 uint16
	weightKnown                            bool
}

type constant struct {
	group, name, note string
	value             uint64
}

type model struct {
	layers       []*layer
	conds        []*condition
	sublayers    []*object
	objects      []*object // providers, callouts, provider contexts, keying modules
	constants    []constant
	skippedConst int
	skipped      []string // rows that name nothing in the catalogue
}

func load(dir string) (*model, error) {
	m := &model{}
	lt, err := readTable(dir, "layers.tsv", "fwpm_name", "guid", "fwps_layer_id_name", "fwps_numeric_id", "kernel_or_user", "family", "discard", "direction", "purpose", "source")
	if err != nil {
		return nil, err
	}
	ct, err := readTable(dir, "conditions.tsv", "condition_name", "guid", "fwp_data_type", "valid_match_types", "alias_of", "notes", "source")
	if err != nil {
		return nil, err
	}
	ft, err := readTable(dir, "fields.tsv", "fwps_layer", "index", "field_name", "condition_name")
	if err != nil {
		return nil, err
	}
	lct, err := readTable(dir, "layer_conditions.tsv", "fwpm_layer", "condition_name", "available_since")
	if err != nil {
		return nil, err
	}
	st, err := readTable(dir, "sublayers.tsv", "name", "guid", "weight", "purpose", "source")
	if err != nil {
		return nil, err
	}
	ot, err := readTable(dir, "sublayer_weights_observed.tsv", "name", "weight", "seen_in")
	if err != nil {
		return nil, err
	}
	observed := map[string][]string{}
	for _, r := range ot.rows {
		observed[ot.get(r, "name")] = r
	}
	bt, err := readTable(dir, "builtin_objects.tsv", "kind", "name", "guid", "source")
	if err != nil {
		return nil, err
	}
	kt, err := readTable(dir, "constants.tsv", "group", "name", "value", "note")
	if err != nil {
		return nil, err
	}
	mt, err := readTable(dir, "layer_metadata.tsv", "fwps_layer", "metadata_field")
	if err != nil {
		return nil, err
	}
	cft, err := readTable(dir, "condition_flag_layers.tsv", "condition_flag", "fwpm_layer")
	if err != nil {
		return nil, err
	}
	dt, err := readTable(dir, "data_offsets.tsv", "fwps_layer", "nbl_data_offset_position")
	if err != nil {
		return nil, err
	}

	names := map[string]string{} // Go name -> C name, for uniqueness
	claim := func(g, c string) error {
		if !validIdent(g) {
			return fmt.Errorf("invalid Go name %q for %s", g, c)
		}
		if o, ok := names[g]; ok {
			return fmt.Errorf("Go name %q for both %s and %s", g, o, c)
		}
		names[g] = c
		return nil
	}

	// Conditions.
	condByName := map[string]*condition{}
	for _, r := range ct.rows {
		c := &condition{name: ct.get(r, "condition_name"), notes: ct.get(r, "notes"), source: ct.get(r, "source"), aliasOf: ct.get(r, "alias_of")}
		c.short = strings.TrimPrefix(c.name, "FWPM_CONDITION_")
		c.goName = "Condition" + goName(c.short)
		if c.key, c.keyKnown, err = parseGUID(ct.get(r, "guid")); err != nil {
			return nil, fmt.Errorf("conditions.tsv %s: %w", c.name, err)
		}
		if ts := ct.get(r, "fwp_data_type"); ts != "unknown" {
			for _, s := range strings.Split(ts, ",") {
				t, typo, err := dataType(s)
				if err != nil {
					return nil, fmt.Errorf("conditions.tsv %s: %w", c.name, err)
				}
				c.typo = c.typo || typo
				if !slices.Contains(c.types, t) {
					c.types = append(c.types, t)
				}
			}
		}
		ms, typo, err := parseMatches(ct.get(r, "valid_match_types"))
		if err != nil {
			return nil, fmt.Errorf("conditions.tsv %s: %w", c.name, err)
		}
		c.typo = c.typo || typo
		c.matches = ms
		if _, dup := condByName[c.name]; dup {
			return nil, fmt.Errorf("conditions.tsv: %s twice", c.name)
		}
		if err := claim(c.goName, c.name); err != nil {
			return nil, err
		}
		condByName[c.name] = c
		m.conds = append(m.conds, c)
	}
	// Match types real machines use that the documentation does not list.
	ot2, err := readTable(dir, "match_types_observed.tsv", "condition_name", "fwp_data_type", "match_type", "seen_in")
	if err != nil {
		return nil, err
	}
	for _, r := range ot2.rows {
		c, ok := condByName[ot2.get(r, "condition_name")]
		if !ok {
			return nil, fmt.Errorf("match_types_observed.tsv: unknown condition %s", ot2.get(r, "condition_name"))
		}
		t, _, err := dataType(ot2.get(r, "fwp_data_type"))
		if err != nil {
			return nil, fmt.Errorf("match_types_observed.tsv %s: %w", c.name, err)
		}
		mt, err := wfp.ParseMatchType(ot2.get(r, "match_type"))
		if err != nil {
			return nil, fmt.Errorf("match_types_observed.tsv %s: %w", c.name, err)
		}
		j := slices.IndexFunc(c.matches, func(x typeMatches) bool { return x.t == t })
		if j < 0 {
			return nil, fmt.Errorf("match_types_observed.tsv %s: the condition does not take %s", c.name, t)
		}
		if !slices.Contains(c.matches[j].ms, mt) {
			c.matches[j].ms = append(c.matches[j].ms, mt)
			slices.Sort(c.matches[j].ms)
		}
	}
	for _, c := range m.conds {
		if c.aliasOf != "" {
			if _, ok := condByName[c.aliasOf]; !ok {
				return nil, fmt.Errorf("conditions.tsv: %s is an alias of unknown %s", c.name, c.aliasOf)
			}
		}
	}

	// Layers.
	layerByFWPS := map[string]*layer{}
	layerByName := map[string]*layer{}
	for _, r := range lt.rows {
		name := lt.get(r, "fwpm_name")
		if name == "(none)" {
			continue
		}
		l := &layer{name: name, short: strings.TrimPrefix(name, "FWPM_LAYER_"), purpose: lt.get(r, "purpose"), source: lt.get(r, "source")}
		l.goName = goName(l.short)
		if err := claim(l.goName, l.name); err != nil {
			return nil, err
		}
		if l.key, l.keyKnown, err = parseGUID(lt.get(r, "guid")); err != nil {
			return nil, fmt.Errorf("layers.tsv %s: %w", name, err)
		}
		fw := lt.get(r, "fwps_layer_id_name")
		l.fwps, l.fwpsNote = splitNote(fw)
		idText, idNote := splitNote(lt.get(r, "fwps_numeric_id"))
		l.idNote = idNote
		if n, err := strconv.ParseUint(idText, 10, 16); err == nil {
			l.id, l.idKnown = int(n), true
		} else if idText != "unknown" {
			return nil, fmt.Errorf("layers.tsv %s: bad id %q", name, idText)
		}
		mode, modeNote := splitNote(lt.get(r, "kernel_or_user"))
		switch mode {
		case "kernel", "user":
			l.mode = mode
		case "unknown":
			l.mode = "unknown"
		default:
			return nil, fmt.Errorf("layers.tsv %s: bad mode %q", name, mode)
		}
		l.modeNote = modeNote
		l.family = lt.get(r, "family")
		switch l.family {
		case "v4", "v6", "none":
		default:
			return nil, fmt.Errorf("layers.tsv %s: bad family %q", name, l.family)
		}
		switch d := lt.get(r, "discard"); d {
		case "yes":
			l.discard = true
		case "no":
		default:
			return nil, fmt.Errorf("layers.tsv %s: bad discard %q", name, d)
		}
		switch d := lt.get(r, "direction"); d {
		case "inbound", "outbound", "both":
			l.direction = d
		case "both (forwarded)":
			l.direction = "forwarded"
		case "na":
			l.direction = "none"
		default:
			return nil, fmt.Errorf("layers.tsv %s: bad direction %q", name, d)
		}
		layerByFWPS[l.fwps] = l
		layerByName[l.name] = l
		m.layers = append(m.layers, l)
	}

	// Fields.
	for _, r := range ft.rows {
		fn := ft.get(r, "field_name")
		if strings.HasSuffix(fn, "_MAX") {
			continue // the count of fields, not a field
		}
		l, ok := layerByFWPS[ft.get(r, "fwps_layer")]
		if !ok {
			m.skipped = append(m.skipped, "fields.tsv: "+ft.get(r, "fwps_layer")+" "+fn)
			continue
		}
		idx, err := strconv.Atoi(ft.get(r, "index"))
		if err != nil || idx != len(l.fields) {
			return nil, fmt.Errorf("fields.tsv %s: index %q out of order", fn, ft.get(r, "index"))
		}
		f := field{index: idx, name: fn, condName: ft.get(r, "condition_name")}
		f.cond = condByName[f.condName]
		f.typ, f.typeKnown, f.typeNote = fieldType(f.cond, l.family)
		l.fields = append(l.fields, f)
	}
	// A discard layer classifies with its twin's FWPS_FIELDS_* enumeration: Microsoft
	// Learn documents each enumeration for "FWPS_LAYER_X and FWPS_LAYER_X_DISCARD".
	for _, l := range m.layers {
		if !l.discard || len(l.fields) > 0 {
			continue
		}
		if t, ok := layerByName[strings.TrimSuffix(l.name, "_DISCARD")]; ok && len(t.fields) > 0 {
			l.fields = t.fields
			l.fieldsNote = "shared with " + t.fwps + ": FWPS_FIELDS_" + strings.TrimPrefix(t.fwps, "FWPS_LAYER_") + " serves a layer and its discard twin"
		}
	}

	// Conditions per layer.
	for _, r := range lct.rows {
		l, ok := layerByName[lct.get(r, "fwpm_layer")]
		if !ok {
			m.skipped = append(m.skipped, "layer_conditions.tsv: "+lct.get(r, "fwpm_layer"))
			continue
		}
		cn, since := lct.get(r, "condition_name"), lct.get(r, "available_since")
		if j := slices.IndexFunc(l.conds, func(c layerCond) bool { return c.name == cn }); j >= 0 {
			if !strings.Contains(l.conds[j].since, since) {
				l.conds[j].since += "; " + since // a duplicated row with a second availability
			}
			continue
		}
		l.conds = append(l.conds, layerCond{name: cn, cond: condByName[cn], since: since})
	}
	for _, r := range mt.rows {
		l, ok := layerByFWPS[mt.get(r, "fwps_layer")]
		if !ok {
			m.skipped = append(m.skipped, "layer_metadata.tsv: "+mt.get(r, "fwps_layer")+" "+mt.get(r, "metadata_field"))
			continue
		}
		l.metadata = appendUnique(l.metadata, mt.get(r, "metadata_field"))
	}
	for _, r := range cft.rows {
		l, ok := layerByName[cft.get(r, "fwpm_layer")]
		if !ok {
			m.skipped = append(m.skipped, "condition_flag_layers.tsv: "+cft.get(r, "fwpm_layer"))
			continue
		}
		l.flags = appendUnique(l.flags, cft.get(r, "condition_flag"))
	}
	for _, r := range dt.rows {
		l, ok := layerByFWPS[dt.get(r, "fwps_layer")]
		if !ok {
			m.skipped = append(m.skipped, "data_offsets.tsv: "+dt.get(r, "fwps_layer"))
			continue
		}
		l.dataOffset = dt.get(r, "nbl_data_offset_position")
	}

	// Sublayers.
	for _, r := range st.rows {
		o := &object{kind: "FWPM_SUBLAYER", name: st.get(r, "name"), purpose: st.get(r, "purpose"), source: st.get(r, "source"), weightNote: st.get(r, "weight")}
		o.short = strings.TrimPrefix(o.name, "FWPM_SUBLAYER_")
		o.goName = "Sublayer" + goName(o.short)
		var known bool
		if o.key, known, err = parseGUID(st.get(r, "guid")); err != nil || !known {
			return nil, fmt.Errorf("sublayers.tsv %s: bad GUID", o.name)
		}
		if !strings.HasPrefix(o.weightNote, "unknown") {
			return nil, fmt.Errorf("sublayers.tsv %s: a weight %q: teach the generator to carry it", o.name, o.weightNote)
		}
		// No weight is documented (rule E10); sublayer_weights_observed.tsv carries
		// the weights real machines report in netsh dumps.
		if r, ok := observed[o.name]; ok {
			w, err := strconv.ParseUint(ot.get(r, "weight"), 10, 16)
			if err != nil {
				return nil, fmt.Errorf("sublayer_weights_observed.tsv %s: bad weight: %v", o.name, err)
			}
			o.weight, o.weightKnown = uint16(w), true
			o.weightNote = "undocumented (rule E10); observed in real dumps: " + ot.get(r, "seen_in")
			delete(observed, o.name)
		}
		if err := claim(o.goName, o.name); err != nil {
			return nil, err
		}
		m.sublayers = append(m.sublayers, o)
	}
	for name := range observed {
		return nil, fmt.Errorf("sublayer_weights_observed.tsv %s: no such sublayer in sublayers.tsv", name)
	}
	prefixes := map[string]string{
		"FWPM_PROVIDER":         "Provider",
		"FWPM_CALLOUT":          "Callout",
		"FWPM_PROVIDER_CONTEXT": "ProviderContext",
		"FWPM_KEYING_MODULE":    "KeyingModule",
	}
	for _, r := range bt.rows {
		o := &object{kind: bt.get(r, "kind"), name: bt.get(r, "name"), source: bt.get(r, "source")}
		p, ok := prefixes[o.kind]
		if !ok {
			return nil, fmt.Errorf("builtin_objects.tsv %s: unknown kind %q", o.name, o.kind)
		}
		o.short = strings.TrimPrefix(o.name, o.kind+"_")
		o.goName = p + goName(o.short)
		var known bool
		if o.key, known, err = parseGUID(bt.get(r, "guid")); err != nil || !known {
			return nil, fmt.Errorf("builtin_objects.tsv %s: bad GUID", o.name)
		}
		if err := claim(o.goName, o.name); err != nil {
			return nil, err
		}
		m.objects = append(m.objects, o)
	}

	// Constants.
	seen := map[string]bool{}
	for _, r := range kt.rows {
		v, err := strconv.ParseUint(kt.get(r, "value"), 0, 64)
		if err != nil {
			m.skippedConst++
			continue
		}
		c := constant{group: kt.get(r, "group"), name: kt.get(r, "name"), note: kt.get(r, "note"), value: v}
		if seen[c.name] {
			return nil, fmt.Errorf("constants.tsv: %s twice", c.name)
		}
		seen[c.name] = true
		m.constants = append(m.constants, c)
	}
	return m, nil
}

// splitNote splits "91 (SDK-2021 value)" into "91" and "SDK-2021 value".
func splitNote(s string) (string, string) {
	if i := strings.Index(s, " ("); i >= 0 && strings.HasSuffix(s, ")") {
		return s[:i], s[i+2 : len(s)-1]
	}
	return s, ""
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

var typeConst = map[wfp.DataType]string{
	wfp.TypeUint8: "TypeUint8", wfp.TypeUint16: "TypeUint16", wfp.TypeUint32: "TypeUint32",
	wfp.TypeUint64: "TypeUint64", wfp.TypeByteArray16: "TypeByteArray16", wfp.TypeByteBlob: "TypeByteBlob",
	wfp.TypeSID: "TypeSID", wfp.TypeSecurityDescriptor: "TypeSecurityDescriptor",
	wfp.TypeTokenAccessInformation: "TypeTokenAccessInformation", wfp.TypeByteArray6: "TypeByteArray6",
	wfp.TypeV4AddrMask: "TypeV4AddrMask", wfp.TypeV6AddrMask: "TypeV6AddrMask", wfp.TypeUnicodeString: "TypeUnicodeString",
}

var matchConst = map[wfp.MatchType]string{
	wfp.MatchEqual: "MatchEqual", wfp.MatchGreater: "MatchGreater", wfp.MatchLess: "MatchLess",
	wfp.MatchGreaterOrEqual: "MatchGreaterOrEqual", wfp.MatchLessOrEqual: "MatchLessOrEqual",
	wfp.MatchRange: "MatchRange", wfp.MatchFlagsAllSet: "MatchFlagsAllSet", wfp.MatchFlagsAnySet: "MatchFlagsAnySet",
	wfp.MatchFlagsNoneSet: "MatchFlagsNoneSet", wfp.MatchEqualCaseInsensitive: "MatchEqualCaseInsensitive",
	wfp.MatchNotEqual: "MatchNotEqual", wfp.MatchPrefix: "MatchPrefix", wfp.MatchNotPrefix: "MatchNotPrefix",
}

func tc(t wfp.DataType) string {
	c, ok := typeConst[t]
	if !ok {
		panic("gencatalog: no Go name for " + t.String())
	}
	return "wfp." + c
}

func generate(dir string) ([]byte, error) {
	m, err := load(dir)
	if err != nil {
		return nil, err
	}
	condGo := map[string]string{}
	for _, c := range m.conds {
		condGo[c.name] = c.goName
	}
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("// Code generated by internal/cmd/gencatalog from layers/facts; DO NOT EDIT.\n\n")
	p("package layers\n\nimport \"github.com/wfpsim/wfpsim/wfp\"\n\n")
	if len(m.skipped) > 0 {
		p("// Rows of the fact tables that name nothing in the catalogue (not carried):\n")
		for _, s := range m.skipped {
			p("//   - %s\n", s)
		}
		p("\n")
	}

	// Conditions.
	p("// Conditions (conditions.tsv), in table order.\nvar (\n")
	for _, c := range m.conds {
		p("\t// %s is %s.", c.goName, c.name)
		if c.aliasOf != "" {
			p(" It is an alias of %s (same GUID).", c.aliasOf)
		}
		if c.typo {
			p("\n\t// The source writes FWP_UNIT32 / UNIT32, a typo for FWP_UINT32, read as FWP_UINT32.")
		}
		p("\n\t%s = &Condition{\n", c.goName)
		if c.keyKnown {
			p("Key: fk(%q), KeyKnown: true,\n", c.key)
		}
		p("Name: %q, ShortName: %q,\n", c.name, c.short)
		if len(c.types) > 0 {
			p("Types: []wfp.DataType{")
			for _, t := range c.types {
				p("%s, ", tc(t))
			}
			p("},\n")
		}
		if len(c.matches) > 0 {
			p("Matches: []TypeMatches{\n")
			for _, tm := range c.matches {
				p("{Type: %s, Matches: []wfp.MatchType{", tc(tm.t))
				for _, mt := range tm.ms {
					p("wfp.%s, ", matchConst[mt])
				}
				p("}},\n")
			}
			p("},\n")
		}
		if c.aliasOf != "" {
			p("AliasOf: %s,\n", condGo[c.aliasOf])
		}
		if c.notes != "" {
			p("Notes: %q,\n", c.notes)
		}
		p("Source: %q,\n}\n", c.source)
	}
	p(")\n\n")
	p("var conditionTable = []*Condition{\n")
	for _, c := range m.conds {
		p("\t%s,\n", c.goName)
	}
	p("}\n\n")

	// Layers.
	p("// Layers (layers.tsv rows with an FWPM name), in table order.\nvar (\n")
	for _, l := range m.layers {
		p("\t// %s is %s: %s\n", l.goName, l.name, l.purpose)
		p("\t%s = &Layer{\n", l.goName)
		if l.keyKnown {
			p("Key: lk(%q), KeyKnown: true,\n", l.key)
		}
		p("Name: %q, ShortName: %q, FWPSName: %q,\n", l.name, l.short, l.fwps)
		if l.fwpsNote != "" {
			p("FWPSNote: %q,\n", l.fwpsNote)
		}
		if l.idKnown {
			p("ID: %d, IDKnown: true,\n", l.id)
		}
		if l.idNote != "" {
			p("IDNote: %q,\n", l.idNote)
		}
		p("Family: %s, Direction: %s, Discard: %t, Mode: %s,\n", familyConst(l.family), directionConst(l.direction), l.discard, modeConst(l.mode))
		if l.modeNote != "" {
			p("ModeNote: %q,\n", l.modeNote)
		}
		p("Purpose: %q,\nSource: %q,\n", l.purpose, l.source)
		if len(l.fields) > 0 {
			p("Fields: []Field{\n")
			for _, f := range l.fields {
				p("{Index: %d, Name: %q, ConditionName: %q", f.index, f.name, f.condName)
				if f.cond != nil {
					p(", Condition: %s", f.cond.goName)
				}
				if f.typeKnown {
					p(", Type: %s, TypeKnown: true", tc(f.typ))
				}
				p(", TypeNote: %q},\n", f.typeNote)
			}
			p("},\n")
		}
		if l.fieldsNote != "" {
			p("FieldsNote: %q,\n", l.fieldsNote)
		}
		if len(l.conds) > 0 {
			p("Conditions: []LayerCondition{\n")
			for _, c := range l.conds {
				p("{Name: %q", c.name)
				if c.cond != nil {
					p(", Condition: %s", c.cond.goName)
				}
				p(", Since: %q},\n", c.since)
			}
			p("},\n")
		}
		if len(l.metadata) > 0 {
			p("Metadata: %#v,\n", l.metadata)
		}
		if len(l.flags) > 0 {
			p("ConditionFlags: %#v,\n", l.flags)
		}
		if l.dataOffset != "" {
			p("DataOffset: %q,\n", l.dataOffset)
		}
		p("}\n")
	}
	p(")\n\nvar layerTable = []*Layer{\n")
	for _, l := range m.layers {
		p("\t%s,\n", l.goName)
	}
	p("}\n\n")

	// Sublayers.
	p("// Built-in sublayers (sublayers.tsv). No weight is documented; the weights are those\n// real machines report (sublayer_weights_observed.tsv).\nvar (\n")
	for _, s := range m.sublayers {
		p("\t// %s is %s: %s\n", s.goName, s.name, s.purpose)
		p("\t%s = &Sublayer{Key: sk(%q), Name: %q, ShortName: %q, Weight: %d, WeightKnown: %t, WeightNote: %q, Purpose: %q, Source: %q}\n",
			s.goName, s.key, s.name, s.short, s.weight, s.weightKnown, s.weightNote, s.purpose, s.source)
	}
	p(")\n\nvar sublayerTable = []*Sublayer{\n")
	for _, s := range m.sublayers {
		p("\t%s,\n", s.goName)
	}
	p("}\n\n")

	// Other built-in objects.
	kinds := []struct{ kind, typ, helper, table, doc string }{
		{"FWPM_PROVIDER", "Provider", "pk", "providerTable", "Built-in providers"},
		{"FWPM_CALLOUT", "Callout", "ck", "calloutTable", "Built-in callouts"},
		{"FWPM_PROVIDER_CONTEXT", "ProviderContext", "gk", "providerContextTable", "Built-in provider contexts"},
		{"FWPM_KEYING_MODULE", "KeyingModule", "gk", "keyingModuleTable", "Built-in keying modules"},
	}
	for _, k := range kinds {
		p("// %s (builtin_objects.tsv).\nvar (\n", k.doc)
		var list []string
		for _, o := range m.objects {
			if o.kind != k.kind {
				continue
			}
			p("\t// %s is %s.\n", o.goName, o.name)
			p("\t%s = &%s{Key: %s(%q), Name: %q, ShortName: %q, Source: %q}\n", o.goName, k.typ, k.helper, o.key, o.name, o.short, o.source)
			list = append(list, o.goName)
		}
		p(")\n\nvar %s = []*%s{\n", k.table, k.typ)
		for _, g := range list {
			p("\t%s,\n", g)
		}
		p("}\n\n")
	}

	// Constants.
	p("// constantTable holds the numeric rows of constants.tsv, in table order.\n")
	p("// %d rows whose value is not a number (unknown, n/a, ...) are not carried.\n", m.skippedConst)
	p("var constantTable = []Constant{\n")
	for _, c := range m.constants {
		p("\t{Group: %q, Name: %q, Value: %#x, Note: %q},\n", c.group, c.name, c.value, c.note)
	}
	p("}\n")

	src, err := format.Source(b.Bytes())
	if err != nil {
		return b.Bytes(), fmt.Errorf("gofmt: %w", err)
	}
	return src, nil
}

func familyConst(f string) string {
	return map[string]string{"v4": "FamilyV4", "v6": "FamilyV6", "none": "FamilyNone"}[f]
}

func directionConst(d string) string {
	return map[string]string{"inbound": "DirectionInbound", "outbound": "DirectionOutbound", "both": "DirectionBoth", "forwarded": "DirectionForwarded", "none": "DirectionNone"}[d]
}

func modeConst(m string) string {
	return map[string]string{"kernel": "ModeKernel", "user": "ModeUser", "unknown": "ModeUnknown"}[m]
}
