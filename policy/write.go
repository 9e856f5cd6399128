package policy

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wfpsim/wfpsim/wfp"
)

// WriteYAML writes the document as YAML, deterministically: keys in schema order,
// conditions and flags in flow style.
func (d *Document) WriteYAML(w io.Writer) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(d.node()); err != nil {
		return err
	}
	return enc.Close()
}

// WriteJSON writes the document as JSON with two-space indentation, keys in schema
// order; conditions stay on one line each.
func (d *Document) WriteJSON(w io.Writer) error {
	var b bytes.Buffer
	writeJSONNode(&b, d.node(), 0)
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

var intRE = regexp.MustCompile(`^(0|[1-9][0-9]*|0x[0-9a-fA-F]+)$`)

func scalar(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if intRE.MatchString(s) {
		if _, err := strconv.ParseUint(s, 0, 64); err == nil {
			n.Tag = "!!int"
		}
	}
	return n
}

type mapNode struct{ n *yaml.Node }

func newMap() mapNode { return mapNode{&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}} }

func (m mapNode) add(k string, v *yaml.Node) {
	m.n.Content = append(m.n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v)
}

func (m mapNode) str(k, v string) {
	if v != "" {
		m.add(k, scalar(v))
	}
}

// text adds a value that is always a string, even when it looks like a number.
func (m mapNode) text(k, v string) {
	if v != "" {
		m.add(k, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v})
	}
}

// identity writes what every object starts with: name, display name, key and
// description, in that order.
func (m mapNode) identity(name, displayName, key, description string) {
	m.text("name", name)
	m.text("display_name", displayName)
	m.str("key", key)
	m.text("description", description)
}

func (m mapNode) list(k string, vs []string) {
	if len(vs) == 0 {
		return
	}
	s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, v := range vs {
		s.Content = append(s.Content, scalar(v))
	}
	m.add(k, s)
}

func seq() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"} }

func (d *Document) node() *yaml.Node {
	root := newMap()
	v := d.Version
	if v == 0 {
		v = 1
	}
	root.add("version", scalar(strconv.Itoa(v)))
	if len(d.Drives) > 0 {
		dm := newMap()
		keys := make([]string, 0, len(d.Drives))
		for k := range d.Drives {
			keys = append(keys, k)
		}
		sortStrings(keys)
		for _, k := range keys {
			dm.add(k, scalar(d.Drives[k]))
		}
		root.add("drives", dm.n)
	}
	if len(d.Providers) > 0 {
		s := seq()
		for _, p := range d.Providers {
			m := newMap()
			m.identity(p.Name, p.DisplayName, p.Key, p.Description)
			m.text("service_name", p.ServiceName)
			m.list("flags", p.Flags)
			m.text("data", p.Data)
			s.Content = append(s.Content, m.n)
		}
		root.add("providers", s)
	}
	if len(d.Sublayers) > 0 {
		s := seq()
		for _, x := range d.Sublayers {
			m := newMap()
			m.identity(x.Name, x.DisplayName, x.Key, x.Description)
			m.str("provider", x.Provider)
			m.str("weight", x.Weight)
			m.list("flags", x.Flags)
			m.text("data", x.Data)
			s.Content = append(s.Content, m.n)
		}
		root.add("sublayers", s)
	}
	if len(d.Callouts) > 0 {
		s := seq()
		for _, x := range d.Callouts {
			m := newMap()
			m.identity(x.Name, x.DisplayName, x.Key, x.Description)
			m.str("provider", x.Provider)
			m.str("layer", x.Layer)
			m.list("flags", x.Flags)
			m.text("data", x.Data)
			s.Content = append(s.Content, m.n)
		}
		root.add("callouts", s)
	}
	if len(d.Filters) > 0 {
		s := seq()
		for _, f := range d.Filters {
			m := newMap()
			m.identity(f.Name, f.DisplayName, f.Key, f.Description)
			m.str("layer", f.Layer)
			m.str("sublayer", f.Sublayer)
			m.str("provider", f.Provider)
			switch f.Weight.Kind {
			case wfp.WeightRange:
				m.str("weight", f.Weight.Value)
			case wfp.WeightExact:
				wm := newMap()
				wm.n.Style = yaml.FlowStyle
				wm.add("exact", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.Weight.Value})
				m.add("weight", wm.n)
			}
			m.str("action", f.Action)
			m.str("callout", f.Callout)
			m.list("flags", f.Flags)
			m.str("provider_context", f.ProviderContext)
			m.str("raw_context", f.RawContext)
			if len(f.Conditions) > 0 {
				cs := seq()
				for _, c := range f.Conditions {
					cm := newMap()
					cm.n.Style = yaml.FlowStyle
					cm.str("field", c.Field)
					cm.str("match", c.Match)
					if c.IsRange() {
						rm := newMap()
						rm.n.Style = yaml.FlowStyle
						rm.add("low", scalar(c.Low))
						rm.add("high", scalar(c.High))
						cm.add("value", rm.n)
					} else {
						cm.add("value", scalar(c.Value))
					}
					cs.Content = append(cs.Content, cm.n)
				}
				m.add("conditions", cs)
			}
			s.Content = append(s.Content, m.n)
		}
		root.add("filters", s)
	}
	return root.n
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// writeJSONNode writes a node tree built by node() as JSON.
func writeJSONNode(b *bytes.Buffer, n *yaml.Node, depth int) {
	flow := n.Style&yaml.FlowStyle != 0
	nl := func(d int) {
		if flow {
			b.WriteByte(' ')
			return
		}
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("  ", d))
	}
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			if !flow || i > 0 {
				nl(depth + 1)
			}
			b.WriteString(jsonString(n.Content[i].Value))
			b.WriteString(": ")
			writeJSONNode(b, n.Content[i+1], depth+1)
		}
		if !flow {
			nl(depth)
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if !flow || i > 0 {
				nl(depth + 1)
			}
			writeJSONNode(b, c, depth+1)
		}
		if !flow && len(n.Content) > 0 {
			nl(depth)
		}
		b.WriteByte(']')
	default:
		if n.Tag == "!!int" {
			if u, err := strconv.ParseUint(n.Value, 0, 64); err == nil {
				b.WriteString(strconv.FormatUint(u, 10))
				return
			}
		}
		b.WriteString(jsonString(n.Value))
	}
}
