"""A local stand-in for SendGrid's v3 Mail Send API: records every request and answers as told."""

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: seconds between the bytes of an answer the stub takes its time over
TRICKLE = 0.2


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a provider takes many connections at once; the default 5 resets some of them


class SendGridStub:
    """`answers` is a queue of status codes (or `(status, headers)`) to give, in the order requests arrive, then
    202 for ever. Every request is kept, parsed, with its answer, as it arrives: a request the stub holds or
    delays counts as accepted even if its client dies waiting, the worst case for sending twice.

    While it holds or delays an answer, the stub sends its status line at once and the rest a byte every
    TRICKLE seconds, as a slow but steady provider does: a client's timeout bounds each wait for a byte, so it
    never fires, however long the answer takes."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: deque[int | tuple[int, dict[str, str]]] = deque()
        self.lock = threading.Lock()
        #: seconds to think before answering: a slow provider keeps a dispatcher mid-batch long enough to kill
        self.delay = 0.0
        #: answer this many requests, then hold the rest (counted in `held`) until `release` is set: a
        #: dispatcher stopped at a known point, whatever the machine's speed
        self.hold_after: int | None = None
        self.held = 0
        self.release = threading.Event()
        self.received = 0
        #: monotonic time each request arrived, in order
        self.arrivals: list[float] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                if len(raw) < length:  # the client died mid-request: nothing was sent, as with the real API
                    self.close_connection = True
                    return
                body = json.loads(raw or b"{}")
                status, headers, hold, number = stub._take(self.path, dict(self.headers), body)
                try:
                    self._answer(status, headers, hold, number)
                except OSError:  # the client died waiting: the provider accepted the message all the same
                    self.close_connection = True

            def _answer(self, status: int, headers: dict[str, str], hold: bool, number: int) -> None:
                if hold or stub.delay:
                    self.wfile.write(f"{self.protocol_version} {status} {self.responses[status][0]}\r\n".encode())
                    self.wfile.write(b"X-Stub-Waited: ")
                    while hold and not stub.release.wait(TRICKLE):
                        self.wfile.write(b".")
                    finish = time.monotonic() + stub.delay
                    while (left := finish - time.monotonic()) > 0:
                        time.sleep(min(TRICKLE, left))
                        self.wfile.write(b".")
                    self.wfile.write(b"\r\n")
                else:
                    self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
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

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _take(self, path: str, headers: dict, body: dict) -> tuple[int, dict[str, str], bool, int]:
        """Record a request as it arrives; its answer, its headers, whether to hold it, and its number."""
        with self.lock:
            self.received += 1
            self.arrivals.append(time.monotonic())
            hold = self.hold_after is not None and self.received > self.hold_after
            self.held += hold
            answer = self.answers.popleft() if self.answers else 202
            status, extra = answer if isinstance(answer, tuple) else (answer, {})
            self.requests.append({"path": path, "headers": headers, "body": body, "status": status})
            return status, extra, hold, len(self.requests)

    def __enter__(self) -> "SendGridStub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()  # nothing stays held once the test is over
        self.server.shutdown()
        self.server.server_close()

    def accepted_outbox_ids(self) -> list[int]:
        with self.lock:
            return [
                int(r["body"]["personalizations"][0]["custom_args"]["outbox_id"])
                for r in self.requests
                if r["status"] == 202
            ]
