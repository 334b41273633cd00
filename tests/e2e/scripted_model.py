"""A scripted model for driving the real Claude Code offline: an HTTP server on 127.0.0.1 that
speaks enough of the Anthropic Messages API (`POST /v1/messages`, streaming or not, and
`count_tokens`) for `claude -p`, used through ANTHROPIC_BASE_URL with a key made at test time.

Every request body is kept (`requests`, in arrival order), so a test can see what Claude Code
sent the model: the tools it listed, the context its hooks added, the tool results. A test waits
for a request with `wait_request` (a condition variable: no polling, no sleeps).

What the model answers:
- the first rule added with `on(when, reply)` whose `when(body)` holds and that has uses left
  (rules are tried in the order they were added; each is used `times` times, default once);
- else the next of `replies` (the constructor's queue of plain texts);
- else "ok".
A reply is a text (str), a block (`tool_use(...)` or a text block), or a list of blocks. A reply
holding a tool_use block ends with stop_reason "tool_use", as the real API does; Claude Code then
runs the tool and sends its tool_result in the next request (see `tail`). A rule's `gate` (a
threading.Event) holds its answer until the test sets it, so a test can act while Claude Code is
busy waiting for the model.

The streamed shape is the one Claude Code 2.1.330 parses (its bundled stream reader): message_start;
per block content_block_start (tool_use with `input: {}`, then input_json_delta events whose
`partial_json` pieces concatenate to the input's JSON; text with `text: ""`, then text_delta),
content_block_stop; message_delta with the stop_reason; message_stop.
"""
import http.server
import itertools
import json
import threading


def tool_use(name, input=None):
    """A tool_use block asking Claude Code to call `name` (for MCP tools, `mcp__SERVER__TOOL`)
    with `input`; the model gives it an id when it sends it."""
    return {"type": "tool_use", "name": name, "input": dict(input or {})}


def strings(value):
    """Every string inside a JSON value, depth first (the text a request carries, unescaped)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


class When:
    """A named condition on a request body (its name shows in a failed wait's message)."""

    def __init__(self, name, pred):
        self.name, self.pred = name, pred

    def __call__(self, body):
        return self.pred(body)

    def __repr__(self):
        return self.name


def contains(text):
    """when(): the request carries `text` anywhere (system prompt, messages, tools)."""
    return When(f"contains({text!r})", lambda body: any(text in s for s in strings(body)))


def tail(body):
    """The messages after the model's last reply in this request: what Claude Code added since
    (the user's prompt, tool results, hook context). Claude Code 2.1.330 sends messages of role
    "system" too (its environment section, for one), so this is not only the last user message."""
    messages = body.get("messages") or []
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    return messages[last + 1:]


def blocks(messages):
    """The content blocks of `messages` in order (a plain string becomes one text block)."""
    out = []
    for m in messages:
        content = m.get("content")
        out += [{"type": "text", "text": content}] if isinstance(content, str) else content or []
    return out


def tail_contains(text):
    """when(): what Claude Code added since the model's last reply carries `text`."""
    return When(f"tail_contains({text!r})",
                lambda body: any(text in s for s in strings(tail(body))))


def tool_result_text(block):
    """The text of a tool_result block (its content is a string or a list of text blocks)."""
    content = block.get("content")
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content or [] if b.get("type") == "text")


