// Loading a configuration: text → YAML document → model (yaml_schema.cc) → rules
// (validate.cc), with every error of every stage gathered, given its line and sorted into file
// order. yaml-cpp reports failures by throwing; they are caught here and turned into errors.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "config/validate.h"
#include "config/yaml_reader.h"
#include "config/yaml_schema.h"
#include "fulcrum/config.h"

namespace fulcrum {
namespace {

/// A configuration is a few kilobytes; this bound only stops a wrong path (a log, a device)
/// from being read into memory whole.
constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;

ConfigLoadResult failure(std::vector<ConfigError> errors) {
  return ConfigLoadResult{std::nullopt, std::move(errors)};
}

ConfigLoadResult failure(std::string file, int line, std::string message) {
  return failure({ConfigError{std::move(file), line, "", std::move(message)}});
}

/// yaml-cpp's mark is 0-based and null (-1) when unknown.
int line_of_mark(const YAML::Mark& mark) { return mark.is_null() ? 0 : mark.line + 1; }

/// Reads the whole file, or says why it could not.
std::optional<std::string> read_file(const std::string& path, std::string& why) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char chunk[16 * 1024];
  while (true) {
    const std::size_t got = std::fread(chunk, 1, sizeof chunk, file.get());
    text.append(chunk, got);
    if (text.size() > kMaxFileBytes) {
      why = "larger than " + std::to_string(kMaxFileBytes / (1024 * 1024)) + " MiB";
      return std::nullopt;
    }
    if (got < sizeof chunk) break;
  }
  if (std::ferror(file.get())) {
    why = std::strerror(errno);  // e.g. EISDIR: fopen accepts a directory, reading it fails
    return std::nullopt;
  }
  return text;
}

}  // namespace

ConfigLoadResult load_config_string(std::string_view yaml, std::string source_name) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& error) {
    return failure(source_name, line_of_mark(error.mark), "YAML syntax error: " + error.msg);
  }
  if (documents.size() > 1) {
    return failure(source_name, line_of_mark(documents[1].Mark()),
                   "the file holds several YAML documents; expected one");
  }

  config::YamlReader reader(source_name);
  // Errors about the file as a whole (e.g. no listeners in an empty file) point at line 1.
  reader.note_line("", 1);
  Config config;
  try {
    const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
    config = config::read_config(reader, root);
  } catch (const YAML::Exception& error) {
    // The reader checks node types before each access, so this is a bug guard, not a path.
    return failure(source_name, line_of_mark(error.mark), "cannot read YAML: " + error.msg);
  }

  std::vector<ConfigError> errors = reader.errors();
  for (config::RuleViolation& violation : config::check_rules(config)) {
    // A key the reader already rejected kept its default; a rule about that default would only
    // repeat the first error in other words. Likewise for a rule that relied on a part of the
    // file the reader could not fully read (a misspelt condition makes a route look catch-all).
    if (reader.failed_at_or_under(violation.key)) continue;
    if (!violation.depends_on.empty() && reader.failed_within(violation.depends_on)) continue;
    errors.push_back(ConfigError{source_name,
                                 reader.lines().line_of(violation.key, violation.occurrence),
                                 std::move(violation.key), std::move(violation.message)});
  }
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(),
                     [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
    return failure(std::move(errors));
  }
  return ConfigLoadResult{std::move(config), {}};
}

ConfigLoadResult load_config_file(const std::string& path) {
  std::string why;
  auto text = read_file(path, why);
  if (!text) return failure(path, 0, "cannot read file: " + why);
  return load_config_string(*text, path);
}

}  // namespace fulcrum
