#include "upstream/backend.h"

namespace fulcrum::upstream {

std::string_view backend_source_name(BackendSource source) {
  switch (source) {
    case BackendSource::Config: return "config";
    case BackendSource::Api: return "api";
    case BackendSource::Registration: return "registration";
    case BackendSource::Dns: return "dns";
    case BackendSource::Managed: return "managed";
  }
  return "config";
}

}  // namespace fulcrum::upstream
