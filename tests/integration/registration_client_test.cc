// fulcrum::Registration over real loopback sockets against a stand-in registration listener
// (support/fake_registry.h), so that the client's side of the protocol is checked on its own:
// register, renew every TTL/3, register again after a 404, back off while the server is down and
// come back when it is up, move to the next URL, report load and weight, deregister on stop().
// The same class against the real server: live_pools_cli_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "fulcrum/registration.h"
#include "support/eventually.h"
#include "support/fake_registry.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

RegistrationOptions options_for(std::vector<std::string> urls, std::chrono::milliseconds ttl = 600ms) {
  return {.urls = std::move(urls),
          .token = "reg-secret",
          .pool = "api",
          .address = "127.0.0.1:8080",
          .weight = 2,
          .name = "app7",
          .ttl = ttl};
}

TEST(RegistrationClient, RegistersRenewsEveryThirdOfTheTtlAndDeregistersOnStop) {
  FakeRegistry registry("reg-secret");
  Registration registration(options_for({registry.url()}));
  const Status status = registration.start();
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_TRUE(registration.registered());
  const std::string lease = registration.lease();
  EXPECT_EQ(lease, "lease-1");

  auto requests = registry.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/register");
  EXPECT_EQ(requests[0].authorization, "Bearer reg-secret");
  EXPECT_EQ(requests[0].content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(requests[0].body),
            nlohmann::json({{"pool", "api"}, {"address", "127.0.0.1:8080"}, {"weight", 2}, {"name", "app7"}, {"ttl", "600ms"}}));

  // Renewals every 200 ms: three of them well within the 600 ms lease's life several times over.
  ASSERT_TRUE(eventually([&] { return registry.count("PUT", "/register/" + lease) >= 3; }, 5s));
  EXPECT_EQ(registry.count("POST"), 1u) << "renewals that succeed never register again";
  for (const auto& request : registry.requests()) {
    if (request.method == "PUT") {
      EXPECT_EQ(request.body, "") << "no report was set";
      EXPECT_EQ(request.content_type, "") << "an empty renewal claims no body type";
    }
  }

  registration.stop();
  EXPECT_FALSE(registration.registered());
  EXPECT_EQ(registry.count("DELETE", "/register/" + lease), 1u);
  EXPECT_TRUE(registry.leases().empty());
  // Stopped means stopped: no request after the deregistration.
  const auto after_stop = registry.requests().size();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(registry.requests().size(), after_stop);
}

TEST(RegistrationClient, RegistersAgainWhenARenewalGets404) {
  FakeRegistry registry("reg-secret");
  Registration registration(options_for({registry.url()}));
  ASSERT_TRUE(registration.start().ok());
  ASSERT_TRUE(eventually([&] { return registry.count("PUT", "/register/lease-1") >= 1; }));

  registry.forget_leases();  // as a restarted Fulcrum: lease-1 is unknown now
  ASSERT_TRUE(eventually([&] { return registration.lease() == "lease-2"; }, 5s)) << registration.last_error();
  EXPECT_EQ(registry.count("POST", "/register"), 2u);
  ASSERT_TRUE(eventually([&] { return registry.count("PUT", "/register/lease-2") >= 1; }));
  registration.stop();
  EXPECT_EQ(registry.count("DELETE", "/register/lease-2"), 1u);
  EXPECT_EQ(registry.count("DELETE", "/register/lease-1"), 0u);
}

TEST(RegistrationClient, ARefusalIsStartsErrorAndNothingRuns) {
  FakeRegistry registry("the-right-token");
  Registration registration(options_for({registry.url()}));
  const Status status = registration.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error.find("missing or wrong registration token (HTTP 401)"), std::string::npos) << status.error;
  EXPECT_FALSE(registration.registered());
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(registry.requests().size(), 1u) << "a refused registration is not retried";

  registry.refuse(403, "pool 'api' does not accept registrations");
  const Status again = registration.start();
  EXPECT_NE(again.error.find("pool 'api' does not accept registrations (HTTP 403)"), std::string::npos) << again.error;
}

TEST(RegistrationClient, A409IsRetriedUntilTheAddressIsFree) {
  // The address still draining after its previous registration ended: not a refusal, it clears.
  FakeRegistry registry("reg-secret");
  registry.refuse(409, "address: backend '127.0.0.1:8080' is still draining in pool 'api'");
  Registration registration(options_for({registry.url()}));
  const Status status = registration.start();
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_FALSE(registration.registered());
  EXPECT_NE(registration.last_error().find("still draining"), std::string::npos) << registration.last_error();
  ASSERT_TRUE(eventually([&] { return registry.count("POST") >= 2; }, 5s)) << "retried";
  registry.refuse(0, "");
  ASSERT_TRUE(eventually([&] { return registration.registered(); }, 10s)) << registration.last_error();
}

TEST(RegistrationClient, InvalidOptionsAreRefusedWithoutARequest) {
  Registration no_pool({.urls = {"http://127.0.0.1:1"}, .address = "127.0.0.1:8080"});
  EXPECT_EQ(no_pool.start().error, "no pool given");
  Registration bad_url({.urls = {"ftp://127.0.0.1:1"}, .pool = "api", .address = "127.0.0.1:8080"});
  EXPECT_EQ(bad_url.start().error, "'ftp://127.0.0.1:1' is not an http:// or https:// URL");
}

