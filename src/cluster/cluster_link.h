// The cluster's I/O: two threads of their own that talk to etcd with blocking calls
// (cluster/etcd_client.h) and hand what they learn to the control thread as tasks posted to its
// event loop.
//
// Why threads and not the control loop: etcd's JSON gateway is HTTP/1.1 with a streaming watch,
// and the only HTTP client in Fulcrum (libcurl, behind client::request()) blocks. Driving it
// non-blocking from the control loop would need a second HTTP/1.1 client (framing, chunked
// decoding, timeouts) next to the admin server's; two threads that do nothing but wait on etcd
// cost nothing on the data path and keep every slow or failing etcd call (seconds when it has no
// quorum) away from the loop that runs health checks and the admin API. The hand-over is the one
// Fulcrum uses everywhere: EventLoop::post(). The link never touches a pool.
//
//  - the writer thread runs the queued writes (put, delete, put under a new lease, lease
//    keep-alives and revocations), retrying each with backoff (100 ms doubling to 2 s) over the
//    endpoints while etcd is unreachable, and keeps the instance's own key alive (a lease of
//    kInstanceTtl, renewed and the key refreshed every second). Operators' changes (a put without
//    a lease: a backend's or a pool's record) go before registration traffic (puts under leases,
//    deletes, revocations), which comes in bursts of hundreds (backends starting together) at two
//    etcd round trips each and would otherwise hold a weight change or a drain back for as long;
//    order is kept where it matters: a write never overtakes an earlier one of the same backend
//    (a weight change waits for its backend's registration, two changes of one backend stay in
//    order), while one held change does not hold the others. Keep-alives go last, coalesced;
//  - the watcher thread reads every key under the root (a full read), hands it over as a
//    snapshot, then watches from the next revision, handing over each batch of events; when the
//    watch is compacted or broken it reads everything again (after a pause when broken).
//
// Connected means: the last call of both threads reached etcd. Every change of that is handed
// over too (`cluster_disconnected` comes from it).
//
// Owned by the ClusterStore (control thread); its public methods may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/etcd_client.h"

namespace fulcrum::cluster {

/// The instance key's lease: an instance gone this long leaves the list.
inline constexpr std::chrono::seconds kInstanceTtl{10};

class ClusterLink {
 public:
  /// What the link reports; every call runs on the control thread (posted to its loop).
  class Listener {
   public:
    /// Everything under the root at `revision` (a full read: at start, and after a break).
    virtual void on_snapshot(std::int64_t revision, std::vector<KeyValue> kvs) = 0;
    /// Changes after the last snapshot or batch, in order.
    virtual void on_events(std::vector<WatchEvent> events) = 0;
    /// The link reached etcd again (`connected`) or lost it (`reason` says how).
    virtual void on_connection(bool connected, const std::string& reason) = 0;
    /// A put under a new lease was written: `key` holds `lease` now.
    virtual void on_lease(const std::string& key, std::int64_t lease) = 0;
    /// A write etcd refused for good (not for being unreachable): dropped.
    virtual void on_write_failed(const std::string& key, const std::string& error) = 0;

   protected:
    ~Listener() = default;
  };

  /// `post` runs a task on the control thread; `listener` outlives the link. `instance_key` and
  /// `instance_value` (called on the writer thread, so it may read atomics only) make the
  /// instance's own record.
  ClusterLink(EtcdOptions options, std::string root, std::function<void(std::function<void()>)> post,
              Listener& listener, std::string instance_key, std::function<std::string()> instance_value);
  ~ClusterLink();
  ClusterLink(const ClusterLink&) = delete;
  ClusterLink& operator=(const ClusterLink&) = delete;

  void start();
  /// Ends both threads. The writes queued get up to a second to reach etcd, then the instance's
  /// lease is revoked (it leaves the list at once); past that second a blocked call is abandoned
  /// at curl's next progress check (about a second more at worst), and the instance's key
  /// expires with its lease. Idempotent.
  void stop();

  /// Queues a write (any thread). A put with no lease is an operator's change (see above).
  void put(std::string key, std::string value, std::int64_t lease = 0);
  /// Grants a lease of `ttl_seconds` and puts `key` under it; on_lease() says which.
  void put_with_new_lease(std::string key, std::string value, std::int64_t ttl_seconds);
  void remove(std::string key);
  /// Renews `lease` (coalesced: several renewals of one lease before it is sent are one).
  void keep_alive(std::int64_t lease);
  /// Ends `lease`, and so `key` (the registration it holds; ordered with that key's writes).
  void revoke(std::int64_t lease, std::string key);
  /// Writes queued and not yet done.
  std::size_t backlog() const;

 private:
  enum class Kind { Put, PutWithNewLease, Remove, KeepAlive, Revoke };
  struct Write {
    Kind kind = Kind::Put;
    std::string key;
    std::string value;
    std::int64_t lease = 0;  // Put: the key's lease; KeepAlive, Revoke: the lease
    std::int64_t ttl_seconds = 0;
    /// The pool and backend address it concerns (`pool/address`; a pool's record: `pool/`).
    std::string subject;
  };
  /// Where the write being done came from.
  enum class Queue { None, Changes, Routine, KeepAlives };

  void enqueue(Write write);
  /// The next write to do (under mutex_): the first operator's change with no routine write of
  /// its backend queued (nor an earlier change of it held back), else a routine write, else a
  /// keep-alive.
  Queue next_write(Write& write);
  /// Removes the write `next_write` gave, once done (under mutex_).
  void done(Queue queue);
  void run_writer();
  void run_watcher();
  /// Does `write`; false when etcd could not be reached (then it is tried again).
  bool perform(EtcdClient& client, const Write& write, std::string& error);
  /// Renews (or first creates) the instance's key; false when etcd could not be reached.
  bool heartbeat(EtcdClient& client, std::string& error);
  /// Records whether `writer` or the watcher reached etcd; hands over a change of the whole.
  void set_reached(bool writer, bool reached, const std::string& reason);
  /// Sleeps `pause` unless stop() comes first; false when stopping.
  bool pause(std::chrono::milliseconds pause);

  EtcdOptions options_;
  std::string root_;
  std::function<void(std::function<void()>)> post_;
  Listener& listener_;
  std::string instance_key_;
  std::function<std::string()> instance_value_;
  std::int64_t instance_lease_ = 0;  // writer thread

  std::atomic<bool> stopping_{false};
  /// stop() asked the writer to finish its queue and leave; it sets `drained_` when done.
  bool draining_ = false;
  bool drained_ = false;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Write> changes_;   // operators' changes, in order
  std::size_t change_index_ = 0;  // of the change being done (writer thread)
  std::deque<Write> routine_;   // registration traffic, in order
  std::map<std::string, std::size_t> routine_subjects_;  // routine writes queued, by subject
  std::set<std::int64_t> keep_alives_;
  bool writer_reached_ = false;
  bool watcher_reached_ = false;
  bool connected_ = false;
  bool reported_ = false;  // a connection state was handed over at least once
  std::thread writer_;
  std::thread watcher_;
};

}  // namespace fulcrum::cluster
