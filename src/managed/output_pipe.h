// What a managed instance writes on stdout and stderr, into Fulcrum's log, one line per line and
// naming the instance (without `log_dir:`).
//
// The pipe's read end is non-blocking and read on the control loop, a bounded amount per wake-up;
// a line longer than kMaxLine is logged in pieces, so an instance that never writes a newline
// cannot make Fulcrum buffer without bound. A full pipe blocks the instance's writes, never
// Fulcrum. Owned by its instance on the control thread.
#pragma once

#include <functional>
#include <string>

#include "core/event_loop.h"
#include "net/socket.h"

namespace fulcrum::managed {

class OutputPipe final : public core::IoHandler {
 public:
  static constexpr std::size_t kMaxLine = 4096;

  /// A fresh pipe, its read end registered with `loop`; each line goes to the log with `pool` and
  /// `instance`. Check ok().
  OutputPipe(core::EventLoop& loop, std::string pool, std::string instance);
  ~OutputPipe();
  OutputPipe(const OutputPipe&) = delete;
  OutputPipe& operator=(const OutputPipe&) = delete;

  bool ok() const { return static_cast<bool>(read_); }
  const std::string& error() const { return error_; }
  /// The end the instance writes to (close it once the instance is started).
  int write_fd() const { return write_.get(); }
  void close_write_end() { write_.reset(); }

  void on_io(std::uint32_t events) override;

 private:
  /// Reads what is there (bounded) and logs each complete line; at the end of the pipe, the rest.
  void drain();
  void log_line(std::string_view line);

  core::EventLoop& loop_;
  std::string pool_;
  std::string instance_;
  net::UniqueFd read_;
  net::UniqueFd write_;
  std::string partial_;
  std::string error_;
};

}  // namespace fulcrum::managed
