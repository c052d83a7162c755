// One socket of an HTTP session (the client's, or the backend connection's): its readiness as
// edge-triggered epoll reported it, when it last moved bytes, and its one send queued on the
// loop's SendBatch (core/send_batch.h). Plain state and the two syscalls; the part of the session
// that owns the socket (ClientSide, UpstreamExchange) counts bytes around them.
//
// Readiness is tracked per socket: a read that returns less than it asked for means the socket is
// drained, so no syscall is spent on an EAGAIN. Confined to the session's loop thread.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <string_view>

#include "core/buffer.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "core/send_batch.h"

namespace fulcrum::http {

class HttpSession;

enum class Io : std::uint8_t { Progress, Blocked, Eof, Error };

/// How a session ends: a graceful close, or an abortive one (RST) when the stream cannot be trusted.
enum class Ending : std::uint8_t { Graceful, Abort };

/// The events a session's sockets are registered for (edge-triggered).
inline constexpr std::uint32_t kSocketEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

/// Where a send comes from; the socket follows from it. A queued send's result is handed only to
/// the site that queued it (another site may come first when the session is driven again).
enum class SendSite : std::uint8_t { RequestHead, RequestBody, TunnelToBackend, ResponseHead, ClientOut, TunnelToClient };

/// The sends a session has in flight over both its sockets, and who to drive when one completes.
/// While one is in flight the session does no I/O at all (events only set flags, reads and sends
/// report Blocked), so its state stands still; when the result comes, the session is driven
/// again, reaches the same send, and send_parts() hands it the result instead of sending.
class SendGate {
 public:
  explicit SendGate(HttpSession& session) : session_(session) {}
  bool sending() const { return in_flight_ != 0; }

 private:
  friend class SessionSocket;
  HttpSession& session_;
  std::uint8_t in_flight_ = 0;  // 0, 1 or 2: at most one send per socket
};

class SessionSocket {
 public:
  /// `ready`: a socket accepted with its request already in (assumed readable and writable until
  /// a short read or send says otherwise).
  SessionSocket(SendGate& gate, bool ready) : readable(ready), writable(ready) { queued_.gate = &gate; }
  SessionSocket(const SessionSocket&) = delete;
  SessionSocket& operator=(const SessionSocket&) = delete;

  /// Records what an epoll event says (edge-triggered: it will not be said again).
  void note_events(std::uint32_t events);
  /// A socket that starts afresh: a new connection, or one taken from the keep-alive pool.
  void restart(bool can_read, bool can_write, core::TimePoint now) {
    readable = can_read;
    writable = can_write;
    eof = false;
    closing = false;
    activity = now;
  }

  /// One recv into `buffer` (attached from `buffers` when it has no block); `got` the bytes read.
  Io read(int fd, core::Buffer& buffer, core::BufferPool& buffers, core::EventLoop& loop, std::size_t& got);
  /// Sends `first` then `second` (either may be empty) in one syscall, or queues them on the
  /// loop's SendBatch and returns Blocked until the session is driven again. `sent` on Progress.
  Io send_parts(int fd, SendSite site, std::string_view first, std::string_view second, core::EventLoop& loop,
                std::size_t& sent);

  /// A send of this socket is queued on the loop and its result not yet back.
  bool in_flight() const { return queued_.in_flight; }
  /// A queued send's result is waiting for its site to be reached again.
  bool result_waiting() const { return queued_.done; }
  void forget_result() { queued_.done = false; }
  /// Forgets a queued send and its result, before the socket closes: the fd number could be
  /// reused by the next accept or connect of this turn, and the bytes must not land there.
  void drop_queued_send(core::EventLoop& loop);

  bool readable;
  bool writable;
  bool eof = false;
  bool closing = false;  // EPOLLRDHUP seen: read on until the FIN, short reads or not
  core::TimePoint activity{};

 private:
  struct QueuedSend final : core::SendBatch::Completion {
    SendGate* gate = nullptr;
    core::SendBatch::Ticket ticket = 0;
    SendSite site = SendSite::ClientOut;
    const char* data = nullptr;  // what was queued, to check the replay is the same send
    std::size_t size = 0;
    bool in_flight = false;
    bool done = false;  // `result` is waiting for the send to be reached again
    int result = 0;
    void on_sent(int sent_or_error) override;
  };
  QueuedSend queued_;
};

}  // namespace fulcrum::http
