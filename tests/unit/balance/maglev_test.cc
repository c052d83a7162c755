#include "balance/maglev.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "test_helpers.h"

namespace fulcrum::balance {
namespace {

using testing::Pool;

std::vector<std::size_t> slot_counts(const MaglevTable& table, std::size_t backends) {
  std::vector<std::size_t> counts(backends, 0);
  for (std::size_t slot = 0; slot < table.size(); ++slot) ++counts.at(table.backend_at(slot));
  return counts;
}

void expect_shares_within_5_percent(const std::vector<std::uint32_t>& weights) {
  auto pool = Pool::with_weights(weights);
  MaglevTable table(pool.candidates);
  const auto counts = slot_counts(table, weights.size());
  double total_weight = 0;
  for (auto w : weights) total_weight += w;
  double worst = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double expected = table.size() * weights[i] / total_weight;
    const double deviation = (counts[i] - expected) / expected;
    worst = std::max(worst, std::abs(deviation));
    EXPECT_LE(std::abs(deviation), 0.05) << "backend " << i << " weight " << weights[i] << ": " << counts[i]
                                         << " slots, expected " << expected;
  }
  std::printf("[ measured ] %zu backends, %zu slots: worst share deviation %.3f%%\n", weights.size(),
              table.size(), 100 * worst);
}

TEST(MaglevTable, SizeIsAPrimeOfAtLeastAHundredSlotsPerBackend) {
  EXPECT_EQ(MaglevTable::size_for(1), 65537u);
  EXPECT_EQ(MaglevTable::size_for(32), 65537u);
  EXPECT_EQ(MaglevTable::size_for(33), 131071u);  // 2000 per backend while small
  EXPECT_EQ(MaglevTable::size_for(66), 262139u);
  EXPECT_EQ(MaglevTable::size_for(2621), 262139u);  // capped: 100 per backend
  EXPECT_EQ(MaglevTable::size_for(2622), 524287u);
  EXPECT_EQ(MaglevTable::size_for(10'000'000), 16777213u);  // the largest
  // Counts backends with a positive weight only.
  std::vector<std::uint32_t> weights(40, 1);
  weights.resize(100, 0);
  auto pool = Pool::with_weights(weights);
  EXPECT_EQ(MaglevTable(pool.candidates).size(), 131071u);
}

TEST(MaglevTable, EqualWeightsGetEqualShares) {
  expect_shares_within_5_percent(std::vector<std::uint32_t>(5, 1));
  expect_shares_within_5_percent(std::vector<std::uint32_t>(10, 7));
  expect_shares_within_5_percent(std::vector<std::uint32_t>(50, 1));
  expect_shares_within_5_percent(std::vector<std::uint32_t>(600, 1));
}

TEST(MaglevTable, UnequalWeightsGetProportionalShares) {
  expect_shares_within_5_percent({1, 2, 3, 4, 10});
  expect_shares_within_5_percent({1, 100});
  expect_shares_within_5_percent({1000, 1, 500, 3});  // the weight-1 backend expects ~44 slots
  std::vector<std::uint32_t> mixed;
  for (std::uint32_t i = 0; i < 40; ++i) mixed.push_back(1 + i % 4);
  expect_shares_within_5_percent(mixed);
}

TEST(MaglevTable, DrainedBackendsGetNoSlot) {
  auto pool = Pool::with_weights({3, 0, 3});
  MaglevTable table(pool.candidates);
  const auto counts = slot_counts(table, 3);
  EXPECT_EQ(counts[1], 0u);
  EXPECT_GT(counts[0], 0u);
  EXPECT_GT(counts[2], 0u);
  auto drained = Pool::with_weights({0, 0});
  MaglevTable empty(drained.candidates);
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.lookup(42, BackendSet(2)), std::nullopt);
}

// The backend key each of `keys` maps to.
std::vector<std::string> owners(const Pool& pool, const std::vector<std::uint64_t>& keys) {
  MaglevTable table(pool.candidates);
  std::vector<std::string> result;
  result.reserve(keys.size());
  for (auto key : keys) result.push_back(pool.keys[table.backend_at(table.slot_of(key))]);
  return result;
}

std::vector<std::uint64_t> random_keys(std::size_t count, std::uint64_t seed) {
  Random random(seed);
  std::vector<std::uint64_t> keys(count);
  for (auto& key : keys) key = random.next();
  return keys;
}

// Builds N backends, removes the one at `removed`, and checks the fraction of keys whose backend
// changed.
void expect_small_remap_on_removal(std::size_t n, std::size_t removed) {
  auto before = Pool::with_weights(std::vector<std::uint32_t>(n, 1));
  Pool after;
  for (std::size_t i = 0; i < n; ++i) {
    if (i != removed) after.keys.push_back(before.keys[i]);
  }
  for (const auto& key : after.keys) after.candidates.push_back({key, 1});

  const auto keys = random_keys(100'000, n);
  const auto old_owners = owners(before, keys);
  const auto new_owners = owners(after, keys);
  std::size_t moved = 0;
  std::size_t on_removed = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (old_owners[i] == before.keys[removed]) ++on_removed;
    if (old_owners[i] != new_owners[i]) ++moved;
    EXPECT_NE(new_owners[i], before.keys[removed]);
  }
  const double fraction = static_cast<double>(moved) / keys.size();
  const double minimum = static_cast<double>(on_removed) / keys.size();
  std::printf("[ measured ] N=%zu remove #%zu: %.4f of keys moved (%.4f were on the removed backend, 1/N = %.4f)\n",
              n, removed, fraction, minimum, 1.0 / n);
  EXPECT_LE(fraction, 1.2 / n);
  EXPECT_GE(moved, on_removed);  // every key of the removed backend had to move
}

