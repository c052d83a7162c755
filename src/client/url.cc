#include "client/url.h"

namespace fulcrum::client {

std::string normalize_base_url(std::string_view base) {
  std::string url(base);
  if (url.find("://") == std::string::npos) url = "http://" + url;
  const auto scheme_end = url.find("://");
  std::string scheme = url.substr(0, scheme_end);
  for (auto& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (scheme != "http" && scheme != "https") return {};
  while (url.size() > scheme_end + 3 && url.back() == '/') url.pop_back();
  // Nothing (or only slashes) after the scheme: no host.
  if (url.size() == scheme_end + 3 || url[scheme_end + 3] == '/') return {};
  return url;
}

std::string encode_path_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // `.` and `..` alone would be removed as dot segments on the way: encode them whole.
  if (text == "." || text == "..") return text.size() == 1 ? "%2E" : "%2E%2E";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool keep = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') ||
                      byte == '-' || byte == '.' || byte == '_' || byte == '~' || byte == ':';
    if (keep) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out;
}

std::string join_url(std::string_view base, std::string_view path) { return normalize_base_url(base) + std::string(path); }

}  // namespace fulcrum::client
