#include "support/hostile_traffic.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "support/hostile_io.h"

namespace fulcrum::test {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kKeep = 64 * 1024;  // response bytes kept per read phase (the rest dropped)
constexpr int kConnectMs = 1000;

const char* const kScenarioNames[] = {"mutated", "split_writes", "half_close", "reset",        "tunnel",
                                      "raw_tcp", "slow_reader",  "admin",      "admin_stream", "valid"};

/// The seven requests of the reported defect, then the ones only the full mix sends.
std::string request(std::size_t kind, Prng& random, const HostileTargets& targets) {
  switch (kind) {
    case 0:
      return "GET /item?id=" + std::to_string(random.below(1000)) + " HTTP/1.1\r\nHost: soak\r\nUser-Agent: hostile\r\n\r\n";
    case 1:
      return "POST /upload HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n";
    case 2:
      return "GET /ws HTTP/1.1\r\nHost: soak\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    case 3:
      return "POST /form HTTP/1.1\r\nHost: soak\r\nContent-Length: 5\r\n\r\nabcde";
    case 4:
      return "OPTIONS * HTTP/1.1\r\nHost: soak\r\n\r\n";
    case 5:
      return "CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n";
    case 6:
      return "GET /api/events HTTP/1.1\r\nHost: soak\r\nAuthorization: Bearer " + targets.proxied_token + "\r\n\r\n";
    case 7:
      return "HEAD /item HTTP/1.1\r\nHost: soak\r\n\r\n";
    case 8:
      return "GET /old HTTP/1.0\r\n\r\n";
    case 9:
      return "POST /expect HTTP/1.1\r\nHost: soak\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody";
    case 10:
      return "GET /big HTTP/1.1\r\nHost: soak\r\n\r\n";
    default: {
      const std::size_t size = random.between(100, 40000);
      return "PUT /blob HTTP/1.1\r\nHost: soak\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n" +
             std::string(size, 'b');
    }
  }
}
constexpr std::size_t kDefectKinds = 7;
constexpr std::size_t kAllKinds = 12;

/// 0-6 edits of the reported defect: overwrite a byte, insert a troublesome piece, delete 1-8 bytes.
void mutate(std::string& payload, Prng& random) {
  static constexpr std::string_view kInserts[] = {"\r\n", "\n", "\r", ":", " ", std::string_view("\0", 1), "0",
                                                  "ffffffffffffffff", "Content-Length: 3\r\n",
                                                  "Transfer-Encoding: chunked\r\n", "Expect: 100-continue\r\n"};
  const auto edits = random.below(7);
  for (std::uint64_t i = 0; i < edits && !payload.empty(); ++i) {
    const std::size_t at = random.below(payload.size());
    switch (random.below(3)) {
      case 0:
        payload[at] = static_cast<char>(random.next());
        break;
      case 1:
        payload.insert(at, kInserts[random.below(std::size(kInserts))]);
        break;
      default:
        payload.erase(at, random.between(1, 8));
        break;
    }
  }
}

std::uint64_t count_status_lines(const std::string& bytes) {
  std::uint64_t n = 0;
  for (auto at = bytes.find("HTTP/1."); at != std::string::npos; at = bytes.find("HTTP/1.", at + 7)) ++n;
  return n;
}

class HostileClient {
 public:
  HostileClient(const HostileTargets& targets, const HostileOptions& options, HostileStats& stats, std::uint64_t seed)
      : targets_(targets), options_(options), stats_(stats), random_(seed) {}

  /// One connection doing one scenario.
  void run_one() {
    if (options_.mix == HostileMix::Defect) return mutated(kDefectKinds);
    const unsigned tcp = targets_.tcp.empty() ? 0 : 10;
    const unsigned admin = targets_.admin.empty() ? 0 : 6;
    const unsigned stream = targets_.admin.empty() ? 0 : 3;
    switch (random_.pick({30, 10, 8, 10, 6, tcp, 4, admin, stream, 8})) {
      case HostileStats::Mutated: return mutated(kAllKinds);
      case HostileStats::SplitWrites: return split_writes();
      case HostileStats::HalfClose: return half_close();
      case HostileStats::Reset: return reset();
      case HostileStats::Tunnel: return tunnel();
      case HostileStats::RawTcp: return raw_tcp();
      case HostileStats::SlowReader: return slow_reader();
      case HostileStats::Admin: return admin_request();
      case HostileStats::AdminStream: return admin_stream();
      default: return valid();
    }
  }

