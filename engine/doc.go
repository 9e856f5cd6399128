// Package engine is the simulated Windows filter engine: the Base Filtering Engine's
// object store, sessions and transactions (the management API, wfp.Engine), and the
// kernel filter engine that classifies incoming values at a layer and arbitrates
// between sublayers and filters exactly as the rule book (SEMANTICS.md, sections A, B
// and E) describes, with a trace that explains every decision.
//
//	e := engine.New(engine.Options{})
//	s := e.Open(wfp.SessionOptions{Dynamic: true})
//	s.AddFilter(wfp.Filter{...})
//	var d engine.Decision
//	e.Classify(&engine.Request{Layer: layers.ALEAuthConnectV4, Values: v}, &d, nil)
//
// Classification reads an immutable snapshot published at each commit and takes no
// lock; writers serialise on the transaction lock, as sessions do in the BFE.
//
// References:
//   - Filter arbitration: https://learn.microsoft.com/en-us/windows/win32/fwp/filter-arbitration
//   - Filter weight assignment: https://learn.microsoft.com/en-us/windows/win32/fwp/filter-weight-assignment
//   - Object management: https://learn.microsoft.com/en-us/windows/win32/fwp/object-management
package engine
