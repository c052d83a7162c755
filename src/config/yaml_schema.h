// The shape of a Fulcrum YAML file: which keys each mapping knows and how each value is read
// into the model. Only shape and types are checked here; the rules of validate.h run after.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/yaml_reader.h"
#include "fulcrum/config.h"

namespace fulcrum::config {

/// Reads the root node of a document into a Config, recording shape and type errors on
/// `reader`. Keys with errors keep their defaults; list items with errors are still added
/// (with defaults) so that indices in later error paths match the file.
Config read_config(YamlReader& reader, const YAML::Node& root);

}  // namespace fulcrum::config
