// HttpSession, continued: socket I/O with readiness flags, and the sends batched through the loop's
// SendBatch (see QueuedSend in http_session.h). The request side is in http_session.cc, the response
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

void HttpSession::drop_queued_send(QueuedSend& queued) {
  // Before its socket is closed: the fd number could be reused by the next accept or connect of
  // this turn, and the queued bytes must not land on that connection.
  if (queued.in_flight) context_->loop().send_batch()->cancel(queued.ticket);
  queued.in_flight = false;
  queued.done = false;
}

void HttpSession::QueuedSend::on_sent(int sent_or_error) {
  in_flight = false;
  done = true;
  result = sent_or_error;
  session->on_send_completed();
}

void HttpSession::on_send_completed() {
  // Events that came meanwhile only set readiness flags; drive() picks them up.
  if (!sending() && phase_ != Phase::Ended) drive();
}

HttpSession::Io HttpSession::read_socket(int fd, core::Buffer& buffer, bool& readable, bool& eof, bool closing,
                                         core::TimePoint& activity, std::size_t& got) {
  got = 0;
  if (sending()) return Io::Blocked;  // before anything that could end the session (see QueuedSend)
  if (eof) return Io::Eof;
  if (!readable) return Io::Blocked;
  context_->buffers().attach(buffer);
  if (buffer.tail_room() == 0) buffer.compact();
  const std::size_t room = buffer.tail_room();
  if (room == 0) return Io::Blocked;  // full: the reader must consume first (backpressure)
  const ssize_t n = recv(fd, buffer.tail(), room, 0);
  if (n > 0) {
    got = static_cast<std::size_t>(n);
    buffer.produced(got);
    // A short read drained the socket: the next bytes will raise a new edge (a FIN that came with
    // these bytes will not, hence `closing`, set on EPOLLRDHUP).
    if (got < room && !closing) readable = false;
    activity = context_->loop().now();
    return Io::Progress;
  }
  if (n == 0) {
    eof = true;
    return Io::Eof;
  }
  if (errno == EAGAIN || errno == EINTR) {
    readable = false;
    return Io::Blocked;
  }
  return Io::Error;
}

HttpSession::Io HttpSession::read_client() {
  std::size_t got = 0;
  const Io io = read_socket(client_.get(), client_in_, client_readable_, client_eof_, client_closing_,
                            client_activity_, got);
  if (got > 0) {
    listener_stats_->bytes_in.add(got);
    if (phase_ == Phase::Exchange && !request_done_) body_rate_.received(got, client_activity_);
  }
  return io;
}

HttpSession::Io HttpSession::read_upstream() {
  std::size_t got = 0;
  const Io io = read_socket(upstream_->fd(), upstream_->buffer(), upstream_readable_, upstream_eof_,
                            upstream_closing_, upstream_activity_, got);
  if (got > 0) {
    if (auto* backend_stats = connector_.backend_stats()) backend_stats->traffic.bytes_in.add(got);
    if (pool_stats_) pool_stats_->bytes_in.add(got);
  }
  return io;
}

HttpSession::Io HttpSession::send_parts(SendSite site, std::string_view first, std::string_view second,
                                         std::size_t& sent) {
  sent = 0;
  const bool backend = to_backend(site);
  const int fd = backend ? upstream_->fd() : client_.get();
  bool& writable = backend ? upstream_writable_ : client_writable_;
  core::TimePoint& activity = backend ? upstream_activity_ : client_activity_;
  QueuedSend& queued = backend ? upstream_send_ : client_send_;
  if (sending()) return Io::Blocked;
  if (queued.done ? queued.site != site : !writable) return Io::Blocked;
  // A head and the body bytes behind it leave in one syscall.
  iovec parts[2] = {{const_cast<char*>(first.data()), first.size()}, {const_cast<char*>(second.data()), second.size()}};
  const std::span<const iovec> used(first.empty() ? &parts[1] : parts, first.empty() || second.empty() ? 1 : 2);
  const char* data = used[0].iov_base ? static_cast<const char*>(used[0].iov_base) : "";
  const std::size_t size = first.size() + second.size();
  ssize_t n;
  if (queued.done) {
    // The send queued earlier is reached again: take its result.
    queued.done = false;
    if (queued.data != data || queued.size != size) {
      // The session's state moved while its send was in flight; the bytes that left are not the
      // ones this call would account for. Never guess about a byte stream: cut the connection.
      log::error("queued send replayed with other data", {{"listener", context_->config().name}});
      return Io::Error;
    }
    n = queued.result;
    if (n < 0) {
      errno = static_cast<int>(-n);
      n = -1;
    }
  } else if (auto* batch = context_->loop().send_batch()) {
    queued.site = site;
    queued.data = data;
    queued.size = size;
    queued.in_flight = true;
    queued.ticket = batch->queue(fd, used, queued);
    return Io::Blocked;
  } else {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(used.data());
    message.msg_iovlen = used.size();
    n = sendmsg(fd, &message, MSG_NOSIGNAL);
  }
  if (n >= 0) {
    sent = static_cast<std::size_t>(n);
    if (!backend) {
      listener_stats_->bytes_out.add(sent);
      if (exchange_record_) exchange_record_->bytes_out += sent;
    } else {
      if (auto* backend_stats = connector_.backend_stats()) backend_stats->traffic.bytes_out.add(sent);
      if (pool_stats_) pool_stats_->bytes_out.add(sent);
    }
    if (sent < first.size() + second.size()) writable = false;  // the socket buffer is full: wait for EPOLLOUT
    activity = context_->loop().now();
    return Io::Progress;
  }
  if (errno == EAGAIN || errno == EINTR) {
    writable = false;
    return Io::Blocked;
  }
  return Io::Error;
}

}  // namespace fulcrum::http
