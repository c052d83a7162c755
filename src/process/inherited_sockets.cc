#include "process/inherited_sockets.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace fulcrum::process {

namespace {

std::string_view kind_name(SocketKind kind) {
  switch (kind) {
    case SocketKind::Listener: return "listener";
    case SocketKind::Admin: return "admin";
    case SocketKind::Registration: return "registration";
  }
  return "listener";
}

std::optional<SocketKind> kind_from(std::string_view text) {
  if (text == "listener") return SocketKind::Listener;
  if (text == "admin") return SocketKind::Admin;
  if (text == "registration") return SocketKind::Registration;
  return std::nullopt;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

bool plain(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

/// Whether `fd` is an open TCP socket in the listening state (a stale number, or one that was
/// reused for something else, must not be taken for a listener).
bool is_listening_tcp_socket(int fd) {
  int accepting = 0;
  socklen_t length = sizeof accepting;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) != 0 || accepting == 0) return false;
  int type = 0;
  length = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) return false;
  return true;
}

}  // namespace

std::string format_inherited(const std::vector<HandedSocket>& sockets) {
  std::string text;
  for (const auto& socket : sockets) {
    if (!text.empty()) text += ',';
    text += kind_name(socket.kind);
    text += ':';
    text += socket.name;
    text += ':';
    text += std::to_string(socket.index);
    text += ':';
    text += std::to_string(socket.fd);
  }
  return text;
}

std::optional<std::vector<HandedSocket>> parse_inherited(std::string_view text, std::string* error) {
  std::vector<HandedSocket> sockets;
  auto fail = [&](std::string_view item, const char* why) -> std::optional<std::vector<HandedSocket>> {
    if (error) *error = "bad item '" + std::string(item) + "': " + why;
    return std::nullopt;
  };
  if (text.empty()) return sockets;
  for (bool more = true; more;) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    more = comma != std::string_view::npos;
    text = more ? text.substr(comma + 1) : std::string_view();
    std::string_view parts[4];
    std::string_view rest = item;
    for (int i = 0; i < 3; ++i) {
      const auto colon = rest.find(':');
      if (colon == std::string_view::npos) return fail(item, "expected kind:name:index:fd");
      parts[i] = rest.substr(0, colon);
      rest = rest.substr(colon + 1);
    }
    parts[3] = rest;
    HandedSocket socket;
    auto kind = kind_from(parts[0]);
    if (!kind) return fail(item, "unknown kind");
    socket.kind = *kind;
    if (!plain(parts[1])) return fail(item, "bad name");
    socket.name = std::string(parts[1]);
    if (!parse_number(parts[2], socket.index)) return fail(item, "bad index");
    if (!parse_number(parts[3], socket.fd) || socket.fd < 0) return fail(item, "bad descriptor");
    sockets.push_back(std::move(socket));
  }
  return sockets;
}

bool address_matches(const net::Address& configured, const net::Address& bound) {
  if (configured.family() != bound.family()) return false;
  if (configured.ip_bytes() != bound.ip_bytes()) return false;
  return configured.port() == 0 || configured.port() == bound.port();
}

InheritedSockets::~InheritedSockets() { close_unused(); }

InheritedSockets InheritedSockets::from_environment(std::vector<std::string>& warnings) {
  InheritedSockets result;
  const char* value = std::getenv(kInheritedFdsVariable);
  if (value == nullptr) return result;
  const std::string text = value;
  unsetenv(kInheritedFdsVariable);
  std::string error;
  auto parsed = parse_inherited(text, &error);
  if (!parsed) {
    warnings.push_back(std::string(kInheritedFdsVariable) + " ignored: " + error);
    return result;
  }
  for (auto& socket : *parsed) {
    if (!is_listening_tcp_socket(socket.fd)) {
      warnings.push_back(std::string(kInheritedFdsVariable) + ": descriptor " + std::to_string(socket.fd) +
                         " is not a listening socket; ignored");
      continue;
    }
    fcntl(socket.fd, F_SETFD, FD_CLOEXEC);
    result.sockets_.push_back(std::move(socket));
  }
  return result;
}

InheritedSockets InheritedSockets::adopt(std::vector<HandedSocket> sockets) {
  InheritedSockets result;
  result.sockets_ = std::move(sockets);
  return result;
}

std::vector<net::UniqueFd> InheritedSockets::take_listener(const std::string& name, const net::Address& configured) {
  std::vector<HandedSocket*> found;
  for (const bool same_name : {true, false}) {
    if (!same_name && configured.port() == 0) break;  // port 0 names no particular socket
    for (auto& socket : sockets_) {
      if (socket.fd < 0 || socket.kind != SocketKind::Listener || (same_name && socket.name != name)) continue;
      if (!address_matches(configured, net::Address::local_of(socket.fd))) continue;
      found.push_back(&socket);
    }
    if (!found.empty()) break;
  }
  std::sort(found.begin(), found.end(), [](auto* a, auto* b) { return a->index < b->index; });
  std::vector<net::UniqueFd> taken;
  for (auto* socket : found) taken.emplace_back(std::exchange(socket->fd, -1));
  return taken;
}

net::UniqueFd InheritedSockets::take_single(SocketKind kind, const net::Address& configured) {
  for (auto& socket : sockets_) {
    if (socket.fd < 0 || socket.kind != kind) continue;
    if (!address_matches(configured, net::Address::local_of(socket.fd))) continue;
    return net::UniqueFd(std::exchange(socket.fd, -1));
  }
  return {};
}

std::size_t InheritedSockets::close_unused() {
  std::size_t closed = 0;
  for (auto& socket : sockets_) {
    if (socket.fd < 0) continue;
    ::close(std::exchange(socket.fd, -1));
    ++closed;
  }
  sockets_.clear();
  return closed;
}

}  // namespace fulcrum::process
