#include "support/test_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "net/address.h"
#include "net/socket.h"

namespace fulcrum::test {

namespace {
constexpr std::size_t kMaxPending = 1 << 20;  // stop reading a client whose echo is not drained

struct Conn {
  int fd;
  std::string out;
  bool read_done = false;
  bool write_shut = false;
};
}  // namespace

TestBackend::TestBackend(std::string name, std::string address) : name_(std::move(name)), address_(std::move(address)) {
  start();
}

TestBackend::~TestBackend() { stop(); }

void TestBackend::start() {
  if (thread_.joinable()) return;
  auto parsed = net::Address::parse_numeric(address_);
  std::string error;
  auto fd = net::bind_listener(*parsed, 4096, &error);
  if (!fd) throw std::runtime_error("test backend: " + error);
  address_ = net::Address::local_of(fd.get()).to_string();
  if (pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2");
  thread_ = std::thread([this, listen_fd = fd.release()] { serve(listen_fd); });
}

void TestBackend::stop() {
  if (!thread_.joinable()) return;
  char byte = 1;
  [[maybe_unused]] auto n = write(stop_pipe_[1], &byte, 1);
  thread_.join();
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

void TestBackend::serve(int listen_fd) {
  std::vector<Conn> conns;
  std::vector<pollfd> polls;
  char buffer[65536];
  for (;;) {
    polls.clear();
    polls.push_back({stop_pipe_[0], POLLIN, 0});
    polls.push_back({listen_fd, POLLIN, 0});
    for (auto& c : conns) {
      short events = 0;
      if (!c.read_done && c.out.size() < kMaxPending) events |= POLLIN;
      if (!c.out.empty()) events |= POLLOUT;
      polls.push_back({c.fd, events, 0});
    }
    if (poll(polls.data(), polls.size(), 1000) < 0 && errno != EINTR) break;
    if (polls[0].revents) break;
    if (polls[1].revents & POLLIN) {
      for (;;) {
        const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        accepted_.fetch_add(1);
        open_.fetch_add(1);
        conns.push_back({fd, name_.empty() ? std::string() : name_ + "\n"});
      }
    }
    for (std::size_t i = 0; i < conns.size(); ++i) {
      auto& c = conns[i];
      const short revents = i + 2 < polls.size() ? polls[i + 2].revents : 0;
      bool dead = false;
      if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c.read_done) {
        for (;;) {
          const ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
          if (n > 0) {
            c.out.append(buffer, static_cast<std::size_t>(n));
            if (c.out.size() >= kMaxPending) break;
          } else if (n == 0) {
            c.read_done = true;
            break;
          } else {
            if (errno != EAGAIN && errno != EINTR) dead = true;
            break;
          }
        }
      }
      while (!dead && !c.out.empty()) {
        const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
          c.out.erase(0, static_cast<std::size_t>(n));
        } else {
          if (errno != EAGAIN && errno != EINTR) dead = true;
          break;
        }
      }
      if (!dead && c.read_done && c.out.empty() && !c.write_shut) {
        shutdown(c.fd, SHUT_WR);
        c.write_shut = true;
        dead = true;  // both directions done
      }
      if (dead) {
        close(c.fd);
        open_.fetch_sub(1);
        conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
        --i;
        // polls no longer line up with conns after an erase; finish this round on the next poll.
        break;
      }
    }
  }
  for (auto& c : conns) {
    close(c.fd);
    open_.fetch_sub(1);
  }
  close(listen_fd);
}

}  // namespace fulcrum::test
