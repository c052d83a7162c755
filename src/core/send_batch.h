// Gathers the sends of one event-loop turn and issues them together, in one io_uring_enter.
//
// Why: a proxy that shares a CPU with the processes it talks to (backends on the same host,
// sidecars, every loopback benchmark) is preempted at the return of each send that wakes a
// sleeping peer. With one sendmsg per send, proxy and backend then take turns per request, and
// each turn is two context switches. Issued together, the turn's sends wake each peer once; the
// peer then serves every request it got in one go, and so does the proxy with the answers.
//
// Each send is submitted with MSG_DONTWAIT, so io_uring runs it inline, in queue order, during the
// submit, and never parks it to retry later: a full socket buffer comes back as -EAGAIN, exactly as
// from a nonblocking sendmsg. Hence everything queued has been executed, and every completion
// delivered, when flush() returns; the caller's buffers only need to live until then.
//
// Owned by one event loop (EventLoop::send_batch()); not thread-safe.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

namespace fulcrum::core {

class SendBatch {
 public:
  /// Receives the outcome of one queued send, during flush().
  class Completion {
   public:
    /// `result`: bytes sent (possibly fewer than queued), or -errno (-EAGAIN: socket buffer full).
    virtual void on_sent(int result) = 0;

   protected:
    ~Completion() = default;
  };
  using Ticket = std::uint32_t;

  /// A batch over a ring of `entries` submission slots, or null when the kernel refuses io_uring
  /// (too old, disabled by sysctl kernel.io_uring_disabled, blocked by a seccomp filter).
  static std::unique_ptr<SendBatch> create(unsigned entries = 256);
  ~SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  /// Queues sendmsg(fd, parts, MSG_NOSIGNAL). `parts` (at most 2) and the bytes they point to must
  /// stay untouched until `completion` is called. When the ring is full the queued sends are
  /// submitted at once; their completions still wait for flush().
  Ticket queue(int fd, std::span<const iovec> parts, Completion& completion);
  /// Forgets the completion of `ticket` (its owner is going away). A send not yet submitted is
  /// dropped; one already submitted has been executed, only its completion is not delivered.
  void cancel(Ticket ticket);
  /// Sends queued and not yet completed.
  bool idle() const { return outstanding_ == 0; }
  /// Submits what is queued and delivers every completion. Completions may queue more sends; those
  /// are issued in the same flush.
  void flush();

 private:
  struct Ring;
  struct Slot {
    Completion* completion = nullptr;
    msghdr message{};
    iovec parts[2]{};
    void* sqe = nullptr;  // the submission entry while not yet submitted, so cancel() can void it
    std::uint32_t next_free = 0;
  };
  explicit SendBatch(std::unique_ptr<Ring> ring);
  Ticket take_slot();
  void submit();
  /// Moves what the completion ring holds into completed_.
  void take_completions();

  std::unique_ptr<Ring> ring_;
  std::deque<Slot> slots_;  // a deque: queued entries point into their slot, which must not move
  std::uint32_t free_head_;  // a free list threaded through the slots; kNoSlot when empty
  std::uint32_t outstanding_ = 0;
  std::vector<Ticket> queued_;  // tickets whose entries are not yet submitted
  std::vector<std::pair<Ticket, int>> completed_;   // results taken from the ring, not yet delivered
  std::vector<std::pair<Ticket, int>> delivering_;  // the ones flush() is delivering now
};

}  // namespace fulcrum::core
