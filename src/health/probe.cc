#include "health/probe.h"

#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "http/message.h"
#include "http/response_parser.h"

namespace fulcrum::health {

namespace {
constexpr std::uint32_t kEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
}

std::string error_text(int error) {
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string Probe::request_text(const HealthCheckConfig& config, const std::string& host) {
  std::string request;
  request.reserve(128 + config.http_path.size() + host.size());
  request += config.http_method.empty() ? "GET" : config.http_method;
  request += ' ';
  request += config.http_path.empty() ? "/" : config.http_path;
  request += " HTTP/1.1\r\nHost: ";
  request += host;
  request += "\r\nConnection: close\r\nUser-Agent: fulcrum-health\r\n\r\n";
  return request;
}

Probe::Probe(core::EventLoop& loop, const HealthCheckConfig& config, const net::Address& address, std::string host,
             Done done, std::string preamble)
    : loop_(loop),
      config_(config),
      address_(address),
      request_(std::move(preamble) +
               (config.kind == HealthCheckConfig::Kind::Http ? request_text(config, host) : std::string())),
      done_(std::move(done)),
      timer_([this] { finish(false, "timeout"); }) {}

Probe::~Probe() {
  if (registered_) loop_.remove(fd_.get());
}

void Probe::run() {
  loop_.timers().schedule(timer_, loop_.now() + config_.timeout);
  fd_ = net::make_tcp_socket(address_.family());
  if (!fd_) {
    finish(false, error_text(errno));
    return;
  }
  const auto started = net::start_connect(fd_.get(), address_);
  if (started == net::ConnectStart::Failed) {
    finish(false, error_text(errno));
    return;
  }
  if (!loop_.add(fd_.get(), kEvents, this)) {
    finish(false, error_text(errno));
    return;
  }
  registered_ = true;
  if (started == net::ConnectStart::Connected) on_connected();
}

void Probe::on_io(std::uint32_t events) {
  if (finished_) return;  // an event fetched in the turn that finished the probe
  if (!connected_) {
    if (events & (EPOLLERR | EPOLLHUP)) {
      const int error = net::socket_error(fd_.get());
      finish(false, error_text(error != 0 ? error : ECONNREFUSED));
      return;
    }
    if (!(events & EPOLLOUT)) return;
    on_connected();
    return;
  }
  if (sent_ < request_.size() && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) send_request();
  if (config_.kind == HealthCheckConfig::Kind::Tcp) {
    if (!finished_ && sent_ == request_.size()) finish(true, {});  // its preamble is out
    return;
  }
  if (!finished_ && sent_ == request_.size() && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    read_response();
  }
}

void Probe::on_connected() {
  connected_ = true;
  if (config_.kind == HealthCheckConfig::Kind::Tcp) {
    send_request();  // the preamble, if any: passes once it is out
    if (!finished_ && sent_ == request_.size()) finish(true, {});
    return;
  }
  response_.reserve(kMaxResponseBytes);
  send_request();
  // The answer may already be there (edge-triggered: nobody would tell us again).
  if (!finished_ && sent_ == request_.size()) read_response();
}

void Probe::send_request() {
  while (sent_ < request_.size()) {
    const ssize_t n = ::send(fd_.get(), request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
    if (n > 0) {
      sent_ += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      finish(false, error_text(n < 0 ? errno : EPIPE));
      return;
    }
  }
}

void Probe::read_response() {
  char chunk[16 * 1024];
  while (!finished_) {
    const std::size_t room = kMaxResponseBytes - response_.size();
    if (room == 0) {
      judge(true);
      return;
    }
    const ssize_t n = ::recv(fd_.get(), chunk, std::min(room, sizeof chunk), 0);
    if (n > 0) {
      response_.append(chunk, static_cast<std::size_t>(n));
      if (judge(false)) return;
      continue;
    }
    if (n == 0) {
      judge(true);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return;
    // A reset after a complete answer is still an answer.
    if (!judge(true)) finish(false, error_text(errno));
    return;
  }
}

bool Probe::judge(bool eof) {
  if (!head_done_) {
    http::ResponseParser parser(http::HeadLimits{}, http::method_from_token(config_.http_method));
    const http::ParseResult result = parser.parse(response_);
    if (result.status == http::ParseStatus::Error) {
      finish(false, "invalid response: " + std::string(result.error.reason));
      return true;
    }
    if (result.status == http::ParseStatus::NeedMore) {
      if (!eof) return false;
      finish(false, response_.empty() ? "closed without a response" : "truncated response");
      return true;
    }
    const auto& head = parser.head();
    if (head.interim) {
      // 100 Continue and friends: drop it and wait for the final head.
      response_.erase(0, result.head_length);
      return eof ? judge(true) : false;
    }
    head_done_ = true;
    status_ = head.status_code;
    head_length_ = result.head_length;
    if (head.framing.kind == http::BodyKind::ContentLength) {
      content_length_ = static_cast<std::int64_t>(head.framing.content_length);
    } else if (head.framing.kind == http::BodyKind::None) {
      content_length_ = 0;
    }
    if (status_ < config_.expect_min || status_ > config_.expect_max) {
      finish(false, "status " + std::to_string(status_));
      return true;
    }
    if (config_.body_contains.empty()) {
      finish(true, {});
      return true;
    }
  }
  const std::string_view body = std::string_view(response_).substr(head_length_);
  if (body.find(config_.body_contains) != std::string_view::npos) {
    finish(true, {});
    return true;
  }
  const bool body_complete =
      content_length_ >= 0 && body.size() >= static_cast<std::uint64_t>(content_length_);
  if (eof || body_complete || response_.size() >= kMaxResponseBytes) {
    finish(false, "body does not contain '" + config_.body_contains + "'");
    return true;
  }
  return false;
}

void Probe::finish(bool passed, std::string error) {
  if (finished_) return;
  finished_ = true;
  loop_.timers().cancel(timer_);
  if (registered_) {
    loop_.remove(fd_.get());
    registered_ = false;
  }
  fd_.reset();
  auto done = std::move(done_);
  done(ProbeResult{passed, std::move(error)});
}

}  // namespace fulcrum::health
