// `user:` and `group:` (issue 12 §3) with the real binary started as root: it binds a port below
// 1024, writes its pid file, then becomes nobody/nogroup in every thread (real, effective, saved
// and filesystem ids; no supplementary groups), says so in the log, serves, reloads by SIGHUP and
// POST /api/reload, saves runtime changes to its state file, and removes its pid file at exit.
// An unknown user is an error of `fulcrum check` (file:line: user: ...) and of `run`; a state file
// the user could not rewrite stops the start; a reload that would bind another port below 1024
// after the drop is refused and changes nothing. Skipped when the tests do not run as root.
//
// Bounded: every wait is an eventually() or wait_exit() with a timeout; FulcrumProcess reaps.
#include <arpa/inet.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/http_command.h"
#include "support/process.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "drop-token";

struct Account {
  uid_t uid;
  gid_t gid;
};

/// nobody and nogroup (Debian's names), or nullopt.
std::optional<Account> nobody() {
  const passwd* user = getpwnam("nobody");
  const group* nogroup = getgrnam("nogroup");
  if (!user || !nogroup) return std::nullopt;
  return Account{user->pw_uid, nogroup->gr_gid};
}

/// A port below 1024 that nothing on 127.0.0.1 holds now, or 0.
int free_privileged_port() {
  for (int port = 600 + ::getpid() % 50; port < 1000; port += 37) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (free) return port;
  }
  return 0;
}

/// `Uid:`, `Gid:` and `Groups:` of /proc/PID/task/TID/status, for every thread of `pid`.
std::vector<std::map<std::string, std::string>> thread_ids(pid_t pid) {
  std::vector<std::map<std::string, std::string>> threads;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream status(task.path() / "status");
    std::map<std::string, std::string> fields;
    std::string line;
    while (std::getline(status, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      // Tabs between the four ids; normalise to single spaces, trimmed.
      std::istringstream words(value);
      std::string word, joined;
      while (words >> word) joined += (joined.empty() ? "" : " ") + word;
      fields[line.substr(0, colon)] = joined;
    }
    threads.push_back(std::move(fields));
  }
  return threads;
}

std::string ids(unsigned id) {
  const std::string one = std::to_string(id);
  return one + " " + one + " " + one + " " + one;  // real, effective, saved, filesystem
}

std::string drop_config(int port, const std::string& backends, const std::string& directory) {
  return "workers: 2\nuser: nobody\ngroup: nogroup\npid_file: " + directory + "/fulcrum.pid\n" +
         "admin: { listen: 127.0.0.1:0, token: " + kToken + ", state_file: " + directory + "/state.json }\n" +
         "listeners:\n  - { name: front, listen: 127.0.0.1:" + std::to_string(port) + ", mode: http, pool: app }\n" +
         "pools:\n  app:\n    backends: [" + backends + "]\n";
}

/// A directory the dropped user owns (for the pid file and the state file).
std::string directory_for(const Account& account) {
  const auto directory = std::filesystem::path(write_temp_file("placeholder", "")).parent_path() / "run";
  std::filesystem::create_directories(directory);
  EXPECT_EQ(::chown(directory.c_str(), account.uid, account.gid), 0);
  return directory.string();
}

bool answered_by(const std::string& address, const std::string& name) {
  auto connection = HttpConnection::connect(address);
  auto response = connection.get("/");
  return response && response->status == 200 && response->backend() == name;
}

class PrivilegeDrop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the privilege drop is tested as root";
    auto account = nobody();
    if (!account) GTEST_SKIP() << "no user nobody / group nogroup here";
    account_ = *account;
  }
  Account account_{};
};

