#include "events/access_log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/log.h"
#include "events/event_time.h"
#include "events/log_file.h"
#include "events/json_text.h"

namespace fulcrum::events {
namespace {

constexpr auto kWriteEvery = std::chrono::milliseconds(100);
constexpr std::size_t kUrgentBytes = 64 * 1024;
constexpr std::size_t kMaxShardBytes = 4 * 1024 * 1024;

std::string_view or_dash(std::string_view text) { return text.empty() ? "-" : text; }

std::string millis_text(double millis) {
  char number[48];
  std::snprintf(number, sizeof number, "%.3f", millis);
  return number;
}

}  // namespace

std::unique_ptr<AccessLog> AccessLog::open(const AccessLogConfig& config, unsigned shards,
                                           std::string& error) {
  std::string why;
  auto format = AccessLogFormat::parse(config.format, &why);
  if (!format) {
    error = "access_log.format: " + why;
    return nullptr;
  }
  const int fd = open_append(config.file);
  if (fd < 0) {
    error = "cannot open access log '" + config.file + "': " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<AccessLog>(
      new AccessLog(config.file, fd, std::move(*format), shards == 0 ? 1 : shards));
}

AccessLog::AccessLog(std::string path, int fd, AccessLogFormat format, unsigned shards)
    : path_(std::move(path)), fd_(fd), format_(std::move(format)) {
  for (unsigned i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
  writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
  ::close(fd_);
}

std::string AccessLog::render(const AccessRecord& record) const {
  std::string line;
  if (format_.json) {
    JsonObject object;
    object.add("time", format_time(record.time))
        .add("client", record.client)
        .add("listener", record.listener)
        .add("method", or_dash(record.method))
        .add("path", or_dash(record.path))
        .add("status", record.status)
        .add("backend", or_dash(record.backend))
        .add("bytes_in", record.bytes_in)
        .add("bytes_out", record.bytes_out)
        .add_millis("duration_ms", record.duration_ms)
        .add("request_id", or_dash(record.request_id));
    line = object.finish();
  } else {
    line.reserve(128);
    for (const auto& piece : format_.pieces) {
      line += piece.literal;
      if (!piece.field) continue;
      switch (*piece.field) {
        case AccessLogField::Time: line += format_time(record.time); break;
        case AccessLogField::Client: line += or_dash(record.client); break;
        case AccessLogField::Listener: line += or_dash(record.listener); break;
        case AccessLogField::Method: line += or_dash(record.method); break;
        case AccessLogField::Path: line += or_dash(record.path); break;
        case AccessLogField::Status: line += std::to_string(record.status); break;
        case AccessLogField::Backend: line += or_dash(record.backend); break;
        case AccessLogField::BytesIn: line += std::to_string(record.bytes_in); break;
        case AccessLogField::BytesOut: line += std::to_string(record.bytes_out); break;
        case AccessLogField::DurationMs: line += millis_text(record.duration_ms); break;
        case AccessLogField::RequestId: line += or_dash(record.request_id); break;
      }
    }
    // A line is one line: a path cannot hold a newline, but keep the file parseable regardless.
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
  }
  line += '\n';
  return line;
}

void AccessLog::log(unsigned shard, const AccessRecord& record) {
  std::string line = render(record);
  Shard& target = *shards_[shard % shards_.size()];
  bool urgent = false;
  {
    std::lock_guard lock(target.mutex);
    if (target.buffer.size() + line.size() > kMaxShardBytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    target.buffer += line;
    urgent = target.buffer.size() >= kUrgentBytes;
  }
  if (urgent && !urgent_.exchange(true, std::memory_order_relaxed)) wake_.notify_one();
}

void AccessLog::request_reopen() {
  reopen_.store(true, std::memory_order_relaxed);
  wake_.notify_one();
}

void AccessLog::write_out(const std::string& text) {
  if (!write_all(fd_, text)) {
    lines_lost_.fetch_add(static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')),
                          std::memory_order_relaxed);
    log::error("cannot write access log", {{"file", path_}, {"error", std::strerror(errno)}});
  }
}

void AccessLog::run() {
  std::string batch;
  bool stopping = false;
  while (!stopping) {
    {
      std::unique_lock lock(wake_mutex_);
      wake_.wait_for(lock, kWriteEvery, [this] {
        return stopping_ || reopen_.load(std::memory_order_relaxed) ||
               urgent_.load(std::memory_order_relaxed);
      });
      stopping = stopping_;
    }
    urgent_.store(false, std::memory_order_relaxed);
    // Lines logged before a reopen request go to the old file, the rest to the new one.
    const bool reopen = reopen_.exchange(false, std::memory_order_relaxed);
    for (auto& shard : shards_) {
      std::string taken;
      {
        std::lock_guard lock(shard->mutex);
        taken.swap(shard->buffer);
      }
      batch += taken;
    }
    if (!batch.empty()) write_out(batch);
    batch.clear();
    if (reopen) {
      const int fd = open_append(path_);
      if (fd < 0) {
        log::error("cannot reopen access log", {{"file", path_}, {"error", std::strerror(errno)}});
      } else {
        ::close(fd_);
        fd_ = fd;
      }
    }
  }
}

}  // namespace fulcrum::events
