#include "net/pipe_pool.h"

#include <fcntl.h>
#include <unistd.h>

namespace fulcrum::net {

PipePool::~PipePool() {
  for (auto& pipe : idle_) {
    close(pipe.read_fd);
    close(pipe.write_fd);
  }
}

Pipe PipePool::acquire() {
  if (!idle_.empty()) {
    Pipe pipe = idle_.back();
    idle_.pop_back();
    return pipe;
  }
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return {};
  return {fds[0], fds[1]};
}

void PipePool::release(Pipe& pipe, bool empty) {
  if (!pipe.valid()) return;
  if (empty && idle_.size() < max_idle_) {
    idle_.push_back(pipe);
  } else {
    close(pipe.read_fd);
    close(pipe.write_fd);
  }
  pipe = {};
}

}  // namespace fulcrum::net
