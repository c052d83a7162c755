// The registration listener with the real binary over real sockets: a registered backend serves,
// renewals keep it, a lapsed lease expires (backend_expired) with no client error, a
// deregistration drains and removes, the mass-eviction guard keeps a majority that lapses together
// (and health checks go on), bad requests are refused with their code and message and change
// nothing, and least_load follows the loads backends report.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

/// A config with an http listener on pool `api` (accepting registrations with a 1 s TTL), a pool
/// `fixed` that does not accept them, the admin API, the registration listener and an event log.
std::string config_yaml(const std::string& events, const std::string& fixed_backend, const std::string& pool_extra = "") {
  return "workers: 1\n"
         "drain_timeout: 10s\n"
         "listeners:\n"
         "  - { name: web, listen: 127.0.0.1:0, mode: http, pool: api }\n"
         "  - { name: other, listen: 127.0.0.1:0, mode: http, pool: fixed }\n"
         "admin: { listen: 127.0.0.1:0, token: admintoken }\n"
         "registration: { listen: 127.0.0.1:0, token: sekrit }\n"
         "events: { file: " + events + " }\n"
         "pools:\n"
         "  api:\n"
         "    registration: { ttl: 1s }\n" + pool_extra +
         "  fixed:\n"
         "    backends: [" + fixed_backend + "]\n";
}

std::string events_path() {
  return (std::filesystem::path(write_temp_file("placeholder", "")).parent_path() / "events.jsonl").string();
}

std::optional<HttpResponse> request(const std::string& address, const std::string& method, const std::string& path,
                                    const std::string& body = "", const std::string& auth = "Bearer sekrit") {
  auto connection = HttpConnection::connect(address);
  if (!connection.valid()) return std::nullopt;
  std::string head = method + " " + path + " HTTP/1.1\r\nHost: fulcrum\r\n";
  if (!auth.empty()) head += "Authorization: " + auth + "\r\n";
  connection.send(head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  return connection.read_response();
}

/// Registers `backend` in pool `api`; the lease ("" on failure, which fails the test).
std::string register_backend(const std::string& registration, const std::string& backend, const std::string& extra = "") {
  const auto response =
      request(registration, "POST", "/register", R"({"pool": "api", "address": ")" + backend + "\"" + extra + "}");
  EXPECT_TRUE(response);
  if (!response) return "";
  EXPECT_EQ(response->status, 201) << response->body;
  const auto document = json::parse(response->body, nullptr, false);
  return document.is_object() && document.contains("lease") ? document["lease"].get<std::string>() : "";
}

/// The members of pool `api` as GET /api/pools/api/backends shows them.
json members(const std::string& admin) {
  const auto response = request(admin, "GET", "/api/pools/api/backends", "", "Bearer admintoken");
  if (!response || response->status != 200) return json::array();
  return json::parse(response->body);
}

/// Addresses of the members not being removed (admin_state ready).
std::vector<std::string> ready_addresses(const std::string& admin) {
  std::vector<std::string> out;
  for (const auto& backend : members(admin)) {
    if (backend["admin_state"] == "ready") out.push_back(backend["address"]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Events named `name` in the event log (written at once for membership events).
std::vector<json> events_named(const std::string& path, const std::string& name) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto parsed = json::parse(line, nullptr, false);
    if (!parsed.is_discarded() && parsed["event"] == name) out.push_back(parsed);
  }
  return out;
}

/// Renews leases every 250 ms on a thread of its own (a sidecar's heartbeat, 4 per 1 s TTL) until
/// destroyed or stopped; `body` of each renewal may be changed meanwhile.
class Renewer {
 public:
  Renewer(std::string registration, std::vector<std::string> leases)
      : registration_(std::move(registration)), leases_(std::move(leases)), thread_([this] { run(); }) {}
  ~Renewer() { stop(); }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }
  /// Sets the body renewals of `lease` carry from now on.
  void set_body(const std::string& lease, const std::string& body) {
    std::lock_guard lock(mutex_);
    bodies_[lease] = body;
  }
  /// Renewals not answered 200.
  int failures() const { return failures_.load(); }

 private:
  void run() {
    while (running_) {
      for (const auto& lease : leases_) {
        std::string body;
        {
          std::lock_guard lock(mutex_);
          body = bodies_[lease];
        }
        const auto response = request(registration_, "PUT", "/register/" + lease, body);
        if (!response || response->status != 200) ++failures_;
      }
      for (int i = 0; i < 5 && running_; ++i) std::this_thread::sleep_for(50ms);
    }
  }

  const std::string registration_;
  const std::vector<std::string> leases_;
  std::mutex mutex_;
  std::map<std::string, std::string> bodies_;
  std::atomic<bool> running_{true};
  std::atomic<int> failures_{0};
  std::thread thread_;
};

