#include "config/yaml_managed.h"

#include <signal.h>

#include <array>
#include <charconv>
#include <cstdlib>

#include "config/duration.h"

namespace fulcrum::config {
namespace {

struct SignalName {
  std::string_view name;
  int number;
};
constexpr std::array<SignalName, 9> kSignals{{
    {"SIGTERM", SIGTERM}, {"SIGINT", SIGINT}, {"SIGQUIT", SIGQUIT}, {"SIGHUP", SIGHUP}, {"SIGKILL", SIGKILL},
    {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGWINCH", SIGWINCH}, {"SIGCONT", SIGCONT},
}};

std::optional<std::uint32_t> parse_port(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

/// `command: [./app, --port, "{port}"]`: a list of words (no shell splits them).
void read_command(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedConfig& into) {
  if (!reader.expect_sequence(value, path, "a list of words, like [./app, --port, \"{port}\"] (no shell)")) return;
  into.command.clear();
  for (std::size_t j = 0; j < value.size(); ++j) {
    const std::string item_key = item_path(path, j);
    reader.note(item_key, value[j]);
    auto text = reader.read_text(value[j], item_key, "a word of the command");
    into.command.push_back(text ? std::move(*text) : std::string());
  }
}

/// `ports: 9100-9199` or `ports: 9100` (a range of one).
void read_ports(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedConfig& into) {
  static constexpr std::string_view kExpected = "a port range like 9100-9199";
  const auto text = reader.read_text(value, path, kExpected);
  if (!text) return;
  const std::string_view whole = *text;
  const std::size_t dash = whole.find('-');
  const auto low = parse_port(whole.substr(0, dash));
  const auto high = dash == std::string_view::npos ? low : parse_port(whole.substr(dash + 1));
  if (!low || !high) {
    reader.fail(path, "expected " + std::string(kExpected) + " (got '" + *text + "')");
    return;
  }
  into.port_min = *low;
  into.port_max = *high;
}

/// `env: { APP_ENV: production }`, in file order.
void read_env(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedConfig& into) {
  into.env = reader.read_text_mapping(value, path, "a mapping from variable names to values", "a variable name",
                                      "a value");
}

constexpr std::array<Field<ManagedInstancesConfig>, 2> kInstancesFields{{
    {"min", [](YamlReader& r, const YAML::Node& v, const std::string& p, ManagedInstancesConfig& into) {
       if (auto count = r.read_count(v, p, kManagedInstancesRange)) into.min = *count;
     }},
    {"max", [](YamlReader& r, const YAML::Node& v, const std::string& p, ManagedInstancesConfig& into) {
       if (auto count = r.read_count(v, p, kManagedInstancesRange)) into.max = *count;
     }},
}};

/// `instances: 3` or `instances: { min: 1, max: 8 }`.
void read_instances(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedConfig& into) {
  if (value.IsScalar()) {
    if (auto count = reader.read_count(value, path, kManagedInstancesRange)) into.instances = {*count, *count};
    return;
  }
  if (!reader.expect_mapping(value, path, "a count or a mapping with min and max")) return;
  ManagedInstancesConfig instances;
  reader.read_fields<ManagedInstancesConfig>(value, path, kInstancesFields, instances);
  if (!value["min"] || !value["max"]) {
    if (!reader.failed_within(path)) reader.fail(path, "expected both min and max");
  }
  into.instances = instances;
}

void read_target(YamlReader& reader, const YAML::Node& value, const std::string& path, AutoscaleConfig& into) {
  static constexpr std::array<Field<AutoscaleConfig>, 3> kTargetFields{{
      {"in_flight", [](YamlReader& r, const YAML::Node& v, const std::string& p, AutoscaleConfig& a) {
         if (auto count = r.read_count(v, p, kAnyCount)) a.target_in_flight = *count;
       }},
      {"p95", [](YamlReader& r, const YAML::Node& v, const std::string& p, AutoscaleConfig& a) {
         if (auto duration = r.read_duration(v, p)) a.target_p95 = *duration;
       }},
      {"queue", [](YamlReader& r, const YAML::Node& v, const std::string& p, AutoscaleConfig& a) {
         if (auto count = r.read_count(v, p, kAnyCount)) a.target_queue = *count;
       }},
  }};
  if (!reader.expect_mapping(value, path, "a mapping with one of in_flight, p95, queue")) return;
  reader.read_fields<AutoscaleConfig>(value, path, kTargetFields, into);
  if (value.size() != 1 && !reader.failed_within(path)) {
    reader.fail(path, "expected exactly one of in_flight, p95, queue");
  }
}

void read_tolerance(YamlReader& reader, const YAML::Node& value, const std::string& path, AutoscaleConfig& into) {
  const auto text = reader.read_text(value, path, "a share like 0.1");
  if (!text) return;
  char* end = nullptr;
  const double share = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size()) {
    reader.fail(path, "expected a share like 0.1 (got '" + *text + "')");
    return;
  }
  into.tolerance = share;
}

constexpr std::array<Field<AutoscaleConfig>, 4> kAutoscaleFields{{
    {"target", read_target},
    {"up_cooldown", [](YamlReader& r, const YAML::Node& v, const std::string& p, AutoscaleConfig& a) {
       if (auto duration = r.read_duration(v, p)) a.up_cooldown = *duration;
     }},
    {"down_window", [](YamlReader& r, const YAML::Node& v, const std::string& p, AutoscaleConfig& a) {
       if (auto duration = r.read_duration(v, p)) a.down_window = *duration;
     }},
    {"tolerance", read_tolerance},
}};

void read_autoscale(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedConfig& into) {
  if (!reader.expect_mapping(value, path, "a mapping with target")) return;
  AutoscaleConfig autoscale;
  reader.read_fields<AutoscaleConfig>(value, path, kAutoscaleFields, autoscale);
  if (!value["target"] && !reader.failed_within(path)) {
    reader.fail(child_path(path, "target"), "missing: one of in_flight, p95, queue");
  }
  into.autoscale = autoscale;
}

/// `http: { path: /health }` (or `http:` for the default path).
void read_ready_http(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedReadyConfig& into) {
  static constexpr std::array<Field<ManagedReadyConfig>, 1> kFields{{
      {"path", [](YamlReader& r, const YAML::Node& v, const std::string& p, ManagedReadyConfig& ready) {
         if (auto text = r.read_text(v, p)) ready.http_path = std::move(*text);
       }},
  }};
  into.kind = ManagedReadyConfig::Kind::Http;
  if (value.IsNull()) return;
  reader.read_fields<ManagedReadyConfig>(value, path, kFields, into);
}

/// `tcp: {}` / `notify: {}` (or empty, or `true`): kinds without settings.
template <ManagedReadyConfig::Kind kind>
void read_ready_plain(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedReadyConfig& into) {
  into.kind = kind;
  if (value.IsNull()) return;
  if (value.IsScalar()) {
    if (auto on = reader.read_flag(value, path); on && !*on) reader.fail(path, "expected {} or true (this kind has no settings)");
    return;
  }
  if (!reader.expect_mapping(value, path, "{} (this kind has no settings)")) return;
  if (value.size() != 0) reader.fail(path, "expected {} (this kind has no settings)");
}

constexpr std::array<Field<ManagedReadyConfig>, 4> kReadyFields{{
    {"http", read_ready_http},
    {"tcp", read_ready_plain<ManagedReadyConfig::Kind::Tcp>},
    {"notify", read_ready_plain<ManagedReadyConfig::Kind::Notify>},
    {"timeout", [](YamlReader& r, const YAML::Node& v, const std::string& p, ManagedReadyConfig& ready) {
       if (auto duration = r.read_duration(v, p)) ready.timeout = *duration;
     }},
}};

/// `ready: tcp | http | notify`, or `ready: { http: {path}, timeout }` with one of http, tcp, notify.
void read_ready(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedConfig& into) {
  if (value.IsScalar()) {
    const std::string text = value.Scalar();
    if (text == "tcp") {
      into.ready.kind = ManagedReadyConfig::Kind::Tcp;
    } else if (text == "http") {
      into.ready.kind = ManagedReadyConfig::Kind::Http;
    } else if (text == "notify") {
      into.ready.kind = ManagedReadyConfig::Kind::Notify;
    } else {
      reader.fail(path, "unknown readiness '" + text + "' (expected one of: tcp, http, notify, or a mapping)");
    }
    return;
  }
  if (!reader.expect_mapping(value, path, "tcp, http, notify, or a mapping with one of them and timeout")) return;
  ManagedReadyConfig ready;
  reader.read_fields<ManagedReadyConfig>(value, path, kReadyFields, ready);
  const int kinds = (value["http"] ? 1 : 0) + (value["tcp"] ? 1 : 0) + (value["notify"] ? 1 : 0);
  if (kinds > 1) reader.fail(path, "expected at most one of http, tcp, notify");
  into.ready = ready;
}

void read_stop_signal(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedStopConfig& into) {
  const auto text = reader.read_text(value, path, "a signal name like SIGTERM");
  if (!text) return;
  if (auto number = signal_from_name(*text)) {
    into.signal = *number;
    return;
  }
  std::string known;
  for (const auto& entry : kSignals) known += (known.empty() ? "" : ", ") + std::string(entry.name);
  reader.fail(path, "unknown signal '" + *text + "' (expected one of: " + known + ")");
}

constexpr std::array<Field<ManagedStopConfig>, 2> kStopFields{{
    {"signal", read_stop_signal},
    {"timeout", [](YamlReader& r, const YAML::Node& v, const std::string& p, ManagedStopConfig& stop) {
       if (auto duration = r.read_duration(v, p)) stop.timeout = *duration;
     }},
}};

/// `backoff: 100ms..30s`: the first delay and the cap.
void read_backoff(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedRestartConfig& into) {
  static constexpr std::string_view kExpected = "a range of delays like 100ms..30s";
  const auto text = reader.read_text(value, path, kExpected);
  if (!text) return;
  const std::string_view whole = *text;
  const std::size_t dots = whole.find("..");
  if (dots == std::string_view::npos) {
    reader.fail(path, "expected " + std::string(kExpected) + " (got '" + *text + "')");
    return;
  }
  const auto low = parse_duration_text(whole.substr(0, dots));
  const auto high = parse_duration_text(whole.substr(dots + 2));
  if (!low.duration || !high.duration) {
    reader.fail(path, "expected " + std::string(kExpected) + " (got '" + *text + "')");
    return;
  }
  into.backoff_min = *low.duration;
  into.backoff_max = *high.duration;
}

constexpr std::array<Field<ManagedRestartConfig>, 2> kRestartFields{{
    {"backoff", read_backoff},
    {"reset_after", [](YamlReader& r, const YAML::Node& v, const std::string& p, ManagedRestartConfig& restart) {
       if (auto duration = r.read_duration(v, p)) restart.reset_after = *duration;
     }},
}};

template <typename Section, auto Member, const auto& Fields>
void read_part(YamlReader& reader, const YAML::Node& value, const std::string& path, ManagedConfig& into) {
  reader.read_fields<Section>(value, path, Fields, into.*Member);
}

constexpr std::array<Field<ManagedConfig>, 11> kManagedFields{{
    {"command", read_command},
    {"ports", read_ports},
    {"env", read_env},
    {"cwd", [](YamlReader& r, const YAML::Node& v, const std::string& p, ManagedConfig& m) {
       if (auto text = r.read_text(v, p, "a directory")) m.cwd = std::move(*text);
     }},
    {"instances", read_instances},
    {"autoscale", read_autoscale},
    {"max_parallel", [](YamlReader& r, const YAML::Node& v, const std::string& p, ManagedConfig& m) {
       if (auto count = r.read_count(v, p, kManagedInstancesRange)) m.max_parallel = *count;
     }},
    {"ready", read_ready},
    {"stop", read_part<ManagedStopConfig, &ManagedConfig::stop, kStopFields>},
    {"restart", read_part<ManagedRestartConfig, &ManagedConfig::restart, kRestartFields>},
    {"log_dir", [](YamlReader& r, const YAML::Node& v, const std::string& p, ManagedConfig& m) {
       if (auto text = r.read_text(v, p, "a directory")) m.log_dir = std::move(*text);
     }},
}};

}  // namespace

std::optional<int> signal_from_name(std::string_view name) {
  for (const auto& entry : kSignals) {
    if (entry.name == name || entry.name.substr(3) == name) return entry.number;
  }
  return std::nullopt;
}

std::string signal_name(int number) {
  for (const auto& entry : kSignals) {
    if (entry.number == number) return std::string(entry.name);
  }
  return "signal " + std::to_string(number);
}

void read_managed(YamlReader& reader, const YAML::Node& value, const std::string& path, PoolConfig& into) {
  if (!reader.expect_mapping(value, path, "a mapping with command, ports and instances")) return;
  ManagedConfig managed;
  reader.read_fields<ManagedConfig>(value, path, kManagedFields, managed);
  // A misspelt key (`comand`) is reported as unknown already: no "missing" beside it.
  const bool misspelt = reader.failed_within(path);
  if (!value["command"] && !misspelt) {
    reader.fail(child_path(path, "command"), "missing: the program to run, as a list of words");
  }
  if (!value["ports"] && !misspelt) {
    reader.fail(child_path(path, "ports"), "missing: the ports instances may listen on, like 9100-9199");
  }
  into.managed = std::move(managed);
}

}  // namespace fulcrum::config
