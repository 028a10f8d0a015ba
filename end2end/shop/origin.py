"""The protected shop of the end-to-end tests: answers every GET with a small page naming
the event (the path's second segment) and a checkout button, and appends one line per
request it serves to the log file given as its second argument, so a test can prove what
reached it.

Its checkout (POST /shop/<event>/checkout) is what a shop's own code does when the buyer is
done: it calls the room's checkout with the buyer's pass as the credential, which ends the
session and gives its slot to the next person at once.

    python3 origin.py PORT LOGFILE ROOM_URL
"""
import http.cookies
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PASS_COOKIE = "vestibule_pass"


class Shop(BaseHTTPRequestHandler):
    def event(self):
        parts = self.path.split("/")
        return parts[2] if len(parts) > 2 and parts[1] == "shop" else "-"

    def log(self):
        with open(sys.argv[2], "a", encoding="utf-8") as log:
            log.write(f"{self.command} {self.path}\n")

    def answer(self, status, body):
        body = body.encode()
        self.send_response(status)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.log()
        event = self.event()
        self.answer(
            200,
            f"<!doctype html><title>Shop</title><h1>The shop of {event}</h1>"
            f'<form method="post" action="/shop/{event}/checkout">'
            f'<button type="submit">Pay</button></form>',
        )

    def do_POST(self):
        self.log()
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        if not self.path.endswith("/checkout"):
            return self.answer(404, "no such page")
        cookies = http.cookies.SimpleCookie(self.headers.get("cookie") or "")
        morsel = cookies.get(PASS_COOKIE)
        request = urllib.request.Request(
            sys.argv[3] + "/api/waiting-room/checkout",
            method="POST",
            headers={"authorization": f"Bearer {morsel.value if morsel else ''}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                status = reply.status
        except urllib.error.HTTPError as e:
            status = e.code
        self.answer(
            200 if status == 200 else 502,
            f"<!doctype html><title>Paid</title><h1>Thank you</h1>"
            f'<p data-testid="checkout">room answered {status}</p>',
        )

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Shop).serve_forever()
