#include "core/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>

namespace fulcrum::core {

namespace {
// Marks the eventfd in epoll_event.data.ptr; handlers are never at this address.
IoHandler* const kWakeMarker = nullptr;
}  // namespace

EventLoop::EventLoop() : now_(Clock::now()), timers_(now_) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    std::perror("fulcrum: epoll/eventfd");
    std::abort();  // out of file descriptors before anything runs: nothing sensible to do
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = kWakeMarker;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_id_.store(std::this_thread::get_id(), std::memory_order_relaxed);
}

EventLoop::~EventLoop() {
  close(wake_fd_);
  close(epoll_fd_);
}

bool EventLoop::add(int fd, std::uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::modify(int fd, std::uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

bool EventLoop::enable_send_batching() {
  if (!send_batch_) send_batch_ = SendBatch::create();
  return send_batch_ != nullptr;
}

void EventLoop::quit() {
  quit_.store(true, std::memory_order_release);
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof one);
}

void EventLoop::defer(std::function<void()> task) { deferred_.push_back(std::move(task)); }

void EventLoop::run_posted() {
  std::uint64_t value;
  [[maybe_unused]] auto n = read(wake_fd_, &value, sizeof value);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) {
    running_.store(&task.target_type(), std::memory_order_relaxed);
    task();
  }
}

LoopActivity EventLoop::activity() const {
  LoopActivity activity;
  const auto started = turn_started_ns_.load(std::memory_order_relaxed);
  if (started == 0) return activity;
  activity.turn_started = TimePoint(TimePoint::duration(started));
  activity.phase = phase_.load(std::memory_order_relaxed);
  activity.running = running_.load(std::memory_order_relaxed);
  return activity;
}

void EventLoop::run() {
  thread_id_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  TimePoint woke = Clock::now();
  while (!quit_.load(std::memory_order_acquire)) {
    now_ = Clock::now();
    busy_ns_.store(busy_ns_.load(std::memory_order_relaxed) + (now_ - woke).count(), std::memory_order_relaxed);
    const int timeout = deferred_.empty() ? timers_.wait_ms(now_) : 0;
    turn_started_ns_.store(0, std::memory_order_relaxed);
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    now_ = woke = Clock::now();
    // Never 0 (which means waiting): a steady clock's epoch is boot, long past.
    turn_started_ns_.store(std::max<std::int64_t>(1, now_.time_since_epoch().count()), std::memory_order_relaxed);
    phase_.store(LoopPhase::Events, std::memory_order_relaxed);
    iterations_.store(iterations_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      auto* handler = static_cast<IoHandler*>(events[i].data.ptr);
      if (handler == kWakeMarker) {
        woken = true;
      } else {
        running_.store(&typeid(*handler), std::memory_order_relaxed);
        handler->on_io(events[i].events);
      }
    }
    if (n < 0 && errno != EINTR) {
      std::perror("fulcrum: epoll_wait");
      std::abort();
    }
    // Sends queued by a phase are flushed before the next phase runs: a posted task, timer or
    // deferred task may end a session, and a session's queued sends point into its buffers.
    flush_sends();
    if (woken) {
      set_phase(LoopPhase::Posted);
      run_posted();
    }
    flush_sends();
    set_phase(LoopPhase::Timers);
    timers_.advance(now_);
    flush_sends();
    // Deferred tasks may defer more (a close that triggers another close): drain until empty.
    set_phase(LoopPhase::Deferred);
    while (!deferred_.empty()) {
      std::vector<std::function<void()>> tasks;
      tasks.swap(deferred_);
      for (auto& task : tasks) {
        running_.store(&task.target_type(), std::memory_order_relaxed);
        task();
      }
      flush_sends();
    }
  }
  // Posted tasks still queued at quit carry cleanups (e.g. closing listeners): run them.
  set_phase(LoopPhase::Posted);
  run_posted();
  // A loop that ended is not stuck in its last turn (a worker that drained early waits for the
  // others while the watchdog still looks).
  turn_started_ns_.store(0, std::memory_order_relaxed);
  set_phase(LoopPhase::Waiting);
}

}  // namespace fulcrum::core
