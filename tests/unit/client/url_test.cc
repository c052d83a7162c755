// Request URLs: base URLs as operators type them, and path segments that must not change the
// URL's shape whatever a backend's name or address holds.
#include "client/url.h"

#include <gtest/gtest.h>

namespace fulcrum::client {
namespace {

TEST(NormalizeBaseUrl, AddsHttpDropsTrailingSlashesRefusesOtherSchemes) {
  EXPECT_EQ(normalize_base_url("http://127.0.0.1:9090"), "http://127.0.0.1:9090");
  EXPECT_EQ(normalize_base_url("http://127.0.0.1:9090//"), "http://127.0.0.1:9090");
  EXPECT_EQ(normalize_base_url("127.0.0.1:9090/"), "http://127.0.0.1:9090");
  EXPECT_EQ(normalize_base_url("HTTPS://admin.example:443"), "HTTPS://admin.example:443");
  EXPECT_EQ(normalize_base_url("http://[::1]:9091/prefix/"), "http://[::1]:9091/prefix");
  EXPECT_EQ(normalize_base_url(""), "");
  EXPECT_EQ(normalize_base_url("/"), "");
  EXPECT_EQ(normalize_base_url("http://"), "");
  EXPECT_EQ(normalize_base_url("ftp://127.0.0.1:21"), "");
  EXPECT_EQ(normalize_base_url("file:///etc/passwd"), "");
}

TEST(EncodePathSegment, KeepsUnreservedAndColonEncodesEverythingElse) {
  EXPECT_EQ(encode_path_segment("127.0.0.1:9003"), "127.0.0.1:9003");
  EXPECT_EQ(encode_path_segment("app-3_x~y"), "app-3_x~y");
  EXPECT_EQ(encode_path_segment("[::1]:8080"), "%5B::1%5D:8080");
  EXPECT_EQ(encode_path_segment("a/b?c#d e%"), "a%2Fb%3Fc%23d%20e%25");
  EXPECT_EQ(encode_path_segment("caf\xc3\xa9"), "caf%C3%A9");
  EXPECT_EQ(encode_path_segment(std::string("a\0b", 3)), "a%00b");
  EXPECT_EQ(encode_path_segment(""), "");
}

TEST(EncodePathSegment, DotSegmentsAreEncodedWhole) {
  EXPECT_EQ(encode_path_segment("."), "%2E");
  EXPECT_EQ(encode_path_segment(".."), "%2E%2E");
  EXPECT_EQ(encode_path_segment("..."), "...");
  EXPECT_EQ(encode_path_segment("a.b"), "a.b");
}

TEST(JoinUrl, BasePlusEncodedPath) {
  EXPECT_EQ(join_url("127.0.0.1:9091/", "/register/" + encode_path_segment("l/1")),
            "http://127.0.0.1:9091/register/l%2F1");
}

}  // namespace
}  // namespace fulcrum::client
