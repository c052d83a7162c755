// The registration sidecar, `fulcrum register`, as a real process against a stand-in registration
// listener (support/fake_registry.h): it registers and renews, deregisters on SIGTERM; with a
// command, it registers only once the command's address accepts connections, forwards the signal,
// deregisters when the command exits and exits with its status. Against the real server:
// live_pools_cli_test.cc.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "support/eventually.h"
#include "support/fake_registry.h"
#include "support/fulcrum_process.h"
#include "support/process.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> sidecar(const FakeRegistry& registry, const std::string& address,
                                 std::vector<std::string> command = {}) {
  std::vector<std::string> argv = {fulcrum_binary(), "--log-format", "json", "register", "--url", registry.url(),
                                   "--pool", "api", "--address", address, "--ttl", "600ms", "--token", "reg-secret"};
  if (!command.empty()) {
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
  }
  return argv;
}

// A shell command that listens on `address` (a demo backend) until `flag` exists (at most 10 s),
// then stops it and ends as `ending` says (`exit 3`, `kill -KILL $$`).
std::vector<std::string> backend_until(const std::string& address, const std::string& flag, const std::string& ending) {
  return {"sh", "-c",
          "'" + fulcrum_binary() + "' demo-backend --listen " + address + " & backend=$!; " +
              "for i in $(seq 200); do [ -e '" + flag + "' ] && break; sleep 0.05; done; kill $backend; wait $backend; " +
              ending};
}

std::string flag_path() {
  const std::string placeholder = write_temp_file("placeholder", "");
  return (std::filesystem::path(placeholder).parent_path() / "stop-now").string();
}

TEST(RegisterCommand, RegistersRenewsAndDeregistersOnSigterm) {
  FakeRegistry registry("reg-secret");
  Process process(sidecar(registry, "127.0.0.1:8080"));
  ASSERT_TRUE(eventually([&] { return registry.count("PUT", "/register/lease-1") >= 2; }, 5s)) << process.all_output();
  EXPECT_EQ(registry.count("POST", "/register"), 1u);
  EXPECT_EQ(registry.requests()[0].authorization, "Bearer reg-secret");

  process.signal(SIGTERM);
  EXPECT_EQ(process.wait_exit(5s), 0);
  EXPECT_EQ(registry.count("DELETE", "/register/lease-1"), 1u);
  EXPECT_TRUE(registry.leases().empty());
}

TEST(RegisterCommand, TokenFromTheEnvironmentAndSigint) {
  FakeRegistry registry("env-secret");
  auto argv = sidecar(registry, "127.0.0.1:8080");
  argv.resize(argv.size() - 2);  // no --token
  ASSERT_EQ(setenv("FULCRUM_TOKEN", "env-secret", 1), 0);
  Process process(argv);
  unsetenv("FULCRUM_TOKEN");
  ASSERT_TRUE(eventually([&] { return registry.leases().size() == 1; }, 5s)) << process.all_output();
  process.signal(SIGINT);
  EXPECT_EQ(process.wait_exit(5s), 0);
  EXPECT_EQ(registry.count("DELETE"), 1u);
}

TEST(RegisterCommand, ARefusedRegistrationExits1WithTheServersError) {
  FakeRegistry registry("reg-secret");
  registry.refuse(403, "pool 'api' does not accept registrations");
  Process process(sidecar(registry, "127.0.0.1:8080"));
  EXPECT_EQ(process.wait_exit(5s), 1);
  process.read_output();
  EXPECT_NE(process.all_output().find("pool 'api' does not accept registrations (HTTP 403)"), std::string::npos)
      << process.all_output();
}

TEST(RegisterCommand, BadUsageExits2AndSendsNothing) {
  FakeRegistry registry("reg-secret");
  auto argv = sidecar(registry, "127.0.0.1:8080");
  argv[argv.size() - 3] = "ten seconds";  // --ttl
  Process process(argv);
  EXPECT_EQ(process.wait_exit(5s), 2);
  process.read_output();
  EXPECT_NE(process.all_output().find("--ttl: 'ten seconds' is not a positive duration"), std::string::npos)
      << process.all_output();
  EXPECT_TRUE(registry.requests().empty());
}

TEST(RegisterCommand, RegistersOnlyOnceTheCommandListensAndForwardsSigterm) {
  FakeRegistry registry("reg-secret");
  const std::string address = reserve_loopback_address();
  // The command listens only after a second: a sidecar that registered at once would register an
  // address that refuses connections.
  Process process(sidecar(registry, address,
                          {"sh", "-c", "sleep 1; exec '" + fulcrum_binary() + "' demo-backend --listen " + address}));
  ASSERT_TRUE(eventually([&] { return registry.count("POST") == 1; }, 10s)) << process.all_output();
  EXPECT_TRUE(registry.requests()[0].address_accepted) << "registered before the command listened";
  ASSERT_TRUE(eventually([&] { return registry.count("PUT") >= 1; }, 5s));

  process.signal(SIGTERM);
  // The demo backend dies of the forwarded SIGTERM; the sidecar reports it as a shell would.
  EXPECT_EQ(process.wait_exit(5s), 128 + SIGTERM) << process.all_output();
  EXPECT_EQ(registry.count("DELETE", "/register/lease-1"), 1u);
  EXPECT_FALSE(Client::connect(address, 500ms).valid()) << "the command is gone";
}

TEST(RegisterCommand, DeregistersWhenTheCommandExitsAndExitsWithItsStatus) {
  FakeRegistry registry("reg-secret");
  const std::string address = reserve_loopback_address();
  const std::string flag = flag_path();
  Process process(sidecar(registry, address, backend_until(address, flag, "exit 3")));
  ASSERT_TRUE(eventually([&] { return registry.count("PUT") >= 1; }, 10s)) << process.all_output();
  EXPECT_EQ(registry.count("DELETE"), 0u);

  std::ofstream(flag) << "go";
  EXPECT_EQ(process.wait_exit(15s), 3) << process.all_output();
  EXPECT_EQ(registry.count("DELETE", "/register/lease-1"), 1u);
}

TEST(RegisterCommand, ACommandKilledByASignalGives128PlusIt) {
  FakeRegistry registry("reg-secret");
  const std::string address = reserve_loopback_address();
  const std::string flag = flag_path();
  Process process(sidecar(registry, address, backend_until(address, flag, "kill -KILL $$")));
  ASSERT_TRUE(eventually([&] { return registry.count("PUT") >= 1; }, 10s)) << process.all_output();
  std::ofstream(flag) << "go";
  EXPECT_EQ(process.wait_exit(15s), 128 + SIGKILL) << process.all_output();
  EXPECT_EQ(registry.count("DELETE"), 1u);
}

TEST(RegisterCommand, ACommandThatEndsBeforeListeningIsNeverRegistered) {
  FakeRegistry registry("reg-secret");
  Process process(sidecar(registry, reserve_loopback_address(), {"sh", "-c", "exit 5"}));
  EXPECT_EQ(process.wait_exit(5s), 5);
  EXPECT_TRUE(registry.requests().empty());
}

TEST(RegisterCommand, ACommandThatCannotStartExits127) {
  FakeRegistry registry("reg-secret");
  Process process(sidecar(registry, "127.0.0.1:8080", {"/nonexistent/fulcrum-test-command"}));
  EXPECT_EQ(process.wait_exit(5s), 127);
  process.read_output();
  EXPECT_NE(process.all_output().find("cannot start '/nonexistent/fulcrum-test-command'"), std::string::npos)
      << process.all_output();
  EXPECT_TRUE(registry.requests().empty());
}

}  // namespace
}  // namespace fulcrum::test
