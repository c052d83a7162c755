// Process control against the real binary (issue 12 §3): the pid file (`pid_file:` and
// `run --pid-file`) names the process once it listens and is gone after a clean exit;
// `fulcrum stop` signals, waits for the exit and says so, and fails when nothing runs or the
// process outlives --timeout; `fulcrum reload` signals SIGHUP through the pid file or asks the
// admin API and prints the changes or the errors.
//
// Bounded: every command runs with a 10-20 s timeout, every wait is an eventually() or a
// wait_exit() with a timeout; FulcrumProcess kills and reaps the daemon whatever happens.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/http_command.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "process-token";

CommandResult fulcrum_command(std::vector<std::string> args, std::chrono::milliseconds timeout = 20s) {
  args.insert(args.begin(), fulcrum_binary());
  return run_command(args, timeout);
}

std::string http_config(const std::string& backends, const std::string& top = "") {
  return "workers: 1\n" + top + "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n" +
         "pools:\n  app:\n    backends: [" + backends + "]\n";
}

/// A path for a pid file in a directory of its own (created; the file itself is not).
std::string pid_path() {
  return (std::filesystem::path(write_temp_file("placeholder", "")).parent_path() / "fulcrum.pid").string();
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void rewrite(const std::string& path, const std::string& content) { std::ofstream(path, std::ios::trunc) << content; }

TEST(ProcessControl, PidFileNamesTheProcessOnceListeningAndGoesAtACleanExit) {
  HttpBackend backend("a");
  const std::string pid_file = pid_path();
  FulcrumProcess fulcrum(http_config("\"" + backend.address() + "\"", "pid_file: " + pid_file + "\n"));
  ASSERT_FALSE(fulcrum.address("front").empty());
  // The `listening` lines come after the file is written.
  EXPECT_EQ(file_text(pid_file), std::to_string(fulcrum.process().pid()) + "\n");
  fulcrum.process().signal(SIGTERM);
  EXPECT_EQ(fulcrum.process().wait_exit(10s), 0);
  EXPECT_FALSE(std::filesystem::exists(pid_file));
}

TEST(ProcessControl, RunPidFileOptionWinsOverTheConfigAndSurvivesAReload) {
  HttpBackend backend("a");
  const std::string configured = pid_path();
  const std::string given = pid_path();
  FulcrumProcess fulcrum(http_config("\"" + backend.address() + "\"", "pid_file: " + configured + "\n"), 1,
                         {"--pid-file", given});
  ASSERT_FALSE(fulcrum.address("front").empty());
  EXPECT_EQ(file_text(given), std::to_string(fulcrum.process().pid()) + "\n");
  EXPECT_FALSE(std::filesystem::exists(configured));
  fulcrum.process().signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return fulcrum.count_log("configuration reloaded") == 1; }));
  EXPECT_TRUE(std::filesystem::exists(given));
  fulcrum.process().signal(SIGTERM);
  EXPECT_EQ(fulcrum.process().wait_exit(10s), 0);
  EXPECT_FALSE(std::filesystem::exists(given));
}

TEST(ProcessControl, StopSignalsWaitsForTheExitAndReportsIt) {
  HttpBackend backend("a");
  const std::string pid_file = pid_path();
  FulcrumProcess fulcrum(http_config("\"" + backend.address() + "\"", "pid_file: " + pid_file + "\n"));
  ASSERT_FALSE(fulcrum.address("front").empty());
  const pid_t pid = fulcrum.process().pid();

  // -c: the pid file comes from the configuration's pid_file.
  const CommandResult stopped = fulcrum_command({"stop", "-c", fulcrum.config_path()});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(stopped.out, "fulcrum (pid " + std::to_string(pid) + ") stopped\n");
  // It returned once the process had exited: already done, with the exit code of a clean stop.
  EXPECT_EQ(fulcrum.process().wait_exit(1s), 0);
  EXPECT_EQ(fulcrum.count_log("signal received, stopping"), 1u);

  const CommandResult again = fulcrum_command({"stop", "--pid-file", pid_file});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("cannot read " + pid_file), std::string::npos) << again.err;
}

