#pragma once

// The ctl.sock protocol between claude-bridgectl (ctl/) and the daemon's admin methods
// (daemon/admin/): newline-delimited JSON-RPC 2.0, one request at a time, method names and
// error codes below. Both sides use these names, so a method renamed on one side fails to
// build on the other instead of failing at run time. docs/cli.md lists them for people.
namespace cb::ctl_protocol {

// Methods (params and results: docs/cli.md, "Admin methods").
inline constexpr const char* kPing = "ping";
inline constexpr const char* kVersion = "version";
inline constexpr const char* kList = "list";
inline constexpr const char* kShow = "show";
inline constexpr const char* kAgents = "agents";
inline constexpr const char* kTokens = "tokens";
inline constexpr const char* kAudit = "audit";
inline constexpr const char* kAuditVerify = "audit_verify";
inline constexpr const char* kCleanup = "cleanup";
inline constexpr const char* kStats = "stats";
inline constexpr const char* kRedact = "redact";
// Turns the connection into a stream of kEvent notifications until it closes.
inline constexpr const char* kWatch = "watch";
inline constexpr const char* kExport = "export";
inline constexpr const char* kImport = "import";
inline constexpr const char* kBackup = "backup";
inline constexpr const char* kRestore = "restore";
inline constexpr const char* kIntegrity = "integrity";
inline constexpr const char* kApprovals = "approvals";
inline constexpr const char* kApprovalDecide = "approval_decide";
// The operator stepping in (issue 25; daemon/admin/console_methods.cpp).
inline constexpr const char* kPost = "post";
inline constexpr const char* kEnd = "end";
inline constexpr const char* kTalk = "talk";

// The client hooks (issue 24; claude-bridge-hook, docs/protocol.md "Hooks"). Each finds the
// hook's agent from {ancestors: [[pid, start], …] nearest first, session_id}; with
// bind_wait: true, a call whose agent has not bound yet is answered when it binds.
inline constexpr const char* kHookAgent = "hook_agent";                 // → {agent, client_pid…}
inline constexpr const char* kHookSessionStart = "hook_session_start";  // → {agent, context}
inline constexpr const char* kHookTell = "hook_tell";                   // → {agent, notice}
// {agent}: answered when that agent has mail it was neither handed nor told of
// ({outcome: "mail", notice}) or a newer hook_wait of it came ({outcome: "replaced"}).
inline constexpr const char* kHookWait = "hook_wait";

// The notification `watch` sends, one per event.
inline constexpr const char* kEvent = "event";

// Error codes. claude-bridgectl maps them to its exit statuses: kNotFound and kFailed 1,
// kInvalidParams 2, kBadInputFile 65 (common/exit_codes.h).
inline constexpr int kFailed = -32000;          // the operation failed (id clash, cannot write…)
inline constexpr int kNotFound = -32004;        // unknown conversation or approval
inline constexpr int kBadInputFile = -32065;    // the file named for import / restore is unusable
inline constexpr int kInvalidParams = -32602;   // JSON-RPC: bad params
inline constexpr int kMethodNotFound = -32601;  // JSON-RPC: a method this daemon does not know

}  // namespace cb::ctl_protocol
