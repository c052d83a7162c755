// Thin helpers over socket syscalls: an owning file descriptor and the few set-ups every socket
// of the data path needs (non-blocking, close-on-exec, TCP_NODELAY).
#pragma once

#include <unistd.h>

#include <string>
#include <utility>

#include "net/address.h"

namespace fulcrum::net {

/// Owns a file descriptor and closes it. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Result of starting a non-blocking connect.
enum class ConnectStart { InProgress, Connected, Failed };

/// A non-blocking, close-on-exec TCP socket of `family`, with TCP_NODELAY; invalid on error.
UniqueFd make_tcp_socket(int family);

/// Starts a non-blocking connect of `fd` to `to`; on Failed, errno says why.
ConnectStart start_connect(int fd, const Address& to);

/// The pending error of a socket (SO_ERROR), 0 if none.
int socket_error(int fd);

/// True for an errno that says this process or host ran out of something (descriptors, kernel
/// memory, ephemeral ports), not that the peer failed: such a failure must never count against a
/// backend, and retrying at once only spins.
bool is_local_resource_error(int error);

/// Makes the next close() of `fd` send RST instead of FIN (SO_LINGER 0), so that the peer learns
/// the other side failed rather than mistaking a cut stream for a complete one.
void set_abortive_close(int fd);

/// Binds a listening socket to `address` with SO_REUSEADDR and SO_REUSEPORT (so that each worker
/// can own a socket on the same port) and listens. Returns an invalid fd with `error` set.
UniqueFd bind_listener(const Address& address, int backlog, std::string* error);

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
long raise_fd_limit();

}  // namespace fulcrum::net
