// export / import of one conversation as a JSON document (claude-bridgectl export / import).
//
// The document carries everything the store holds about the conversation except its audit
// entries: the row with its nonce (hex), so the tokens derive again wherever the same server
// key is in use; every message with its times and read state; both statuses. Message ids are
// informational: import assigns new ones in the same order.
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cb_config.h"
#include "daemon/admin/extra_methods.h"
#include "common/clock.h"
#include "common/ctl_protocol.h"
#include "daemon/crypto/crypto.h"
#include "daemon/rpc/jsonrpc.h"
#include "daemon/store/transfer.h"

namespace cb::admin {
namespace {

constexpr const char* kFormat = "claude-bridge-conversation";
constexpr int kFormatVersion = 1;
constexpr std::int64_t kMaxImportBytes = 256LL << 20;
constexpr std::int64_t kDefaultPageBytes = 4 << 20;
constexpr std::int64_t kMaxPageBytes = 8 << 20;

Json parse_or_raw(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? Json(text) : j;
}

Json to_document(const store::ConversationDump& dump, std::int64_t now_ms) {
  const auto& c = dump.conversation;
  Json statuses = Json::object();
  for (const auto& s : dump.statuses) {
    statuses[s.session] = Json{{"status", s.row.status},
                               {"heartbeat_ms", s.row.heartbeat_ms},
                               {"last_heartbeat", cb::iso8601(s.row.heartbeat_ms)}};
  }
  Json messages = Json::array();
  for (const auto& m : dump.messages) {
    messages.push_back(
        Json{{"id", m.id},
             {"from", m.sender},
             {"to", m.recipient},
             {"message", m.body},
             {"action_type", m.action_type},
             {"files_involved", parse_or_raw(m.files_json)},
             {"redactions", parse_or_raw(m.redactions_json)},
             {"created_ms", m.created_ms},
             {"timestamp", cb::iso8601(m.created_ms)},
             {"read_ms", m.read_ms ? Json(*m.read_ms) : Json(nullptr)},
             {"read_at", m.read_ms ? Json(cb::iso8601(*m.read_ms)) : Json(nullptr)}});
  }
  return Json{{"format", kFormat},
              {"format_version", kFormatVersion},
              {"exported_at", cb::iso8601(now_ms)},
              {"exported_by", std::string("claude-bridged ") + CB_VERSION},
              {"conversation", Json{{"conversation_id", c.id},
                                    {"role_a", c.role_a},
                                    {"role_b", c.role_b},
                                    {"nonce_hex", cb::crypto::hex(c.nonce)},
                                    {"created_ms", c.created_ms},
                                    {"expires_ms", c.expires_ms},
                                    {"created_at", cb::iso8601(c.created_ms)},
                                    {"expires_at", cb::iso8601(c.expires_ms)},
                                    {"exec_mode", c.exec_mode},
                                    {"exec_json", c.exec_json}}},
              {"statuses", std::move(statuses)},
              {"messages", std::move(messages)}};
}

// Reads an export document, naming the first thing wrong with it (as kBadInputFile).
class DocumentReader {
 public:
  explicit DocumentReader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw AdminError(kBadInputFile, source_ + ": " + what);
  }

  const Json& field(const Json& obj, const std::string& where, const char* key) const {
    if (!obj.is_object() || !obj.contains(key)) fail(where + "." + key + " is missing");
    return obj[key];
  }
  std::string text(const Json& obj, const std::string& where, const char* key,
                   std::size_t max_bytes) const {
    const Json& v = field(obj, where, key);
    if (!v.is_string()) fail(where + "." + key + " must be a string");
    auto s = v.get<std::string>();
    if (s.size() > max_bytes) fail(where + "." + key + " is too long");
    return s;
  }
  std::int64_t integer(const Json& obj, const std::string& where, const char* key) const {
    const Json& v = field(obj, where, key);
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0) {
      fail(where + "." + key + " must be a non-negative integer (Unix milliseconds)");
    }
    return v.get<std::int64_t>();
  }

 private:
  std::string source_;
};

