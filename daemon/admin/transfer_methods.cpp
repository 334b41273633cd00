// export / import of one conversation (claude-bridgectl export / import); the document itself
// is export_document.cpp's.
#include <cstdint>

#include "common/clock.h"
#include "common/ctl_protocol.h"
#include "daemon/admin/export_document.h"
#include "daemon/admin/extra_methods.h"
#include "daemon/store/transfer.h"

namespace cb::admin {
namespace {

constexpr std::int64_t kDefaultPageBytes = 4 << 20;
constexpr std::int64_t kMaxPageBytes = 8 << 20;

}  // namespace

void register_transfer_methods(AdminApi& api) {
  // One page per call: the document with the messages after `after_id` that fit in
  // `page_bytes` of text, plus "page": {complete, next_after_id}. claude-bridgectl asks until
  // complete and joins the pages, so no answer grows past the connection's write-queue cap.
  api.add(ctl_protocol::kExport, [&api](const AdminCall& call) -> Result<Json> {
    const Result<std::string> conv = required_string(call.params, "conversation_id");
    if (!conv) return conv.status();
    const std::string& id = *conv;
    const Result<std::int64_t> after = optional_int(call.params, "after_id", 0, 0, INT64_MAX);
    if (!after) return after.status();
    const std::int64_t after_id = *after;
    const Result<std::int64_t> page_bytes =
        optional_int(call.params, "page_bytes", kDefaultPageBytes, 1, kMaxPageBytes);
    if (!page_bytes) return page_bytes.status();
    auto* db = api.info().database;
    if (!db) return failed("export is not available in this daemon");
    auto page = store::dump_conversation(*db, id, after_id, static_cast<std::size_t>(*page_bytes));
    if (!page) return not_found(page.status().message() + " — see: claude-bridgectl list");
    const store::ConversationDump& dump = page->dump;
    const bool complete = page->complete;
    Json doc = to_document(dump, cb::SystemClock().now_ms());
    doc["page"] =
        Json{{"complete", complete},
             {"next_after_id",
              complete || dump.messages.empty() ? Json(nullptr) : Json(dump.messages.back().id)}};
    Json details = call.who();
    details["messages"] = dump.messages.size();
    if (after_id > 0) details["after_id"] = after_id;
    api.bridge().ops().audit_admin("admin_export", id, "ok", details);
    return doc;
  });

  api.add(ctl_protocol::kImport, [&api](const AdminCall& call) -> Result<Json> {
    const Result<std::string> where = required_string(call.params, "path");
    if (!where) return where.status();
    const std::string& path = *where;
    auto* db = api.info().database;
    if (!db) return failed("import is not available in this daemon");
    bridge::Bridge& b = api.bridge();
    Json details = call.who();
    details["path"] = path;
    std::int64_t redacted = 0;
    Result<store::ConversationDump> read = read_export_document(path, b, &redacted);
    if (!read) {
      details["error"] = read.status().message();
      b.ops().audit_admin("admin_import", "", "refused", details);
      return read.status();
    }
    const store::ConversationDump& dump = *read;
    const std::string& id = dump.conversation.id;
    details["messages"] = dump.messages.size();
    details["redacted_on_import"] = redacted;
    {
      store::WriteTransaction tx(*db);
      const Status loaded = store::load_conversation(*db, dump);
      if (!loaded.ok()) {
        tx.commit();  // nothing was written
        details["error"] = "conversation exists";
        b.ops().audit_admin("admin_import", id, "refused", details);
        return failed(loaded.message());
      }
      // The audit entry joins the same transaction; if the commit fails the cached chain head
      // would point at a row that never landed, so forget it.
      try {
        b.ops().audit_admin("admin_import", id, "ok", details);
        tx.commit();
      } catch (...) {
        b.reload_after_restore();
        throw;
      }
    }
    return Json{{"conversation_id", id},
                {"messages", dump.messages.size()},
                {"statuses", dump.statuses.size()},
                {"redacted_on_import", redacted}};
  });
}

}  // namespace cb::admin
