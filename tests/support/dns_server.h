// A tiny authoritative DNS server for integration tests: UDP on 127.0.0.1, its own thread, answers
// A and AAAA questions from a table the test changes while it runs. A name not in the table gets
// NXDOMAIN; a name in it gets its records of the type asked (none: an empty NOERROR answer).
// Fulcrum is pointed at it with `resolver: { servers: [<address()>] }`, so tests change DNS answers
// without touching /etc/hosts or the network.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fulcrum::test {

class DnsServer {
 public:
  DnsServer();
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  /// `127.0.0.1:PORT`.
  const std::string& address() const { return address_; }

  /// Answers `name` (case-insensitive, no trailing dot) with these IPv4 / IPv6 addresses, each
  /// record with `ttl` seconds.
  void set(const std::string& name, std::vector<std::string> ipv4, std::vector<std::string> ipv6 = {},
           std::uint32_t ttl = 300);
  /// `name` does not exist any more (NXDOMAIN).
  void remove(const std::string& name);
  /// Questions received about `name` (any type).
  std::uint64_t questions(const std::string& name) const;

 private:
  struct Records {
    std::vector<std::string> ipv4;
    std::vector<std::string> ipv6;
    std::uint32_t ttl = 300;
  };
  void serve();
  /// The answer to the query `query`, or empty if it is not one we can answer.
  std::string answer(const std::string& query);

  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::string address_;
  std::thread thread_;
  mutable std::mutex mutex_;  // guards records_ and questions_
  std::map<std::string, Records> records_;
  std::map<std::string, std::uint64_t> questions_;
};

}  // namespace fulcrum::test
