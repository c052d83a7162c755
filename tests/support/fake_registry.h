// A stand-in for a Fulcrum registration listener, for tests of the client side (fulcrum::Registration,
// `fulcrum register`) that must not depend on the server: the protocol of docs/registration.md over
// a real loopback socket (ScriptedBackend), leases in a table, every request recorded, and failures
// on demand (a refusal, a restart that forgets every lease, a server that is down).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/scripted_backend.h"

namespace fulcrum::test {

class FakeRegistry {
 public:
  /// One request as received.
  struct Request {
    std::string method;
    std::string path;
    std::string authorization;  ///< the Authorization field's value ("" if none)
  std::string content_type;   ///< the Content-Type field's value ("" if none)
    std::string body;
    /// For a POST /register: whether the registered address accepted a TCP connection when the
    /// request arrived (the sidecar must register only once its command listens).
    bool address_accepted = false;
  };

  /// Listens on `address` (port 0: any free port). Requests need `Bearer <token>` when `token` is set.
  explicit FakeRegistry(std::string token = "", const std::string& address = "127.0.0.1:0");
  ~FakeRegistry();
  FakeRegistry(const FakeRegistry&) = delete;
  FakeRegistry& operator=(const FakeRegistry&) = delete;

  const std::string& address() const { return address_; }
  std::string url() const { return "http://" + address_; }

  /// Answers every request with `status` and `{"error": error}` from now on (0: back to normal).
  void refuse(int status, const std::string& error);
  /// Forgets every lease, as a restarted Fulcrum would: renewals get 404 until the client registers again.
  void forget_leases();
  /// Stops listening (connections are refused) / listens again on the same address.
  void stop();
  void start();

  std::vector<Request> requests() const;
  /// Requests whose method is `method` and whose path starts with `path_prefix`.
  std::size_t count(const std::string& method, const std::string& path_prefix = "/") const;
  /// The leases held now.
  std::vector<std::string> leases() const;

 private:
  ScriptedBackend::Script answer(const std::string& raw);

  std::string token_;
  std::string address_;
  std::unique_ptr<ScriptedBackend> server_;
  mutable std::mutex mutex_;  // guards everything below
  std::vector<Request> requests_;
  std::map<std::string, std::int64_t> leases_;  // lease -> its TTL in ms
  int refuse_status_ = 0;
  std::string refuse_error_;
  int next_lease_ = 1;
};

}  // namespace fulcrum::test