TEST(RegistrationClient, KeepsTryingWhileTheServerIsDownAndRegistersWhenItComesUp) {
  const std::string address = reserve_loopback_address();  // nothing listens there yet
  Registration registration(options_for({"http://" + address}));
  const Status status = registration.start();
  ASSERT_TRUE(status.ok()) << "an unreachable server is not a refusal: " << status.error;
  EXPECT_FALSE(registration.registered());
  EXPECT_FALSE(registration.last_error().empty());

  std::this_thread::sleep_for(300ms);  // at least one retry fails too
  FakeRegistry registry("reg-secret", address);
  ASSERT_TRUE(eventually([&] { return registration.registered(); }, 10s)) << registration.last_error();
  EXPECT_EQ(registration.last_error(), "");
  EXPECT_EQ(registry.count("POST", "/register"), 1u);
  registration.stop();
  EXPECT_EQ(registry.count("DELETE"), 1u);
}

TEST(RegistrationClient, RenewalsOutlastAServerOutageWhileTheLeaseHolds) {
  FakeRegistry registry("reg-secret");
  const std::string address = registry.address();
  Registration registration(options_for({registry.url()}, 3s));  // renewals every second
  ASSERT_TRUE(registration.start().ok());
  registry.stop();
  ASSERT_TRUE(eventually([&] { return !registration.last_error().empty(); }, 5s));
  EXPECT_TRUE(registration.registered()) << "a lease that may still be valid is kept";

  FakeRegistry restarted("reg-secret", address);  // came back with its leases lost
  ASSERT_TRUE(eventually([&] { return restarted.count("POST", "/register") == 1; }, 10s)) << registration.last_error();
  EXPECT_GE(restarted.count("PUT", "/register/lease-1"), 1u) << "the old lease was tried first";
  EXPECT_TRUE(eventually([&] { return registration.registered(); }));
}

TEST(RegistrationClient, MovesToTheNextUrlWhenOneCannotBeReached) {
  FakeRegistry registry("reg-secret");
  const std::string dead = "http://" + reserve_loopback_address();
  Registration registration(options_for({dead, registry.url()}));
  ASSERT_TRUE(registration.start().ok());
  EXPECT_TRUE(registration.registered());
  ASSERT_TRUE(eventually([&] { return registry.count("PUT") >= 2; }));
  registration.stop();
  EXPECT_EQ(registry.count("DELETE"), 1u);
}

TEST(RegistrationClient, RenewalsCarryTheLastLoadOrWeightReported) {
  FakeRegistry registry("reg-secret");
  Registration registration(options_for({registry.url()}));
  ASSERT_TRUE(registration.start().ok());
  EXPECT_EQ(registration.set_load(1.5).error, "the load must be between 0.0 and 1.0");
  EXPECT_FALSE(registration.set_load(-0.1).ok());
  ASSERT_TRUE(registration.set_load(0.25).ok());
  auto renewed_with = [&](const nlohmann::json& body) {
    for (const auto& request : registry.requests()) {
      if (request.method == "PUT" && nlohmann::json::parse(request.body, nullptr, false) == body) return true;
    }
    return false;
  };
  ASSERT_TRUE(eventually([&] { return renewed_with({{"load", 0.25}}); }, 5s));
  registration.set_weight(4);
  ASSERT_TRUE(eventually([&] { return renewed_with({{"weight", 4}}); }, 5s));

  // Registering again (after a 404) uses the weight reported last.
  registry.forget_leases();
  ASSERT_TRUE(eventually([&] { return registry.count("POST") == 2; }, 5s));
  const auto requests = registry.requests();
  const auto last_post = std::find_if(requests.rbegin(), requests.rend(), [](const auto& r) { return r.method == "POST"; });
  EXPECT_EQ(nlohmann::json::parse(last_post->body)["weight"], 4);
}

TEST(RegistrationClient, StopAbandonsARenewalTheServerNeverAnswers) {
  // Registers and deregisters normally, but never answers a renewal: stop() must abandon the one in
  // flight rather than wait for its 30 s timeout, and still deregister.
  std::atomic<int> deletes{0};
  ScriptedBackend server([&](const std::string& request) -> ScriptedBackend::Script {
    const std::string json = request.rfind("POST", 0) == 0 ? R"({"lease":"l1","ttl_ms":300})" : R"({"lease":"l1"})";
    if (request.rfind("PUT", 0) == 0) return {ScriptedBackend::Step::stall()};
    if (request.rfind("DELETE", 0) == 0) ++deletes;
    return {ScriptedBackend::Step::send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(json.size()) + "\r\n\r\n" + json)};
  });
  auto options = options_for({"http://" + server.address()});
  options.request_timeout = 30s;
  Registration registration(options);
  ASSERT_TRUE(registration.start().ok());
  ASSERT_TRUE(eventually([&] { return server.accepted() >= 2; }, 5s)) << "a renewal is in flight";
  const auto before = std::chrono::steady_clock::now();
  registration.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 10s) << "stop() waited for the renewal's timeout";
  EXPECT_EQ(deletes.load(), 1);
}

}  // namespace
}  // namespace fulcrum::test
