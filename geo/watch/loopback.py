"""Feeds, pages and a webhook receiver served on loopback, for the watch benchmark and tests: real HTTP
(ETag and 304, failures on demand, a receiver that can be taken down and brought back), nothing outside
127.0.0.1."""
from __future__ import annotations

import hashlib
import html
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARTICLES = {
    "chaman": "Clashes near the Chaman border crossing in Pakistan killed four people and wounded three on Monday, "
              "officials said.",
    "kandahar": "A roadside bomb exploded in Kandahar, Afghanistan on Tuesday, killing two soldiers and wounding "
                "five, police said.",
    "goma": "Rebels attacked the town of Goma in the Democratic Republic of Congo on Wednesday, killing six "
            "civilians, local officials said.",
    "quetta": "Protesters clashed with police in Quetta, Pakistan on Thursday; one protester was killed and 12 were "
              "wounded, witnesses said.",
    "chaman-toll": "The death toll from Monday's clashes near the Chaman border crossing in Pakistan rose to nine, "
                   "with three wounded, officials said on Tuesday.",
}
PUBLISHED = {"chaman-toll": "2026-12-01"}


def page(name: str) -> bytes:
    text = ARTICLES[name]
    day = PUBLISHED.get(name, "2026-11-30")
    return (f"<html><head><title>{html.escape(name)}</title></head><body><article><h1>Report {html.escape(name)}</h1>"
            f"<p>Published: {day}</p><p>{html.escape(text)}</p><p>More details were not immediately available "
            f"from the authorities in the area, residents told reporters.</p></article></body></html>").encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class FeedServer:
    """Feeds at /feed/NAME.xml listing pages at /item/NAME.html; `items[feed]` may grow between polls (or
    by a POST of an item name to the feed's URL, from another process)."""

    port: int = 0
    items: dict[str, list[str]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)      # feed -> how many requests fail with 500
    log: list[tuple[str, int]] = field(default_factory=list)    # (path, status) of every request

    def start(self) -> "FeedServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, body, headers = server.answer(self.path, self.headers.get("If-None-Match"))
                server.log.append((self.path, status))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                feed = self.path[len("/feed/"):].removesuffix(".xml")
                server.items.setdefault(feed, []).append(self.rfile.read(int(self.headers["Content-Length"])).decode())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def feed_url(self, feed: str) -> str:
        return self.url(f"/feed/{feed}.xml")

    def answer(self, path: str, etag: str | None):
        if path.startswith("/item/"):
            name = path[len("/item/"):].removesuffix(".html")
            return (200, page(name), {"Content-Type": "text/html"}) if name in ARTICLES else (404, b"", {})
        feed = path[len("/feed/"):].removesuffix(".xml")
        if feed not in self.items:
            return 404, b"", {}
        if self.failures.get(feed, 0) > 0:
            self.failures[feed] -= 1
            return 500, b"down", {}
        body = self.rss(feed)
        tag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if etag == tag:
            return 304, b"", {"ETag": tag}
        return 200, body, {"Content-Type": "application/rss+xml", "ETag": tag}

    def rss(self, feed: str) -> bytes:
        stamp = format_datetime(datetime(2026, 11, 30, 12, tzinfo=timezone.utc))
        entries = "".join(f"<item><title>Report {n}</title><link>{self.url(f'/item/{n}.html')}</link>"
                          f"<guid>{feed}-{n}</guid><pubDate>{stamp}</pubDate></item>"
                          for n in reversed(self.items[feed]))   # newest first, as feeds are
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{feed}</title><link>{self.url("/")}</link>'
                f"<description>test feed</description>{entries}</channel></rss>").encode()

    def statuses(self, feed: str) -> list[int]:
        return [status for path, status in self.log if path == f"/feed/{feed}.xml"]


@dataclass
class WebhookReceiver:
    """Records JSON POSTs; `down()` closes its port (connection refused), `up()` listens on it again."""

    port: int = field(default_factory=free_port)
    bodies: list[dict] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)
    httpd: ThreadingHTTPServer | None = None

    def up(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.bodies.append(json.loads(body))
                receiver.received.set()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


def serve_feeds(feeds: list[str], port: int) -> None:
    """A FeedServer with these (empty) feeds until the process is ended: the benchmark runs it in another
    process, so its work is not counted as the watcher's."""
    FeedServer(port, {feed: [] for feed in feeds}).start()
    threading.Event().wait()
