package wfp

// errorTable holds every FWP_E_* code of the management API with Microsoft's text.
// It is written by hand from layers/facts/constants.tsv; TestErrorTableMatchesFacts
// checks the two agree.
var errorTable = []*Error{
	ErrCalloutNotFound,
	ErrConditionNotFound,
	ErrFilterNotFound,
	ErrLayerNotFound,
	ErrProviderNotFound,
	ErrProviderContextNotFound,
	ErrSublayerNotFound,
	ErrNotFound,
	ErrAlreadyExists,
	ErrInUse,
	ErrDynamicSessionInProgress,
	ErrWrongSession,
	ErrNoTxnInProgress,
	ErrTxnInProgress,
	ErrTxnAborted,
	ErrSessionAborted,
	ErrIncompatibleTxn,
	ErrTimeout,
	ErrNetEventsDisabled,
	ErrIncompatibleLayer,
	ErrKmClientsOnly,
	ErrLifetimeMismatch,
	ErrBuiltinObject,
	ErrTooManyCallouts,
	ErrNotificationDropped,
	ErrTrafficMismatch,
	ErrIncompatibleSaState,
	ErrNullPointer,
	ErrInvalidEnumerator,
	ErrInvalidFlags,
	ErrInvalidNetMask,
	ErrInvalidRange,
	ErrInvalidInterval,
	ErrZeroLengthArray,
	ErrNullDisplayName,
	ErrInvalidActionType,
	ErrInvalidWeight,
	ErrMatchTypeMismatch,
	ErrTypeMismatch,
	ErrOutOfBounds,
	ErrReserved,
	ErrDuplicateCondition,
	ErrDuplicateKeymod,
	ErrActionIncompatibleWithLayer,
	ErrActionIncompatibleWithSublayer,
	ErrContextIncompatibleWithLayer,
	ErrContextIncompatibleWithCallout,
	ErrIncompatibleAuthMethod,
	ErrIncompatibleDhGroup,
	ErrEmNotSupported,
	ErrNeverMatch,
	ErrProviderContextMismatch,
	ErrInvalidParameter,
	ErrTooManySublayers,
	ErrCalloutNotificationFailed,
	ErrInvalidAuthTransform,
	ErrInvalidCipherTransform,
}

