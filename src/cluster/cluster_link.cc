#include "cluster/cluster_link.h"

#include "cluster/cluster_records.h"
#include "core/log.h"

namespace fulcrum::cluster {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2'000};
/// The instance's lease is renewed and its key refreshed this often.
constexpr std::chrono::milliseconds kHeartbeat{1'000};
/// Writes queued at most: past it a write is dropped and logged (the API refuses writes while
/// etcd is away, so only a flood while connected gets here).
constexpr std::size_t kMaxBacklog = 65'536;
/// How far into the changes the writer looks for one free to go (past it, changes wait for the
/// routine writes before them: bounds the search when thousands are held).
constexpr std::size_t kChangesLookedAt = 256;
/// How long stop() lets the writer finish its queue (changes answered just before a shutdown).
constexpr std::chrono::milliseconds kDrainTime{1'000};

}  // namespace

ClusterLink::ClusterLink(EtcdOptions options, std::string root, std::function<void(std::function<void()>)> post,
                         Listener& listener, std::string instance_key, std::function<std::string()> instance_value)
    : options_(std::move(options)),
      root_(std::move(root)),
      post_(std::move(post)),
      listener_(listener),
      instance_key_(std::move(instance_key)),
      instance_value_(std::move(instance_value)) {
  options_.cancel = &stopping_;
}

ClusterLink::~ClusterLink() { stop(); }

void ClusterLink::start() {
  writer_ = std::thread([this] { run_writer(); });
  watcher_ = std::thread([this] { run_watcher(); });
}

void ClusterLink::stop() {
  if (writer_.joinable()) {
    std::unique_lock lock(mutex_);
    draining_ = true;
    wake_.notify_all();
    wake_.wait_for(lock, kDrainTime, [this] { return drained_; });
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (watcher_.joinable()) watcher_.join();
}

void ClusterLink::enqueue(Write write) {
  if (const auto parsed = parse_record_key(root_, write.key)) write.subject = parsed->first + "/" + parsed->address;
  {
    std::lock_guard lock(mutex_);
    if (write.kind == Kind::KeepAlive) {
      keep_alives_.insert(write.lease);
    } else if (changes_.size() + routine_.size() >= kMaxBacklog) {
      log::warn("cluster: too many writes waiting for etcd, one dropped", {{"key", write.key}});
      return;
    } else if (write.kind == Kind::Put && write.lease == 0) {
      changes_.push_back(std::move(write));
    } else {
      ++routine_subjects_[write.subject];
      routine_.push_back(std::move(write));
    }
  }
  wake_.notify_all();
}

void ClusterLink::put(std::string key, std::string value, std::int64_t lease) {
  enqueue({Kind::Put, std::move(key), std::move(value), lease, 0, {}});
}
void ClusterLink::put_with_new_lease(std::string key, std::string value, std::int64_t ttl_seconds) {
  enqueue({Kind::PutWithNewLease, std::move(key), std::move(value), 0, ttl_seconds, {}});
}
void ClusterLink::remove(std::string key) { enqueue({Kind::Remove, std::move(key), {}, 0, 0, {}}); }
void ClusterLink::keep_alive(std::int64_t lease) { enqueue({Kind::KeepAlive, {}, {}, lease, 0, {}}); }
void ClusterLink::revoke(std::int64_t lease, std::string key) {
  enqueue({Kind::Revoke, std::move(key), {}, lease, 0, {}});
}

ClusterLink::Queue ClusterLink::next_write(Write& write) {
  // The first change free to go: none of its backend's registration writes queued, nor an
  // earlier change of its own held back (a held change must not stop the others behind it).
  std::set<std::string_view> held;
  const std::size_t looked_at = std::min(changes_.size(), kChangesLookedAt);
  for (std::size_t i = 0; i < looked_at; ++i) {
    const std::string& subject = changes_[i].subject;
    if (routine_subjects_.contains(subject) || held.contains(subject)) {
      held.insert(subject);
      continue;
    }
    change_index_ = i;
    write = changes_[i];
    return Queue::Changes;
  }
  if (!routine_.empty()) {
    write = routine_.front();
    return Queue::Routine;
  }
  if (!keep_alives_.empty()) {
    write = Write{Kind::KeepAlive, {}, {}, *keep_alives_.begin(), 0, {}};
    keep_alives_.erase(keep_alives_.begin());
    return Queue::KeepAlives;
  }
  return Queue::None;
}

void ClusterLink::done(Queue queue) {
  if (queue == Queue::Changes) {
    changes_.erase(changes_.begin() + static_cast<std::ptrdiff_t>(change_index_));
  } else if (queue == Queue::Routine) {
    const auto subject = routine_subjects_.find(routine_.front().subject);
    if (--subject->second == 0) routine_subjects_.erase(subject);
    routine_.pop_front();
  }
}

std::size_t ClusterLink::backlog() const {
  std::lock_guard lock(mutex_);
  return changes_.size() + routine_.size() + keep_alives_.size();
}

bool ClusterLink::pause(std::chrono::milliseconds pause) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, pause, [this] { return stopping_.load(); });
}

void ClusterLink::set_reached(bool writer, bool reached, const std::string& reason) {
  bool changed = false;
  bool connected = false;
  {
    std::lock_guard lock(mutex_);
    (writer ? writer_reached_ : watcher_reached_) = reached;
    connected = writer_reached_ && watcher_reached_;
    // Connected is reported once both threads got through; lost as soon as either fails.
    if (!reached || connected) {
      changed = !reported_ || connected != connected_;
      connected_ = connected;
      reported_ = true;
    }
  }
  if (changed && !stopping_) {
    post_([this, connected, reason] { listener_.on_connection(connected, reason); });
  }
}

bool ClusterLink::perform(EtcdClient& client, const Write& write, std::string& error) {
  CallStatus status;
  switch (write.kind) {
    case Kind::Put:
      status = client.put(write.key, write.value, write.lease);
      break;
    case Kind::Remove:
      status = client.remove(write.key);
      break;
    case Kind::Revoke:
      status = client.revoke(write.lease);
      break;
    case Kind::KeepAlive:
      client.keep_alive(write.lease, status);
      break;
    case Kind::PutWithNewLease: {
      const LeaseAnswer lease = client.grant(write.ttl_seconds, status);
      if (!status.ok()) break;
      status = client.put(write.key, write.value, lease.id);
      if (status.ok()) {
        post_([this, key = write.key, id = lease.id] { listener_.on_lease(key, id); });
      } else if (status.reached) {
        client.revoke(lease.id);
      }
      break;
    }
  }
  if (status.ok()) return true;
  error = status.error;
  if (!status.reached) return false;
  // etcd answered no: trying again would get the same answer.
  post_([this, key = write.key, error] { listener_.on_write_failed(key, error); });
  return true;
}

bool ClusterLink::heartbeat(EtcdClient& client, std::string& error) {
  CallStatus status;
  if (instance_lease_ != 0) {
    const LeaseAnswer renewed = client.keep_alive(instance_lease_, status);
    if (!status.reached) {
      error = status.error;
      return false;
    }
    if (!status.ok() || renewed.ttl <= 0) instance_lease_ = 0;  // expired while etcd was away
  }
  if (instance_lease_ == 0) {
    const LeaseAnswer granted = client.grant(kInstanceTtl.count(), status);
    if (!status.ok()) {
      error = status.error;
      return status.reached;
    }
    instance_lease_ = granted.id;
  }
  status = client.put(instance_key_, instance_value_(), instance_lease_);
  error = status.error;
  return status.reached;
}

void ClusterLink::run_writer() {
  EtcdClient client(options_);
  auto backoff = kFirstBackoff;
  auto next_heartbeat = std::chrono::steady_clock::now();
  while (!stopping_) {
    Write write;
    Queue queue = Queue::None;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_heartbeat, [this] {
        return stopping_.load() || draining_ || !changes_.empty() || !routine_.empty() || !keep_alives_.empty();
      });
      if (stopping_) break;
      if (draining_ && changes_.empty() && routine_.empty()) break;
      queue = next_write(write);
    }
    std::string error;
    bool reached = true;
    if (std::chrono::steady_clock::now() >= next_heartbeat) {
      reached = heartbeat(client, error);
      next_heartbeat = std::chrono::steady_clock::now() + kHeartbeat;
    }
    if (reached && queue != Queue::None) reached = perform(client, write, error);
    {
      std::lock_guard lock(mutex_);
      if (reached) {
        done(queue);
      } else if (queue == Queue::KeepAlives) {
        keep_alives_.insert(write.lease);  // once more when etcd is back
      }
    }
    set_reached(true, reached, error);
    if (reached) {
      backoff = kFirstBackoff;
      continue;
    }
    if (!pause(backoff)) break;
    backoff = std::min(backoff * 2, kMaxBackoff);
    next_heartbeat = std::chrono::steady_clock::now();  // the heartbeat says when etcd is back
  }
  // A clean stop: the instance leaves the list now rather than when its lease lapses.
  if (!stopping_ && instance_lease_ != 0) client.revoke(instance_lease_);
  {
    std::lock_guard lock(mutex_);
    drained_ = true;
  }
  wake_.notify_all();
}

