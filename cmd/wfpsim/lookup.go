package main

import (
	"strings"

	"github.com/wfpsim/wfpsim/layers"
)

// findLayer resolves a layer name in any form layers.LayerByName accepts; an
// unknown name is a usage error with up to three suggestions.
func findLayer(name string) (*layers.Layer, error) {
	if l, ok := layers.LayerByName(name); ok {
		return l, nil
	}
	return nil, unknownName("layer", name, layers.Suggest(layers.KindLayer, name), "wfpsim layers")
}

func unknownName(kind, name string, suggestions []string, listCmd string) error {
	if len(suggestions) > 0 {
		return usagef("unknown %s %q; did you mean %s?", kind, name, strings.Join(suggestions, ", "))
	}
	return usagef("unknown %s %q; run '%s' for the list", kind, name, listCmd)
}
