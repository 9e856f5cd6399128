package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/wfpsim/wfpsim/bfe"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

// wfpsimProvider tags what "wfpsim apply --persistent" adds, so that "wfpsim remove"
// finds it again: objects of the document that name no provider get this one. Its key
// is derived from the name, as every document key is, so it is the same on every run.
const wfpsimProvider = "wfpsim"

// applyBFE adds a policy to the real BFE. Without persistent the objects live in a
// dynamic session (rule E1) that stays open until the user interrupts wfpsim.
func applyBFE(e *env, file string, doc *policy.Document, persistent bool) error {
	if persistent {
		tagPersistent(doc)
	}
	objs, err := doc.Objects()
	if err != nil {
		return err
	}
	if persistent {
		for i := range objs.Providers {
			objs.Providers[i].Flags |= wfp.ProviderFlagPersistent
		}
		for i := range objs.Sublayers {
			objs.Sublayers[i].Flags |= wfp.SublayerFlagPersistent
		}
		for i := range objs.Callouts {
			objs.Callouts[i].Flags |= wfp.CalloutFlagPersistent
		}
		for i := range objs.Filters {
			objs.Filters[i].Flags |= wfp.FilterFlagPersistent
		}
	}
	sess, err := bfe.Open(wfp.SessionOptions{Name: "wfpsim apply", Dynamic: !persistent})
	if err != nil {
		return fmt.Errorf("open the Base Filtering Engine (run as administrator): %w", err)
	}
	defer sess.Close()
	applied, err := policy.ApplyObjects(sess, objs)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: applied %d filter(s)\n", file, len(applied.FilterIDs))
	if persistent {
		fmt.Fprintf(e.stdout, "the objects are persistent; 'wfpsim remove' deletes them\n")
		return nil
	}
	fmt.Fprintf(e.stdout, "the filters stay while wfpsim runs (a dynamic session); press Ctrl-C to remove them\n")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	<-ctx.Done()
	fmt.Fprintf(e.stdout, "removing the filters\n")
	return nil
}

// tagPersistent gives the document the wfpsim provider and puts every object that
// names no provider under it.
func tagPersistent(doc *policy.Document) {
	has := false
	for _, p := range doc.Providers {
		has = has || p.Name == wfpsimProvider
	}
	if !has {
		doc.Providers = append(doc.Providers, policy.Provider{Name: wfpsimProvider, Description: "objects added by wfpsim apply --persistent"})
	}
	for i := range doc.Sublayers {
		if doc.Sublayers[i].Provider == "" {
			doc.Sublayers[i].Provider = wfpsimProvider
		}
	}
	for i := range doc.Callouts {
		if doc.Callouts[i].Provider == "" {
			doc.Callouts[i].Provider = wfpsimProvider
		}
	}
	for i := range doc.Filters {
		if doc.Filters[i].Provider == "" {
			doc.Filters[i].Provider = wfpsimProvider
		}
	}
}

// stateBFE prints the real BFE's objects.
func stateBFE(e *env, format string) error {
	sess, err := bfe.Open(wfp.SessionOptions{Name: "wfpsim state", Dynamic: true})
	if err != nil {
		return fmt.Errorf("open the Base Filtering Engine (run as administrator): %w", err)
	}
	defer sess.Close()
	if format == "netsh" {
		return policy.ExportNetsh(e.stdout, sess, policy.NetshExportOptions{})
	}
	doc, err := policy.Export(sess)
	if err != nil {
		return err
	}
	return doc.WriteYAML(e.stdout)
}

// removeBFE deletes what "wfpsim apply --persistent" added: the filters, callouts and
// sublayers of the wfpsim provider, then the provider, in one transaction.
func removeBFE(e *env) error {
	key, err := wfpsimProviderKey()
	if err != nil {
		return err
	}
	sess, err := bfe.Open(wfp.SessionOptions{Name: "wfpsim remove", Dynamic: true})
	if err != nil {
		return fmt.Errorf("open the Base Filtering Engine (run as administrator): %w", err)
	}
	defer sess.Close()
	if err := sess.BeginTransaction(false); err != nil {
		return err
	}
	n, err := removeProvider(sess, key)
	if err != nil {
		return errors.Join(err, sess.AbortTransaction())
	}
	if err := sess.CommitTransaction(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %d object(s)\n", n)
	return nil
}

func removeProvider(s wfp.Engine, key wfp.ProviderKey) (int, error) {
	n := 0
	filters, err := s.Filters(&wfp.FilterEnumTemplate{Provider: &key})
	if err != nil {
		return n, err
	}
	for _, f := range filters {
		if err := s.DeleteFilter(f.Key); err != nil {
			return n, err
		}
		n++
	}
	callouts, err := s.Callouts()
	if err != nil {
		return n, err
	}
	for _, c := range callouts {
		if c.Provider == key {
			if err := s.DeleteCallout(c.Key); err != nil {
				return n, err
			}
			n++
		}
	}
	subs, err := s.Sublayers()
	if err != nil {
		return n, err
	}
	for _, sl := range subs {
		if sl.Provider == key {
			if err := s.DeleteSublayer(sl.Key); err != nil {
				return n, err
			}
			n++
		}
	}
	if err := s.DeleteProvider(key); err != nil {
		if errors.Is(err, wfp.ErrNotFound) {
			return n, nil
		}
		return n, err
	}
	return n + 1, nil
}

// wfpsimProviderKey is the key a document gives the provider named wfpsim.
func wfpsimProviderKey() (wfp.ProviderKey, error) {
	doc := &policy.Document{Version: 1, Providers: []policy.Provider{{Name: wfpsimProvider}}}
	objs, err := doc.Objects()
	if err != nil {
		return wfp.ProviderKey{}, err
	}
	return objs.Providers[0].Key, nil
}
