#include "net/proxy_protocol.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace fulcrum::net {
namespace {

constexpr std::string_view kV1Signature = "PROXY ";
// "\r\n\r\n\0\r\nQUIT\n": chosen by the specification so that no text protocol starts with it.
constexpr std::array<unsigned char, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                        0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr unsigned char kV2Version = 0x2;
constexpr unsigned char kV2CommandLocal = 0x0;
constexpr unsigned char kV2CommandProxy = 0x1;
constexpr unsigned char kV2FamilyUnspec = 0x00;
constexpr unsigned char kV2FamilyTcp4 = 0x11;  // AF_INET, STREAM
constexpr unsigned char kV2FamilyTcp6 = 0x21;  // AF_INET6, STREAM
constexpr std::size_t kV2Tcp4AddressBytes = 12;
constexpr std::size_t kV2Tcp6AddressBytes = 36;
constexpr std::size_t kV2TlvHeaderBytes = 3;

ProxyParse invalid(std::string_view reason) {
  ProxyParse result;
  result.status = ProxyStatus::Invalid;
  result.reason = reason;
  return result;
}

ProxyParse done(ProxyVersion version, std::size_t length) {
  ProxyParse result;
  result.status = ProxyStatus::Done;
  result.version = version;
  result.length = length;
  result.local = true;
  return result;
}

ProxyParse done_with(ProxyVersion version, std::size_t length, const Address& source, const Address& destination) {
  ProxyParse result = done(version, length);
  result.local = false;
  result.source = source;
  result.destination = destination;
  return result;
}

Address make_v4(const unsigned char* ip, std::uint16_t port) {
  Address address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(address.data());
  v4->sin_family = AF_INET;
  v4->sin_port = htons(port);
  std::memcpy(&v4->sin_addr, ip, 4);
  *address.size_ptr() = sizeof(sockaddr_in);
  return address;
}

Address make_v6(const unsigned char* ip, std::uint16_t port) {
  Address address;
  auto* v6 = reinterpret_cast<sockaddr_in6*>(address.data());
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(port);
  std::memcpy(&v6->sin6_addr, ip, 16);
  *address.size_ptr() = sizeof(sockaddr_in6);
  return address;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number of 1 to `max_digits` digits, no sign and no leading zero ("0" itself is fine),
// at most `max_value`. Strict, so that two readers of the same header never disagree.
bool parse_decimal(std::string_view text, std::size_t max_digits, unsigned max_value, unsigned* value) {
  if (text.empty() || text.size() > max_digits) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  unsigned result = 0;
  for (char c : text) {
    if (!is_digit(c)) return false;
    result = result * 10 + static_cast<unsigned>(c - '0');
  }
  if (result > max_value) return false;
  *value = result;
  return true;
}

// Dotted quad, four decimal octets without leading zeros (inet_pton's rules, without needing a
// NUL-terminated copy).
bool parse_ipv4(std::string_view text, unsigned char* ip) {
  for (int octet = 0; octet < 4; ++octet) {
    const std::size_t dot = octet < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return false;
    unsigned value = 0;
    if (!parse_decimal(text.substr(0, dot), 3, 255, &value)) return false;
    ip[octet] = static_cast<unsigned char>(value);
    text.remove_prefix(octet < 3 ? dot + 1 : dot);
  }
  return true;
}

// IPv6 text as inet_pton reads it (also the ::ffff:a.b.c.d form); copied to a NUL-terminated stack
// buffer first, so nothing past `text` is ever read.
bool parse_ipv6(std::string_view text, unsigned char* ip) {
  char copy[INET6_ADDRSTRLEN] = {};
  if (text.empty() || text.size() >= sizeof copy) return false;
  for (char c : text) {
    const bool hex = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.') return false;
  }
  std::memcpy(copy, text.data(), text.size());
  return inet_pton(AF_INET6, copy, ip) == 1;
}

// The fields of a complete v1 line after "PROXY " and before its CRLF.
ProxyParse parse_v1_line(std::string_view line, std::size_t length) {
  const std::string_view protocol = line.substr(0, line.find(' '));
  if (protocol == "UNKNOWN") return done(ProxyVersion::V1, length);  // the rest of the line is ignored
  const bool tcp4 = protocol == "TCP4";
  const bool tcp6 = protocol == "TCP6";
  if (!tcp4 && !tcp6) return invalid("v1: unknown protocol (expected TCP4, TCP6 or UNKNOWN)");
  line.remove_prefix(std::min(line.size(), protocol.size() + 1));

  // Exactly four fields, each separated by exactly one space.
  std::array<std::string_view, 4> fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::size_t space = i < 3 ? line.find(' ') : line.size();
    if (space == std::string_view::npos) return invalid("v1: fewer than four fields after the protocol");
    fields[i] = line.substr(0, space);
    if (fields[i].empty()) return invalid("v1: empty field (two spaces in a row, or a trailing space)");
    line.remove_prefix(i < 3 ? space + 1 : space);
  }
  if (fields[3].find(' ') != std::string_view::npos) return invalid("v1: more than four fields after the protocol");

  unsigned char source_ip[16] = {};
  unsigned char destination_ip[16] = {};
  for (int which = 0; which < 2; ++which) {
    const std::string_view text = fields[which];
    unsigned char* ip = which == 0 ? source_ip : destination_ip;
    const bool ok = tcp4 ? parse_ipv4(text, ip) : parse_ipv6(text, ip);
    if (ok) continue;
    // Say so when the address is of the other family: a sender bug worth a precise log line.
    unsigned char scratch[16];
    if (tcp4 ? parse_ipv6(text, scratch) : parse_ipv4(text, scratch)) {
      return invalid(tcp4 ? "v1: IPv6 address in a TCP4 line" : "v1: IPv4 address in a TCP6 line");
    }
    return invalid(which == 0 ? "v1: malformed source address" : "v1: malformed destination address");
  }
  unsigned source_port = 0;
  unsigned destination_port = 0;
  if (!parse_decimal(fields[2], 5, 65535, &source_port)) return invalid("v1: malformed source port");
  if (!parse_decimal(fields[3], 5, 65535, &destination_port)) return invalid("v1: malformed destination port");

  const auto sport = static_cast<std::uint16_t>(source_port);
  const auto dport = static_cast<std::uint16_t>(destination_port);
  if (tcp4) return done_with(ProxyVersion::V1, length, make_v4(source_ip, sport), make_v4(destination_ip, dport));
  return done_with(ProxyVersion::V1, length, make_v6(source_ip, sport), make_v6(destination_ip, dport));
}

// Each check below depends only on the bytes up to the one it looks at, and they run in byte
// order: that is what makes the verdict independent of how the input was split.
ProxyParse parse_v1(std::string_view buffered) {
  const std::size_t window = std::min(buffered.size(), kProxyV1MaxBytes);
  for (std::size_t i = 0; i < window; ++i) {
    const char c = buffered[i];
    if (i < kV1Signature.size() && c != kV1Signature[i]) return invalid("v1: bad signature (expected \"PROXY \")");
    if (i > 0 && buffered[i - 1] == '\r' && c != '\n') return invalid("v1: CR not followed by LF");
    if (c == '\n') {
      if (i == 0 || buffered[i - 1] != '\r') return invalid("v1: LF without CR");
      return parse_v1_line(buffered.substr(kV1Signature.size(), i - 1 - kV1Signature.size()), i + 1);
    }
  }
  if (buffered.size() >= kProxyV1MaxBytes) return invalid("v1: no CRLF within 107 bytes");
  return ProxyParse{};
}

ProxyParse parse_v2(std::string_view buffered, const ProxyLimits& limits) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(buffered.data());
  const std::size_t size = buffered.size();
  for (std::size_t i = 0; i < std::min(size, kV2Signature.size()); ++i) {
    if (bytes[i] != kV2Signature[i]) return invalid("v2: bad signature");
  }
  if (size <= 12) return ProxyParse{};
  const unsigned version = bytes[12] >> 4;
  const unsigned command = bytes[12] & 0x0F;
  if (version != kV2Version) return invalid("v2: unsupported version (expected 2)");
  if (command != kV2CommandLocal && command != kV2CommandProxy) return invalid("v2: unknown command");
  if (size <= 13) return ProxyParse{};
  // LOCAL: the specification has the receiver ignore the family and everything after it.
  const unsigned char family = command == kV2CommandProxy ? bytes[13] : kV2FamilyUnspec;
  if (family != kV2FamilyUnspec && family != kV2FamilyTcp4 && family != kV2FamilyTcp6) {
    const unsigned address_family = family >> 4;
    if (address_family == 1 || address_family == 2) return invalid("v2: transport is not STREAM");
    if (address_family == 3) return invalid("v2: UNIX addresses are not supported");
    return invalid("v2: unknown address family");
  }
  if (size < kProxyV2FixedBytes) return ProxyParse{};
  const std::size_t block = (std::size_t{bytes[14]} << 8) | bytes[15];
  const std::size_t length = kProxyV2FixedBytes + block;
  if (length > limits.max_v2_bytes) return invalid("v2: header longer than the limit");
  const std::size_t address_bytes = family == kV2FamilyTcp4   ? kV2Tcp4AddressBytes
                                    : family == kV2FamilyTcp6 ? kV2Tcp6AddressBytes
                                                              : 0;
  if (block < address_bytes) return invalid("v2: address block shorter than its family needs");
  if (size < length) return ProxyParse{};

