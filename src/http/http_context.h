// What the HTTP sessions of one listener share: per listener (all workers) the route table and the
// prebuilt responses of one generation of its settings; per worker and generation the head parsers
// used when a head arrives in one read, with the worker's buffer pool and backend connection pool.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/buffer.h"
#include "core/event_loop.h"
#include "fulcrum/config.h"
#include "http/message.h"
#include "http/parse_result.h"
#include "http/router.h"
#include "upstream/connection_pool.h"

namespace fulcrum::balance {
class Random;
}

namespace fulcrum::http {

class RequestParser;
class ResponseParser;

/// One http listener's immutable set-up, shared by every worker. Built at start and by each
/// reload that changes the listener.
class HttpListenerShared {
 public:
  /// `pool_names`: the balancer's pools by index. `route_slots[i]`: the counter slot of route i
  /// (of the catch-all route of a `pool:` listener when it has no routes).
  HttpListenerShared(const ListenerConfig& config, const std::vector<std::string>& pool_names,
                     std::vector<std::uint32_t> route_slots);

  const ListenerConfig& config() const { return config_; }
  /// The route of a request, or nullptr (404).
  const Route* route(const RequestHead& head) const;
  /// The counter slot of the route at `index` (Route::index()).
  std::uint32_t route_slot(std::size_t index) const {
    return index < route_slots_.size() ? route_slots_[index] : route_slots_.back();
  }
  HeadLimits request_limits() const { return limits_; }
  HeadLimits response_limits() const;
  /// The 503 answer: the listener's `unavailable` text or a short default.
  std::string_view unavailable_response() const { return unavailable_; }

 private:
  ListenerConfig config_;
  std::optional<Router> router_;
  std::vector<std::uint32_t> route_slots_;
  HeadLimits limits_;
  std::string unavailable_;
};

/// Per worker, listener and generation of the listener's settings; confined to the worker's
/// thread. A session holds the context of the generation its current request started under
/// (acquire()/release(), a count no other thread touches); the worker frees a replaced generation
/// once nobody holds it.
class HttpWorkerContext {
 public:
  HttpWorkerContext(std::shared_ptr<const HttpListenerShared> shared, core::EventLoop& loop, core::BufferPool& buffers,
                    upstream::ConnectionPool& connections, balance::Random& random);
  ~HttpWorkerContext();

  const HttpListenerShared& shared() const { return *shared_; }
  const ListenerConfig& config() const { return shared_->config(); }
  /// The worker's newest context for the same listener (this one until a reload replaces it).
  HttpWorkerContext* newest() const { return *newest_; }
  /// Called by the worker: where it keeps the newest context of this listener.
  void set_newest(HttpWorkerContext* const* newest) { newest_ = newest; }
  void acquire() { ++users_; }
  void release() { --users_; }
  std::size_t users() const { return users_; }
  core::EventLoop& loop() { return loop_; }
  core::BufferPool& buffers() { return buffers_; }
  upstream::ConnectionPool& connections() { return connections_; }
  balance::Random& random() { return random_; }
  /// Parsers for heads that arrive whole in one read: reset before use, never kept across reads.
  RequestParser& request_parser() { return *request_parser_; }
  ResponseParser& response_parser() { return *response_parser_; }
  /// A scratch string for writing heads (reused, so no allocation per request).
  std::string& scratch() { return scratch_; }

 private:
  std::shared_ptr<const HttpListenerShared> shared_;
  std::size_t users_ = 0;
  HttpWorkerContext* const* newest_ = nullptr;
  core::EventLoop& loop_;
  core::BufferPool& buffers_;
  upstream::ConnectionPool& connections_;
  balance::Random& random_;
  std::unique_ptr<RequestParser> request_parser_;
  std::unique_ptr<ResponseParser> response_parser_;
  std::string scratch_;
};

}  // namespace fulcrum::http
