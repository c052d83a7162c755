#include "net/cidr.h"

#include <arpa/inet.h>

#include <algorithm>

namespace fulcrum::net {

namespace {

constexpr unsigned kV4MappedBits = 96;  // ::ffff:0:0/96 holds the IPv4 addresses

bool is_v4_mapped(const IpBytes& bytes) {
  for (int i = 0; i < 10; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

void set(std::string* error, std::string message) {
  if (error) *error = std::move(message);
}

}  // namespace

IpBytes mask_prefix(const IpBytes& bytes, unsigned prefix) {
  IpBytes masked{};
  const unsigned whole = std::min(prefix, 128u) / 8;
  for (unsigned i = 0; i < whole; ++i) masked[i] = bytes[i];
  if (const unsigned rest = prefix % 8; rest != 0 && whole < 16) {
    masked[whole] = static_cast<std::uint8_t>(bytes[whole] & (0xff << (8 - rest)));
  }
  return masked;
}

std::optional<Cidr> Cidr::parse(std::string_view text, std::string* error) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) {
    set(error, "empty: expected an address or a block like 10.0.0.0/8 or 2001:db8::/32");
    return std::nullopt;
  }
  const std::size_t slash = text.find('/');
  const std::string host(text.substr(0, slash));
  IpBytes bytes{};
  unsigned max_prefix = 128;
  unsigned offset = 0;  // bits the 16-byte form adds in front of the written prefix
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    bytes[10] = bytes[11] = 0xff;
    std::copy_n(reinterpret_cast<const std::uint8_t*>(&v4), 4, bytes.begin() + 12);
    max_prefix = 32;
    offset = kV4MappedBits;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    std::copy_n(reinterpret_cast<const std::uint8_t*>(&v6), 16, bytes.begin());
  } else {
    set(error, "invalid address " + quoted + ": expected an IPv4 or IPv6 address, optionally with /prefix");
    return std::nullopt;
  }
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    bool numeric = !digits.empty() && digits.size() <= 3;
    unsigned value = 0;
    for (char c : digits) {
      numeric = numeric && c >= '0' && c <= '9';
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!numeric || value > max_prefix) {
      set(error, "invalid prefix length in " + quoted + ": expected a number from 0 to " + std::to_string(max_prefix));
      return std::nullopt;
    }
    prefix = value;
  }
  Cidr cidr;
  cidr.prefix = prefix + offset;
  cidr.network = mask_prefix(bytes, cidr.prefix);
  if (cidr.network != bytes) {
    set(error, "host bits set in " + quoted + " (did you mean " + cidr.to_string() + "?)");
    return std::nullopt;
  }
  return cidr;
}

std::string Cidr::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4_mapped(network) && prefix >= kV4MappedBits) {
    inet_ntop(AF_INET, network.data() + 12, text, sizeof(text));
    return std::string(text) + "/" + std::to_string(prefix - kV4MappedBits);
  }
  inet_ntop(AF_INET6, network.data(), text, sizeof(text));
  return std::string(text) + "/" + std::to_string(prefix);
}

CidrSet::CidrSet(const std::vector<Cidr>& blocks) {
  for (const Cidr& block : blocks) {
    auto group = std::find_if(groups_.begin(), groups_.end(), [&](const Group& g) { return g.prefix == block.prefix; });
    if (group == groups_.end()) {
      groups_.push_back(Group{block.prefix, {}});
      group = groups_.end() - 1;
    }
    group->networks.push_back(block.network);
  }
  for (Group& group : groups_) {
    std::sort(group.networks.begin(), group.networks.end());
    group.networks.erase(std::unique(group.networks.begin(), group.networks.end()), group.networks.end());
  }
  std::sort(groups_.begin(), groups_.end(), [](const Group& a, const Group& b) { return a.prefix > b.prefix; });
}

std::optional<CidrSet> CidrSet::parse(const std::vector<std::string>& texts, std::string* error) {
  std::vector<Cidr> blocks;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::string why;
    auto cidr = Cidr::parse(texts[i], &why);
    if (!cidr) {
      set(error, "entry " + std::to_string(i) + ": " + why);
      return std::nullopt;
    }
    blocks.push_back(*cidr);
  }
  return CidrSet(blocks);
}

std::optional<unsigned> CidrSet::longest_match(const IpBytes& ip) const {
  for (const Group& group : groups_) {
    if (std::binary_search(group.networks.begin(), group.networks.end(), mask_prefix(ip, group.prefix))) {
      return group.prefix;
    }
  }
  return std::nullopt;
}

std::optional<AccessRules> AccessRules::parse(const std::vector<std::string>& allow, const std::vector<std::string>& deny,
                                              std::string* error) {
  std::string why;
  auto allowed = CidrSet::parse(allow, &why);
  if (!allowed) {
    set(error, "allow: " + why);
    return std::nullopt;
  }
  auto denied = CidrSet::parse(deny, &why);
  if (!denied) {
    set(error, "deny: " + why);
    return std::nullopt;
  }
  return AccessRules(std::move(*allowed), std::move(*denied));
}

std::shared_ptr<const AccessRules> AccessRules::shared(const std::vector<std::string>& allow,
                                                      const std::vector<std::string>& deny) {
  if (allow.empty() && deny.empty()) return nullptr;
  if (auto rules = parse(allow, deny)) return std::make_shared<const AccessRules>(std::move(*rules));
  return std::make_shared<const AccessRules>(CidrSet(), CidrSet({Cidr{}}));  // ::/0 denied
}

bool AccessRules::admits(const IpBytes& ip) const {
  const auto allowed = allow_.longest_match(ip);
  const auto denied = deny_.longest_match(ip);
  if (denied && (!allowed || *denied >= *allowed)) return false;
  if (allowed) return true;
  return allow_.empty();
}

}  // namespace fulcrum::net