TEST(Registration, RegisteredBackendServesRenewalsKeepItAndALapsedLeaseExpiresWithoutClientErrors) {
  HttpBackend a("a"), b("b"), fixed("fixed");
  const std::string log = events_path();
  FulcrumProcess fulcrum(config_yaml(log, fixed.address()), 4);
  const std::string registration = fulcrum.address("registration"), admin = fulcrum.address("admin");
  ASSERT_FALSE(registration.empty());
  // Starts empty: the listener's 503 (which closes the connection).
  const auto empty = HttpConnection::connect(fulcrum.address("web")).get("/");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 503);

  // 2 s leases renewed every 250 ms: a loaded machine (sanitizers, parallel tests) may delay a
  // renewal by far more than 250 ms without the lease lapsing.
  const std::string lease_a = register_backend(registration, a.address(), R"(, "name": "app-a", "ttl": "2s")");
  const std::string lease_b = register_backend(registration, b.address(), R"(, "ttl": "2s")");
  ASSERT_FALSE(lease_a.empty());
  ASSERT_FALSE(lease_b.empty());
  const json listed = members(admin);
  ASSERT_EQ(listed.size(), 2u) << listed.dump();
  EXPECT_EQ(listed[0]["source"], "registration");
  EXPECT_EQ(listed[0]["name"], "app-a");
  ASSERT_EQ(events_named(log, "backend_added").size(), 2u);
  EXPECT_EQ(events_named(log, "backend_added")[0]["source"], "registration");

  auto client = HttpConnection::connect(fulcrum.address("web"));
  Renewer keep_b(registration, {lease_b});
  {
    Renewer keep_a(registration, {lease_a});
    // Two TTLs: renewals keep both, and both serve.
    std::set<std::string> served;
    const auto until = std::chrono::steady_clock::now() + 4s;
    while (std::chrono::steady_clock::now() < until) {
      const auto response = client.get("/");
      ASSERT_TRUE(response);
      ASSERT_EQ(response->status, 200);
      served.insert(response->backend());
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(served, (std::set<std::string>{"a", "b"}));
    EXPECT_EQ(keep_a.failures(), 0);
    EXPECT_TRUE(events_named(log, "backend_expired").empty());
  }
  // a's sidecar is gone (its backend is not): a light, bounded request loop while its lease lapses
  // sees no error, and once it expired only b answers.
  int requests = 0, errors = 0;
  bool expired = false;
  const auto deadline = std::chrono::steady_clock::now() + 8s;
  int after_expiry = 0;
  while (std::chrono::steady_clock::now() < deadline && requests < 400 && after_expiry < 20) {
    const auto response = client.get("/");
    ++requests;
    if (!response || response->status != 200) ++errors;
    if (expired && response) {
      EXPECT_EQ(response->backend(), "b");
      ++after_expiry;
    }
    expired = expired || !events_named(log, "backend_expired").empty();
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(errors, 0) << "of " << requests;
  ASSERT_TRUE(expired);
  const auto expiry = events_named(log, "backend_expired");
  ASSERT_EQ(expiry.size(), 1u);
  EXPECT_EQ(expiry[0]["backend"], a.address());
  EXPECT_EQ(expiry[0]["pool"], "api");
  EXPECT_EQ(ready_addresses(admin), std::vector<std::string>{b.address()});
  // The lapsed lease is gone: the sidecar must register again.
  const auto renewal = request(registration, "PUT", "/register/" + lease_a);
  ASSERT_TRUE(renewal);
  EXPECT_EQ(renewal->status, 404);
  EXPECT_EQ(keep_b.failures(), 0);
}

TEST(Registration, DeregistrationDrainsAndRemovesAndASecondRegistrationGetsTheLeaseBack) {
  HttpBackend a("a"), b("b"), fixed("fixed");
  const std::string log = events_path();
  FulcrumProcess fulcrum(config_yaml(log, fixed.address()), 4);
  const std::string registration = fulcrum.address("registration"), admin = fulcrum.address("admin");
  const std::string lease_a = register_backend(registration, a.address(), R"(, "ttl": "30s")");
  // The same address again (a sidecar restarted, or its answer was lost): the same lease, renewed.
  const auto again = request(registration, "POST", "/register",
                             R"({"pool": "api", "address": ")" + a.address() + R"(", "ttl": "20s"})");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(json::parse(again->body), (json{{"lease", lease_a}, {"ttl_ms", 20000}}));
  EXPECT_EQ(members(admin).size(), 1u);

  // A slow request in flight on a (the only member yet) when it deregisters.
  a.set_delay(1500ms);
  std::optional<HttpResponse> slow;
  std::thread in_flight([&] { slow = HttpConnection::connect(fulcrum.address("web")).get("/slow"); });
  ASSERT_TRUE(eventually([&] { return a.heads() == 1; }));
  const std::string lease_b = register_backend(registration, b.address(), R"(, "ttl": "30s")");
  const auto removed = request(registration, "DELETE", "/register/" + lease_a);
  ASSERT_TRUE(removed);
  ASSERT_EQ(removed->status, 200) << removed->body;
  EXPECT_EQ(json::parse(removed->body), (json{{"lease", lease_a}, {"deregistered", true}}));
  // Out of rotation once answered: new requests go to b; a stays a member while its request runs.
  auto client = HttpConnection::connect(fulcrum.address("web"));
  for (int i = 0; i < 6; ++i) {
    const auto response = client.get("/");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->backend(), "b");
  }
  EXPECT_EQ(a.heads(), 1u);
  EXPECT_TRUE(events_named(log, "backend_removed").empty());
  EXPECT_EQ(members(admin).size(), 2u);
  in_flight.join();
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->backend(), "a");
  // Gone once idle.
  EXPECT_TRUE(eventually([&] { return events_named(log, "backend_removed").size() == 1; }));
  EXPECT_EQ(events_named(log, "backend_removed")[0]["backend"], a.address());
  EXPECT_TRUE(events_named(log, "backend_expired").empty());
  EXPECT_EQ(members(admin).size(), 1u);
  for (const char* method : {"PUT", "DELETE"}) {
    const auto response = request(registration, method, "/register/" + lease_a);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 404) << method;
  }
  const auto renewed = request(registration, "PUT", "/register/" + lease_b);
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->status, 200);
}

