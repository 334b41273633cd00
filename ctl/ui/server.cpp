#include "ctl/ui/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "common/ctl_protocol.h"
#include "common/exit_codes.h"
#include "ctl/client.h"
#include "ctl/ui/assets.h"

namespace cb::ctl::ui {
namespace {

// Sent with every answer of ours (SECURITY.md, "The web console"): scripts and styles only from
// this origin as files (no inline script or style, no eval), no frames, no other host.
constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

struct Request {
  std::string body;
  bool too_large = false;
};

void secure(MHD_Response* r) {
  MHD_add_response_header(r, "Content-Security-Policy", kCsp);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
  MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
  MHD_add_response_header(r, "Cache-Control", "no-store");
}

MHD_Result answer(MHD_Connection* c, unsigned status, const std::string& body, const char* type,
                  const char* cookie = nullptr, const char* location = nullptr) {
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                    MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  secure(r);
  MHD_add_response_header(r, "Content-Type", type);
  if (cookie) MHD_add_response_header(r, "Set-Cookie", cookie);
  if (location) MHD_add_response_header(r, "Location", location);
  const MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

MHD_Result text(MHD_Connection* c, unsigned status, const std::string& line) {
  return answer(c, status, line + "\n", "text/plain; charset=utf-8");
}

MHD_Result json(MHD_Connection* c, unsigned status, const Json& j) {
  return answer(c, status, j.dump(-1, ' ', false, Json::error_handler_t::replace),
                "application/json; charset=utf-8");
}

MHD_Result asset(MHD_Connection* c, const Asset& a) {
  MHD_Response* r = MHD_create_response_from_buffer(a.size, const_cast<unsigned char*>(a.data),
                                                    MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  secure(r);
  MHD_add_response_header(r, "Content-Type", a.type);
  const MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ok;
}

std::string header(MHD_Connection* c, MHD_ValueKind kind, const char* name) {
  const char* v = MHD_lookup_connection_value(c, kind, name);
  return v ? v : "";
}

int count_headers(MHD_Connection* c, const char* name) {
  struct Count {
    const char* name;
    int n;
  } count{name, 0};
  MHD_get_connection_values(
      c, MHD_HEADER_KIND,
      [](void* cls, MHD_ValueKind, const char* key, const char*) -> MHD_Result {
        auto* k = static_cast<Count*>(cls);
        if (key && ::strcasecmp(key, k->name) == 0) ++k->n;
        return MHD_YES;
      },
      &count);
  return count.n;
}

bool conversation_id_ok(const std::string& id) {
  if (id.size() != 21 || id.rfind("conv_", 0) != 0) return false;
  for (std::size_t i = 5; i < id.size(); ++i) {
    const char ch = id[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  return true;
}

// A daemon call for a route: {status, result}; a failure is {"error": line}.
std::pair<unsigned, Json> daemon_answer(const std::filesystem::path& socket_dir,
                                        const char* method, const Json& params) {
  try {
    Client client = Client::connect(socket_dir);
    return {MHD_HTTP_OK, client.call(method, params, 60)};
  } catch (const CtlError& e) {
    Json err = Json::object();
    err["error"] = e.what();
    unsigned status = MHD_HTTP_BAD_GATEWAY;
    if (e.exit_code() == exit_code::kUsage) status = MHD_HTTP_BAD_REQUEST;
    if (e.exit_code() == exit_code::kUnavailable) status = MHD_HTTP_SERVICE_UNAVAILABLE;
    return {status, err};
  }
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A page of `export` as the conversation page reads it: the messages in `show`'s shape and the
// statuses. The conversation's nonce (from which, with server.key, tokens derive) and its exec
// settings stay in the console.
Json message_page(const Json& doc) {
  Json out = Json::object();
  out["messages"] = Json::array();
  for (const Json& m : doc.value("messages", Json::array())) {
    Json v = Json::object();
    for (const char* k : {"id", "from", "to", "message", "action_type", "files_involved",
                          "redactions", "timestamp", "read_at"}) {
      if (m.contains(k)) v[k] = m[k];
    }
    v["read"] = m.contains("read_ms") && !m["read_ms"].is_null();
    out["messages"].push_back(std::move(v));
  }
  out["statuses"] = doc.value("statuses", Json::object());
  // A conversation of agents: each member's read position (its messages' read marks).
  if (doc.contains("members")) {
    out["members"] = Json::array();
    for (const Json& m : doc["members"]) {
      if (!m.value("seat", "").empty()) continue;
      Json v = Json::object();
      v["agent"] = m.value("agent", "");
      v["read_up_to"] = m.value("read_up_to", 0);
      out["members"].push_back(std::move(v));
    }
  }
  const Json page = doc.value("page", Json::object());
  out["complete"] = page.value("complete", true);
  return out;
}

struct SseContext {
  Hub* hub;
  std::shared_ptr<Stream> stream;
};

ssize_t sse_read(void* cls, std::uint64_t, char* buf, std::size_t max) {
  auto* ctx = static_cast<SseContext*>(cls);
  const ssize_t n = ctx->stream->take(buf, max);
  return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

void sse_free(void* cls) {
  auto* ctx = static_cast<SseContext*>(cls);
  ctx->stream->detach();
  ctx->hub->close(ctx->stream.get());
  delete ctx;
}

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                      const char*, const char* upload, std::size_t* upload_size, void** state) {
  return static_cast<MHD_Result>(
      static_cast<Server*>(cls)->handle(c, url, method, upload, upload_size, state));
}

void on_completed(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
  delete static_cast<Request*>(*state);
  *state = nullptr;
}

}  // namespace

Server::Server(ServerOptions options, Hub& hub, Feed& feed)
    : options_(std::move(options)), hub_(hub), feed_(feed) {}

Server::~Server() { stop(); }

int Server::start(const std::string& token, const std::string& session) {
  // Our own listening socket, bound to 127.0.0.1 only, so the port is known before the gate
  // exists and no request can arrive before it does.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(options_.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 512) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(options_.port) + " (" +
                             std::strerror(err) + ")");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  gate_ = std::make_unique<Gate>(token, session, port_);

  // Leave room for ctl.sock connections and the process's own files.
  long limit = ::sysconf(_SC_OPEN_MAX);
  const unsigned connections = static_cast<unsigned>(std::clamp<long>(limit - 64, 64, 4000));
  // No MHD_USE_ERROR_LOG: nothing of a request (its URL carries the token once) is logged.
  daemon_ = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, 0, nullptr,
                             nullptr, &on_request, this, MHD_OPTION_LISTEN_SOCKET, fd,
                             MHD_OPTION_THREAD_POOL_SIZE, kThreads, MHD_OPTION_CONNECTION_LIMIT,
                             connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory,
                             MHD_OPTION_CONNECTION_TIMEOUT, kIdleTimeoutSeconds,
                             MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_NOTIFY_COMPLETED,
                             &on_completed, nullptr, MHD_OPTION_END);
  if (!daemon_) {
    ::close(fd);
    throw std::runtime_error("the HTTP server did not start on 127.0.0.1:" + std::to_string(port_));
  }
  return port_;
}

void Server::stop() {
  if (!daemon_) return;
  // libmicrohttpd must not be stopped with suspended connections: end every stream (which
  // resumes it) and let the streams finish, a bounded wait.
  hub_.end_all();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (hub_.size() > 0 && std::chrono::steady_clock::now() < deadline) {
    hub_.end_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
}

int Server::handle(MHD_Connection* c, const char* url, const char* method, const char* upload,
                   std::size_t* upload_size, void** state) {
  auto* req = static_cast<Request*>(*state);
  if (!req) {
    // First call: the headers are in, the body (if any) not yet. Refuse here what we can.
    if (!gate_->host_ok(header(c, MHD_HEADER_KIND, "Host"))) {
      return text(c, MHD_HTTP_FORBIDDEN,
                  "refused: the Host header must be 127.0.0.1:" + std::to_string(port_) +
                      " or localhost:" + std::to_string(port_));
    }
    const std::string m = method;
    if (m != "GET" && m != "HEAD" && m != "POST") {
      return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and POST are served here");
    }
    // Two lengths could be read two ways (request smuggling): refuse rather than pick one.
    if (count_headers(c, "Content-Length") > 1) {
      return text(c, MHD_HTTP_BAD_REQUEST, "more than one Content-Length header");
    }
    const std::string length = header(c, MHD_HEADER_KIND, "Content-Length");
    if (!length.empty()) {
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
      if (ec != std::errc{} || end != length.data() + length.size() || n > kMaxBody) {
        return text(c, MHD_HTTP_CONTENT_TOO_LARGE,
                    "request body too large (at most " + std::to_string(kMaxBody) + " bytes)");
      }
    }
    *state = new Request;
    return MHD_YES;
  }
  if (*upload_size > 0) {
    // Kept up to kMaxBody (a chunked body has no length to refuse up front); the rest dropped.
    if (!req->too_large && req->body.size() + *upload_size <= kMaxBody) {
      req->body.append(upload, *upload_size);
    } else {
      req->too_large = true;
      req->body.clear();
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if (req->too_large) {
    return text(c, MHD_HTTP_CONTENT_TOO_LARGE,
                "request body too large (at most " + std::to_string(kMaxBody) + " bytes)");
  }
  return route(c, url, method, req->body);
}

int Server::route(MHD_Connection* c, const std::string& url, const std::string& method,
                  const std::string& body) {
  const bool post = method == "POST";
  if (url == "/" && !post) {
    const char* token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (token) {
      if (!gate_->redeem(token)) {
        // The link opened again in the browser that already has the session: just go in.
        if (gate_->session_ok(header(c, MHD_COOKIE_KIND, kCookieName))) {
          return answer(c, MHD_HTTP_SEE_OTHER, "", "text/plain; charset=utf-8", nullptr, "/");
        }
        return text(c, MHD_HTTP_FORBIDDEN,
                    "this link was used already or is wrong: a console link opens once. Run "
                    "`claude-bridgectl ui` again for a new one.");
      }
      const std::string cookie = gate_->set_cookie();
      return answer(c, MHD_HTTP_SEE_OTHER, "", "text/plain; charset=utf-8", cookie.c_str(), "/");
    }
  }
  if (!gate_->session_ok(header(c, MHD_COOKIE_KIND, kCookieName))) {
    return text(c, MHD_HTTP_FORBIDDEN,
                "refused: open the link `claude-bridgectl ui` printed (it works once, in one "
                "browser)");
  }
  if (post && !gate_->origin_ok(header(c, MHD_HEADER_KIND, "Origin"))) {
    return text(c, MHD_HTTP_FORBIDDEN, "refused: a POST must come from this console's page");
  }
  if (url.rfind("/api/", 0) == 0) return serve_api(c, url, post, body);
  if (post) return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "this address takes GET only");
  if (url == "/events") return serve_events(c);
  if (url == "/") return asset(c, asset_index_html());
  if (url == "/app.js") return asset(c, asset_app_js());
  if (url == "/app.css") return asset(c, asset_app_css());
  if (url == "/views.js") return asset(c, asset_views_js());
  if (url == "/health.js") return asset(c, asset_health_js());
  if (url == "/agents.js") return asset(c, asset_agents_js());
  return text(c, MHD_HTTP_NOT_FOUND, "no such page");
}

int Server::read_daemon(MHD_Connection* c, const char* method, const Json& params,
                        Json (*shape)(const Json&)) {
  const std::string key = std::string(method) + " " + params.dump();
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cache_m_);
    std::erase_if(cache_, [now](const auto& kv) { return now - kv.second.at > kCoalesce; });
    if (auto it = cache_.find(key); it != cache_.end()) {
      return answer(c, it->second.status, it->second.body, "application/json; charset=utf-8");
    }
  }
  auto [status, result] = daemon_answer(options_.socket_dir, method, params);
  const std::string body = dump(status == MHD_HTTP_OK && shape ? shape(result) : result);
  if (status == MHD_HTTP_OK) {
    std::lock_guard lock(cache_m_);
    cache_[key] = Cached{now, status, body};
  }
  return answer(c, status, body, "application/json; charset=utf-8");
}

int Server::serve_api(MHD_Connection* c, const std::string& url, bool post,
                      const std::string& body) {
  const auto& dir = options_.socket_dir;
  if (url == "/api/post" || url == "/api/end") {
    if (!post) return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
    return serve_change(c, url, body);
  }
  if (url == "/api/audit/verify") {
    // Recomputes the whole chain and is audited: a deliberate act, so a POST.
    if (!post) return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
    auto [status, result] = daemon_answer(dir, ctl_protocol::kAuditVerify, Json::object());
    return answer(c, status, dump(result), "application/json; charset=utf-8");
  }
  if (post) return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "this address takes GET only");
  if (url == "/api/list") return read_daemon(c, ctl_protocol::kList, Json::object());
  if (url == "/api/agents") return read_daemon(c, ctl_protocol::kAgents, Json::object());
  if (url == "/api/talk") {
    Json params = Json::object();
    params["minutes"] = kTalkMinutes;
    return read_daemon(c, ctl_protocol::kTalk, params);
  }
  if (url == "/api/health") {
    Json h = feed_.health();
    h["ctl"] = options_.ctl_command;
    return json(c, MHD_HTTP_OK, h);
  }
  const std::string id = header(c, MHD_GET_ARGUMENT_KIND, "conversation_id");
  if (!id.empty() && !conversation_id_ok(id)) {
    return text(c, MHD_HTTP_BAD_REQUEST, "conversation_id must be conv_ and 16 hex digits");
  }
  if (url == "/api/show") {
    if (id.empty()) return text(c, MHD_HTTP_BAD_REQUEST, "missing conversation_id");
    Json params = Json::object();
    params["conversation_id"] = id;
    return read_daemon(c, ctl_protocol::kShow, params);
  }
  if (url == "/api/messages") {
    // The messages after after_id, with files, redactions and read marks: the conversation
    // page's refresh, which asks from its oldest unread message on instead of for everything.
    if (id.empty()) return text(c, MHD_HTTP_BAD_REQUEST, "missing conversation_id");
    const std::string after = header(c, MHD_GET_ARGUMENT_KIND, "after_id");
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(after.data(), after.data() + after.size(), n);
    if (after.empty() || ec != std::errc{} || end != after.data() + after.size() || n < 0) {
      return text(c, MHD_HTTP_BAD_REQUEST, "after_id must be a message id (0 or more)");
    }
    Json params = Json::object();
    params["conversation_id"] = id;
    params["after_id"] = n;
    params["page_bytes"] = kMessagePageBytes;
    return read_daemon(c, ctl_protocol::kExport, params, &message_page);
  }
  if (url == "/api/audit") {
    Json params = Json::object();
    if (!id.empty()) params["conversation_id"] = id;
    const std::string limit = header(c, MHD_GET_ARGUMENT_KIND, "limit");
    if (!limit.empty()) {
      int n = 0;
      const auto [end, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), n);
      if (ec != std::errc{} || end != limit.data() + limit.size() || n < 1 || n > 10000) {
        return text(c, MHD_HTTP_BAD_REQUEST, "limit must be a number from 1 to 10000");
      }
      params["limit"] = n;
    }
    return read_daemon(c, ctl_protocol::kAudit, params);
  }
  return text(c, MHD_HTTP_NOT_FOUND, "no such page");
}

int Server::serve_change(MHD_Connection* c, const std::string& url, const std::string& body) {
  // JSON only: a form of another site cannot send it without asking first (CORS preflight),
  // besides the Origin check every POST passed already.
  const std::string type = header(c, MHD_HEADER_KIND, "Content-Type");
  if (type.rfind("application/json", 0) != 0) {
    return text(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "send the body as application/json");
  }
  const Json in = Json::parse(body, nullptr, false);
  if (!in.is_object()) return text(c, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
  const Json id = in.value("conversation_id", Json());
  if (!id.is_string() || !conversation_id_ok(id.get<std::string>())) {
    return text(c, MHD_HTTP_BAD_REQUEST, "conversation_id must be conv_ and 16 hex digits");
  }
  Json params = Json::object();
  params["conversation_id"] = id;
  const char* method = ctl_protocol::kEnd;
  if (url == "/api/post") {
    method = ctl_protocol::kPost;
    const Json message = in.value("message", Json());
    if (!message.is_string() || message.get<std::string>().empty()) {
      return text(c, MHD_HTTP_BAD_REQUEST, "message must be a non-empty string");
    }
    params["message"] = message;
    const Json action = in.value("action_type", Json());
    if (!action.is_null()) {
      if (!action.is_string()) return text(c, MHD_HTTP_BAD_REQUEST, "action_type must be a string");
      params["action_type"] = action;
    }
  }
  auto [status, result] = daemon_answer(options_.socket_dir, method, params);
  // The daemon carried the request out and refused it (expired, rate limited, unknown…).
  if (status == MHD_HTTP_BAD_GATEWAY) status = MHD_HTTP_CONFLICT;
  if (status == MHD_HTTP_OK) {
    std::lock_guard lock(cache_m_);
    cache_.clear();  // what the pages read next includes the change
  }
  return answer(c, status, dump(result), "application/json; charset=utf-8");
}

int Server::serve_events(MHD_Connection* c) {
  auto* ctx = new SseContext{&hub_, nullptr};
  ctx->stream = hub_.open([c] { MHD_suspend_connection(c); }, [c] { MHD_resume_connection(c); });
  // The page re-reads its state on `hello` (it comes again after every reconnect).
  ctx->stream->push("retry: 2000\n\n" + Hub::frame("hello", Json::object()));
  MHD_Response* r =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, &sse_read, ctx, &sse_free);
  if (!r) {
    sse_free(ctx);
    return MHD_NO;
  }
  secure(r);
  MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
  const MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ok;
}

}  // namespace cb::ctl::ui
