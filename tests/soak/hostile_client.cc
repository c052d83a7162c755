// hostile_client: the soak's traffic and backends as a standalone tool (bench/soak.sh runs it).
//
//   hostile_client traffic --http ADDR [--tcp ADDR] [--admin ADDR --token T] [--clients N]
//                          [--connections N] [--seconds S] [--seed N] [--read-timeout-ms N]
//                          [--mix full|defect]
//       Hostile clients (tests/support/hostile_traffic.h) until each opened N connections or S
//       seconds passed. Prints the seed first (give it back with --seed to repeat the choices) and
//       a summary line at the end. Exit 1 when not one connection could be opened.
//   hostile_client backends [--seed N] [--seconds S] [--misbehave 0|1] [--split-heads 0|1]
//       A misbehaving HTTP backend and a misbehaving raw TCP backend (tests/support/hostile_backend.h);
//       prints `http=127.0.0.1:P raw=127.0.0.1:Q`, then serves until SIGTERM/SIGINT or S seconds.
//       --misbehave 0: well-behaved backends; --split-heads 0: no response head written in pieces.
//   hostile_client check --http ADDR [--tcp ADDR] [--admin ADDR --token T]
//       One normal request on each listener given (through the hostile backends: `X-Hostile: off`,
//       `calm\n`); prints what failed and exits 1 unless each got its normal answer.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include <sys/socket.h>
#include <unistd.h>

#include "support/hostile_backend.h"
#include "support/hostile_io.h"
#include "support/hostile_traffic.h"

namespace {

using namespace fulcrum::test;

int usage() {
  std::fprintf(stderr,
               "usage: hostile_client traffic --http ADDR [--tcp ADDR] [--admin ADDR --token T] [--clients N]\n"
               "                      [--connections N] [--seconds S] [--seed N] [--read-timeout-ms N] [--mix full|defect]\n"
               "       hostile_client backends [--seed N] [--seconds S] [--misbehave 0|1] [--split-heads 0|1]\n"
               "       hostile_client check --http ADDR [--tcp ADDR] [--admin ADDR --token T]\n");
  return 2;
}

/// `--name value` pairs; false on anything else.
bool parse_flags(int argc, char** argv, std::map<std::string, std::string>& flags) {
  for (int i = 2; i < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) return false;
    flags[argv[i] + 2] = argv[i + 1];
  }
  return true;
}

std::uint64_t number(const std::map<std::string, std::string>& flags, const std::string& name, std::uint64_t otherwise) {
  const auto it = flags.find(name);
  return it == flags.end() ? otherwise : std::strtoull(it->second.c_str(), nullptr, 10);
}

std::string text(const std::map<std::string, std::string>& flags, const std::string& name) {
  const auto it = flags.find(name);
  return it == flags.end() ? std::string() : it->second;
}

std::uint64_t default_seed() {
  return static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
         (static_cast<std::uint64_t>(getpid()) << 32);
}

int run_traffic(const std::map<std::string, std::string>& flags) {
  HostileTargets targets;
  targets.http = text(flags, "http");
  targets.tcp = text(flags, "tcp");
  targets.admin = text(flags, "admin");
  targets.admin_token = text(flags, "token");
  if (targets.http.empty()) return usage();
  HostileOptions options;
  options.clients = static_cast<unsigned>(number(flags, "clients", 6));
  options.connections_per_client = number(flags, "connections", 3000);
  options.duration = std::chrono::seconds(number(flags, "seconds", 60));
  options.seed = number(flags, "seed", default_seed());
  options.read_timeout = std::chrono::milliseconds(number(flags, "read-timeout-ms", 300));
  const std::string mix = text(flags, "mix");
  if (mix == "defect") {
    options.mix = HostileMix::Defect;
  } else if (!mix.empty() && mix != "full") {
    return usage();
  }
  std::printf("seed=%llu clients=%u connections_per_client=%llu seconds=%lld mix=%s\n",
              static_cast<unsigned long long>(options.seed), options.clients,
              static_cast<unsigned long long>(options.connections_per_client),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(options.duration).count()),
              options.mix == HostileMix::Defect ? "defect" : "full");
  std::fflush(stdout);
  HostileStats stats;
  const auto started = std::chrono::steady_clock::now();
  run_hostile_traffic(targets, options, stats);
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("elapsed_s=%.1f %s\n", elapsed, stats.summary().c_str());
  return stats.connections.load() > 0 ? 0 : 1;
}

