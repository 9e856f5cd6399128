package engine_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// wordEditor is an inline stream editor: it replaces from with to, permitting the
// bytes before the word, blocking the word and injecting its replacement
// (countBytesEnforced and FwpsStreamInjectAsync0, rule D5).
type wordEditor struct {
	from, to string
	seen     []string
	err      error
}

func (e *wordEditor) Classify(in *callout.IncomingValues, m *callout.Metadata, ld any, f *callout.Filter, _ uint64, out *callout.ClassifyOut) {
	sp := ld.(*callout.StreamPacket)
	e.seen = append(e.seen, string(sp.Data))
	out.Action = wfp.ActionPermit
	i := bytes.Index(sp.Data, []byte(e.from))
	switch {
	case i < 0:
	case i > 0:
		sp.CountBytesEnforced = i // the bytes before the word go on
	default:
		out.Action, sp.CountBytesEnforced = wfp.ActionBlock, len(e.from)
		out.Flags |= callout.FlagAbsorb
		e.err = m.Kernel.StreamInject(callout.StreamInjectRequest{Handle: 7, FlowID: m.FlowHandle, CalloutID: f.CalloutID,
			LayerID: in.LayerID, Flags: sp.Flags & (callout.StreamFlagSend | callout.StreamFlagReceive), Data: []byte(e.to)})
	}
}
func (e *wordEditor) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error { return nil }
func (e *wordEditor) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64)                   {}

// Rule D5: an inline editor permits n bytes, blocks p and injects p', permits m; a
// callout in a lower-weight sublayer sees n, p', m in that order, the editor never
// sees p' again, and the segment goes on.
func TestStreamInjectInline(t *testing.T) {
	v := newStreamEnv(t, false)
	ed := &wordEditor{from: "dawn", to: "dusk"}
	app := &recorder{}
	v.streamFilter("editor", v.sublayer("edit", 0x9000), 1, wfp.ActionCalloutTerminating, ed)
	v.streamFilter("app", v.sublayer("app", 0x1000), 1, wfp.ActionCalloutInspection, app)
	v.connect()
	r := v.send("attack at dawn!", 0)
	require.NoError(t, ed.err)
	assert.False(t, r.Dropped(), r.Reason)
	assert.Equal(t, []string{"attack at ", "dusk", "!"}, app.Seen())
	assert.Equal(t, "attack at dusk!", strings.Join(app.Seen(), ""))
	assert.Equal(t, []string{"attack at dawn!", "dawn!", "!"}, ed.seen, "the editor is not shown its own injected bytes")
	assert.Contains(t, r.Reason, "4 of them injected by a callout")
	assert.Contains(t, notes(r), `callout "editor" injected 4 bytes (FwpsStreamInjectAsync0)`)
}

// Rule D5: data injected outside a walk of its stream (here by the test, as a driver
// would from a work item) runs as a walk of its own, recorded in Injections; the
// injector's filter does not see it, the lower sublayers do.
func TestStreamInjectOutsideAWalk(t *testing.T) {
	v := newStreamEnv(t, false)
	ed := &wordEditor{from: "x", to: "y"}
	app := &recorder{}
	v.streamFilter("editor", v.sublayer("edit", 0x9000), 1, wfp.ActionCalloutTerminating, ed)
	v.streamFilter("app", v.sublayer("app", 0x1000), 1, wfp.ActionCalloutInspection, app)
	f := v.connect()
	editorID := calloutIDOf(t, v, "editor")
	req := callout.StreamInjectRequest{FlowID: f.ID, CalloutID: editorID, LayerID: layers.StreamV4.ID, Flags: callout.StreamFlagReceive, Data: []byte("banner")}
	require.NoError(t, v.st.StreamInject(req))
	assert.Empty(t, ed.seen)
	assert.Equal(t, []string{"banner"}, app.Seen())
	inj := v.st.Injections()
	require.Len(t, inj, 1)
	require.NotNil(t, inj[0].Stream)
	assert.Equal(t, wfp.DirectionInbound, inj[0].Result.Direction)
	assert.Contains(t, inj[0].Result.Reason, "6 bytes delivered (6 of them injected by a callout)")

	for name, bad := range map[string]callout.StreamInjectRequest{
		"no such flow":            {FlowID: 999, CalloutID: editorID, LayerID: layers.StreamV4.ID, Flags: callout.StreamFlagSend, Data: []byte("x")},
		"wrong layer":             {FlowID: f.ID, CalloutID: editorID, LayerID: layers.StreamV6.ID, Flags: callout.StreamFlagSend, Data: []byte("x")},
		"both directions":         {FlowID: f.ID, CalloutID: editorID, LayerID: layers.StreamV4.ID, Flags: callout.StreamFlagSend | callout.StreamFlagReceive, Data: []byte("x")},
		"no data":                 {FlowID: f.ID, CalloutID: editorID, LayerID: layers.StreamV4.ID, Flags: callout.StreamFlagSend},
		"callout not on the flow": {FlowID: f.ID, CalloutID: 4242, LayerID: layers.StreamV4.ID, Flags: callout.StreamFlagSend, Data: []byte("x")},
	} {
		err := v.st.StreamInject(bad)
		assert.Error(t, err, name)
		if name == "no such flow" {
			assert.ErrorIs(t, err, wfp.ErrNotFound)
		} else {
			assert.ErrorIs(t, err, wfp.ErrInvalidParameter, name)
		}
	}
}

// calloutIDOf finds the runtime id of the callout of the filter with that name.
func calloutIDOf(t *testing.T, v *streamEnv, name string) wfp.CalloutID {
	fs, err := v.s.Filters(nil)
	require.NoError(t, err)
	for _, f := range fs {
		if f.DisplayData.Name == name {
			c, err := v.s.Callout(f.Action.Callout)
			require.NoError(t, err)
			return c.ID
		}
	}
	t.Fatalf("no filter %q", name)
	return 0
}
