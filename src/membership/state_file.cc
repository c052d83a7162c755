#include "membership/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/log.h"

namespace fulcrum::membership {

namespace {

using nlohmann::json;

const BackendConfig* configured(const Config& config, const std::string& pool, const std::string& address) {
  const PoolConfig* pool_config = config.find_pool(pool);
  if (!pool_config) return nullptr;
  for (const BackendConfig& backend : pool_config->backends) {
    if (backend.address == address) return &backend;
  }
  return nullptr;
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// Writes all of `text` to `fd`.
bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

LoadedState load_state_file(const std::string& path) {
  LoadedState loaded;
  std::ifstream in(path);
  if (!in) {
    if (errno != ENOENT) loaded.error = path + ": cannot read: " + std::strerror(errno);
    return loaded;  // no file yet: nothing was saved
  }
  std::stringstream text;
  text << in.rdbuf();
  const json document = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  auto fail = [&](const std::string& why) {
    loaded.pools.clear();
    loaded.error = path + ": " + why + " (fix or remove the file; it was left as it is)";
    return loaded;
  };
  if (document.is_discarded()) return fail("not valid JSON");
  if (!document.is_object() || !document.contains("pools") || !document["pools"].is_object()) {
    return fail("expected {\"version\": 1, \"pools\": {...}}");
  }
  if (!document.contains("version") || document["version"] != 1) return fail("unknown version (expected 1)");
  for (const auto& [pool_name, backends] : document["pools"].items()) {
    if (!backends.is_array()) return fail("pools." + pool_name + ": expected a list of backends");
    SavedPool pool{pool_name, {}};
    for (std::size_t i = 0; i < backends.size(); ++i) {
      const json& entry = backends[i];
      const std::string where = "pools." + pool_name + "[" + std::to_string(i) + "]";
      if (!entry.is_object() || !entry.contains("address") || !entry["address"].is_string()) {
        return fail(where + ": expected an object with an \"address\"");
      }
      SavedBackend backend;
      backend.address = entry["address"].get<std::string>();
      if (entry.contains("name") && entry["name"].is_string()) backend.name = entry["name"].get<std::string>();
      if (entry.contains("weight")) {
        if (!entry["weight"].is_number_unsigned() || entry["weight"] == 0 || entry["weight"] > 1000000) {
          return fail(where + ".weight: must be between 1 and 1000000");
        }
        backend.weight = entry["weight"].get<std::uint32_t>();
      }
      if (entry.contains("admin_state")) {
        const auto state = entry["admin_state"].is_string()
                               ? admin_state_from_name(entry["admin_state"].get<std::string>())
                               : std::nullopt;
        if (!state) return fail(where + ".admin_state: expected ready, drain or maint");
        backend.admin_state = *state;
      }
      backend.from_config = entry.value("source", std::string("api")) == "config";
      pool.backends.push_back(std::move(backend));
    }
    loaded.pools.push_back(std::move(pool));
  }
  return loaded;
}

std::vector<SavedPool> runtime_state(const Config& config, const PoolManager& manager) {
  std::vector<SavedPool> pools;
  for (std::size_t p = 0; p < manager.pool_count(); ++p) {
    SavedPool pool{manager.pool_name(p), {}};
    for (const MemberView& member : manager.members(p)) {
      const upstream::Backend& backend = *member.backend;
      const bool from_config = backend.source() == upstream::BackendSource::Config;
      if (!from_config && backend.source() != upstream::BackendSource::Api) continue;  // come back by themselves
      if (member.removing) continue;  // on its way out: not to be restored
      if (from_config) {
        const BackendConfig* configured_backend = configured(config, pool.name, backend.address_text());
        const bool changed = member.admin_state != AdminState::Ready ||
                             (configured_backend && configured_backend->weight != backend.weight());
        if (!changed) continue;
      }
      pool.backends.push_back({backend.address_text(), backend.name(), backend.weight(), member.admin_state, from_config});
    }
    if (!pool.backends.empty()) pools.push_back(std::move(pool));
  }
  return pools;
}

std::string save_state_file(const std::string& path, const std::vector<SavedPool>& pools) {
  json document = {{"version", 1}, {"pools", json::object()}};
  for (const SavedPool& pool : pools) {
    json backends = json::array();
    for (const SavedBackend& backend : pool.backends) {
      json entry = {{"address", backend.address},
                    {"weight", backend.weight},
                    {"admin_state", admin_state_name(backend.admin_state)},
                    {"source", backend.from_config ? "config" : "api"}};
      if (!backend.name.empty()) entry["name"] = backend.name;
      backends.push_back(std::move(entry));
    }
    document["pools"][pool.name] = std::move(backends);
  }
  const std::string text = document.dump(2) + "\n";
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return temporary + ": cannot write: " + std::strerror(errno);
  const bool written = write_all(fd, text) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    return temporary + ": cannot write: " + std::strerror(saved_errno);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string error = path + ": cannot replace: " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return error;
  }
  // The rename itself must reach the disk too.
  const int directory = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory >= 0) {
    ::fsync(directory);
    ::close(directory);
  }
  return {};
}

void restore_state(const std::vector<SavedPool>& state, const Config& config, PoolManager& manager) {
  for (const SavedPool& pool : state) {
    if (!manager.find_pool(pool.name)) {
      log::warn("state file: pool no longer configured, its saved backends are dropped", {{"pool", pool.name}});
      continue;
    }
    for (const SavedBackend& saved : pool.backends) {
      const BackendConfig* configured_backend = configured(config, pool.name, saved.address);
      if (configured_backend) {
        // The configuration wins for an address it names: its weight, name; the saved admin state.
        if (configured_backend->weight != saved.weight) {
          log::warn("state file: the configuration's weight wins",
                    {{"pool", pool.name},
                     {"backend", saved.address},
                     {"configured", static_cast<std::uint64_t>(configured_backend->weight)},
                     {"saved", static_cast<std::uint64_t>(saved.weight)}});
        }
        if (!saved.from_config) {
          log::warn("state file: backend added at run time is now in the configuration, which wins",
                    {{"pool", pool.name}, {"backend", saved.address}});
        }
      } else if (saved.from_config) {
        log::warn("state file: backend no longer in the configuration, its saved state is dropped",
                  {{"pool", pool.name}, {"backend", saved.address}});
        continue;
      } else {
        const auto added = manager.add_backend(pool.name, {saved.address, saved.weight, saved.name,
                                                           upstream::BackendSource::Api});
        if (!added.ok()) {
          log::warn("state file: saved backend not restored", {{"pool", pool.name},
                                                              {"backend", saved.address},
                                                              {"error", added.error}});
          continue;
        }
      }
      if (saved.admin_state != AdminState::Ready) {
        manager.update_backend(pool.name, saved.address, {.state = saved.admin_state});
      }
    }
  }
}

}  // namespace fulcrum::membership
