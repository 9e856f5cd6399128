package policy

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// This file imports the XML that `netsh wfp show state` and `netsh wfp show filters`
// write (rule E9 of SEMANTICS.md, checked against the real dumps described in
// testdata/wfpstate/SOURCES.md):
//
//	show filters:  <wfpdiag> <filters> <item>filter</item>... </filters> <providers>...</providers> </wfpdiag>
//	show state:    <wfpstate> ... <layers> <item> <layer/> <callouts>...</callouts> <filters>...</filters> </item>...
//	               </layers> <providers/> <providerContexts/> <subLayers/> ... </wfpstate> <firewallState>...</firewallState>
//
// The dump is read with a streaming encoding/xml decoder: each provider, sublayer,
// callout and filter <item> becomes a small tree, is converted, and is dropped;
// everything else (sessions, the ALE endpoint table, IKE statistics, the second root
// element) is skipped without being kept.

// ImportOptions configure ReadNetsh and ImportNetsh.
type ImportOptions struct {
	// File is the name errors and the account carry ("wfpstate.xml").
	File string
	// Partial imports what can be imported when the dump has errors (malformed or
	// truncated XML, unknown elements, values that do not parse): every object that
	// could not be read is listed in the account with the line, the element path and
	// the reason. Without Partial the first such error is returned.
	Partial bool
	// Existing is the engine the document will be applied to: providers, sublayers
	// and callouts it already holds (by key) are not added again. Nil means the
	// built-in objects of the catalogue (package layers), which is what a fresh
	// simulated engine holds.
	Existing wfp.Engine
}

// Dump is a netsh dump as read: wfp objects with the dump's keys, and where each
// object was in the file.
type Dump struct {
	File string
	// Format is "show state" (root <wfpstate>) or "show filters" (root <wfpdiag>).
	Format    string
	Providers []DumpProvider
	Sublayers []DumpSublayer
	Callouts  []DumpCallout
	Filters   []DumpFilter
	// Skipped are the objects (or the rest of the file) that could not be read, with
	// the reason; only a Partial read has any.
	Skipped []Note
	// Notes are things the dump holds that were read but are not carried over
	// (counted by reason), such as the second root element.
	Notes []Note
}

// DumpProvider is one <providers><item>.
type DumpProvider struct {
	wfp.Provider
	Symbol string // the symbolic name netsh printed instead of a GUID, FWPM_PROVIDER_...
	Line   int
}

// DumpSublayer is one <subLayers><item>.
type DumpSublayer struct {
	wfp.Sublayer
	Symbol string
	Line   int
}

// DumpCallout is one <callouts><item> of a layer.
type DumpCallout struct {
	wfp.Callout
	Symbol string
	// Registered: FWPM_CALLOUT_FLAG_REGISTERED was set, the callout's driver had
	// registered its code on the machine.
	Registered bool
	// UnknownFlags are flag bits netsh printed in hex (no name).
	UnknownFlags uint32
	// DroppedFlags are flag names wfp has no constant for (FWP_CALLOUT_FLAG_ALLOW_OFFLOAD,
	// ...: the driver's FWPS registration flags, which netsh prints with the others).
	DroppedFlags []string
	Line         int
}

// DumpFilter is one filter <item>.
type DumpFilter struct {
	// Filter holds the filter as it will be added: Weight is
	// wfp.ExactWeight(EffectiveWeight), so the engine keeps the dumped effective
	// weight exactly; ID is the dumped filterId.
	wfp.Filter
	// DumpedWeight is FWPM_FILTER0.weight as the filter's author gave it
	// (FWP_EMPTY, FWP_UINT8 range or FWP_UINT64).
	DumpedWeight wfp.Weight
	// ProviderContextKey is the <providerContextKey> text, "" when none. wfpsim does
	// not model provider contexts, so it is not carried over (Filter has none).
	ProviderContextKey string
	// DroppedFlags are flags that were dumped but cannot be added: output-only
	// (disabled), unnamed in wfp (FWPM_FILTER_FLAG_HAS_FILTER_ORIGIN, hex bits), or
	// has_provider_context.
	DroppedFlags []string
	Line         int
}

// Note is one thing an import could not carry over, or carried over changed.
type Note struct {
	Line   int    // 0 when it is about the whole file
	Path   string // the element path, "wfpstate/layers/item[12]/filters/item[3]"
	Object string // "filter 113578 \"Boot Time Filter\"", "" for the whole file
	Reason string
}

func (n Note) String() string {
	var b strings.Builder
	if n.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", n.Line)
	}
	if n.Object != "" {
		b.WriteString(n.Object)
		b.WriteString(": ")
	}
	b.WriteString(n.Reason)
	if n.Path != "" {
		fmt.Fprintf(&b, " (%s)", n.Path)
	}
	return b.String()
}

// ImportNetshFile reads a netsh dump file and converts it; see ImportNetsh.
func ImportNetshFile(path string, opts ImportOptions) (*Document, *Account, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("policy: import: %w", err)
	}
	defer f.Close()
	if opts.File == "" {
		opts.File = path
	}
	return ImportNetsh(f, opts)
}

// ImportNetsh reads the XML of `netsh wfp show state` or `netsh wfp show filters`
// and converts it into a policy document that, applied to an engine
// (Apply), gives that machine's providers, sublayers (with their weights),
// callouts (management objects only: no callout code is registered) and filters,
// with the dump's keys and every filter's effective weight kept exactly
// (weight: {exact: ...}). The account says what was imported, by layer, provider
// and sublayer, and everything that was not carried over, with the reason.
//
// Errors (malformed or truncated XML, unknown elements, values that do not parse)
// are an *Error with the line and the element path; with opts.Partial they are
// listed in the account instead, and what could be read is imported.
func ImportNetsh(r io.Reader, opts ImportOptions) (*Document, *Account, error) {
	d, err := ReadNetsh(r, opts)
	if err != nil {
		return nil, nil, err
	}
	doc, acct := d.Document(opts)
	return doc, acct, nil
}

