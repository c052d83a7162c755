// Binary upgrade (issue 12 §2, docs/upgrade.md) against the real binary, started from a copy in a
// temporary directory so that a test can put another program where it runs from: five upgrades in
// a row under wrk -c50 keep-alive load fail no request (each new process with another number of
// workers); a TCP connection opened before an upgrade finishes on the old process, which then
// exits 0; the pidfile names the new process and PIDFILE.oldbin the draining one; clients waiting
// in the accept queues are answered by the new process; an upgrade to a program that exits at
// once, or one asked for while another is in progress or an old process still drains, changes
// nothing.
//
// Processes: the test process is a child subreaper, so the processes an upgrade starts (children
// of the old process) become its children when their parent exits; Adopted kills and reaps every
// one of them. Bounded: wrk runs 5 s (15 s under sanitizers; killed 20 s later at most); every
// wait has a timeout.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/http_command.h"
#include "support/process.h"
#include "support/sockets.h"
#include "support/test_backend.h"
#include "support/wrk.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A sanitizer build starts and drains processes several times slower: wrk runs longer there, so
// that the load still covers all five upgrades.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kWrkSeconds = 15;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kWrkSeconds = 15;
#else
constexpr int kWrkSeconds = 5;
#endif
#else
constexpr int kWrkSeconds = 5;
#endif

pid_t read_pid(const std::string& path) {
  std::ifstream in(path);
  long pid = -1;
  if (!(in >> pid)) return -1;
  return static_cast<pid_t>(pid);
}

bool alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }

/// Processes started by upgrades: not the test's children until their parent exits (the test is
/// a subreaper). The destructor kills them all and reaps those that became the test's.
class Adopted {
 public:
  Adopted() { prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~Adopted() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) wait_exit(pid, 3s);
  }
  void add(pid_t pid) {
    if (pid > 0) pids_.insert(pid);
  }
  /// The exit code of `pid` once it has exited and is the test's child (128+signal if killed);
  /// -1 on timeout.
  int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t reaped = waitpid(pid, &status, WNOHANG);
      if (reaped == pid) {
        pids_.erase(pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      // ECHILD: its parent (an old process) has not exited yet, so it is not ours to reap.
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

 private:
  std::set<pid_t> pids_;
};

/// A fulcrum started from its own copy of the binary, with a pidfile and an event log.
class Upgradable {
 public:
  explicit Upgradable(const std::string& body) {
    const std::string config = write_temp_file("fulcrum.yaml", "");
    dir_ = fs::path(config).parent_path();
    binary_ = (dir_ / "fulcrum").string();
    fs::copy_file(fulcrum_binary(), binary_);
    pid_file_ = (dir_ / "fulcrum.pid").string();
    events_ = (dir_ / "events.jsonl").string();
    config_ = config;
    write_config(body);
    process_ = std::make_unique<Process>(
        std::vector<std::string>{binary_, "--log-format", "json", "run", "-c", config, "--pid-file", pid_file_});
    // front, relay and admin.
    while (addresses_.size() < 3) {
      auto line = process_->wait_for_line([&](const std::string& l) { return listening(l) && !addresses_.count(name_of(l)); }, 10s);
      if (!line) break;
      addresses_[name_of(*line)] = nlohmann::json::parse(*line).value("address", "");
    }
  }

  /// Every process of the chain wrote to the test's pipe: none may have reported a sanitizer
  /// finding (LeakSanitizer's shows in an exit code too) or a broken send.
  ~Upgradable() {
    process_->read_output(std::chrono::milliseconds(10));
    for (const auto& line : process_->lines()) {
      EXPECT_EQ(line.find("runtime error:"), std::string::npos) << line;
      EXPECT_EQ(line.find("Sanitizer"), std::string::npos) << line;
      EXPECT_EQ(line.find("queued send"), std::string::npos) << line;
    }
  }

  static bool listening(const std::string& line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    return j.is_object() && j.value("msg", "") == "listening";
  }
  static std::string name_of(const std::string& line) {
    return nlohmann::json::parse(line, nullptr, false).value("listener", "");
  }

  std::string address(const std::string& name) const {
    auto it = addresses_.find(name);
    return it == addresses_.end() ? std::string() : it->second;
  }
  Process& process() { return *process_; }
  /// The next process started (by an upgrade) reads this.
  void write_config(const std::string& body) {
    std::ofstream(config_, std::ios::trunc) << "events: { file: \"" + events_ + "\" }\n" + body;
  }
  const std::string& pid_file() const { return pid_file_; }
  /// Puts `script` (a shell script) where the balancer runs from, as a package upgrade would:
  /// written beside it, then renamed over it (the running binary cannot be written in place).
  void replace_binary_with_script(const std::string& script) {
    const std::string next = binary_ + ".next";
    std::ofstream(next) << script;
    fs::permissions(next, fs::perms::owner_all);
    fs::rename(next, binary_);
  }
  void restore_binary() {
    const std::string next = binary_ + ".next";
    fs::copy_file(fulcrum_binary(), next, fs::copy_options::overwrite_existing);
    fs::rename(next, binary_);
  }
  /// The event log's events named `name`, as JSON.
  std::vector<nlohmann::json> events(const std::string& name) const {
    std::vector<nlohmann::json> found;
    std::ifstream in(events_);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("event", "") == name) found.push_back(j);
    }
    return found;
  }
  /// A log line (of any of the processes: they share the test's pipe) with message `msg`.
  bool logged(const std::string& msg, std::chrono::milliseconds timeout = 5s) {
    return process_
        ->wait_for_line(
            [&](const std::string& l) {
              auto j = nlohmann::json::parse(l, nullptr, false);
              return j.is_object() && j.value("msg", "") == msg;
            },
            timeout)
        .has_value();
  }

 private:
  fs::path dir_;
  std::string binary_;
  std::string config_;
  std::string pid_file_;
  std::string events_;
  std::unique_ptr<Process> process_;
  std::map<std::string, std::string> addresses_;
};

