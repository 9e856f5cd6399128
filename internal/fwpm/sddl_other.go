//go:build !windows

package fwpm

import (
	"fmt"

	"github.com/wfpsim/wfpsim/wfp"
)

// SDDLToSecurityDescriptor converts SDDL text to a self-relative SECURITY_DESCRIPTOR.
// Only Windows (ConvertStringSecurityDescriptorToSecurityDescriptorW) does that; here
// it is an error wrapping wfp.ErrNotSupported.
func SDDLToSecurityDescriptor(sddl string) ([]byte, error) {
	return nil, fmt.Errorf("fwpm: converting the SDDL security descriptor %q to binary needs Windows: %w", sddl, wfp.ErrNotSupported)
}

// SecurityDescriptorToSDDL converts a self-relative SECURITY_DESCRIPTOR to SDDL text;
// like SDDLToSecurityDescriptor it needs Windows.
func SecurityDescriptorToSDDL(b []byte) (string, error) {
	return "", fmt.Errorf("fwpm: converting a %d-byte security descriptor to SDDL needs Windows: %w", len(b), wfp.ErrNotSupported)
}
