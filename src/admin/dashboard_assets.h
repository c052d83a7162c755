// The dashboard's files (src/admin/dashboard/), embedded in the binary at build time so the admin
// listener serves the page with nothing read from disk and nothing loaded from the internet.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace fulcrum::admin {

struct StaticAsset {
  std::string_view content_type;
  std::string_view body;
};

/// The dashboard file for a request path: `/` (and `/index.html`) is the page, `/app.js`,
/// `/style.css`, `/favicon.svg` its assets; a query string is ignored. nullopt for anything else.
std::optional<StaticAsset> find_dashboard_asset(std::string_view path);

namespace detail {

/// One embedded file, as cmake/embed_assets.cmake writes it.
struct EmbeddedFile {
  std::string_view name;  ///< file name within src/admin/dashboard/, e.g. `app.js`
  std::string_view body;
};

/// Every embedded file, sorted by name (defined in the generated dashboard_assets_data.cc).
std::span<const EmbeddedFile> embedded_dashboard_files();

/// The Content-Type for a file name, from its extension.
std::string_view content_type_for(std::string_view name);

}  // namespace detail
}  // namespace fulcrum::admin
