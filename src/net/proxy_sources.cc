#include "net/proxy_sources.h"

#include <arpa/inet.h>

#include <cstring>

namespace fulcrum::net {
namespace {

std::optional<ProxySourceBlock> fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

// The block `bytes`/`bits` written back, for the "did you mean" of a block with host bits.
std::string format_block(const std::array<std::uint8_t, 16>& bytes, unsigned bits, bool v4) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? bytes.data() + 12 : bytes.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(v4 ? bits - 96 : bits);
}

}  // namespace

bool ProxySourceBlock::contains(const std::array<std::uint8_t, 16>& ip) const {
  const unsigned whole = prefix_bits / 8;
  if (std::memcmp(ip.data(), bytes.data(), whole) != 0) return false;
  const unsigned rest = prefix_bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (ip[whole] & mask) == (bytes[whole] & mask);
}

std::optional<ProxySourceBlock> parse_proxy_source(std::string_view text, std::string* error) {
  const std::string quoted = "'" + std::string(text) + "'";
  const std::size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  ProxySourceBlock block;
  bool v4 = false;
  if (address.find('\0') != std::string::npos) {
    return fail(error, "invalid CIDR: a NUL byte in the address");
  }
  if (inet_pton(AF_INET, address.c_str(), block.bytes.data() + 12) == 1) {
    v4 = true;
    block.bytes[10] = 0xFF;
    block.bytes[11] = 0xFF;
  } else if (inet_pton(AF_INET6, address.c_str(), block.bytes.data()) != 1) {
    return fail(error, "invalid CIDR " + quoted + ": expected an IP address or block (10.0.0.0/8, 2001:db8::/32)");
  }
  const unsigned max_bits = v4 ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    bool ok = !digits.empty() && digits.size() <= 3 && (digits.size() == 1 || digits[0] != '0');
    unsigned value = 0;
    for (char c : digits) {
      ok = ok && c >= '0' && c <= '9';
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!ok || value > max_bits) {
      return fail(error, "invalid CIDR " + quoted + ": the prefix length must be a number from 0 to " +
                             std::to_string(max_bits));
    }
    bits = value;
  }
  block.prefix_bits = v4 ? 96 + bits : bits;
  ProxySourceBlock network = block;
  for (unsigned bit = block.prefix_bits; bit < 128; ++bit) {
    network.bytes[bit / 8] = static_cast<std::uint8_t>(network.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
  }
  if (network.bytes != block.bytes) {
    return fail(error, "invalid CIDR " + quoted + ": bits are set past the /" + std::to_string(bits) +
                           " prefix (did you mean " + format_block(network.bytes, network.prefix_bits, v4) + "?)");
  }
  return block;
}

std::optional<ProxySources> ProxySources::parse(const std::vector<std::string>& entries, std::string* error) {
  std::vector<ProxySourceBlock> blocks;
  for (const std::string& entry : entries) {
    auto block = parse_proxy_source(entry, error);
    if (!block) return std::nullopt;
    blocks.push_back(*block);
  }
  return ProxySources(std::move(blocks));
}

bool ProxySources::contains(const Address& peer) const {
  if (peer.family() != AF_INET && peer.family() != AF_INET6) return false;
  const std::array<std::uint8_t, 16> ip = peer.ip_bytes();
  for (const ProxySourceBlock& block : blocks_) {
    if (block.contains(ip)) return true;
  }
  return false;
}

}  // namespace fulcrum::net
