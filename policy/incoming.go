package policy

import (
	"fmt"
	"strings"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// IncomingValue reads the text of an incoming value for field f of layer l, typed by
// the field (what `wfpsim explain --set FIELD=VALUE` takes). The forms are those of
// condition values (ports, protocol names, addresses, app paths, flag names,
// inbound/outbound), with one addition: a token field (ALE_USER_ID, ...) takes the
// token's SIDs, user first, as "S-1-5-21-...-1001,S-1-5-32-545", giving an
// FWP_TOKEN_ACCESS_INFORMATION_TYPE value. "empty" is FWP_EMPTY.
func IncomingValue(l *layers.Layer, f layers.Field, text string) (wfp.Value, error) {
	if strings.EqualFold(strings.TrimSpace(text), "empty") {
		return wfp.Empty{}, nil
	}
	if f.Condition == nil {
		return nil, fmt.Errorf("field %s has no condition to type it: %w", f.Name, wfp.ErrConditionNotFound)
	}
	if !f.TypeKnown {
		return nil, fmt.Errorf("the type of %s at %s is not established by the sources: %w", f.Condition.ShortName, l.ShortName, wfp.ErrTypeMismatch)
	}
	if f.Type == wfp.TypeTokenAccessInformation || f.Type == wfp.TypeTokenInformation {
		var sids []wfp.SID
		for _, part := range strings.Split(text, ",") {
			sid, err := wfp.ParseSID(part)
			if err != nil {
				return nil, typeMismatch(text, f.Type, "the token's SIDs, user first: S-1-5-21-...-1001,S-1-5-32-545")
			}
			sids = append(sids, sid)
		}
		if f.Type == wfp.TypeTokenInformation {
			return wfp.TokenInformation{SIDs: sids}, nil
		}
		return wfp.TokenAccessInformation{User: sids[0], Groups: sids[1:]}, nil
	}
	return typedValue(l, f.Condition, f.Type, text, nil)
}

// CalloutKey returns the key of the document's callout with that name.
func (n *Names) CalloutKey(name string) (wfp.CalloutKey, bool) {
	for k, v := range n.Callouts {
		if v == name {
			return k, true
		}
	}
	return wfp.CalloutKey{}, false
}
