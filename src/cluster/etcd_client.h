// A client of etcd v3's JSON gateway over HTTP/1.1 (range, put, delete, lease grant/keepalive/
// revoke, watch), with failover over several endpoints and etcd's user/password authentication.
//
// Why the JSON gateway and blocking calls: the gateway is served by every etcd 3.x on the client
// port, needs no gRPC or protobuf stack, and libcurl (already used by the CLI) speaks it. Every
// call here blocks its thread for at most `timeout` (a watch, at most `watch_span`), so an
// EtcdClient is only ever used on the cluster's own threads (cluster/cluster_link.h), never on
// the control thread's event loop nor a worker's: what it learns reaches the control thread as a
// task posted to its loop, the way every other cross-thread hand-over in Fulcrum works.
//
// Not thread-safe: one EtcdClient per thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cluster/etcd_json.h"

namespace fulcrum::cluster {

struct EtcdOptions {
  /// `http://host:port` of each member; tried in turn, the last that answered first.
  std::vector<std::string> endpoints;
  /// etcd authentication; empty username: none.
  std::string username;
  std::string password;
  /// One unary call (range, put, lease...) must be answered within this.
  std::chrono::milliseconds timeout{2'000};
  /// A watch request is ended and made again after this much quiet (cheaply: from the next
  /// revision), so that a stream silently cut is noticed.
  std::chrono::milliseconds watch_span{30'000};
  /// When it becomes true, calls in progress end within about a second (stop()).
  const std::atomic<bool>* cancel = nullptr;
};

/// How a call ended.
struct CallStatus {
  /// Reached a member that answered (even with an error of etcd's own).
  bool reached = false;
  /// Empty on success; otherwise why, in words (`127.0.0.1:2379: connection refused`).
  std::string error;
  bool ok() const { return error.empty(); }
};

/// How a watch ended.
enum class WatchEnd {
  Quiet,      ///< watch_span passed: watch again from the next revision
  Compacted,  ///< the revision asked for is gone: read everything again
  Broken,     ///< the connection failed or etcd refused: read everything again after a pause
  Cancelled,  ///< cancel was set
  Stopped,    ///< the handler asked to stop
};

class EtcdClient {
 public:
  explicit EtcdClient(EtcdOptions options);

  /// Every key under `prefix`, with the store's revision.
  RangeAnswer range(const std::string& prefix, CallStatus& status);
  CallStatus put(const std::string& key, const std::string& value, std::int64_t lease = 0);
  CallStatus remove(const std::string& key);
  /// A new lease of `ttl_seconds`.
  LeaseAnswer grant(std::int64_t ttl_seconds, CallStatus& status);
  /// Renews `lease` once; the answer's ttl is 0 when the lease is gone.
  LeaseAnswer keep_alive(std::int64_t lease, CallStatus& status);
  /// Ends `lease` and deletes its keys (an unknown lease is not an error).
  CallStatus revoke(std::int64_t lease);

  /// Watches every key under `prefix` from `start_revision`, calling `handler` for each message
  /// (on this thread, as lines arrive) until the stream ends; `handler` returns false to stop.
  /// `error` says why it ended when Broken.
  WatchEnd watch(const std::string& prefix, std::int64_t start_revision,
                 const std::function<bool(const WatchMessage&)>& handler, std::string& error);

  /// The endpoint tried first now.
  const std::string& endpoint() const { return options_.endpoints[current_]; }

 private:
  struct Answer {
    CallStatus status;
    std::string body;
  };
  /// POSTs `body` to `path` at each endpoint in turn until one answers.
  Answer call(const std::string& path, const std::string& body);
  /// Asks `endpoint` for a token; false with `error` set if it cannot.
  bool authenticate(const std::string& endpoint, std::string& error);

  EtcdOptions options_;
  std::size_t current_ = 0;
  std::string token_;
};

}  // namespace fulcrum::cluster
