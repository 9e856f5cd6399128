package policy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wfpsim/wfpsim/wfp"
)

// Document is a policy document as written: names and values in their text forms,
// with the position of every node so that errors can point at it. Objects resolves
// it to wfp objects; WriteYAML and WriteJSON write it back. See the package
// documentation for the schema.
type Document struct {
	// File is the name errors carry ("policy.yaml").
	File    string
	Version int
	// Drives maps DOS drives to NT device paths for ALE_APP_ID values
	// ({"C:": `\device\harddiskvolume3`}); nil means wfp.DefaultDrives.
	Drives    map[string]string
	Providers []Provider
	Sublayers []Sublayer
	Callouts  []Callout
	Filters   []Filter

	pos posMap
}

// Pos is a 1-based line and column in the document; zero when unknown.
type Pos struct{ Line, Column int }

// posMap holds the positions of an item's keys; "" is the item itself.
type posMap map[string]Pos

func (m posMap) at(key string) Pos {
	if p, ok := m[key]; ok {
		return p
	}
	return m[""]
}

// Provider is one entry of providers:.
type Provider struct {
	Name        string // required, unique among providers; the display name unless DisplayName is set
	DisplayName string
	Key         string // a GUID; "" derives it from Name
	Description string
	ServiceName string
	Flags       []string
	Data        string // "0x" and hex digits
	pos         posMap
}

// Sublayer is one entry of sublayers:.
type Sublayer struct {
	Name        string
	DisplayName string
	Key         string
	Description string
	Provider    string // a provider of this document, a built-in provider or a GUID
	Weight      string // an unsigned 16-bit integer, decimal or 0x hex; "" is 0
	Flags       []string
	Data        string
	pos         posMap
}

// Callout is one entry of callouts: (the management object, FWPM_CALLOUT0).
type Callout struct {
	Name        string
	DisplayName string
	Key         string
	Description string
	Provider    string
	Layer       string // the applicable layer, required
	Flags       []string
	Data        string
	pos         posMap
}

// Weight is a filter's weight as written: Kind WeightAuto when absent, WeightRange
// for 0..15, WeightExact for {exact: N}. Value is the number's text.
type Weight struct {
	Kind  wfp.WeightKind
	Value string
}

// Filter is one entry of filters:.
type Filter struct {
	Name            string
	DisplayName     string
	Key             string
	Description     string
	Layer           string // required
	Sublayer        string // "" is the universal sublayer
	Provider        string
	Weight          Weight
	Action          string // required
	Callout         string // with a callout action
	Flags           []string
	ProviderContext string // a GUID; sets has_provider_context
	RawContext      string // an unsigned 64-bit integer
	Conditions      []Condition
	pos             posMap
}

// Condition is one entry of a filter's conditions:.
type Condition struct {
	Field string
	Match string // "" is equal
	// Value is the value as written; a YAML/JSON list (flags only) is joined with "|".
	Value string
	// Low and High are set instead of Value by value: {low: ..., high: ...}.
	Low, High string
	isRange   bool // value: was a {low, high} mapping
	pos       posMap
}

// IsRange reports whether the value was given as {low, high}.
func (c *Condition) IsRange() bool { return c.isRange || c.Low != "" || c.High != "" }