TEST(Registration, GuardKeepsAMajorityThatLapsesTogetherAndChecksGoOn) {
  HttpBackend a("a"), b("b"), c("c"), d("d"), fixed("fixed");
  const std::string log = events_path();
  FulcrumProcess fulcrum(
      config_yaml(log, fixed.address(), "    health: { tcp: {}, interval: 100ms, timeout: 50ms, rise: 1, fall: 1 }\n"), 4);
  const std::string registration = fulcrum.address("registration"), admin = fulcrum.address("admin");
  // a, b and c with the pool's 1 s TTL; d, which keeps renewing, with 4 s, so that a loaded machine
  // delaying its renewals does not make it silent too.
  std::vector<std::string> leases;
  for (auto* backend : {&a, &b, &c}) leases.push_back(register_backend(registration, backend->address()));
  leases.push_back(register_backend(registration, d.address(), R"(, "ttl": "4s")"));
  Renewer keep_d(registration, {leases[3]});
  // a, b and c stop renewing together: three of four overdue, kept.
  ASSERT_TRUE(eventually([&] { return !events_named(log, "registration_guard").empty(); }, 5s));
  const auto guard = events_named(log, "registration_guard");
  EXPECT_EQ(guard[0]["pool"], "api");
  EXPECT_EQ(guard[0]["silent"], 3);
  EXPECT_EQ(guard[0]["registered"], 4);
  EXPECT_EQ(fulcrum.count_log("registration guard: many leases lapsed at once; keeping their backends"), 1u);
  // Health checks go on for the kept backends: c stopping is noticed, while it stays a member.
  c.stop();
  EXPECT_TRUE(eventually([&] {
    for (const auto& backend : members(admin)) {
      if (backend["address"] == c.address()) return backend["state"] == "unhealthy";
    }
    return false;
  }));
  std::this_thread::sleep_for(1s);  // more than a TTL past the guard: still kept
  EXPECT_EQ(ready_addresses(admin).size(), 4u);
  EXPECT_TRUE(events_named(log, "backend_expired").empty());
  EXPECT_EQ(events_named(log, "registration_guard").size(), 1u);  // once per episode
  auto client = HttpConnection::connect(fulcrum.address("web"));
  std::set<std::string> served;
  for (int i = 0; i < 12; ++i) {
    const auto response = client.get("/");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    served.insert(response->backend());
  }
  EXPECT_EQ(served, (std::set<std::string>{"a", "b", "d"}));
}

