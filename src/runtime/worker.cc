#include "runtime/worker.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <optional>
#include <string_view>

#include "core/log.h"
#include "events/error_event.h"
#include "events/refused_event.h"
#include "http/http_context.h"
#include "http/http_session.h"
#include "l4/tcp_session.h"
#include "runtime/proxy_header_reader.h"

namespace fulcrum::runtime {

namespace {
constexpr auto kResumeCheck = std::chrono::milliseconds(50);
constexpr int kAcceptBatch = 64;  // accepts per event before other work gets a turn

/// What a client over limits.connections_per_ip of an http listener reads before the close.
constexpr std::string_view kTooManyConnections =
    "HTTP/1.1 429 Too Many Requests\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 40\r\n"
    "Connection: close\r\n"
    "\r\n"
    "too many connections from your address\r\n";

}  // namespace

/// A listener as this worker serves it: its socket, its newest settings, the HTTP contexts of
/// the generations still in use, and how many of its connections this worker holds.
struct Worker::ListenerSlot {
  std::shared_ptr<net::ListenerState> listener;
  std::shared_ptr<const net::ListenerSettings> settings;
  /// mode http: the newest generation's context (also in `contexts`, the last one).
  http::HttpWorkerContext* http = nullptr;
  std::vector<std::unique_ptr<http::HttpWorkerContext>> contexts;
  /// One socket per worker; more after a binary upgrade that handed more sockets than workers.
  std::vector<std::unique_ptr<AcceptSocket>> accepts;
  std::size_t sessions = 0;
  bool removed = false;
  core::Timer drain_timer;

  ListenerSlot(Worker& worker, std::shared_ptr<net::ListenerState> state)
      : listener(std::move(state)), drain_timer([this, &worker] { worker.close_sessions_of(*listener); }) {}
};

/// This worker's listening socket for one listener.
///
/// Two reasons stop it from accepting for a while. At max_connections it leaves clients in the
/// kernel backlog until a connection ends. Out of descriptors (or kernel memory), accept() fails at
/// once, again and again while the listening socket stays readable: like HAProxy's limited
/// listeners and NGINX's "disabling accept", it stops watching the socket for 100 ms (doubling
/// while the shortage lasts, at most 1 s), says so once, and says once more when it accepts again.
class Worker::AcceptSocket final : public core::IoHandler {
 public:
  AcceptSocket(Worker& worker, ListenerSlot& slot, net::UniqueFd fd)
      : worker_(worker), slot_(slot), listener_(*slot.listener), fd_(std::move(fd)), backoff_timer_([this] { retry(); }) {}
  ~AcceptSocket() { worker_.loop_.timers().cancel(backoff_timer_); }

  bool watch() { return worker_.loop_.add(fd_.get(), EPOLLIN, this); }
  void close() {
    if (!fd_) return;
    worker_.loop_.timers().cancel(backoff_timer_);
    worker_.loop_.remove(fd_.get());
    fd_.reset();
  }
  bool paused() const { return paused_; }
  net::ListenerState& listener() { return listener_; }
  int fd() const { return fd_.get(); }