 private:
  int open(const std::string& address, HostileStats::Scenario scenario) {
    stats_.scenarios[scenario].fetch_add(1, std::memory_order_relaxed);
    const int fd = connect_to(address, kConnectMs);
    if (fd < 0) {
      stats_.connect_failures.fetch_add(1, std::memory_order_relaxed);
      return -1;
    }
    stats_.connections.fetch_add(1, std::memory_order_relaxed);
    return fd;
  }
  /// 1-3 requests of the first `kinds` kinds, back to back.
  std::string pipelined(std::size_t kinds) {
    std::string payload;
    const auto count = random_.between(1, 3);
    for (std::uint64_t i = 0; i < count; ++i) payload += request(random_.below(kinds), random_, targets_);
    stats_.requests.fetch_add(count, std::memory_order_relaxed);
    return payload;
  }
  bool write(int fd, std::string_view data) {
    stats_.bytes_sent.fetch_add(data.size(), std::memory_order_relaxed);
    return write_all(fd, data, 2000);
  }
  std::string read(int fd, int idle_ms, bool* eof = nullptr) {
    std::string bytes = read_some(fd, idle_ms, kKeep, eof);
    stats_.bytes_received.fetch_add(bytes.size(), std::memory_order_relaxed);
    stats_.responses.fetch_add(count_status_lines(bytes), std::memory_order_relaxed);
    return bytes;
  }
  int read_ms() const { return static_cast<int>(options_.read_timeout.count()); }
  /// Closes `fd`, with RST instead of FIN `reset_percent` times in 100.
  void end(int fd, unsigned reset_percent) {
    if (random_.chance(reset_percent)) {
      close_with_reset(fd);
    } else {
      close(fd);
    }
  }
  void pause() { std::this_thread::sleep_for(std::chrono::milliseconds(random_.between(1, 30))); }

  void mutated(std::size_t kinds) {
    const int fd = open(targets_.http, HostileStats::Mutated);
    if (fd < 0) return;
    std::string payload = pipelined(kinds);
    mutate(payload, random_);
    if (write(fd, payload)) read(fd, read_ms());
    close(fd);
  }

  void split_writes() {
    const int fd = open(targets_.http, HostileStats::SplitWrites);
    if (fd < 0) return;
    std::string payload = pipelined(kAllKinds);
    if (random_.chance(50)) mutate(payload, random_);
    std::string_view rest = payload;
    const auto pieces = random_.between(2, 6);
    for (std::uint64_t i = 0; i + 1 < pieces && !rest.empty(); ++i) {
      const std::size_t n = random_.between(1, std::max<std::size_t>(1, rest.size() / 2));
      if (!write(fd, rest.substr(0, n))) break;
      rest.remove_prefix(n);
      pause();
    }
    if (write(fd, rest)) read(fd, read_ms());
    end(fd, 20);
  }

  void half_close() {
    const int fd = open(targets_.http, HostileStats::HalfClose);
    if (fd < 0) return;
    std::string payload = pipelined(kAllKinds);
    if (random_.chance(30)) mutate(payload, random_);
    // Cut anywhere (mid-head, mid-body, or after the whole request), then FIN.
    if (random_.chance(70)) payload.resize(random_.below(payload.size() + 1));
    if (write(fd, payload)) {
      shutdown(fd, SHUT_WR);
      read(fd, read_ms());
    }
    close(fd);
  }

  void reset() {
    const int fd = open(targets_.http, HostileStats::Reset);
    if (fd < 0) return;
    std::string payload = pipelined(kAllKinds);
    if (random_.chance(30)) mutate(payload, random_);
    payload.resize(random_.below(payload.size() + 1));
    if (write(fd, payload) && random_.chance(60)) read(fd, static_cast<int>(random_.below(60)));
    close_with_reset(fd);
  }

  void tunnel() {
    const int fd = open(targets_.http, HostileStats::Tunnel);
    if (fd < 0) return;
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    if (write(fd, request(2, random_, targets_))) {
      const std::string answer = read(fd, read_ms());
      if (answer.starts_with("HTTP/1.1 101")) {
        const auto messages = random_.between(1, 4);
        for (std::uint64_t i = 0; i < messages; ++i) {
          if (!write(fd, random_.bytes(random_.between(1, 3000)))) break;
          if (random_.chance(50)) read(fd, static_cast<int>(random_.below(50)));
        }
        if (random_.chance(30)) {
          shutdown(fd, SHUT_WR);
          read(fd, read_ms());
        }
      }
    }
    end(fd, 70);
  }

  void raw_tcp() {
    const int fd = open(targets_.tcp, HostileStats::RawTcp);
    if (fd < 0) return;
    const auto writes = random_.between(1, 3);
    for (std::uint64_t i = 0; i < writes; ++i) {
      stats_.requests.fetch_add(1, std::memory_order_relaxed);
      const std::size_t size = random_.chance(10) ? random_.between(16384, 200000) : random_.between(1, 2000);
      if (!write(fd, random_.bytes(size))) break;
      if (random_.chance(30)) pause();
    }
    switch (random_.below(3)) {
      case 0:
        read(fd, static_cast<int>(random_.below(read_ms())));
        close(fd);
        break;
      case 1:
        shutdown(fd, SHUT_WR);
        read(fd, read_ms());
        close(fd);
        break;
      default:
        close_with_reset(fd);
        break;
    }
  }

