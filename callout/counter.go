package callout

import (
	"sync"

	"github.com/wfpsim/wfpsim/wfp"
)

// Counter is an inspection callout that counts the packets and bytes it is shown, per
// layer. It is the smallest useful callout: it reads the layer data (a PacketData at
// packet layers, counting the bytes from the layer's data offset on; a StreamPacket at
// STREAM, counting the stream bytes offered) and always returns FWP_ACTION_CONTINUE,
// so it never changes a verdict.
//
// Give it a filter with the action FWP_ACTION_CALLOUT_INSPECTION (rule A8: whatever an
// inspection callout returns counts as continue). Under CALLOUT_TERMINATING its
// continue would be mapped to block. It is safe for concurrent use, as classifyFn must
// be on Windows, where it runs on many processors at once.
//
// See https://learn.microsoft.com/en-us/windows-hardware/drivers/network/types-of-callouts
type Counter struct {
	mu      sync.Mutex
	byLayer map[wfp.LayerID]Count
}

// Count is what a Counter saw at one layer. Packets counts classifyFn calls (at
// STREAM: stream indications, not TCP packets).
type Count struct {
	Packets uint64
	Bytes   uint64
}

// NewCounter returns an empty counter.
func NewCounter() *Counter { return &Counter{byLayer: map[wfp.LayerID]Count{}} }

// Classify counts the call and its bytes and returns continue.
func (c *Counter) Classify(in *IncomingValues, _ *Metadata, layerData any, _ *Filter, _ uint64, out *ClassifyOut) {
	n := 0
	switch d := layerData.(type) {
	case *PacketData:
		n = len(d.Data())
	case *StreamPacket:
		if d != nil {
			n = len(d.Data)
		}
	}
	var id wfp.LayerID
	if in != nil {
		id = in.LayerID
	}
	c.mu.Lock()
	if c.byLayer == nil {
		c.byLayer = map[wfp.LayerID]Count{}
	}
	x := c.byLayer[id]
	x.Packets++
	x.Bytes += uint64(n)
	c.byLayer[id] = x
	c.mu.Unlock()
	out.Action = wfp.ActionContinue
}

// Notify accepts every filter.
func (c *Counter) Notify(NotifyType, wfp.FilterKey, *Filter) error { return nil }

// FlowDelete does nothing: a Counter keeps no flow contexts.
func (c *Counter) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64) {}

// Count returns what the counter saw at a layer.
func (c *Counter) Count(layer wfp.LayerID) Count {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byLayer[layer]
}

// Total returns what the counter saw at every layer.
func (c *Counter) Total() Count {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t Count
	for _, x := range c.byLayer {
		t.Packets += x.Packets
		t.Bytes += x.Bytes
	}
	return t
}

var _ Callout = (*Counter)(nil)
