package callout

import (
	"bytes"
	"sync"

	"github.com/wfpsim/wfpsim/wfp"
)

// StreamBlocker is a stream callout for FWPM_LAYER_STREAM_V4/V6 that blocks a
// connection as soon as a byte pattern appears in its data, in either direction, even
// when the pattern is split across TCP segments.
//
// It shows the stream layer's I/O (FWPS_STREAM_CALLOUT_IO_PACKET0, rule D5):
//
//   - When the data ends with the start of the pattern ("...GET /ev" for "evil"), it
//     permits everything before that start with countBytesEnforced, and is called
//     again with the rest ("ev"), for which it answers
//     FWPS_STREAM_ACTION_NEED_MORE_DATA with countBytesRequired = the bytes still
//     missing. WFP holds those bytes and offers them again, followed by the next
//     segment ("il..."), so the pattern is seen whole. No state is kept between calls:
//     the engine's buffer is the per-flow tail.
//   - When the pattern is found it answers FWPS_STREAM_ACTION_DROP_CONNECTION with
//     FWP_ACTION_BLOCK. DROP_CONNECTION is honoured only when the filter's action is
//     FWP_ACTION_CALLOUT_UNKNOWN; under CALLOUT_TERMINATING only the data is blocked
//     (the connection stays up), and under CALLOUT_INSPECTION nothing happens at all
//     (rules A8, D5). So give it a CALLOUT_UNKNOWN filter.
//   - With FWPS_CLASSIFY_OUT_FLAG_NO_MORE_DATA (FIN) or BUFFER_LIMIT_REACHED it may not
//     ask for more: it permits what it holds.
//
// Every non-inspection stream callout must set the action itself (rule A10); this
// one always does. It is safe for concurrent use.
//
// See https://learn.microsoft.com/en-us/windows-hardware/drivers/network/stream-inspection
type StreamBlocker struct {
	pattern []byte

	mu      sync.Mutex
	matches []StreamMatch
}

// StreamMatch records one connection a StreamBlocker dropped.
type StreamMatch struct {
	FlowHandle uint64
	Inbound    bool
	// Offset is where the pattern starts in the data the callout was offered.
	Offset int
}

// NewStreamBlocker returns a blocker for pattern, which must not be empty (an empty
// pattern matches nothing).
func NewStreamBlocker(pattern []byte) *StreamBlocker {
	return &StreamBlocker{pattern: bytes.Clone(pattern)}
}

// Classify looks for the pattern in the stream data.
func (b *StreamBlocker) Classify(_ *IncomingValues, meta *Metadata, layerData any, _ *Filter, _ uint64, out *ClassifyOut) {
	out.Action = wfp.ActionPermit
	sp, ok := layerData.(*StreamPacket)
	if !ok || sp == nil || len(b.pattern) == 0 {
		return
	}
	if i := bytes.Index(sp.Data, b.pattern); i >= 0 {
		m := StreamMatch{Inbound: sp.Flags&StreamFlagReceive != 0, Offset: i}
		if meta.Has(MetaFlowHandle) {
			m.FlowHandle = meta.FlowHandle
		}
		b.mu.Lock()
		b.matches = append(b.matches, m)
		b.mu.Unlock()
		out.Action = wfp.ActionBlock
		sp.StreamAction = StreamActionDropConnection
		return
	}
	if out.Flags&(FlagNoMoreData|FlagBufferLimitReached) != 0 {
		return // must decide: permit all
	}
	k := partialSuffix(sp.Data, b.pattern)
	if k == 0 {
		return // permit all
	}
	if k < len(sp.Data) {
		// Permit the bytes before the partial match; called again with the rest.
		sp.CountBytesEnforced = len(sp.Data) - k
		return
	}
	// Only the start of the pattern is left: ask for the bytes still missing.
	out.Action = wfp.ActionNone
	sp.StreamAction = StreamActionNeedMoreData
	sp.CountBytesRequired = len(b.pattern) - k
}

// partialSuffix returns the length of the longest suffix of data that is a proper
// prefix of pattern.
func partialSuffix(data, pattern []byte) int {
	for k := min(len(pattern)-1, len(data)); k > 0; k-- {
		if bytes.Equal(data[len(data)-k:], pattern[:k]) {
			return k
		}
	}
	return 0
}

// Notify accepts every filter.
func (b *StreamBlocker) Notify(NotifyType, wfp.FilterKey, *Filter) error { return nil }

// FlowDelete does nothing: the blocker keeps no flow contexts.
func (b *StreamBlocker) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64) {}

// Matches returns the connections dropped so far, oldest first.
func (b *StreamBlocker) Matches() []StreamMatch {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]StreamMatch(nil), b.matches...)
}

var _ Callout = (*StreamBlocker)(nil)