TEST(MaglevTable, RemovingOneOfNMovesLittleMoreThanItsKeys) {
  for (std::size_t n : {5, 10, 50}) {
    for (std::size_t removed : {std::size_t{0}, n / 2, n - 1}) expect_small_remap_on_removal(n, removed);
  }
}

TEST(MaglevTable, AddingOneBackendMovesFewKeys) {
  auto before = Pool::with_weights(std::vector<std::uint32_t>(10, 1));
  auto after = Pool::with_weights(std::vector<std::uint32_t>(11, 1));
  const auto keys = random_keys(100'000, 11);
  const auto old_owners = owners(before, keys);
  const auto new_owners = owners(after, keys);
  std::size_t moved = 0;
  std::size_t between_old = 0;  // Maglev's small excess over minimal disruption
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (old_owners[i] == new_owners[i]) continue;
    ++moved;
    between_old += new_owners[i] != after.keys[10];
  }
  const double fraction = static_cast<double>(moved) / keys.size();
  std::printf("[ measured ] N=10 add one: %.4f of keys moved, %.4f between old backends (1/11 = %.4f)\n",
              fraction, static_cast<double>(between_old) / keys.size(), 1.0 / 11);
  EXPECT_LE(fraction, 1.2 / 11);
  EXPECT_GE(fraction, 0.8 / 11);  // the new backend does get its share
}

TEST(MaglevTable, BuildsAreIdentical) {
  auto pool = Pool::with_weights({3, 1, 4, 1, 5, 9, 2, 6});
  MaglevTable first(pool.candidates);
  MaglevTable second(pool.candidates);
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t slot = 0; slot < first.size(); ++slot) {
    ASSERT_EQ(first.backend_at(slot), second.backend_at(slot)) << "slot " << slot;
  }
}

TEST(MaglevTable, CandidateOrderDoesNotChangeTheMapping) {
  // Documented property: the table maps slots to the same backend keys whatever the order of the
  // candidates (here, reversed and rotated; equal weights so virtual-time ties do occur).
  const std::vector<std::string> keys = {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80",
                                         "b.example:81", "a.example:81", "10.0.0.4:80"};
  const std::vector<std::uint32_t> weights = {2, 2, 1, 2, 3, 1};
  std::vector<Candidate> forward;
  for (std::size_t i = 0; i < keys.size(); ++i) forward.push_back({keys[i], weights[i]});
  std::vector<Candidate> shuffled(forward.rbegin(), forward.rend());
  std::rotate(shuffled.begin(), shuffled.begin() + 2, shuffled.end());

  MaglevTable a(forward);
  MaglevTable b(shuffled);
  ASSERT_EQ(a.size(), b.size());
  std::size_t mismatches = 0;
  for (std::size_t slot = 0; slot < a.size(); ++slot) {
    mismatches += forward[a.backend_at(slot)].key != shuffled[b.backend_at(slot)].key;
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(MaglevTable, MappingIsPinned) {
  // The mapping is shared by every Fulcrum instance and version: if this test fails, the seeds, the
  // table sizes or the fill order changed, and upgrading would move clients between backends.
  auto pool = Pool::with_weights({1, 1, 1, 1});
  MaglevTable table(pool.candidates);
  std::string owners;
  for (std::uint64_t i = 0; i < 16; ++i) {
    owners += static_cast<char>('a' + table.backend_at(table.slot_of(i * 0x9e3779b97f4a7c15ULL)));
  }
  EXPECT_EQ(owners, "bcacdddbdddcddbc");
}

TEST(MaglevTable, FailoverIsDeterministicAndSpreadsOverTheOthers) {
  auto pool = Pool::with_weights({1, 1, 1, 1, 1});
  MaglevTable table(pool.candidates);
  BackendSet excluded(5);
  excluded.insert(2);
  std::map<std::size_t, int> backups;
  int on_excluded = 0;
  for (auto key : random_keys(50'000, 5)) {
    const auto primary = table.lookup(key, BackendSet(5));
    ASSERT_TRUE(primary.has_value());
    const auto chosen = table.lookup(key, excluded);
    ASSERT_TRUE(chosen.has_value());
    EXPECT_NE(*chosen, 2u);
    EXPECT_EQ(chosen, table.lookup(key, excluded));  // the same backup every time
    if (*primary != 2) {
      EXPECT_EQ(chosen, primary);  // keys of healthy backends stay put
    } else {
      ++on_excluded;
      ++backups[*chosen];
    }
  }
  // The down backend's ~10000 keys are shared among the four others, not dumped on one.
  ASSERT_EQ(backups.size(), 4u);
  for (const auto& [backend, count] : backups) {
    // ~2500 expected each, binomial sigma ~45: ±10% is over 5 sigma.
    EXPECT_NEAR(count, on_excluded / 4.0, on_excluded * 0.10 / 4) << "backend " << backend;
  }
}

TEST(MaglevTable, NoneWhenEveryOwnerIsExcluded) {
  auto pool = Pool::with_weights({1, 1, 0});
  MaglevTable table(pool.candidates);
  BackendSet excluded(3);
  excluded.insert(0);
  excluded.insert(1);  // index 2 is not excluded but owns no slot
  EXPECT_EQ(table.lookup(7, excluded), std::nullopt);
  excluded.erase(1);
  EXPECT_EQ(table.lookup(7, excluded), 1u);
}

}  // namespace
}  // namespace fulcrum::balance
