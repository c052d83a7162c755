// An IPv4 or IPv6 address block as a configuration writes it (`10.0.0.0/8`, `2001:db8::/32`,
// `192.0.2.7`): parsed and checked here, so that the configuration's rules can word a mistake
// without the network layer; net::CidrSet (net/cidr.h) matches clients against such blocks.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fulcrum::config {

using IpBytes = std::array<std::uint8_t, 16>;

/// `bytes` with every bit past the first `prefix` bits cleared (prefix 0..128).
IpBytes mask_prefix(const IpBytes& bytes, unsigned prefix);

/// One block: an address and how many leading bits of it count.
struct CidrBlock {
  IpBytes network{};  ///< host bits cleared
  /// Leading bits that count, in the 16-byte form (an IPv4 /8 is 104 here).
  unsigned prefix = 0;

  /// Parses `10.0.0.0/8`, `192.0.2.7` (a /32), `2001:db8::/32`, `::1` (a /128). Host bits set
  /// past the prefix (`10.0.0.1/8`) are refused: such an entry is most often a typo for a
  /// narrower block. On failure returns nullopt and says why in `error`.
  static std::optional<CidrBlock> parse(std::string_view text, std::string* error = nullptr);

  bool contains(const IpBytes& ip) const { return mask_prefix(ip, prefix) == network; }
  /// Back in the form it was written in (`10.0.0.0/8`, `2001:db8::/32`).
  std::string to_string() const;

  bool operator==(const CidrBlock&) const = default;
};

/// A set of blocks, built once (at start or reload, control thread) and then only read (any
/// thread, no lock: it is immutable).
///
/// Lookups return the longest prefix among the blocks that contain the address. Blocks are
/// grouped by prefix length, each group a sorted vector of networks; a lookup masks the address
/// once per distinct length, longest first, and binary-searches that group, stopping at the
/// first hit. That is at most 129 short searches however many entries the set has, and in
/// practice a handful (configurations use a few lengths: /8, /16, /24, /32, /64, /128), with no
/// pointer chasing: cheaper than a bit trie for the tens to thousands of entries an ACL holds,
/// and fast enough to run on every accept.
}  // namespace fulcrum::config