  /// Resumes accepting if the listener dropped below max_connections (and no shortage holds it).
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
        const int error = errno;
        if (error == EAGAIN || error == EINTR) {
          end_shortage();  // nothing waits: whatever ran short did not stop this call
          return;
        }
        if (client_gone(error)) continue;  // that client's problem, not the listener's
        worker_.metrics_.accept_errors.increment();
        pause_for_shortage(error);
        return;
      }
      end_shortage();
      if (slot_.settings->config.accept_proxy) {
        // The client's address comes in the PROXY header: the checks on the client (and the
        // session) wait for it (Worker::read_proxy_header).
        worker_.read_proxy_header(slot_, net::UniqueFd(fd), peer);
        continue;
      }
      net::UniqueFd client(fd);
      std::optional<net::ClientKey> counted;
      if (!worker_.admit(slot_, client, peer, counted)) continue;
      listener_.active.fetch_add(1, std::memory_order_relaxed);
      listener_.accepted_total.fetch_add(1, std::memory_order_relaxed);
      ++slot_.sessions;
      worker_.start_session(slot_, std::move(client), peer, nullptr, counted);
    }
  }

 private:
  static constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
  static constexpr auto kMaxBackoff = std::chrono::milliseconds(1000);

  /// accept(2)'s errors that concern one client that already left or a network blip: retry at
  /// once (Linux passes these through from the new socket).
  static bool client_gone(int error) {
    return error == ECONNABORTED || error == EPROTO || error == ENETDOWN || error == ENOPROTOOPT ||
           error == EHOSTDOWN || error == ENONET || error == EHOSTUNREACH || error == EOPNOTSUPP ||
           error == ENETUNREACH || error == EPERM;
  }

  /// accept() failed for a reason that retrying at once cannot fix (descriptors, memory, a broken
  /// listening socket): stop watching the socket for a while rather than spin on its readiness.
  void pause_for_shortage(int error) {
    const auto now = worker_.loop_.now();
    if (!backoff_) {
      backoff_ = true;
      backoff_delay_ = kFirstBackoff;
      shortage_started_ = now;
      failed_accepts_ = 0;
      worker_.metrics_.accept_pauses.increment();
      const bool resources = net::is_local_resource_error(error);
      const char* what = resources ? "accept paused: out of resources" : "accept paused: listener failed";
      log::error(what, {{"listener", listener_.name},
                        {"worker", worker_.index()},
                        {"error", std::strerror(error)},
                        {"retry_ms", static_cast<std::int64_t>(backoff_delay_.count())}});
      events::emit_error(worker_.events(), what,
                         events::JsonObject()
                             .add("phase", "accept")
                             .add("listener", listener_.name)
                             .add("worker", worker_.index())
                             .add("reason", std::strerror(error)));
    } else {
      backoff_delay_ = std::min(backoff_delay_ * 2, kMaxBackoff);
    }
    ++failed_accepts_;
    worker_.loop_.modify(fd_.get(), 0, this);
    worker_.loop_.timers().schedule(backoff_timer_, now + backoff_delay_);
  }

  /// The backoff delay passed: watch the socket again (a client still waiting makes it readable
  /// at once, and accept() tells whether the shortage is over).
  void retry() {
    if (!fd_) return;
    if (paused_) return;  // at max_connections: maybe_resume() takes over when a slot frees
    worker_.loop_.modify(fd_.get(), EPOLLIN, this);
  }

  void end_shortage() {
    if (!backoff_) return;
    backoff_ = false;
    worker_.loop_.timers().cancel(backoff_timer_);
    const auto paused_for = std::chrono::duration_cast<std::chrono::milliseconds>(worker_.loop_.now() - shortage_started_);
    log::info("accept resumed", {{"listener", listener_.name},
                                 {"worker", worker_.index()},
                                 {"deferred_accepts", failed_accepts_},
                                 {"paused_ms", static_cast<std::int64_t>(paused_for.count())}});
  }

  Worker& worker_;
  ListenerSlot& slot_;
  net::ListenerState& listener_;
  net::UniqueFd fd_;
  bool paused_ = false;  // at max_connections
  bool backoff_ = false;  // in a shortage episode: accept() failed and the socket is not watched
  std::chrono::milliseconds backoff_delay_{0};
  core::TimePoint shortage_started_{};
  std::uint64_t failed_accepts_ = 0;  // accept() calls that failed in this episode
  core::Timer backoff_timer_;
};