// Load reads and parses a policy document file.
func Load(path string) (*Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a policy document in YAML or JSON (JSON is told apart by a .json
// extension or a leading '{'; both go through the same schema). Errors are an
// ErrorList holding every problem found, each with file:line:col. Names and values
// are not resolved here: call Objects, or use Check for both steps.
func Parse(filename string, data []byte) (*Document, error) {
	doc, errs := parse(filename, data)
	if len(errs) > 0 {
		return nil, errs
	}
	return doc, nil
}

// Check parses and resolves a document and returns every error found, nil when the
// document is valid. It is what `wfpsim check` prints.
func Check(filename string, data []byte) ErrorList {
	doc, errs := parse(filename, data)
	if doc != nil {
		if _, rerrs := doc.resolve(); len(rerrs) > 0 {
			errs = append(errs, rerrs...)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Column < errs[j].Column
	})
	return errs
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse returns the document and the errors found; the document is nil only when
// the text could not be read at all.
func parse(filename string, data []byte) (doc *Document, errs ErrorList) {
	defer func() {
		// yaml.v3 is robust, but input from a file must never panic the program.
		if r := recover(); r != nil {
			doc = nil
			errs = ErrorList{{File: filename, Msg: fmt.Sprintf("cannot read the document: %v", r), Err: wfp.ErrInvalidParameter}}
		}
	}()
	root, perr := parseNode(filename, data)
	if perr != nil {
		return nil, ErrorList{perr}
	}
	d := &decoder{file: filename}
	doc = d.document(root)
	return doc, d.errs
}

func looksJSON(filename string, data []byte) bool {
	if strings.EqualFold(filepath.Ext(filename), ".json") {
		return true
	}
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// parseNode parses YAML (or JSON, a subset of YAML) into a node tree. JSON that
// yaml.v3 rejects (tabs before the first token, for one) is read by encoding/json.
func parseNode(filename string, data []byte) (*yaml.Node, *Error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var n yaml.Node
	yerr := yaml.Unmarshal(data, &n)
	if yerr == nil {
		if len(n.Content) == 0 {
			return nil, &Error{File: filename, Line: 1, Column: 1, Msg: "empty document: want a mapping starting with version: 1", Err: wfp.ErrInvalidParameter}
		}
		return n.Content[0], nil
	}
	if looksJSON(filename, data) {
		jn, jerr := jsonNode(filename, data)
		if jerr == nil {
			return jn, nil
		}
		return nil, jerr
	}
	e := &Error{File: filename, Msg: "syntax error: " + strings.TrimPrefix(yerr.Error(), "yaml: "), Err: wfp.ErrInvalidParameter}
	if m := yamlLineRE.FindStringSubmatch(yerr.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Column = firstColumn(data, e.Line)
		e.Msg = "syntax error: " + m[2]
	}
	return nil, e
}

// firstColumn returns the column of the first non-blank character of a line.
func firstColumn(data []byte, line int) int {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return 1
	}
	l := lines[line-1]
	return len(l) - len(bytes.TrimLeft(l, " \t")) + 1
}

// decoder walks the node tree into a Document, collecting every error.
type decoder struct {
	file string
	errs ErrorList
}

func (d *decoder) errorf(n *yaml.Node, path string, code error, format string, args ...any) {
	e := &Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...), Err: code}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// deref follows aliases (bounded, so a cycle cannot loop).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected node"
}

type entry struct {
	key string
	k   *yaml.Node
	v   *yaml.Node
}

// mapping returns the entries of a mapping node, reporting non-mappings, unknown
// keys (with the closest known key) and duplicate keys.
func (d *decoder) mapping(n *yaml.Node, path, what string, allowed []string) (map[string]entry, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.errorf(n, path, wfp.ErrInvalidParameter, "%s must be a mapping (key: value), not %s", what, kindName(n))
		return nil, false
	}
	out := map[string]entry{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		kp := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, wfp.ErrInvalidParameter, "a key of %s must be a name, not %s", what, kindName(k))
			continue
		}
		known := false
		for _, a := range allowed {
			if a == k.Value {
				known = true
				break
			}
		}
		if !known {
			d.errorf(k, kp, wfp.ErrInvalidParameter, "unknown key %q in %s%s; known keys: %s", k.Value, what, suggestion(closest(k.Value, allowed)), strings.Join(allowed, ", "))
			continue
		}
		if prev, dup := out[k.Value]; dup {
			d.errorf(k, kp, wfp.ErrInvalidParameter, "key %q given twice (first at line %d)", k.Value, prev.k.Line)
			continue
		}
		out[k.Value] = entry{k.Value, k, v}
	}
	return out, true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// scalar returns a scalar's text.
func (d *decoder) scalar(e entry, path string) (string, bool) {
	if e.v.Kind != yaml.ScalarNode {
		d.errorf(e.v, path, wfp.ErrInvalidParameter, "%s must be a single value, not %s", e.key, kindName(e.v))
		return "", false
	}
	if e.v.Tag == "!!null" {
		return "", true
	}
	return e.v.Value, true
}

