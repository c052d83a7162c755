// Prometheus text exposition (format 0.0.4) of a StatsSnapshot: every family once with its HELP and
// TYPE lines, then its samples. docs/admin-api.md lists the families.
#pragma once

#include <string>
#include <string_view>

#include "admin/stats.h"
#include "process/process_stats.h"

namespace fulcrum::admin {

/// The Content-Type of the exposition.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every metric of `stats`.
std::string render_prometheus(const StatsSnapshot& stats);

/// The `process_*` families as the Prometheus client libraries name and describe them (nothing
/// when `stats.ok` is false).
std::string render_process_metrics(const process::ProcessStats& stats);

/// A label value escaped for the exposition (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

}  // namespace fulcrum::admin