Worker::Worker(unsigned index, const std::vector<std::unique_ptr<upstream::Pool>>& pools, std::size_t buffer_size,
               events::EventBus& events, events::AccessLog* access_log, bool batch_sends, const Hooks* hooks)
    // The base keeps references to members constructed just after it; nothing uses them before.
    : SessionServices(index, loop_, events, access_log, pipes_, scratch_, buffers_, metrics_, hooks),
      random_(0x66756c6372756dULL + index),
      buffers_(buffer_size),
      connections_(loop_, buffers_),
      drain_timer_([this] {
        while (auto* session = sessions_.front()) session->close_now();
        maybe_finish_drain();
      }),
      resume_timer_([this] { check_paused(); }) {
  if (batch_sends) loop_.enable_send_batching();
  for (const auto& pool : pools) add_pool(*pool);
}

bool Worker::admit(ListenerSlot& slot, net::UniqueFd& fd, const net::Address& client,
                   std::optional<net::ClientKey>& counted) {
  // Who gets in, decided before any byte of the client's is read: the allow/deny lists, then the
  // client's connection count (shared with the other workers).
  const net::ListenerSettings& settings = *slot.settings;
  net::ListenerState& listener = *slot.listener;
  if (settings.access && !settings.access->admits(client)) {
    refuse(listener, fd, client, Refusal::Acl);
    return false;
  }
  if (net::ClientTable& clients = listener.clients; clients.active()) {
    const net::ClientKey key = clients.key_of(client);
    if (!clients.try_connect(key, loop_.now())) {
      refuse(listener, fd, client, Refusal::ConnectionsPerIp);
      return false;
    }
    counted = key;
  }
  return true;
}

