// Package wfp is the vocabulary of the Windows Filtering Platform management API as
// Go values: what fwpmtypes.h, fwptypes.h and fwpmu.h declare, with the Windows
// numbers, and nothing that needs Windows.
//
//	WFP (C)                          package wfp
//	GUID                             GUID, and the key types LayerKey, SublayerKey,
//	                                 FilterKey, CalloutKey, ProviderKey, FieldKey
//	FWP_DATA_TYPE, FWP_VALUE0        DataType; Value, one Go type per data type
//	FWP_MATCH_TYPE                   MatchType
//	FWP_ACTION_TYPE, FWPM_ACTION0    ActionType, Action
//	FWPM_FILTER0.weight              Weight (automatic, range 0..15, exact)
//	FWPM_FILTER0, _CONDITION0        Filter, Condition
//	FWPM_SUBLAYER0, FWPM_PROVIDER0   Sublayer, Provider
//	FWPM_CALLOUT0                    Callout (the management object only)
//	FWPM_NET_EVENT*                  NetEvent
//	FWP_E_* HRESULTs                 *Error values: ErrFilterNotFound, ...
//	FwpmEngineOpen0 and Fwpm*        the Engine interface
//
// The simulator (package engine) and the real-Windows backend (package bfe) both
// implement Engine. The catalogue of layers, fields and conditions is package layers.
//
// References:
//   - Data types: https://learn.microsoft.com/en-us/windows/win32/api/fwptypes/
//   - Management types: https://learn.microsoft.com/en-us/windows/win32/api/fwpmtypes/
//   - Error codes: https://learn.microsoft.com/en-us/windows/win32/fwp/wfp-error-codes
//   - Filter arbitration: https://learn.microsoft.com/en-us/windows/win32/fwp/filter-arbitration
package wfp