std::string upgrade_config(const HttpBackend& web, const TestBackend& echo, int workers = 2,
                           const std::string& front_extra = "") {
  return "workers: " + std::to_string(workers) + "\n"
         "drain_timeout: 5s\n"
         "admin: { listen: 127.0.0.1:0 }\n"
         "listeners:\n"
         "  - { name: front, listen: 127.0.0.1:0, mode: http, pool: web" + front_extra + " }\n"
         "  - { name: relay, listen: 127.0.0.1:0, mode: tcp, pool: echo }\n"
         "pools:\n"
         "  web:\n    backends:\n      - { address: \"" + web.address() + "\" }\n"
         "  echo:\n    backends:\n      - { address: \"" + echo.address() + "\" }\n";
}

CommandResult fulcrum_upgrade(const std::string& pid_file) {
  return run_command({fulcrum_binary(), "upgrade", "--pid-file", pid_file, "--timeout", "15s"}, 20s);
}

TEST(Upgrade, FiveUpgradesUnderLoadFailNoRequest) {
  ASSERT_TRUE(executable_exists(kWrkBinary)) << "wrk is not installed (scripts/install-deps.sh)";
  Adopted adopted;
  HttpBackend web("web");
  TestBackend echo("echo");
  Upgradable fulcrum(upgrade_config(web, echo));
  const std::string front = fulcrum.address("front");
  const std::string relay = fulcrum.address("relay");
  ASSERT_FALSE(front.empty());
  ASSERT_FALSE(relay.empty());
  ASSERT_TRUE(eventually([&] { return read_pid(fulcrum.pid_file()) == fulcrum.process().pid(); }, 3s));

  // A long-lived TCP connection through the first process.
  Client tcp = Client::connect(relay);
  ASSERT_TRUE(tcp.valid());
  ASSERT_EQ(tcp.read_until("\n"), "echo\n");
  ASSERT_TRUE(tcp.send_all("before\n"));
  ASSERT_EQ(tcp.read_until("\n"), "before\n");

  BackgroundWrk wrk("http://" + front + "/", kWrkSeconds, 50);
  ASSERT_TRUE(eventually([&] { return web.requests() >= 200; }, 3s)) << "wrk's load did not arrive";

  // Each new process has another number of workers than the one it replaces: a worker beyond the
  // sockets handed shares one; sockets beyond the workers are accepted on too (else the clients
  // the kernel queues in them would wait until wrk's timeout).
  const int workers[] = {3, 1, 2, 4, 2};
  for (int i = 0; i < 5; ++i) {
    fulcrum.write_config(upgrade_config(web, echo, workers[i]));
    const pid_t old_pid = read_pid(fulcrum.pid_file());
    const CommandResult upgrade = fulcrum_upgrade(fulcrum.pid_file());
    ASSERT_EQ(upgrade.exit_code, 0) << "upgrade " << i << ": " << upgrade.out << upgrade.err
                                    << fulcrum.process().all_output();
    const pid_t new_pid = read_pid(fulcrum.pid_file());
    adopted.add(new_pid);
    ASSERT_NE(new_pid, old_pid) << "upgrade " << i;
    EXPECT_TRUE(alive(new_pid));
    EXPECT_NE(upgrade.out.find(std::to_string(new_pid)), std::string::npos) << upgrade.out;
    // The new process serves on the same addresses: requests keep arriving.
    const std::uint64_t before = web.requests();
    EXPECT_TRUE(eventually([&] { return web.requests() > before + 50; }, 2s)) << "no load after upgrade " << i;

    if (i == 0) {
      // The TCP connection keeps the old process draining, and still relays.
      EXPECT_EQ(read_pid(fulcrum.pid_file() + ".oldbin"), old_pid);
      std::this_thread::sleep_for(300ms);
      EXPECT_TRUE(fulcrum.process().running()) << "the old process left before its TCP connection ended";
      ASSERT_TRUE(tcp.send_all("after\n"));
      EXPECT_EQ(tcp.read_until("\n"), "after\n");
      // At most one old process: the new one refuses to be replaced while this one drains...
      const CommandResult refused = fulcrum_upgrade(fulcrum.pid_file());
      EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
      EXPECT_NE(refused.err.find("still draining"), std::string::npos) << refused.err;
      // ...also when signalled directly, whatever the command line checks first.
      kill(new_pid, SIGUSR2);
      EXPECT_TRUE(fulcrum.logged("upgrade refused")) << "the new process took an upgrade while the old one drains";
      EXPECT_EQ(read_pid(fulcrum.pid_file()), new_pid);
      // The draining process refuses a reload: the new one is the one to reload.
      fulcrum.process().signal(SIGHUP);
      EXPECT_TRUE(fulcrum.process()
                      .wait_for_line([](const std::string& l) {
                        return l.find("reload failed, nothing changed") != std::string::npos &&
                               l.find("drains after a binary upgrade") != std::string::npos;
                      }, 3s)
                      .has_value());
      tcp.close();
      EXPECT_EQ(fulcrum.process().wait_exit(5s), 0) << fulcrum.process().all_output();
    } else {
      EXPECT_EQ(adopted.wait_exit(old_pid, 5s), 0) << "old process " << old_pid << " after upgrade " << i;
    }
    EXPECT_FALSE(fs::exists(fulcrum.pid_file() + ".oldbin")) << "upgrade " << i;
  }
  ASSERT_FALSE(wrk.done()) << "wrk ended before the upgrades did: raise its duration";
  const CommandResult& result = wrk.finish();
  const WrkRun run = parse_wrk(result.out);
  ASSERT_TRUE(run.parsed) << result.out << result.err;
  EXPECT_GT(run.requests, 0u);
  EXPECT_EQ(run.socket_errors, 0u) << result.out;
  EXPECT_EQ(run.non_2xx_3xx, 0u) << result.out;

  // The last one serves, and stops cleanly.
  const pid_t last = read_pid(fulcrum.pid_file());
  auto connection = HttpConnection::connect(front);
  ASSERT_TRUE(connection.valid());
  const auto response = connection.get("/after");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(fulcrum.events("upgrade").size(), 5u);
  // The admin listener was handed over too: configured on port 0, it would have another port if
  // it had been bound again, and every process but the last has exited.
  const AdminReply status = admin_call(fulcrum.address("admin"), "GET", "/api/status");
  EXPECT_EQ(status.status, 200) << status.body;
  kill(last, SIGTERM);
  EXPECT_EQ(adopted.wait_exit(last, 10s), 0);
  EXPECT_FALSE(fs::exists(fulcrum.pid_file())) << "the last process left its pidfile behind";
}

