// The bounded soak: the real fulcrum binary (two workers, an http and a tcp listener, the admin API
// with a token, the access log and the event log) over misbehaving backends, under hostile clients
// (tests/support/hostile_traffic.h) for FULCRUM_SOAK_SECONDS (default 30). Then:
//   - the process was alive the whole time and never printed a sanitizer report;
//   - a normal request on every listener still gets its normal answer;
//   - its sockets come back to their starting number once the clients are gone (idle timers run
//     out), and its descriptors to about theirs (idle pipes are kept, a bounded cache);
//   - it exits 0 on SIGTERM.
// The seed is printed; FULCRUM_SOAK_SEED repeats its choices. bench/soak.sh runs the same for longer.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/hostile_backend.h"
#include "support/hostile_io.h"
#include "support/hostile_traffic.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "soak-token";
constexpr unsigned kClients = 12;

std::uint64_t env_number(const char* name, std::uint64_t otherwise) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : otherwise;
}

/// The process's descriptors: all of them, and the sockets among them.
struct Descriptors {
  std::size_t all = 0;
  std::size_t sockets = 0;
};

Descriptors descriptors_of(pid_t pid) {
  Descriptors count;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
    ++count.all;
    std::error_code link_error;
    if (std::filesystem::read_symlink(entry.path(), link_error).string().starts_with("socket:")) ++count.sockets;
  }
  return count;
}

/// What in a line of fulcrum's output says memory or behaviour went wrong.
bool is_sanitizer_report(const std::string& line) {
  return line.find("ERROR: AddressSanitizer") != std::string::npos || line.find("runtime error:") != std::string::npos ||
         line.find("LeakSanitizer") != std::string::npos || line.find("ERROR: ThreadSanitizer") != std::string::npos;
}
/// The checks src/http/http_session.cc and session_socket.cc make before they cut a connection rather
/// than corrupt it.
bool is_bookkeeping_error(const std::string& line) {
  return line.find("queued send result not taken") != std::string::npos ||
         line.find("queued send replayed with other data") != std::string::npos;
}

std::string soak_config(const std::string& http_backend, const std::string& raw_backend, const std::string& dir) {
  return "workers: 2\n"
         "drain_timeout: 3s\n"
         "listeners:\n"
         "  - name: web\n    listen: 127.0.0.1:0\n    mode: http\n    pool: app\n"
         "    header_timeout: 2s\n    body_timeout: 2s\n    keepalive_timeout: 2s\n    tunnel_timeout: 3s\n"
         "  - name: raw\n    listen: 127.0.0.1:0\n    mode: tcp\n    pool: raw\n    idle_timeout: 3s\n"
         "pools:\n"
         "  app:\n    response_timeout: 2s\n    idle_timeout: 2s\n    deactivate_for: 0s\n"
         "    backends:\n      - address: \"" + http_backend + "\"\n"
         "  raw:\n    deactivate_for: 0s\n    backends:\n      - address: \"" + raw_backend + "\"\n"
         "admin: { listen: 127.0.0.1:0, token: " + kToken + " }\n"
         "events: { file: " + dir + "/events.jsonl, per_request: true, per_request_sample: 0 }\n"
         "access_log: { file: " + dir + "/access.jsonl, format: json }\n";
}