// list returns a list of scalars; a single scalar is a list of one, and
// "a|b" is split.
func (d *decoder) list(e entry, path string, pm posMap) []string {
	var out []string
	add := func(n *yaml.Node, p string) {
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, p, wfp.ErrInvalidParameter, "%s must be a list of names, not contain %s", e.key, kindName(n))
			return
		}
		if n.Tag == "!!null" {
			return
		}
		for _, s := range strings.Split(n.Value, "|") {
			pm[fmt.Sprintf("%s[%d]", e.key, len(out))] = pos(n)
			out = append(out, strings.TrimSpace(s))
		}
	}
	if e.v.Kind == yaml.SequenceNode {
		for i, c := range e.v.Content {
			if c = deref(c); c != nil {
				add(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	} else {
		add(e.v, path)
	}
	return out
}

// items returns the elements of a top-level list.
func (d *decoder) items(e entry, path string) []*yaml.Node {
	if e.v.Kind == yaml.ScalarNode && e.v.Tag == "!!null" {
		return nil
	}
	if e.v.Kind != yaml.SequenceNode {
		d.errorf(e.v, path, wfp.ErrInvalidParameter, "%s must be a list, not %s", e.key, kindName(e.v))
		return nil
	}
	out := make([]*yaml.Node, 0, len(e.v.Content))
	for _, c := range e.v.Content {
		if c = deref(c); c != nil {
			out = append(out, c)
		}
	}
	return out
}

var (
	docKeys      = []string{"version", "drives", "providers", "sublayers", "callouts", "filters"}
	providerKeys = []string{"name", "display_name", "key", "description", "service_name", "flags", "data"}
	sublayerKeys = []string{"name", "display_name", "key", "description", "provider", "weight", "flags", "data"}
	calloutKeys  = []string{"name", "display_name", "key", "description", "provider", "layer", "flags", "data"}
	filterKeys   = []string{"name", "display_name", "key", "description", "layer", "sublayer", "provider", "weight", "action", "callout", "flags", "provider_context", "raw_context", "conditions"}
	condKeys     = []string{"field", "match", "value"}
	rangeKeys    = []string{"low", "high"}
	weightKeys   = []string{"exact", "range"}
)

func (d *decoder) document(root *yaml.Node) *Document {
	doc := &Document{File: d.file, pos: posMap{"": pos(root)}}
	m, ok := d.mapping(root, "", "the document", docKeys)
	if !ok {
		return doc
	}
	if e, ok := m["version"]; !ok {
		d.errorf(root, "", wfp.ErrInvalidParameter, "missing version: add version: 1 at the top of the document")
	} else if s, ok := d.scalar(e, "version"); ok {
		doc.pos["version"] = pos(e.v)
		if s != "1" {
			d.errorf(e.v, "version", wfp.ErrInvalidParameter, "unsupported version %q: this wfpsim reads version: 1", s)
		} else {
			doc.Version = 1
		}
	}
	if e, ok := m["drives"]; ok {
		doc.pos["drives"] = pos(e.v)
		if e.v.Kind != yaml.MappingNode {
			d.errorf(e.v, "drives", wfp.ErrInvalidParameter, "drives must map a drive to its device path (C: '\\device\\harddiskvolume3'), not %s", kindName(e.v))
		} else {
			doc.Drives = map[string]string{}
			for i := 0; i+1 < len(e.v.Content); i += 2 {
				k, v := deref(e.v.Content[i]), deref(e.v.Content[i+1])
				if k == nil || v == nil || k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
					d.errorf(e.v.Content[i], "drives", wfp.ErrInvalidParameter, "drives must map a drive to its device path (C: '\\device\\harddiskvolume3')")
					continue
				}
				doc.Drives[k.Value] = v.Value
			}
		}
	}
	if e, ok := m["providers"]; ok {
		for i, n := range d.items(e, "providers") {
			doc.Providers = append(doc.Providers, d.provider(n, fmt.Sprintf("providers[%d]", i)))
		}
	}
	if e, ok := m["sublayers"]; ok {
		for i, n := range d.items(e, "sublayers") {
			doc.Sublayers = append(doc.Sublayers, d.sublayer(n, fmt.Sprintf("sublayers[%d]", i)))
		}
	}
	if e, ok := m["callouts"]; ok {
		for i, n := range d.items(e, "callouts") {
			doc.Callouts = append(doc.Callouts, d.callout(n, fmt.Sprintf("callouts[%d]", i)))
		}
	}
	if e, ok := m["filters"]; ok {
		for i, n := range d.items(e, "filters") {
			doc.Filters = append(doc.Filters, d.filter(n, fmt.Sprintf("filters[%d]", i)))
		}
	}
	return doc
}

// strings fills the string fields of an object from its entries.
func (d *decoder) strs(m map[string]entry, path string, pm posMap, fields map[string]*string) {
	for k, dst := range fields {
		if e, ok := m[k]; ok {
			pm[k] = pos(e.v)
			if s, ok := d.scalar(e, join(path, k)); ok {
				*dst = s
			}
		}
	}
}

func (d *decoder) flags(m map[string]entry, path string, pm posMap) []string {
	e, ok := m["flags"]
	if !ok {
		return nil
	}
	pm["flags"] = pos(e.v)
	return d.list(e, join(path, "flags"), pm)
}

func (d *decoder) provider(n *yaml.Node, path string) Provider {
	p := Provider{pos: posMap{"": pos(n)}}
	m, ok := d.mapping(n, path, "a provider", providerKeys)
	if !ok {
		return p
	}
	d.strs(m, path, p.pos, map[string]*string{"name": &p.Name, "display_name": &p.DisplayName, "key": &p.Key,
		"description": &p.Description, "service_name": &p.ServiceName, "data": &p.Data})
	p.Flags = d.flags(m, path, p.pos)
	return p
}

func (d *decoder) sublayer(n *yaml.Node, path string) Sublayer {
	s := Sublayer{pos: posMap{"": pos(n)}}
	m, ok := d.mapping(n, path, "a sublayer", sublayerKeys)
	if !ok {
		return s
	}
	d.strs(m, path, s.pos, map[string]*string{"name": &s.Name, "display_name": &s.DisplayName, "key": &s.Key,
		"description": &s.Description, "provider": &s.Provider, "weight": &s.Weight, "data": &s.Data})
	s.Flags = d.flags(m, path, s.pos)
	return s
}

func (d *decoder) callout(n *yaml.Node, path string) Callout {
	c := Callout{pos: posMap{"": pos(n)}}
	m, ok := d.mapping(n, path, "a callout", calloutKeys)
	if !ok {
		return c
	}
	d.strs(m, path, c.pos, map[string]*string{"name": &c.Name, "display_name": &c.DisplayName, "key": &c.Key,
		"description": &c.Description, "provider": &c.Provider, "layer": &c.Layer, "data": &c.Data})
	c.Flags = d.flags(m, path, c.pos)
	return c
}

func (d *decoder) filter(n *yaml.Node, path string) Filter {
	f := Filter{pos: posMap{"": pos(n)}}
	m, ok := d.mapping(n, path, "a filter", filterKeys)
	if !ok {
		return f
	}
	d.strs(m, path, f.pos, map[string]*string{"name": &f.Name, "display_name": &f.DisplayName, "key": &f.Key,
		"description": &f.Description, "layer": &f.Layer, "sublayer": &f.Sublayer, "provider": &f.Provider,
		"action": &f.Action, "callout": &f.Callout, "provider_context": &f.ProviderContext, "raw_context": &f.RawContext})
	f.Flags = d.flags(m, path, f.pos)
	if e, ok := m["weight"]; ok {
		f.pos["weight"] = pos(e.v)
		f.Weight = d.weight(e, join(path, "weight"), f.pos)
	}
	if e, ok := m["conditions"]; ok {
		f.pos["conditions"] = pos(e.v)
		for i, cn := range d.items(e, join(path, "conditions")) {
			f.Conditions = append(f.Conditions, d.condition(cn, fmt.Sprintf("%s.conditions[%d]", path, i)))
		}
	}
	return f
}

func (d *decoder) weight(e entry, path string, pm posMap) Weight {
	switch e.v.Kind {
	case yaml.ScalarNode:
		if e.v.Tag == "!!null" || strings.EqualFold(e.v.Value, "auto") {
			return Weight{}
		}
		return Weight{Kind: wfp.WeightRange, Value: e.v.Value}
	case yaml.MappingNode:
		m, ok := d.mapping(e.v, path, "a weight", weightKeys)
		if !ok {
			return Weight{}
		}
		if len(m) != 1 {
			d.errorf(e.v, path, wfp.ErrInvalidWeight, "a weight mapping has exactly one key: {exact: N} or {range: 0..15}")
			return Weight{}
		}
		for k, x := range m {
			pm["weight"] = pos(x.v)
			s, _ := d.scalar(x, join(path, k))
			if k == "exact" {
				return Weight{Kind: wfp.WeightExact, Value: s}
			}
			return Weight{Kind: wfp.WeightRange, Value: s}
		}
	}
	d.errorf(e.v, path, wfp.ErrInvalidWeight, "weight must be 0..15 (a weight range) or {exact: N}, not %s", kindName(e.v))
	return Weight{}
}

func (d *decoder) condition(n *yaml.Node, path string) Condition {
	c := Condition{pos: posMap{"": pos(n)}}
	m, ok := d.mapping(n, path, "a condition", condKeys)
	if !ok {
		return c
	}
	d.strs(m, path, c.pos, map[string]*string{"field": &c.Field, "match": &c.Match})
	e, ok := m["value"]
	if !ok {
		return c
	}
	c.pos["value"] = pos(e.v)
	vp := join(path, "value")
	switch e.v.Kind {
	case yaml.ScalarNode:
		if e.v.Tag == "!!null" {
			d.errorf(e.v, vp, wfp.ErrTypeMismatch, "the value is null: write a value, or empty for FWP_EMPTY")
		}
		c.Value = e.v.Value
	case yaml.SequenceNode:
		c.Value = strings.Join(d.list(e, vp, posMap{}), "|")
	case yaml.MappingNode:
		rm, ok := d.mapping(e.v, vp, "a range value", rangeKeys)
		if !ok {
			return c
		}
		lo, okl := rm["low"]
		hi, okh := rm["high"]
		if !okl || !okh {
			d.errorf(e.v, vp, wfp.ErrInvalidRange, "a range value needs both low and high: {low: 5000, high: 6000}")
			return c
		}
		c.Low, _ = d.scalar(lo, join(vp, "low"))
		c.High, _ = d.scalar(hi, join(vp, "high"))
		c.isRange = true
	}
	return c
}