TEST(Upgrade, ToAProgramThatExitsAtOnceKeepsTheOldProcessServing) {
  Adopted adopted;
  HttpBackend web("web");
  TestBackend echo("echo");
  Upgradable fulcrum(upgrade_config(web, echo));
  const std::string front = fulcrum.address("front");
  const pid_t pid = fulcrum.process().pid();
  ASSERT_TRUE(eventually([&] { return read_pid(fulcrum.pid_file()) == pid; }, 3s));
  auto connection = HttpConnection::connect(front);
  ASSERT_TRUE(connection.valid());
  ASSERT_EQ(connection.get("/before").value().status, 200);

  fulcrum.replace_binary_with_script("#!/bin/sh\nexit 3\n");
  const CommandResult upgrade = fulcrum_upgrade(fulcrum.pid_file());
  EXPECT_EQ(upgrade.exit_code, 1) << upgrade.out << upgrade.err;
  EXPECT_NE(upgrade.err.find("failed"), std::string::npos) << upgrade.err;

  EXPECT_TRUE(fulcrum.process().running());
  EXPECT_EQ(read_pid(fulcrum.pid_file()), pid);
  EXPECT_FALSE(fs::exists(fulcrum.pid_file() + ".oldbin"));
  // The same keep-alive connection, and new ones, are served.
  const auto same = connection.get("/after");
  ASSERT_TRUE(same) << "the old process closed a connection after a failed upgrade";
  EXPECT_EQ(same->status, 200);
  auto fresh = HttpConnection::connect(front);
  ASSERT_TRUE(fresh.valid());
  EXPECT_EQ(fresh.get("/fresh").value().status, 200);
  ASSERT_TRUE(eventually([&] { return !fulcrum.events("upgrade_failed").empty(); }, 3s))
      << "no upgrade_failed event";
  const auto failed = fulcrum.events("upgrade_failed").front();
  EXPECT_NE(failed.value("reason", "").find("exited with status 3"), std::string::npos) << failed.dump();
  EXPECT_FALSE(failed.value("refused", true));
}

