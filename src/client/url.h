// Building request URLs for the admin API and the registration listener: a base URL given by an
// operator (`http://10.0.0.1:9090`, `127.0.0.1:9091/`) joined with path segments that may hold any
// text (a backend's name, `[::1]:8080`). Pure text, no I/O.
#pragma once

#include <string>
#include <string_view>

namespace fulcrum::client {

/// `base` without trailing slashes, with `http://` put in front when it names no scheme.
/// Empty when `base` is empty or its scheme is neither http nor https.
std::string normalize_base_url(std::string_view base);

/// `text` as one URL path segment: unreserved characters (RFC 3986 letters, digits, `-._~`) and
/// `:` stay, every other byte becomes `%XX`, so a `/`, `?`, `#`, space or `[` cannot change the
/// URL's shape (`[::1]:80` -> `%5B::1%5D:80`); a segment that is `.` or `..` is encoded whole.
std::string encode_path_segment(std::string_view text);

/// normalize_base_url(base) + path (`path` starts with `/` and is already encoded).
std::string join_url(std::string_view base, std::string_view path);

}  // namespace fulcrum::client
