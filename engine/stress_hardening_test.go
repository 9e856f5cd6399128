package engine_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// TestStressReplayCommitClose (issue 9, point 2) extends TestConcurrentClassifyAndCommit:
// on one engine, at the same time,
//
//   - writers commit (and abort) transactions that add or delete a pair of filters on
//     one port: a soft permit in a high sublayer and a block in a low one;
//   - dynamic sessions add a pair in one transaction and close, which deletes it;
//   - readers classify at ALE_AUTH_CONNECT_V4 directly;
//   - replayers walk TCP SYNs through their own Stacks, one of them with a tiny flow
//     table flooded with new flows.
//
// Every classification, direct or in a stack, must see one committed state: both
// filters of a pair or neither, from the same transaction, and never an aborted one.
// Every drop is recorded as a net event or counted as dropped from the ring, and the
// flow tables never exceed their limit. Run it with -race.
func TestStressReplayCommitClose(t *testing.T) {
	e := engine.New(engine.Options{NetEventCapacity: 64})
	setup := e.Open(wfp.SessionOptions{Name: "setup"})
	hi := wfp.SublayerKey(wfp.GUIDFromName("stress2", "hi"))
	lo := wfp.SublayerKey(wfp.GUIDFromName("stress2", "lo"))
	require.NoError(t, setup.AddSublayer(wfp.Sublayer{Key: hi, DisplayData: wfp.DisplayData{Name: "hi"}, Weight: 0x9000}))
	require.NoError(t, setup.AddSublayer(wfp.Sublayer{Key: lo, DisplayData: wfp.DisplayData{Name: "lo"}, Weight: 0x1000}))
	require.NoError(t, setup.BeginTransaction(false))
	for i := 0; i < 40; i++ { // enough filters for the index
		for _, sl := range []wfp.SublayerKey{hi, lo} {
			_, err := setup.AddFilter(blockPort(fmt.Sprint("bg", i), sl, uint16(20000+i)))
			require.NoError(t, err)
		}
	}
	require.NoError(t, setup.CommitTransaction())

	const (
		writers     = 2
		txnsEach    = 80
		dynamics    = 2
		dynEach     = 40
		readers     = 2
		replayers   = 2
		portsEach   = 4
		abortPort   = 30000
		floodLimit  = 32
		writerBase  = 1000
		dynamicBase = 2000
		minRounds   = 300
	)
	pair := func(s *engine.Session, name string, port uint16) error {
		_, err := s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: name + "-a"}, Layer: connect.Key, Sublayer: hi,
			Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(port))}, Action: wfp.Action{Type: wfp.ActionPermit}})
		if err != nil {
			return err
		}
		_, err = s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: name + "-b"}, Layer: connect.Key, Sublayer: lo,
			Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(port))}, Action: wfp.Action{Type: wfp.ActionBlock}})
		return err
	}
	randomPort := func(r *rand.Rand) uint16 {
		switch r.IntN(10) {
		case 0:
			return uint16(abortPort + r.IntN(writers))
		case 1, 2, 3:
			return uint16(dynamicBase + r.IntN(dynamics))
		}
		return uint16(writerBase + r.IntN(writers)*100 + r.IntN(portsEach))
	}
	// check is the one-committed-state property of a decision at ALE_AUTH_CONNECT_V4.
	check := func(port uint16, d *engine.Decision) error {
		var deciders []wfp.FilterID
		for _, sr := range d.Sublayers {
			if sr.Action != 0 {
				deciders = append(deciders, sr.FilterID)
			}
		}
		switch {
		case port >= abortPort && len(deciders) != 0:
			return fmt.Errorf("port %d: an aborted transaction is visible: %v", port, deciders)
		case len(deciders) == 1:
			return fmt.Errorf("port %d: half a transaction is visible: %+v", port, d.Sublayers)
		case len(deciders) == 2 && (deciders[1] != deciders[0]+1 || d.Action != wfp.ActionBlock):
			return fmt.Errorf("port %d: filters of two transactions mixed: %+v", port, d.Sublayers)
		case len(deciders) > 2:
			return fmt.Errorf("port %d: %d deciders", port, len(deciders))
		}
		return nil
	}
	var drops atomic.Int64 // block decisions that must be net events (not absorbed)
	countDrops := func(d *engine.Decision) {
		if d.Decided && d.Action == wfp.ActionBlock && !d.Absorb {
			drops.Add(1)
		}
	}
	var countResult func(res *engine.Result)
	countResult = func(res *engine.Result) {
		for i := range res.Steps {
			countDrops(&res.Steps[i].Decision)
		}
		for _, r := range res.Replies {
			countResult(r)
		}
	}

	var done atomic.Bool
	var wg, rg sync.WaitGroup
	errs := make(chan error, 64)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := e.Open(wfp.SessionOptions{Name: fmt.Sprint("writer", w)})
			defer s.Close()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			present := map[uint16][]wfp.FilterID{}
			for i := 0; i < txnsEach; i++ {
				port := uint16(writerBase + w*100 + r.IntN(portsEach))
				if err := s.BeginTransaction(false); err != nil {
					fail(err)
					return
				}
				if i%5 == 2 { // aborted midway: never visible
					err := pair(s, "aborted", uint16(abortPort+w))
					if aerr := s.AbortTransaction(); err != nil || aerr != nil {
						fail(fmt.Errorf("abort: %v %v", err, aerr))
						return
					}
					continue
				}
				var err error
				if _, ok := present[port]; ok {
					fs, ferr := s.Filters(&wfp.FilterEnumTemplate{Layer: connect.Key})
					err = ferr
					for _, f := range fs {
						if err == nil && len(f.Conditions) == 1 && f.Conditions[0].Value == wfp.Uint16(port) {
							err = s.DeleteFilterByID(f.ID)
						}
					}
					delete(present, port)
				} else {
					err = pair(s, fmt.Sprint("pair", port), port)
					present[port] = nil
				}
				if err == nil {
					err = s.CommitTransaction()
				}
				if err != nil {
					fail(err)
					return
				}
			}
		}(w)
	}
	for dn := 0; dn < dynamics; dn++ {
		wg.Add(1)
		go func(dn int) {
			defer wg.Done()
			port := uint16(dynamicBase + dn)
			for i := 0; i < dynEach; i++ {
				s := e.Open(wfp.SessionOptions{Name: fmt.Sprint("dynamic", dn), Dynamic: true})
				err := s.BeginTransaction(false)
				if err == nil {
					err = pair(s, fmt.Sprint("dyn", dn), port)
				}
				if err == nil {
					err = s.CommitTransaction()
				}
				// Close while the writers commit: the pair goes in one step.
				if cerr := s.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					fail(fmt.Errorf("dynamic session: %w", err))
					return
				}
			}
		}(dn)
	}
	var classified, replayed atomic.Int64
	for rd := 0; rd < readers; rd++ {
		rg.Add(1)
		go func(rd int) {
			defer rg.Done()
			r := rand.New(rand.NewPCG(uint64(rd), 2))
			fld, _ := connect.Field(layers.ConditionIPRemotePort.Key)
			vals := make([]wfp.Value, len(connect.Fields))
			var d engine.Decision
			// At least minRounds even when the writers finish first, so the
			// counts below never depend on scheduling.
			for n := 0; n < minRounds || !done.Load(); n++ {
				port := randomPort(r)
				vals[fld.Index] = wfp.Uint16(port)
				var tr *engine.Trace
				if r.IntN(4) == 0 {
					tr = &engine.Trace{}
				}
				if err := e.Classify(&engine.Request{Layer: connect, Values: vals}, &d, tr); err != nil {
					fail(err)
					return
				}
				countDrops(&d)
				classified.Add(1)
				if err := check(port, &d); err != nil {
					fail(err)
					return
				}
			}
		}(rd)
	}
	for rp := 0; rp < replayers; rp++ {
		rg.Add(1)
		go func(rp int) {
			defer rg.Done()
			opts := engine.StackOptions{Trace: rp == 0}
			if rp == 1 {
				opts.MaxFlows = floodLimit // flooded: every SYN is a new flow
			}
			st, err := e.NewStack(testHost(), opts)
			if err != nil {
				fail(err)
				return
			}
			defer st.Close()
			r := rand.New(rand.NewPCG(uint64(rp), 3))
			for n := 0; n < minRounds || !done.Load(); n++ {
				port := randomPort(r)
				src := fmt.Sprintf("10.0.0.5:%d", 1024+n%60000)
				res := st.Send(engine.TCP(src, fmt.Sprintf("93.184.216.34:%d", port), engine.TCPSyn, nil))
				countResult(res)
				replayed.Add(1)
				for i := range res.Steps {
					if res.Steps[i].Layer == connect {
						if err := check(port, &res.Steps[i].Decision); err != nil {
							fail(fmt.Errorf("stack %d: %w", rp, err))
							return
						}
					}
				}
				if opts.MaxFlows != 0 && n%16 == 0 {
					if got := len(st.Flows()); got > floodLimit {
						fail(fmt.Errorf("stack %d: %d flows, limit %d", rp, got, floodLimit))
						return
					}
				}
			}
			if opts.MaxFlows != 0 {
				if got := len(st.Flows()); got > floodLimit {
					fail(fmt.Errorf("stack %d: %d flows after the flood, limit %d", rp, got, floodLimit))
				}
			}
		}(rp)
	}
	wg.Wait()
	done.Store(true)
	rg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Positive(t, classified.Load())
	assert.Positive(t, replayed.Load())
	events, dropped := e.NetEvents()
	assert.Len(t, events, 64, "the ring is full")
	assert.Positive(t, dropped, "the ring overflowed")
	assert.Equal(t, drops.Load(), int64(len(events))+int64(dropped),
		"every drop is a net event or counted as dropped from the ring")
	fs, err := setup.Filters(nil)
	require.NoError(t, err)
	for _, f := range fs {
		assert.NotContains(t, f.DisplayData.Name, "dyn", "a closed dynamic session's filter is left")
		assert.NotContains(t, f.DisplayData.Name, "aborted")
	}
	assert.Equal(t, 0, len(fs)%2, "filters come in pairs")
}
