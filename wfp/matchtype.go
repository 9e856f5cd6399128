package wfp

import "fmt"

// MatchType is FWP_MATCH_TYPE, with the Windows numbers.
type MatchType uint32

const (
	MatchEqual                MatchType = 0  // FWP_MATCH_EQUAL
	MatchGreater              MatchType = 1  // FWP_MATCH_GREATER
	MatchLess                 MatchType = 2  // FWP_MATCH_LESS
	MatchGreaterOrEqual       MatchType = 3  // FWP_MATCH_GREATER_OR_EQUAL
	MatchLessOrEqual          MatchType = 4  // FWP_MATCH_LESS_OR_EQUAL
	MatchRange                MatchType = 5  // FWP_MATCH_RANGE
	MatchFlagsAllSet          MatchType = 6  // FWP_MATCH_FLAGS_ALL_SET
	MatchFlagsAnySet          MatchType = 7  // FWP_MATCH_FLAGS_ANY_SET
	MatchFlagsNoneSet         MatchType = 8  // FWP_MATCH_FLAGS_NONE_SET
	MatchEqualCaseInsensitive MatchType = 9  // FWP_MATCH_EQUAL_CASE_INSENSITIVE
	MatchNotEqual             MatchType = 10 // FWP_MATCH_NOT_EQUAL
	MatchPrefix               MatchType = 11 // FWP_MATCH_PREFIX (tests the end of the value, rule B5)
	MatchNotPrefix            MatchType = 12 // FWP_MATCH_NOT_PREFIX
)

var matchTypeNames = [...]string{
	"FWP_MATCH_EQUAL", "FWP_MATCH_GREATER", "FWP_MATCH_LESS", "FWP_MATCH_GREATER_OR_EQUAL",
	"FWP_MATCH_LESS_OR_EQUAL", "FWP_MATCH_RANGE", "FWP_MATCH_FLAGS_ALL_SET",
	"FWP_MATCH_FLAGS_ANY_SET", "FWP_MATCH_FLAGS_NONE_SET", "FWP_MATCH_EQUAL_CASE_INSENSITIVE",
	"FWP_MATCH_NOT_EQUAL", "FWP_MATCH_PREFIX", "FWP_MATCH_NOT_PREFIX",
}

// MatchTypes lists every match type in numeric order.
func MatchTypes() []MatchType {
	out := make([]MatchType, len(matchTypeNames))
	for i := range out {
		out[i] = MatchType(i)
	}
	return out
}

// String returns the C name, "FWP_MATCH_RANGE".
func (m MatchType) String() string {
	if int(m) < len(matchTypeNames) {
		return matchTypeNames[m]
	}
	return fmt.Sprintf("FWP_MATCH_TYPE(%d)", uint32(m))
}

// ShortName returns the lower-case name used in policy documents, "flags_all_set".
func (m MatchType) ShortName() string {
	if int(m) < len(matchTypeNames) {
		return lower(matchTypeNames[m][len("FWP_MATCH_"):])
	}
	return m.String()
}

// ParseMatchType reads "range", "FLAGS_ALL_SET" or "FWP_MATCH_RANGE", in any case.
func ParseMatchType(s string) (MatchType, error) {
	want := normalizeName(s, "FWP_MATCH_")
	for i, n := range matchTypeNames {
		if n[len("FWP_MATCH_"):] == want {
			return MatchType(i), nil
		}
	}
	return 0, fmt.Errorf("wfp: unknown match type %q (want equal, not_equal, greater, less, greater_or_equal, less_or_equal, range, flags_all_set, flags_any_set, flags_none_set, equal_case_insensitive, prefix or not_prefix): %w", s, ErrInvalid)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
