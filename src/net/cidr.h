// CIDR blocks and sets of them: which client addresses a listener's `allow:` / `deny:` lists
// cover. Pure code, no sockets.
//
// Every address is compared in its 16-byte IPv6 form, an IPv4 address (or block) mapped into
// ::ffff:0:0/96 (Address::ip_bytes()): an IPv4 entry matches a client whether it arrived over
// IPv4 or as a v4-mapped address on a dual-stack socket. A consequence: `::/0` covers IPv4
// clients too, and `::ffff:0:0/96` is every IPv4 address.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/cidr_block.h"
#include "net/address.h"

namespace fulcrum::net {

/// The 16-byte form of an IP address (IPv4 mapped into ::ffff:0:0/96).
using IpBytes = config::IpBytes;
using Cidr = config::CidrBlock;
using config::mask_prefix;

class CidrSet {
 public:
  CidrSet() = default;
  explicit CidrSet(const std::vector<Cidr>& blocks);

  /// Parses every entry of `texts`; on the first bad one returns nullopt with `error` set to
  /// `entry N: why`.
  static std::optional<CidrSet> parse(const std::vector<std::string>& texts, std::string* error = nullptr);

  /// The longest prefix of the blocks containing `ip`, or nullopt when none does.
  std::optional<unsigned> longest_match(const IpBytes& ip) const;
  bool contains(const IpBytes& ip) const { return longest_match(ip).has_value(); }
  bool contains(const Address& address) const { return contains(address.ip_bytes()); }
  bool empty() const { return groups_.empty(); }

 private:
  struct Group {
    unsigned prefix = 0;
    std::vector<IpBytes> networks;  // sorted, unique
  };
  std::vector<Group> groups_;  // longest prefix first
};

/// A listener's `allow:` and `deny:` lists, decided by the most specific entry.
///
/// The rule: the entry with the longest prefix that contains the client decides; between an
/// `allow` and a `deny` entry of the same prefix, deny wins. A client no entry contains is
/// refused when `allow` is non-empty (an allow list names who may connect) and accepted
/// otherwise. So `allow: [10.0.0.0/8]` with `deny: [10.6.0.0/16]` lets in 10/8 but that /16, and
/// `deny: [10.0.0.0/8]` with `allow: [10.1.2.3, 0.0.0.0/0]` lets in everyone but 10/8, and of 10/8
/// 10.1.2.3 alone — whichever order the entries are written in. Longest prefix rather than
/// first match (nginx) because two separate lists have no order between them.
class AccessRules {
 public:
  AccessRules() = default;
  AccessRules(CidrSet allow, CidrSet deny) : allow_(std::move(allow)), deny_(std::move(deny)) {}

  /// Builds the rules from the configuration's lists; nullopt with `error` (`allow: entry 2: ...`)
  /// when an entry does not parse (the validator reports those first).
  static std::optional<AccessRules> parse(const std::vector<std::string>& allow, const std::vector<std::string>& deny,
                                          std::string* error = nullptr);

  /// The rules of validated lists, ready to share between threads: null when both lists are empty
  /// (every client gets in, callers skip the lookup). An entry that does not parse (the validator
  /// reports those before anything runs) refuses everyone rather than letting everyone in.
  static std::shared_ptr<const AccessRules> shared(const std::vector<std::string>& allow,
                                                   const std::vector<std::string>& deny);

  /// Whether a client at `ip` may connect. Any thread.
  bool admits(const IpBytes& ip) const;
  bool admits(const Address& address) const { return admits(address.ip_bytes()); }
  /// No entry at all: every client is admitted (callers skip the lookup).
  bool empty() const { return allow_.empty() && deny_.empty(); }

 private:
  CidrSet allow_;
  CidrSet deny_;
};

}  // namespace fulcrum::net
