// Package layers is the catalogue of the Windows Filtering Platform's built-in
// objects, generated from the committed fact tables in layers/facts (copied from the
// project's reference fact base): every FWPM filtering layer, its run-time (FWPS)
// identifier and ordered incoming-value fields, every filtering condition with the
// data types and match types it accepts, which conditions are valid at which layer,
// and the built-in sublayers, providers, callouts, provider contexts and keying
// modules, plus named FWP/FWPM/FWPS constants.
//
// How the pieces map to WFP:
//
//   - A [Layer] is a point in the TCP/IP stack where the filter engine classifies
//     (FWPM_LAYER_* GUIDs, "Management Filtering Layer Identifiers"; its run-time
//     FWPS_LAYER_* number is "Run-time Filtering Layer Identifiers"). Discard layers
//     see what the stack or a filter dropped at their twin ([Layer.Twin]).
//   - A [Field] is one slot of the layer's incoming values (FWPS_FIELD_*), the
//     values a filter's conditions are compared against; its [Field.Type] is the
//     FWP_DATA_TYPE of that incoming value.
//   - A [Condition] is an FWPM_CONDITION_* field key a filter condition may name,
//     with the condition value types and match types it accepts (rules B4, B5).
//   - A [Sublayer] groups filters inside a layer for arbitration; [Provider],
//     [Callout], [ProviderContext] and [KeyingModule] are other built-in objects.
//
// Facts the sources do not establish are carried as unknown (IDKnown, KeyKnown,
// TypeKnown, WeightKnown false), never invented.
//
// Names translate the C names mechanically: FWPM_LAYER_ALE_AUTH_CONNECT_V4 is
// [ALEAuthConnectV4], FWPM_CONDITION_IP_REMOTE_PORT is [ConditionIPRemotePort],
// FWPM_SUBLAYER_UNIVERSAL is [SublayerUniversal]. String methods return the C name.
//
// Microsoft Learn:
//   - https://learn.microsoft.com/en-us/windows/win32/fwp/management-filtering-layer-identifiers-
//   - https://learn.microsoft.com/en-us/windows-hardware/drivers/network/run-time-filtering-layer-identifiers
//   - https://learn.microsoft.com/en-us/windows-hardware/drivers/network/data-field-identifiers
//   - https://learn.microsoft.com/en-us/windows/win32/fwp/filtering-condition-identifiers-
//   - https://learn.microsoft.com/en-us/windows/win32/fwp/filtering-conditions-available-at-each-filtering-layer
//   - https://learn.microsoft.com/en-us/windows/win32/fwp/management-filtering-sublayer-identifiers
//   - https://learn.microsoft.com/en-us/windows/win32/fwp/built-in-callout-identifiers
//   - https://learn.microsoft.com/en-us/windows/win32/api/fwptypes/ne-fwptypes-fwp_match_type
//
// The data lives in zz_catalog_generated.go, written by internal/cmd/gencatalog;
// run go generate after changing layers/facts.
package layers

//go:generate go run ../internal/cmd/gencatalog
