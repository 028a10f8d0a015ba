"""The protected shop of the end-to-end tests: answers every GET with a small page naming
the event (the path's second segment) and appends one line per request it serves to the
log file given as its second argument, so a test can prove what reached it.

    python3 origin.py PORT LOGFILE
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Shop(BaseHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.split("/")
        event = parts[2] if len(parts) > 2 and parts[1] == "shop" else "-"
        body = f"<!doctype html><title>Shop</title><h1>The shop of {event}</h1>".encode()
        with open(sys.argv[2], "a", encoding="utf-8") as log:
            log.write(f"{self.command} {self.path}\n")
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Shop).serve_forever()
