package callout_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/wfp"
)

func TestPassThrough(t *testing.T) {
	c := callout.PassThrough()
	for _, tt := range []struct {
		action wfp.ActionType
		rights callout.Rights
		want   wfp.ActionType
	}{
		{wfp.ActionCalloutTerminating, callout.RightActionWrite, wfp.ActionPermit}, // continue would be block (A8)
		{wfp.ActionCalloutUnknown, callout.RightActionWrite, wfp.ActionContinue},
		{wfp.ActionCalloutInspection, callout.RightActionWrite, wfp.ActionContinue},
		{wfp.ActionCalloutTerminating, 0, wfp.ActionNone}, // without the right: writes nothing (A7)
	} {
		out := callout.ClassifyOut{Action: wfp.ActionNone, Rights: tt.rights}
		c.Classify(&callout.IncomingValues{}, &callout.Metadata{}, nil, &callout.Filter{Action: tt.action}, 0, &out)
		assert.Equal(t, tt.want, out.Action, "%s", tt.action)
		assert.Equal(t, tt.rights, out.Rights, "never clears the write right")
	}
}
