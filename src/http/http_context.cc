#include "http/http_context.h"

#include "http/error_response.h"
#include "http/request_parser.h"
#include "http/response_parser.h"

namespace fulcrum::http {

namespace {

std::optional<Router> build_router(const ListenerConfig& config, const std::vector<std::string>& pool_names) {
  auto index_of = [&](std::string_view name) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < pool_names.size(); ++i) {
      if (pool_names[i] == name) return i;
    }
    return std::nullopt;
  };
  // The configuration was validated before start, so every route names a pool.
  return Router::for_listener(config, index_of);
}

}  // namespace

HttpListenerShared::HttpListenerShared(const ListenerConfig& config, const std::vector<std::string>& pool_names,
                                       std::vector<std::uint32_t> route_slots)
    : config_(config), router_(build_router(config, pool_names)), route_slots_(std::move(route_slots)) {
  if (route_slots_.empty()) route_slots_.push_back(0);
  limits_.max_head_bytes = config.max_header_size;
  limits_.max_headers = config.max_headers;
  limits_.max_request_line_bytes = std::min<std::size_t>(limits_.max_request_line_bytes, config.max_header_size);
  unavailable_ = config.unavailable ? make_error_response(503, *config.unavailable, /*close=*/true)
                                    : std::string(error_response(503));
}

const Route* HttpListenerShared::route(const RequestHead& head) const {
  return router_ ? router_->match(request_view(head)) : nullptr;
}

HeadLimits HttpListenerShared::response_limits() const {
  HeadLimits limits = limits_;
  limits.max_headers = std::max<std::size_t>(limits.max_headers, 100);
  return limits;
}

HttpWorkerContext::HttpWorkerContext(std::shared_ptr<const HttpListenerShared> shared, core::EventLoop& loop,
                                     core::BufferPool& buffers, upstream::ConnectionPool& connections,
                                     balance::Random& random)
    : shared_(std::move(shared)),
      loop_(loop),
      buffers_(buffers),
      connections_(connections),
      random_(random),
      request_parser_(std::make_unique<RequestParser>(shared_->request_limits())),
      response_parser_(std::make_unique<ResponseParser>(shared_->response_limits())) {
  scratch_.reserve(shared_->config().max_header_size + 4096);
}

HttpWorkerContext::~HttpWorkerContext() = default;

}  // namespace fulcrum::http
