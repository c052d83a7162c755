// The PROXY protocol (versions 1 and 2, as HAProxy specifies it): the header a proxy in front of
// Fulcrum writes at the start of a connection to carry the client's addresses, and the header
// Fulcrum writes to its backends for the same purpose. Pure code: no sockets, no allocation, no
// exceptions. docs/architecture.md ("The PROXY protocol header") lists what is accepted and rejected.
//
// Usage, on the bytes a connection has received so far:
//
//   ProxyParse result = parse_proxy_header(buffered);
//   NeedMore → read more, call again with every byte so far (the buffer may have moved)
//   Invalid  → close the connection (result.reason says why, for the log)
//   Done     → result.length bytes form the header; the client's own bytes start there.
//              result.source / destination replace the socket's addresses unless result.local.
//
// The parser keeps no state: each call looks at the buffer from its first byte. That costs at most
// one pass over 107 bytes (v1) or over the 16-byte fixed part (v2, plus one pass over the TLVs once
// the header is complete), so re-parsing a header that arrives in pieces stays cheap and bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "net/address.h"

namespace fulcrum::net {

/// Which PROXY protocol version: the text line or the binary header.
enum class ProxyVersion : std::uint8_t { V1, V2 };

/// Where parse_proxy_header() stands.
enum class ProxyStatus : std::uint8_t {
  /// Every byte so far may begin a valid header: call again with more.
  NeedMore,
  /// These bytes can never become a valid header (`reason` says why): close the connection.
  Invalid,
  /// A complete, valid header of `length` bytes.
  Done,
};

/// The outcome of one call to parse_proxy_header().
struct ProxyParse {
  ProxyStatus status = ProxyStatus::NeedMore;
  /// When Invalid: a short reason for the log. Points to a string literal; never dangles.
  std::string_view reason;
  /// When Done: the header's length; the bytes after it are the client's and were not examined.
  std::size_t length = 0;
  /// When Done: which version the header was.
  ProxyVersion version = ProxyVersion::V1;
  /// When Done: true when the header carries no client addresses (v1 `UNKNOWN`, v2 `LOCAL`, v2
  /// `PROXY` with an unspecified family): use the connection's own addresses then.
  bool local = false;
  /// When Done and not local: the client's address and the address it connected to, both IPv4 or
  /// both IPv6 (v1 `TCP4` / `TCP6`, v2 `AF_INET` / `AF_INET6` over `STREAM`).
  std::optional<Address> source;
  std::optional<Address> destination;
};

/// Bounds on a header.
struct ProxyLimits {
  /// The largest v2 header accepted, its 16 fixed bytes included (addresses take at most 36 more;
  /// the rest are TLVs, which are skipped). A v2 header announcing more is Invalid as soon as its
  /// length field arrives, so a connection never needs to buffer more than this before its
  /// client's bytes. A v1 line is bounded by the protocol itself: 107 bytes with its CRLF.
  std::size_t max_v2_bytes = 2048;
};

/// The longest v1 line, CRLF included (the protocol's own bound).
inline constexpr std::size_t kProxyV1MaxBytes = 107;
/// The fixed part of a v2 header: 12-byte signature, version/command, family, length.
inline constexpr std::size_t kProxyV2FixedBytes = 16;
/// A buffer this long holds any header the encoders write (the longest is a v1 `TCP6` line).
inline constexpr std::size_t kProxyEncodeMaxBytes = kProxyV1MaxBytes;

/// Parses the PROXY header at the start of `buffered`: every byte received on the connection so
/// far, from its first. Returns NeedMore while `buffered` is a valid beginning of a header, Invalid
/// at the first byte that can no longer belong to one (a wrong signature byte is reported at once,
/// so a client that speaks HTTP or TLS straight away is refused at its first byte), Done once the
/// header is complete. The verdict never depends on how the bytes were split into calls: once a
/// prefix of the input gives Invalid or Done, every longer input gives the same result. Never
/// reads past `buffered`; never looks past the header.
ProxyParse parse_proxy_header(std::string_view buffered, const ProxyLimits& limits = {});

/// Writes the header announcing a connection from `source` to `destination` into `out` and returns
/// its length, or 0 (writing nothing) when `out` is shorter than that (kProxyEncodeMaxBytes always
/// suffices). Two IPv4 addresses give `TCP4` / `AF_INET`; an IPv6 one with an IPv4 one gives
/// `TCP6` / `AF_INET6` with the IPv4 address mapped (::ffff:a.b.c.d), as HAProxy does; an address
/// of another family (or an empty one) gives the header of an unknown origin (v1 `UNKNOWN`, v2
/// `PROXY` with `AF_UNSPEC`), which the receiver treats as a direct connection.
std::size_t encode_proxy_header(ProxyVersion version, const Address& source, const Address& destination,
                                std::span<char> out);

/// Writes the header of a connection that carries no client (v1 `PROXY UNKNOWN`, v2 `LOCAL`): what
/// a health check sends to a backend that expects a header. Returns its length, or 0 when `out` is
/// too short.
std::size_t encode_proxy_local_header(ProxyVersion version, std::span<char> out);

}  // namespace fulcrum::net
