// HttpClient over libcurl's easy interface: one easy handle per request (the callers send a
// request every few seconds at most, so reusing connections is not worth the shared state).
#include "client/http_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace fulcrum::client {
namespace {

// curl_global_init is not thread-safe in every libcurl build: run it once, before any handle.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  std::string body;
  std::size_t max_body = 0;
  bool too_large = false;
  const std::atomic<bool>* cancel = nullptr;
  const std::function<bool(std::string_view)>* on_data = nullptr;
  bool stopped_by_reader = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  if (transfer->on_data != nullptr && *transfer->on_data) {
    if ((*transfer->on_data)(std::string_view(data, bytes))) return bytes;
    transfer->stopped_by_reader = true;
    return 0;
  }
  if (transfer->body.size() + bytes > transfer->max_body) {
    transfer->too_large = true;
    return 0;  // anything but `bytes` makes curl abort with CURLE_WRITE_ERROR
  }
  transfer->body.append(data, bytes);
  return bytes;
}

// Called by curl whenever data moves and about once a second while it waits (connecting, or for
// an answer). A non-zero return aborts the transfer.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  return transfer->cancel != nullptr && transfer->cancel->load() ? 1 : 0;
}

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// One handle per thread, reset before each request: curl_easy_reset() keeps the handle's live
// connections, so a thread that calls the same server again and again (the cluster's etcd writer:
// hundreds of lease renewals a second) reuses one keep-alive connection instead of opening a new
// one per call and leaving each in TIME_WAIT.
CURL* thread_handle() {
  thread_local std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (easy) curl_easy_reset(easy.get());
  return easy.get();
}

}  // namespace

HttpResponse request(const HttpRequest& request) {
  init_curl_once();
  HttpResponse response;
  CURL* handle = thread_handle();
  if (handle == nullptr) {
    response.error = "cannot create an HTTP client handle";
    return response;
  }
  Transfer transfer{.max_body = request.max_body, .cancel = request.cancel, .on_data = &request.on_data};
  char error_text[CURL_ERROR_SIZE] = {};
  const auto timeout = request.timeout.count() > 0 ? request.timeout : std::chrono::milliseconds(5000);

  curl_slist* raw_headers = curl_slist_append(nullptr, "Accept: application/json");
  std::string authorization;
  if (!request.bearer_token.empty()) {
    authorization = "Authorization: Bearer " + request.bearer_token;
    raw_headers = curl_slist_append(raw_headers, authorization.c_str());
  }
  // With a body, say it is JSON; without one, remove the form type curl would add to a PUT.
  raw_headers = curl_slist_append(raw_headers, request.body.empty() ? "Content-Type:" : "Content-Type: application/json");
  // No `Expect: 100-continue` round trip for small JSON bodies.
  raw_headers = curl_slist_append(raw_headers, "Expect:");
  for (const std::string& line : request.headers) raw_headers = curl_slist_append(raw_headers, line.c_str());
  std::unique_ptr<curl_slist, ListDeleter> headers(raw_headers);

  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  const auto connect_timeout = request.connect_timeout.count() > 0 ? request.connect_timeout : timeout;
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  // No signals from curl (the callers are threads of a program with its own handlers).
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "fulcrum");

  const CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    if (transfer.stopped_by_reader) {
      response.error = "stopped by the reader";
    } else if (transfer.too_large) {
      response.error = "answer larger than " + std::to_string(request.max_body) + " bytes";
    } else if (code == CURLE_ABORTED_BY_CALLBACK) {
      response.error = "cancelled";
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
      response.error = "no answer within " + std::to_string(timeout.count()) + " ms";
    } else {
      response.error = error_text[0] != '\0' ? error_text : curl_easy_strerror(code);
    }
    return response;
  }
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  response.body = std::move(transfer.body);
  if (response.status == 0) response.error = "no HTTP answer";
  return response;
}

}  // namespace fulcrum::client
