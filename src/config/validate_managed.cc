#include "config/validate_managed.h"

#include "config/duration.h"
#include "config/key_path.h"
#include "config/limits.h"
#include "config/validate_access.h"

namespace fulcrum::config {
namespace {

void check_positive(std::vector<RuleViolation>& out, const std::string& key, Duration value, std::size_t occurrence) {
  if (value.count() <= 0) {
    out.push_back({key, "must be longer than 0 (got " + format_duration(value) + ")", occurrence});
  } else if (value > kMaxDuration) {
    out.push_back({key, "must be at most " + format_duration(kMaxDuration) + " (got " + format_duration(value) + ")",
                   occurrence});
  }
}

void check_env_name(std::vector<RuleViolation>& out, const std::string& key, const std::string& name,
                    std::size_t occurrence) {
  bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!plain) {
    out.push_back({key, "a variable name may only hold letters, digits and '_', and not start with a digit (got '" +
                            name + "')",
                   occurrence});
  }
}

void check_autoscale(std::vector<RuleViolation>& out, const std::string& path, const ManagedConfig& managed,
                     std::size_t occurrence) {
  const std::string key = child_path(path, "autoscale");
  if (!managed.autoscale) {
    if (managed.instances.min != managed.instances.max) {
      out.push_back({child_path(path, "instances"),
                     "a range of instances needs autoscale: (or write one count, like instances: 3)", occurrence,
                     key});
    }
    return;
  }
  const AutoscaleConfig& autoscale = *managed.autoscale;
  const int targets = (autoscale.target_in_flight > 0 ? 1 : 0) + (autoscale.target_p95.count() > 0 ? 1 : 0) +
                      (autoscale.target_queue > 0 ? 1 : 0);
  if (targets != 1) {
    out.push_back({child_path(key, "target"), "expected exactly one of in_flight, p95, queue, above 0", occurrence});
  }
  check_positive(out, child_path(key, "up_cooldown"), autoscale.up_cooldown, occurrence);
  check_positive(out, child_path(key, "down_window"), autoscale.down_window, occurrence);
  if (!(autoscale.tolerance >= 0.0 && autoscale.tolerance < 1.0)) {
    out.push_back({child_path(key, "tolerance"), "must be at least 0 and below 1 (got " +
                                                     std::to_string(autoscale.tolerance) + ")",
                   occurrence});
  }
}

}  // namespace

void check_managed(std::vector<RuleViolation>& out, const std::string& path, const ManagedConfig& managed,
                   std::size_t occurrence) {
  const std::string key = child_path(path, "managed");
  const std::string command_key = child_path(key, "command");
  if (managed.command.empty()) {
    out.push_back({command_key, "must name a program to run (a list of words, like [./app, --port, \"{port}\"])",
                   occurrence});
  } else if (managed.command[0].empty()) {
    out.push_back({item_path(command_key, 0), "the program's name is empty", occurrence});
  }
  const std::string ports_key = child_path(key, "ports");
  check_range(out, ports_key, managed.port_min, kPortRange, occurrence);
  check_range(out, ports_key, managed.port_max, kPortRange, occurrence);
  if (managed.port_max < managed.port_min) {
    out.push_back({ports_key, "the range ends before it starts (got " + std::to_string(managed.port_min) + "-" +
                                  std::to_string(managed.port_max) + ")",
                   occurrence});
  }
  const std::string instances_key = child_path(key, "instances");
  if (managed.instances.min == managed.instances.max) {  // `instances: 3`: one number, one error
    check_range(out, instances_key, managed.instances.min, kManagedInstancesRange, occurrence);
  } else {
    check_range(out, child_path(instances_key, "min"), managed.instances.min, kManagedInstancesRange, occurrence);
    check_range(out, child_path(instances_key, "max"), managed.instances.max, kManagedInstancesRange, occurrence);
  }
  if (managed.instances.max < managed.instances.min) {
    out.push_back({instances_key, "max must not be below min (got min " + std::to_string(managed.instances.min) +
                                      ", max " + std::to_string(managed.instances.max) + ")",
                   occurrence});
  } else if (managed.port_max >= managed.port_min &&
             managed.port_max - managed.port_min + 1 < managed.instances.max) {
    // Every instance needs a port of its own: a range smaller than the most instances could never
    // start them all.
    out.push_back({ports_key, "has " + std::to_string(managed.port_max - managed.port_min + 1) +
                                  " ports, fewer than the " + std::to_string(managed.instances.max) + " instances",
                   occurrence, instances_key});
  }
  check_range(out, child_path(key, "max_parallel"), managed.max_parallel, kManagedInstancesRange, occurrence);
  for (const auto& [name, value] : managed.env) check_env_name(out, child_path(child_path(key, "env"), name), name, occurrence);
  const std::string ready_key = child_path(key, "ready");
  check_positive(out, child_path(ready_key, "timeout"), managed.ready.timeout, occurrence);
  if (managed.ready.kind == ManagedReadyConfig::Kind::Http &&
      (managed.ready.http_path.empty() || managed.ready.http_path[0] != '/')) {
    out.push_back({child_path(child_path(ready_key, "http"), "path"),
                   "must start with '/' (got '" + managed.ready.http_path + "')", occurrence});
  }
  const std::string stop_key = child_path(key, "stop");
  if (managed.stop.signal <= 0 || managed.stop.signal >= 65) {
    out.push_back({child_path(stop_key, "signal"), "not a signal (got " + std::to_string(managed.stop.signal) + ")",
                   occurrence});
  }
  check_positive(out, child_path(stop_key, "timeout"), managed.stop.timeout, occurrence);
  const std::string restart_key = child_path(key, "restart");
  const std::string backoff_key = child_path(restart_key, "backoff");
  check_positive(out, backoff_key, managed.restart.backoff_min, occurrence);
  check_positive(out, backoff_key, managed.restart.backoff_max, occurrence);
  if (managed.restart.backoff_max < managed.restart.backoff_min) {
    out.push_back({backoff_key, "the cap is below the first delay (got " + format_duration(managed.restart.backoff_min) +
                                    ".." + format_duration(managed.restart.backoff_max) + ")",
                   occurrence});
  }
  check_positive(out, child_path(restart_key, "reset_after"), managed.restart.reset_after, occurrence);
  check_autoscale(out, key, managed, occurrence);
}

}  // namespace fulcrum::config
