// The datagram socket of one managed instance with `ready: notify` (systemd's notify protocol,
// sd_notify(3)): the instance finds its name in NOTIFY_SOCKET and sends `READY=1` (among other
// assignments, one per line) once it serves.
//
// The socket lives in the abstract namespace (`@fulcrum/<pid>/<instance>/<random>`): no file to
// create, clean up or protect. Any local process could send to it, so only a sender of the
// instance's own process group counts (SO_PASSCRED gives its pid, as systemd's NotifyAccess=all
// within a unit); datagrams of others are dropped.
//
// Owned by its instance on the control thread; registered with the control loop.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "core/event_loop.h"
#include "net/socket.h"

namespace fulcrum::managed {

class NotifySocket final : public core::IoHandler {
 public:
  /// Called on the loop thread for each datagram that says READY=1.
  using Ready = std::function<void()>;

  /// Binds a fresh socket for instance `id` and registers it with `loop`; check ok().
  NotifySocket(core::EventLoop& loop, std::uint64_t id, Ready ready);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool ok() const { return static_cast<bool>(fd_); }
  const std::string& error() const { return error_; }
  /// The value of NOTIFY_SOCKET (`@` standing for the abstract namespace's leading NUL).
  const std::string& name() const { return name_; }
  /// Only datagrams from processes of group `pgid` count (set once the instance started).
  void accept_group(pid_t pgid) { pgid_ = pgid; }

  void on_io(std::uint32_t events) override;

 private:
  core::EventLoop& loop_;
  Ready ready_;
  net::UniqueFd fd_;
  std::string name_;
  std::string error_;
  pid_t pgid_ = -1;
};

/// Whether a notify datagram's `text` (newline-separated assignments) holds `READY=1`.
bool says_ready(std::string_view text);

}  // namespace fulcrum::managed
