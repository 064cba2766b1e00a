"""Space apps for tests: plain Python scripts that the real local runner starts.

A gradio Space's environment runs `python app.py` with `GRADIO_SERVER_PORT` set, as it would a
Gradio app; these scripts serve HTTP on that port with the standard library alone, so they
start at once. What the tests are about is what the hub does around the app: stages, logs,
the supervisor, sleep and wake. `SERVING_APP` answers its greeting, a file of its working dir
(`/files/<path>`), or its own `/proc/self/status` (`/status`: its users and capabilities).
"""

from __future__ import annotations

SERVING_APP = b"""import http.server, os, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/exit":
            print("asked to exit", flush=True)
            os._exit(4)
        if self.path == "/status":
            with open("/proc/self/status", "rb") as file:
                body = file.read()
        elif self.path.startswith("/files/"):
            with open(self.path.removeprefix("/files/"), "rb") as file:
                body = file.read()
        else:
            body = os.environ.get("GREETING", "hello").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        print("request", self.path, flush=True)

print("app starting", flush=True)
address = ("127.0.0.1", int(os.environ["GRADIO_SERVER_PORT"]))
http.server.ThreadingHTTPServer(address, Handler).serve_forever()
"""

CRASHING_APP = b"""print("app starting", flush=True)
raise SystemExit("boom: the app cannot start")
"""
