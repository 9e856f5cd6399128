package fwpm

// The directive lives in a file without a build tag so that `go generate ./...` runs
// it on every OS (it would skip syscall_windows.go off Windows).
//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go syscall_windows.go
