"""Stand-in for gunicorn on 127.0.0.1:8000: JSON answers, with the headers Django sends."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Django's SecurityMiddleware/XFrameOptionsMiddleware (and a future CSP middleware) send
# these; nginx must hide them so that each header reaches the client exactly once.
APP_HEADERS = {
    "Strict-Transport-Security": "max-age=60",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "unsafe-none",
    "Content-Security-Policy": "default-src *",
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/monitoring/health/":
            payload = {"status": "ok", "backend": "molecule"}
        else:
            payload = {
                "path": self.path,
                "host": self.headers.get("Host"),
                "x_forwarded_proto": self.headers.get("X-Forwarded-Proto"),
                "x_real_ip": self.headers.get("X-Real-IP"),
            }
        body = json.dumps(payload, sort_keys=True).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in APP_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", 8000), Handler).serve_forever()
