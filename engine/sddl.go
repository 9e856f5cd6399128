package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wfpsim/wfpsim/wfp"
)

// fwpActrlMatchFilter is FWP_ACTRL_MATCH_FILTER: the access right a user or machine
// condition's security descriptor must grant to the incoming token for the condition
// to match. SDDL writes it "CC" (the bit 0x1).
const fwpActrlMatchFilter = 0x1

// securityDescriptor is the part of an SDDL security descriptor the engine needs: the
// DACL's allow and deny entries, in order.
type securityDescriptor struct {
	nullDACL bool
	aces     []ace
}

type ace struct {
	allow bool
	mask  uint32
	sid   wfp.SID
}

// sddlAliases are the SDDL SID abbreviations that WFP policies use.
var sddlAliases = map[string]string{
	"WD": "S-1-1-0", "CO": "S-1-3-0", "CG": "S-1-3-1", "NU": "S-1-5-2", "IU": "S-1-5-4",
	"SU": "S-1-5-6", "AN": "S-1-5-7", "ED": "S-1-5-9", "PS": "S-1-5-10", "AU": "S-1-5-11",
	"RC": "S-1-5-12", "SY": "S-1-5-18", "LS": "S-1-5-19", "NS": "S-1-5-20",
	"BA": "S-1-5-32-544", "BU": "S-1-5-32-545", "BG": "S-1-5-32-546", "PU": "S-1-5-32-547",
	"AO": "S-1-5-32-548", "SO": "S-1-5-32-549", "PO": "S-1-5-32-550", "BO": "S-1-5-32-551",
	"RE": "S-1-5-32-552", "RU": "S-1-5-32-554", "RD": "S-1-5-32-555", "NO": "S-1-5-32-556",
	"AC": "S-1-15-2-1", "LW": "S-1-16-4096", "ME": "S-1-16-8192", "HI": "S-1-16-12288",
	"SI": "S-1-16-16384",
}

var sddlRights = map[string]uint32{
	"CC": 0x1, "DC": 0x2, "LC": 0x4, "SW": 0x8, "RP": 0x10, "WP": 0x20, "DT": 0x40, "LO": 0x80,
	"CR": 0x100, "SD": 0x10000, "RC": 0x20000, "WD": 0x40000, "WO": 0x80000,
	"GA": 0x10000000, "GX": 0x20000000, "GW": 0x40000000, "GR": 0x80000000,
}

// parseSDDL reads the DACL of an SDDL string: "O:SYG:SYD:(A;;CC;;;S-1-5-18)(D;;CC;;;WD)".
// Entries other than allow (A) and deny (D) are ignored.
func parseSDDL(s string) (*securityDescriptor, error) {
	i := strings.Index(s, "D:")
	if i < 0 {
		return nil, fmt.Errorf("engine: security descriptor %q has no DACL (D:...): %w", s, wfp.ErrInvalidParameter)
	}
	d := s[i+2:]
	// The entries follow the DACL flags; whatever follows the last entry (a SACL,
	// "S:...") is not needed.
	sd := &securityDescriptor{}
	if strings.HasPrefix(d, "NO_ACCESS_CONTROL") {
		sd.nullDACL = true
		return sd, nil
	}
	for len(d) > 0 && d[0] != '(' { // DACL flags: P, AI, AR
		d = d[1:]
	}
	for strings.HasPrefix(d, "(") {
		end := strings.IndexByte(d, ')')
		if end < 0 {
			return nil, fmt.Errorf("engine: security descriptor %q: unterminated entry: %w", s, wfp.ErrInvalidParameter)
		}
		parts := strings.Split(d[1:end], ";")
		d = d[end+1:]
		if len(parts) < 6 {
			return nil, fmt.Errorf("engine: security descriptor %q: an entry needs 6 fields: %w", s, wfp.ErrInvalidParameter)
		}
		var allow bool
		switch parts[0] {
		case "A":
			allow = true
		case "D":
		default:
			continue
		}
		mask, err := parseRights(parts[2])
		if err != nil {
			return nil, fmt.Errorf("engine: security descriptor %q: %v: %w", s, err, wfp.ErrInvalidParameter)
		}
		sidText := parts[5]
		if full, ok := sddlAliases[strings.ToUpper(sidText)]; ok {
			sidText = full
		}
		sid, err := wfp.ParseSID(sidText)
		if err != nil {
			return nil, fmt.Errorf("engine: security descriptor %q: unknown trustee %q: %w", s, parts[5], wfp.ErrInvalidParameter)
		}
		sd.aces = append(sd.aces, ace{allow: allow, mask: mask, sid: sid})
	}
	return sd, nil
}

func parseRights(s string) (uint32, error) {
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		v, err := strconv.ParseUint(s[2:], 16, 32)
		return uint32(v), err
	}
	if len(s)%2 != 0 {
		return 0, fmt.Errorf("bad rights %q", s)
	}
	var mask uint32
	for i := 0; i < len(s); i += 2 {
		r, ok := sddlRights[strings.ToUpper(s[i:i+2])]
		if !ok {
			return 0, fmt.Errorf("unknown right %q", s[i:i+2])
		}
		mask |= r
	}
	return mask, nil
}

// grants reports whether the DACL grants FWP_ACTRL_MATCH_FILTER to a token with these
// SIDs: entries are read in order, the first one that names a token SID and covers the
// right decides; Everyone (S-1-1-0) is in every token. No entry means no access.
func (sd *securityDescriptor) grants(sids []wfp.SID) bool {
	if sd.nullDACL {
		return true
	}
	everyone := wfp.MustParseSID("S-1-1-0")
	for _, a := range sd.aces {
		if a.mask&(fwpActrlMatchFilter|0x10000000) == 0 {
			continue
		}
		hit := a.sid.Equal(everyone)
		for _, s := range sids {
			if hit {
				break
			}
			hit = a.sid.Equal(s)
		}
		if hit {
			return a.allow
		}
	}
	return false
}
