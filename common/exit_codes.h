#pragma once

// Exit statuses shared by the three programs (sysexits.h values where one fits).
namespace cb::exit_code {
inline constexpr int kOk = 0;
inline constexpr int kFailure = 1;       // the operation was carried out and failed
inline constexpr int kUsage = 2;         // bad command line
inline constexpr int kDataErr = 65;      // bad input file (import, restore)
inline constexpr int kUnavailable = 69;  // daemon not reachable
inline constexpr int kSoftware = 70;     // internal error
inline constexpr int kIoErr = 74;        // the daemon's database could not be synced to disk
inline constexpr int kConfig = 78;       // bad configuration or environment at start-up
}  // namespace cb::exit_code
