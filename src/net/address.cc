#include "net/address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>
#include <cstring>

#include "fulcrum/config.h"

namespace fulcrum::net {

std::optional<Address> Address::parse_numeric(std::string_view text) {
  auto hp = parse_host_port(text);
  if (!hp) return std::nullopt;
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  if (inet_pton(AF_INET, hp->host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(hp->port);
    a.length_ = sizeof(sockaddr_in);
    return a;
  }
  if (inet_pton(AF_INET6, hp->host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(hp->port);
    a.length_ = sizeof(sockaddr_in6);
    return a;
  }
  return std::nullopt;
}

std::optional<Address> Address::resolve(std::string_view text, std::string* error) {
  auto hp = parse_host_port(text, error);
  if (!hp) return std::nullopt;
  if (auto numeric = parse_numeric(text)) return numeric;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(hp->port);
  int rc = getaddrinfo(hp->host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    if (error) *error = std::string("cannot resolve host '") + hp->host + "': " + gai_strerror(rc);
    return std::nullopt;
  }
  Address a;
  std::memcpy(&a.storage_, result->ai_addr, result->ai_addrlen);
  a.length_ = result->ai_addrlen;
  freeaddrinfo(result);
  return a;
}

Address Address::local_of(int fd) {
  Address a;
  a.length_ = sizeof(a.storage_);
  if (getsockname(fd, a.data(), &a.length_) != 0) a.length_ = 0;
  return a;
}

Address Address::peer_of(int fd) {
  Address a;
  a.length_ = sizeof(a.storage_);
  if (getpeername(fd, a.data(), &a.length_) != 0) a.length_ = 0;
  return a;
}

std::uint16_t Address::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

std::array<std::uint8_t, 16> Address::ip_bytes() const {
  std::array<std::uint8_t, 16> bytes{};
  if (family() == AF_INET) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    std::memcpy(&bytes[12], &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, 4);
  } else if (family() == AF_INET6) {
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, 16);
  }
  return bytes;
}

std::string Address::ip_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buffer, sizeof buffer);
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buffer, sizeof buffer);
  } else {
    return "-";
  }
  return buffer;
}

std::string Address::to_string() const {
  if (family() == AF_INET6) return "[" + ip_string() + "]:" + std::to_string(port());
  return ip_string() + ":" + std::to_string(port());
}

}  // namespace fulcrum::net
