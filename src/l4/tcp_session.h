// One client connection of a `mode: tcp` listener: choose a backend, connect (trying the next one
// on refusal or timeout), then relay bytes both ways with splice(2) until both directions are done.
//
// Owned by its worker and confined to the worker's loop thread. Destroyed by the worker one loop
// turn after it ends, so events already fetched for its sockets find it still alive.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/send_batch.h"
#include "core/timer_wheel.h"
#include "net/pipe_pool.h"
#include "metrics/worker_metrics.h"
#include "net/socket.h"
#include "net/session.h"
#include "upstream/connector.h"
#include "upstream/selector.h"
#include "upstream/session_services.h"

namespace fulcrum::l4 {

class TcpSession final : public net::Session, private upstream::Connector::Owner {
 public:
  /// `settings`: the listener's settings when the connection was accepted; it keeps them to its end.
  TcpSession(upstream::SessionServices& services, net::ListenerState& listener,
             std::shared_ptr<const net::ListenerSettings> settings, net::UniqueFd client,
             const net::Address& client_address);
  ~TcpSession() override;

  /// Starts choosing and connecting to a backend.
  void start();
  void close_now() override { finish(Outcome::Aborted); }
  /// The address the client connected to, when a PROXY header gave it (accept_proxy); otherwise
  /// the client socket's own address is used. Before start().
  void set_destination(const net::Address& address) { destination_ = address; }

 private:
  enum class State { Queued, Connecting, Relaying, Lingering, Ended };
  enum class Outcome { Done, Aborted };

  /// The epoll handler of one of the two sockets.
  struct Endpoint final : core::IoHandler {
    TcpSession* session = nullptr;
    bool is_client = false;
    void on_io(std::uint32_t events) override;
  };

  /// One direction of the relay: bytes read from `from` wait in `pipe` until written to `to`.
  /// With the loop's SendBatch (core/send_batch.h), a small message is read into `staging` and its
  /// send queued; the flow then waits for the result (`in_flight`) before it reads or writes again.
  struct Flow final : core::SendBatch::Completion {
    TcpSession* session = nullptr;
    core::Buffer staging;
    core::SendBatch::Ticket ticket = 0;
    bool in_flight = false;
    void on_sent(int sent_or_error) override { session->on_flow_sent(*this, sent_or_error); }
    int from = -1;
    int to = -1;
    net::Pipe pipe;
    std::size_t buffered = 0;  // bytes in the pipe
    bool read_done = false;    // `from` sent its FIN
    bool write_shut = false;   // the FIN was passed on to `to`
    bool readable = true;      // `from` may have bytes (edge seen, no short read since)
    bool writable = true;      // `to` may take bytes (no EAGAIN since its last EPOLLOUT)
    bool bulk = false;         // a full scratch buffer was read once: splice from now on
    bool peer_closing = false; // EPOLLRDHUP seen: a short read no longer proves there is nothing
                               // left, the FIN still has to be read
    std::uint64_t bytes = 0;
    bool done() const { return read_done && buffered == 0 && write_shut; }
  };
  enum class PumpResult { Ok, Error, Yield };

  /// Chooses the next backend and connects to it, or waits in the pool's queue.
  void connect_next();
  /// Connects to the backend the connector chose.
  void connect_chosen();
  // Connector::Owner: how a wait in the pool's queue ended.
  void backend_ready() override;
  void queue_timed_out() override;
  void on_backend_event(std::uint32_t events);
  void on_connect_failed(int error);
  /// A connect or relay that failed for want of a local resource (`error` is its errno, `what`
  /// the log message): the backend untouched, an `error` event; the client gets the unavailable
  /// text, or is cut if relaying began.
  void on_local_failure(const char* what, int error);
  /// Closes the socket to the backend being connected to (with a reset when `abortive`).
  void close_upstream(bool abortive);
  void on_connected(std::uint32_t backend_events);
  /// What an event on the client's (or the backend's) socket says about the two flows.
  void note_events(bool client_side, std::uint32_t events);
  void on_relay_event(bool client_side, std::uint32_t events);
  void relay();
  PumpResult pump(Flow& flow, int& budget);
  /// Reads one small message into the flow's staging buffer and queues its send.
  /// Reads a small message from `flow.from` into `into` (`room` bytes): the bytes read; 0 when
  /// nothing was (FIN, EAGAIN or EINTR, with the flow's flags updated); -1 on an error.
  ssize_t read_message(Flow& flow, char* into, std::size_t room);
  /// Puts what `flow.to` did not take of a message (`sent` of `size` bytes) into the pipe.
  bool park_unsent(Flow& flow, const char* message, std::size_t size, std::size_t sent);
  PumpResult queue_small_message(Flow& flow, core::SendBatch& batch);
  void on_flow_sent(Flow& flow, int sent_or_error);
  /// Forgets a queued send (its socket is about to close) and gives the staging buffer back.
  void drop_queued_send(Flow& flow);
  /// An error on socket `fd` (client's or backend's) is ending the relay: passive health and a log line.
  void note_error(int fd, int error);
  /// Counts `bytes` relayed by `flow` in the listener, pool and backend statistics.
  void count_relayed(const Flow& flow, std::uint64_t bytes);
  void on_timer();
  void refuse_unavailable();
  /// Sends the unavailable hook's body, or the listener's `unavailable` text (if any), and closes.
  void send_unavailable(std::string_view reason = "no backend available");
  void linger();
  void finish(Outcome outcome);

  upstream::SessionServices& services_;
  net::ListenerState& listener_;
  const std::shared_ptr<const net::ListenerSettings> settings_;
  /// The client-IP sticky table the connection was counted in (null when the pool has none).
  std::shared_ptr<balance::StickyTable> sticky_;
  /// The pool's selector: the listener's pool, or the one on_connection chose.
  upstream::Selector* selector_;
  /// The backend: chosen, its slot held, connected, each failure accounted for.
  upstream::Connector connector_;
  net::UniqueFd client_;
  net::UniqueFd upstream_;
  net::Address client_address_;
  std::optional<net::Address> destination_;  // see set_destination()
  /// The address the client connected to: for a send_proxy header.
  net::Address destination() const { return destination_ ? *destination_ : net::Address::local_of(client_.get()); }
  bool connected_ = false;
  bool upstream_registered_ = false;
  bool client_registered_ = false;  // watched for its leaving while queued
  bool relay_scheduled_ = false;
  State state_ = State::Connecting;
  Endpoint client_endpoint_;
  Endpoint upstream_endpoint_;
  Flow upstream_bound_;    // client -> backend
  Flow downstream_bound_;  // backend -> client
  core::Timer timer_;      // connect timeout, then idle timeout, then lingering limit

  // Metrics: this worker's blocks (single-writer counters). A tcp "request" is a connection.
  metrics::TrafficCounters* listener_stats_ = nullptr;
  metrics::TrafficCounters* pool_stats_ = nullptr;
  core::TimePoint started_{};  // accepted
};

}  // namespace fulcrum::l4
