// Package conformance holds scenarios that pin the simulator's verdicts to the
// rule book (../../shared/reference/SEMANTICS.md, rules A*, B*, C*, E*) and, on
// Windows, compare them with the real Base Filtering Engine.
//
// Each scenario (testdata/*.txtar) is a policy document confined to loopback
// (127.0.0.1, ::1) and the test ports 47000-47999, and a list of probes: a TCP
// connection or a UDP exchange from the loopback address to a listener the test
// starts, with the expected verdict, the layer that decided and the deciding filter
// of every sublayer that decided (the terminatingFiltersInfo of a Windows net event).
//
// On every OS, go test ./conformance runs each probe through the simulator
// (engine.Stack, the loopback path of rule C17) and fails on any difference from the
// expectation. On Windows, with WFPSIM_BFE=1 in an administrator shell, the same
// policy is applied to the real BFE in a dynamic session, the same connections are
// made for real, and the outcome and the deciding filters (from the net events) are
// compared with the simulator's.
package conformance
