package policy

import (
	"errors"
	"fmt"
	"github.com/wfpsim/wfpsim/layers"
	"strings"

	"github.com/wfpsim/wfpsim/wfp"
)

// Error is one problem in a policy document: where it is (file, line and column,
// 1-based, and the path of the node, "filters[3].conditions[1].value"), what is
// wrong, and the WFP error the real Base Filtering Engine would return for it.
//
//	policy.yaml:12:17: filters[3].conditions[1].value: "http" is not a valid FWP_UINT16 value: want an unsigned 16-bit integer (FWP_E_TYPE_MISMATCH)
//
// errors.Is(err, wfp.ErrTypeMismatch) works through Unwrap.
type Error struct {
	File         string
	Line, Column int    // 0 when unknown
	Path         string // "" for the whole document
	Msg          string // what is wrong and what to do, lower-case
	Err          error  // the *wfp.Error (or the engine's error for Apply); may be nil
}

func (e *Error) Error() string {
	var b strings.Builder
	file := e.File
	if file == "" {
		file = "<policy>"
	}
	b.WriteString(file)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	msg := e.Msg
	var we *wfp.Error
	switch {
	case msg == "" && e.Err != nil:
		msg = e.Err.Error()
	case e.Err != nil && errors.As(e.Err, &we):
		msg += " (" + we.Name + ")"
	case e.Err != nil:
		msg += ": " + e.Err.Error()
	}
	b.WriteString(msg)
	return b.String()
}

// Unwrap returns the WFP error.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every error found in a document, in document order. Parse, Objects
// and Check report all of them, not only the first.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "policy: no errors"
	case 1:
		return l[0].Error()
	}
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap gives errors.Is and errors.As every error of the list.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// err returns the list as an error, nil when empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// wfpMessage turns an error from package wfp into a policy message and its code:
// the "wfp: " prefix and the trailing ": wfp: FWP_E_..." are removed.
func wfpMessage(err error) (string, error) {
	var we *wfp.Error
	if !errors.As(err, &we) {
		return strings.TrimPrefix(err.Error(), "wfp: "), err
	}
	msg := err.Error()
	msg = strings.TrimSuffix(msg, ": "+we.Error())
	if msg == we.Error() {
		msg = we.Name
	}
	return strings.TrimPrefix(msg, "wfp: "), we
}

// suggestion formats " (did you mean X?)" or "".
func suggestion(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" (did you mean %s?)", names[0])
	}
	return fmt.Sprintf(" (did you mean %s or %s?)", strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

// closest returns up to three of names nearest to s (layers.Closest).
func closest(s string, names []string) []string { return layers.Closest(s, names) }
