#include "http/error_response.h"

#include <array>
#include <cstddef>
#include <string>

namespace fulcrum::http {
namespace {

// Every status Fulcrum answers by itself: the parsers' rejections (400, 414, 417, 431, 501), the
// session's limits and timeouts (408, 413), routing (404) and the backend side (500, 502-504).
constexpr std::array<int, 13> kStatuses = {400, 404, 408, 413, 414, 417, 429, 431, 500, 501, 502, 503, 504};
// Where 500 sits: the answer to a status missing from the table.
constexpr std::size_t kInternalError = 8;
static_assert(kStatuses[kInternalError] == 500);

// The answers, built once at first use. Function-local static: initialised thread-safely, then
// every lookup is one guard load and a scan of thirteen ints.
struct ErrorTable {
  std::array<std::string, kStatuses.size()> close;
  std::array<std::string, kStatuses.size()> keep_alive;

  ErrorTable() {
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
      const int status = kStatuses[i];
      std::string body = std::to_string(status);
      body += ' ';
      body += reason_phrase(status);
      body += '\n';
      close[i] = make_error_response(status, body, true);
      keep_alive[i] = make_error_response(status, body, false);
    }
  }
};

const ErrorTable& table() {
  static const ErrorTable instance;
  return instance;
}

std::size_t index_of(int status) {
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) return i;
  }
  return kInternalError;
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    case 511: return "Network Authentication Required";
    default: return {};
  }
}

bool error_may_keep_alive(int status) { return status == 404 || status == 503; }

std::string_view error_response(int status, bool keep_alive) {
  const std::size_t i = index_of(status);
  const bool keep = keep_alive && error_may_keep_alive(kStatuses[i]);
  return keep ? table().keep_alive[i] : table().close[i];
}

std::string make_error_response(int status, std::string_view body, bool close) {
  std::string response = "HTTP/1.1 ";
  response += std::to_string(status);
  response += ' ';
  response += reason_phrase(status);
  response += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  response += std::to_string(body.size());
  response += "\r\nCache-Control: no-store\r\nConnection: ";
  response += close ? "close" : "keep-alive";
  response += "\r\n\r\n";
  response += body;
  return response;
}

std::string_view without_body(std::string_view response) {
  const std::size_t end = response.find("\r\n\r\n");
  return end == std::string_view::npos ? response : response.substr(0, end + 4);
}

}  // namespace fulcrum::http
