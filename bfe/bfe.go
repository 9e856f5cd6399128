// Package bfe is the real-Windows backend: a Session is one session with the Base
// Filtering Engine through fwpuclnt.dll (FwpmEngineOpen0 and the Fwpm*Add0, Delete*,
// Get* and Enum* families) and implements wfp.Engine, so a policy that was dry-run on
// the simulator (package engine) can be applied to Windows unchanged.
//
// The exported API is the same on every operating system. Off 64-bit Windows (amd64,
// arm64) every call returns an error wrapping wfp.ErrNotSupported; on Windows the calls need
// administrator rights (the BFE answers ERROR_ACCESS_DENIED otherwise).
//
// Whether the session is dynamic is the caller's choice (wfp.SessionOptions.Dynamic):
// the objects a dynamic session adds are deleted when it closes, or when the process
// dies. The wfpsim CLI opens dynamic sessions unless told otherwise; library callers
// that want their filters to outlive the process must ask for a non-dynamic session.
//
// Errors carry the FWP_E_* code the BFE returned as the package wfp sentinel, so
// errors.Is(err, wfp.ErrFilterNotFound) works as it does against the simulator.
package bfe
