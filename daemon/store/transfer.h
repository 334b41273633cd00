#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/store/sqlite_database.h"
#include "daemon/store/records.h"

// Moving data in and out of the live database for the operator: one conversation as rows
// (export / import) and the whole file (online backup / restore with SQLite's backup API).
// Every function returns expected failures as a cb::Status whose message is one line for the
// operator; SQLite::Exception still escapes for storage faults.
namespace cb::store {

// Status codes of this file's failures.
namespace codes {
inline constexpr const char* kNotFound = "not_found";  // export: no such conversation
inline constexpr const char* kExists = "exists";       // import: the conversation exists already
inline constexpr const char* kBadFile = "bad_file";    // restore: the file itself is unusable
// backup: the target could not be created for want of permission (EROFS, EACCES, EPERM)
inline constexpr const char* kNotPermitted = "not_permitted";
inline constexpr const char* kFailed = "failed";  // anything else: the daemon could not do it
}  // namespace codes

// Everything the store holds about one conversation, except its audit entries (those stay in
// the hash chain of the database that wrote them).
struct ConversationDump {
  ConversationRow conversation;      // with nonce, exec mode and exec settings
  std::vector<MessageRow> messages;  // in id order, with read times
  std::vector<SessionStatus> statuses;
  // An agents' conversation's members with their read positions (message ids); empty for a
  // token conversation (its joined seats stay with the agents, not the export).
  std::vector<MemberRow> members;
};

struct ConversationPage {
  ConversationDump dump;
  bool complete = true;  // the page reached the conversation's last message
};

// The conversation, its statuses, and its messages with id > after_id in id order: as many as
// fit in `max_body_bytes` of message text, and always at least one. Pages keep each answer on
// ctl.sock bounded (a frame over the daemon's write-queue cap would close the connection).
// codes::kNotFound when there is no such conversation.
cb::Result<ConversationPage> dump_conversation(Database& db, const std::string& id,
                                               std::int64_t after_id, std::size_t max_body_bytes);

// Inserts the conversation, its messages (new ids, same order, same times and read state) and
// statuses within the caller's transaction; the messages' conversation_id is taken from
// dump.conversation. codes::kExists, inserting nothing, when a conversation with that id exists.
// An agents' conversation's members come too, their read positions and the messages' reply_to
// moved to the new ids; its member_key is dropped (the conversation is then addressed by its id)
// when another conversation already holds it.
cb::Status load_conversation(Database& db, const ConversationDump& dump);

// What a backup or restore copied.
struct FileCopy {
  std::int64_t pages = 0;  // of the copy (backup) or of the file as found (restore)
  std::int64_t bytes = 0;  // size of the copy (backup) or of the file as found (restore)
};

// Copies the live database into `dest` (absolute path) with the online backup API in one step,
// so the copy is one consistent snapshot even while sessions write. The copy is written to a
// temporary file beside `dest` (0600), switched to journal_mode DELETE so it is one
// self-contained file, fsynced, then renamed over `dest`. Refuses to overwrite an existing file
// unless `overwrite`, and always refuses the live database's own files. Failures:
// codes::kNotPermitted or codes::kFailed.
cb::Result<FileCopy> backup_database(SqliteDatabase& db, const std::filesystem::path& dest,
                                     bool overwrite);

// Opens `src` read-only and checks that it is a database this daemon can serve: integrity_check
// "ok", user_version == SqliteDatabase::latest_schema_version(), the product's tables present.
// codes::kBadFile when it is not.
cb::Result<FileCopy> check_backup_file(const std::filesystem::path& src);

// check_backup_file, then copies `src` into the live connection's "main" database with the
// backup API (source = the file), replacing every row; no reopen. The caller must reload any
// state cached from the old contents (the audit chain head). codes::kBadFile when the file is
// unusable (the live database is unchanged), codes::kFailed when the daemon could not do it.
cb::Result<FileCopy> restore_database(SqliteDatabase& db, const std::filesystem::path& src);

}  // namespace cb::store
