#include "events/event_log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "events/event_time.h"
#include "events/log_file.h"

namespace fulcrum::events {
namespace {

constexpr auto kFlushEvery = std::chrono::milliseconds(100);
/// Past this much buffered, write at once rather than wait for the timer.
constexpr std::size_t kFlushBytes = 64 * 1024;

}  // namespace

std::unique_ptr<EventLog> EventLog::open(const std::string& path, bool per_request,
                                         EventBus& bus, std::string& error) {
  const int fd = open_append(path);
  if (fd < 0) {
    error = "cannot open event log '" + path + "': " + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<EventLog> log(new EventLog(path, fd, bus));
  auto write = [raw = log.get()](const EventData& data) { raw->write(data); };
  if (per_request) {
    log->subscriptions_.push_back(bus.subscribe_all(write));
  } else {
    // Subscribing to each other event keeps wants(Request) false on our account: per-request
    // events then cost nothing unless someone else listens.
    for (std::size_t i = 0; i < kEventCount; ++i) {
      const auto event = static_cast<Event>(i);
      if (!is_per_request(event)) log->subscriptions_.push_back(bus.subscribe(event, write));
    }
  }
  return log;
}

EventLog::EventLog(std::string path, int fd, EventBus& bus)
    : path_(std::move(path)), fd_(fd), bus_(bus), flush_timer_([this] { flush(); }) {}

EventLog::~EventLog() {
  for (auto id : subscriptions_) bus_.unsubscribe(id);
  detach();
  flush();
  ::close(fd_);
}

void EventLog::detach() {
  if (loop_ != nullptr) loop_->timers().cancel(flush_timer_);
  loop_ = nullptr;
}

void EventLog::write(const EventData& data) {
  buffer_ += data.to_json();
  buffer_ += '\n';
  if (!is_per_request(data.event) || loop_ == nullptr || buffer_.size() >= kFlushBytes) {
    flush();
  } else if (!flush_timer_.armed()) {
    loop_->timers().schedule(flush_timer_, loop_->now() + kFlushEvery);
  }
}

void EventLog::flush() {
  if (loop_ != nullptr) loop_->timers().cancel(flush_timer_);
  if (!write_all(fd_, buffer_)) {
    // The lines are lost rather than kept without bound (a part of them may have been written).
    lines_lost_.fetch_add(static_cast<std::uint64_t>(std::count(buffer_.begin(), buffer_.end(), '\n')),
                          std::memory_order_relaxed);
    log::error("cannot write event log", {{"file", path_}, {"error", std::strerror(errno)}});
  }
  buffer_.clear();
}

void EventLog::reopen() {
  flush();
  const int fd = open_append(path_);
  if (fd < 0) {
    log::error("cannot reopen event log", {{"file", path_}, {"error", std::strerror(errno)}});
    return;
  }
  ::close(fd_);
  fd_ = fd;
}

}  // namespace fulcrum::events
