// A worker: one thread, one event loop, its own accept socket on every listener (SO_REUSEPORT), its
// own selectors and pipes. A connection accepted by a worker never leaves it.
//
// Listeners and pools come and go with reloads: the control thread posts add_listener(),
// update_listener(), remove_listener() and add_pool() to the worker's loop. A listener's settings
// are versioned (net/listener_state.h): new connections and new requests take the newest,
// connections and requests under way keep theirs, and the worker frees a generation once nothing
// uses it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <thread>
#include <vector>

#include "balance/random.h"
#include "core/buffer.h"
#include "core/event_loop.h"
#include "events/access_log.h"
#include "events/event_bus.h"
#include "net/pipe_pool.h"
#include "metrics/worker_metrics.h"
#include "net/socket.h"
#include "net/client_table.h"
#include "net/listener_state.h"
#include "net/session.h"
#include "upstream/connection_pool.h"
#include "upstream/pool.h"
#include "upstream/selector.h"
#include "upstream/session_services.h"
#include "runtime/proxy_header_reader.h"

namespace fulcrum::http {
class HttpWorkerContext;
}

namespace fulcrum::runtime {

class Worker final : public upstream::SessionServices, private ProxyHeaderReader::Owner {
 public:
  /// Selectors for `pools`; HTTP buffers of `buffer_size` bytes (at least the largest
  /// max_header_size a listener may have). `events` (and `access_log`, null when off) outlive the
  /// worker. `batch_sends`: gather each loop turn's sends into one io_uring submission when the
  /// kernel allows it (loop().send_batch() tells whether it did).
  Worker(unsigned index, const std::vector<std::unique_ptr<upstream::Pool>>& pools, std::size_t buffer_size,
         events::EventBus& events, events::AccessLog* access_log, bool batch_sends, const Hooks* hooks = nullptr);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Before start() from the starting thread; afterwards on the loop thread (post them).
  /// Serves `listener` on `socket` (this worker's bound socket for it) with `settings`.
  void add_listener(std::shared_ptr<net::ListenerState> listener, std::shared_ptr<const net::ListenerSettings> settings,
                    net::UniqueFd socket);
  /// New connections and requests on `listener` take `settings` from now on.
  void update_listener(const net::ListenerState& listener, std::shared_ptr<const net::ListenerSettings> settings);
  /// Stops accepting on `listener` (its socket closes); its connections finish what is in flight
  /// and are closed at `deadline`.
  void remove_listener(const net::ListenerState& listener, core::TimePoint deadline);
  /// A pool added by a reload: its index is the next one.
  void add_pool(upstream::Pool& pool);
  /// Listeners this worker still serves or drains (loop thread; for tests and stats).
  std::size_t listener_count() const { return listeners_.size(); }

  /// Starts the worker's thread.
  void start();
  /// How a drain treats idle keep-alive connections (Session::drain()).
  enum class DrainMode {
    CloseIdle,  ///< a stop: idle connections close at once
    KeepIdle,   ///< after a binary upgrade: they close at their next response or at the deadline
  };
  /// Stops accepting (its listening sockets are closed when this returns; another process holding
  /// the same sockets keeps accepting from their queues); lets open connections finish until
  /// `deadline`, then closes them and ends the thread. Only the first call counts. Any thread but
  /// the worker's, one at a time.
  void drain(core::TimePoint deadline, DrainMode mode = DrainMode::CloseIdle);
  /// True once the thread's loop ended (drained). Any thread.
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  /// One more socket to accept on for `listener` (added before): a socket handed over by the
  /// process this one replaces, beyond one per worker. Like add_listener(): before start() from
  /// the starting thread.
  void add_accept_socket(const net::ListenerState& listener, net::UniqueFd socket);
  /// Copies (close-on-exec dup()s) of this worker's listening sockets, each with its listener's
  /// name, for a binary upgrade; waits for the worker's loop. Any thread but the worker's.
  std::vector<std::pair<std::string, net::UniqueFd>> copy_listening_sockets();
  /// Waits for the thread to end (after drain()).
  void join();

