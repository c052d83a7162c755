// admin.state_file: the runtime changes that must survive a restart. Backends added through the
// admin API (or the library), and every admin state and weight an operator set at run time, are
// written after each change and restored at the next start. Registrations and DNS answers are not
// kept: they come back by themselves.
//
// The file is JSON, written whole to a temporary file in the same directory, fsync'ed, then renamed
// over the old one (and the directory fsync'ed), so a crash leaves either the old or the new file,
// never half of one:
//
//   {"version": 1, "pools": {"app": [
//     {"address": "127.0.0.1:9003", "name": "app3", "weight": 2, "admin_state": "ready", "source": "api"},
//     {"address": "127.0.0.1:9001", "weight": 1, "admin_state": "drain", "source": "config"}]}}
//
// The configuration file wins for an address it names: such a backend keeps the configured weight
// (a different saved weight is logged as a conflict) and takes the saved admin state.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fulcrum/config.h"
#include "membership/pool_manager.h"

namespace fulcrum::membership {

/// One saved backend.
struct SavedBackend {
  std::string address;
  std::string name;
  std::uint32_t weight = 1;
  AdminState admin_state = AdminState::Ready;
  /// Saved from the API (restored by adding it) or from the configuration (only its state and
  /// weight were changed at run time).
  bool from_config = false;
};

struct SavedPool {
  std::string name;
  std::vector<SavedBackend> backends;
};

/// What a state file holds, or why it could not be read. A missing file is an empty state.
struct LoadedState {
  std::vector<SavedPool> pools;
  std::string error;  ///< `path: what is wrong`; empty when it was read
};

LoadedState load_state_file(const std::string& path);

/// What is worth saving of `manager`'s pools under `config`.
std::vector<SavedPool> runtime_state(const Config& config, const PoolManager& manager);

/// Writes `pools` to `path` atomically. Returns an error text, empty on success.
std::string save_state_file(const std::string& path, const std::vector<SavedPool>& pools);

/// Applies `state` to `manager` at start (the configuration's members are already in), logging
/// each conflict with the configuration and each saved pool that no longer exists.
void restore_state(const std::vector<SavedPool>& state, const Config& config, PoolManager& manager);

}  // namespace fulcrum::membership
