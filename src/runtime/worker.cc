#include "runtime/worker.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>

#include "core/log.h"
#include "http/http_context.h"
#include "http/http_session.h"
#include "l4/tcp_session.h"

namespace fulcrum::runtime {

namespace {
constexpr auto kResumeCheck = std::chrono::milliseconds(50);
constexpr int kAcceptBatch = 64;  // accepts per event before other work gets a turn

/// Route blocks per listener for the worker's metrics: an http listener has at least its
/// catch-all route.
std::vector<std::size_t> route_counts(const std::vector<ListenerState*>& listeners) {
  std::vector<std::size_t> counts;
  for (const auto* listener : listeners) counts.push_back(std::max<std::size_t>(1, listener->config.routes.size()));
  return counts;
}
}  // namespace

/// This worker's listening socket for one listener.
class Worker::AcceptSocket final : public core::IoHandler {
 public:
  AcceptSocket(Worker& worker, ListenerState& listener, net::UniqueFd fd, http::HttpWorkerContext* http)
      : worker_(worker), listener_(listener), fd_(std::move(fd)), http_(http) {}

  bool watch() { return worker_.loop_.add(fd_.get(), EPOLLIN, this); }
  void close() {
    if (!fd_) return;
    worker_.loop_.remove(fd_.get());
    fd_.reset();
  }
  bool paused() const { return paused_; }
  ListenerState& listener() { return listener_; }

  /// Resumes accepting if the listener dropped below max_connections.
  void maybe_resume() {
    if (!paused_ || !fd_ || listener_.at_limit()) return;
    paused_ = false;
    worker_.loop_.modify(fd_.get(), EPOLLIN, this);
    on_io(EPOLLIN);
  }

  void on_io(std::uint32_t) override {
    for (int i = 0; i < kAcceptBatch && fd_; ++i) {
      if (listener_.at_limit()) {
        // Leave further clients in the kernel backlog; a timer looks again.
        paused_ = true;
        worker_.loop_.modify(fd_.get(), 0, this);
        worker_.loop_.timers().schedule(worker_.resume_timer_, worker_.loop_.now() + kResumeCheck);
        return;
      }
      net::Address peer;
      *peer.size_ptr() = sizeof(sockaddr_storage);
      const int fd = accept4(fd_.get(), peer.data(), peer.size_ptr(), SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
        if (errno == EMFILE || errno == ENFILE) {
          log::error("accept: out of file descriptors", {{"listener", listener_.config.name}});
          return;
        }
        log::error("accept failed", {{"listener", listener_.config.name}, {"error", std::strerror(errno)}});
        return;
      }
      listener_.active.fetch_add(1, std::memory_order_relaxed);
      listener_.accepted_total.fetch_add(1, std::memory_order_relaxed);
      if (http_) {
        auto* session = new http::HttpSession(worker_, listener_, *http_, net::UniqueFd(fd), peer);
        worker_.add_session(*session);
        session->start();
      } else {
        auto* session = new l4::TcpSession(worker_, listener_, net::UniqueFd(fd), peer);
        worker_.add_session(*session);
        session->start();
      }
    }
  }

 private:
  Worker& worker_;
  ListenerState& listener_;
  net::UniqueFd fd_;
  http::HttpWorkerContext* http_;
  bool paused_ = false;
};

Worker::Worker(unsigned index, std::vector<ListenerState*> listeners, std::vector<net::UniqueFd> sockets,
               const std::vector<std::unique_ptr<upstream::Pool>>& pools, std::size_t buffer_size,
               events::EventBus& events, events::AccessLog* access_log, bool batch_sends)
    : index_(index),
      events_(events),
      access_log_(access_log),
      metrics_(route_counts(listeners), pools.size()),
      random_(0x66756c6372756dULL + index),
      buffers_(buffer_size),
      connections_(loop_, buffers_),
      drain_timer_([this] {
        while (auto* session = sessions_.front()) session->close_now();
        maybe_finish_drain();
      }),
      resume_timer_([this] { check_paused(); }) {
  if (batch_sends) loop_.enable_send_batching();
  for (const auto& pool : pools) selectors_.push_back(std::make_unique<upstream::Selector>(*pool, random_));
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    http::HttpWorkerContext* http = nullptr;
    if (listeners[i]->http) {
      http_contexts_.push_back(
          std::make_unique<http::HttpWorkerContext>(*listeners[i]->http, loop_, buffers_, connections_, random_));
      http = http_contexts_.back().get();
    }
    accept_sockets_.push_back(std::make_unique<AcceptSocket>(*this, *listeners[i], std::move(sockets[i]), http));
  }
}

Worker::~Worker() {
  if (thread_.joinable()) {
    loop_.quit();
    thread_.join();
  }
  while (auto* session = sessions_.front()) {
    sessions_.erase(*session);
    delete session;
  }
}

void Worker::start() {
  for (auto& socket : accept_sockets_) socket->watch();
  thread_ = std::thread([this] { loop_.run(); });
}

void Worker::drain(core::TimePoint deadline) {
  std::promise<void> closed;
  auto done = closed.get_future();
  loop_.post([this, deadline, &closed] {
    begin_drain(deadline);
    closed.set_value();
  });
  done.wait();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::begin_drain(core::TimePoint deadline) {
  if (draining_) return;
  draining_ = true;
  for (auto& socket : accept_sockets_) socket->close();
  loop_.timers().cancel(resume_timer_);
  // Sessions may end inside drain(): walk a copy of the list.
  std::vector<Session*> open;
  for (Session* s = sessions_.front(); s; s = SessionList::next(*s)) open.push_back(s);
  for (Session* s : open) s->drain();
  loop_.timers().schedule(drain_timer_, deadline);
  maybe_finish_drain();
}

void Worker::maybe_finish_drain() {
  if (draining_ && sessions_.size() == 0) {
    loop_.timers().cancel(drain_timer_);
    loop_.quit();
  }
}

void Worker::session_ended(Session& session, ListenerState& listener) {
  sessions_.erase(session);
  metrics_.connections.set(static_cast<std::int64_t>(sessions_.size()));
  listener.active.fetch_sub(1, std::memory_order_relaxed);
  loop_.defer([&session] { delete &session; });
  for (auto& socket : accept_sockets_) {
    if (&socket->listener() == &listener) socket->maybe_resume();
  }
  maybe_finish_drain();
}

void Worker::check_paused() {
  bool still_paused = false;
  for (auto& socket : accept_sockets_) {
    socket->maybe_resume();
    still_paused |= socket->paused();
  }
  if (still_paused) loop_.timers().schedule(resume_timer_, loop_.now() + kResumeCheck);
}

}  // namespace fulcrum::runtime
