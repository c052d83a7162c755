#include "process/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace fulcrum::process {

std::string notify_service_manager(std::string_view state) {
  const char* target = std::getenv("NOTIFY_SOCKET");
  if (target == nullptr || target[0] == '\0') return {};
  const std::string_view name(target);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (name.size() >= sizeof address.sun_path) return "NOTIFY_SOCKET is too long";
  if (name.front() != '/' && name.front() != '@') return "NOTIFY_SOCKET '" + std::string(name) + "' is not a socket path";
  std::memcpy(address.sun_path, name.data(), name.size());
  // An abstract socket's name starts with a NUL byte, written '@' in the variable.
  if (name.front() == '@') address.sun_path[0] = '\0';
  const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return std::string("cannot make a socket for NOTIFY_SOCKET: ") + std::strerror(errno);
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  const int saved = errno;
  ::close(fd);
  if (sent != static_cast<ssize_t>(state.size())) {
    return "cannot notify " + std::string(name) + ": " + (sent < 0 ? std::strerror(saved) : "short write");
  }
  return {};
}

std::string monotonic_usec_assignment() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1'000;
  return "MONOTONIC_USEC=" + std::to_string(usec);
}

}  // namespace fulcrum::process
