#include "cluster/cluster_link.h"

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
  {
    std::lock_guard lock(mutex_);
    if (write.kind == Kind::KeepAlive) {
      keep_alives_.insert(write.lease);
    } else if (writes_.size() >= kMaxBacklog) {
      log::warn("cluster: too many writes waiting for etcd, one dropped", {{"key", write.key}});
      return;
    } else {
      writes_.push_back(std::move(write));
    }
  }
  wake_.notify_all();
}

void ClusterLink::put(std::string key, std::string value, std::int64_t lease) {
  enqueue({Kind::Put, std::move(key), std::move(value), lease, 0});
}
void ClusterLink::put_with_new_lease(std::string key, std::string value, std::int64_t ttl_seconds) {
  enqueue({Kind::PutWithNewLease, std::move(key), std::move(value), 0, ttl_seconds});
}
void ClusterLink::remove(std::string key) { enqueue({Kind::Remove, std::move(key), {}, 0, 0}); }
void ClusterLink::keep_alive(std::int64_t lease) { enqueue({Kind::KeepAlive, {}, {}, lease, 0}); }
void ClusterLink::revoke(std::int64_t lease) { enqueue({Kind::Revoke, {}, {}, lease, 0}); }

std::size_t ClusterLink::backlog() const {
  std::lock_guard lock(mutex_);
  return writes_.size() + keep_alives_.size();
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
    bool have_write = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_heartbeat, [this] {
        return stopping_.load() || draining_ || !writes_.empty() || !keep_alives_.empty();
      });
      if (stopping_) break;
      if (draining_ && writes_.empty()) break;
      if (!writes_.empty()) {
        write = writes_.front();
        have_write = true;
      } else if (!keep_alives_.empty()) {
        write.kind = Kind::KeepAlive;
        write.lease = *keep_alives_.begin();
        keep_alives_.erase(keep_alives_.begin());
        have_write = true;
      }
    }
    std::string error;
    bool reached = true;
    if (std::chrono::steady_clock::now() >= next_heartbeat) {
      reached = heartbeat(client, error);
      next_heartbeat = std::chrono::steady_clock::now() + kHeartbeat;
    }
    if (reached && have_write) {
      reached = perform(client, write, error);
      std::lock_guard lock(mutex_);
      if (write.kind != Kind::KeepAlive) {
        if (reached) writes_.pop_front();
      } else if (!reached) {
        keep_alives_.insert(write.lease);  // once more when etcd is back
      }
    } else if (!reached && have_write && write.kind == Kind::KeepAlive) {
      std::lock_guard lock(mutex_);
      keep_alives_.insert(write.lease);
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
