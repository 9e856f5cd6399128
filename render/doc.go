// Package render draws engine traces for people: the WFP layer stack with a
// packet's path through it, the arbitration table of one layer, and the summary
// of a whole replay. It is what wfpsim shows on a terminal (explain, replay -v,
// replay --step) and what the classroom examples print.
//
// The stack view follows the picture in Microsoft's WFP architecture page: the
// application and Winsock at the top, the Application Layer Enforcement (ALE)
// layers that authorize flows, the stream and datagram-data layers, the transport
// layers, the network (IP packet and forward) layers and the MAC layers at the
// bottom, next to the wire:
//
//	application / Winsock   connect() send() | accept() recv()
//	ALE                     RESOURCE_ASSIGNMENT, AUTH_CONNECT, AUTH_RECV_ACCEPT, FLOW_ESTABLISHED
//	stream / datagram       STREAM, STREAM_PACKET, DATAGRAM_DATA
//	transport               OUTBOUND_TRANSPORT, INBOUND_TRANSPORT, ICMP_ERROR
//	network                 OUTBOUND_IPPACKET, INBOUND_IPPACKET, IPFORWARD
//	MAC                     OUTBOUND_MAC_FRAME_*, INBOUND_MAC_FRAME_*
//	wire
//
// An outbound packet walks down, an inbound one walks up; a forwarded packet
// comes up to the network tier and goes down again. Every layer the packet was
// classified at is marked with its verdict: a soft or hard permit, a soft or hard
// block, a callout's veto (rule A7), a permit no filter decided (rule A12), and
// the discard layers that saw a dropped packet (FWPM_LAYER_*_DISCARD).
//
// The arbitration view is one layer's trace (engine.Trace) as a table: the
// sublayers from the highest weight down, in each the filters from the highest
// weight down, whether each matched and, if not, which condition failed, what a
// callout returned, the sublayer's result and how it changed the layer's action
// (soft, hard, veto), then the layer's decision.
//
// Output is plain ASCII (no escape sequences, ASCII borders) with ProfilePlain,
// which Detect picks when the output is not a terminal or NO_COLOR is set;
// goldens of the engine never go through this package. Render's own goldens
// (testdata/*.golden) pin both the plain and the ANSI 256-colour profiles.
//
// References:
//   - WFP architecture: https://learn.microsoft.com/en-us/windows/win32/fwp/windows-filtering-platform-architecture-overview
//   - Filtering layers: https://learn.microsoft.com/en-us/windows/win32/fwp/management-filtering-layer-identifiers-
//   - Filter arbitration: https://learn.microsoft.com/en-us/windows/win32/fwp/filter-arbitration
//   - Application Layer Enforcement: https://learn.microsoft.com/en-us/windows/win32/fwp/application-layer-enforcement--ale-
package render