/// The normal answer of each listener, as a client that behaves gets it.
void expect_normal_answers(FulcrumProcess& fulcrum) {
  {
    Client client = Client::connect(fulcrum.address("web"));
    ASSERT_TRUE(client.valid());
    ASSERT_TRUE(client.send_all("GET /calm HTTP/1.1\r\nHost: soak\r\nX-Hostile: off\r\n\r\n"));
    const std::string answer = client.read_until("calm\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << answer;
    EXPECT_TRUE(answer.ends_with("\r\n\r\ncalm\n")) << answer;
  }
  {
    Client client = Client::connect(fulcrum.address("raw"));
    ASSERT_TRUE(client.valid());
    ASSERT_TRUE(client.send_all("calm\nhello\n"));
    client.shutdown_write();
    EXPECT_EQ(client.read_to_eof(), "calm\nhello\n");
  }
  {
    Client client = Client::connect(fulcrum.address("admin"));
    ASSERT_TRUE(client.valid());
    ASSERT_TRUE(client.send_all(std::string("GET /api/status HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n"
                                            "Authorization: Bearer ") + kToken + "\r\n\r\n"));
    const std::string answer = client.read_to_eof();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << answer.substr(0, 300);
  }
}

TEST(Soak, HostileTrafficLeavesFulcrumAliveCleanAndBackToItsStartingDescriptors) {
  const auto seconds = env_number("FULCRUM_SOAK_SECONDS", 30);
  const auto seed = env_number("FULCRUM_SOAK_SEED", static_cast<std::uint64_t>(
                                                        std::chrono::system_clock::now().time_since_epoch().count()));
  std::cout << "soak: seed=" << seed << " seconds=" << seconds << " (FULCRUM_SOAK_SEED repeats the choices)\n";
  RecordProperty("seed", std::to_string(seed));

  HostileBackend http_backend(HostileBackend::Mode::Http, seed);
  HostileBackend raw_backend(HostileBackend::Mode::Raw, seed + 1);
  const std::string dir = std::filesystem::path(write_temp_file("soak-logs", "")).parent_path().string();
  FulcrumProcess fulcrum(soak_config(http_backend.address(), raw_backend.address(), dir), 3);
  ASSERT_FALSE(fulcrum.address("web").empty());
  Process& process = fulcrum.process();
  const pid_t pid = process.pid();

  // The starting level: after one normal exchange on each listener (which opens what stays open:
  // a kept-alive backend connection, the log files), once those idle connections timed out.
  expect_normal_answers(fulcrum);
  std::this_thread::sleep_for(2500ms);
  const Descriptors start = descriptors_of(pid);

  std::size_t reports = 0;
  std::size_t bookkeeping_errors = 0;
  std::string first_report;
  // Reads what fulcrum printed for up to `time`, keeping only what matters (it logs every bad request).
  auto scan_output = [&](std::chrono::milliseconds time) {
    process.wait_for_line(
        [&](const std::string& line) {
          if (is_sanitizer_report(line)) {
            if (reports++ == 0) first_report = line;
          }
          if (is_bookkeeping_error(line)) ++bookkeeping_errors;
          return false;
        },
        time);
    process.forget_lines();
  };

  HostileTargets targets;
  targets.http = fulcrum.address("web");
  targets.tcp = fulcrum.address("raw");
  targets.admin = fulcrum.address("admin");
  targets.admin_token = kToken;
  HostileOptions options;
  options.clients = kClients;
  options.connections_per_client = 1'000'000;  // the duration bounds the run
  options.duration = std::chrono::seconds(seconds);
  options.seed = seed;
  options.read_timeout = 100ms;  // shorter than a person's patience: more connections per second
  HostileStats stats;
  std::atomic<bool> stop{false};
  std::atomic<bool> traffic_done{false};
  std::thread traffic([&] {
    run_hostile_traffic(targets, options, stats, &stop);
    traffic_done = true;
  });

  bool alive = true;
  Descriptors peak = start;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(seconds) + 30s;
  while (!traffic_done && std::chrono::steady_clock::now() < give_up) {
    scan_output(200ms);
    if (!process.running()) {
      alive = false;
      break;
    }
    const Descriptors now = descriptors_of(pid);
    peak.all = std::max(peak.all, now.all);
    peak.sockets = std::max(peak.sockets, now.sockets);
  }
  stop = true;
  traffic.join();
  scan_output(100ms);
  std::cout << "soak: " << stats.summary() << "\n";
  std::cout << "soak: descriptors start=" << start.all << " (sockets " << start.sockets << ") peak=" << peak.all
            << " (sockets " << peak.sockets << ")\n";

  ASSERT_TRUE(alive && process.running()) << "fulcrum died during the soak; first report: " << first_report
                                          << "\n(seed " << seed << ")";
  EXPECT_EQ(reports, 0u) << "first: " << first_report << " (seed " << seed << ")";
  EXPECT_EQ(bookkeeping_errors, 0u) << "(seed " << seed << ")";
  EXPECT_GT(stats.connections.load(), 100u) << "the clients hardly ran: " << stats.summary();
  EXPECT_GT(stats.valid_ok.load(), 0u) << "no valid request was answered during the soak: " << stats.summary();

  expect_normal_answers(fulcrum);

  // Every client is gone: idle timers (keep-alive 2 s, backend idle 2 s, tunnel 3 s, tcp idle 3 s,
  // lingering close 2 s) close what is left. Sockets come back to where they started; descriptors
  // too, but for the pipes of tcp relays, which each worker keeps for reuse (up to 2 per session
  // that was open at once).
  const std::size_t pipe_slack = 4 * (kClients + 4);
  Descriptors end;
  const bool settled = eventually(
      [&] {
        scan_output(10ms);
        end = descriptors_of(pid);
        return end.sockets <= start.sockets + 2 && end.all <= start.all + pipe_slack;
      },
      15s);
  std::cout << "soak: descriptors end=" << end.all << " (sockets " << end.sockets << ")\n";
  EXPECT_TRUE(settled) << "descriptors did not come back: start " << start.all << " (sockets " << start.sockets
                       << "), end " << end.all << " (sockets " << end.sockets << ")";

  process.signal(SIGTERM);
  const auto code = process.wait_exit(15s);
  for (const auto& line : process.lines()) {
    if (is_sanitizer_report(line)) ++reports;
  }
  EXPECT_EQ(code, std::optional<int>(0)) << process.all_output().substr(0, 4000);
  EXPECT_EQ(reports, 0u) << process.all_output().substr(0, 4000);
}

}  // namespace
}  // namespace fulcrum::test
