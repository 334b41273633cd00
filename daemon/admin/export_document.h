#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "daemon/bridge/bridge.h"
#include "daemon/store/transfer.h"

// The export document of one conversation (claude-bridgectl export / import, docs/cli.md): what
// the export method writes and the import method reads.
namespace cb::admin {

using Json = nlohmann::json;

// The document for a dump (one page of it: export adds "page").
Json to_document(const store::ConversationDump& dump, std::int64_t now_ms);

// The rows of the export document in the file at `path` (as the daemon sees the file system).
// Texts are run through the bridge's live redaction rules again, so a hand-edited file cannot bring
// a secret into the store; `*redacted` counts what that caught. A file that is unusable is
// bad_input_file naming the first thing wrong with it; one the daemon cannot read is failed.
Result<store::ConversationDump> read_export_document(const std::string& path,
                                                     const bridge::Bridge& b,
                                                     std::int64_t* redacted);

}  // namespace cb::admin