  if (family == kV2FamilyUnspec) return done(ProxyVersion::V2, length);
  // TLVs (type, 16-bit length, value) follow the addresses. Their contents are skipped, but their
  // framing must fill the block exactly, as HAProxy also insists.
  for (std::size_t at = kProxyV2FixedBytes + address_bytes; at < length;) {
    if (length - at < kV2TlvHeaderBytes) return invalid("v2: truncated TLV");
    const std::size_t value = (std::size_t{bytes[at + 1]} << 8) | bytes[at + 2];
    if (length - at - kV2TlvHeaderBytes < value) return invalid("v2: TLV longer than the header");
    at += kV2TlvHeaderBytes + value;
  }
  const unsigned char* block_start = bytes + kProxyV2FixedBytes;
  const std::size_t ip = family == kV2FamilyTcp4 ? 4 : 16;
  const unsigned char* ports = block_start + 2 * ip;
  const auto source_port = static_cast<std::uint16_t>((ports[0] << 8) | ports[1]);
  const auto destination_port = static_cast<std::uint16_t>((ports[2] << 8) | ports[3]);
  if (family == kV2FamilyTcp4) {
    return done_with(ProxyVersion::V2, length, make_v4(block_start, source_port),
                     make_v4(block_start + ip, destination_port));
  }
  return done_with(ProxyVersion::V2, length, make_v6(block_start, source_port),
                   make_v6(block_start + ip, destination_port));
}

