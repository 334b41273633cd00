// The export document of one conversation (claude-bridgectl export / import).
//
// The document carries everything the store holds about the conversation except its audit
// entries: the row with its nonce (hex), so the tokens derive again wherever the same server
// key is in use; every message with its times and read state; both statuses. Message ids are
// informational: import assigns new ones in the same order. A conversation of agents (issue 23)
// adds `kind` and `member_key` to the conversation, `reply_to` to its messages and its
// `members` with their read positions; a token conversation's document is unchanged.
#include "daemon/admin/export_document.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cb_config.h"
#include "common/clock.h"
#include "daemon/admin/admin_api.h"
#include "daemon/crypto/crypto.h"
#include "daemon/rpc/jsonrpc.h"

namespace cb::admin {
namespace {

constexpr const char* kFormat = "claude-bridge-conversation";
constexpr int kFormatVersion = 1;
constexpr std::int64_t kMaxImportBytes = 256LL << 20;

Json parse_or_raw(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? Json(text) : j;
}

// Reads an export document: each accessor returns the value or bad_input_file naming the
// field that is wrong.
class DocumentReader {
 public:
  explicit DocumentReader(std::string source) : source_(std::move(source)) {}

  Status fail(const std::string& what) const { return bad_input_file(source_ + ": " + what); }

  Result<const Json*> field(const Json& obj, const std::string& where, const char* key) const {
    if (!obj.is_object() || !obj.contains(key)) return fail(where + "." + key + " is missing");
    return &obj[key];
  }
  Result<std::string> text(const Json& obj, const std::string& where, const char* key,
                           std::size_t max_bytes) const {
    const Result<const Json*> v = field(obj, where, key);
    if (!v) return v.status();
    if (!(*v)->is_string()) return fail(where + "." + key + " must be a string");
    auto s = (*v)->get<std::string>();
    if (s.size() > max_bytes) return fail(where + "." + key + " is too long");
    return s;
  }
  Result<std::int64_t> integer(const Json& obj, const std::string& where, const char* key) const {
    const Result<const Json*> v = field(obj, where, key);
    if (!v) return v.status();
    if (!(*v)->is_number_integer() || (*v)->get<std::int64_t>() < 0) {
      return fail(where + "." + key + " must be a non-negative integer (Unix milliseconds)");
    }
    return (*v)->get<std::int64_t>();
  }

