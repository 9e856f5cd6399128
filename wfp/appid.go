package wfp

import (
	"fmt"
	"strings"
)

// DefaultDrives returns the drive map AppIDFromFileName uses when given none: drive
// C: on \device\harddiskvolume3.
//
// Which volume number C: has is not documented by Microsoft: it depends on the
// partition layout of the machine (on a default GPT install of Windows 10 and 11,
// the EFI system partition, the MSR partition and C: make C: volume 3, which is why
// it is the default here). Pass the real map of the machine to match its app ids.
func DefaultDrives() map[string]string {
	return map[string]string{"C:": `\device\harddiskvolume3`}
}

// AppIDFromFileName mimics FwpmGetAppIdFromFileName0: it turns a file name into the
// app id the ALE layers compare FWPM_CONDITION_ALE_APP_ID against, the
// NUL-terminated UTF-16LE blob of the NT device path in lower case.
//
//	C:\Windows\System32\svchost.exe  ->  \device\harddiskvolume3\windows\system32\svchost.exe
//
// A DOS path ("C:\..." or "C:/...") is mapped through drives, a map from drive
// ("C:", any case) to its device path ("\device\harddiskvolume3"); a nil map means
// DefaultDrives. A path that is already an NT device path ("\device\...") is
// lower-cased and kept. Anything else (relative paths, UNC paths, drives missing
// from the map) is an error wrapping ErrInvalidParameter. Unlike the real call, the
// file is not opened and symbolic links are not followed.
func AppIDFromFileName(path string, drives map[string]string) (ByteBlob, error) {
	s, err := AppIDPathFromFileName(path, drives)
	if err != nil {
		return nil, err
	}
	return AppID(s), nil
}

// AppIDPathFromFileName is AppIDFromFileName returning the device path as a string
// ("\device\harddiskvolume3\windows\system32\svchost.exe") rather than the blob.
func AppIDPathFromFileName(path string, drives map[string]string) (string, error) {
	p := strings.TrimSpace(path)
	if p == "" {
		return "", fmt.Errorf("wfp: empty application path: want a DOS path such as C:\\Windows\\System32\\svchost.exe or an NT device path such as \\device\\harddiskvolume3\\...: %w", ErrInvalidParameter)
	}
	if hasPrefixFold(p, `\device\`) {
		return strings.ToLower(p), nil
	}
	if len(p) >= 3 && isDriveLetter(p[0]) && p[1] == ':' && (p[2] == '\\' || p[2] == '/') {
		if drives == nil {
			drives = DefaultDrives()
		}
		drive := strings.ToUpper(p[:2])
		dev, ok := "", false
		for k, v := range drives {
			if strings.EqualFold(strings.TrimSuffix(k, `\`), drive) {
				dev, ok = v, true
				break
			}
		}
		if !ok {
			return "", fmt.Errorf("wfp: application path %q is on drive %s, which the drive map does not name: add %s to the map of drives to device paths: %w", path, drive, drive, ErrInvalidParameter)
		}
		rest := strings.ReplaceAll(p[2:], "/", `\`)
		return strings.ToLower(strings.TrimSuffix(dev, `\`) + rest), nil
	}
	return "", fmt.Errorf("wfp: application path %q is neither a DOS path such as C:\\Windows\\System32\\svchost.exe nor an NT device path such as \\device\\harddiskvolume3\\...: %w", path, ErrInvalidParameter)
}

func isDriveLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
