// The etcd JSON gateway's wire format: base64 keys, prefix ranges, 64-bit integers as strings,
// zero values left out, and the watch stream's lines (events, compaction, cancellation).
#include "cluster/etcd_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace fulcrum::cluster {
namespace {

TEST(EtcdJson, Base64RoundTripsEveryLength) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("/f/a/x"), "L2YvYS94");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (std::size_t n = 0; n < bytes.size(); n += 37) {
    EXPECT_EQ(base64_decode(base64_encode(bytes.substr(0, n))), bytes.substr(0, n));
  }
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_FALSE(base64_decode("a$==").has_value());
  EXPECT_FALSE(base64_decode("a").has_value());
}

TEST(EtcdJson, PrefixEndCoversExactlyThePrefix) {
  EXPECT_EQ(prefix_end("/fulcrum/edge/"), "/fulcrum/edge0");
  EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
  const auto body = nlohmann::json::parse(range_body("/f/"));
  EXPECT_EQ(body["key"], base64_encode("/f/"));
  EXPECT_EQ(body["range_end"], base64_encode("/f0"));
}

TEST(EtcdJson, RequestBodiesCarryIntegersAsStrings) {
  const auto put = nlohmann::json::parse(put_body("k", "v", 2324035877762876679));
  EXPECT_EQ(put["lease"], "2324035877762876679");
  EXPECT_FALSE(nlohmann::json::parse(put_body("k", "v", 0)).contains("lease"));
  EXPECT_EQ(nlohmann::json::parse(grant_body(5))["TTL"], "5");
  EXPECT_EQ(nlohmann::json::parse(lease_body(7))["ID"], "7");
  const auto watch = nlohmann::json::parse(watch_body("/f/", 42));
  EXPECT_EQ(watch["create_request"]["start_revision"], "42");
  EXPECT_EQ(watch["create_request"]["range_end"], base64_encode("/f0"));
}

TEST(EtcdJson, ReadsARangeAnswer) {
  // As etcd 3.4 answers.
  const auto range = parse_range(
      R"({"header":{"cluster_id":"1","member_id":"2","revision":"2","raft_term":"2"},)"
      R"("kvs":[{"key":"L2YvYS94","create_revision":"2","mod_revision":"2","version":"1","value":"aGVsbG8=","lease":"2324035877762876679"}],"count":"1"})");
  ASSERT_TRUE(range.error.empty()) << range.error;
  EXPECT_EQ(range.revision, 2);
  ASSERT_EQ(range.kvs.size(), 1u);
  EXPECT_EQ(range.kvs[0].key, "/f/a/x");
  EXPECT_EQ(range.kvs[0].value, "hello");
  EXPECT_EQ(range.kvs[0].lease, 2324035877762876679);
  // An empty range has no "kvs" at all.
  const auto empty = parse_range(R"({"header":{"revision":"9"}})");
  EXPECT_TRUE(empty.error.empty());
  EXPECT_EQ(empty.revision, 9);
  EXPECT_TRUE(empty.kvs.empty());
  EXPECT_FALSE(parse_range(R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})").error.empty());
  EXPECT_FALSE(parse_range("not json").error.empty());
}

TEST(EtcdJson, ReadsLeaseAnswers) {
  const auto granted = parse_grant(R"({"header":{"revision":"1"},"ID":"2324035877762876677","TTL":"5"})");
  EXPECT_EQ(granted.id, 2324035877762876677);
  EXPECT_EQ(granted.ttl, 5);
  const auto alive = parse_keepalive(R"({"result":{"header":{"revision":"2"},"ID":"12","TTL":"5"}})" "\n");
  EXPECT_TRUE(alive.error.empty());
  EXPECT_EQ(alive.ttl, 5);
  // A lease that is gone: its TTL is 0, so left out.
  const auto gone = parse_keepalive(R"({"result":{"header":{"revision":"2"},"ID":"12345"}})");
  EXPECT_TRUE(gone.error.empty());
  EXPECT_EQ(gone.ttl, 0);
  EXPECT_EQ(error_of(R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})"),
            "etcdserver: requested lease not found");
}

TEST(EtcdJson, ReadsWatchLines) {
  const auto created = parse_watch_line(R"({"result":{"header":{"revision":"2"},"created":true}})");
  EXPECT_TRUE(created.created);
  EXPECT_TRUE(created.events.empty());
  const auto events = parse_watch_line(
      R"({"result":{"header":{"revision":"4"},"events":[{"kv":{"key":"L2YvYS94","mod_revision":"3","value":"aGVsbG8="}},)"
      R"({"type":"DELETE","kv":{"key":"L2YvYS94","mod_revision":"4"}}]}})");
  ASSERT_TRUE(events.error.empty()) << events.error;
  ASSERT_EQ(events.events.size(), 2u);
  EXPECT_FALSE(events.events[0].deleted);
  EXPECT_EQ(events.events[0].kv.value, "hello");
  EXPECT_TRUE(events.events[1].deleted);
  EXPECT_EQ(events.events[1].kv.mod_revision, 4);
  const auto compacted = parse_watch_line(R"({"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"2"}})");
  EXPECT_EQ(compacted.compact_revision, 2);
  EXPECT_TRUE(compacted.error.empty());
  EXPECT_FALSE(parse_watch_line(R"({"result":{"canceled":true,"cancel_reason":"permission denied"}})").error.empty());
  EXPECT_FALSE(parse_watch_line(R"({"error":{"grpc_code":14,"message":"no leader"}})").error.empty());
}

}  // namespace
}  // namespace fulcrum::cluster