void ClusterLink::run_watcher() {
  EtcdClient client(options_);
  auto backoff = kFirstBackoff;
  while (!stopping_) {
    CallStatus status;
    RangeAnswer everything = client.range(root_, status);
    if (!status.ok()) {
      set_reached(false, false, status.error);
      if (!pause(backoff)) return;
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    set_reached(false, true, {});
    backoff = kFirstBackoff;
    std::int64_t revision = everything.revision;
    post_([this, revision, kvs = std::move(everything.kvs)]() mutable {
      listener_.on_snapshot(revision, std::move(kvs));
    });
    for (;;) {
      std::string error;
      const WatchEnd end = client.watch(
          root_, revision + 1,
          [&](const WatchMessage& message) {
            if (message.events.empty()) return true;
            for (const auto& event : message.events) revision = std::max(revision, event.kv.mod_revision);
            post_([this, events = message.events]() mutable { listener_.on_events(std::move(events)); });
            return true;
          },
          error);
      if (end == WatchEnd::Quiet) continue;
      if (end == WatchEnd::Cancelled || end == WatchEnd::Stopped || stopping_) return;
      if (end == WatchEnd::Compacted) {
        log::info("cluster: the watch fell behind etcd's compaction; reading everything again");
        break;
      }
      set_reached(false, false, error);
      if (!pause(backoff)) return;
      backoff = std::min(backoff * 2, kMaxBackoff);
      break;
    }
  }
}

}  // namespace fulcrum::cluster
