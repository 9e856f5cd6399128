package fwpm

import "golang.org/x/sys/windows"

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go syscall_windows.go

// The fwpuclnt.dll calls. Each returns a Win32 error code or an FWP_E_* HRESULT as
// a DWORD (zero is success), which mkwinsyscall turns into a syscall.Errno in ret.
// Security descriptors on add are always NULL (sd uintptr 0): objects get the BFE's
// default security.

// RPCAuthnDefault is RPC_C_AUTHN_DEFAULT, the authnService FwpmEngineOpen0 is usually
// given (the BFE picks Negotiate or NTLM; for a local session it is local RPC anyway).
const RPCAuthnDefault = 0xFFFFFFFF

// TxnReadOnly is FWPM_TXN_READ_ONLY, the flags of FwpmTransactionBegin0.
const TxnReadOnly = 0x1

//sys	FwpmEngineOpen0(serverName *uint16, authnService uint32, authIdentity uintptr, session *Session0, engineHandle *windows.Handle) (ret error) = fwpuclnt.FwpmEngineOpen0
//sys	FwpmEngineClose0(engineHandle windows.Handle) (ret error) = fwpuclnt.FwpmEngineClose0
//sys	FwpmFreeMemory0(p *unsafe.Pointer) = fwpuclnt.FwpmFreeMemory0

//sys	FwpmTransactionBegin0(engineHandle windows.Handle, flags uint32) (ret error) = fwpuclnt.FwpmTransactionBegin0
//sys	FwpmTransactionCommit0(engineHandle windows.Handle) (ret error) = fwpuclnt.FwpmTransactionCommit0
//sys	FwpmTransactionAbort0(engineHandle windows.Handle) (ret error) = fwpuclnt.FwpmTransactionAbort0

//sys	FwpmProviderAdd0(engineHandle windows.Handle, provider *Provider0, sd uintptr) (ret error) = fwpuclnt.FwpmProviderAdd0
//sys	FwpmProviderDeleteByKey0(engineHandle windows.Handle, key *GUID) (ret error) = fwpuclnt.FwpmProviderDeleteByKey0
//sys	FwpmProviderGetByKey0(engineHandle windows.Handle, key *GUID, provider **Provider0) (ret error) = fwpuclnt.FwpmProviderGetByKey0
//sys	FwpmProviderCreateEnumHandle0(engineHandle windows.Handle, enumTemplate *ProviderEnumTemplate0, enumHandle *windows.Handle) (ret error) = fwpuclnt.FwpmProviderCreateEnumHandle0
//sys	FwpmProviderEnum0(engineHandle windows.Handle, enumHandle windows.Handle, numEntriesRequested uint32, entries ***Provider0, numEntriesReturned *uint32) (ret error) = fwpuclnt.FwpmProviderEnum0
//sys	FwpmProviderDestroyEnumHandle0(engineHandle windows.Handle, enumHandle windows.Handle) (ret error) = fwpuclnt.FwpmProviderDestroyEnumHandle0

//sys	FwpmSubLayerAdd0(engineHandle windows.Handle, subLayer *Sublayer0, sd uintptr) (ret error) = fwpuclnt.FwpmSubLayerAdd0
//sys	FwpmSubLayerDeleteByKey0(engineHandle windows.Handle, key *GUID) (ret error) = fwpuclnt.FwpmSubLayerDeleteByKey0
//sys	FwpmSubLayerGetByKey0(engineHandle windows.Handle, key *GUID, subLayer **Sublayer0) (ret error) = fwpuclnt.FwpmSubLayerGetByKey0
//sys	FwpmSubLayerCreateEnumHandle0(engineHandle windows.Handle, enumTemplate *SublayerEnumTemplate0, enumHandle *windows.Handle) (ret error) = fwpuclnt.FwpmSubLayerCreateEnumHandle0
//sys	FwpmSubLayerEnum0(engineHandle windows.Handle, enumHandle windows.Handle, numEntriesRequested uint32, entries ***Sublayer0, numEntriesReturned *uint32) (ret error) = fwpuclnt.FwpmSubLayerEnum0
//sys	FwpmSubLayerDestroyEnumHandle0(engineHandle windows.Handle, enumHandle windows.Handle) (ret error) = fwpuclnt.FwpmSubLayerDestroyEnumHandle0

