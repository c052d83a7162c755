// The embedded dashboard: every file of src/admin/dashboard/ is in the binary, byte for byte, and
// request paths map to the right file and Content-Type; nothing outside it can be named.
#include "admin/dashboard_assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

namespace fulcrum::admin {
namespace {

// The source tree comes from CMake, not __FILE__: a compiler cache or -ffile-prefix-map may make
// __FILE__ relative to a directory the test does not run in.
std::string read_source(const std::string& name) {
  const std::string dir = FULCRUM_SOURCE_DIR;
  std::ifstream in(dir + "/src/admin/dashboard/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << dir << ": " << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(DashboardAssets, RootIsThePage) {
  const auto page = find_dashboard_asset("/");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<script src=\"app.js\"></script>"), std::string_view::npos);
  EXPECT_EQ(find_dashboard_asset("/index.html")->body, page->body);
  EXPECT_EQ(find_dashboard_asset("")->body, page->body);
  EXPECT_EQ(find_dashboard_asset("/?token=abc")->body, page->body);
}

TEST(DashboardAssets, ContentTypes) {
  EXPECT_EQ(find_dashboard_asset("/app.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_dashboard_asset("/style.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(find_dashboard_asset("/favicon.svg")->content_type, "image/svg+xml");
  EXPECT_EQ(detail::content_type_for("x.bin"), "application/octet-stream");
  EXPECT_EQ(detail::content_type_for(".js"), "application/octet-stream");
}

TEST(DashboardAssets, EmbeddedBytesAreTheSources) {
  ASSERT_GE(detail::embedded_dashboard_files().size(), 3u);
  for (const auto& f : detail::embedded_dashboard_files()) {
    EXPECT_EQ(f.body, read_source(std::string(f.name))) << f.name;
    EXPECT_EQ(f.body.data()[f.body.size()], '\0') << f.name;  // a NUL follows, uncounted
  }
}

TEST(DashboardAssets, UnknownPathsAreNotFound) {
  EXPECT_FALSE(find_dashboard_asset("/nope.js"));
  EXPECT_FALSE(find_dashboard_asset("/api/status"));
  EXPECT_FALSE(find_dashboard_asset("/../CMakeLists.txt"));
  EXPECT_FALSE(find_dashboard_asset("/dashboard/app.js"));
  EXPECT_FALSE(find_dashboard_asset("app.js"));
  EXPECT_FALSE(find_dashboard_asset("//"));
}

}  // namespace
}  // namespace fulcrum::admin
