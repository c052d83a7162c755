// `fulcrum backend add|set|drain|remove` as a real process against a stand-in admin API that
// records each request and answers as told: the method, path, token and body sent, the server's
// JSON printed on success (exit 0), its error text on stderr (exit 1), bad usage refused before
// anything is sent (exit 2). Against the real server: live_pools_cli_test.cc.
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "support/fulcrum_process.h"
#include "support/http_command.h"
#include "support/scripted_backend.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

// Answers every request with `status` and `body`; keeps what it received.
class FakeAdmin {
 public:
  FakeAdmin(int status, std::string body)
      : server_([this, status, body = std::move(body)](const std::string& request) {
          {
            std::lock_guard lock(mutex_);
            requests_.push_back(request);
          }
          return ScriptedBackend::Script{ScriptedBackend::Step::send(
              "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body)};
        }) {}
  std::string url() const { return "http://" + server_.address(); }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  ScriptedBackend server_;
};

CommandResult fulcrum_command(std::vector<std::string> args) {
  args.insert(args.begin(), fulcrum_binary());
  return run_command(args, 10s);
}

std::string request_line(const std::string& request) { return request.substr(0, request.find("\r\n")); }
std::string request_body(const std::string& request) { return request.substr(request.find("\r\n\r\n") + 4); }

TEST(BackendCommand, AddPrintsTheServersAnswer) {
  const std::string answer = R"({"id":7,"name":"app3","address":"127.0.0.1:9003","weight":2,"admin_state":"ready","source":"api"})";
  FakeAdmin admin(201, answer);
  const auto result = fulcrum_command({"backend", "add", "--admin", admin.url(), "--token", "s3cret", "api",
                                       "127.0.0.1:9003", "--weight", "2", "--name", "app3"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, answer + "\n");
  const auto requests = admin.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(request_line(requests[0]), "POST /api/pools/api/backends HTTP/1.1");
  EXPECT_NE(requests[0].find("\r\nAuthorization: Bearer s3cret\r\n"), std::string::npos) << requests[0];
  EXPECT_NE(requests[0].find("\r\nContent-Type: application/json\r\n"), std::string::npos) << requests[0];
  EXPECT_EQ(nlohmann::json::parse(request_body(requests[0])),
            nlohmann::json({{"address", "127.0.0.1:9003"}, {"weight", 2}, {"name", "app3"}}));
}

TEST(BackendCommand, SetDrainRemoveAddressABackendByNameOrEncodedAddress) {
  FakeAdmin admin(200, R"({"name":"app3"})");
  ASSERT_EQ(setenv("FULCRUM_TOKEN", "from-env", 1), 0);
  auto set = fulcrum_command({"backend", "set", "--admin", admin.url(), "api", "app3", "--weight", "5", "--state", "ready"});
  auto drain = fulcrum_command({"backend", "drain", "--admin", admin.url(), "api", "[::1]:9003"});
  auto remove = fulcrum_command({"backend", "remove", "--admin", admin.url(), "api", "app3"});
  unsetenv("FULCRUM_TOKEN");
  EXPECT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(drain.exit_code, 0) << drain.err;
  EXPECT_EQ(remove.exit_code, 0) << remove.err;
  const auto requests = admin.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(request_line(requests[0]), "PATCH /api/pools/api/backends/app3 HTTP/1.1");
  EXPECT_EQ(nlohmann::json::parse(request_body(requests[0])), nlohmann::json({{"weight", 5}, {"state", "ready"}}));
  EXPECT_EQ(request_line(requests[1]), "PATCH /api/pools/api/backends/%5B::1%5D:9003 HTTP/1.1");
  EXPECT_EQ(nlohmann::json::parse(request_body(requests[1])), nlohmann::json({{"state", "drain"}}));
  EXPECT_EQ(request_line(requests[2]), "DELETE /api/pools/api/backends/app3 HTTP/1.1");
  EXPECT_EQ(requests[2].find("Content-Type"), std::string::npos) << "a DELETE has no body: " << requests[2];
  for (const auto& request : requests) {
    EXPECT_NE(request.find("\r\nAuthorization: Bearer from-env\r\n"), std::string::npos) << request;
  }
}

TEST(BackendCommand, AServerErrorIsPrintedOnStderrWithExit1) {
  FakeAdmin admin(404, R"({"error":"unknown pool 'nope'"})");
  const auto result = fulcrum_command({"backend", "drain", "--admin", admin.url(), "nope", "app3"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "fulcrum backend drain: unknown pool 'nope' (HTTP 404)\n");
}

TEST(BackendCommand, AnUnreachableAdminApiExits1NamingTheUrl) {
  const std::string url = "http://" + reserve_loopback_address();
  const auto result = fulcrum_command({"backend", "remove", "--admin", url, "api", "app3"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("fulcrum backend remove: " + url + "/api/pools/api/backends/app3: "), std::string::npos)
      << result.err;
}

TEST(BackendCommand, BadUsageExits2AndSendsNothing) {
  FakeAdmin admin(200, "{}");
  const std::vector<std::vector<std::string>> usages = {
      {"backend", "set", "--admin", admin.url(), "api", "app3"},                        // nothing to set
      {"backend", "set", "--admin", admin.url(), "api", "app3", "--state", "up"},       // not a state
      {"backend", "add", "--admin", admin.url(), "api"},                                // no ADDRESS
      {"backend", "add", "api", "127.0.0.1:9003"},                                      // no --admin
      {"backend", "add", "--admin", "ftp://127.0.0.1:1", "api", "127.0.0.1:9003"},      // not http
      {"backend", "drain", "--admin", admin.url(), "api", "app3", "--weight", "1"},     // not for drain
  };
  for (const auto& usage : usages) {
    const auto result = fulcrum_command(usage);
    EXPECT_EQ(result.exit_code, 2) << usage[1] << ' ' << usage.back() << ": " << result.err;
    EXPECT_FALSE(result.err.empty());
  }
  EXPECT_TRUE(admin.requests().empty());
}

}  // namespace
}  // namespace fulcrum::test
