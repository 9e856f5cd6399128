package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/wfpsim/wfpsim/wfp"
)

// jsonNode reads JSON with encoding/json into the same node tree yaml.v3 builds,
// with the line and column of every value. It is the fallback for JSON that
// yaml.v3 does not read.
func jsonNode(filename string, data []byte) (*yaml.Node, *Error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := &jsonParser{data: data, dec: dec}
	n, err := p.value(0)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = fmt.Errorf("unexpected data after the top-level value")
		}
	}
	if err != nil {
		off := int(dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = int(se.Offset)
		}
		line, col := lineCol(data, off)
		return nil, &Error{File: filename, Line: line, Column: col, Msg: "syntax error: " + err.Error(), Err: wfp.ErrInvalidParameter}
	}
	return n, nil
}

type jsonParser struct {
	data []byte
	dec  *json.Decoder
}

// start returns the position of the next token.
func (p *jsonParser) start() (int, int) {
	off := int(p.dec.InputOffset())
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return lineCol(p.data, off)
}

func (p *jsonParser) value(depth int) (*yaml.Node, error) {
	if depth > 1000 {
		return nil, fmt.Errorf("nesting too deep")
	}
	line, col := p.start()
	tok, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("unexpected end of input")
		}
		return nil, err
	}
	n := &yaml.Node{Line: line, Column: col}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
			for p.dec.More() {
				kl, kc := p.start()
				kt, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				ks, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key must be a string")
				}
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ks, Line: kl, Column: kc}, v)
			}
		case '[':
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			for p.dec.More() {
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
		default:
			return nil, fmt.Errorf("unexpected %q", rune(t))
		}
		if _, err := p.dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!str", t
	case json.Number:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!int", t.String()
		if bytes.ContainsAny([]byte(t), ".eE") {
			n.Tag = "!!float"
		}
	case bool:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", fmt.Sprint(t)
	case nil:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
	}
	return n, nil
}

// lineCol converts a byte offset to a 1-based line and column (columns count
// bytes, as yaml.v3's do for ASCII).
func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}