int run_backends(const std::map<std::string, std::string>& flags) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: they inherit it
  const std::uint64_t seed = number(flags, "seed", default_seed());
  HostileBackend::Options options;
  options.misbehave = number(flags, "misbehave", 1) != 0;
  options.split_heads = number(flags, "split-heads", 1) != 0;
  HostileBackend http(HostileBackend::Mode::Http, seed, options);
  HostileBackend raw(HostileBackend::Mode::Raw, seed + 1, options);
  std::printf("seed=%llu\nhttp=%s raw=%s\n", static_cast<unsigned long long>(seed), http.address().c_str(),
              raw.address().c_str());
  std::fflush(stdout);
  const timespec limit{static_cast<time_t>(number(flags, "seconds", 24 * 3600)), 0};
  sigtimedwait(&signals, nullptr, &limit);
  http.stop();
  raw.stop();
  std::printf("backend_connections http=%llu raw=%llu\n", static_cast<unsigned long long>(http.connections()),
              static_cast<unsigned long long>(raw.connections()));
  return 0;
}

/// Sends `request` to `address`, half-closes when `half_close`, and reads until `until` was seen
/// at the end, EOF or 3 s. Returns what was read.
std::string exchange(const std::string& address, const std::string& request, bool half_close, std::string_view until) {
  const int fd = connect_to(address, 2000);
  if (fd < 0) return "(connect failed)";
  std::string answer;
  if (write_all(fd, request, 2000)) {
    if (half_close) shutdown(fd, SHUT_WR);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!answer.ends_with(until) && std::chrono::steady_clock::now() < deadline) {
      bool eof = false;
      answer += read_some(fd, 200, 1 << 20, &eof);
      if (eof) break;
    }
  }
  close(fd);
  return answer;
}

int run_check(const std::map<std::string, std::string>& flags) {
  if (text(flags, "http").empty()) return usage();
  int failures = 0;
  auto expect = [&](const char* what, bool ok, const std::string& answer) {
    if (ok) return;
    ++failures;
    std::printf("check failed: %s: got %zu bytes: %.200s\n", what, answer.size(), answer.c_str());
  };
  const std::string http = exchange(text(flags, "http"), "GET /calm HTTP/1.1\r\nHost: soak\r\nX-Hostile: off\r\n\r\n",
                                    false, "calm\n");
  expect("http", http.starts_with("HTTP/1.1 200 OK\r\n") && http.ends_with("\r\n\r\ncalm\n"), http);
  if (!text(flags, "tcp").empty()) {
    const std::string tcp = exchange(text(flags, "tcp"), "calm\nhello\n", true, "calm\nhello\n");
    expect("tcp", tcp == "calm\nhello\n", tcp);
  }
  if (!text(flags, "admin").empty()) {
    const std::string admin = exchange(text(flags, "admin"),
                                       "GET /api/status HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n"
                                       "Authorization: Bearer " + text(flags, "token") + "\r\n\r\n",
                                       false, "}\n");
    expect("admin", admin.starts_with("HTTP/1.1 200 OK\r\n"), admin);
  }
  if (failures == 0) std::printf("check ok\n");
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::map<std::string, std::string> flags;
  if (!parse_flags(argc, argv, flags)) return usage();
  if (std::strcmp(argv[1], "traffic") == 0) return run_traffic(flags);
  if (std::strcmp(argv[1], "backends") == 0) return run_backends(flags);
  if (std::strcmp(argv[1], "check") == 0) return run_check(flags);
  return usage();
}
