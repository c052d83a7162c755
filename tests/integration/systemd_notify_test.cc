// systemd's notify protocol (issue 12 §3) spoken by the real binary to a real AF_UNIX datagram
// socket that the test binds and names in NOTIFY_SOCKET (systemd itself does not run here):
// READY=1 once listening, RELOADING=1 with MONOTONIC_USEC then READY=1 around a reload (SIGHUP and
// POST /api/reload alike), STOPPING=1 on SIGTERM, STATUS= lines throughout; an abstract socket
// (`@name`) too.
//
// Bounded: every receive waits at most 5 s; FulcrumProcess kills and reaps the daemon.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "support/admin_client.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_command.h"
#include "support/process.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "notify-token";

/// The service manager's end: a datagram socket bound at `name` (a path, or `@abstract`), exported
/// as NOTIFY_SOCKET for the processes started while it lives.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& name) : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    if (name.front() == '@') address.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0) << std::strerror(errno);
    ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
  }

  /// The next datagram, or nullopt after `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout = 5s) {
    pollfd poll_fd{fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[4096];
    const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(got));
  }

 private:
  int fd_;
};

/// The assignments of one message, `KEY=value` per line.
std::map<std::string, std::string> assignments(const std::string& message) {
  std::map<std::string, std::string> result;
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    const std::string line = message.substr(start, end - start);
    const auto equals = line.find('=');
    if (equals != std::string::npos) result[line.substr(0, equals)] = line.substr(equals + 1);
    start = end + 1;
  }
  return result;
}

long long monotonic_usec() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1'000;
}

std::string config(const HttpBackend& backend) {
  return std::string("workers: 1\nadmin: { listen: 127.0.0.1:0, token: ") + kToken +
         " }\nlisteners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n"
         "pools:\n  app:\n    backends: [\"" + backend.address() + "\"]\n";
}

/// Expects RELOADING=1 with a MONOTONIC_USEC taken between `before` and now, then READY=1 with the
/// generation `generation` in its status.
void expect_reload_notifications(NotifySocket& socket, long long before, int generation) {
  const auto reloading = socket.receive();
  ASSERT_TRUE(reloading) << "no RELOADING=1";
  auto fields = assignments(*reloading);
  EXPECT_EQ(fields["RELOADING"], "1") << *reloading;
  ASSERT_TRUE(fields.count("MONOTONIC_USEC")) << *reloading;
  const long long stamp = std::stoll(fields["MONOTONIC_USEC"]);
  EXPECT_GE(stamp, before);
  EXPECT_LE(stamp, monotonic_usec());
  EXPECT_EQ(fields["STATUS"].rfind("reloading ", 0), 0u) << *reloading;
  const auto ready = socket.receive();
  ASSERT_TRUE(ready) << "no READY=1 after the reload";
  fields = assignments(*ready);
  EXPECT_EQ(fields["READY"], "1") << *ready;
  EXPECT_NE(fields["STATUS"].find("configuration generation " + std::to_string(generation)), std::string::npos) << *ready;
}

TEST(SystemdNotify, ReadyReloadingAndStoppingReachTheSocket) {
  HttpBackend backend("a");
  const std::string directory = std::filesystem::path(write_temp_file("placeholder", "")).parent_path().string();
  NotifySocket socket(directory + "/notify.sock");
  FulcrumProcess fulcrum(config(backend), 2);
  ASSERT_FALSE(fulcrum.address("admin").empty());

  const auto ready = socket.receive();
  ASSERT_TRUE(ready) << "no READY=1";
  auto fields = assignments(*ready);
  EXPECT_EQ(fields["READY"], "1") << *ready;
  EXPECT_EQ(fields["MAINPID"], std::to_string(fulcrum.process().pid()));
  EXPECT_EQ(fields["STATUS"], "serving 1 listener, configuration generation 1") << *ready;

  long long before = monotonic_usec();
  fulcrum.process().signal(SIGHUP);
  expect_reload_notifications(socket, before, 2);

  before = monotonic_usec();
  const AdminReply reply = admin_call(fulcrum.address("admin"), "POST", "/api/reload", "", kToken);
  EXPECT_EQ(reply.status, 200) << reply.body;
  expect_reload_notifications(socket, before, 3);

  // A refused reload: RELOADING=1, then READY=1 again (still serving), saying it failed.
  std::ofstream(fulcrum.config_path(), std::ios::trunc) << "listeners: nonsense\n";
  fulcrum.process().signal(SIGHUP);
  ASSERT_TRUE(socket.receive());
  const auto after_failure = socket.receive();
  ASSERT_TRUE(after_failure);
  fields = assignments(*after_failure);
  EXPECT_EQ(fields["READY"], "1");
  EXPECT_NE(fields["STATUS"].find("generation 3 (the last reload failed; see the log)"), std::string::npos)
      << *after_failure;

  fulcrum.process().signal(SIGTERM);
  const auto stopping = socket.receive();
  ASSERT_TRUE(stopping) << "no STOPPING=1";
  EXPECT_EQ(assignments(*stopping)["STOPPING"], "1") << *stopping;
  EXPECT_EQ(fulcrum.process().wait_exit(10s), 0);
  EXPECT_FALSE(socket.receive(100ms)) << "nothing after STOPPING=1";
}