  // The loop, buffers, pipes, events, access log and metrics: through SessionServices.
  using SessionServices::buffers;
  using SessionServices::index;
  using SessionServices::loop;
  using SessionServices::metrics;
  const metrics::WorkerMetrics& metrics() const { return metrics_; }
  upstream::Selector& selector(std::size_t pool_index) override { return *selectors_[pool_index]; }
  std::optional<std::size_t> pool_index(std::string_view name) override {
    for (std::size_t i = 0; i < selectors_.size(); ++i) {
      if (selectors_[i]->pool().name() == name) return i;
    }
    return std::nullopt;
  }
  /// Connections open on this worker (loop thread).
  std::size_t sessions() const { return sessions_.size(); }
  /// True once drain() began: sessions finish what is in flight and take nothing new.
  bool draining() const override { return draining_; }
  /// Backend `backend_id` left its pool: its idle upstream connections on this worker are closed
  /// (soon, on the worker's thread). Any thread.
  void retire_backend(std::uint64_t backend_id) {
    loop_.post([this, backend_id] { connections_.close_idle(backend_id); });
  }
  /// Loop turns and time spent outside epoll_wait, for metrics. Any thread.
  std::uint64_t loop_iterations() const { return loop_.iterations(); }
  std::chrono::nanoseconds loop_busy_time() const { return loop_.busy_time(); }

  /// Session bookkeeping, loop thread only: a session registers when accepted and reports its
  /// end once; the worker destroys it after the current loop turn.
  void add_session(net::Session& session, const net::ListenerState& listener) {
    session.set_accepted_on(&listener);
    sessions_.push(session);
    metrics_.connections.set(static_cast<std::int64_t>(sessions_.size()));
  }
  void session_ended(net::Session& session, net::ListenerState& listener) override;

 private:
  class AcceptSocket;
  struct ListenerSlot;

  ListenerSlot* find_listener(const net::ListenerState& listener);
  enum class Refusal { Acl, ConnectionsPerIp };
  /// Whether the listener of `slot` takes a connection from `client`: its allow/deny lists, then
  /// the client's count in the listener's ClientTable (`counted` set when it was counted there).
  /// When refused, `fd` is closed (see refuse()).
  bool admit(ListenerSlot& slot, net::UniqueFd& fd, const net::Address& client, std::optional<net::ClientKey>& counted);
  /// Closes a connection the listener does not take: counted, and sampled as a `refused` event.
  /// Over connections_per_ip, an http client is told why first: one non-blocking send into an
  /// empty socket buffer, which fits; if it does not, the close says enough.
  void refuse(net::ListenerState& listener, net::UniqueFd& fd, const net::Address& client, Refusal why);
  /// Creates, registers and starts the session of a new client connection on `slot` (admitted and
  /// counted in the listener already). `destination`: the address the client connected to, when a
  /// PROXY header said so (otherwise the socket's own address, looked up only if a pool needs it).
  /// `counted`: the client's key in the listener's ClientTable, released when the session ends.
  void start_session(ListenerSlot& slot, net::UniqueFd fd, const net::Address& client, const net::Address* destination,
                     const std::optional<net::ClientKey>& counted);
  /// An accept_proxy listener's new connection from `peer`: closed unless `peer` is a trusted
  /// proxy, else counted and handed to a ProxyHeaderReader; once the header is in,
  /// proxy_header_read() applies admit() to the client it names and starts the session.
  void read_proxy_header(ListenerSlot& slot, net::UniqueFd fd, const net::Address& peer);
  void proxy_header_read(ProxyHeaderReader& reader, net::UniqueFd fd, const net::Address& client,
                         const net::Address& destination) override;
  /// A removed listener's drain ran out of time: closes its connections.
  void close_sessions_of(const net::ListenerState& listener);
  /// Frees what a reload left behind once unused: replaced HTTP contexts, removed listeners whose
  /// connections all ended.
  void release_unused(ListenerSlot& slot);
  void begin_drain(core::TimePoint deadline, DrainMode mode);
  void check_paused();
  void maybe_finish_drain();

  // Declared before their users below; SessionServices holds references to the first four.
  core::EventLoop loop_;
  metrics::WorkerMetrics metrics_;
  balance::Random random_;
  net::PipePool pipes_;
  std::array<char, 16 * 1024> scratch_;
  core::BufferPool buffers_;
  upstream::ConnectionPool connections_;
  std::vector<std::unique_ptr<upstream::Selector>> selectors_;
  std::vector<std::unique_ptr<ListenerSlot>> listeners_;
  /// Removed listeners whose last connection ended this turn, and HTTP contexts of generations
  /// nothing holds any more (freed after the turn).
  std::vector<std::unique_ptr<ListenerSlot>> retired_listeners_;
  std::vector<std::unique_ptr<http::HttpWorkerContext>> retired_contexts_;
  net::SessionList sessions_;
  bool started_ = false;  // start() ran: a listener added later is watched at once
  bool draining_ = false;
  bool drain_requested_ = false;  // drain() was called (controlling thread)
  std::atomic<bool> finished_{false};
  core::Timer drain_timer_;
  core::Timer resume_timer_;  // re-checks listeners paused at max_connections
  std::thread thread_;
};

}  // namespace fulcrum::runtime
