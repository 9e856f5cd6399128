package engine_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/wfp"
)

// TestIncrementalCommitsMatchAFreshCompile: commits that add and delete a few filters
// patch the compiled layer (extra filters, deleted set, per-sublayer rebuilds past
// maxDelta) instead of recompiling it. After every commit, every probe must be decided
// exactly as by an engine compiled from scratch with the same filters.
func TestIncrementalCommitsMatchAFreshCompile(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	e := engine.New(engine.Options{NetEventCapacity: -1})
	s := e.Open(wfp.SessionOptions{Name: "incremental"})
	subs := benchSublayers(t, s)
	pool := benchPolicy(3000, subs)
	for i := range pool {
		pool[i].Weight = wfp.ExactWeight(r.Uint64N(1 << 20)) // the same in both engines
		pool[i].Key = wfp.FilterKey(wfp.GUIDFromName("incremental", pool[i].DisplayData.Name))
	}
	live := map[int]bool{}
	add := func(i int) {
		_, err := s.AddFilter(pool[i])
		require.NoError(t, err)
		live[i] = true
	}
	must(t, s.BeginTransaction(false))
	for i := 0; i < 1500; i++ {
		add(i)
	}
	must(t, s.CommitTransaction())
	probes := benchTraffic(3000)
	for round := 0; round < 40; round++ {
		must(t, s.BeginTransaction(false))
		for k := 0; k < 1+r.IntN(40); k++ {
			i := r.IntN(len(pool))
			if live[i] {
				require.NoError(t, s.DeleteFilter(pool[i].Key))
				delete(live, i)
			} else {
				add(i)
			}
		}
		if round%7 == 3 {
			must(t, s.AbortTransaction())
			live = map[int]bool{}
			fs, err := s.Filters(nil)
			require.NoError(t, err)
			byName := map[string]int{}
			for i, f := range pool {
				byName[f.DisplayData.Name] = i
			}
			for _, f := range fs {
				live[byName[f.DisplayData.Name]] = true
			}
		} else {
			must(t, s.CommitTransaction())
		}
		fresh := engine.New(engine.Options{NetEventCapacity: -1})
		fs := fresh.Open(wfp.SessionOptions{Name: "fresh"})
		benchSublayers(t, fs)
		must(t, fs.BeginTransaction(false))
		for i := range pool {
			if live[i] {
				_, err := fs.AddFilter(pool[i])
				require.NoError(t, err)
			}
		}
		must(t, fs.CommitTransaction())
		for pi, v := range probes {
			var a, b engine.Decision
			must(t, e.Classify(&engine.Request{Layer: connect, Values: v}, &a, nil))
			must(t, fresh.Classify(&engine.Request{Layer: connect, Values: v}, &b, nil))
			require.Equal(t, summary(b), summary(a), "round %d probe %d", round, pi)
		}
	}
}

// summary is a decision without runtime ids, which differ between engines.
func summary(d engine.Decision) string {
	out := fmt.Sprintf("%s hard=%t veto=%t decided=%t by %q:", d.Action, d.Hard, d.Vetoed, d.Decided, d.FilterName)
	for _, sr := range d.Sublayers {
		out += fmt.Sprintf(" [%s %s %q]", sr.Name, sr.ActionName(), sr.FilterName)
	}
	return out
}