// After a binary upgrade the new process is the service's main process: its READY=1 names its own
// pid, and the old one drains and exits without a word (a STOPPING=1 from it would stop the unit).
TEST(SystemdNotify, AnUpgradedProcessTakesOverAsMainPidAndTheOldOneSaysNothing) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);  // the new process becomes the test's child when the old exits
  HttpBackend backend("a");
  const std::string directory = std::filesystem::path(write_temp_file("placeholder", "")).parent_path().string();
  NotifySocket socket(directory + "/notify.sock");
  const std::string pid_file = directory + "/fulcrum.pid";
  FulcrumProcess fulcrum(config(backend) + "pid_file: " + pid_file + "\n", 2);
  const pid_t old_pid = fulcrum.process().pid();
  ASSERT_TRUE(socket.receive()) << "no READY=1 from the first process";

  const CommandResult upgraded = run_command({fulcrum_binary(), "upgrade", "--pid-file", pid_file}, 30s);
  ASSERT_EQ(upgraded.exit_code, 0) << upgraded.out << upgraded.err;
  pid_t new_pid = 0;
  std::ifstream(pid_file) >> new_pid;
  ASSERT_GT(new_pid, 0);
  ASSERT_NE(new_pid, old_pid);
  const auto ready = socket.receive();
  ASSERT_TRUE(ready) << "no READY=1 from the new process";
  auto fields = assignments(*ready);
  EXPECT_EQ(fields["READY"], "1") << *ready;
  EXPECT_EQ(fields["MAINPID"], std::to_string(new_pid)) << *ready;
  EXPECT_EQ(fulcrum.process().wait_exit(15s), 0);
  EXPECT_FALSE(socket.receive(300ms)) << "the old process told the service manager something after the hand-over";

  ::kill(new_pid, SIGTERM);
  const auto stopping = socket.receive();
  ASSERT_TRUE(stopping);
  EXPECT_EQ(assignments(*stopping)["STOPPING"], "1") << *stopping;
  int status = -1;
  for (int i = 0; i < 500 && ::waitpid(new_pid, &status, WNOHANG) != new_pid; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(SystemdNotify, AnAbstractSocketNameWorksToo) {
  HttpBackend backend("a");
  NotifySocket socket("@fulcrum-notify-test-" + std::to_string(::getpid()));
  FulcrumProcess fulcrum(config(backend), 2);
  const auto ready = socket.receive();
  ASSERT_TRUE(ready) << "no READY=1 on the abstract socket";
  EXPECT_EQ(assignments(*ready)["READY"], "1") << *ready;
}

TEST(SystemdNotify, NothingIsSentWhenStartFails) {
  const std::string directory = std::filesystem::path(write_temp_file("placeholder", "")).parent_path().string();
  NotifySocket socket(directory + "/notify.sock");
  // A pid file that cannot be written: start fails after binding.
  const std::string yaml = "listeners:\n  - { name: a, listen: 127.0.0.1:0, mode: http, pool: app }\n"
                           "pools:\n  app:\n    backends: [\"127.0.0.1:9\"]\npid_file: /nonexistent-dir/x.pid\n";
  Process process({fulcrum_binary(), "run", "-c", write_temp_file("fulcrum.yaml", yaml)});
  EXPECT_EQ(process.wait_exit(10s), 1);
  EXPECT_FALSE(socket.receive(200ms)) << "READY=1 from a process that did not start";
}

}  // namespace
}  // namespace fulcrum::test
