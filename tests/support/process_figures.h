// What /proc says of a process under test (its descriptors and resident memory), and whether the
// tests were built with AddressSanitizer (whose quarantine keeps freed memory resident, and whose
// companion UBSan check needs a spare descriptor).
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace fulcrum::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

/// Descriptors process `pid` has open (0 when /proc cannot tell).
int open_descriptors(pid_t pid);

/// Resident memory of process `pid` (VmRSS), in bytes (0 when /proc cannot tell).
std::size_t resident_bytes(pid_t pid);

}  // namespace fulcrum::test
