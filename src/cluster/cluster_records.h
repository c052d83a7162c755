// What a Fulcrum cluster keeps in etcd: the key layout under `PREFIX/NAME/` and the JSON of each
// record. Pure (no I/O), shared by the store that writes and applies them and by the tests.
//
//   PREFIX/NAME/instances/{id}                   an instance (lease: the instance's own)
//   PREFIX/NAME/pools/{pool}                     a pool's runtime state: {"paused": bool}
//   PREFIX/NAME/backends/{pool}/{address}        an operator's say on a backend (add, remove,
//                                                drain, maint, weight)
//   PREFIX/NAME/registrations/{pool}/{address}   a self-registration (lease: its TTL)
//
// Everything lives under one cluster's root, so a second cluster name in the same etcd never
// reads the first's keys (a watch and a range cover the root only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fulcrum::cluster {

/// `PREFIX/NAME/` with exactly one slash between the parts and at the end.
std::string cluster_root(std::string_view prefix, std::string_view name);

enum class RecordKind { Instance, Pool, Backend, Registration };

/// A key under the root, taken apart.
struct RecordKey {
  RecordKind kind = RecordKind::Instance;
  /// The instance id, or the pool.
  std::string first;
  /// The backend's address (Backend, Registration).
  std::string address;
};
/// nullopt for a key outside the layout (ignored: a later version may add kinds).
std::optional<RecordKey> parse_record_key(std::string_view root, std::string_view key);

std::string instance_key(std::string_view root, std::string_view id);
std::string pool_key(std::string_view root, std::string_view pool);
std::string backend_key(std::string_view root, std::string_view pool, std::string_view address);
std::string registration_key(std::string_view root, std::string_view pool, std::string_view address);

/// An instance, as `GET /api/cluster` shows it.
struct InstanceRecord {
  std::string id;
  /// Where its admin API listens (or its host name when it has none).
  std::string address;
  std::string version;
  std::uint64_t generation = 0;
  std::int64_t started_unix_ms = 0;
  /// Refreshed by the instance every few seconds.
  std::int64_t updated_unix_ms = 0;
};

/// An operator's last say on a backend of a pool.
struct BackendRecord {
  std::string address;
  std::string name;
  std::uint32_t weight = 1;
  /// `ready`, `drain` or `maint`.
  std::string state = "ready";
  /// Removed through the API: every instance removes it (and a configured one stays out).
  bool removed = false;
  /// Where the backend came from at the instance that wrote the record (`config`, `api`,
  /// `registration`, `dns`, ...). Only one added through the API is added where it is missing;
  /// for the others the record only changes a member that exists (a registration's own key, the
  /// configuration or DNS say whether it exists).
  std::string source = "api";
};

/// A self-registered backend.
struct RegistrationRecord {
  std::string address;
  std::string name;
  std::uint32_t weight = 1;
  /// The id the sidecar holds (renewals and deregistration at any instance name it).
  std::string lease;
  std::int64_t ttl_ms = 0;
  /// The registration ended (deregistered, or removed through the API). Written just before its
  /// lease is revoked, so that every instance reports a removal: the key's deletion that follows
  /// says nothing of why, and alone it reads as an expiry.
  bool leaving = false;
};

struct PoolRecord {
  bool paused = false;
};

std::string to_json(const InstanceRecord& record);
std::string to_json(const BackendRecord& record);
std::string to_json(const RegistrationRecord& record);
std::string to_json(const PoolRecord& record);
/// nullopt when `text` is not such a record (a foreign or damaged value: ignored and logged).
std::optional<InstanceRecord> parse_instance(std::string_view text);
std::optional<BackendRecord> parse_backend(std::string_view text);
std::optional<RegistrationRecord> parse_registration(std::string_view text);
std::optional<PoolRecord> parse_pool(std::string_view text);

}  // namespace fulcrum::cluster
