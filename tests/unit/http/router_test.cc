// The route table: requests → the route that serves them, for the issue's example table and the
// edges of each condition (case, ports, wildcard vs apex, prefix boundaries, header values,
// methods); strip_prefix; building from a listener.
#include "http/router.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/request_parser.h"

namespace fulcrum::http {
namespace {

/// Header fields laid out the way the parser leaves them: one buffer, offsets into it.
class Fields {
 public:
  Fields(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    for (const auto& [name, value] : fields) {
      HeaderSpan span;
      span.name_offset = static_cast<std::uint32_t>(bytes_.size());
      span.name_length = static_cast<std::uint32_t>(name.size());
      bytes_ += name;
      span.value_offset = static_cast<std::uint32_t>(bytes_.size());
      span.value_length = static_cast<std::uint32_t>(value.size());
      bytes_ += value;
      spans_.push_back(span);
    }
  }
  /// Valid while this object lives and is not modified.
  HeaderList list() const { return HeaderList(bytes_.data(), spans_.data(), spans_.size()); }

 private:
  std::string bytes_;
  std::vector<HeaderSpan> spans_;
};

RouteConfig route(std::string host, std::string path, std::string method,
                  std::vector<std::pair<std::string, std::string>> headers, std::string pool,
                  std::string strip_prefix = "") {
  return RouteConfig{RouteMatch{std::move(host), std::move(path), std::move(method),
                                std::move(headers)},
                     std::move(pool), std::move(strip_prefix)};
}

/// The pools of the tests, numbered as an engine would number them.
std::optional<std::size_t> pool_index_of(std::string_view name) {
  static const std::map<std::string, std::size_t, std::less<>> kPools = {
      {"api", 0}, {"static", 1}, {"canary", 2}, {"web", 3}};
  const auto found = kPools.find(name);
  if (found == kPools.end()) return std::nullopt;
  return found->second;
}

/// The routes of the issue, in its order; `catch_all` adds its last `- pool: web`.
std::vector<RouteConfig> issue_routes(bool catch_all) {
  std::vector<RouteConfig> routes = {
      route("", "/api/*", "", {}, "api"),
      route("static.example.com", "/assets/*", "", {}, "static", "/assets"),
      route("", "", "", {{"X-Canary", "1"}}, "canary"),
      route("*.example.com", "", "POST", {}, "api"),
  };
  if (catch_all) routes.push_back(route("", "", "", {}, "web"));
  return routes;
}

struct MatchRow {
  std::string_view name;
  std::string_view method;
  std::string_view host;
  std::string_view path;
  std::initializer_list<std::pair<std::string_view, std::string_view>> headers;
  int expected;  ///< route index, -1 for none (404)
};

int matched_index(const Router& router, const MatchRow& row) {
  const Fields fields(row.headers);
  const RequestView request{row.host, row.path, row.method, fields.list()};
  const Route* found = router.match(request);
  return found == nullptr ? -1 : static_cast<int>(found->index());
}

TEST(Router, IssueTableFirstMatchWins) {
  const std::optional<Router> router = Router::build(issue_routes(true), pool_index_of);
  ASSERT_TRUE(router.has_value());
  const MatchRow rows[] = {
      {"prefix route", "GET", "example.com", "/api/users", {}, 0},
      {"prefix base itself", "GET", "example.com", "/api", {}, 0},
      {"prefix base with slash", "GET", "example.com", "/api/", {}, 0},
      {"not a segment boundary", "GET", "example.com", "/apix", {}, 4},
      {"paths are case-sensitive", "GET", "example.com", "/API/users", {}, 4},
      {"earlier route wins over a later match", "POST", "a.example.com", "/api/x", {}, 0},
      {"host and path", "GET", "static.example.com", "/assets/a.css", {}, 1},
      {"host case and port ignored", "GET", "STATIC.Example.COM:8443", "/assets/a.css", {}, 1},
      {"host with a trailing dot", "GET", "static.example.com.", "/assets/a.css", {}, 1},
      {"host matches, path does not", "GET", "static.example.com", "/assetsX", {}, 4},
      {"path matches, host does not", "GET", "www.example.com", "/assets/a.css", {}, 4},
      {"exact host is not a suffix", "GET", "x.static.example.com", "/assets/a", {}, 4},
      {"header", "GET", "example.com", "/", {{"X-Canary", "1"}}, 2},
      {"header name case", "GET", "example.com", "/", {{"x-canary", "1"}}, 2},
      {"header among others", "GET", "h", "/", {{"Accept", "*/*"}, {"X-CANARY", "1"}}, 2},
      {"header value mismatch", "GET", "example.com", "/", {{"X-Canary", "0"}}, 4},
      {"header value is compared whole", "GET", "example.com", "/", {{"X-Canary", "10"}}, 4},
      {"the first field of a name counts", "GET", "e", "/", {{"X-Canary", "0"}, {"X-Canary", "1"}},
       4},
      {"wildcard subdomain and method", "POST", "a.example.com", "/", {}, 3},
      {"wildcard deeper subdomain", "POST", "a.b.example.com", "/", {}, 3},
      {"wildcard with port and case", "POST", "A.Example.com:80", "/", {}, 3},
      {"wildcard is not the apex", "POST", "example.com", "/", {}, 4},
      {"wildcard needs a dot", "POST", "aexample.com", "/", {}, 4},
      {"wildcard is a suffix, not a substring", "POST", "a.example.com.evil", "/", {}, 4},
      {"wildcard needs a label", "POST", ".example.com", "/", {}, 4},
      {"methods are case-sensitive", "post", "a.example.com", "/", {}, 4},
      {"other method", "GET", "a.example.com", "/", {}, 4},
      {"no host at all", "GET", "", "/", {}, 4},
      {"asterisk-form has no path", "OPTIONS", "example.com", "", {}, 4},
  };
  for (const MatchRow& row : rows) {
    EXPECT_EQ(matched_index(*router, row), row.expected) << row.name;
  }
}

TEST(Router, NoMatchingRouteIsNull) {
  const std::optional<Router> router = Router::build(issue_routes(false), pool_index_of);
  ASSERT_TRUE(router.has_value());
  const MatchRow rows[] = {
      {"nothing matches", "GET", "example.com", "/", {}, -1},
      {"apex POST", "POST", "example.com", "/index", {}, -1},
      {"still matches", "GET", "example.com", "/api", {}, 0},
  };
  for (const MatchRow& row : rows) {
    EXPECT_EQ(matched_index(*router, row), row.expected) << row.name;
  }
  EXPECT_EQ(router->match(RequestView{}), nullptr);
}

TEST(Router, ExactPathsRootPrefixAndIpLiterals) {
  const std::optional<Router> router = Router::build(
      std::vector<RouteConfig>{route("", "/health", "", {}, "web"),
                               route("[::1]", "", "", {}, "api"),
                               route("", "/*", "", {}, "static")},
      pool_index_of);
  ASSERT_TRUE(router.has_value());
  const MatchRow rows[] = {
      {"exact path", "GET", "h", "/health", {}, 0},
      {"exact path, trailing slash", "GET", "h", "/health/", {}, 2},
      {"exact path, longer", "GET", "h", "/healthz", {}, 2},
      {"IPv6 literal with port", "GET", "[::1]:8080", "/x", {}, 1},
      {"IPv6 literal without port", "GET", "[::1]", "/x", {}, 1},
      {"other IPv6 literal", "GET", "[::2]:8080", "/x", {}, 2},
      {"/* matches the root", "GET", "h", "/", {}, 2},
      {"/* matches any path", "GET", "h", "/a/b", {}, 2},
  };
  for (const MatchRow& row : rows) {
    EXPECT_EQ(matched_index(*router, row), row.expected) << row.name;
  }
}

TEST(Router, RoutesCarryPoolIndexAndStripPrefix) {
  const std::optional<Router> router = Router::build(issue_routes(true), pool_index_of);
  ASSERT_TRUE(router.has_value());
  ASSERT_EQ(router->routes().size(), 5u);
  const Route& assets = router->routes()[1];
  EXPECT_EQ(assets.index(), 1u);
  EXPECT_EQ(assets.pool_index(), 1u);
  EXPECT_EQ(assets.pool_name(), "static");
  EXPECT_EQ(assets.strip_prefix(), "/assets");
  EXPECT_FALSE(assets.matches_everything());
  EXPECT_EQ(router->routes()[3].pool_index(), 0u);  // api again
  EXPECT_EQ(router->routes()[4].pool_index(), 3u);
  EXPECT_EQ(router->routes()[4].strip_prefix(), "");
  EXPECT_TRUE(router->routes()[4].matches_everything());
  // Route::matches() on its own agrees with the table.
  const Fields none({});
  EXPECT_TRUE(assets.matches(RequestView{"static.example.com:80", "/assets", "GET", none.list()}));
  EXPECT_FALSE(assets.matches(RequestView{"static.example.com", "/", "GET", none.list()}));
}

TEST(Router, UnknownPoolIsRefusedAtBuild) {
  EXPECT_FALSE(
      Router::build(std::vector<RouteConfig>{route("", "", "", {}, "nope")}, pool_index_of));
  EXPECT_TRUE(Router::build(std::vector<RouteConfig>{}, pool_index_of).has_value());
}

TEST(Router, ListenerWithOnlyAPoolHasOneCatchAllRoute) {
  ListenerConfig listener;
  listener.mode = ListenerMode::Http;
  listener.pool = "web";
  const std::optional<Router> router = Router::for_listener(listener, pool_index_of);
  ASSERT_TRUE(router.has_value());
  ASSERT_EQ(router->routes().size(), 1u);
  EXPECT_TRUE(router->routes()[0].matches_everything());
  EXPECT_EQ(router->routes()[0].pool_index(), 3u);
  EXPECT_EQ(router->match(RequestView{}), &router->routes()[0]);

  listener.routes = issue_routes(false);
  listener.pool.clear();
  const std::optional<Router> routed = Router::for_listener(listener, pool_index_of);
  ASSERT_TRUE(routed.has_value());
  EXPECT_EQ(routed->routes().size(), 4u);

  listener.routes.clear();
  EXPECT_FALSE(Router::for_listener(listener, pool_index_of).has_value());  // neither
  listener.pool = "nope";
  EXPECT_FALSE(Router::for_listener(listener, pool_index_of).has_value());
}

TEST(Router, RequestViewPrefersTheAuthorityOfAnAbsoluteTarget) {
  const std::optional<Router> router = Router::build(issue_routes(true), pool_index_of);
  ASSERT_TRUE(router.has_value());

  RequestParser origin;
  ASSERT_EQ(origin.parse("GET /assets/a.css?v=2 HTTP/1.1\r\nHost: static.example.com:8080\r\n"
                         "X-Canary: 1\r\n\r\n")
                .status,
            ParseStatus::Complete);
  const RequestView origin_view = request_view(origin.head());
  EXPECT_EQ(origin_view.host, "static.example.com:8080");
  EXPECT_EQ(origin_view.path, "/assets/a.css");  // without the query
  EXPECT_EQ(origin_view.method, "GET");
  ASSERT_NE(router->match(origin_view), nullptr);
  EXPECT_EQ(router->match(origin_view)->index(), 1u);

  RequestParser absolute;
  ASSERT_EQ(absolute.parse("GET http://static.example.com/assets/a.css HTTP/1.1\r\n"
                           "Host: other.example.org\r\n\r\n")
                .status,
            ParseStatus::Complete);
  const RequestView absolute_view = request_view(absolute.head());
  EXPECT_EQ(absolute_view.host, "static.example.com");
  ASSERT_NE(router->match(absolute_view), nullptr);
  EXPECT_EQ(router->match(absolute_view)->index(), 1u);

  RequestParser canary;
  ASSERT_EQ(canary.parse("GET / HTTP/1.1\r\nHost: example.com\r\nx-canary:  1 \r\n\r\n").status,
            ParseStatus::Complete);
  ASSERT_NE(router->match(request_view(canary.head())), nullptr);
  // The parser trims the value, so `  1 ` is `1`.
  EXPECT_EQ(router->match(request_view(canary.head()))->index(), 2u);
}

TEST(ApplyStripPrefix, RemovesWholeSegmentsOnly) {
  struct Row {
    std::string_view path;
    std::string_view prefix;
    std::string_view expected;
  };
  const Row rows[] = {
      {"/assets/a.css", "/assets", "/a.css"},
      {"/assets/", "/assets", "/"},
      {"/assets", "/assets", "/"},
      {"/assets/x/y", "/assets/x", "/y"},
      {"/assetsX", "/assets", "/assetsX"},
      {"/other/assets/a", "/assets", "/other/assets/a"},
      {"/ASSETS/a", "/assets", "/ASSETS/a"},  // paths are case-sensitive
      {"/a", "", "/a"},
      {"", "/assets", ""},
      {"/assets//a", "/assets", "//a"},  // the rest is forwarded as received
  };
  for (const Row& row : rows) {
    EXPECT_EQ(apply_strip_prefix(row.path, row.prefix), row.expected)
        << row.path << " - " << row.prefix;
  }
  // The result views the input: nothing is copied.
  const std::string_view path = "/assets/a.css";
  EXPECT_EQ(apply_strip_prefix(path, "/assets").data(), path.data() + 7);
}

TEST(HostWithoutPort, DropsPortAndOneTrailingDot) {
  EXPECT_EQ(host_without_port("example.com:8080"), "example.com");
  EXPECT_EQ(host_without_port("example.com"), "example.com");
  EXPECT_EQ(host_without_port("example.com.:80"), "example.com");
  EXPECT_EQ(host_without_port("[::1]:8080"), "[::1]");
  EXPECT_EQ(host_without_port("[::1]"), "[::1]");
  EXPECT_EQ(host_without_port("10.0.0.1:80"), "10.0.0.1");
  EXPECT_EQ(host_without_port(""), "");
}

}  // namespace
}  // namespace fulcrum::http
