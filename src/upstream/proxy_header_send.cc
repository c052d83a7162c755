#include "upstream/proxy_header_send.h"

#include <sys/socket.h>

#include <array>
#include <cerrno>

#include "net/proxy_protocol.h"

namespace fulcrum::upstream {

namespace {

net::ProxyVersion version_of(PoolConfig::SendProxy mode) {
  return mode == PoolConfig::SendProxy::V1 ? net::ProxyVersion::V1 : net::ProxyVersion::V2;
}

}  // namespace

bool send_proxy_header(int fd, PoolConfig::SendProxy mode, const net::Address& client, const net::Address& destination) {
  if (mode == PoolConfig::SendProxy::Off) return true;
  std::array<char, net::kProxyEncodeMaxBytes> header{};
  const std::size_t length = net::encode_proxy_header(version_of(mode), client, destination, header);
  if (length == 0) {
    errno = EINVAL;
    return false;
  }
  ssize_t sent;
  do {
    sent = ::send(fd, header.data(), length, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return false;
  if (static_cast<std::size_t>(sent) != length) {
    // A fresh connection's empty send buffer takes 107 bytes at once; a short write would leave
    // the header cut, and the backend would read the client's bytes as its rest.
    errno = EAGAIN;
    return false;
  }
  return true;
}

std::string proxy_check_header(PoolConfig::SendProxy mode) {
  if (mode == PoolConfig::SendProxy::Off) return {};
  std::array<char, net::kProxyEncodeMaxBytes> header{};
  const std::size_t length = net::encode_proxy_local_header(version_of(mode), header);
  return std::string(header.data(), length);
}

}  // namespace fulcrum::upstream