// ReadNetsh reads a netsh dump into wfp objects, without resolving them against an
// engine. See ImportNetsh.
func ReadNetsh(r io.Reader, opts ImportOptions) (*Dump, error) {
	file := opts.File
	if file == "" {
		file = "netsh.xml"
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	rd := &netshReader{file: file, partial: opts.Partial, d: xml.NewDecoder(br), dump: &Dump{File: file}}
	err := rd.read()
	if err != nil {
		return nil, err
	}
	return rd.dump, nil
}

// xnode is one element of an object <item>, kept until the item is converted.
type xnode struct {
	name   string
	text   string
	line   int
	parent *xnode
	index  int // 1-based among the parent's children of that name; 0 when alone
	kids   []*xnode
	prefix string // the path of the item's parent, for the root of a tree
}

func (n *xnode) child(name string) *xnode {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (n *xnode) childText(name string) string {
	if c := n.child(name); c != nil {
		return strings.TrimSpace(c.text)
	}
	return ""
}

func (n *xnode) path() string {
	var parts []string
	var root *xnode
	for x := n; x != nil; x = x.parent {
		s := x.name
		if x.index > 0 {
			s = fmt.Sprintf("%s[%d]", x.name, x.index)
		}
		parts = append(parts, s)
		root = x
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	p := strings.Join(parts, "/")
	if root.prefix != "" {
		p = root.prefix + "/" + p
	}
	return p
}

type frame struct {
	name   string
	index  int
	counts map[string]int
}

type netshReader struct {
	file    string
	partial bool
	d       *xml.Decoder
	stack   []frame
	dump    *Dump
	layer   *layers.Layer // the layer of the <layers><item> being read
}

func (r *netshReader) line() int {
	l, _ := r.d.InputPos()
	return l
}

func (r *netshReader) path() string {
	var parts []string
	for _, f := range r.stack {
		if f.index > 0 {
			parts = append(parts, fmt.Sprintf("%s[%d]", f.name, f.index))
		} else {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, "/")
}

func (r *netshReader) errAt(line int, path, format string, args ...any) *Error {
	return &Error{File: r.file, Line: line, Column: 1, Path: path, Msg: fmt.Sprintf(format, args...), Err: wfp.ErrInvalidParameter}
}

// push enters an element; items are numbered among their siblings.
func (r *netshReader) push(name string) {
	idx := 0
	if n := len(r.stack); n > 0 {
		top := &r.stack[n-1]
		if top.counts == nil {
			top.counts = map[string]int{}
		}
		top.counts[name]++
		if name == "item" {
			idx = top.counts[name]
		}
	}
	r.stack = append(r.stack, frame{name: name, index: idx})
}

func (r *netshReader) pop() { r.stack = r.stack[:len(r.stack)-1] }

// end closes the current element, checking that the end tag matches it.
func (r *netshReader) end(ee xml.EndElement) error {
	if top := r.topName(); ee.Name.Local != top {
		return r.fatal(r.errAt(r.line(), r.path(), "malformed XML: element <%s> closed by </%s>", top, ee.Name.Local))
	}
	r.pop()
	return nil
}

// next returns the next start or end element, skipping text, comments and
// directives; io.EOF at the end of the input.
func (r *netshReader) next() (xml.Token, error) {
	for {
		t, err := r.d.RawToken()
		if err != nil {
			return nil, err
		}
		switch t.(type) {
		case xml.StartElement, xml.EndElement:
			return t, nil
		}
	}
}

// syntax turns a decoder error into an *Error with the line and the open elements.
func (r *netshReader) syntax(err error) *Error {
	line := r.line()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line = se.Line
	}
	msg := err.Error()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(msg, "unexpected EOF") {
		msg = "the dump is truncated: the file ends inside <" + r.topName() + ">"
	} else {
		msg = "malformed XML: " + strings.TrimPrefix(msg, "XML syntax error on line "+strconv.Itoa(line)+": ")
	}
	return r.errAt(line, r.path(), "%s", msg)
}

func (r *netshReader) topName() string {
	if len(r.stack) == 0 {
		return "the document"
	}
	return r.stack[len(r.stack)-1].name
}

// fail records an error: returned without Partial, listed in Skipped with it.
func (r *netshReader) fail(e *Error, object string) error {
	if !r.partial {
		return e
	}
	r.dump.Skipped = append(r.dump.Skipped, Note{Line: e.Line, Path: e.Path, Object: object, Reason: e.Msg})
	return nil
}

// fatal records an error after which reading cannot go on (malformed or truncated
// XML): with Partial, what was read so far is kept.
func (r *netshReader) fatal(e *Error) error {
	if !r.partial {
		return e
	}
	r.dump.Skipped = append(r.dump.Skipped, Note{Line: e.Line, Path: e.Path, Reason: e.Msg + "; nothing after this point was imported"})
	return errStop
}

var errStop = errors.New("stop")

// skip skips the rest of the current element.
func (r *netshReader) skip() error {
	names := []string{r.topName()}
	for len(names) > 0 {
		t, err := r.d.RawToken()
		if err != nil {
			return r.fatal(r.syntax(err))
		}
		switch t := t.(type) {
		case xml.StartElement:
			names = append(names, t.Name.Local)
		case xml.EndElement:
			if open := names[len(names)-1]; t.Name.Local != open {
				return r.fatal(r.errAt(r.line(), r.path(), "malformed XML: element <%s> closed by </%s>", open, t.Name.Local))
			}
			names = names[:len(names)-1]
		}
	}
	r.pop()
	return nil
}

func (r *netshReader) read() error {
	err := r.readRoots()
	if err == errStop {
		return nil
	}
	return err
}

func (r *netshReader) readRoots() error {
	roots := 0
	for {
		t, err := r.next()
		if err == io.EOF {
			if roots == 0 {
				return r.fatal(r.errAt(r.line(), "", "no netsh XML: the file has no root element (want <wfpstate> or <wfpdiag>)"))
			}
			return nil
		}
		if err != nil {
			return r.fatal(r.syntax(err))
		}
		se, ok := t.(xml.StartElement)
		if !ok {
			continue
		}
		r.push(se.Name.Local)
		roots++
		if roots > 1 {
			// `show state` writes a second root, <firewallState>, after </wfpstate>.
			r.dump.Notes = append(r.dump.Notes, Note{Line: r.line(), Path: se.Name.Local,
				Reason: fmt.Sprintf("second root element <%s> not imported (it holds no filtering objects)", se.Name.Local)})
			if err := r.skip(); err != nil {
				return err
			}
			continue
		}
		switch se.Name.Local {
		case "wfpstate":
			r.dump.Format = "show state"
		case "wfpdiag":
			r.dump.Format = "show filters"
		default:
			return r.fatal(r.errAt(r.line(), r.path(), "unknown root element <%s>: want <wfpstate> (netsh wfp show state) or <wfpdiag> (netsh wfp show filters)", se.Name.Local))
		}
		if err := r.readRoot(); err != nil {
			return err
		}
	}
}

// skippedSections are the parts of a dump that hold no filtering objects.
var skippedSections = map[string]bool{
	"timeStamp": true, "sessions": true, "providerContexts": true, "subscriptions": true,
	"ipsecSaContexts": true, "aleConnectedEndpoints": true, "ikeextStatistics": true,
	"ipsecStatistics": true, "ikeextSas": true, "netEvents": true,
}

func (r *netshReader) readRoot() error {
	for {
		t, err := r.next()
		if err != nil {
			return r.fatal(r.syntax(err))
		}
		if ee, ok := t.(xml.EndElement); ok {
			return r.end(ee)
		}
		se := t.(xml.StartElement)
		name := se.Name.Local
		r.push(name)
		switch {
		case skippedSections[name]:
			err = r.skip()
		case name == "layers" && r.dump.Format == "show state":
			err = r.readList(r.readLayerItem)
		case name == "filters":
			err = r.readList(r.itemReader("filter", r.filter))
		case name == "providers":
			err = r.readList(r.itemReader("provider", r.provider))
		case name == "subLayers":
			err = r.readList(r.itemReader("sublayer", r.sublayer))
		default:
			if e := r.fail(r.errAt(r.line(), r.path(), "unknown element <%s>", name), "<"+name+">"); e != nil {
				return e
			}
			err = r.skip()
		}
		if err != nil {
			return err
		}
	}
}

// readList reads the <item>s of a list element with fn, which consumes each item.
func (r *netshReader) readList(fn func() error) error {
	for {
		t, err := r.next()
		if err != nil {
			return r.fatal(r.syntax(err))
		}
		if ee, ok := t.(xml.EndElement); ok {
			return r.end(ee)
		}
		se := t.(xml.StartElement)
		r.push(se.Name.Local)
		if se.Name.Local != "item" {
			if e := r.fail(r.errAt(r.line(), r.path(), "unknown element <%s>: a list holds only <item> elements", se.Name.Local), ""); e != nil {
				return e
			}
			if err := r.skip(); err != nil {
				return err
			}
			continue
		}
		if err := fn(); err != nil {
			return err
		}
	}
}

// itemReader reads one object <item> into a tree and converts it with conv.
func (r *netshReader) itemReader(kind string, conv func(n *xnode) error) func() error {
	return func() error {
		top := r.stack[len(r.stack)-1]
		prefix := strings.TrimSuffix(r.path(), fmt.Sprintf("/item[%d]", top.index))
		n, err := r.tree("item", nil)
		if err != nil {
			return err
		}
		n.prefix, n.index = prefix, top.index
		if err := conv(n); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return r.fail(e, describe(kind, n))
			}
			return err
		}
		return nil
	}
}

func describe(kind string, n *xnode) string {
	name := ""
	if dd := n.child("displayData"); dd != nil {
		name = dd.childText("name")
	}
	id := n.childText("filterId")
	if id == "" {
		for _, k := range []string{"filterKey", "providerKey", "subLayerKey", "calloutKey"} {
			if id = n.childText(k); id != "" {
				break
			}
		}
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s %q", kind, id, name))
}

// tree reads the rest of the element just started into an xnode, then pops it.
func (r *netshReader) tree(name string, parent *xnode) (*xnode, error) {
	n := &xnode{name: name, line: r.line(), parent: parent}
	counts := map[string]int{}
	var text []byte
	for {
		t, err := r.d.RawToken()
		if err != nil {
			return nil, r.fatal(r.syntax(err))
		}
		switch t := t.(type) {
		case xml.CharData:
			text = append(text, t...)
		case xml.EndElement:
			if t.Name.Local != name {
				return nil, r.fatal(r.errAt(r.line(), r.path(), "malformed XML: element <%s> closed by </%s>", name, t.Name.Local))
			}
			n.text = string(text)
			if bytes.ContainsRune(text, '&') {
				n.text = unescape(n.text)
			}
			r.pop()
			return n, nil
		case xml.StartElement:
			r.push(t.Name.Local)
			k, err := r.tree(t.Name.Local, n)
			if err != nil {
				return nil, err
			}
			counts[k.name]++
			k.index = counts[k.name]
			n.kids = append(n.kids, k)
		}
	}
}

// unescape resolves the predefined entities and character references that
// RawToken leaves in character data.
func unescape(s string) string {
	var v struct {
		S string `xml:",chardata"`
	}
	if err := xml.Unmarshal([]byte("<x>"+s+"</x>"), &v); err != nil {
		return s
	}
	return v.S
}

// single-index paths: items at index 1 of a single child are written without index
// when they are the only one.
func (n *xnode) fix() {
	counts := map[string]int{}
	for _, k := range n.kids {
		counts[k.name]++
	}
	for _, k := range n.kids {
		if counts[k.name] == 1 && k.name != "item" {
			k.index = 0
		}
		k.fix()
	}
}

func (r *netshReader) readLayerItem() error {
	r.layer = nil
	for {
		t, err := r.next()
		if err != nil {
			return r.fatal(r.syntax(err))
		}
		if ee, ok := t.(xml.EndElement); ok {
			return r.end(ee)
		}
		se := t.(xml.StartElement)
		r.push(se.Name.Local)
		switch se.Name.Local {
		case "layer":
			n, err := r.tree("layer", nil)
			if err != nil {
				return err
			}
			n.prefix = strings.TrimSuffix(r.path(), "/layer")
			key := n.childText("layerKey")
			if l, ok := lookupLayer(key); ok {
				r.layer = l
			} else {
				r.dump.Notes = append(r.dump.Notes, Note{Line: n.line, Path: n.path() + "/layerKey", Object: "layer " + key,
					Reason: "layer not in the catalogue: its callouts and filters cannot be carried over"})
			}
		case "callouts":
			err = r.readList(r.itemReader("callout", r.callout))
		case "filters":
			err = r.readList(r.itemReader("filter", r.filter))
		default:
			if e := r.fail(r.errAt(r.line(), r.path(), "unknown element <%s> in a layer item: want layer, callouts, filters", se.Name.Local), ""); e != nil {
				return e
			}
			err = r.skip()
		}
		if err != nil {
			return err
		}
	}
}

// ---- conversion of object trees

func (r *netshReader) errNode(n *xnode, format string, args ...any) *Error {
	return r.errAt(n.line, n.path(), format, args...)
}

// checkKids reports the first child not in allowed.
func (r *netshReader) checkKids(n *xnode, allowed ...string) error {
	for _, k := range n.kids {
		ok := false
		for _, a := range allowed {
			ok = ok || k.name == a
		}
		if !ok {
			return r.errNode(k, "unknown element <%s> in <%s>: want one of %s", k.name, n.name, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func (r *netshReader) displayData(n *xnode) (wfp.DisplayData, error) {
	dd := n.child("displayData")
	if dd == nil {
		return wfp.DisplayData{}, nil
	}
	if err := r.checkKids(dd, "name", "description"); err != nil {
		return wfp.DisplayData{}, err
	}
	return wfp.DisplayData{Name: strings.TrimSpace(dd.childText("name")), Description: strings.TrimSpace(dd.childText("description"))}, nil
}

// flagItems returns the flag names of <flags>, and the bits of hex items.
func (r *netshReader) flagItems(n *xnode) (names []string, hexBits uint32, err error) {
	fl := n.child("flags")
	if fl == nil {
		return nil, 0, nil
	}
	for _, it := range fl.kids {
		if it.name != "item" {
			return nil, 0, r.errNode(it, "unknown element <%s> in <flags>: want <item>", it.name)
		}
		s := strings.TrimSpace(it.text)
		if isHexFlag(s) {
			v, _ := strconv.ParseUint(s, 16, 32)
			hexBits |= uint32(v)
			continue
		}
		if s == "" {
			return nil, 0, r.errNode(it, "empty flag item")
		}
		names = append(names, s)
	}
	return names, hexBits, nil
}

func isHexFlag(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := strconv.ParseUint(s, 16, 32)
	return err == nil
}

func (r *netshReader) data(n *xnode, name string) ([]byte, error) {
	c := n.child(name)
	if c == nil {
		return nil, nil
	}
	h := c.childText("data")
	if h == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, r.errNode(c.child("data"), "%q is not hex data", h)
	}
	return b, nil
}

// keyOf reads a GUID or a symbolic name of the given kind.
func (r *netshReader) keyOf(n *xnode, kind string) (g wfp.GUID, symbol string, err error) {
	s := strings.TrimSpace(n.text)
	if s == "" {
		return wfp.GUID{}, "", nil
	}
	if g, err := wfp.ParseGUID(s); err == nil {
		return g, "", nil
	}
	if !strings.HasPrefix(s, "FWPM_") && !strings.HasPrefix(s, "FWPS_") {
		return wfp.GUID{}, "", r.errNode(n, "%q is neither a GUID nor a symbolic FWPM_ name", s)
	}
	return symbolKey(kind, s), s, nil
}

// symbolKey resolves a symbolic name netsh printed instead of a GUID. Names the
// catalogue does not hold (FWPM_PROVIDER_MPSSVC_WF, ...) get a key derived from the
// name, the same on every run.
func symbolKey(kind, s string) wfp.GUID {
	switch kind {
	case "provider":
		if p, ok := layers.ProviderByName(s); ok {
			return wfp.GUID(p.Key)
		}
	case "sublayer":
		if p, ok := layers.SublayerByName(s); ok {
			return wfp.GUID(p.Key)
		}
	case "callout":
		if p, ok := layers.CalloutByName(s); ok {
			return wfp.GUID(p.Key)
		}
	case "layer":
		if l, ok := layers.LayerByName(s); ok && l.KeyKnown {
			return wfp.GUID(l.Key)
		}
	case "provider_context":
		for _, pc := range layers.ProviderContexts() {
			if pc.Name == s {
				return wfp.GUID(pc.Key)
			}
		}
	}
	return wfp.GUIDFromName(kind, s)
}

func symbolKnown(kind, s string) bool {
	switch kind {
	case "provider":
		_, ok := layers.ProviderByName(s)
		return ok
	case "sublayer":
		_, ok := layers.SublayerByName(s)
		return ok
	case "callout":
		_, ok := layers.CalloutByName(s)
		return ok
	}
	return true
}

func lookupLayer(s string) (*layers.Layer, bool) {
	s = strings.TrimSpace(s)
	if g, err := wfp.ParseGUID(s); err == nil {
		return layers.LayerByKey(wfp.LayerKey(g))
	}
	l, ok := layers.LayerByName(s)
	if !ok || !l.KeyKnown {
		return nil, false
	}
	return l, true
}

// objectHead reads what a provider, a sublayer and a callout item start with: its
// children checked against the allowed ones, its key (the keyElem child, required)
// and its display data.
func (r *netshReader) objectHead(n *xnode, kind, keyElem string, allowed ...string) (key wfp.GUID, symbol string, dd wfp.DisplayData, err error) {
	n.fix()
	if err := r.checkKids(n, allowed...); err != nil {
		return key, "", dd, err
	}
	kn := n.child(keyElem)
	if kn == nil {
		return key, "", dd, r.errNode(n, "%s without <%s>", kind, keyElem)
	}
	if key, symbol, err = r.keyOf(kn, kind); err != nil {
		return key, "", dd, err
	}
	dd, err = r.displayData(n)
	return key, symbol, dd, err
}

// strictFlags reads an object's <flags>: hex items as they are, names through parse;
// an unknown name is an error.
func strictFlags[T ~uint32](r *netshReader, n *xnode, kind string, parse func(string) (T, error)) (T, error) {
	names, bits, err := r.flagItems(n)
	if err != nil {
		return 0, err
	}
	flags := T(bits)
	for _, s := range names {
		v, err := parse(s)
		if err != nil {
			return 0, r.errNode(n.child("flags"), "unknown %s flag %q", kind, s)
		}
		flags |= v
	}
	return flags, nil
}

func (r *netshReader) provider(n *xnode) error {
	k, sym, dd, err := r.objectHead(n, "provider", "providerKey", "providerKey", "displayData", "flags", "providerData", "serviceName")
	if err != nil {
		return err
	}
	p := DumpProvider{Symbol: sym, Line: n.line}
	p.Key, p.DisplayData = wfp.ProviderKey(k), dd
	if p.Flags, err = strictFlags(r, n, "provider", wfp.ParseProviderFlag); err != nil {
		return err
	}
	if p.Data, err = r.data(n, "providerData"); err != nil {
		return err
	}
	p.ServiceName = n.childText("serviceName")
	r.dump.Providers = append(r.dump.Providers, p)
	return nil
}

func (r *netshReader) sublayer(n *xnode) error {
	k, sym, dd, err := r.objectHead(n, "sublayer", "subLayerKey", "subLayerKey", "displayData", "flags", "providerKey", "providerData", "weight")
	if err != nil {
		return err
	}
	s := DumpSublayer{Symbol: sym, Line: n.line}
	s.Key, s.DisplayData = wfp.SublayerKey(k), dd
	if s.Flags, err = strictFlags(r, n, "sublayer", wfp.ParseSublayerFlag); err != nil {
		return err
	}
	if pk := n.child("providerKey"); pk != nil {
		g, _, err := r.keyOf(pk, "provider")
		if err != nil {
			return err
		}
		s.Provider = wfp.ProviderKey(g)
	}
	if s.Data, err = r.data(n, "providerData"); err != nil {
		return err
	}
	if w := n.child("weight"); w != nil {
		v, err := strconv.ParseUint(strings.TrimSpace(w.text), 0, 16)
		if err != nil {
			return r.errNode(w, "sublayer weight %q is not an FWP_UINT16", strings.TrimSpace(w.text))
		}
		s.Weight = uint16(v)
	}
	r.dump.Sublayers = append(r.dump.Sublayers, s)
	return nil
}

func (r *netshReader) callout(n *xnode) error {
	k, sym, dd, err := r.objectHead(n, "callout", "calloutKey", "calloutKey", "displayData", "flags", "providerKey", "providerData", "applicableLayer", "calloutId")
	if err != nil {
		return err
	}
	c := DumpCallout{Symbol: sym, Line: n.line}
	c.Key, c.DisplayData = wfp.CalloutKey(k), dd
	names, bits, err := r.flagItems(n)
	if err != nil {
		return err
	}
	c.UnknownFlags = bits
	for _, f := range names {
		v, err := wfp.ParseCalloutFlag(f)
		if err != nil {
			if strings.HasPrefix(f, "FWP_CALLOUT_FLAG_") || strings.HasPrefix(f, "FWPM_CALLOUT_FLAG_") {
				c.DroppedFlags = append(c.DroppedFlags, f)
				continue
			}
			return r.errNode(n.child("flags"), "unknown callout flag %q", f)
		}
		if v == wfp.CalloutFlagRegistered {
			c.Registered = true
			continue
		}
		c.Flags |= v
	}
	if pk := n.child("providerKey"); pk != nil {
		g, _, err := r.keyOf(pk, "provider")
		if err != nil {
			return err
		}
		c.Provider = wfp.ProviderKey(g)
	}
	if c.Data, err = r.data(n, "providerData"); err != nil {
		return err
	}
	al := n.child("applicableLayer")
	if al == nil {
		if r.layer == nil {
			return r.errNode(n, "callout without <applicableLayer>")
		}
		c.Layer = r.layer.Key
	} else {
		l, ok := lookupLayer(al.text)
		if !ok {
			r.dump.Skipped = append(r.dump.Skipped, Note{Line: n.line, Path: al.path(), Object: describe("callout", n),
				Reason: fmt.Sprintf("layer %s is not in the catalogue", strings.TrimSpace(al.text))})
			return nil
		}
		c.Layer = l.Key
	}
	if id := n.child("calloutId"); id != nil {
		v, err := strconv.ParseUint(strings.TrimSpace(id.text), 10, 32)
		if err != nil {
			return r.errNode(id, "calloutId %q is not a number", strings.TrimSpace(id.text))
		}
		c.ID = wfp.CalloutID(v)
	}
	r.dump.Callouts = append(r.dump.Callouts, c)
	return nil
}

func (r *netshReader) weightOf(n *xnode) (wfp.Weight, uint64, error) {
	if err := r.checkKids(n, "type", "uint8", "uint64"); err != nil {
		return wfp.Weight{}, 0, err
	}
	t := n.childText("type")
	switch t {
	case "FWP_EMPTY":
		return wfp.AutoWeight(), 0, nil
	case "FWP_UINT8":
		v, err := strconv.ParseUint(n.childText("uint8"), 0, 8)
		if err != nil {
			return wfp.Weight{}, 0, r.errNode(n, "weight %q is not an FWP_UINT8", n.childText("uint8"))
		}
		return wfp.RangeWeight(uint8(v)), v, nil
	case "FWP_UINT64":
		v, err := strconv.ParseUint(n.childText("uint64"), 0, 64)
		if err != nil {
			return wfp.Weight{}, 0, r.errNode(n, "weight %q is not an FWP_UINT64", n.childText("uint64"))
		}
		return wfp.ExactWeight(v), v, nil
	}
	return wfp.Weight{}, 0, r.errNode(n, "weight type %q: want FWP_EMPTY, FWP_UINT8 or FWP_UINT64", t)
}

// knownDroppedFilterFlags are FWPM_FILTER_FLAG_* names netsh prints that wfp has
// no constant for; they do not change arbitration.
var knownDroppedFilterFlags = map[string]bool{"FWPM_FILTER_FLAG_HAS_FILTER_ORIGIN": true}

func (r *netshReader) filter(n *xnode) error {
	n.fix()
	if err := r.checkKids(n, "filterKey", "displayData", "flags", "providerKey", "providerData", "layerKey", "subLayerKey",
		"weight", "filterCondition", "action", "providerContextKey", "rawContext", "reserved", "filterId", "effectiveWeight"); err != nil {
		return err
	}
	f := DumpFilter{Line: n.line}
	kn := n.child("filterKey")
	if kn == nil {
		return r.errNode(n, "filter without <filterKey>")
	}
	g, err := wfp.ParseGUID(strings.TrimSpace(kn.text))
	if err != nil {
		return r.errNode(kn, "filterKey %q is not a GUID", strings.TrimSpace(kn.text))
	}
	f.Key = wfp.FilterKey(g)
	if f.DisplayData, err = r.displayData(n); err != nil {
		return err
	}
	names, bits, err := r.flagItems(n)
	if err != nil {
		return err
	}
	for _, s := range names {
		if knownDroppedFilterFlags[s] {
			f.DroppedFlags = append(f.DroppedFlags, s)
			continue
		}
		v, err := wfp.ParseFilterFlag(s)
		if err != nil {
			if strings.HasPrefix(s, "FWPM_FILTER_FLAG_") {
				f.DroppedFlags = append(f.DroppedFlags, s)
				continue
			}
			return r.errNode(n.child("flags"), "unknown filter flag %q", s)
		}
		switch v {
		case wfp.FilterFlagDisabled, wfp.FilterFlagHasProviderContext:
			f.DroppedFlags = append(f.DroppedFlags, v.String())
			continue
		}
		f.Flags |= v
	}
	if bits != 0 {
		f.DroppedFlags = append(f.DroppedFlags, fmt.Sprintf("%08x", bits))
	}
	if pk := n.child("providerKey"); pk != nil {
		g, _, err := r.keyOf(pk, "provider")
		if err != nil {
			return err
		}
		f.Provider = wfp.ProviderKey(g)
	}
	lk := n.child("layerKey")
	if lk == nil {
		return r.errNode(n, "filter without <layerKey>")
	}
	l, ok := lookupLayer(lk.text)
	if !ok {
		r.dump.Skipped = append(r.dump.Skipped, Note{Line: n.line, Path: lk.path(), Object: describe("filter", n),
			Reason: fmt.Sprintf("layer %s is not in the catalogue", strings.TrimSpace(lk.text))})
		return nil
	}
	f.Layer = l.Key
	if sk := n.child("subLayerKey"); sk != nil {
		g, _, err := r.keyOf(sk, "sublayer")
		if err != nil {
			return err
		}
		f.Sublayer = wfp.SublayerKey(g)
	}
	if w := n.child("weight"); w != nil {
		if f.DumpedWeight, _, err = r.weightOf(w); err != nil {
			return err
		}
	}
	ew := n.child("effectiveWeight")
	if ew == nil {
		return r.errNode(n, "filter without <effectiveWeight>")
	}
	ewk, ev, err := r.weightOf(ew)
	if err != nil {
		return err
	}
	if ewk.Kind != wfp.WeightExact {
		return r.errNode(ew, "effectiveWeight must be FWP_UINT64")
	}
	f.EffectiveWeight = ev
	f.Weight = wfp.ExactWeight(ev)
	if fc := n.child("filterCondition"); fc != nil {
		for _, it := range fc.kids {
			if it.name != "item" {
				return r.errNode(it, "unknown element <%s> in <filterCondition>: want <item>", it.name)
			}
			c, err := r.condition(it, l)
			if err != nil {
				return err
			}
			f.Conditions = append(f.Conditions, c)
		}
	}
	an := n.child("action")
	if an == nil {
		return r.errNode(n, "filter without <action>")
	}
	if err := r.checkKids(an, "type", "filterType", "calloutKey"); err != nil {
		return err
	}
	at, err := wfp.ParseActionType(an.childText("type"))
	if err != nil || !at.IsFilterAction() {
		return r.errNode(an, "action type %q: want FWP_ACTION_BLOCK, FWP_ACTION_PERMIT or a callout action", an.childText("type"))
	}
	f.Action.Type = at
	if at.IsCallout() {
		ck := an.child("calloutKey")
		if ck == nil {
			ck = an.child("filterType")
		}
		if ck == nil || strings.TrimSpace(ck.text) == "" {
			return r.errNode(an, "callout action without a callout key")
		}
		g, _, err := r.keyOf(ck, "callout")
		if err != nil {
			return err
		}
		f.Action.Callout = wfp.CalloutKey(g)
	}
	if pc := n.child("providerContextKey"); pc != nil {
		f.ProviderContextKey = strings.TrimSpace(pc.text)
	}
	if rc := n.child("rawContext"); rc != nil {
		v, err := strconv.ParseUint(strings.TrimSpace(rc.text), 0, 64)
		if err != nil {
			return r.errNode(rc, "rawContext %q is not an FWP_UINT64", strings.TrimSpace(rc.text))
		}
		f.RawContext = v
	}
	if id := n.child("filterId"); id != nil {
		v, err := strconv.ParseUint(strings.TrimSpace(id.text), 10, 64)
		if err != nil {
			return r.errNode(id, "filterId %q is not a number", strings.TrimSpace(id.text))
		}
		f.ID = wfp.FilterID(v)
	}
	if r.layer != nil && r.layer != l {
		return r.errNode(lk, "filter at %s listed under layer %s", l.Name, r.layer.Name)
	}
	r.dump.Filters = append(r.dump.Filters, f)
	return nil
}

func (r *netshReader) condition(it *xnode, l *layers.Layer) (wfp.Condition, error) {
	if err := r.checkKids(it, "fieldKey", "matchType", "conditionValue"); err != nil {
		return wfp.Condition{}, err
	}
	fk := it.child("fieldKey")
	if fk == nil {
		return wfp.Condition{}, r.errNode(it, "condition without <fieldKey>")
	}
	s := strings.TrimSpace(fk.text)
	var lc *layers.Condition
	var ok bool
	if g, err := wfp.ParseGUID(s); err == nil {
		lc, ok = layers.ConditionByKey(wfp.FieldKey(g))
	} else {
		lc, ok = layers.ConditionByName(s)
	}
	if !ok || !lc.KeyKnown {
		return wfp.Condition{}, r.errNode(fk, "unknown condition field %q", s)
	}
	m, err := wfp.ParseMatchType(it.childText("matchType"))
	if err != nil {
		return wfp.Condition{}, r.errNode(it, "unknown match type %q", it.childText("matchType"))
	}
	cv := it.child("conditionValue")
	if cv == nil {
		return wfp.Condition{}, r.errNode(it, "condition without <conditionValue>")
	}
	v, err := r.value(cv)
	if err != nil {
		return wfp.Condition{}, err
	}
	return wfp.Condition{Field: lc.Key, Match: m, Value: v}, nil
}

// value reads an FWP_VALUE0 / FWP_CONDITION_VALUE0: <type> and one value element.
func (r *netshReader) value(n *xnode) (wfp.Value, error) {
	tn := n.child("type")
	if tn == nil {
		return nil, r.errNode(n, "value without <type>")
	}
	t, err := wfp.ParseDataType(strings.TrimSpace(tn.text))
	if err != nil {
		return nil, r.errNode(tn, "unknown data type %q", strings.TrimSpace(tn.text))
	}
	var vn *xnode
	for _, k := range n.kids {
		if k.name != "type" {
			if vn != nil {
				return nil, r.errNode(k, "unknown element <%s>: a value has one element after <type>", k.name)
			}
			vn = k
		}
	}
	if t == wfp.TypeEmpty {
		return wfp.Empty{}, nil
	}
	if vn == nil {
		return nil, r.errNode(n, "%s value without its element", t)
	}
	text := strings.TrimSpace(vn.text)
	switch t {
	case wfp.TypeRange:
		lo, hi := vn.child("valueLow"), vn.child("valueHigh")
		if lo == nil || hi == nil {
			return nil, r.errNode(vn, "a range needs <valueLow> and <valueHigh>")
		}
		lv, err := r.value(lo)
		if err != nil {
			return nil, err
		}
		hv, err := r.value(hi)
		if err != nil {
			return nil, err
		}
		return wfp.Range{Low: lv, High: hv}, nil
	case wfp.TypeByteBlob:
		if vn.child("data") == nil && text != "" {
			break
		}
		b, err := hex.DecodeString(vn.childText("data"))
		if err != nil {
			return nil, r.errNode(vn, "byte blob data %q is not hex", vn.childText("data"))
		}
		return wfp.ByteBlob(b), nil
	case wfp.TypeV4AddrMask:
		if a := vn.child("addr"); a != nil {
			addr, err1 := netip.ParseAddr(a.text)
			mask, err2 := netip.ParseAddr(vn.childText("mask"))
			if err1 != nil || err2 != nil || !addr.Is4() || !mask.Is4() {
				return nil, r.errNode(vn, "v4AddrMask: want <addr> and <mask> as dotted IPv4 addresses")
			}
			return wfp.V4AddrMask{Addr: uint32(wfp.V4FromAddr(addr)), Mask: uint32(wfp.V4FromAddr(mask))}, nil
		}
	case wfp.TypeV6AddrMask:
		if a := vn.child("addr"); a != nil {
			addr, err1 := netip.ParseAddr(strings.TrimSpace(a.text))
			pl, err2 := strconv.ParseUint(vn.childText("prefixLength"), 10, 8)
			if err1 != nil || err2 != nil || !addr.Is6() || pl > 128 {
				return nil, r.errNode(vn, "v6AddrMask: want <addr> (IPv6) and <prefixLength> 0..128")
			}
			return wfp.V6AddrMask{Addr: addr.As16(), PrefixLength: uint8(pl)}, nil
		}
	}
	v, err := wfp.ParseValue(t, text)
	if err != nil {
		return nil, r.errNode(vn, "%q is not a valid %s value", text, t)
	}
	return v, nil
}

// sortedCounts returns a map's entries sorted by count, highest first, then name.
func sortedCounts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Count is one row of an account's counts.
type Count struct {
	Name string
	N    int
}

// Account is what an import carried over, and everything it did not, with the
// reason. WriteText prints it.
type Account struct {
	File   string
	Format string // "show state" or "show filters"
	// In the dump.
	DumpProviders, DumpSublayers, DumpCallouts, DumpFilters int
	// Added by the document (objects the engine already holds are not re-added).
	Providers, Sublayers, Callouts, Filters int
	// Imported filters by layer (C name), provider and sublayer (document name or
	// C name).
	ByLayer, ByProvider, BySublayer []Count
	// Builtin lists the dumped objects the engine already holds, so not re-added.
	Builtin []string
	// Unregistered lists the callouts the imported filters use: only their
	// management objects are added, no code is registered, so their filters follow
	// the unregistered-callout rules (rule A9) until code is registered.
	Unregistered []UnregisteredCallout
	// Changed are objects carried over with a change (a provider context or a flag
	// left out, a key derived from a symbolic name, a sublayer weight unknown),
	// counted by reason.
	Changed []Change
	// Skipped are the objects not carried over, each with the reason.
	Skipped []Note
	// Notes are parts of the dump that hold no filtering objects and were left out.
	Notes []Note
}

// UnregisteredCallout is a callout whose filters were imported with no code.
type UnregisteredCallout struct {
	Name    string // document name
	Key     wfp.CalloutKey
	Layer   string
	Filters int
	// Driver says whose code it is on the machine: "built-in (Windows)" for a
	// catalogue callout, else a driver's callout (third-party, or a Windows driver the
	// catalogue does not list), and whether it was registered there.
	Driver string
}

// Change is a change made to carried-over objects, with how many it touched and
// some examples.
type Change struct {
	Reason   string
	N        int
	Examples []string
}

// Complete reports whether everything in the dump that describes filtering was
// carried over (possibly changed).
func (a *Account) Complete() bool { return len(a.Skipped) == 0 }

// WriteText writes the account for people: totals, counts by layer, provider and
// sublayer, the callouts left unregistered, the changes and everything not carried
// over, with the reason.
func (a *Account) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "import %s (netsh wfp %s)\n", a.File, a.Format)
	fmt.Fprintf(&b, "  filters    %5d in the dump, %5d imported\n", a.DumpFilters, a.Filters)
	fmt.Fprintf(&b, "  providers  %5d in the dump, %5d added\n", a.DumpProviders, a.Providers)
	fmt.Fprintf(&b, "  sublayers  %5d in the dump, %5d added\n", a.DumpSublayers, a.Sublayers)
	fmt.Fprintf(&b, "  callouts   %5d in the dump, %5d added (management objects only)\n", a.DumpCallouts, a.Callouts)
	section := func(title string, cs []Count) {
		fmt.Fprintf(&b, "\nfilters by %s:\n", title)
		for _, c := range cs {
			fmt.Fprintf(&b, "  %5d  %s\n", c.N, c.Name)
		}
	}
	section("layer", a.ByLayer)
	section("provider", a.ByProvider)
	section("sublayer", a.BySublayer)
	if len(a.Builtin) > 0 {
		fmt.Fprintf(&b, "\nalready in the engine, not re-added (%d): %s\n", len(a.Builtin), strings.Join(a.Builtin, ", "))
	}
	if len(a.Unregistered) > 0 {
		n := 0
		for _, u := range a.Unregistered {
			n += u.Filters
		}
		fmt.Fprintf(&b, "\ncallouts imported unregistered (%d callouts, %d filters): their filters act as rule A9 says until code is registered\n", len(a.Unregistered), n)
		for _, u := range a.Unregistered {
			fmt.Fprintf(&b, "  %4d filters  %s at %s: %s\n", u.Filters, u.Name, u.Layer, u.Driver)
		}
	}
	if len(a.Changed) > 0 {
		fmt.Fprintf(&b, "\ncarried over with a change:\n")
		for _, c := range a.Changed {
			fmt.Fprintf(&b, "  %5d  %s", c.N, c.Reason)
			if len(c.Examples) > 0 {
				fmt.Fprintf(&b, " (e.g. %s)", strings.Join(c.Examples, "; "))
			}
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "\nnot carried over (%d):\n", len(a.Skipped))
	if len(a.Skipped) == 0 {
		b.WriteString("  nothing\n")
	}
	for _, s := range a.Skipped {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	for _, s := range a.Notes {
		fmt.Fprintf(&b, "  note: %s\n", s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// existing answers whether the target engine holds an object.
type existing struct {
	prov map[wfp.ProviderKey]bool
	sub  map[wfp.SublayerKey]uint16
	co   map[wfp.CalloutKey]bool
}

func newExisting(e wfp.Engine) existing {
	x := existing{prov: map[wfp.ProviderKey]bool{}, sub: map[wfp.SublayerKey]uint16{}, co: map[wfp.CalloutKey]bool{}}
	if e == nil {
		for _, p := range layers.Providers() {
			x.prov[p.Key] = true
		}
		for _, s := range layers.Sublayers() {
			x.sub[s.Key] = s.Weight
		}
		return x
	}
	if ps, err := e.Providers(); err == nil {
		for _, p := range ps {
			x.prov[p.Key] = true
		}
	}
	if ss, err := e.Sublayers(); err == nil {
		for _, s := range ss {
			x.sub[s.Key] = s.Weight
		}
	}
	if cs, err := e.Callouts(); err == nil {
		for _, c := range cs {
			x.co[c.Key] = true
		}
	}
	return x
}

type changes struct {
	order []string
	m     map[string]*Change
}

func (c *changes) add(reason, example string) {
	if c.m == nil {
		c.m = map[string]*Change{}
	}
	ch := c.m[reason]
	if ch == nil {
		ch = &Change{Reason: reason}
		c.m[reason] = ch
		c.order = append(c.order, reason)
	}
	ch.N++
	if example != "" && len(ch.Examples) < 3 {
		ch.Examples = append(ch.Examples, example)
	}
}

func (c *changes) list() []Change {
	out := make([]Change, 0, len(c.order))
	for _, r := range c.order {
		out = append(out, *c.m[r])
	}
	return out
}

// Document converts the dump into a policy document and its account. Objects
// the target engine (opts.Existing, else the catalogue's built-ins) already holds
// are not added again. Names are the display names, made unique deterministically
// (a filter's repeated name gets " [filterId]", other objects " [KEY]"), and every
// key is written, so the document gives the dump's keys.
func (d *Dump) Document(opts ImportOptions) (*Document, *Account) {
	ex := newExisting(opts.Existing)
	doc := &Document{Version: 1, File: d.File}
	a := &Account{File: d.File, Format: d.Format, DumpProviders: len(d.Providers), DumpSublayers: len(d.Sublayers),
		DumpCallouts: len(d.Callouts) + countKind(d.Skipped, "callout "), DumpFilters: len(d.Filters) + countKind(d.Skipped, "filter ")}
	a.Skipped = append(a.Skipped, d.Skipped...)
	a.Notes = append(a.Notes, d.Notes...)
	var ch changes

	// Names: display names, unique per kind.
	provName := map[wfp.ProviderKey]string{}
	subName := map[wfp.SublayerKey]string{}
	coName := map[wfp.CalloutKey]string{}
	coLayer := map[wfp.CalloutKey]wfp.LayerKey{}

	symbolNote := func(kind, sym string) {
		if sym != "" && !symbolKnown(kind, sym) {
			ch.add(fmt.Sprintf("%s key printed as a symbolic name the catalogue does not hold: key derived from the name (wfp.GUIDFromName(%q, name))", kind, kind), sym)
		}
	}
	// Providers.
	provDisplay := map[string]int{}
	for _, p := range d.Providers {
		provDisplay[p.DisplayData.Name]++
	}
	haveProv := map[wfp.ProviderKey]bool{}
	for _, p := range d.Providers {
		if ex.prov[p.Key] {
			a.Builtin = append(a.Builtin, "provider "+keyText(wfp.GUID(p.Key), p.Symbol))
			continue
		}
		if haveProv[p.Key] {
			a.Skipped = append(a.Skipped, Note{Line: p.Line, Object: "provider " + p.Key.String(), Reason: "duplicate provider key"})
			continue
		}
		haveProv[p.Key] = true
		symbolNote("provider", p.Symbol)
		name := uniqueName(p.DisplayData.Name, provDisplay, keyText(wfp.GUID(p.Key), p.Symbol))
		provName[p.Key] = name
		flags := p.Flags &^ wfp.ProviderFlagDisabled
		if p.Flags&wfp.ProviderFlagDisabled != 0 {
			ch.add("provider flag disabled left out (output only)", name)
		}
		doc.Providers = append(doc.Providers, Provider{Name: name, DisplayName: displayIfDiffers(name, p.DisplayData.Name),
			Key: p.Key.String(), Description: p.DisplayData.Description, ServiceName: p.ServiceName,
			Flags: flags.Names(), Data: hexData(p.Data)})
	}
	a.Providers = len(doc.Providers)
	// providerRef names a provider, adding a stand-in for one the dump references but
	// does not list.
	providerRef := func(k wfp.ProviderKey, by string) string {
		if k.IsZero() {
			return ""
		}
		if n, ok := provName[k]; ok {
			return n
		}
		if ex.prov[k] {
			if p, ok := layers.ProviderByKey(k); ok {
				return p.ShortName
			}
			return k.String()
		}
		name := referencedName(wfp.GUID(k))
		provName[k] = name
		doc.Providers = append(doc.Providers, Provider{Name: name, Key: k.String()})
		a.Providers++
		ch.add("provider referenced but not listed in the dump: added with its key as its name", by)
		return name
	}
	// Sublayers.
	subDisplay := map[string]int{}
	for _, s := range d.Sublayers {
		subDisplay[s.DisplayData.Name]++
	}
	for _, s := range d.Sublayers {
		if w, ok := ex.sub[s.Key]; ok {
			label := keyText(wfp.GUID(s.Key), s.Symbol)
			a.Builtin = append(a.Builtin, "sublayer "+label)
			if w != s.Weight {
				ch.add("built-in sublayer weight differs between the dump and the engine: the engine's weight is kept", fmt.Sprintf("%s dump 0x%04x, engine 0x%04x", label, s.Weight, w))
			}
			continue
		}
		if _, dup := subName[s.Key]; dup {
			a.Skipped = append(a.Skipped, Note{Line: s.Line, Object: "sublayer " + s.Key.String(), Reason: "duplicate sublayer key"})
			continue
		}
		symbolNote("sublayer", s.Symbol)
		name := uniqueName(s.DisplayData.Name, subDisplay, keyText(wfp.GUID(s.Key), s.Symbol))
		subName[s.Key] = name
		doc.Sublayers = append(doc.Sublayers, Sublayer{Name: name, DisplayName: displayIfDiffers(name, s.DisplayData.Name),
			Key: s.Key.String(), Description: s.DisplayData.Description, Provider: providerRef(s.Provider, "sublayer "+name),
			Weight: fmt.Sprintf("0x%04x", s.Weight), Flags: s.Flags.Names(), Data: hexData(s.Data)})
	}
	sublayerRef := func(k wfp.SublayerKey, by string) string {
		if k.IsZero() {
			return ""
		}
		if n, ok := subName[k]; ok {
			return n
		}
		if _, ok := ex.sub[k]; ok {
			if s, ok := layers.SublayerByKey(k); ok {
				return s.ShortName
			}
			return k.String()
		}
		name := referencedName(wfp.GUID(k))
		subName[k] = name
		doc.Sublayers = append(doc.Sublayers, Sublayer{Name: name, Key: k.String()})
		ch.add("sublayer referenced but not listed (netsh wfp show filters lists no sublayers): added with weight 0, its real weight is unknown", name)
		return name
	}
	// Callouts.
	coDisplay := map[string]int{}
	for _, c := range d.Callouts {
		coDisplay[c.DisplayData.Name]++
	}
	registered := map[wfp.CalloutKey]*DumpCallout{}
	for i := range d.Callouts {
		c := &d.Callouts[i]
		registered[c.Key] = c
		if ex.co[c.Key] {
			a.Builtin = append(a.Builtin, "callout "+keyText(wfp.GUID(c.Key), c.Symbol))
			coLayer[c.Key] = c.Layer
			continue
		}
		if _, dup := coName[c.Key]; dup {
			a.Skipped = append(a.Skipped, Note{Line: c.Line, Object: "callout " + c.Key.String(), Reason: "duplicate callout key"})
			continue
		}
		name := uniqueName(c.DisplayData.Name, coDisplay, keyText(wfp.GUID(c.Key), c.Symbol))
		coName[c.Key] = name
		coLayer[c.Key] = c.Layer
		for _, fl := range c.DroppedFlags {
			ch.add("callout flag "+fl+" left out (a driver registration flag; no wfp constant)", name)
		}
		if c.UnknownFlags != 0 {
			ch.add("callout flag bits without a name (printed in hex) left out", fmt.Sprintf("%s: %08x", name, c.UnknownFlags))
		}
		l, _ := layers.LayerByKey(c.Layer)
		doc.Callouts = append(doc.Callouts, Callout{Name: name, DisplayName: displayIfDiffers(name, c.DisplayData.Name),
			Key: c.Key.String(), Description: c.DisplayData.Description, Provider: providerRef(c.Provider, "callout "+name),
			Layer: l.ShortName, Flags: c.Flags.Names(), Data: hexData(c.Data)})
	}
	calloutRef := func(k wfp.CalloutKey, l *layers.Layer, by string) (string, bool) {
		if n, ok := coName[k]; ok {
			return n, coLayer[k] == l.Key
		}
		if ex.co[k] {
			if c, ok := layers.CalloutByKey(k); ok {
				return c.ShortName, true
			}
			return k.String(), true
		}
		name := referencedName(wfp.GUID(k))
		coName[k] = name
		coLayer[k] = l.Key
		doc.Callouts = append(doc.Callouts, Callout{Name: name, Key: k.String(), Layer: l.ShortName})
		ch.add("callout referenced but not listed (netsh wfp show filters lists no callouts): added at the filter's layer", name)
		return name, true
	}
	// Filters.
	fDisplay := map[string]int{}
	for _, f := range d.Filters {
		fDisplay[f.DisplayData.Name]++
	}
	seenF := map[wfp.FilterKey]bool{}
	usedNames := map[string]bool{}
	byLayer, byProv, bySub := map[string]int{}, map[string]int{}, map[string]int{}
	coUse := map[wfp.CalloutKey]int{}
	for _, f := range d.Filters {
		obj := fmt.Sprintf("filter %d %q", f.ID, f.DisplayData.Name)
		if seenF[f.Key] {
			a.Skipped = append(a.Skipped, Note{Line: f.Line, Object: obj, Reason: "duplicate filter key " + f.Key.String()})
			continue
		}
		l, _ := layers.LayerByKey(f.Layer)
		name := f.DisplayData.Name
		if strings.TrimSpace(name) == "" {
			name = f.Key.String()
		}
		if fDisplay[f.DisplayData.Name] > 1 || usedNames[name] {
			name = fmt.Sprintf("%s [%d]", name, f.ID)
		}
		for i := 2; usedNames[name]; i++ {
			name = fmt.Sprintf("%s [%d.%d]", f.DisplayData.Name, f.ID, i)
		}
		df := Filter{Name: name, DisplayName: displayIfDiffers(name, f.DisplayData.Name), Key: f.Key.String(),
			Description: f.DisplayData.Description, Layer: l.ShortName, Action: f.Action.Type.ShortName(),
			Weight: Weight{Kind: wfp.WeightExact, Value: fmt.Sprintf("0x%016x", f.EffectiveWeight)}}
		if f.Action.Type.IsCallout() {
			cn, ok := calloutRef(f.Action.Callout, l, name)
			if !ok {
				a.Skipped = append(a.Skipped, Note{Line: f.Line, Object: obj, Reason: fmt.Sprintf("callout %s applies at another layer than the filter's %s", cn, l.Name)})
				continue
			}
			df.Callout = cn
		}
		df.Sublayer = sublayerRef(f.Sublayer, name)
		df.Provider = providerRef(f.Provider, name)
		flags := f.Flags
		if flags&wfp.FilterFlagBoottime != 0 && flags&wfp.FilterFlagPersistent != 0 {
			flags &^= wfp.FilterFlagPersistent
			ch.add("filter flag persistent left out (boottime and persistent together cannot be added)", name)
		}
		if flags&wfp.FilterFlagPermitIfCalloutUnregistered != 0 && f.Action.Type != wfp.ActionCalloutTerminating && f.Action.Type != wfp.ActionCalloutUnknown {
			flags &^= wfp.FilterFlagPermitIfCalloutUnregistered
			ch.add("filter flag permit_if_callout_unregistered left out (not valid with this action)", name)
		}
		df.Flags = flags.Names()
		for _, fl := range f.DroppedFlags {
			switch fl {
			case "FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT":
			case "FWPM_FILTER_FLAG_DISABLED":
				ch.add("filter flag disabled left out (output only): the filter is enforced in the simulator", name)
			default:
				ch.add("filter flag "+fl+" left out (no wfp constant; it does not change arbitration)", "")
			}
		}
		if f.ProviderContextKey != "" {
			ch.add("provider context left out (wfpsim does not model provider contexts; they configure IPsec and callouts, not arbitration)", name)
		}
		if f.RawContext != 0 {
			df.RawContext = strconv.FormatUint(f.RawContext, 10)
		}
		bad := false
		for i, c := range f.Conditions {
			lc, _ := layers.ConditionByKey(c.Field)
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
			} else {
				a.Skipped = append(a.Skipped, Note{Line: f.Line, Object: obj, Reason: fmt.Sprintf("condition %d has no value", i)})
				bad = true
				break
			}
			df.Conditions = append(df.Conditions, dc)
		}
		if bad {
			continue
		}
		seenF[f.Key] = true
		usedNames[name] = true
		doc.Filters = append(doc.Filters, df)
		byLayer[l.Name]++
		byProv[orNone(df.Provider)]++
		bySub[orUniversal(df.Sublayer)]++
		if f.Action.Type.IsCallout() {
			coUse[f.Action.Callout]++
		}
	}
	lifetimes(doc, &ch)
	// Validate what the document says against the catalogue, as Apply will; filters
	// the simulator cannot take are listed, not silently lost.
	a.Skipped = append(a.Skipped, pruneInvalid(doc, d)...)
	a.Filters = len(doc.Filters)
	a.Sublayers = len(doc.Sublayers)
	a.Callouts = len(doc.Callouts)
	a.Providers = len(doc.Providers)
	// Recount after pruning.
	byLayer, byProv, bySub = map[string]int{}, map[string]int{}, map[string]int{}
	coUse = map[wfp.CalloutKey]int{}
	for _, df := range doc.Filters {
		l, _ := layers.LayerByName(df.Layer)
		byLayer[l.Name]++
		byProv[orNone(df.Provider)]++
		bySub[orUniversal(df.Sublayer)]++
	}
	keyOfCallout := map[string]wfp.CalloutKey{}
	for k, n := range coName {
		keyOfCallout[n] = k
	}
	for _, df := range doc.Filters {
		if df.Callout == "" {
			continue
		}
		k, ok := keyOfCallout[df.Callout]
		if !ok {
			if c, found := layers.CalloutByName(df.Callout); found {
				k = c.Key
			} else if g, err := wfp.ParseGUID(df.Callout); err == nil {
				k = wfp.CalloutKey(g)
			}
		}
		coUse[k]++
	}
	a.ByLayer, a.ByProvider, a.BySublayer = sortedCounts(byLayer), sortedCounts(byProv), sortedCounts(bySub)
	for k, n := range coUse {
		u := UnregisteredCallout{Key: k, Filters: n, Name: coName[k]}
		if u.Name == "" {
			u.Name = k.String()
		}
		if l, ok := layers.LayerByKey(coLayer[k]); ok {
			u.Layer = l.Name
		}
		where := "a driver's callout (not a catalogue built-in; its code is not in the dump)"
		if _, ok := layers.CalloutByKey(k); ok {
			where = "built-in (Windows)"
		}
		switch dc := registered[k]; {
		case dc == nil:
			where += ", not listed in the dump"
		case dc.Registered:
			where += ", registered on the machine"
		default:
			where += ", not registered on the machine either"
		}
		u.Driver = where
		a.Unregistered = append(a.Unregistered, u)
	}
	sort.Slice(a.Unregistered, func(i, j int) bool {
		if a.Unregistered[i].Filters != a.Unregistered[j].Filters {
			return a.Unregistered[i].Filters > a.Unregistered[j].Filters
		}
		return a.Unregistered[i].Name < a.Unregistered[j].Name
	})
	a.Changed = ch.list()
	return doc, a
}

func countKind(notes []Note, prefix string) int {
	n := 0
	for _, s := range notes {
		if strings.HasPrefix(s.Object, prefix) {
			n++
		}
	}
	return n
}

func orNone(s string) string {
	if s == "" {
		return "(no provider)"
	}
	return s
}

func orUniversal(s string) string {
	if s == "" {
		return "FWPM_SUBLAYER_UNIVERSAL"
	}
	return s
}

// keyText is the symbolic name netsh printed, else the GUID.
func keyText(g wfp.GUID, symbol string) string {
	if symbol != "" {
		return symbol
	}
	if s, ok := layers.KeyName(g); ok {
		return s
	}
	return g.String()
}

// uniqueName returns a display name, or the display name with " [label]" when
// several objects of the kind share it (or it is empty).
func uniqueName(display string, counts map[string]int, label string) string {
	if strings.TrimSpace(display) == "" {
		return label
	}
	if counts[display] > 1 {
		return display + " [" + label + "]"
	}
	return display
}

// pruneInvalid resolves the document and removes the filters it cannot take
// (a condition the catalogue does not allow at the layer, ...), returning them
// with the reason.
func pruneInvalid(doc *Document, d *Dump) []Note {
	_, err := doc.Objects()
	var list ErrorList
	if err == nil || !errors.As(err, &list) {
		return nil
	}
	lines := map[string]int{}
	for _, f := range d.Filters {
		lines[f.Key.String()] = f.Line
	}
	bad := map[int][]string{}
	var other []Note
	for _, e := range list {
		var i int
		if _, err := fmt.Sscanf(e.Path, "filters[%d]", &i); err == nil {
			bad[i] = append(bad[i], strings.TrimPrefix(e.Path, fmt.Sprintf("filters[%d].", i))+": "+e.Msg)
			continue
		}
		other = append(other, Note{Path: e.Path, Reason: e.Msg})
	}
	var out []Note
	kept := doc.Filters[:0]
	for i, f := range doc.Filters {
		if msgs, ok := bad[i]; ok {
			out = append(out, Note{Line: lines[f.Key], Object: fmt.Sprintf("filter %q", f.Name),
				Reason: "the simulator rejects it: " + strings.Join(msgs, "; ")})
			continue
		}
		kept = append(kept, f)
	}
	doc.Filters = kept
	return append(out, other...)
}

// lifetimes makes the providers, sublayers and callouts that persistent or
// boot-time filters reference persistent, as rule E4 requires (a dump lists
// them without the flag when Windows created them).
func lifetimes(doc *Document, ch *changes) {
	persistent := func(flags []string) bool {
		for _, f := range flags {
			if f == "persistent" || f == "boottime" {
				return true
			}
		}
		return false
	}
	prov, sub, co := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, f := range doc.Filters {
		if persistent(f.Flags) {
			prov[f.Provider], sub[f.Sublayer], co[f.Callout] = true, true, true
		}
	}
	mark := func(name string, flags *[]string, kind string) {
		for _, f := range *flags {
			if f == "persistent" {
				return
			}
		}
		*flags = append(*flags, "persistent")
		ch.add(kind+" made persistent: persistent or boot-time filters use it (rule E4)", name)
	}
	for i := range doc.Sublayers {
		s := &doc.Sublayers[i]
		if sub[s.Name] {
			mark(s.Name, &s.Flags, "sublayer")
		}
		if persistent(s.Flags) {
			prov[s.Provider] = true
		}
	}
	for i := range doc.Callouts {
		c := &doc.Callouts[i]
		if co[c.Name] {
			mark(c.Name, &c.Flags, "callout")
		}
		if persistent(c.Flags) {
			prov[c.Provider] = true
		}
	}
	for i := range doc.Providers {
		if p := &doc.Providers[i]; prov[p.Name] {
			mark(p.Name, &p.Flags, "provider")
		}
	}
}

// referencedName names an object a dump refers to but does not list: its well-known
// name when the catalogue has one, else its key.
func referencedName(g wfp.GUID) string {
	if s, ok := layers.KeyName(g); ok {
		return s
	}
	return g.String()
}
