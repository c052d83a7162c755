// The client side against the real server: `fulcrum backend ...` changing a running Fulcrum's pool
// through its admin API, and `fulcrum register` (fulcrum::Registration) joining a pool through the
// registration listener, with traffic checked through the front listener. Everything is the real
// binary over loopback sockets.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/http_command.h"
#include "support/process.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAdminToken = "admin-secret";
constexpr const char* kRegistrationToken = "reg-secret";

// Fulcrum with a front listener to pool `api` (round robin over `backends`) and an admin listener
// with a token; with `registration_listen`, also a registration listener there, and pool api
// takes registrations with that `ttl`.
std::string live_config(const std::vector<std::string>& backends, const std::string& registration_listen = "",
                        const std::string& ttl = "1s") {
  std::string yaml = "workers: 2\n"
                     "admin: { listen: 127.0.0.1:0, token: " + std::string(kAdminToken) + " }\n";
  if (!registration_listen.empty()) {
    yaml += "registration: { listen: " + registration_listen + ", token: " + kRegistrationToken + " }\n";
  }
  yaml += "listeners:\n  - name: front\n    listen: 127.0.0.1:0\n    mode: http\n    pool: api\n"
          "pools:\n  api:\n    strategy: round_robin\n";
  if (!registration_listen.empty()) yaml += "    registration: { ttl: " + ttl + " }\n";
  yaml += "    backends: [";
  for (std::size_t i = 0; i < backends.size(); ++i) yaml += (i ? ", " : "") + backends[i];
  return yaml + "]\n";
}

nlohmann::json pool_backends(const std::string& admin, const std::string& pool) {
  auto connection = HttpConnection::connect(admin);
  if (!connection.valid()) return nullptr;
  auto response = connection.get("/api/pools/" + pool, "Authorization: Bearer " + std::string(kAdminToken) + "\r\n", "admin");
  if (!response || response->status != 200) return nullptr;
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  return json.is_object() ? json["backends"] : nullptr;
}

nlohmann::json find_backend(const std::string& admin, const std::string& pool, const std::string& address) {
  const auto backends = pool_backends(admin, pool);
  if (!backends.is_array()) return nullptr;
  for (const auto& backend : backends) {
    if (backend.value("address", "") == address) return backend;
  }
  return nullptr;
}

CommandResult backend_command(const std::string& admin, std::vector<std::string> args, const std::string& token = kAdminToken) {
  std::vector<std::string> argv = {fulcrum_binary(), "backend"};
  argv.push_back(args[0]);
  argv.insert(argv.end(), {"--admin", "http://" + admin, "--token", token});
  argv.insert(argv.end(), args.begin() + 1, args.end());
  return run_command(argv, 10s);
}

// Sends `count` requests through the front, each on a new connection; returns how many each
// backend answered, and counts anything but a 200 as an error.
std::map<std::string, int> spread(const std::string& front, int count, int* errors) {
  std::map<std::string, int> answered;
  for (int i = 0; i < count; ++i) {
    auto connection = HttpConnection::connect(front);
    auto response = connection.get("/r" + std::to_string(i));
    if (!response || response->status != 200) {
      ++*errors;
      continue;
    }
    ++answered[response->backend()];
  }
  return answered;
}

