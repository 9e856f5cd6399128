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

// TestConcurrentClassifyAndCommit: goroutines classify while others commit
// transactions. Every committed transaction adds or deletes a *pair* of filters on one
// port (a soft permit in the high sublayer, a block in the low one); classification must
// see both or neither, never one of them. Aborted transactions add filters on ports that
// classification must never see. Run it with -race.
func TestConcurrentClassifyAndCommit(t *testing.T) {
	e := engine.New(engine.Options{NetEventCapacity: 64})
	setup := e.Open(wfp.SessionOptions{Name: "setup"})
	hi := wfp.SublayerKey(wfp.GUIDFromName("stress", "hi"))
	lo := wfp.SublayerKey(wfp.GUIDFromName("stress", "lo"))
	require.NoError(t, setup.AddSublayer(wfp.Sublayer{Key: hi, DisplayData: wfp.DisplayData{Name: "hi"}, Weight: 0x9000}))
	require.NoError(t, setup.AddSublayer(wfp.Sublayer{Key: lo, DisplayData: wfp.DisplayData{Name: "lo"}, Weight: 0x1000}))
	// Background filters so that both sublayers use the index (more than 16 filters).
	require.NoError(t, setup.BeginTransaction(false))
	for i := 0; i < 40; i++ {
		for _, sl := range []wfp.SublayerKey{hi, lo} {
			_, err := setup.AddFilter(blockPort(fmt.Sprint("bg", i), sl, uint16(20000+i)))
			require.NoError(t, err)
		}
	}
	require.NoError(t, setup.CommitTransaction())

	const (
		writers    = 2
		txnsEach   = 120
		readers    = 4
		portsEach  = 6
		abortPorts = 30000
	)
	pairFilter := func(name string, sl wfp.SublayerKey, port uint16, a wfp.ActionType) wfp.Filter {
		return wfp.Filter{DisplayData: wfp.DisplayData{Name: name}, Layer: connect.Key, Sublayer: sl,
			Conditions: []wfp.Condition{eq(layers.ConditionIPRemotePort, wfp.Uint16(port))}, Action: wfp.Action{Type: a}}
	}

	var done atomic.Bool
	var wg, rg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := e.Open(wfp.SessionOptions{Name: fmt.Sprint("writer", w)})
			defer s.Close()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			present := map[uint16][2]wfp.FilterID{}
			for i := 0; i < txnsEach; i++ {
				port := uint16(1000 + w*100 + r.IntN(portsEach))
				if err := s.BeginTransaction(false); err != nil {
					errs <- err
					return
				}
				if i%7 == 3 { // an aborted transaction: never visible
					ap := uint16(abortPorts + w)
					_, err1 := s.AddFilter(pairFilter("aborted-a", hi, ap, wfp.ActionPermit))
					_, err2 := s.AddFilter(pairFilter("aborted-b", lo, ap, wfp.ActionBlock))
					if err := s.AbortTransaction(); err != nil || err1 != nil || err2 != nil {
						errs <- fmt.Errorf("abort: %v %v %v", err, err1, err2)
						return
					}
					continue
				}
				var err error
				if ids, ok := present[port]; ok {
					err = s.DeleteFilterByID(ids[0])
					if err == nil {
						err = s.DeleteFilterByID(ids[1])
					}
					delete(present, port)
				} else {
					var a, b wfp.FilterID
					a, err = s.AddFilter(pairFilter(fmt.Sprint("pair", port, "a"), hi, port, wfp.ActionPermit))
					if err == nil {
						b, err = s.AddFilter(pairFilter(fmt.Sprint("pair", port, "b"), lo, port, wfp.ActionBlock))
					}
					present[port] = [2]wfp.FilterID{a, b}
				}
				if err != nil {
					errs <- err
					return
				}
				if err := s.CommitTransaction(); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	var classified atomic.Int64
	for rd := 0; rd < readers; rd++ {
		rg.Add(1)
		go func(rd int) {
			defer rg.Done()
			r := rand.New(rand.NewPCG(uint64(rd), 7))
			vals := make([]wfp.Value, len(connect.Fields))
			fld, _ := connect.Field(layers.ConditionIPRemotePort.Key)
			var d engine.Decision
			for !done.Load() {
				port := uint16(1000 + r.IntN(writers)*100 + r.IntN(portsEach))
				if r.IntN(10) == 0 {
					port = uint16(abortPorts + r.IntN(writers))
				}
				vals[fld.Index] = wfp.Uint16(port)
				var tr *engine.Trace
				if r.IntN(4) == 0 {
					tr = &engine.Trace{}
				}
				if err := e.Classify(&engine.Request{Layer: connect, Values: vals}, &d, tr); err != nil {
					errs <- err
					return
				}
				classified.Add(1)
				var deciders []wfp.FilterID
				for _, sr := range d.Sublayers {
					if sr.Action != 0 {
						deciders = append(deciders, sr.FilterID)
					}
				}
				switch {
				case port >= abortPorts && len(deciders) != 0:
					errs <- fmt.Errorf("port %d: an aborted transaction is visible: %v", port, deciders)
					return
				case len(deciders) == 1:
					errs <- fmt.Errorf("port %d: half a transaction is visible: %+v", port, d.Sublayers)
					return
				case len(deciders) == 2 && (deciders[1] != deciders[0]+1 || d.Action != wfp.ActionBlock):
					errs <- fmt.Errorf("port %d: filters of two transactions mixed: %+v", port, d.Sublayers)
					return
				}
			}
		}(rd)
	}
	wg.Wait()
	done.Store(true)
	rg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Positive(t, classified.Load())
	fs, err := setup.Filters(nil)
	require.NoError(t, err)
	assert.Equal(t, 0, len(fs)%2, "filters come in pairs")
}
