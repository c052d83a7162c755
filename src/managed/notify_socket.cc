#include "managed/notify_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace fulcrum::managed {

bool says_ready(std::string_view text) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    if (line == "READY=1") return true;
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return false;
}

NotifySocket::NotifySocket(core::EventLoop& loop, std::uint64_t id, Ready ready)
    : loop_(loop), ready_(std::move(ready)) {
  net::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  // A random part: a name another process could guess is one it could squat on first.
  std::random_device random;
  const std::string path = "fulcrum/" + std::to_string(::getpid()) + "/" + std::to_string(id) + "/" +
                           std::to_string(random()) + std::to_string(random());
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  address.sun_path[0] = '\0';
  std::memcpy(address.sun_path + 1, path.data(), path.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path.size());
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    error_ = std::string("bind: ") + std::strerror(errno);
    return;
  }
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
  if (!loop_.add(fd.get(), EPOLLIN, this)) {
    error_ = std::string("epoll: ") + std::strerror(errno);
    return;
  }
  name_ = "@" + path;
  fd_ = std::move(fd);
}

NotifySocket::~NotifySocket() {
  if (fd_) loop_.remove(fd_.get());
}

void NotifySocket::on_io(std::uint32_t) {
  if (!fd_) return;
  // A bounded number of datagrams per wake-up: an instance flooding its socket cannot hold the
  // control thread.
  for (int i = 0; i < 16; ++i) {
    char text[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec vector{text, sizeof text};
    msghdr message{};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t received = ::recvmsg(fd_.get(), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (received < 0) return;  // EAGAIN: all read
    pid_t sender = -1;
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_CREDENTIALS) {
        ucred credentials;
        std::memcpy(&credentials, CMSG_DATA(header), sizeof credentials);
        sender = credentials.pid;
      } else if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
        // File descriptors (systemd's FDSTORE=1) are not kept: close what was passed.
        const auto count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t k = 0; k < count; ++k) {
          int passed;
          std::memcpy(&passed, CMSG_DATA(header) + k * sizeof(int), sizeof passed);
          ::close(passed);
        }
      }
    }
    if (pgid_ <= 0 || sender <= 0) continue;
    if (sender != pgid_ && ::getpgid(sender) != pgid_) continue;  // not the instance's
    if (says_ready(std::string_view(text, static_cast<std::size_t>(received)))) ready_();
    if (!fd_) return;  // ready_() may have closed it
  }
}

}  // namespace fulcrum::managed