TEST(ProcessControl, StopFailsWhenTheProcessOutlivesTheTimeout) {
  HttpBackend backend("a");
  const std::string pid_file = pid_path();
  // A TCP connection keeps a draining process alive up to drain_timeout.
  FulcrumProcess fulcrum("workers: 1\ndrain_timeout: 20s\npid_file: " + pid_file +
                         "\nlisteners:\n  - { name: front, listen: 127.0.0.1:0, mode: tcp, pool: app }\n"
                         "pools:\n  app:\n    backends: [\"" + backend.address() + "\"]\n");
  ASSERT_FALSE(fulcrum.address("front").empty());
  Client held = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(held.valid());
  ASSERT_TRUE(held.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_NE(held.read_until("\r\n\r\n").find("200"), std::string::npos);  // relayed: the connection is open

  const CommandResult stop = fulcrum_command({"stop", "--pid-file", pid_file, "--timeout", "300ms"});
  EXPECT_EQ(stop.exit_code, 1);
  EXPECT_NE(stop.err.find("still running 300ms after SIGTERM"), std::string::npos) << stop.err;
  EXPECT_TRUE(fulcrum.process().running());  // not killed: it drains
  // The drain ends with the last connection (both of its sides).
  held.close();
  backend.stop();
  EXPECT_EQ(fulcrum.process().wait_exit(10s), 0);
}

TEST(ProcessControl, StopAndReloadFailWithoutAProcess) {
  const std::string missing = pid_path();
  for (const char* command : {"stop", "reload"}) {
    const CommandResult result = fulcrum_command({command, "--pid-file", missing});
    EXPECT_EQ(result.exit_code, 1) << command;
    EXPECT_NE(result.err.find("cannot read " + missing + ": No such file or directory"), std::string::npos) << result.err;
  }
  // A pid file left behind by a process that is gone.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const std::string stale = pid_path();
  rewrite(stale, std::to_string(child) + "\n");
  for (const char* command : {"stop", "reload"}) {
    const CommandResult result = fulcrum_command({command, "--pid-file", stale});
    EXPECT_EQ(result.exit_code, 1) << command;
    EXPECT_NE(result.err.find("no process " + std::to_string(child) + " (" + stale + " is stale)"), std::string::npos)
        << result.err;
  }
  const CommandResult bad_timeout = fulcrum_command({"stop", "--pid-file", stale, "--timeout", "soon"});
  EXPECT_EQ(bad_timeout.exit_code, 2);
  const std::string no_pid_config = write_temp_file("fulcrum.yaml", http_config("\"127.0.0.1:1\""));
  const CommandResult no_pid_file = fulcrum_command({"stop", "-c", no_pid_config});
  EXPECT_EQ(no_pid_file.exit_code, 2);
  EXPECT_NE(no_pid_file.err.find("sets no pid_file; give --pid-file"), std::string::npos) << no_pid_file.err;
}

TEST(ProcessControl, ReloadThroughThePidFileSendsSighupAndSaysThatNoAnswerComes) {
  HttpBackend a("a"), b("b");
  const std::string pid_file = pid_path();
  const std::string top = "pid_file: " + pid_file + "\n";
  FulcrumProcess fulcrum(http_config("\"" + a.address() + "\"", top));
  ASSERT_FALSE(fulcrum.address("front").empty());
  rewrite(fulcrum.config_path(), http_config("\"" + b.address() + "\"", top));

  const CommandResult reload = fulcrum_command({"reload", "--pid-file", pid_file});
  EXPECT_EQ(reload.exit_code, 0) << reload.err;
  EXPECT_NE(reload.out.find("sent SIGHUP to fulcrum (pid " + std::to_string(fulcrum.process().pid()) + ")"),
            std::string::npos) << reload.out;
  ASSERT_TRUE(eventually([&] { return fulcrum.count_log("configuration reloaded") == 1; }));
  // The new backend answers once the removed one has drained.
  EXPECT_TRUE(eventually([&] {
    auto connection = HttpConnection::connect(fulcrum.address("front"));
    auto response = connection.get("/");
    return response && response->backend() == "b";
  }));
}

TEST(ProcessControl, ReloadThroughTheAdminApiPrintsTheChangesOrTheErrors) {
  HttpBackend a("a"), b("b");
  const std::string top = std::string("admin: { listen: 127.0.0.1:0, token: ") + kToken + " }\n";
  FulcrumProcess fulcrum(http_config("\"" + a.address() + "\"", top), 2);
  const std::string admin = "http://" + fulcrum.address("admin");
  ASSERT_NE(admin, "http://");

  rewrite(fulcrum.config_path(), http_config("\"" + a.address() + "\", \"" + b.address() + "\"", top));
  const CommandResult reloaded = fulcrum_command({"reload", "--admin", admin, "--token", kToken});
  EXPECT_EQ(reloaded.exit_code, 0) << reloaded.err;
  EXPECT_NE(reloaded.out.find("reloaded: generation 2, 1 change\n"), std::string::npos) << reloaded.out;
  EXPECT_NE(reloaded.out.find("  pool 'app': backend " + b.address() + " added\n"), std::string::npos) << reloaded.out;

  rewrite(fulcrum.config_path(), http_config("\"" + a.address() + "\"", top) + "    strategy: nonsense\n");
  const CommandResult refused = fulcrum_command({"reload", "--admin", admin, "--token", kToken});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("refused, nothing changed"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(fulcrum.config_path() + ":"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("strategy"), std::string::npos) << refused.err;

  const CommandResult unauthorized = fulcrum_command({"reload", "--admin", admin, "--token", "wrong"});
  EXPECT_EQ(unauthorized.exit_code, 1);
  EXPECT_NE(unauthorized.err.find("401"), std::string::npos) << unauthorized.err;
}

TEST(ProcessControl, VersionFlagPrintsWhatTheVersionCommandPrints) {
  const CommandResult command = fulcrum_command({"version"});
  const CommandResult flag = fulcrum_command({"--version"});
  EXPECT_EQ(command.exit_code, 0);
  EXPECT_EQ(flag.exit_code, 0);
  EXPECT_EQ(flag.out, command.out);
  EXPECT_EQ(flag.out.rfind("fulcrum ", 0), 0u) << flag.out;
}

TEST(ProcessControl, RunAndCheckReadEtcFulcrumByDefault) {
  // Whether or not this machine has that file, `check` reports on it by name (it never starts
  // anything), and `run` shows it as its default without being started.
  const CommandResult check = fulcrum_command({"check"});
  EXPECT_NE((check.out + check.err).find("/etc/fulcrum/fulcrum.yaml"), std::string::npos) << check.out << check.err;
  if (!std::filesystem::exists("/etc/fulcrum/fulcrum.yaml")) {
    EXPECT_EQ(check.exit_code, 2);
    EXPECT_NE(check.err.find("/etc/fulcrum/fulcrum.yaml: cannot read file"), std::string::npos) << check.err;
  }
  for (const char* command : {"run", "check"}) {
    const CommandResult help = fulcrum_command({command, "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("-c,--config TEXT=/etc/fulcrum/fulcrum.yaml"), std::string::npos) << help.out;
  }
}

}  // namespace
}  // namespace fulcrum::test
