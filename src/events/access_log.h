// The access log: one line per HTTP request (or TCP connection), written by a thread of its own.
//
// Workers render their line (JSON or the configured `$variable` format) and append it to their
// own shard's buffer: a mutex that only the writer thread ever contends, held for one append.
// The writer swaps the shards' buffers out every 100 ms (at once when one grows past 64 KiB) and
// writes them; a shard that reached 4 MiB drops lines and counts them rather than grow. Lines of
// different workers within one 100 ms window may therefore appear out of time order.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "events/access_log_format.h"
#include "fulcrum/config.h"

namespace fulcrum::events {

/// What one line says. Views must stay valid during AccessLog::log() only.
struct AccessRecord {
  std::chrono::system_clock::time_point time;
  std::string_view client;
  std::string_view listener;
  std::string_view method;      ///< empty for tcp: written `-`
  std::string_view path;        ///< empty for tcp
  int status = 0;
  std::string_view backend;     ///< empty when none was reached
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  double duration_ms = 0;
  std::string_view request_id;  ///< empty for tcp
};

class AccessLog {
 public:
  /// Opens (creates, appends to) `config.file` and starts the writer; `shards` is the number of
  /// threads that log (one per worker). nullptr with `error` set on failure.
  static std::unique_ptr<AccessLog> open(const AccessLogConfig& config, unsigned shards,
                                         std::string& error);
  /// Writes what is buffered, stops the writer, closes the file.
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  /// Renders `record` and queues it on `shard` (the calling worker's index). Never blocks on I/O.
  void log(unsigned shard, const AccessRecord& record);
  /// Makes the writer close and reopen the file (SIGUSR1, after logrotate renamed it). Any thread.
  void request_reopen();
  /// Lines dropped because a shard's buffer was full (the writer is behind). Any thread.
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  /// Lines lost because a write to the file failed. Any thread.
  std::uint64_t lines_lost() const { return lines_lost_.load(std::memory_order_relaxed); }

  /// The line for `record`, newline included. Pure; public for tests.
  std::string render(const AccessRecord& record) const;

 private:
  struct alignas(64) Shard {
    std::mutex mutex;
    std::string buffer;
  };

  AccessLog(std::string path, int fd, AccessLogFormat format, unsigned shards);
  void run();
  void write_out(const std::string& text);

  const std::string path_;
  int fd_;
  const AccessLogFormat format_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> reopen_{false};
  std::atomic<bool> urgent_{false};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> lines_lost_{0};
  std::thread writer_;
};

}  // namespace fulcrum::events
