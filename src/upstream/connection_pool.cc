#include "upstream/connection_pool.h"

#include <algorithm>

namespace fulcrum::upstream {

ConnectionPool::~ConnectionPool() {
  for (auto& list : idle_by_backend_) {
    for (auto* connection : list) delete connection;
  }
}

std::vector<UpstreamConnection*>& ConnectionPool::slot(std::uint64_t backend_id) {
  if (backend_id >= idle_by_backend_.size()) idle_by_backend_.resize(backend_id + 1);
  return idle_by_backend_[backend_id];
}

std::unique_ptr<UpstreamConnection> ConnectionPool::take(const Backend& backend) {
  if (backend.id() >= idle_by_backend_.size()) return nullptr;
  auto& list = idle_by_backend_[backend.id()];
  if (list.empty()) return nullptr;
  std::unique_ptr<UpstreamConnection> connection(list.back());
  list.pop_back();
  --idle_count_;
  loop_.timers().cancel(connection->idle_timer_);
  connection->set_owner(nullptr);
  return connection;
}

void ConnectionPool::put(std::unique_ptr<UpstreamConnection> connection, std::uint32_t max_idle,
                         core::Milliseconds idle_timeout) {
  auto& list = slot(connection->backend().id());
  if (list.size() >= max_idle || !connection->buffer().empty()) return discard(std::move(connection));
  buffers_.detach(connection->buffer());
  connection->set_owner(this);
  ++connection->reuses;
  loop_.timers().schedule(connection->idle_timer_, loop_.now() + idle_timeout);
  list.push_back(connection.release());
  ++idle_count_;
}

void ConnectionPool::discard(std::unique_ptr<UpstreamConnection> connection) {
  if (!connection) return;
  connection->set_owner(nullptr);
  loop_.timers().cancel(connection->idle_timer_);
  loop_.defer([connection = connection.release()] { delete connection; });
}

void ConnectionPool::on_upstream_io(UpstreamConnection& connection, std::uint32_t events) {
  // Anything on an idle connection but writability (a close, an error, unexpected bytes, the idle
  // timeout) ends it.
  if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
  auto& list = slot(connection.backend().id());
  auto it = std::find(list.begin(), list.end(), &connection);
  if (it == list.end()) return;
  list.erase(it);
  --idle_count_;
  connection.set_owner(nullptr);
  loop_.timers().cancel(connection.idle_timer_);
  // Deferred: the event may be one of several fetched for this fd in the current turn.
  loop_.defer([&connection] { delete &connection; });
}

}  // namespace fulcrum::upstream