TEST(Registration, OneLapsedLeaseOfFourExpires) {
  HttpBackend a("a"), b("b"), c("c"), d("d"), fixed("fixed");
  const std::string log = events_path();
  FulcrumProcess fulcrum(config_yaml(log, fixed.address()), 4);
  const std::string registration = fulcrum.address("registration"), admin = fulcrum.address("admin");
  // a with the pool's 1 s TTL; the three that keep renewing with 4 s (silent only after 2 s without
  // a renewal, which even a loaded machine does not delay them by).
  std::vector<std::string> leases{register_backend(registration, a.address())};
  for (auto* backend : {&b, &c, &d}) leases.push_back(register_backend(registration, backend->address(), R"(, "ttl": "4s")"));
  Renewer keep(registration, {leases[1], leases[2], leases[3]});
  ASSERT_TRUE(eventually([&] { return !events_named(log, "backend_expired").empty(); }, 5s));
  EXPECT_EQ(events_named(log, "backend_expired")[0]["backend"], a.address());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(ready_addresses(admin).size(), 3u);
  EXPECT_EQ(events_named(log, "backend_expired").size(), 1u);
  EXPECT_TRUE(events_named(log, "registration_guard").empty());
  EXPECT_EQ(keep.failures(), 0);
}

TEST(Registration, BadRequestsAreRefusedWithTheirCodeAndMessageAndChangeNothing) {
  HttpBackend a("a"), b("b"), fixed("fixed");
  const std::string log = events_path();
  FulcrumProcess fulcrum(config_yaml(log, fixed.address()), 4);
  const std::string registration = fulcrum.address("registration"), admin = fulcrum.address("admin");
  const std::string lease = register_backend(registration, a.address(), R"(, "name": "app-a", "ttl": "1h")");
  // b is in the pool through the admin API: registering its address is a conflict.
  const auto added = request(admin, "POST", "/api/pools/api/backends", R"({"address": ")" + b.address() + "\"}",
                             "Bearer admintoken");
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 201) << added->body;
  const json before = members(admin);
  ASSERT_EQ(before.size(), 2u);

  auto post = [&](const std::string& fields) { return R"({"pool": "api", )" + fields + "}"; };
  const std::string address_a = R"("address": ")" + a.address() + "\"";
  const std::string address_c = R"("address": "127.0.0.1:9")";
  struct Row {
    std::string method, path, body, auth;
    int status;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"POST", "/register", post(address_c), "", 401, "a bearer token is required (registration.token)"},
      {"POST", "/register", post(address_c), "Bearer admintoken", 401, "a bearer token is required (registration.token)"},
      {"POST", "/register", post(address_c), "Basic c2Vrcml0", 401, "a bearer token is required (registration.token)"},
      {"GET", "/register", "", "Bearer sekrit", 405, "method not allowed"},
      {"PATCH", "/register/" + lease, "{}", "Bearer sekrit", 405, "method not allowed"},
      {"POST", "/api/pools", "", "Bearer sekrit", 404, "not found"},
      {"POST", "/register", R"({"pool": "fixed", )" + address_c + "}", "Bearer sekrit", 403,
       "pool: pool 'fixed' does not accept registrations (its configuration has no 'registration: {ttl: ...}')"},
      {"POST", "/register", R"({"pool": "nope", )" + address_c + "}", "Bearer sekrit", 404,
       "pool: no pool named 'nope'"},
      {"POST", "/register", R"({"address": "127.0.0.1:9"})", "Bearer sekrit", 400,
       "pool: missing: name the pool to register in"},
      {"POST", "/register", "{\"pool\": ", "Bearer sekrit", 400, "malformed JSON in the request body"},
      {"POST", "/register", "[1]", "Bearer sekrit", 400, "the request body must be a JSON object"},
      {"POST", "/register", post(R"("weight": 2)"), "Bearer sekrit", 400,
       "address: missing: every backend needs an address"},
      {"POST", "/register", post(R"("address": "app.example:80")"), "Bearer sekrit", 400,
       "address: invalid address 'app.example:80': give an IP address and port (host names are resolved only from "
       "the configuration)"},
      {"POST", "/register", post(address_c + R"(, "weight": 0)"), "Bearer sekrit", 400,
       "weight: must be between 1 and 1000000 (got 0)"},
      {"POST", "/register", post(address_c + R"(, "colour": "red")"), "Bearer sekrit", 400,
       "colour: unknown key 'colour' (expected one of: pool, address, weight, name, ttl)"},
      {"POST", "/register", post(address_c + R"(, "ttl": "fast")"), "Bearer sekrit", 400,
       "ttl: expected a duration like 500ms, 2s, 1m (got 'fast')"},
      {"POST", "/register", post(address_c + R"(, "ttl": 10)"), "Bearer sekrit", 400,
       "ttl: expected a duration like 500ms, 2s, 1m (got '10': a unit is required)"},
      {"POST", "/register", post(address_c + R"(, "ttl": "2h")"), "Bearer sekrit", 400,
       "ttl: must be between 1s and 1h (got 2h)"},
      {"POST", "/register", post(address_c + R"(, "ttl": "500ms")"), "Bearer sekrit", 400,
       "ttl: must be between 1s and 1h (got 500ms)"},
      {"POST", "/register", post(R"("address": ")" + b.address() + "\""), "Bearer sekrit", 409,
       "address: backend '" + b.address() + "' is already in pool 'api'"},
      {"POST", "/register", post(address_a + R"(, "name": "other")"), "Bearer sekrit", 409,
       "name: backend '" + a.address() + "' is registered in pool 'api' under the name 'app-a', not as 'other'"},
      {"POST", "/register", post(address_c + R"(, "name": "app-a")"), "Bearer sekrit", 409,
       "name: backend name 'app-a' is already used in pool 'api'"},
      {"POST", "/register", post(address_c + R"(, "pad": ")" + std::string(70 * 1024, 'x') + "\""), "Bearer sekrit",
       413, "request body too large (at most 64 KiB)"},
      {"PUT", "/register/0123456789abcdef", "", "Bearer sekrit", 404,
       "no lease '0123456789abcdef' (expired, deregistered or unknown): register again"},
      {"DELETE", "/register/0123456789abcdef", "", "Bearer sekrit", 404,
       "no lease '0123456789abcdef' (expired, deregistered or unknown): register again"},
      {"PUT", "/register/" + lease, R"({"load": 1.5})", "Bearer sekrit", 400,
       "load: must be a number between 0.0 and 1.0 (got 1.5)"},
      {"PUT", "/register/" + lease, R"({"load": "low"})", "Bearer sekrit", 400,
       "load: expected a number (got 'low')"},
      {"PUT", "/register/" + lease, R"({"weight": 1.5})", "Bearer sekrit", 400, "weight: expected a whole number (got '1.5')"},
      {"PUT", "/register/" + lease, R"({"state": "drain"})", "Bearer sekrit", 400,
       "state: unknown key 'state' (expected one of: weight, load)"},
      {"DELETE", "/register/" + lease, "", "Bearer wrong", 401, "a bearer token is required (registration.token)"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.method + " " + row.path + " " + row.body.substr(0, 120));
    const auto response = request(registration, row.method, row.path, row.body, row.auth);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, row.status) << response->body;
    const auto document = json::parse(response->body, nullptr, false);
    ASSERT_TRUE(document.is_object()) << response->body;
    EXPECT_EQ(document.value("error", ""), row.error);
    if (row.status == 401) {
      EXPECT_TRUE(response->field("WWW-Authenticate").has_value());
    }
    if (row.status == 405) {
      EXPECT_TRUE(response->field("Allow").has_value());
    }
  }
  EXPECT_EQ(members(admin), before);
  EXPECT_EQ(events_named(log, "backend_added").size(), 2u);  // a's registration and b's POST
  EXPECT_TRUE(events_named(log, "backend_removed").empty());
  // The good lease still works.
  const auto renewed = request(registration, "PUT", "/register/" + lease);
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->status, 200) << renewed->body;
  EXPECT_EQ(json::parse(renewed->body), (json{{"lease", lease}, {"ttl_ms", 3600000}}));
}

