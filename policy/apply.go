package policy

import (
	"errors"
	"fmt"

	"github.com/wfpsim/wfpsim/wfp"
)

// Applied is what Apply added, so callers can map runtime ids back to names.
type Applied struct {
	Names *Names
	// FilterIDs and CalloutIDs are the runtime ids the engine assigned, by document name.
	FilterIDs  map[string]wfp.FilterID
	CalloutIDs map[string]wfp.CalloutID
	// FilterNames is the reverse of FilterIDs.
	FilterNames map[wfp.FilterID]string
}

// Apply resolves a document and adds its objects to an engine in one transaction.
// See ApplyObjects.
func Apply(e wfp.Engine, doc *Document) (*Applied, error) {
	objs, err := doc.Objects()
	if err != nil {
		return nil, err
	}
	return ApplyObjects(e, objs)
}

// ApplyObjects adds resolved objects to an engine in ONE read/write transaction:
// providers, sublayers, callouts, then filters, each in document order, then
// commit. If any call fails the transaction is aborted, so nothing is half-applied,
// and the error (an *Error) names the document position of the object that failed
// and wraps the engine's wfp error.
func ApplyObjects(e wfp.Engine, objs *Objects) (*Applied, error) {
	if err := e.BeginTransaction(false); err != nil {
		return nil, &Error{File: objs.file, Msg: "cannot begin a transaction", Err: err}
	}
	out := &Applied{
		Names:       objs.Names,
		FilterIDs:   map[string]wfp.FilterID{},
		CalloutIDs:  map[string]wfp.CalloutID{},
		FilterNames: map[wfp.FilterID]string{},
	}
	fail := func(at []origin, i int, kind, name string, err error) (*Applied, error) {
		pe := &Error{File: objs.file, Msg: fmt.Sprintf("the engine rejected %s %q", kind, name), Err: err}
		if i < len(at) {
			pe.Line, pe.Column, pe.Path = at[i].pos.Line, at[i].pos.Column, at[i].path
		}
		var we *wfp.Error
		if errors.As(err, &we) {
			msg, _ := wfpMessage(err)
			if msg != we.Name {
				pe.Msg += ": " + msg
			}
		}
		if aerr := e.AbortTransaction(); aerr != nil {
			return nil, errors.Join(pe, fmt.Errorf("policy: aborting the transaction: %w", aerr))
		}
		return nil, pe
	}
	for i, p := range objs.Providers {
		if err := e.AddProvider(p); err != nil {
			return fail(objs.providerAt, i, "provider", objs.Names.Provider(p.Key), err)
		}
	}
	for i, s := range objs.Sublayers {
		if err := e.AddSublayer(s); err != nil {
			return fail(objs.sublayerAt, i, "sublayer", objs.Names.Sublayer(s.Key), err)
		}
	}
	for i, c := range objs.Callouts {
		id, err := e.AddCallout(c)
		if err != nil {
			return fail(objs.calloutAt, i, "callout", objs.Names.Callout(c.Key), err)
		}
		out.CalloutIDs[objs.Names.Callout(c.Key)] = id
	}
	for i, f := range objs.Filters {
		f.Conditions = append([]wfp.Condition(nil), f.Conditions...)
		id, err := e.AddFilter(f)
		name := objs.Names.Filter(f.Key)
		if err != nil {
			return fail(objs.filterAt, i, "filter", name, err)
		}
		out.FilterIDs[name] = id
		out.FilterNames[id] = name
	}
	if err := e.CommitTransaction(); err != nil {
		_ = e.AbortTransaction()
		return nil, &Error{File: objs.file, Msg: "cannot commit the transaction", Err: err}
	}
	return out, nil
}
