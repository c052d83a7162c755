#include "core/send_batch.h"

#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fulcrum::core {

namespace {
constexpr std::uint32_t kNoSlot = UINT32_MAX;
}  // namespace

struct SendBatch::Ring {
  io_uring ring{};
  ~Ring() { io_uring_queue_exit(&ring); }
};

std::unique_ptr<SendBatch> SendBatch::create(unsigned entries) {
  auto ring = std::make_unique<Ring>();
  if (io_uring_queue_init(entries, &ring->ring, 0) < 0) return nullptr;
  // Without NODROP a burst of completions beyond the completion ring would be lost.
  if (!(ring->ring.features & IORING_FEAT_NODROP)) return nullptr;
  return std::unique_ptr<SendBatch>(new SendBatch(std::move(ring)));
}

SendBatch::SendBatch(std::unique_ptr<Ring> ring) : ring_(std::move(ring)), free_head_(kNoSlot) {}

SendBatch::~SendBatch() = default;

SendBatch::Ticket SendBatch::take_slot() {
  if (free_head_ == kNoSlot) {
    slots_.emplace_back();
    return static_cast<Ticket>(slots_.size() - 1);
  }
  const Ticket ticket = free_head_;
  free_head_ = slots_[ticket].next_free;
  return ticket;
}

SendBatch::Ticket SendBatch::queue(int fd, std::span<const iovec> parts, Completion& completion) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);
  if (!sqe) {
    submit();
    sqe = io_uring_get_sqe(&ring_->ring);
  }
  const Ticket ticket = take_slot();
  Slot& slot = slots_[ticket];
  slot.completion = &completion;
  slot.message = msghdr{};
  for (std::size_t i = 0; i < parts.size() && i < 2; ++i) slot.parts[i] = parts[i];
  slot.message.msg_iov = slot.parts;
  slot.message.msg_iovlen = parts.size() < 2 ? parts.size() : 2;
  slot.sqe = sqe;
  // MSG_DONTWAIT: io_uring reports a full socket buffer as -EAGAIN instead of arming a poll and
  // sending later, which would let a later send on the same socket overtake this one.
  constexpr int kFlags = MSG_NOSIGNAL | MSG_DONTWAIT;
  if (slot.message.msg_iovlen == 1) {
    // One part: a plain send, which spares the kernel copying in a msghdr and an iovec array.
    io_uring_prep_send(sqe, fd, slot.parts[0].iov_base, slot.parts[0].iov_len, kFlags);
  } else {
    io_uring_prep_sendmsg(sqe, fd, &slot.message, kFlags);
  }
  io_uring_sqe_set_data64(sqe, ticket);
  queued_.push_back(ticket);
  ++outstanding_;
  return ticket;
}

void SendBatch::cancel(Ticket ticket) {
  Slot& slot = slots_[ticket];
  slot.completion = nullptr;
  // Still in the submission ring (only submit() hands entries to the kernel): make it a no-op so
  // the kernel never reads a buffer its owner is about to free.
  if (auto* sqe = static_cast<io_uring_sqe*>(slot.sqe)) {
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, ticket);
  }
}

void SendBatch::take_completions() {
  io_uring_cqe* cqe = nullptr;
  unsigned head;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring_->ring, head, cqe) {
    completed_.emplace_back(static_cast<Ticket>(io_uring_cqe_get_data64(cqe)), cqe->res);
    ++seen;
  }
  io_uring_cq_advance(&ring_->ring, seen);
}

void SendBatch::submit() {
  for (Ticket ticket : queued_) slots_[ticket].sqe = nullptr;
  queued_.clear();
  int submitted;
  for (;;) {
    submitted = io_uring_submit(&ring_->ring);
    if (submitted == -EINTR) continue;
    // Older kernels refuse to submit while completions overflow the ring: take them, try again.
    if (submitted == -EBUSY && io_uring_cq_ready(&ring_->ring) > 0) {
      take_completions();
      continue;
    }
    break;
  }
  // Keep the completion ring empty between flushes, so a turn with more sends than it holds
  // never overflows it.
  take_completions();
  if (submitted < 0) {
    // The entries are already built; a failing io_uring_enter here means a broken ring, not a
    // transient condition: there is no way to hand the sends back to the callers safely.
    std::fprintf(stderr, "fulcrum: io_uring_submit: %s\n", std::strerror(-submitted));
    std::abort();
  }
}

void SendBatch::flush() {
  while (outstanding_ > 0) {
    if (!queued_.empty()) {
      submit();  // takes the completions too
    } else {
      take_completions();
    }
    if (completed_.empty()) {
      // Completions beyond the completion ring's size would wait in the kernel's overflow list;
      // waiting brings them in. Every send has run already (MSG_DONTWAIT), so this does not block.
      io_uring_cqe* cqe = nullptr;
      io_uring_wait_cqe(&ring_->ring, &cqe);
      continue;
    }
    // Delivered from a copy: a completion may queue more sends, and a submit then adds to
    // completed_. Slots are freed only as their completion is delivered, so a completion that
    // cancels another ticket of this batch finds it still allocated.
    delivering_.swap(completed_);
    completed_.clear();
    for (auto [ticket, result] : delivering_) {
      Slot& slot = slots_[ticket];
      Completion* completion = slot.completion;
      slot.completion = nullptr;
      slot.next_free = free_head_;
      free_head_ = ticket;
      --outstanding_;
      if (completion) completion->on_sent(result);
    }
  }
}

}  // namespace fulcrum::core