TEST(LivePoolsCli, BackendAddSetDrainRemoveChangeTheRunningPool) {
  HttpBackend a("a"), b("b");
  FulcrumProcess fulcrum(live_config({a.address()}), 2);
  const std::string front = fulcrum.address("front");
  const std::string admin = fulcrum.address("admin");
  ASSERT_FALSE(admin.empty());
  int errors = 0;

  auto added = backend_command(admin, {"add", "api", b.address(), "--weight", "2", "--name", "app-b"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const auto added_json = nlohmann::json::parse(added.out);
  EXPECT_EQ(added_json["address"], b.address());
  EXPECT_EQ(added_json["name"], "app-b");
  EXPECT_EQ(added_json["weight"], 2);
  EXPECT_EQ(added_json["source"], "api");
  ASSERT_TRUE(eventually([&] { return spread(front, 6, &errors).count("b") > 0; }, 5s)) << "the added backend gets requests";

  auto set = backend_command(admin, {"set", "api", "app-b", "--weight", "5"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(nlohmann::json::parse(set.out)["weight"], 5);
  EXPECT_EQ(find_backend(admin, "api", b.address())["weight"], 5);

  auto drained = backend_command(admin, {"drain", "api", "app-b"});
  ASSERT_EQ(drained.exit_code, 0) << drained.err;
  EXPECT_EQ(nlohmann::json::parse(drained.out)["admin_state"], "drain");
  const auto before = b.requests();
  const auto after_drain = spread(front, 20, &errors);
  EXPECT_EQ(after_drain.count("b"), 0u) << "a drained backend gets no new request";
  EXPECT_EQ(b.requests(), before);

  auto ready = backend_command(admin, {"set", "api", b.address(), "--state", "ready"});
  ASSERT_EQ(ready.exit_code, 0) << ready.err;
  EXPECT_EQ(nlohmann::json::parse(ready.out)["admin_state"], "ready");

  auto removed = backend_command(admin, {"remove", "api", "app-b"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_TRUE(eventually([&] { return find_backend(admin, "api", b.address()).is_null(); }, 5s));
  EXPECT_EQ(spread(front, 10, &errors).count("b"), 0u);
  EXPECT_EQ(errors, 0);
}

TEST(LivePoolsCli, BackendErrorsAreTheServersWithExit1AndChangeNothing) {
  HttpBackend a("a");
  FulcrumProcess fulcrum(live_config({a.address()}), 2);
  const std::string admin = fulcrum.address("admin");

  struct Row {
    std::vector<std::string> args;
    std::string token;
    std::string status;  // "(HTTP 404)"
  };
  const std::vector<Row> rows = {
      {{"drain", "nope", a.address()}, kAdminToken, "(HTTP 404)"},       // unknown pool
      {{"drain", "api", "127.0.0.1:1"}, kAdminToken, "(HTTP 404)"},      // unknown backend
      {{"add", "api", a.address()}, kAdminToken, "(HTTP 409)"},          // already in the pool
      {{"add", "api", "not-an-address"}, kAdminToken, "(HTTP 400)"},     // bad address
      {{"set", "api", a.address(), "--weight", "-3"}, kAdminToken, "(HTTP 400)"},
      {{"remove", "api", a.address()}, "wrong-token", "(HTTP 401)"},
  };
  const auto before = pool_backends(admin, "api");
  for (const auto& row : rows) {
    const auto result = backend_command(admin, row.args, row.token);
    EXPECT_EQ(result.exit_code, 1) << row.args[0] << ' ' << row.args.back() << ": " << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err.rfind("fulcrum backend " + row.args[0] + ": ", 0), 0u) << result.err;
    EXPECT_NE(result.err.find(row.status), std::string::npos) << result.err;
  }
  EXPECT_EQ(pool_backends(admin, "api"), before) << "a refused write changed the pool";
}

std::vector<std::string> sidecar_argv(const std::string& registration, const std::string& address,
                                      std::vector<std::string> command = {}) {
  std::vector<std::string> argv = {fulcrum_binary(), "--log-format", "json", "register", "--url",
                                   "http://" + registration, "--pool", "api", "--address", address,
                                   "--name", "sidecar", "--ttl", "1s", "--token", kRegistrationToken};
  if (!command.empty()) {
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
  }
  return argv;
}

TEST(LivePoolsCli, SidecarWithACommandJoinsThePoolAndLeavesOnSigterm) {
  HttpBackend a("a");
  FulcrumProcess fulcrum(live_config({a.address()}, "127.0.0.1:0"), 3);
  const std::string front = fulcrum.address("front");
  const std::string admin = fulcrum.address("admin");
  const std::string registration = fulcrum.address("registration");
  ASSERT_FALSE(registration.empty());

  const std::string address = reserve_loopback_address();
  Process sidecar(sidecar_argv(registration, address,
                               {fulcrum_binary(), "demo-backend", "--listen", address, "--name", "registered"}));
  ASSERT_TRUE(eventually([&] { return !find_backend(admin, "api", address).is_null(); }, 10s)) << sidecar.all_output();
  const auto backend = find_backend(admin, "api", address);
  EXPECT_EQ(backend["source"], "registration");
  EXPECT_EQ(backend["name"], "sidecar");
  // The demo backend answers without X-Backend: count answers from it by body.
  ASSERT_TRUE(eventually([&] {
    for (int i = 0; i < 6; ++i) {
      auto connection = HttpConnection::connect(front);
      auto response = connection.get("/");
      if (response && response->body.find("hello from registered") != std::string::npos) return true;
    }
    return false;
  }, 5s));

  sidecar.signal(SIGTERM);
  EXPECT_EQ(sidecar.wait_exit(10s), 128 + SIGTERM) << sidecar.all_output();
  EXPECT_TRUE(eventually([&] { return find_backend(admin, "api", address).is_null(); }, 5s));
  int errors = 0;
  EXPECT_EQ(spread(front, 10, &errors)["a"], 10);
  EXPECT_EQ(errors, 0);
}

TEST(LivePoolsCli, AKilledSidecarsBackendExpiresAfterItsTtl) {
  HttpBackend a("a"), b("b");
  FulcrumProcess fulcrum(live_config({a.address()}, "127.0.0.1:0"), 3);
  const std::string front = fulcrum.address("front");
  const std::string admin = fulcrum.address("admin");
  Process sidecar(sidecar_argv(fulcrum.address("registration"), b.address()));
  ASSERT_TRUE(eventually([&] { return !find_backend(admin, "api", b.address()).is_null(); }, 5s)) << sidecar.all_output();

  sidecar.signal(SIGKILL);  // no deregistration: only the lease's expiry removes it
  ASSERT_TRUE(sidecar.wait_exit(5s).has_value());
  EXPECT_FALSE(find_backend(admin, "api", b.address()).is_null()) << "removed before its TTL ran out";
  ASSERT_TRUE(eventually([&] { return find_backend(admin, "api", b.address()).is_null(); }, 10s));
  int errors = 0;
  EXPECT_EQ(spread(front, 10, &errors)["a"], 10);
  EXPECT_EQ(errors, 0);
}

TEST(LivePoolsCli, TheSidecarsBackendIsBackSoonAfterFulcrumRestarts) {
  HttpBackend a("a"), b("b");
  const std::string registration = reserve_loopback_address();  // the same address after the restart
  auto fulcrum = std::make_unique<FulcrumProcess>(live_config({a.address()}, registration, "3s"), 3);
  Process sidecar(sidecar_argv(registration, b.address()));
  ASSERT_TRUE(eventually([&] { return !find_backend(fulcrum->address("admin"), "api", b.address()).is_null(); }, 5s));

  fulcrum->process().signal(SIGTERM);
  ASSERT_TRUE(fulcrum->process().wait_exit(10s).has_value());
  fulcrum = std::make_unique<FulcrumProcess>(live_config({a.address()}, registration, "3s"), 3);
  // A renewal every second gets 404 from the new instance; the sidecar registers again at once.
  ASSERT_TRUE(eventually([&] { return !find_backend(fulcrum->address("admin"), "api", b.address()).is_null(); }, 3s))
      << sidecar.all_output();
  EXPECT_TRUE(sidecar.running());
}

}  // namespace
}  // namespace fulcrum::test
