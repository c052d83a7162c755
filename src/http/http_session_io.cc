// HttpSession, continued: socket I/O (SessionSocket: readiness flags, the sends batched through the
// loop's SendBatch) and the counters of the bytes. The request side is in http_session.cc, the response
// side in http_session_response.cc.
#include <sys/socket.h>

#include <cerrno>
#include <span>

#include "core/log.h"
#include "http/http_context.h"
#include "http/http_session.h"
#include "net/listener_state.h"
#include "upstream/session_services.h"

namespace fulcrum::http {

const std::string& HttpSession::listener_name() const { return context_->config().name; }

void HttpSession::on_send_completed() {
  // Events that came meanwhile only set readiness flags; drive() picks them up.
  if (!sending() && phase_ != Phase::Ended) drive();
}

Io HttpSession::read_client() {
  std::size_t got = 0;
  const Io io = client_socket_.read(client_.get(), client_in_, context_->buffers(), context_->loop(), got);
  if (got > 0) {
    listener_stats_->bytes_in.add(got);
    if (phase_ == Phase::Exchange && !request_done_) body_rate_.received(got, client_socket_.activity);
  }
  return io;
}

Io HttpSession::read_upstream() {
  std::size_t got = 0;
  const Io io = upstream_socket_.read(upstream_->fd(), upstream_->buffer(), context_->buffers(), context_->loop(), got);
  if (got > 0) {
    if (auto* backend_stats = connector_.backend_stats()) backend_stats->traffic.bytes_in.add(got);
    if (pool_stats_) pool_stats_->bytes_in.add(got);
  }
  return io;
}

Io HttpSession::send_parts(SendSite site, std::string_view first, std::string_view second, std::size_t& sent) {
  const bool backend = to_backend(site);
  SessionSocket& socket = backend ? upstream_socket_ : client_socket_;
  const Io io = socket.send_parts(backend ? upstream_->fd() : client_.get(), site, first, second, context_->loop(), sent);
  if (io != Io::Progress) return io;
  if (!backend) {
    listener_stats_->bytes_out.add(sent);
    if (exchange_record_) exchange_record_->bytes_out += sent;
  } else {
    if (auto* backend_stats = connector_.backend_stats()) backend_stats->traffic.bytes_out.add(sent);
    if (pool_stats_) pool_stats_->bytes_out.add(sent);
  }
  return io;
}

}  // namespace fulcrum::http