//sys	FwpmCalloutAdd0(engineHandle windows.Handle, callout *Callout0, sd uintptr, id *uint32) (ret error) = fwpuclnt.FwpmCalloutAdd0
//sys	FwpmCalloutDeleteById0(engineHandle windows.Handle, id uint32) (ret error) = fwpuclnt.FwpmCalloutDeleteById0
//sys	FwpmCalloutDeleteByKey0(engineHandle windows.Handle, key *GUID) (ret error) = fwpuclnt.FwpmCalloutDeleteByKey0
//sys	FwpmCalloutGetByKey0(engineHandle windows.Handle, key *GUID, callout **Callout0) (ret error) = fwpuclnt.FwpmCalloutGetByKey0
//sys	FwpmCalloutCreateEnumHandle0(engineHandle windows.Handle, enumTemplate *CalloutEnumTemplate0, enumHandle *windows.Handle) (ret error) = fwpuclnt.FwpmCalloutCreateEnumHandle0
//sys	FwpmCalloutEnum0(engineHandle windows.Handle, enumHandle windows.Handle, numEntriesRequested uint32, entries ***Callout0, numEntriesReturned *uint32) (ret error) = fwpuclnt.FwpmCalloutEnum0
//sys	FwpmCalloutDestroyEnumHandle0(engineHandle windows.Handle, enumHandle windows.Handle) (ret error) = fwpuclnt.FwpmCalloutDestroyEnumHandle0

//sys	FwpmFilterAdd0(engineHandle windows.Handle, filter *Filter0, sd uintptr, id *uint64) (ret error) = fwpuclnt.FwpmFilterAdd0
//sys	FwpmFilterDeleteById0(engineHandle windows.Handle, id uint64) (ret error) = fwpuclnt.FwpmFilterDeleteById0
//sys	FwpmFilterDeleteByKey0(engineHandle windows.Handle, key *GUID) (ret error) = fwpuclnt.FwpmFilterDeleteByKey0
//sys	FwpmFilterGetByKey0(engineHandle windows.Handle, key *GUID, filter **Filter0) (ret error) = fwpuclnt.FwpmFilterGetByKey0
//sys	FwpmFilterGetById0(engineHandle windows.Handle, id uint64, filter **Filter0) (ret error) = fwpuclnt.FwpmFilterGetById0
//sys	FwpmFilterCreateEnumHandle0(engineHandle windows.Handle, enumTemplate *FilterEnumTemplate0, enumHandle *windows.Handle) (ret error) = fwpuclnt.FwpmFilterCreateEnumHandle0
//sys	FwpmFilterEnum0(engineHandle windows.Handle, enumHandle windows.Handle, numEntriesRequested uint32, entries ***Filter0, numEntriesReturned *uint32) (ret error) = fwpuclnt.FwpmFilterEnum0
//sys	FwpmFilterDestroyEnumHandle0(engineHandle windows.Handle, enumHandle windows.Handle) (ret error) = fwpuclnt.FwpmFilterDestroyEnumHandle0

//sys	FwpmNetEventCreateEnumHandle0(engineHandle windows.Handle, enumTemplate *NetEventEnumTemplate0, enumHandle *windows.Handle) (ret error) = fwpuclnt.FwpmNetEventCreateEnumHandle0
//sys	FwpmNetEventEnum1(engineHandle windows.Handle, enumHandle windows.Handle, numEntriesRequested uint32, entries ***NetEvent1, numEntriesReturned *uint32) (ret error) = fwpuclnt.FwpmNetEventEnum1
//sys	FwpmNetEventDestroyEnumHandle0(engineHandle windows.Handle, enumHandle windows.Handle) (ret error) = fwpuclnt.FwpmNetEventDestroyEnumHandle0

//sys	FwpmGetAppIdFromFileName0(fileName *uint16, appID **ByteBlob) (ret error) = fwpuclnt.FwpmGetAppIdFromFileName0

// keep the windows import used even if every //sys line changes
var _ windows.Handle

// FwpmNetEventSubscribe0's callback is an FWPM_NET_EVENT_CALLBACK0, void
// (*)(void *context, const FWPM_NET_EVENT1 *event), made with windows.NewCallback.
//sys	FwpmNetEventSubscribe0(engineHandle windows.Handle, subscription *NetEventSubscription0, callback uintptr, context uintptr, eventsHandle *windows.Handle) (ret error) = fwpuclnt.FwpmNetEventSubscribe0
//sys	FwpmNetEventUnsubscribe0(engineHandle windows.Handle, eventsHandle windows.Handle) (ret error) = fwpuclnt.FwpmNetEventUnsubscribe0
