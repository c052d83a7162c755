#include "demo/demo_backend.h"

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

#include "core/event_loop.h"

namespace fulcrum::demo {

namespace {

bool starts_like_http(std::string_view data) {
  for (std::string_view method : {"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "PATCH "}) {
    if (data.substr(0, method.size()) == method) return true;
  }
  return false;
}

bool has_token(std::string_view head, std::string_view header, std::string_view token) {
  // Case-insensitive search for "header: ...token..." inside the head; good enough for a demo.
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string h = lower(head);
  const auto at = h.find("\r\n" + lower(header) + ":");
  if (at == std::string::npos) return false;
  const auto end = h.find("\r\n", at + 2);
  return h.substr(at, end - at).find(lower(token)) != std::string::npos;
}

std::size_t content_length(std::string_view head) {
  std::string lower(head);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return 0;
  auto value = std::string_view(lower).substr(at + 17);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  std::size_t n = 0;
  std::from_chars(value.data(), value.data() + value.size(), n);
  return n;
}

class Connection final : public core::IoHandler {
 public:
  Connection(core::EventLoop& loop, net::UniqueFd fd, const std::string& name)
      : loop_(loop), fd_(std::move(fd)), name_(name) {
    loop_.add(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this);
  }

  void on_io(std::uint32_t) override {
    if (closed_) return;
    char buffer[16384];
    for (;;) {
      const ssize_t n = recv(fd_.get(), buffer, sizeof buffer, 0);
      if (n > 0) {
        input_.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      peer_done_ = true;  // FIN or error
      break;
    }
    process();
    flush();
    if (closed_) return;
    if ((peer_done_ && output_.empty()) || (close_after_write_ && output_.empty())) close();
  }

 private:
  void process() {
    for (;;) {
      if (skip_body_ > 0) {
        const std::size_t n = std::min(skip_body_, input_.size());
        input_.erase(0, n);
        skip_body_ -= n;
        if (skip_body_ > 0) return;
      }
      if (input_.empty()) return;
      if (!decided_) {
        if (input_.size() < 8 && input_.find('\n') == std::string::npos) return;
        http_ = starts_like_http(input_);
        decided_ = true;
      }
      if (http_) {
        const auto end = input_.find("\r\n\r\n");
        if (end == std::string::npos) return;
        const std::string head = input_.substr(0, end + 2);
        input_.erase(0, end + 4);
        skip_body_ = content_length(head);
        const bool http10 = head.find(" HTTP/1.0\r\n") != std::string::npos;
        const bool close = has_token(head, "connection", "close") ||
                           (http10 && !has_token(head, "connection", "keep-alive"));
        const std::string body = "hello from " + name_ + "\n";
        output_ += std::string(http10 ? "HTTP/1.0" : "HTTP/1.1") + " 200 OK\r\nContent-Type: text/plain\r\n" +
                   "X-Backend: " + name_ + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                   (close ? "Connection: close\r\n" : (http10 ? "Connection: keep-alive\r\n" : "")) + "\r\n";
        if (head.compare(0, 5, "HEAD ") != 0) output_ += body;
        if (close) {
          close_after_write_ = true;
          return;
        }
      } else {
        const auto end = input_.find('\n');
        if (end == std::string::npos) return;
        output_ += "[" + name_ + "] " + input_.substr(0, end + 1);
        input_.erase(0, end + 1);
      }
    }
  }

  void flush() {
    while (!output_.empty()) {
      const ssize_t n = send(fd_.get(), output_.data(), output_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        output_.erase(0, static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        return;
      } else {
        close();
        return;
      }
    }
  }

  void close() {
    closed_ = true;
    loop_.remove(fd_.get());
    fd_.reset();
    loop_.defer([this] { delete this; });
  }

  core::EventLoop& loop_;
  net::UniqueFd fd_;
  const std::string& name_;
  std::string input_;
  std::string output_;
  std::size_t skip_body_ = 0;
  bool decided_ = false;
  bool http_ = false;
  bool peer_done_ = false;
  bool close_after_write_ = false;
  bool closed_ = false;
};

class Acceptor final : public core::IoHandler {
 public:
  Acceptor(core::EventLoop& loop, net::UniqueFd fd, std::string name)
      : loop_(loop), fd_(std::move(fd)), name_(std::move(name)) {
    loop_.add(fd_.get(), EPOLLIN, this);
  }
  void on_io(std::uint32_t) override {
    for (;;) {
      const int fd = accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      new Connection(loop_, net::UniqueFd(fd), name_);
    }
  }

 private:
  core::EventLoop& loop_;
  net::UniqueFd fd_;
  std::string name_;
};

}  // namespace

int serve_demo_backend(net::UniqueFd listener, std::string name) {
  core::EventLoop loop;
  Acceptor acceptor(loop, std::move(listener), std::move(name));
  loop.run();
  return 0;
}

}  // namespace fulcrum::demo
