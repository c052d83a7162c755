// What the HTTP sessions of one listener share: per listener (all workers) the route table and the
// prebuilt responses; per worker the head parsers used when a head arrives in one read, the buffer
// pool and the backend connection pool.
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

/// One http listener's immutable set-up, shared by every worker. Built at start.
class HttpListenerShared {
 public:
  /// `pool_index_of` maps a pool name to its index in the balancer's pool list.
  HttpListenerShared(const ListenerConfig& config, const std::vector<std::string>& pool_names);

  const ListenerConfig& config() const { return config_; }
  /// The route of a request, or nullptr (404).
  const Route* route(const RequestHead& head) const;
  HeadLimits request_limits() const { return limits_; }
  HeadLimits response_limits() const;
  /// The 503 answer: the listener's `unavailable` text or a short default.
  std::string_view unavailable_response() const { return unavailable_; }

 private:
  ListenerConfig config_;
  std::optional<Router> router_;
  HeadLimits limits_;
  std::string unavailable_;
};

/// Per worker and listener; confined to the worker's thread.
class HttpWorkerContext {
 public:
  HttpWorkerContext(const HttpListenerShared& shared, core::EventLoop& loop, core::BufferPool& buffers,
                    upstream::ConnectionPool& connections, balance::Random& random);
  ~HttpWorkerContext();

  const HttpListenerShared& shared() const { return shared_; }
  const ListenerConfig& config() const { return shared_.config(); }
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
  const HttpListenerShared& shared_;
  core::EventLoop& loop_;
  core::BufferPool& buffers_;
  upstream::ConnectionPool& connections_;
  balance::Random& random_;
  std::unique_ptr<RequestParser> request_parser_;
  std::unique_ptr<ResponseParser> response_parser_;
  std::string scratch_;
};

}  // namespace fulcrum::http
