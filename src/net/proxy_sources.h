// The sources a listener trusts to send a PROXY protocol header (`trusted_proxies`): a short list
// of CIDR blocks, parsed once from the configuration and matched against each accepted peer.
//
// Deliberately minimal and private to the PROXY protocol: when a shared CIDR set type (for the
// listeners' allow / deny lists) exists, this file gives way to it; its callers only use
// parse_proxy_source() and ProxySources::contains().
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.h"

namespace fulcrum::net {

/// One block: `10.0.0.0/8`, `2001:db8::/32`, or one address (`192.0.2.7` is a /32, `::1` a /128).
/// IPv4 blocks are kept in their IPv4-mapped IPv6 form, as Address::ip_bytes() gives peers, so
/// one comparison serves both families.
struct ProxySourceBlock {
  std::array<std::uint8_t, 16> bytes{};
  /// Leading bits that must match, 0..128 (an IPv4 /n is 96 + n).
  unsigned prefix_bits = 128;

  /// Whether `ip` (as Address::ip_bytes() gives it) is inside the block.
  bool contains(const std::array<std::uint8_t, 16>& ip) const;
  bool operator==(const ProxySourceBlock&) const = default;
};

/// Parses one block. Strict: a numeric address (no host names), a prefix length in range written
/// in decimal without a leading zero, and no bit set past the prefix (`10.0.0.1/8` is refused with
/// the block it probably means, since a silently widened or narrowed block would trust the wrong
/// peers). On failure returns nothing and, when `error` is given, says why.
std::optional<ProxySourceBlock> parse_proxy_source(std::string_view text, std::string* error = nullptr);

/// The blocks of one listener's `trusted_proxies`. Built at configuration time; contains() is a
/// scan of a few blocks, without allocation, callable from any thread.
class ProxySources {
 public:
  ProxySources() = default;
  explicit ProxySources(std::vector<ProxySourceBlock> blocks) : blocks_(std::move(blocks)) {}

  /// Parses every entry; nothing when one of them fails (`error` names it and says why).
  static std::optional<ProxySources> parse(const std::vector<std::string>& entries, std::string* error = nullptr);

  /// Whether `peer` is inside one of the blocks (an IPv4 peer also matches an IPv6 block that
  /// covers its mapped form, such as `::/0`).
  bool contains(const Address& peer) const;
  bool empty() const { return blocks_.empty(); }

 private:
  std::vector<ProxySourceBlock> blocks_;
};

}  // namespace fulcrum::net
