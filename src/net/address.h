// Socket addresses: parsing `host:port` / `[v6]:port` text, resolving it, printing it back.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fulcrum::net {

/// `host:port` split into its parts; host keeps no brackets. Pure text, nothing is resolved.
/// An IPv4 or IPv6 socket address.
class Address {
 public:
  Address() = default;

  /// Parses a numeric address (`127.0.0.1:80`, `[::1]:80`) without any lookup.
  static std::optional<Address> parse_numeric(std::string_view text);
  /// Resolves `host:port` with getaddrinfo (blocking: call at start or from the control thread).
  /// Prefers the first address the resolver returns. `error` says why it failed.
  static std::optional<Address> resolve(std::string_view text, std::string* error = nullptr);
  /// The local or peer address of a socket.
  static Address local_of(int fd);
  static Address peer_of(int fd);

  const sockaddr* data() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* data() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const { return length_; }
  socklen_t* size_ptr() { return &length_; }
  int family() const { return storage_.ss_family; }
  std::uint16_t port() const;

  /// The IP as 16 bytes (IPv4 mapped into ::ffff:0:0/96): the client key of sticky tables and
  /// source hashing, equal for a client whether it arrived over v4 or v4-mapped v6.
  std::array<std::uint8_t, 16> ip_bytes() const;

  /// `1.2.3.4:80` or `[::1]:80`.
  std::string to_string() const;
  /// The IP alone, without port or brackets.
  std::string ip_string() const;

  /// The same IP (a v4-mapped v6 address equals its v4 form) and port.
  bool operator==(const Address& other) const { return port() == other.port() && ip_bytes() == other.ip_bytes(); }

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

}  // namespace fulcrum::net
