#include "admin/dashboard_assets.h"

namespace fulcrum::admin {
namespace detail {

std::string_view content_type_for(std::string_view name) {
  struct Type {
    std::string_view extension;
    std::string_view content_type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},        {".svg", "image/svg+xml"},
      {".json", "application/json"},              {".png", "image/png"},
      {".ico", "image/x-icon"},                   {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes) {
    if (name.size() > t.extension.size() && name.ends_with(t.extension)) return t.content_type;
  }
  return "application/octet-stream";
}

}  // namespace detail

std::optional<StaticAsset> find_dashboard_asset(std::string_view path) {
  if (const auto cut = path.find_first_of("?#"); cut != std::string_view::npos) path = path.substr(0, cut);
  if (path.empty() || path == "/") path = "/index.html";
  if (!path.starts_with('/')) return std::nullopt;
  path.remove_prefix(1);
  // Only the top-level files: no directories, so no `..` can ever name anything.
  if (path.empty() || path.find('/') != std::string_view::npos) return std::nullopt;
  for (const detail::EmbeddedFile& f : detail::embedded_dashboard_files()) {
    if (f.name == path) return StaticAsset{detail::content_type_for(f.name), f.body};
  }
  return std::nullopt;
}

}  // namespace fulcrum::admin
