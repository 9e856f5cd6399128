package wfp

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one FWP_E_* HRESULT of the management API. The simulator returns the same
// values the real BFE would, and the Windows backend maps the HRESULTs it gets back to
// these values, so code can test errors.Is(err, wfp.ErrFilterNotFound) on every OS.
type Error struct {
	Code uint32 // the HRESULT, 0x80320003
	Name string // the C name, "FWP_E_FILTER_NOT_FOUND"
	Text string // Microsoft's description
}

func (e *Error) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("wfp: %s (0x%08X)", e.Name, e.Code)
	}
	return fmt.Sprintf("wfp: %s (0x%08X): %s", e.Name, e.Code, strings.TrimSuffix(lowerFirst(e.Text), "."))
}

// Is makes the broad sentinels match the specific codes: every *_NOT_FOUND code is
// ErrNotFound, and every code about a malformed argument is ErrInvalid.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return strings.HasSuffix(e.Name, "_NOT_FOUND")
	case ErrInvalid:
		return e.invalidArgument()
	}
	return false
}

func (e *Error) invalidArgument() bool {
	switch e {
	case ErrInvalidParameter, ErrTypeMismatch, ErrMatchTypeMismatch, ErrInvalidWeight,
		ErrInvalidRange, ErrInvalidNetMask, ErrInvalidFlags, ErrInvalidEnumerator,
		ErrInvalidActionType, ErrNullDisplayName, ErrOutOfBounds, ErrReserved,
		ErrDuplicateCondition, ErrZeroLengthArray, ErrNullPointer, ErrInvalidInterval:
		return true
	}
	return false
}

// Broad sentinels (DESIGN §5). ErrNotFound is FWP_E_NOT_FOUND and also matches every
// specific *_NOT_FOUND code; ErrExists is FWP_E_ALREADY_EXISTS; ErrInvalid is
// FWP_E_INVALID_PARAMETER and also matches every malformed-argument code.
var (
	ErrExists  = ErrAlreadyExists
	ErrInvalid = ErrInvalidParameter
	// ErrNotSupported is returned by the Windows backend on other operating systems,
	// and for calls the simulator does not model. It wraps errors.ErrUnsupported.
	ErrNotSupported = fmt.Errorf("wfp: not supported on this platform: %w", errors.ErrUnsupported)
)

// ErrorByCode returns the FWP_E_* error with that HRESULT, or nil.
func ErrorByCode(code uint32) *Error {
	for _, e := range errorTable {
		if e.Code == code {
			return e
		}
	}
	return nil
}

// ErrorByName returns the FWP_E_* error with that C name, or nil.
func ErrorByName(name string) *Error {
	for _, e := range errorTable {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Errors lists every FWP_E_* error in code order.
func Errors() []*Error { return append([]*Error(nil), errorTable...) }

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
