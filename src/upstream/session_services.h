// What a client session (src/http/, src/l4/) may use of the worker that owns it: the worker's
// loop, buffers, pipes, metrics, event bus and access log, a selector per pool, and the report of
// its end. The worker (src/runtime/) implements it; sessions never see the worker itself, so the
// data path does not reach into the runtime that builds and reloads it.
//
// The accessors are plain references fixed at construction (no virtual call on the data path);
// only what the worker decides (selectors, which a reload adds to; the end of a session) is virtual.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "core/buffer.h"
#include "core/event_loop.h"
#include "events/access_log.h"
#include "events/event_bus.h"
#include "fulcrum/hooks.h"
#include "metrics/worker_metrics.h"
#include "net/listener_state.h"
#include "net/pipe_pool.h"
#include "net/session.h"
#include "upstream/selector.h"

namespace fulcrum::upstream {

class SessionServices {
 public:
  /// A buffer for data passed straight through within one call (never kept across calls).
  using Scratch = std::array<char, 16 * 1024>;

  SessionServices(const SessionServices&) = delete;
  SessionServices& operator=(const SessionServices&) = delete;

  /// The worker's number (the access log's shard, request ids).
  unsigned index() const { return index_; }
  core::EventLoop& loop() { return loop_; }
  /// The balancer's event bus. Sessions ask events().sample(Event::X) (one relaxed load while
  /// nobody listens) before building a per-request event's details.
  events::EventBus& events() { return events_; }
  /// The access log, or null when it is off. log() with index() as the shard.
  events::AccessLog* access_log() { return access_log_; }
  net::PipePool& pipes() { return pipes_; }
  Scratch& scratch() { return scratch_; }
  /// The worker's buffer blocks (HTTP sessions' buffers; TCP sessions' batched sends).
  core::BufferPool& buffers() { return buffers_; }
  /// The worker's statistics, written by its sessions.
  metrics::WorkerMetrics& metrics() { return metrics_; }
  /// The library's hooks (fulcrum/hooks.h), or null when none were set.
  const Hooks* hooks() const { return hooks_; }

  /// The worker's selector for pool `pool_index` (the index a route or listener names).
  virtual Selector& selector(std::size_t pool_index) = 0;
  /// The index of the pool named `name` (a hook's "use pool X"); nullopt when there is none.
  virtual std::optional<std::size_t> pool_index(std::string_view name) = 0;
  /// True once the worker began draining: sessions finish what is in flight and take nothing new.
  virtual bool draining() const = 0;
  /// A session reports its end, once; the worker destroys it after the current loop turn.
  virtual void session_ended(net::Session& session, net::ListenerState& listener) = 0;

 protected:
  SessionServices(unsigned index, core::EventLoop& loop, events::EventBus& events, events::AccessLog* access_log,
                  net::PipePool& pipes, Scratch& scratch, core::BufferPool& buffers, metrics::WorkerMetrics& metrics,
                  const Hooks* hooks)
      : index_(index),
        loop_(loop),
        events_(events),
        access_log_(access_log),
        pipes_(pipes),
        scratch_(scratch),
        buffers_(buffers),
        metrics_(metrics),
        hooks_(hooks) {}
  ~SessionServices() = default;

 private:
  const unsigned index_;
  core::EventLoop& loop_;
  events::EventBus& events_;
  events::AccessLog* const access_log_;
  net::PipePool& pipes_;
  Scratch& scratch_;
  core::BufferPool& buffers_;
  metrics::WorkerMetrics& metrics_;
  const Hooks* const hooks_;
};

}  // namespace fulcrum::upstream