// The FWP_E_* errors, one value per code. Compare with errors.Is.
var (
	ErrCalloutNotFound                = &Error{Code: 0x80320001, Name: "FWP_E_CALLOUT_NOT_FOUND", Text: "The callout does not exist."}
	ErrConditionNotFound              = &Error{Code: 0x80320002, Name: "FWP_E_CONDITION_NOT_FOUND", Text: "The filter condition does not exist."}
	ErrFilterNotFound                 = &Error{Code: 0x80320003, Name: "FWP_E_FILTER_NOT_FOUND", Text: "The filter does not exist."}
	ErrLayerNotFound                  = &Error{Code: 0x80320004, Name: "FWP_E_LAYER_NOT_FOUND", Text: "The layer does not exist."}
	ErrProviderNotFound               = &Error{Code: 0x80320005, Name: "FWP_E_PROVIDER_NOT_FOUND", Text: "The provider does not exist."}
	ErrProviderContextNotFound        = &Error{Code: 0x80320006, Name: "FWP_E_PROVIDER_CONTEXT_NOT_FOUND", Text: "The provider context does not exist."}
	ErrSublayerNotFound               = &Error{Code: 0x80320007, Name: "FWP_E_SUBLAYER_NOT_FOUND", Text: "The sub-layer does not exist."}
	ErrNotFound                       = &Error{Code: 0x80320008, Name: "FWP_E_NOT_FOUND", Text: "The object does not exist."}
	ErrAlreadyExists                  = &Error{Code: 0x80320009, Name: "FWP_E_ALREADY_EXISTS", Text: "An object with that GUID or LUID already exists."}
	ErrInUse                          = &Error{Code: 0x8032000A, Name: "FWP_E_IN_USE", Text: "The object is referenced by other objects, so it cannot be deleted."}
	ErrDynamicSessionInProgress       = &Error{Code: 0x8032000B, Name: "FWP_E_DYNAMIC_SESSION_IN_PROGRESS", Text: "The call is not allowed from within a dynamic session."}
	ErrWrongSession                   = &Error{Code: 0x8032000C, Name: "FWP_E_WRONG_SESSION", Text: "The call was made from the wrong session, so it cannot be completed."}
	ErrNoTxnInProgress                = &Error{Code: 0x8032000D, Name: "FWP_E_NO_TXN_IN_PROGRESS", Text: "The call must be made from within an explicit transaction."}
	ErrTxnInProgress                  = &Error{Code: 0x8032000E, Name: "FWP_E_TXN_IN_PROGRESS", Text: "The call is not allowed from within an explicit transaction."}
	ErrTxnAborted                     = &Error{Code: 0x8032000F, Name: "FWP_E_TXN_ABORTED", Text: "The explicit transaction has been forcibly canceled."}
	ErrSessionAborted                 = &Error{Code: 0x80320010, Name: "FWP_E_SESSION_ABORTED", Text: "The session has been canceled."}
	ErrIncompatibleTxn                = &Error{Code: 0x80320011, Name: "FWP_E_INCOMPATIBLE_TXN", Text: "The call is not allowed from within a read-only transaction."}
	ErrTimeout                        = &Error{Code: 0x80320012, Name: "FWP_E_TIMEOUT", Text: "The call timed out while waiting to acquire the transaction lock."}
	ErrNetEventsDisabled              = &Error{Code: 0x80320013, Name: "FWP_E_NET_EVENTS_DISABLED", Text: "The collection of network diagnostic events is disabled."}
	ErrIncompatibleLayer              = &Error{Code: 0x80320014, Name: "FWP_E_INCOMPATIBLE_LAYER", Text: "The operation is not supported by the specified layer."}
	ErrKmClientsOnly                  = &Error{Code: 0x80320015, Name: "FWP_E_KM_CLIENTS_ONLY", Text: "The call is allowed for kernel-mode callers only."}
	ErrLifetimeMismatch               = &Error{Code: 0x80320016, Name: "FWP_E_LIFETIME_MISMATCH", Text: "The call tried to associate two objects with incompatible lifetimes."}
	ErrBuiltinObject                  = &Error{Code: 0x80320017, Name: "FWP_E_BUILTIN_OBJECT", Text: "The object is built-in, so it cannot be deleted."}
	ErrTooManyCallouts                = &Error{Code: 0x80320018, Name: "FWP_E_TOO_MANY_CALLOUTS", Text: "The maximum number of callouts has been reached."}
	ErrNotificationDropped            = &Error{Code: 0x80320019, Name: "FWP_E_NOTIFICATION_DROPPED", Text: "A notification could not be delivered because a message queue is at its maximum capacity."}
	ErrTrafficMismatch                = &Error{Code: 0x8032001A, Name: "FWP_E_TRAFFIC_MISMATCH", Text: "The network traffic parameters do not match those for the security association context."}
	ErrIncompatibleSaState            = &Error{Code: 0x8032001B, Name: "FWP_E_INCOMPATIBLE_SA_STATE", Text: "The call is not allowed for the current security association (SA) state."}
	ErrNullPointer                    = &Error{Code: 0x8032001C, Name: "FWP_E_NULL_POINTER", Text: "A required pointer is null."}
	ErrInvalidEnumerator              = &Error{Code: 0x8032001D, Name: "FWP_E_INVALID_ENUMERATOR", Text: "An enumerator value in a structure is out of range."}
	ErrInvalidFlags                   = &Error{Code: 0x8032001E, Name: "FWP_E_INVALID_FLAGS", Text: "The flags field contains an invalid value."}
	ErrInvalidNetMask                 = &Error{Code: 0x8032001F, Name: "FWP_E_INVALID_NET_MASK", Text: "A network mask is not valid."}
	ErrInvalidRange                   = &Error{Code: 0x80320020, Name: "FWP_E_INVALID_RANGE", Text: "An FWP_RANGE0 structure is not valid."}
	ErrInvalidInterval                = &Error{Code: 0x80320021, Name: "FWP_E_INVALID_INTERVAL", Text: "The time interval is not valid."}
	ErrZeroLengthArray                = &Error{Code: 0x80320022, Name: "FWP_E_ZERO_LENGTH_ARRAY", Text: "An array that must contain at least one element has zero length."}
	ErrNullDisplayName                = &Error{Code: 0x80320023, Name: "FWP_E_NULL_DISPLAY_NAME", Text: "The displayData.name field cannot be null."}
	ErrInvalidActionType              = &Error{Code: 0x80320024, Name: "FWP_E_INVALID_ACTION_TYPE", Text: "The action type is not one of the allowed action types for a filter."}
	ErrInvalidWeight                  = &Error{Code: 0x80320025, Name: "FWP_E_INVALID_WEIGHT", Text: "The filter weight is not valid."}
	ErrMatchTypeMismatch              = &Error{Code: 0x80320026, Name: "FWP_E_MATCH_TYPE_MISMATCH", Text: "A filter condition contains a match type that is not compatible with the operands."}
	ErrTypeMismatch                   = &Error{Code: 0x80320027, Name: "FWP_E_TYPE_MISMATCH", Text: "An FWP_VALUE0 structure or an FWPM_CONDITION_VALUE0 structure is of the wrong type."}
	ErrOutOfBounds                    = &Error{Code: 0x80320028, Name: "FWP_E_OUT_OF_BOUNDS", Text: "An integer value is outside the allowed range."}
	ErrReserved                       = &Error{Code: 0x80320029, Name: "FWP_E_RESERVED", Text: "A reserved field is nonzero."}
	ErrDuplicateCondition             = &Error{Code: 0x8032002A, Name: "FWP_E_DUPLICATE_CONDITION", Text: "A filter cannot contain multiple conditions operating on a single field."}
	ErrDuplicateKeymod                = &Error{Code: 0x8032002B, Name: "FWP_E_DUPLICATE_KEYMOD", Text: "A policy cannot contain the same keying module more than once."}
	ErrActionIncompatibleWithLayer    = &Error{Code: 0x8032002C, Name: "FWP_E_ACTION_INCOMPATIBLE_WITH_LAYER", Text: "The action type is not compatible with the layer."}
	ErrActionIncompatibleWithSublayer = &Error{Code: 0x8032002D, Name: "FWP_E_ACTION_INCOMPATIBLE_WITH_SUBLAYER", Text: "The action type is not compatible with the sub-layer."}
	ErrContextIncompatibleWithLayer   = &Error{Code: 0x8032002E, Name: "FWP_E_CONTEXT_INCOMPATIBLE_WITH_LAYER", Text: "The raw context or the provider context is not compatible with the layer."}
	ErrContextIncompatibleWithCallout = &Error{Code: 0x8032002F, Name: "FWP_E_CONTEXT_INCOMPATIBLE_WITH_CALLOUT", Text: "The raw context or the provider context is not compatible with the callout."}
	ErrIncompatibleAuthMethod         = &Error{Code: 0x80320030, Name: "FWP_E_INCOMPATIBLE_AUTH_METHOD", Text: "The authentication method is not compatible with the policy type."}
	ErrIncompatibleDhGroup            = &Error{Code: 0x80320031, Name: "FWP_E_INCOMPATIBLE_DH_GROUP", Text: ""}
	ErrEmNotSupported                 = &Error{Code: 0x80320032, Name: "FWP_E_EM_NOT_SUPPORTED", Text: "An IKE policy cannot contain an Extended Mode policy."}
	ErrNeverMatch                     = &Error{Code: 0x80320033, Name: "FWP_E_NEVER_MATCH", Text: "The enumeration template or subscription will never match any objects."}
	ErrProviderContextMismatch        = &Error{Code: 0x80320034, Name: "FWP_E_PROVIDER_CONTEXT_MISMATCH", Text: "The provider context is of the wrong type."}
	ErrInvalidParameter               = &Error{Code: 0x80320035, Name: "FWP_E_INVALID_PARAMETER", Text: "The parameter is incorrect."}
	ErrTooManySublayers               = &Error{Code: 0x80320036, Name: "FWP_E_TOO_MANY_SUBLAYERS", Text: "The maximum number of sublayers has been reached."}
	ErrCalloutNotificationFailed      = &Error{Code: 0x80320037, Name: "FWP_E_CALLOUT_NOTIFICATION_FAILED", Text: "The notification function for a callout returned an error."}
	ErrInvalidAuthTransform           = &Error{Code: 0x80320038, Name: "FWP_E_INVALID_AUTH_TRANSFORM", Text: "The IPsec authentication transform is not valid."}
	ErrInvalidCipherTransform         = &Error{Code: 0x80320039, Name: "FWP_E_INVALID_CIPHER_TRANSFORM", Text: "The IPsec cipher transform is not valid."}
)