TEST_F(PrivilegeDrop, BindsBelow1024ThenServesAndReloadsAsNobody) {
  const int port = free_privileged_port();
  ASSERT_NE(port, 0) << "no free port in 600..999";
  HttpBackend a("a"), b("b"), c("c");
  const std::string directory = directory_for(account_);
  FulcrumProcess fulcrum(drop_config(port, "\"" + a.address() + "\"", directory), 2);
  const std::string front = fulcrum.address("front");
  ASSERT_EQ(front, "127.0.0.1:" + std::to_string(port));
  const pid_t pid = fulcrum.process().pid();

  EXPECT_EQ(fulcrum.count_log("privileges dropped"), 1u);
  const auto threads = thread_ids(pid);
  ASSERT_GE(threads.size(), 3u);  // main, workers, control
  for (const auto& thread : threads) {
    EXPECT_EQ(thread.at("Uid"), ids(account_.uid)) << thread.at("Name");
    EXPECT_EQ(thread.at("Gid"), ids(account_.gid)) << thread.at("Name");
    EXPECT_EQ(thread.at("Groups"), "") << thread.at("Name");
  }
  // Written as root before the drop; it names the process.
  std::ifstream pid_file(directory + "/fulcrum.pid");
  pid_t written = 0;
  pid_file >> written;
  EXPECT_EQ(written, pid);

  EXPECT_TRUE(eventually([&] { return answered_by(front, "a"); }));

  // SIGHUP: the file is read again as nobody; the listener stays as it was bound.
  std::ofstream(fulcrum.config_path(), std::ios::trunc) << drop_config(port, "\"" + b.address() + "\"", directory);
  fulcrum.process().signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return fulcrum.count_log("configuration reloaded") == 1; }))
      << fulcrum.process().all_output();
  EXPECT_TRUE(eventually([&] { return answered_by(front, "b"); }));

  std::ofstream(fulcrum.config_path(), std::ios::trunc) << drop_config(port, "\"" + c.address() + "\"", directory);
  const AdminReply reloaded = admin_call(fulcrum.address("admin"), "POST", "/api/reload", "", kToken);
  EXPECT_EQ(reloaded.status, 200) << reloaded.body;
  EXPECT_TRUE(eventually([&] { return answered_by(front, "c"); }));

  // A runtime change is saved (a rename in the directory nobody owns).
  const AdminReply added = admin_call(fulcrum.address("admin"), "POST", "/api/pools/app/backends",
                                      "{\"address\": \"" + a.address() + "\"}", kToken);
  EXPECT_EQ(added.status, 201) << added.body;
  EXPECT_TRUE(eventually([&] {
    struct stat info{};
    return ::stat((directory + "/state.json").c_str(), &info) == 0 && info.st_uid == account_.uid;
  }));

  fulcrum.process().signal(SIGTERM);
  EXPECT_EQ(fulcrum.process().wait_exit(10s), 0);
  EXPECT_FALSE(std::filesystem::exists(directory + "/fulcrum.pid"));
}