TEST(Registration, LeastLoadRoutesByReportedLoad) {
  HttpBackend a("a"), b("b"), c("c"), fixed("fixed");
  const std::string log = events_path();
  FulcrumProcess fulcrum(config_yaml(log, fixed.address(), "    strategy: least_load\n"), 4);
  const std::string registration = fulcrum.address("registration");
  const std::string lease_a = register_backend(registration, a.address(), R"(, "ttl": "1h")");
  const std::string lease_b = register_backend(registration, b.address(), R"(, "ttl": "1h")");
  const std::string lease_c = register_backend(registration, c.address(), R"(, "ttl": "1h")");
  auto report = [&](const std::string& lease, const std::string& body) {
    const auto response = request(registration, "PUT", "/register/" + lease, body);
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200) << response->body;
  };
  auto shares = [&](int count) {
    std::map<std::string, int> seen;
    auto client = HttpConnection::connect(fulcrum.address("web"));
    for (int i = 0; i < count; ++i) {
      const auto response = client.get("/");
      if (!response || response->status != 200) return std::map<std::string, int>{{"error", 1}};
      ++seen[response->backend()];
    }
    return seen;
  };
  // Nobody reported: all count as half busy, served in turn.
  EXPECT_EQ(shares(9), (std::map<std::string, int>{{"a", 3}, {"b", 3}, {"c", 3}}));
  report(lease_a, R"({"load": 0.9})");
  report(lease_b, R"({"load": 0.1})");
  report(lease_c, R"({"load": 0.6})");
  EXPECT_EQ(shares(10), (std::map<std::string, int>{{"b", 10}}));
  // b is busier now; a says it is idle.
  report(lease_a, R"({"load": 0.0})");
  report(lease_b, R"({"load": 0.8})");
  EXPECT_EQ(shares(10), (std::map<std::string, int>{{"a", 10}}));
  // Weight counts: c at 0.6 with weight 10 (0.06 per unit) beats a at 0.2 with weight 1.
  report(lease_a, R"({"load": 0.2})");
  report(lease_c, R"({"weight": 10})");
  EXPECT_EQ(shares(10), (std::map<std::string, int>{{"c", 10}}));
  // An unreported backend (0.5) beats one reporting 0.7.
  HttpBackend d("d");
  register_backend(registration, d.address(), R"(, "ttl": "1h")");
  report(lease_a, R"({"load": 0.7})");
  report(lease_b, R"({"load": 0.7})");
  report(lease_c, R"({"load": 1.0, "weight": 1})");
  EXPECT_EQ(shares(10), (std::map<std::string, int>{{"d", 10}}));
}

}  // namespace
}  // namespace fulcrum::test
