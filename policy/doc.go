// Package policy reads and writes wfpsim policy documents (YAML or JSON, one
// schema), resolves them to wfp objects, and applies them to any wfp.Engine (the
// simulator or the real Base Filtering Engine) in one transaction.
//
// # Schema (version 1)
//
//	version: 1                    # required
//	drives: {"D:": '\device\harddiskvolume4'}   # optional, for ALE_APP_ID paths; default C: = \device\harddiskvolume3
//	providers:                    # FWPM_PROVIDER0
//	  - name: Contoso Firewall    # required, unique; the display name
//	    display_name: ...         # optional, when the display name differs from name
//	    key: GUID                 # optional; default wfp.GUIDFromName("provider", name)
//	    description: ...
//	    service_name: ...
//	    flags: [persistent]       # persistent; short or C name (FWPM_PROVIDER_FLAG_*), or a number
//	    data: 0x0102              # providerData as hex
//	sublayers:                    # FWPM_SUBLAYER0
//	  - name: contoso             # name, display_name, key, description, flags, data as above
//	    weight: 0x8000            # FWP_UINT16, higher first; default 0
//	    provider: Contoso Firewall   # a provider of this file, a built-in provider, or a GUID
//	callouts:                     # FWPM_CALLOUT0 (the management object only)
//	  - name: ids
//	    layer: INBOUND_TRANSPORT_V4  # applicableLayer, required
//	    provider: ...
//	    flags: [persistent, uses_provider_context]
//	filters:                      # FWPM_FILTER0
//	  - name: block-http          # name, display_name, key, description as above
//	    layer: ALE_AUTH_CONNECT_V4   # required
//	    sublayer: contoso         # a sublayer of this file, a built-in (UNIVERSAL or FWPM_SUBLAYER_UNIVERSAL) or a GUID;
//	                              # absent = FWPM_SUBLAYER_UNIVERSAL (the zero key)
//	    provider: ...
//	    weight: 10                # 0..15 = weight range; {exact: N} = exact FWP_UINT64 (hex allowed); absent or auto = automatic
//	    action: block             # block | permit | callout_terminating | callout_inspection | callout_unknown (or FWP_ACTION_*)
//	    callout: ids              # required with a callout action; a callout of this file, a built-in callout or a GUID;
//	                              # ignored (with a warning) for block and permit, as the BFE ignores it
//	    flags: [clear_action_right]  # persistent, boottime, clear_action_right, permit_if_callout_unregistered, indexed, ...
//	    provider_context: GUID    # sets has_provider_context
//	    raw_context: 7            # FWP_UINT64
//	    conditions:               # different fields ANDed, the same field repeated ORed (rule B3)
//	      - {field: IP_REMOTE_PORT, match: equal, value: 80}
//
// Names may be written with or without their C prefix, in any letter case:
// layers (ALE_AUTH_CONNECT_V4, FWPM_LAYER_ALE_AUTH_CONNECT_V4), conditions
// (IP_REMOTE_PORT, FWPM_CONDITION_IP_REMOTE_PORT, and aliases such as ICMP_TYPE),
// match types (equal, not_equal, greater, less, greater_or_equal, less_or_equal,
// range, flags_all_set, flags_any_set, flags_none_set, equal_case_insensitive,
// prefix, not_prefix, or FWP_MATCH_*; absent = equal), actions and flags.
//
// # Condition values
//
// A value is typed by the data type of the field at the filter's layer (the
// catalogue in package layers), never converted: a value that does not fit is an
// error (FWP_E_TYPE_MISMATCH), and a match type the value type does not take is
// FWP_E_MATCH_TYPE_MISMATCH (rule B5).
//
//	integers (ports, ids, ...)   a YAML/JSON number or a string, decimal or 0x hex: 80, "0x50"
//	ranges (match: range)        "low-high" or "low..high": 5000-6000, 10.0.0.1-10.0.0.9, '2001:db8::1-2001:db8::9',
//	                             or {low: 5000, high: 6000}; a range with another match type is an error naming the fix
//	IP_PROTOCOL                  a name (tcp 6, udp 17, icmp 1, icmpv6 58, igmp 2, gre 47, esp 50, ah 51, sctp 132, ...) or 0..255
//	IPv4 address fields          10.0.0.1 (FWP_UINT32, host order) or 10.0.0.0/8, 10.0.0.0/255.0.0.0 (FWP_V4_ADDR_MASK)
//	IPv6 address fields          '2001:db8::53' (FWP_BYTE_ARRAY16_TYPE) or '2001:db8::/32' (FWP_V6_ADDR_MASK)
//	ALE_APP_ID, ALE_ORIGINAL_APP_ID   a DOS path 'C:\Windows\System32\svchost.exe', mapped through drives: as
//	                             FwpmGetAppIdFromFileName0 does (wfp.AppIDFromFileName), an NT path '\device\...',
//	                             or 0x hex bytes
//	user and machine ids         a SID S-1-5-18 (becomes the SDDL D:(A;;CC;;;S-1-5-18)) or SDDL text starting with D: or O:
//	FWP_SID fields               a SID, S-1-15-...
//	FLAGS, L2_FLAGS              flag names (is_loopback or FWP_CONDITION_FLAG_IS_LOOPBACK), as a list
//	                             [is_loopback, is_reauthorize] or "is_loopback|is_reauthorize", or numbers (rule B9)
//	DIRECTION                    inbound, outbound (FWP_DIRECTION_*) or a number
//	MAC addresses                00-11-22-33-44-55 or '00:11:22:33:44:55'
//	other byte blobs             0x and hex digits, or text (stored as NUL-terminated UTF-16LE)
//	unicode strings              text
//	any non-text field           empty: FWP_EMPTY, which matches a field the stack could not fill (rule B6)
//
// # Errors
//
// Every error is an *Error carrying file:line:col, the path of the node
// (filters[3].conditions[1].value) and the FWP_E_* error the real BFE would return,
// so errors.Is(err, wfp.ErrTypeMismatch) works; Check returns an ErrorList with all
// of a document's errors. A document that fails validation changes nothing:
// Apply adds everything in one transaction and aborts it on the first failure.
//
// Export turns an engine's state back into a Document; WriteYAML and WriteJSON
// write it deterministically.
//
// See https://learn.microsoft.com/en-us/windows/win32/fwp/object-model and
// https://learn.microsoft.com/en-us/windows/win32/api/fwpmtypes/ns-fwpmtypes-fwpm_filter0.
package policy