class ScriptedModel:
    def __init__(self, replies=()):
        self.replies = list(replies)
        self.requests = []
        self.rules = []
        self.tool_names = {}  # tool_use id -> tool name, for every tool_use the model sent
        self.ids = itertools.count(1)
        self.cond = threading.Condition()
        model = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(n) or b"{}")
                if "count_tokens" in self.path:
                    return self.send(200, "application/json", {"input_tokens": 1})
                content = model.answer(body)
                stop = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
                message = {"id": "msg_scripted_%d" % next(model.ids), "type": "message",
                           "role": "assistant", "model": body.get("model", "scripted"),
                           "content": [], "stop_reason": None, "stop_sequence": None,
                           "usage": {"input_tokens": 1, "output_tokens": 1}}
                if not body.get("stream"):
                    message["content"] = content
                    message["stop_reason"] = stop
                    return self.send(200, "application/json", message)
                self.send(200, "text/event-stream", sse(message, content, stop))

            def send(self, code, kind, payload):
                out = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def on(self, when, reply, times=1, gate=None):
        """Answers requests for which when(body) holds with `reply` (see the module's text);
        returns the rule, whose `used` counts the requests it answered."""
        rule = {"when": when, "reply": reply, "left": times, "gate": gate, "used": 0}
        with self.cond:
            self.rules.append(rule)
        return rule

    def answer(self, body):
        """Keeps `body`, picks its reply, and gives each tool_use block an id; returns the
        content blocks to send."""
        with self.cond:
            self.requests.append(body)
            self.cond.notify_all()
            rule = next((r for r in self.rules if r["left"] > 0 and r["when"](body)), None)
            if rule:
                rule["left"] -= 1
                rule["used"] += 1
                reply = rule["reply"]
            else:
                reply = self.replies.pop(0) if self.replies else "ok"
        if rule and rule["gate"] is not None:
            rule["gate"].wait(600)  # the test sets it; bounded so a failed test cannot hang us
        if callable(reply):
            reply = reply(body)
        content = []
        for block in reply if isinstance(reply, list) else [reply]:
            if isinstance(block, str):
                block = {"type": "text", "text": block}
            block = dict(block)
            if block["type"] == "tool_use":
                block["id"] = "toolu_scripted_%d" % next(self.ids)
                with self.cond:
                    self.tool_names[block["id"]] = block["name"]
            content.append(block)
        return content

    def wait_request(self, when, after=0, timeout=300):
        """The first request from index `after` on for which when(body) holds (a str means
        `contains(str)`), as (index, body); waits for it to arrive (AssertionError after
        `timeout` seconds, naming what it waited for and what did arrive)."""
        pred = contains(when) if isinstance(when, str) else when
        with self.cond:
            found = self.cond.wait_for(
                lambda: next((i for i in range(after, len(self.requests))
                              if pred(self.requests[i])), None) is not None, timeout)
            if not found:
                raise AssertionError(
                    "no model request matching %r arrived from #%d within %ss; what came "
                    "after the model's last reply in those that did: %s"
                    % (when, after, timeout, [tail(b) for b in self.requests[after:]]))
            i = next(i for i in range(after, len(self.requests)) if pred(self.requests[i]))
            return i, self.requests[i]

    def count(self):
        with self.cond:
            return len(self.requests)

    def tool_results(self, body, name=None):
        """The tool_result blocks Claude Code added since the model's last reply, for tool
        `name` (the full tool name the model used) or for any tool."""
        return [b for b in blocks(tail(body)) if b.get("type") == "tool_result"
                and (name is None or self.tool_names.get(b.get("tool_use_id")) == name)]

    def after_tool(self, name):
        """when(): the request answers the model's call of tool `name` (a tool_result for it
        since the model's last reply)."""
        return When(f"after_tool({name!r})", lambda body: bool(self.tool_results(body, name)))

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        # A reply still held by a gate ends once its client has gone; nothing else keeps
        # running: the handler threads are daemon threads.


def sse(message, content, stop):
    """The server-sent events of one streamed reply (see the module's text for the shape)."""
    events = [("message_start", {"type": "message_start", "message": message})]
    for i, block in enumerate(content):
        if block["type"] == "tool_use":
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            raw = json.dumps(block["input"])
            # Two pieces, as the real API streams it in fragments: the reader must join them.
            half = len(raw) // 2
            deltas = [{"type": "input_json_delta", "partial_json": p}
                      for p in (raw[:half], raw[half:])]
        else:
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": block["text"]}]
        events.append(("content_block_start",
                       {"type": "content_block_start", "index": i, "content_block": start}))
        events += [("content_block_delta", {"type": "content_block_delta", "index": i,
                                            "delta": d}) for d in deltas]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    events += [
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": stop, "stop_sequence": None},
                           "usage": {"output_tokens": 1}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return b"".join(f"event: {e}\ndata: {json.dumps(d)}\n\n".encode() for e, d in events)
