#include "upstream/connection_pool.h"

#include <algorithm>

namespace fulcrum::upstream {

ConnectionPool::~ConnectionPool() {
  for (auto& [id, list] : idle_by_backend_) {
    for (auto* connection : list) delete connection;
  }
}

std::unique_ptr<UpstreamConnection> ConnectionPool::take(const Backend& backend) {
  const auto found = idle_by_backend_.find(backend.id());
  if (found == idle_by_backend_.end() || found->second.empty()) return nullptr;
  auto& list = found->second;
  std::unique_ptr<UpstreamConnection> connection(list.back());
  list.pop_back();
  --idle_count_;
  loop_.timers().cancel(connection->idle_timer_);
  connection->set_owner(nullptr);
  return connection;
}

void ConnectionPool::put(std::unique_ptr<UpstreamConnection> connection, std::uint32_t max_idle,
                         core::Milliseconds idle_timeout) {
  // A backend that left its pool (its drain timed out while this exchange ran) gets no idle
  // connection: nobody would reuse it, and its close_idle() has already run. Checked before the
  // slot is made, so a retired id leaves no entry behind.
  if (connection->backend().retired() || !connection->buffer().empty()) return discard(std::move(connection));
  auto& list = slot(connection->backend().id());
  if (list.size() >= max_idle) return discard(std::move(connection));
  buffers_.detach(connection->buffer());
  connection->set_owner(this);
  ++connection->reuses;
  loop_.timers().schedule(connection->idle_timer_, loop_.now() + idle_timeout);
  list.push_back(connection.release());
  ++idle_count_;
}

void ConnectionPool::close_idle(std::uint64_t backend_id) {
  const auto found = idle_by_backend_.find(backend_id);
  if (found == idle_by_backend_.end()) return;
  for (UpstreamConnection* connection : found->second) {
    --idle_count_;
    discard(std::unique_ptr<UpstreamConnection>(connection));
  }
  idle_by_backend_.erase(found);
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
  const auto found = idle_by_backend_.find(connection.backend().id());
  if (found == idle_by_backend_.end()) return;
  auto& list = found->second;
  auto it = std::find(list.begin(), list.end(), &connection);
  if (it == list.end()) return;
  list.erase(it);
  if (list.empty()) idle_by_backend_.erase(found);
  --idle_count_;
  connection.set_owner(nullptr);
  loop_.timers().cancel(connection.idle_timer_);
  // Deferred: the event may be one of several fetched for this fd in the current turn.
  loop_.defer([&connection] { delete &connection; });
}

}  // namespace fulcrum::upstream