std::string unhex(const DocumentReader& r, const std::string& hex) {
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 128) {
    r.fail("conversation.nonce_hex must be 2..128 hex digits");
  }
  std::string out;
  out.reserve(hex.size() / 2);
  auto nibble = [&](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    r.fail("conversation.nonce_hex must be hex digits");
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

bool valid_conversation_id(const std::string& id) {
  if (id.size() != 21 || id.rfind("conv_", 0) != 0) return false;
  for (std::size_t i = 5; i < id.size(); ++i) {
    const char ch = id[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  return true;
}

// The document as rows. Texts are run through the live redaction rules again, so a
// hand-edited file cannot bring a secret into the store; `redacted` counts what that caught.
store::ConversationDump from_document(const Json& doc, const DocumentReader& r,
                                      const bridge::Bridge& b, std::int64_t* redacted) {
  if (!doc.is_object()) r.fail("not an export document (expected a JSON object)");
  if (doc.value("format", "") != kFormat) {
    r.fail(std::string("not an export document (\"format\" must be \"") + kFormat + "\")");
  }
  if (!doc.contains("format_version") || doc["format_version"] != kFormatVersion) {
    r.fail("format_version " +
           (doc.contains("format_version") ? doc["format_version"].dump() : "?") +
           " is not supported (this daemon reads version " + std::to_string(kFormatVersion) + ")");
  }
  auto clean = [&](std::string text) {
    auto red = b.redactor().redact(text);
    if (!red.hits.empty()) *redacted += static_cast<std::int64_t>(red.hits.size());
    return red.text;
  };
  store::ConversationDump dump;
  const Json& c = r.field(doc, "document", "conversation");
  auto& row = dump.conversation;
  row.id = r.text(c, "conversation", "conversation_id", 64);
  if (!valid_conversation_id(row.id)) {
    r.fail("conversation.conversation_id must look like conv_ followed by 16 lowercase hex digits");
  }
  row.role_a = clean(r.text(c, "conversation", "role_a", 4096));
  row.role_b = clean(r.text(c, "conversation", "role_b", 4096));
  if (row.role_a.empty() || row.role_b.empty()) r.fail("conversation roles must not be empty");
  row.nonce = unhex(r, r.text(c, "conversation", "nonce_hex", 128));
  row.created_ms = r.integer(c, "conversation", "created_ms");
  row.expires_ms = r.integer(c, "conversation", "expires_ms");
  if (row.expires_ms < row.created_ms) r.fail("conversation.expires_ms is before created_ms");
  row.exec_mode = r.text(c, "conversation", "exec_mode", 64);
  row.exec_json = r.text(c, "conversation", "exec_json", 1 << 20);
  if (Json::parse(row.exec_json, nullptr, false).is_discarded()) {
    r.fail("conversation.exec_json is not JSON text");
  }

  if (doc.contains("statuses")) {
    const Json& statuses = doc["statuses"];
    if (!statuses.is_object()) r.fail("statuses must be an object keyed by session (a, b)");
    for (const auto& [session, st] : statuses.items()) {
      if (session != "a" && session != "b")
        r.fail("statuses." + session + ": session must be a or b");
      const std::string where = "statuses." + session;
      dump.statuses.push_back(store::SessionStatus{
          session,
          store::StatusRow{r.text(st, where, "status", 64), r.integer(st, where, "heartbeat_ms")}});
    }
  }

  const Json& messages = r.field(doc, "document", "messages");
  if (!messages.is_array()) r.fail("messages must be an array");
  std::size_t i = 0;
  for (const Json& m : messages) {
    const std::string where = "messages[" + std::to_string(i++) + "]";
    store::MessageRow row_m;
    row_m.sender = r.text(m, where, "from", 8);
    if (row_m.sender != "a" && row_m.sender != "b" && row_m.sender != "system") {
      r.fail(where + ".from must be a, b or system");
    }
    row_m.recipient = r.text(m, where, "to", 8);
    if (row_m.recipient != "a" && row_m.recipient != "b") r.fail(where + ".to must be a or b");
    row_m.body = clean(r.text(m, where, "message", 16 << 20));
    row_m.action_type = r.text(m, where, "action_type", 64);
    const Json files = m.value("files_involved", Json::array());
    if (!files.is_array()) r.fail(where + ".files_involved must be an array of strings");
    for (const Json& f : files) {
      if (!f.is_string()) r.fail(where + ".files_involved must be an array of strings");
    }
    row_m.files_json = files.dump();
    const Json redactions = m.value("redactions", Json::object());
    if (!redactions.is_object()) r.fail(where + ".redactions must be an object");
    row_m.redactions_json = redactions.dump();
    row_m.created_ms = r.integer(m, where, "created_ms");
    if (m.contains("read_ms") && !m["read_ms"].is_null()) {
      row_m.read_ms = r.integer(m, where, "read_ms");
    }
    dump.messages.push_back(std::move(row_m));
  }
  return dump;
}

Json read_document(const std::string& path, const DocumentReader& r) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw AdminError(kFailed, path + ": cannot read (as the daemon sees the file system): " +
                                  std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) r.fail("not a regular file");
  if (st.st_size > kMaxImportBytes) {
    r.fail("larger than " + std::to_string(kMaxImportBytes >> 20) + " MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw AdminError(kFailed, path + ": cannot open for reading");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  // nlohmann recurses per nesting level; refuse deep nesting before parsing.
  if (mcp::nesting_depth(s, mcp::kMaxJsonDepth) > mcp::kMaxJsonDepth)
    r.fail("JSON nested too deeply");
  Json doc = Json::parse(s, nullptr, false);
  if (doc.is_discarded()) r.fail("not valid JSON");
  return doc;
}

}  // namespace

void register_transfer_methods(AdminApi& api) {
  // One page per call: the document with the messages after `after_id` that fit in
  // `page_bytes` of text, plus "page": {complete, next_after_id}. claude-bridgectl asks until
  // complete and joins the pages, so no answer grows past the connection's write-queue cap.
  api.add(ctl_protocol::kExport, [&api](const AdminCall& call) {
    const std::string id = required_string(call.params, "conversation_id");
    const std::int64_t after_id = optional_int(call.params, "after_id", 0, 0, INT64_MAX);
    const std::int64_t page_bytes =
        optional_int(call.params, "page_bytes", kDefaultPageBytes, 1, kMaxPageBytes);
    auto* db = api.info().database;
    if (!db) throw AdminError(kFailed, "export is not available in this daemon");
    auto page = store::dump_conversation(*db, id, after_id, static_cast<std::size_t>(page_bytes));
    if (!page) {
      throw AdminError(kNotFound, page.status().message() + " — see: claude-bridgectl list");
    }
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

  api.add(ctl_protocol::kImport, [&api](const AdminCall& call) {
    const std::string path = required_string(call.params, "path");
    auto* db = api.info().database;
    if (!db) throw AdminError(kFailed, "import is not available in this daemon");
    bridge::Bridge& b = api.bridge();
    Json details = call.who();
    details["path"] = path;
    DocumentReader reader(path);
    store::ConversationDump dump;
    std::int64_t redacted = 0;
    try {
      dump = from_document(read_document(path, reader), reader, b, &redacted);
    } catch (const AdminError& e) {
      details["error"] = e.what();
      b.ops().audit_admin("admin_import", "", "refused", details);
      throw;
    }
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
        throw AdminError(kFailed, loaded.message());
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