  void slow_reader() {
    const int fd = open(targets_.http, HostileStats::SlowReader);
    if (fd < 0) return;
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    const auto count = random_.between(1, 2);
    std::string payload;
    for (std::uint64_t i = 0; i < count; ++i) payload += request(10, random_, targets_);
    stats_.requests.fetch_add(count, std::memory_order_relaxed);
    if (write(fd, payload)) {
      const auto until = Clock::now() + options_.read_timeout * 2;
      char sink[1024];
      while (Clock::now() < until) {
        const ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n == 0) break;
        if (n > 0) stats_.bytes_received.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    close(fd);  // unread bytes: the kernel sends RST
  }

  std::string admin_head(std::string_view method, std::string_view path, bool token) {
    std::string head = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: admin\r\n";
    if (token) head += "Authorization: Bearer " + targets_.admin_token + "\r\n";
    return head + "\r\n";
  }

  void admin_request() {
    const int fd = open(targets_.admin, HostileStats::Admin);
    if (fd < 0) return;
    static const char* const kPaths[] = {"/api/status", "/metrics", "/api/pools", "/api/pools/app", "/api/config",
                                         "/api/nope",   "/",        "/app.js"};
    std::string payload;
    const auto count = random_.between(1, 3);
    for (std::uint64_t i = 0; i < count; ++i) {
      const char* method = random_.chance(85) ? "GET" : random_.chance(50) ? "HEAD" : "POST";
      payload += admin_head(method, kPaths[random_.below(std::size(kPaths))], random_.chance(85));
    }
    stats_.requests.fetch_add(count, std::memory_order_relaxed);
    if (random_.chance(40)) mutate(payload, random_);
    if (write(fd, payload)) read(fd, read_ms());
    end(fd, 20);
  }

  void admin_stream() {
    const int fd = open(targets_.admin, HostileStats::AdminStream);
    if (fd < 0) return;
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    std::string head;
    if (random_.chance(70)) {
      head = admin_head("GET", random_.chance(50) ? "/api/events" : "/api/events?kinds=request,response,healthy", true);
    } else {
      head = "GET /api/events HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer " + targets_.admin_token +
             "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n";
    }
    if (random_.chance(15)) mutate(head, random_);
    if (write(fd, head)) {
      read(fd, static_cast<int>(random_.between(20, 300)));
      // A WebSocket client may also say something, valid or not, before it goes.
      if (random_.chance(30)) write(fd, random_.bytes(random_.between(1, 200)));
    }
    end(fd, 50);
  }

  void valid() {
    if (!targets_.tcp.empty() && random_.chance(25)) {
      const int fd = open(targets_.tcp, HostileStats::Valid);
      if (fd < 0) return;
      stats_.requests.fetch_add(1, std::memory_order_relaxed);
      if (write(fd, "calm\nhello\n")) {
        shutdown(fd, SHUT_WR);
        if (read(fd, read_ms() * 3) == "calm\nhello\n") stats_.valid_ok.fetch_add(1, std::memory_order_relaxed);
      }
      close(fd);
      return;
    }
    const int fd = open(targets_.http, HostileStats::Valid);
    if (fd < 0) return;
    const auto count = random_.between(1, 3);
    for (std::uint64_t i = 0; i < count; ++i) {
      stats_.requests.fetch_add(1, std::memory_order_relaxed);
      if (!write(fd, "GET /calm HTTP/1.1\r\nHost: soak\r\nX-Hostile: off\r\n\r\n")) break;
      std::string answer;
      const auto until = Clock::now() + options_.read_timeout * 3;
      while (!answer.ends_with("calm\n") && Clock::now() < until) {
        bool eof = false;
        answer += read(fd, read_ms(), &eof);
        if (eof) break;
      }
      if (!answer.starts_with("HTTP/1.1 200") || !answer.ends_with("calm\n")) break;
      stats_.valid_ok.fetch_add(1, std::memory_order_relaxed);
    }
    close(fd);
  }

  const HostileTargets& targets_;
  const HostileOptions& options_;
  HostileStats& stats_;
  Prng random_;
};

}  // namespace

const char* HostileStats::name(std::size_t scenario) {
  return scenario < kScenarios ? kScenarioNames[scenario] : "?";
}

std::string HostileStats::summary() const {
  std::string text = "connections=" + std::to_string(connections.load()) +
                     " connect_failures=" + std::to_string(connect_failures.load()) +
                     " requests=" + std::to_string(requests.load()) + " responses=" + std::to_string(responses.load()) +
                     " valid_ok=" + std::to_string(valid_ok.load()) + " bytes_sent=" + std::to_string(bytes_sent.load()) +
                     " bytes_received=" + std::to_string(bytes_received.load());
  for (std::size_t i = 0; i < kScenarios; ++i) text += std::string(" ") + name(i) + "=" + std::to_string(scenarios[i].load());
  return text;
}

void run_hostile_traffic(const HostileTargets& targets, const HostileOptions& options, HostileStats& stats,
                         const std::atomic<bool>* stop) {
  const auto deadline = Clock::now() + options.duration;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < options.clients; ++i) {
    threads.emplace_back([&, i] {
      HostileClient client(targets, options, stats, options.seed * 0x9e3779b97f4a7c15ULL + i + 1);
      for (std::uint64_t n = 0; n < options.connections_per_client && Clock::now() < deadline; ++n) {
        if (stop && stop->load()) break;
        client.run_one();
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace fulcrum::test