 private:
  std::string source_;
};

int nibble(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

Result<std::string> unhex(const DocumentReader& r, const std::string& hex) {
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 128) {
    return r.fail("conversation.nonce_hex must be 2..128 hex digits");
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = nibble(hex[i]);
    const int low = nibble(hex[i + 1]);
    if (high < 0 || low < 0) return r.fail("conversation.nonce_hex must be hex digits");
    out.push_back(static_cast<char>(high * 16 + low));
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

// Runs a document's texts through the live redaction rules, counting their hits.
class Cleaner {
 public:
  Cleaner(const bridge::Bridge& b, std::int64_t* redacted) : b_(b), redacted_(redacted) {}
  std::string operator()(const std::string& text) const {
    auto red = b_.redactor().redact(text);
    if (!red.hits.empty()) *redacted_ += static_cast<std::int64_t>(red.hits.size());
    return red.text;
  }

 private:
  const bridge::Bridge& b_;
  std::int64_t* redacted_;
};

Status read_conversation(const Json& doc, const DocumentReader& r, const Cleaner& clean,
                         store::ConversationRow* row) {
  const Result<const Json*> conv = r.field(doc, "document", "conversation");
  if (!conv) return conv.status();
  const Json& c = **conv;
  Result<std::string> id = r.text(c, "conversation", "conversation_id", 64);
  if (!id) return id.status();
  row->id = std::move(*id);
  if (!valid_conversation_id(row->id)) {
    return r.fail(
        "conversation.conversation_id must look like conv_ followed by 16 lowercase hex digits");
  }
  if (c.contains("kind")) {
    Result<std::string> kind = r.text(c, "conversation", "kind", 16);
    if (!kind) return kind.status();
    if (*kind != "token" && *kind != "agents") {
      return r.fail("conversation.kind must be token or agents");
    }
    row->kind = std::move(*kind);
  }
  const bool agents = row->kind == "agents";
  if (agents && c.contains("member_key")) {
    Result<std::string> key = r.text(c, "conversation", "member_key", 64 * 1024);
    if (!key) return key.status();
    row->member_key = std::move(*key);
  }
  const Result<std::string> role_a = r.text(c, "conversation", "role_a", 4096);
  if (!role_a) return role_a.status();
  row->role_a = clean(*role_a);
  const Result<std::string> role_b = r.text(c, "conversation", "role_b", 4096);
  if (!role_b) return role_b.status();
  row->role_b = clean(*role_b);
  if (!agents && (row->role_a.empty() || row->role_b.empty())) {
    return r.fail("conversation roles must not be empty");
  }
  const Result<std::string> nonce_hex = r.text(c, "conversation", "nonce_hex", 128);
  if (!nonce_hex) return nonce_hex.status();
  if (!(agents && nonce_hex->empty())) {  // an agents' conversation has no tokens to derive
    Result<std::string> nonce = unhex(r, *nonce_hex);
    if (!nonce) return nonce.status();
    row->nonce = std::move(*nonce);
  }
  const Result<std::int64_t> created = r.integer(c, "conversation", "created_ms");
  if (!created) return created.status();
  row->created_ms = *created;
  const Result<std::int64_t> expires = r.integer(c, "conversation", "expires_ms");
  if (!expires) return expires.status();
  row->expires_ms = *expires;
  if (row->expires_ms < row->created_ms) {
    return r.fail("conversation.expires_ms is before created_ms");
  }
  Result<std::string> exec_mode = r.text(c, "conversation", "exec_mode", 64);
  if (!exec_mode) return exec_mode.status();
  row->exec_mode = std::move(*exec_mode);
  Result<std::string> exec_json = r.text(c, "conversation", "exec_json", 1 << 20);
  if (!exec_json) return exec_json.status();
  row->exec_json = std::move(*exec_json);
  if (Json::parse(row->exec_json, nullptr, false).is_discarded()) {
    return r.fail("conversation.exec_json is not JSON text");
  }
  return {};
}

Status read_statuses(const Json& doc, const DocumentReader& r,
                     std::vector<store::SessionStatus>* out) {
  if (!doc.contains("statuses")) return {};
  const Json& statuses = doc["statuses"];
  if (!statuses.is_object()) return r.fail("statuses must be an object keyed by session (a, b)");
  for (const auto& [session, st] : statuses.items()) {
    if (session != "a" && session != "b") {
      return r.fail("statuses." + session + ": session must be a or b");
    }
    const std::string where = "statuses." + session;
    Result<std::string> status = r.text(st, where, "status", 64);
    if (!status) return status.status();
    const Result<std::int64_t> heartbeat = r.integer(st, where, "heartbeat_ms");
    if (!heartbeat) return heartbeat.status();
    out->push_back(store::SessionStatus{session, store::StatusRow{std::move(*status), *heartbeat}});
  }
  return {};
}

Result<store::MessageRow> read_message(const Json& m, const std::string& where,
                                       const DocumentReader& r, const Cleaner& clean, bool agents) {
  store::MessageRow row;
  Result<std::string> sender = r.text(m, where, "from", agents ? bridge::Agents::kMaxName : 8);
  if (!sender) return sender.status();
  row.sender = std::move(*sender);
  if (agents) {
    if (!bridge::Agents::valid_name(row.sender) && row.sender != bridge::AgentMail::kOperator) {
      return r.fail(where + ".from must be an agent's name, system or @operator");
    }
  } else if (row.sender != "a" && row.sender != "b" && row.sender != "system") {
    return r.fail(where + ".from must be a, b or system");
  }
  Result<std::string> recipient = r.text(m, where, "to", 8);
  if (!recipient) return recipient.status();
  row.recipient = std::move(*recipient);
  if (agents) {
    if (row.recipient != "*") return r.fail(where + ".to must be * in a conversation of agents");
    const Result<std::int64_t> id = r.integer(m, where, "id");
    if (!id) return id.status();
    row.id = *id;  // the key of reply_to and the members' read positions; import renumbers
    if (m.contains("reply_to") && !m["reply_to"].is_null()) {
      const Result<std::int64_t> reply_to = r.integer(m, where, "reply_to");
      if (!reply_to) return reply_to.status();
      row.reply_to = *reply_to;
    }
  } else if (row.recipient != "a" && row.recipient != "b") {
    return r.fail(where + ".to must be a or b");
  }
  const Result<std::string> body = r.text(m, where, "message", 16 << 20);
  if (!body) return body.status();
  row.body = clean(*body);
  Result<std::string> action_type = r.text(m, where, "action_type", 64);
  if (!action_type) return action_type.status();
  row.action_type = std::move(*action_type);
  const Json files = m.value("files_involved", Json::array());
  if (!files.is_array()) return r.fail(where + ".files_involved must be an array of strings");
  for (const Json& f : files) {
    if (!f.is_string()) return r.fail(where + ".files_involved must be an array of strings");
  }
  row.files_json = files.dump();
  const Json redactions = m.value("redactions", Json::object());
  if (!redactions.is_object()) return r.fail(where + ".redactions must be an object");
  row.redactions_json = redactions.dump();
  const Result<std::int64_t> created = r.integer(m, where, "created_ms");
  if (!created) return created.status();
  row.created_ms = *created;
  if (m.contains("read_ms") && !m["read_ms"].is_null()) {
    const Result<std::int64_t> read = r.integer(m, where, "read_ms");
    if (!read) return read.status();
    row.read_ms = *read;
  }
  return row;
}

Status read_members(const Json& doc, const DocumentReader& r, std::vector<store::MemberRow>* out) {
  const Result<const Json*> members = r.field(doc, "document", "members");
  if (!members) return members.status();
  if (!(*members)->is_array()) return r.fail("members must be an array");
  std::size_t i = 0;
  for (const Json& m : **members) {
    const std::string where = "members[" + std::to_string(i++) + "]";
    store::MemberRow row;
    Result<std::string> agent = r.text(m, where, "agent", bridge::Agents::kMaxName);
    if (!agent) return agent.status();
    if (!bridge::Agents::valid_name(*agent)) return r.fail(where + ".agent is not an agent's name");
    row.agent = std::move(*agent);
    const Result<std::int64_t> read = r.integer(m, where, "read_up_to");
    if (!read) return read.status();
    row.read_up_to = *read;
    const Result<std::int64_t> joined = r.integer(m, where, "joined_ms");
    if (!joined) return joined.status();
    row.joined_ms = *joined;
    out->push_back(std::move(row));
  }
  return {};
}

// The document as rows, or the first thing wrong with it.
Result<store::ConversationDump> from_document(const Json& doc, const DocumentReader& r,
                                              const Cleaner& clean) {
  if (!doc.is_object()) return r.fail("not an export document (expected a JSON object)");
  // Compared as JSON: a "format" that is not a string is refused like a wrong one.
  if (!doc.contains("format") || doc["format"] != kFormat) {
    return r.fail(std::string("not an export document (\"format\" must be \"") + kFormat + "\")");
  }
  if (!doc.contains("format_version") || doc["format_version"] != kFormatVersion) {
    return r.fail(
        "format_version " + (doc.contains("format_version") ? doc["format_version"].dump() : "?") +
        " is not supported (this daemon reads version " + std::to_string(kFormatVersion) + ")");
  }
  store::ConversationDump dump;
  if (Status s = read_conversation(doc, r, clean, &dump.conversation); !s.ok()) return s;
  if (Status s = read_statuses(doc, r, &dump.statuses); !s.ok()) return s;
  const Result<const Json*> messages = r.field(doc, "document", "messages");
  if (!messages) return messages.status();
  if (!(*messages)->is_array()) return r.fail("messages must be an array");
  const bool agents = dump.conversation.kind == "agents";
  std::size_t i = 0;
  std::int64_t last_id = 0;
  for (const Json& m : **messages) {
    const std::string where = "messages[" + std::to_string(i++) + "]";
    Result<store::MessageRow> row = read_message(m, where, r, clean, agents);
    if (!row) return row.status();
    if (agents) {
      if (row->id <= last_id) return r.fail(where + ".id must be greater than the one before");
      last_id = row->id;
    }
    dump.messages.push_back(std::move(*row));
  }
  if (agents) {
    if (Status s = read_members(doc, r, &dump.members); !s.ok()) return s;
  }
  return dump;
}

Result<Json> read_json(const std::string& path, const DocumentReader& r) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return failed(path +
                  ": cannot read (as the daemon sees the file system): " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return r.fail("not a regular file");
  if (st.st_size > kMaxImportBytes) {
    return r.fail("larger than " + std::to_string(kMaxImportBytes >> 20) + " MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return failed(path + ": cannot open for reading");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  // nlohmann recurses per nesting level; refuse deep nesting before parsing.
  if (mcp::nesting_depth(s, mcp::kMaxJsonDepth) > mcp::kMaxJsonDepth) {
    return r.fail("JSON nested too deeply");
  }
  Json doc = Json::parse(s, nullptr, false);
  if (doc.is_discarded()) return r.fail("not valid JSON");
  return doc;
}

}  // namespace

Json to_document(const store::ConversationDump& dump, std::int64_t now_ms) {
  const auto& c = dump.conversation;
  Json statuses = Json::object();
  for (const auto& s : dump.statuses) {
    statuses[s.session] = Json{{"status", s.row.status},
                               {"heartbeat_ms", s.row.heartbeat_ms},
                               {"last_heartbeat", cb::iso8601(s.row.heartbeat_ms)}};
  }
  const bool agents = c.kind == "agents";
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
    if (agents) messages.back()["reply_to"] = m.reply_to ? Json(*m.reply_to) : Json(nullptr);
  }
  Json doc{{"format", kFormat},
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
  // Only a conversation of agents has these: a token conversation's document stays as it was.
  if (agents) {
    doc["conversation"]["kind"] = c.kind;
    doc["conversation"]["member_key"] = c.member_key;
    Json members = Json::array();
    for (const auto& m : dump.members) {
      members.push_back(Json{{"agent", m.agent},
                             {"seat", m.seat},
                             {"read_up_to", m.read_up_to},
                             {"joined_ms", m.joined_ms}});
    }
    doc["members"] = std::move(members);
  }
  return doc;
}

Result<store::ConversationDump> read_export_document(const std::string& path,
                                                     const bridge::Bridge& b,
                                                     std::int64_t* redacted) {
  const DocumentReader reader(path);
  const Result<Json> doc = read_json(path, reader);
  if (!doc) return doc.status();
  return from_document(*doc, reader, Cleaner(b, redacted));
}

}  // namespace cb::admin
