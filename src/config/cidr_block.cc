#include "config/cidr_block.h"

#include <arpa/inet.h>

#include <algorithm>

namespace fulcrum::config {

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

std::optional<CidrBlock> CidrBlock::parse(std::string_view text, std::string* error) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) {
    set(error, "empty: expected an address or a block like 10.0.0.0/8 or 2001:db8::/32");
    return std::nullopt;
  }
  if (text.find('\0') != std::string_view::npos) {
    // inet_pton would read only up to it: `10.0.0.1\0junk` must not pass as 10.0.0.1.
    set(error, "invalid address: a NUL byte in " + quoted);
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
  CidrBlock cidr;
  cidr.prefix = prefix + offset;
  cidr.network = mask_prefix(bytes, cidr.prefix);
  if (cidr.network != bytes) {
    set(error, "host bits set in " + quoted + " (did you mean " + cidr.to_string() + "?)");
    return std::nullopt;
  }
  return cidr;
}

std::string CidrBlock::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4_mapped(network) && prefix >= kV4MappedBits) {
    inet_ntop(AF_INET, network.data() + 12, text, sizeof(text));
    return std::string(text) + "/" + std::to_string(prefix - kV4MappedBits);
  }
  inet_ntop(AF_INET6, network.data(), text, sizeof(text));
  return std::string(text) + "/" + std::to_string(prefix);
}

}  // namespace fulcrum::config