// A bounded writer into a fixed scratch buffer.
class Writer {
 public:
  void put(std::string_view text) {
    if (text.size() > scratch_.size() - size_) {
      overflow_ = true;
      return;
    }
    std::memcpy(scratch_.data() + size_, text.data(), text.size());
    size_ += text.size();
  }
  void put_byte(unsigned char byte) { put(std::string_view(reinterpret_cast<const char*>(&byte), 1)); }
  void put_u16(std::uint16_t value) {
    put_byte(static_cast<unsigned char>(value >> 8));
    put_byte(static_cast<unsigned char>(value & 0xFF));
  }
  void put_decimal(unsigned value) {
    char digits[10];
    std::size_t count = 0;
    do {
      digits[sizeof digits - 1 - count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    put(std::string_view(digits + sizeof digits - count, count));
  }
  // Copies the header to `out`, or returns 0 when it does not fit (or did not fit the scratch).
  std::size_t finish(std::span<char> out) const {
    if (overflow_ || size_ > out.size()) return 0;
    std::memcpy(out.data(), scratch_.data(), size_);
    return size_;
  }

 private:
  std::array<char, kProxyEncodeMaxBytes> scratch_{};
  std::size_t size_ = 0;
  bool overflow_ = false;
};

bool is_ip(const Address& address) { return address.family() == AF_INET || address.family() == AF_INET6; }

const unsigned char* ipv4_of(const Address& address) {
  return reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in*>(address.data())->sin_addr);
}

void put_v1_ip(Writer& writer, int family, const std::array<std::uint8_t, 16>& ip16) {
  char text[INET6_ADDRSTRLEN] = {};
  const void* ip = family == AF_INET ? static_cast<const void*>(ip16.data() + 12) : ip16.data();
  if (inet_ntop(family, ip, text, sizeof text) == nullptr) text[0] = '\0';
  writer.put(text);
}

}  // namespace

