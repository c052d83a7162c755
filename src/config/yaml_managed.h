// The shape of a pool's `managed:` section (instances Fulcrum runs itself), apart from
// yaml_schema.cc's other tables. Rules about the values are validate_managed.cc's.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "config/yaml_reader.h"
#include "fulcrum/config.h"

namespace fulcrum::config {

/// Reads `managed: {command, ports, env, cwd, instances, autoscale, ready, stop, restart,
/// log_dir}` at `path` into `into.managed`.
void read_managed(YamlReader& reader, const YAML::Node& value, const std::string& path, PoolConfig& into);

/// The number of a signal written `SIGTERM` or `TERM` (the signals a stop may sensibly use);
/// nullopt for another text.
std::optional<int> signal_from_name(std::string_view name);
/// `SIGTERM` for 15, and so on; `signal N` for a number without a name here.
std::string signal_name(int number);

}  // namespace fulcrum::config