void Worker::refuse(net::ListenerState& listener, net::UniqueFd& fd, const net::Address& client, Refusal why) {
  metrics::RefusedCounters& refused = metrics_.refused(listener.slot);
  const char* reason = "acl";
  if (why == Refusal::Acl) {
    refused.acl.increment();
  } else {
    refused.connections_per_ip.increment();
    reason = "connections_per_ip";
    if (listener.mode == ListenerMode::Http) {
      (void)::send(fd.get(), kTooManyConnections.data(), kTooManyConnections.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }
  fd.reset();
  if (events().wants(Event::Refused)) {
    events::emit_refused(events(), listener.refused_events, listener.name, reason, client.ip_string());
  }
}

void Worker::start_session(ListenerSlot& slot, net::UniqueFd fd, const net::Address& client,
                           const net::Address* destination, const std::optional<net::ClientKey>& counted) {
  net::ListenerState& listener = *slot.listener;
  if (slot.http) {
    auto* session = new http::HttpSession(*this, listener, *slot.http, std::move(fd), client);
    if (destination) session->set_destination(*destination);
    if (counted) session->set_counted_client(*counted);
    add_session(*session, listener);
    session->start();
  } else {
    auto* session = new l4::TcpSession(*this, listener, slot.settings, std::move(fd), client);
    if (destination) session->set_destination(*destination);
    if (counted) session->set_counted_client(*counted);
    add_session(*session, listener);
    session->start();
  }
}

void Worker::read_proxy_header(ListenerSlot& slot, net::UniqueFd fd, const net::Address& peer) {
  net::ListenerState& listener = *slot.listener;
  if (!slot.settings->trusted_proxies.contains(peer)) {
    // Only a trusted proxy may say who the client is; anyone else could claim any address.
    metrics_.proxy_refused.increment();
    log::debug("PROXY header refused", {{"listener", listener.label()},
                                        {"peer", peer.to_string()},
                                        {"reason", "source not in trusted_proxies"}});
    return;  // `fd` closes here
  }
  listener.active.fetch_add(1, std::memory_order_relaxed);
  listener.accepted_total.fetch_add(1, std::memory_order_relaxed);
  ++slot.sessions;
  auto* reader = new ProxyHeaderReader(*this, *this, listener, std::move(fd), peer);
  add_session(*reader, listener);
  reader->start();
}

void Worker::proxy_header_read(ProxyHeaderReader& reader, net::UniqueFd fd, const net::Address& client,
                               const net::Address& destination) {
  ListenerSlot* slot = find_listener(reader.listener());
  std::optional<net::ClientKey> counted;
  // allow/deny and the per-client limits judge the client the header names, not the proxy.
  if (!slot || !admit(*slot, fd, client, counted)) {
    session_ended(reader, reader.listener());  // `fd` is closed; the reader's counts are given back
    return;
  }
  // The session takes the reader's place: the listener's counts carry over.
  sessions_.erase(reader);
  loop_.defer([&reader] { delete &reader; });
  start_session(*slot, std::move(fd), client, &destination, counted);
}

void Worker::add_pool(upstream::Pool& pool) { selectors_.push_back(std::make_unique<upstream::Selector>(pool, random_)); }

void Worker::add_listener(std::shared_ptr<net::ListenerState> listener, std::shared_ptr<const net::ListenerSettings> settings,
                          net::UniqueFd socket) {
  auto slot = std::make_unique<ListenerSlot>(*this, std::move(listener));
  ListenerSlot* raw = slot.get();
  listeners_.push_back(std::move(slot));
  update_listener(*raw->listener, std::move(settings));
  raw->accepts.push_back(std::make_unique<AcceptSocket>(*this, *raw, std::move(socket)));
  if (started_ && !draining_) raw->accepts.back()->watch();
}

void Worker::update_listener(const net::ListenerState& listener, std::shared_ptr<const net::ListenerSettings> settings) {
  ListenerSlot* slot = find_listener(listener);
  if (!slot) return;
  if (settings->http) {
    slot->contexts.push_back(std::make_unique<http::HttpWorkerContext>(settings->http, loop_, buffers_, connections_, random_));
    // Every generation looks at the slot's newest (one field, updated here): a session moves on
    // when its next request begins.
    slot->contexts.back()->set_newest(&slot->http);
    slot->http = slot->contexts.back().get();
  }
  slot->settings = std::move(settings);
  release_unused(*slot);
}

void Worker::remove_listener(const net::ListenerState& listener, core::TimePoint deadline) {
  ListenerSlot* slot = find_listener(listener);
  if (!slot || slot->removed) return;
  slot->removed = true;
  for (auto& accept : slot->accepts) accept->close();
  std::vector<net::Session*> open;
  for (net::Session* s = sessions_.front(); s; s = net::SessionList::next(*s)) {
    if (s->accepted_on() == &listener) open.push_back(s);
  }
  for (net::Session* s : open) s->drain(/*close_idle=*/true);
  if (slot->sessions > 0) {
    loop_.timers().schedule(slot->drain_timer, deadline);
  } else {
    release_unused(*slot);
  }
}

void Worker::close_sessions_of(const net::ListenerState& listener) {
  std::vector<net::Session*> left;
  for (net::Session* s = sessions_.front(); s; s = net::SessionList::next(*s)) {
    if (s->accepted_on() == &listener) left.push_back(s);
  }
  for (net::Session* s : left) s->close_now();
}

Worker::ListenerSlot* Worker::find_listener(const net::ListenerState& listener) {
  for (auto& slot : listeners_) {
    if (slot->listener.get() == &listener) return slot.get();
  }
  return nullptr;
}

void Worker::release_unused(ListenerSlot& slot) {
  if (slot.removed && slot.sessions == 0) {
    loop_.timers().cancel(slot.drain_timer);
    // Sessions are deleted after this turn (session_ended() defers it) and may still name the
    // listener until then: free the slot after them.
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if (it->get() != &slot) continue;
      if (retired_listeners_.empty()) loop_.defer([this] { retired_listeners_.clear(); });
      retired_listeners_.push_back(std::move(*it));
      listeners_.erase(it);
      return;
    }
    return;
  }
  auto& contexts = slot.contexts;
  if (contexts.size() < 2) return;
  // The session that released the last hold on a generation may still be on the stack (it
  // reported its end from inside its own handler): free the generation after this turn.
  for (auto it = contexts.begin(); it != contexts.end() - 1;) {
    if ((*it)->users() != 0) {
      ++it;
      continue;
    }
    if (retired_contexts_.empty()) loop_.defer([this] { retired_contexts_.clear(); });
    retired_contexts_.push_back(std::move(*it));
    it = contexts.erase(it);
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
  started_ = true;
  for (auto& slot : listeners_) {
    for (auto& accept : slot->accepts) accept->watch();
  }
  thread_ = std::thread([this] {
    loop_.run();
    finished_.store(true, std::memory_order_release);
  });
}

void Worker::add_accept_socket(const net::ListenerState& listener, net::UniqueFd socket) {
  ListenerSlot* slot = find_listener(listener);
  if (!slot) return;
  slot->accepts.push_back(std::make_unique<AcceptSocket>(*this, *slot, std::move(socket)));
  if (started_ && !draining_) slot->accepts.back()->watch();
}

std::vector<std::pair<std::string, net::UniqueFd>> Worker::copy_listening_sockets() {
  std::vector<std::pair<std::string, net::UniqueFd>> copies;
  std::promise<void> copied;
  auto done = copied.get_future();
  loop_.post([this, &copies, &copied] {
    for (auto& slot : listeners_) {
      if (slot->removed) continue;  // a listener a reload removed: its socket is closed
      for (auto& accept : slot->accepts) {
        if (accept->fd() < 0) continue;  // closed by a drain
        net::UniqueFd copy(fcntl(accept->fd(), F_DUPFD_CLOEXEC, 3));
        if (copy) copies.emplace_back(slot->listener->name, std::move(copy));
      }
    }
    copied.set_value();
  });
  done.wait();
  return copies;
}

void Worker::drain(core::TimePoint deadline, DrainMode mode) {
  // A second drain (stop() after an upgrade's drain) must not post to a loop that may have ended.
  if (drain_requested_) return;
  drain_requested_ = true;
  std::promise<void> closed;
  auto done = closed.get_future();
  loop_.post([this, deadline, mode, &closed] {
    begin_drain(deadline, mode);
    closed.set_value();
  });
  done.wait();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::begin_drain(core::TimePoint deadline, DrainMode mode) {
  if (draining_) return;
  draining_ = true;
  for (auto& slot : listeners_) {
    for (auto& accept : slot->accepts) accept->close();
  }
  loop_.timers().cancel(resume_timer_);
  // Sessions may end inside drain(): walk a copy of the list.
  std::vector<net::Session*> open;
  for (net::Session* s = sessions_.front(); s; s = net::SessionList::next(*s)) open.push_back(s);
  for (net::Session* s : open) s->drain(mode == DrainMode::CloseIdle);
  loop_.timers().schedule(drain_timer_, deadline);
  maybe_finish_drain();
}

void Worker::maybe_finish_drain() {
  if (draining_ && sessions_.size() == 0) {
    loop_.timers().cancel(drain_timer_);
    loop_.quit();
  }
}

void Worker::session_ended(net::Session& session, net::ListenerState& listener) {
  sessions_.erase(session);
  metrics_.connections.set(static_cast<std::int64_t>(sessions_.size()));
  listener.active.fetch_sub(1, std::memory_order_relaxed);
  if (const auto* client = session.counted_client()) listener.clients.disconnect(*client);
  loop_.defer([&session] { delete &session; });
  if (ListenerSlot* slot = find_listener(listener)) {
    --slot->sessions;
    for (auto& accept : slot->accepts) accept->maybe_resume();
    if (slot->removed || slot->contexts.size() > 1) release_unused(*slot);
  }
  maybe_finish_drain();
}

void Worker::check_paused() {
  bool still_paused = false;
  for (auto& slot : listeners_) {
    for (auto& accept : slot->accepts) {
      accept->maybe_resume();
      still_paused |= accept->paused();
    }
  }
  if (still_paused) loop_.timers().schedule(resume_timer_, loop_.now() + kResumeCheck);
}

}  // namespace fulcrum::runtime
