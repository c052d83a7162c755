#include "http/session_socket.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <span>

#include "core/log.h"
#include "http/http_session.h"

namespace fulcrum::http {

void SessionSocket::note_events(std::uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) closing = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable = true;
}

void SessionSocket::drop_queued_send(core::EventLoop& loop) {
  if (queued_.in_flight) {
    loop.send_batch()->cancel(queued_.ticket);
    --queued_.gate->in_flight_;
  }
  queued_.in_flight = false;
  queued_.done = false;
}

void SessionSocket::QueuedSend::on_sent(int sent_or_error) {
  in_flight = false;
  done = true;
  result = sent_or_error;
  --gate->in_flight_;
  gate->session_.on_send_completed();
}

Io SessionSocket::read(int fd, core::Buffer& buffer, core::BufferPool& buffers, core::EventLoop& loop,
                       std::size_t& got) {
  got = 0;
  if (queued_.gate->sending()) return Io::Blocked;  // before anything that could end the session
  if (eof) return Io::Eof;
  if (!readable) return Io::Blocked;
  buffers.attach(buffer);
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
    activity = loop.now();
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

Io SessionSocket::send_parts(int fd, SendSite site, std::string_view first, std::string_view second,
                             core::EventLoop& loop, std::size_t& sent) {
  sent = 0;
  if (queued_.gate->sending()) return Io::Blocked;
  if (queued_.done ? queued_.site != site : !writable) return Io::Blocked;
  // A head and the body bytes behind it leave in one syscall.
  iovec parts[2] = {{const_cast<char*>(first.data()), first.size()}, {const_cast<char*>(second.data()), second.size()}};
  const std::span<const iovec> used(first.empty() ? &parts[1] : parts, first.empty() || second.empty() ? 1 : 2);
  const char* data = used[0].iov_base ? static_cast<const char*>(used[0].iov_base) : "";
  const std::size_t size = first.size() + second.size();
  ssize_t n;
  if (queued_.done) {
    // The send queued earlier is reached again: take its result.
    queued_.done = false;
    if (queued_.data != data || queued_.size != size) {
      // The session's state moved while its send was in flight; the bytes that left are not the
      // ones this call would account for. Never guess about a byte stream: cut the connection.
      log::error("queued send replayed with other data", {{"listener", queued_.gate->session_.listener_name()}});
      return Io::Error;
    }
    n = queued_.result;
    if (n < 0) {
      errno = static_cast<int>(-n);
      n = -1;
    }
  } else if (auto* batch = loop.send_batch()) {
    queued_.site = site;
    queued_.data = data;
    queued_.size = size;
    queued_.in_flight = true;
    ++queued_.gate->in_flight_;
    queued_.ticket = batch->queue(fd, used, queued_);
    return Io::Blocked;
  } else {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(used.data());
    message.msg_iovlen = used.size();
    n = sendmsg(fd, &message, MSG_NOSIGNAL);
  }
  if (n >= 0) {
    sent = static_cast<std::size_t>(n);
    if (sent < size) writable = false;  // the socket buffer is full: wait for EPOLLOUT
    activity = loop.now();
    return Io::Progress;
  }
  if (errno == EAGAIN || errno == EINTR) {
    writable = false;
    return Io::Blocked;
  }
  return Io::Error;
}

}  // namespace fulcrum::http
