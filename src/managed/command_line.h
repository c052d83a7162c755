// The command line and environment of one managed instance, from its pool's `managed:` config.
// Pure (no I/O), so the substitution rules are tested on their own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum::managed {

/// What is substituted in each word of `command`.
struct InstanceWords {
  std::uint16_t port = 0;
  unsigned index = 0;
  std::string pool;
};

/// `word` with every `{port}`, `{index}` and `{pool}` replaced; other braces are left as they are
/// (a container's `--format '{{.ID}}'` passes through).
std::string substitute(std::string_view word, const InstanceWords& words);

/// The instance's environment: `inherited` (`NAME=value` entries, Fulcrum's own) without
/// NOTIFY_SOCKET (systemd's socket is Fulcrum's, not its instances'), then `config.env` (which
/// wins over an inherited variable of the same name), then `notify_socket` when not empty.
std::vector<std::string> instance_environment(const std::vector<std::string>& inherited,
                                              const ManagedConfig& config, const std::string& notify_socket);

}  // namespace fulcrum::managed