TEST(Upgrade, ASecondUpgradeWhileOneIsInProgressIsRefused) {
  Adopted adopted;
  HttpBackend web("web");
  TestBackend echo("echo");
  Upgradable fulcrum(upgrade_config(web, echo));
  const pid_t pid = fulcrum.process().pid();
  ASSERT_TRUE(eventually([&] { return read_pid(fulcrum.pid_file()) == pid; }, 3s));

  // A new "binary" that never says it is ready.
  fulcrum.replace_binary_with_script("#!/bin/sh\nexec sleep 20\n");
  fulcrum.process().signal(SIGUSR2);
  auto started = fulcrum.process().wait_for_line(
      [](const std::string& l) { return l.find("\"upgrading: new process started\"") != std::string::npos; }, 5s);
  ASSERT_TRUE(started) << fulcrum.process().all_output();
  const pid_t starting = nlohmann::json::parse(*started).value("pid", -1);
  ASSERT_TRUE(alive(starting));

  const CommandResult second = fulcrum_upgrade(fulcrum.pid_file());
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
  EXPECT_NE(second.err.find("refused"), std::string::npos) << second.err;
  EXPECT_TRUE(fulcrum.logged("upgrade refused"));
  EXPECT_EQ(read_pid(fulcrum.pid_file()), pid);

  // The one in progress fails when its process dies; the old process reaps it and serves on.
  kill(starting, SIGKILL);
  EXPECT_TRUE(fulcrum.logged("upgrade failed, still serving"));
  EXPECT_TRUE(eventually([&] { return !alive(starting); }, 2s)) << "the failed new process was not reaped";

  // With the real binary back, an upgrade goes through.
  fulcrum.restore_binary();
  const CommandResult third = fulcrum_upgrade(fulcrum.pid_file());
  ASSERT_EQ(third.exit_code, 0) << third.out << third.err << fulcrum.process().all_output();
  const pid_t new_pid = read_pid(fulcrum.pid_file());
  adopted.add(new_pid);
  EXPECT_NE(new_pid, pid);
  EXPECT_EQ(fulcrum.process().wait_exit(5s), 0) << fulcrum.process().all_output();
  auto connection = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(connection.valid());
  EXPECT_EQ(connection.get("/new").value().status, 200);
}

TEST(Upgrade, ClientsWaitingInTheAcceptQueuesAreServedByTheNewProcess) {
  Adopted adopted;
  HttpBackend web("web");
  TestBackend echo("echo");
  // At max_connections the old process leaves further clients in the kernel's accept queues: of
  // its two workers' sockets, by the kernel's hash of each connection.
  Upgradable fulcrum(upgrade_config(web, echo, 2, ", max_connections: 1"));
  const std::string front = fulcrum.address("front");
  auto held = HttpConnection::connect(front);
  ASSERT_TRUE(held.valid());
  ASSERT_EQ(held.get("/held").value().status, 200);
  std::vector<HttpConnection> waiting;
  for (int i = 0; i < 12; ++i) {
    waiting.push_back(HttpConnection::connect(front));
    ASSERT_TRUE(waiting.back().valid());
    ASSERT_TRUE(waiting.back().send("GET /queued-" + std::to_string(i) + " HTTP/1.1\r\nHost: example.test\r\n\r\n"));
  }
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(web.heads_containing("/queued-"), 0u) << "the limit let clients in: nothing waits in a queue";

  // The new process has one worker for two handed sockets: it accepts on both, so the clients
  // queued in either are answered, none reset when the old process lets go of its descriptors.
  fulcrum.write_config(upgrade_config(web, echo, 1, ", max_connections: 100"));
  const pid_t old_pid = fulcrum.process().pid();
  const CommandResult upgrade = fulcrum_upgrade(fulcrum.pid_file());
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.out << upgrade.err << fulcrum.process().all_output();
  const pid_t new_pid = read_pid(fulcrum.pid_file());
  adopted.add(new_pid);
  ASSERT_NE(new_pid, old_pid);
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    const auto response = waiting[i].read_response(3s);
    ASSERT_TRUE(response) << "queued client " << i << " was not answered";
    EXPECT_EQ(response->status, 200);
  }
  // The held connection is the old process's: answered once more (with Connection: close).
  const auto last = held.get("/held-again");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->status, 200);
  EXPECT_EQ(last->field("Connection").value_or(""), "close");
  held.client().close();  // (else the old process lingers on the close, waiting for the client's FIN)
  EXPECT_EQ(fulcrum.process().wait_exit(5s), 0) << fulcrum.process().all_output();
}

}  // namespace
}  // namespace fulcrum::test