ProxyParse parse_proxy_header(std::string_view buffered, const ProxyLimits& limits) {
  if (buffered.empty()) return ProxyParse{};
  if (buffered[0] == kV1Signature[0]) return parse_v1(buffered);
  if (static_cast<unsigned char>(buffered[0]) == kV2Signature[0]) return parse_v2(buffered, limits);
  return invalid("not a PROXY protocol header");
}

std::size_t encode_proxy_header(ProxyVersion version, const Address& source, const Address& destination,
                                std::span<char> out) {
  if (!is_ip(source) || !is_ip(destination)) {
    if (version == ProxyVersion::V1) return encode_proxy_local_header(version, out);
    Writer writer;
    writer.put(std::string_view(reinterpret_cast<const char*>(kV2Signature.data()), kV2Signature.size()));
    writer.put_byte((kV2Version << 4) | kV2CommandProxy);
    writer.put_byte(kV2FamilyUnspec);
    writer.put_u16(0);
    return writer.finish(out);
  }
  // Mixed families are sent as IPv6, the IPv4 side mapped (ip_bytes() maps it already).
  const int family = source.family() == AF_INET && destination.family() == AF_INET ? AF_INET : AF_INET6;
  const std::array<std::uint8_t, 16> source_ip = source.ip_bytes();
  const std::array<std::uint8_t, 16> destination_ip = destination.ip_bytes();
  Writer writer;
  if (version == ProxyVersion::V1) {
    writer.put(family == AF_INET ? "PROXY TCP4 " : "PROXY TCP6 ");
    put_v1_ip(writer, family, source_ip);
    writer.put(" ");
    put_v1_ip(writer, family, destination_ip);
    writer.put(" ");
    writer.put_decimal(source.port());
    writer.put(" ");
    writer.put_decimal(destination.port());
    writer.put("\r\n");
    return writer.finish(out);
  }
  writer.put(std::string_view(reinterpret_cast<const char*>(kV2Signature.data()), kV2Signature.size()));
  writer.put_byte((kV2Version << 4) | kV2CommandProxy);
  if (family == AF_INET) {
    writer.put_byte(kV2FamilyTcp4);
    writer.put_u16(kV2Tcp4AddressBytes);
    writer.put(std::string_view(reinterpret_cast<const char*>(ipv4_of(source)), 4));
    writer.put(std::string_view(reinterpret_cast<const char*>(ipv4_of(destination)), 4));
  } else {
    writer.put_byte(kV2FamilyTcp6);
    writer.put_u16(kV2Tcp6AddressBytes);
    writer.put(std::string_view(reinterpret_cast<const char*>(source_ip.data()), 16));
    writer.put(std::string_view(reinterpret_cast<const char*>(destination_ip.data()), 16));
  }
  writer.put_u16(source.port());
  writer.put_u16(destination.port());
  return writer.finish(out);
}

std::size_t encode_proxy_local_header(ProxyVersion version, std::span<char> out) {
  Writer writer;
  if (version == ProxyVersion::V1) {
    writer.put("PROXY UNKNOWN\r\n");
    return writer.finish(out);
  }
  writer.put(std::string_view(reinterpret_cast<const char*>(kV2Signature.data()), kV2Signature.size()));
  writer.put_byte((kV2Version << 4) | kV2CommandLocal);
  writer.put_byte(kV2FamilyUnspec);
  writer.put_u16(0);
  return writer.finish(out);
}

}  // namespace fulcrum::net
