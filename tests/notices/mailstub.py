"""A local stand-in for SendGrid's v3 Mail Send API: records every request and answers as told."""

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SendGridStub:
    """`answers` is a queue of status codes to give, then 202 for ever. Every request is kept, parsed."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: deque[int] = deque()
        self.lock = threading.Lock()
        #: seconds to think before answering: a slow provider keeps a dispatcher mid-batch long enough to kill
        self.delay = 0.0
        #: answer this many requests, then hold the rest (counted in `held`) until `release` is set: a
        #: dispatcher stopped at a known point, whatever the machine's speed
        self.hold_after: int | None = None
        self.held = 0
        self.release = threading.Event()
        self.received = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                if len(raw) < length:  # the client died mid-request: nothing was sent, as with the real API
                    self.close_connection = True
                    return
                body = json.loads(raw or b"{}")
                with stub.lock:
                    stub.received += 1
                    hold = stub.hold_after is not None and stub.received > stub.hold_after
                    stub.held += hold
                if hold:
                    stub.release.wait()
                time.sleep(stub.delay)
                with stub.lock:
                    status = stub.answers.popleft() if stub.answers else 202
                    stub.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body, "status": status}
                    )
                    number = len(stub.requests)
                self.send_response(status)
                if status == 202:
                    self.send_header("X-Message-Id", f"stub-{number}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = json.dumps({"errors": [{"message": f"stub answered {status}", "field": "from"}]}).encode()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SendGridStub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accepted_outbox_ids(self) -> list[int]:
        with self.lock:
            return [
                int(r["body"]["personalizations"][0]["custom_args"]["outbox_id"])
                for r in self.requests
                if r["status"] == 202
            ]
