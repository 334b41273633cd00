#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "daemon/store/database.h"
#include "daemon/store/records.h"

// Moving data in and out of the live database for the operator: one conversation as rows
// (export / import) and the whole file (online backup / restore with SQLite's backup API).
// Every function returns expected failures as a one-line message; SQLite::Exception still
// escapes for the unexpected ones.
namespace cb::store {

struct SessionStatus {
  std::string session;  // "a" or "b"
  StatusRow row;
};

// Everything the store holds about one conversation, except its audit entries (those stay in
// the hash chain of the database that wrote them).
struct ConversationDump {
  ConversationRow conversation;      // with nonce, exec mode and exec settings
  std::vector<MessageRow> messages;  // in id order, with read times
  std::vector<SessionStatus> statuses;
};

// The conversation, its statuses, and its messages with id > after_id in id order: as many as
// fit in `max_body_bytes` of message text, and always at least one. `*complete` tells whether
// the page reached the last message. Pages keep each answer on ctl.sock bounded (a frame over
// the daemon's write-queue cap would close the connection).
std::optional<ConversationDump> dump_conversation(Database& db, const std::string& id,
                                                  std::int64_t after_id, std::size_t max_body_bytes,
                                                  bool* complete);

// Inserts the conversation, its messages (new ids, same order, same times and read state) and
// statuses within the caller's transaction. Returns false, inserting nothing, when a
// conversation with that id exists already.
bool load_conversation(Database& db, const ConversationDump& dump);

struct FileOutcome {
  std::string error;      // empty on success
  bool bad_file = false;  // restore: the file itself is unusable (not a failure of the daemon)
  int sys_errno = 0;      // backup: errno when the target could not be created
  std::int64_t pages = 0;
  std::int64_t bytes = 0;
};

// Copies the live database into `dest` (absolute path) with the online backup API in one step,
// so the copy is one consistent snapshot even while sessions write. The copy is written to a
// temporary file beside `dest` (0600), switched to journal_mode DELETE so it is one
// self-contained file, fsynced, then renamed over `dest`. Refuses to overwrite an existing file
// unless `overwrite`, and always refuses the live database's own files.
FileOutcome backup_database(Database& db, const std::filesystem::path& dest, bool overwrite);

// Opens `src` read-only and checks that it is a database this daemon can serve: integrity_check
// "ok", user_version == Database::latest_schema_version(), the product's tables present.
FileOutcome check_backup_file(const std::filesystem::path& src);

// check_backup_file, then copies `src` into the live connection's "main" database with the
// backup API (source = the file), replacing every row; no reopen. The caller must reload any
// state cached from the old contents (the audit chain head).
FileOutcome restore_database(Database& db, const std::filesystem::path& src);

}  // namespace cb::store
