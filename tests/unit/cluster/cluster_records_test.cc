// The cluster's key layout and records: one cluster's root never holds another's keys, keys come
// apart into kind, pool and address, and records round-trip (a damaged one is refused).
#include "cluster/cluster_records.h"

#include <gtest/gtest.h>

namespace fulcrum::cluster {
namespace {

TEST(ClusterRecords, RootsOfTwoClustersNeverOverlap) {
  EXPECT_EQ(cluster_root("/fulcrum", "edge"), "/fulcrum/edge/");
  EXPECT_EQ(cluster_root("/fulcrum/", "edge"), "/fulcrum/edge/");
  EXPECT_EQ(cluster_root("/", "edge"), "/edge/");
  // `edge` is not a prefix of `edge2`'s root: the trailing slash keeps them apart.
  EXPECT_FALSE(cluster_root("/fulcrum", "edge2").starts_with(cluster_root("/fulcrum", "edge")));
}

TEST(ClusterRecords, KeysComeApart) {
  const std::string root = "/fulcrum/edge/";
  const auto registration = parse_record_key(root, registration_key(root, "api", "127.0.0.1:8080"));
  ASSERT_TRUE(registration);
  EXPECT_EQ(registration->kind, RecordKind::Registration);
  EXPECT_EQ(registration->first, "api");
  EXPECT_EQ(registration->address, "127.0.0.1:8080");
  const auto backend = parse_record_key(root, backend_key(root, "api", "[::1]:80"));
  ASSERT_TRUE(backend);
  EXPECT_EQ(backend->kind, RecordKind::Backend);
  EXPECT_EQ(backend->address, "[::1]:80");
  const auto instance = parse_record_key(root, instance_key(root, "host-1-ab12"));
  ASSERT_TRUE(instance);
  EXPECT_EQ(instance->kind, RecordKind::Instance);
  EXPECT_EQ(instance->first, "host-1-ab12");
  EXPECT_EQ(parse_record_key(root, pool_key(root, "api"))->kind, RecordKind::Pool);
  EXPECT_FALSE(parse_record_key(root, "/fulcrum/other/pools/api"));
  EXPECT_FALSE(parse_record_key(root, root + "unknown/x"));
  EXPECT_FALSE(parse_record_key(root, root + "backends/api"));
  EXPECT_FALSE(parse_record_key(root, root + "backends/api/"));
}

TEST(ClusterRecords, RecordsRoundTrip) {
  BackendRecord backend{"10.0.0.1:80", "one", 7, "drain", false, "config"};
  const auto read = parse_backend(to_json(backend));
  EXPECT_EQ(read->source, "config");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->address, "10.0.0.1:80");
  EXPECT_EQ(read->name, "one");
  EXPECT_EQ(read->weight, 7u);
  EXPECT_EQ(read->state, "drain");
  EXPECT_FALSE(read->removed);
  backend.removed = true;
  EXPECT_TRUE(parse_backend(to_json(backend))->removed);

  RegistrationRecord registration{"10.0.0.2:80", "", 3, "abcd", 5000};
  const auto registered = parse_registration(to_json(registration));
  ASSERT_TRUE(registered);
  EXPECT_EQ(registered->lease, "abcd");
  EXPECT_EQ(registered->ttl_ms, 5000);
  EXPECT_FALSE(registered->leaving);
  EXPECT_EQ(to_json(registration).find("leaving"), std::string::npos);  // records before it read the same
  registration.leaving = true;
  EXPECT_TRUE(parse_registration(to_json(registration))->leaving);
  EXPECT_FALSE(parse_registration(R"({"address": "x", "lease": "l", "leaving": "yes"})"));

  EXPECT_TRUE(parse_pool(to_json(PoolRecord{true}))->paused);
  InstanceRecord instance{"id", "127.0.0.1:9090", "0.1.0", 3, 1, 2};
  EXPECT_EQ(parse_instance(to_json(instance))->generation, 3u);

  EXPECT_FALSE(parse_backend("{\"weight\": \"heavy\", \"address\": \"x\"}"));
  EXPECT_FALSE(parse_backend("{}"));
  EXPECT_FALSE(parse_registration("{\"address\": \"x\"}"));  // no lease
  EXPECT_FALSE(parse_pool("[]"));
}

}  // namespace
}  // namespace fulcrum::cluster
