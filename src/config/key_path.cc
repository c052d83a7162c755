// Building key paths and finding their lines; see key_path.h.
#include "config/key_path.h"

#include <algorithm>

namespace fulcrum::config {

std::string child_path(std::string_view parent, std::string_view key) {
  std::string path(parent);
  if (!path.empty()) path += '.';
  path += key;
  return path;
}

std::string item_path(std::string_view parent, std::size_t index) {
  std::string path(parent);
  path += '[';
  path += std::to_string(index);
  path += ']';
  return path;
}

std::string_view parent_path(std::string_view path) {
  // The last separator ends the parent: `.` before a key, `[` before an index. A pool name
  // holding either character only makes the fallback coarser, never wrong.
  const auto cut = path.find_last_of(".[");
  if (cut == std::string_view::npos) return {};
  return path.substr(0, cut);
}

bool is_at_or_under(std::string_view path, std::string_view ancestor) {
  if (ancestor.empty()) return true;
  if (!path.starts_with(ancestor)) return false;
  if (path.size() == ancestor.size()) return true;
  const char next = path[ancestor.size()];
  return next == '.' || next == '[';
}

void KeyLines::record(const std::string& path, int line) { lines_[path].push_back(line); }

int KeyLines::line_of(std::string_view path, std::size_t occurrence) const {
  for (std::string_view at = path;; at = parent_path(at)) {
    if (auto found = lines_.find(at); found != lines_.end() && !found->second.empty()) {
      const auto& sightings = found->second;
      return sightings[std::min(occurrence, sightings.size() - 1)];
    }
    if (at.empty()) return 0;
  }
}

}  // namespace fulcrum::config