// The upgraded binary runs as nobody from its first instruction (it inherits the old process's
// ids): it cannot bind the port below 1024, so it must take the socket it is handed, and it has
// nothing to drop.
TEST_F(PrivilegeDrop, AnUpgradeAfterTheDropServesThePrivilegedPortAsNobody) {
  const int port = free_privileged_port();
  ASSERT_NE(port, 0) << "no free port in 600..999";
  prctl(PR_SET_CHILD_SUBREAPER, 1);  // the new process becomes the test's child when the old exits
  HttpBackend a("a");
  const std::string directory = directory_for(account_);
  FulcrumProcess fulcrum(drop_config(port, "\"" + a.address() + "\"", directory), 2);
  const std::string front = fulcrum.address("front");
  const pid_t old_pid = fulcrum.process().pid();
  ASSERT_TRUE(eventually([&] { return answered_by(front, "a"); }));

  const CommandResult upgraded =
      run_command({fulcrum_binary(), "upgrade", "-c", fulcrum.config_path(), "--timeout", "15s"}, 20s);  // its pid_file
  ASSERT_EQ(upgraded.exit_code, 0) << upgraded.out << upgraded.err << fulcrum.process().all_output();
  pid_t new_pid = 0;
  std::ifstream(directory + "/fulcrum.pid") >> new_pid;
  ASSERT_GT(new_pid, 0);
  ASSERT_NE(new_pid, old_pid);
  for (const auto& thread : thread_ids(new_pid)) {
    EXPECT_EQ(thread.at("Uid"), ids(account_.uid)) << thread.at("Name");
    EXPECT_EQ(thread.at("Groups"), "") << thread.at("Name");
  }
  EXPECT_EQ(fulcrum.process().wait_exit(15s), 0) << "the old process did not drain and exit 0";
  EXPECT_TRUE(answered_by(front, "a")) << "the new process does not serve the privileged port";

  ::kill(new_pid, SIGTERM);
  int status = -1;
  for (int i = 0; i < 500 && ::waitpid(new_pid, &status, WNOHANG) != new_pid; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the new process did not stop cleanly";
  EXPECT_FALSE(std::filesystem::exists(directory + "/fulcrum.pid"));
}

TEST_F(PrivilegeDrop, AReloadCannotBindAPrivilegedPortAfterTheDropAndChangesNothing) {
  const int port = free_privileged_port();
  ASSERT_NE(port, 0) << "no free port in 600..999";
  HttpBackend a("a");
  const std::string directory = directory_for(account_);
  const std::string yaml = drop_config(port, "\"" + a.address() + "\"", directory);
  FulcrumProcess fulcrum(yaml, 2);
  const std::string front = fulcrum.address("front");
  ASSERT_FALSE(front.empty());

  // A second listener on another port below 1024 (Fulcrum holds the first one now): nobody may
  // not bind it.
  const int other = free_privileged_port();
  ASSERT_NE(other, 0);
  ASSERT_NE(other, port);
  const std::string more = "  - { name: extra, listen: 127.0.0.1:" + std::to_string(other) + ", mode: http, pool: app }\n";
  std::string with_extra = yaml;
  with_extra.insert(with_extra.find("pools:"), more);
  std::ofstream(fulcrum.config_path(), std::ios::trunc) << with_extra;
  const AdminReply refused = admin_call(fulcrum.address("admin"), "POST", "/api/reload", "", kToken);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("Permission denied"), std::string::npos) << refused.body;
  // Nothing changed: the first listener still serves, the generation did not move.
  EXPECT_TRUE(answered_by(front, "a"));
  const AdminReply metrics = admin_call(fulcrum.address("admin"), "GET", "/metrics", "", kToken);
  EXPECT_NE(metrics.body.find("fulcrum_config_generation 1\n"), std::string::npos);
}

TEST_F(PrivilegeDrop, UnknownUserIsAConfigErrorOfCheckAndRun) {
  const std::string yaml = "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n"
                           "pools:\n  app:\n    backends: [\"127.0.0.1:9\"]\nuser: no-such-user-fulcrum\ngroup: nogroup\n";
  const std::string path = write_temp_file("fulcrum.yaml", yaml);
  const CommandResult check = run_command({fulcrum_binary(), "check", "-c", path}, 10s);
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find(path + ":6: user: no such user 'no-such-user-fulcrum' on this machine"), std::string::npos)
      << check.err;
  const CommandResult run = run_command({fulcrum_binary(), "run", "-c", path}, 10s);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("user: no such user 'no-such-user-fulcrum'"), std::string::npos) << run.err;

  const std::string no_group = write_temp_file("fulcrum.yaml", yaml.substr(0, yaml.find("user:")) + "group: no-such-group-fulcrum\n");
  const CommandResult group = run_command({fulcrum_binary(), "check", "-c", no_group}, 10s);
  EXPECT_EQ(group.exit_code, 2);
  EXPECT_NE(group.err.find(no_group + ":6: group: no such group 'no-such-group-fulcrum'"), std::string::npos) << group.err;
}

TEST_F(PrivilegeDrop, AStateFileTheUserCouldNotRewriteStopsTheStart) {
  // The temporary directory is root's (0755): nobody could not rename a new state file into it.
  const std::string directory = std::filesystem::path(write_temp_file("placeholder", "")).parent_path().string();
  const std::string yaml = "user: nobody\nadmin: { listen: 127.0.0.1:0, token: t, state_file: " + directory +
                           "/state.json }\nlisteners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n"
                           "pools:\n  app:\n    backends: [\"127.0.0.1:9\"]\n";
  const CommandResult run = run_command({fulcrum_binary(), "run", "-c", write_temp_file("fulcrum.yaml", yaml)}, 10s);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("admin.state_file: " + directory + " is not writable by user 'nobody'"), std::string::npos)
      << run.err;
}

}  // namespace
}  // namespace fulcrum::test
