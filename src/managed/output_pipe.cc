#include "managed/output_pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace fulcrum::managed {

OutputPipe::OutputPipe(core::EventLoop& loop, std::string pool, std::string instance)
    : loop_(loop), pool_(std::move(pool)), instance_(std::move(instance)) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) {
    error_ = std::string("pipe: ") + std::strerror(errno);
    return;
  }
  net::UniqueFd read_end(ends[0]);
  net::UniqueFd write_end(ends[1]);
  ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
  if (!loop_.add(read_end.get(), EPOLLIN, this)) {
    error_ = std::string("epoll: ") + std::strerror(errno);
    return;
  }
  read_ = std::move(read_end);
  write_ = std::move(write_end);
}

OutputPipe::~OutputPipe() {
  if (!read_) return;
  loop_.remove(read_.get());
  if (!partial_.empty()) log_line(partial_);
}

void OutputPipe::on_io(std::uint32_t) { drain(); }

void OutputPipe::drain() {
  if (!read_) return;
  // At most 64 KiB per wake-up; the rest waits for the next turn (the pipe stays readable).
  for (int i = 0; i < 16; ++i) {
    char chunk[4096];
    const ssize_t got = ::read(read_.get(), chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got == 0 || errno != EAGAIN) {  // every writer closed: the instance (and its group) is gone
        loop_.remove(read_.get());
        read_.reset();
        if (!partial_.empty()) log_line(partial_);
        partial_.clear();
      }
      return;
    }
    std::string_view data(chunk, static_cast<std::size_t>(got));
    while (!data.empty()) {
      const std::size_t newline = data.find('\n');
      const std::size_t take = newline == std::string_view::npos ? data.size() : newline;
      const std::size_t room = kMaxLine - partial_.size();
      if (take > room) {  // a line too long: log what fits, go on with the rest
        partial_.append(data.substr(0, room));
        log_line(partial_);
        partial_.clear();
        data.remove_prefix(room);
        continue;
      }
      partial_.append(data.substr(0, take));
      if (newline == std::string_view::npos) break;
      log_line(partial_);
      partial_.clear();
      data.remove_prefix(take + 1);
    }
  }
}

void OutputPipe::log_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  log::info("instance output", {{"pool", pool_}, {"instance", instance_}, {"line", std::string(line)}});
}

}  // namespace fulcrum::managed
