// A real etcd for the cluster tests: one member on loopback ports picked free, with a data
// directory of its own, started, stopped and started again on the same ports and data (an etcd
// outage that ends), killed and reaped by the destructor.
#pragma once

#include <memory>
#include <string>

#include "support/process.h"

namespace fulcrum::test {

/// The etcd binary (`etcd` on PATH, or $FULCRUM_ETCD), or "" when there is none.
std::string etcd_binary();

class EtcdProcess {
 public:
  /// Starts etcd and waits (up to 15 s) until it answers; fails the test (ADD_FAILURE) otherwise.
  EtcdProcess();
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  /// `http://127.0.0.1:PORT`: its client URL.
  const std::string& endpoint() const { return endpoint_; }
  /// Stops it (SIGKILL: an outage, not a goodbye) and reaps it.
  void stop();
  /// Starts it again on the same ports and data; waits until it answers.
  void start();
  bool ready() const { return ready_; }

  /// POSTs `body` to `path` of the JSON gateway; the answer's body ("" when none came).
  std::string call(const std::string& path, const std::string& body) const;
  /// Every key under `prefix` with its value (decoded), as "key=value" lines in key order.
  std::string dump(const std::string& prefix) const;
  /// Puts `key` = `value` directly (a change made through the store, not through Fulcrum).
  bool put(const std::string& key, const std::string& value) const;

 private:
  /// Starts etcd on the current ports and data; sets ready_.
  void launch();
  bool wait_ready();

  std::string directory_;
  std::string endpoint_;
  std::string peer_;
  std::unique_ptr<Process> process_;
  bool ready_ = false;
};

}  // namespace fulcrum::test
