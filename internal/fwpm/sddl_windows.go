package fwpm

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// SDDLToSecurityDescriptor converts SDDL text to the bytes of a self-relative
// SECURITY_DESCRIPTOR (ConvertStringSecurityDescriptorToSecurityDescriptorW), the
// form FWP_SECURITY_DESCRIPTOR_TYPE values carry in their FWP_BYTE_BLOB.
func SDDLToSecurityDescriptor(sddl string) ([]byte, error) {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return nil, fmt.Errorf("fwpm: the SDDL security descriptor %q: %w", sddl, err)
	}
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(sd)), sd.Length())...), nil
}

// SecurityDescriptorToSDDL converts the bytes of a self-relative SECURITY_DESCRIPTOR to
// SDDL text (ConvertSecurityDescriptorToStringSecurityDescriptorW).
func SecurityDescriptorToSDDL(b []byte) (string, error) {
	if len(b) < 20 {
		return "", fmt.Errorf("fwpm: a security descriptor of %d bytes: want a self-relative SECURITY_DESCRIPTOR of at least 20 bytes", len(b))
	}
	sd := (*windows.SECURITY_DESCRIPTOR)(unsafe.Pointer(&b[0]))
	if !sd.IsValid() {
		return "", fmt.Errorf("fwpm: a %d-byte security descriptor is not valid (IsValidSecurityDescriptor)", len(b))
	}
	return sd.String(), nil
}
