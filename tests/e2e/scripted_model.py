"""A scripted model for driving the real Claude Code offline: an HTTP server on 127.0.0.1 that
speaks enough of the Anthropic Messages API (`POST /v1/messages`, streaming or not, and
`count_tokens`) for `claude -p`, used through ANTHROPIC_BASE_URL with a key made at test time.

Every request body is kept (`requests`), so a test can see what Claude Code sent the model:
the tools it listed, the context it added. Each turn answers with the next of `replies` (plain
text), then "ok".
"""
import http.server
import json
import threading


class ScriptedModel:
    def __init__(self, replies=()):
        self.replies = list(replies)
        self.requests = []
        self.lock = threading.Lock()
        model = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(n) or b"{}")
                if "count_tokens" in self.path:
                    return self.send(200, "application/json", {"input_tokens": 1})
                with model.lock:
                    model.requests.append(body)
                    text = model.replies.pop(0) if model.replies else "ok"
                message = {"id": "msg_scripted", "type": "message", "role": "assistant",
                           "model": body.get("model", "scripted"), "content": [],
                           "stop_reason": None, "stop_sequence": None,
                           "usage": {"input_tokens": 1, "output_tokens": 1}}
                if not body.get("stream"):
                    message["content"] = [{"type": "text", "text": text}]
                    message["stop_reason"] = "end_turn"
                    return self.send(200, "application/json", message)
                events = [
                    ("message_start", {"type": "message_start", "message": message}),
                    ("content_block_start", {"type": "content_block_start", "index": 0,
                                             "content_block": {"type": "text", "text": ""}}),
                    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                             "delta": {"type": "text_delta", "text": text}}),
                    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                    ("message_delta", {"type": "message_delta",
                                       "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                       "usage": {"output_tokens": 1}}),
                    ("message_stop", {"type": "message_stop"}),
                ]
                out = b"".join(f"event: {e}\ndata: {json.dumps(d)}\n\n".encode() for e, d in events)
                self.send(200, "text/event-stream", out)

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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
