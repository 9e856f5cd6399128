package main

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// response is a DNS answer for example.com A 93.184.216.34, with the answer's
// name compressed (a pointer to the question's name at offset 12).
var response = []byte{
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
	0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34,
}

func TestParseAnswers(t *testing.T) {
	name, addrs, err := parseAnswers(response)
	require.NoError(t, err)
	assert.Equal(t, "example.com", name)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("93.184.216.34")}, addrs)
}

// Every truncation of a response, and a pointer loop, is an error, never a panic.
func TestParseAnswersMalformed(t *testing.T) {
	for n := 0; n < len(response); n++ {
		_, _, err := parseAnswers(response[:n])
		assert.Error(t, err, "truncated to %d bytes", n)
	}
	loop := append([]byte(nil), response...)
	loop[12], loop[13] = 0xc0, 12 // the question's name points at itself
	_, _, err := parseAnswers(loop)
	assert.Error(t, err)
}
