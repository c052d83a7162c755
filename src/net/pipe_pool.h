// Pipe pairs for splice(2), recycled per worker: a pipe costs two syscalls to make and two to
// close, more than a short connection's whole relay.
#pragma once

#include <cstddef>
#include <vector>

namespace fulcrum::net {

/// The two ends of a kernel pipe.
struct Pipe {
  int read_fd = -1;
  int write_fd = -1;
  bool valid() const { return read_fd >= 0; }
};

/// Owned by one worker thread; not thread-safe.
class PipePool {
 public:
  explicit PipePool(std::size_t max_idle = 256) : max_idle_(max_idle) {}
  ~PipePool();
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;

  /// A pipe with nothing in it; invalid when the process is out of file descriptors.
  Pipe acquire();
  /// Takes `pipe` back. Only an empty pipe may be reused: `empty` false closes it.
  void release(Pipe& pipe, bool empty);

 private:
  std::size_t max_idle_;
  std::vector<Pipe> idle_;
};

}  // namespace fulcrum::net
