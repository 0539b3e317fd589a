"""Real servers on loopback for the watch tests: feeds and pages over HTTP (ETag, 304, failures), a webhook
receiver that can be taken down and brought back, and an SMTP server (aiosmtpd)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from geo.watch.loopback import ARTICLES, FeedServer, WebhookReceiver, free_port, page  # noqa: F401 (re-exported)


class SmtpSink:
    """An SMTP server on loopback (aiosmtpd) keeping the messages it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller
        self.messages: list = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import email
                import email.policy
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                sink.messages.append((envelope.rcpt_tos, message))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


@pytest.fixture
def watch_url(store_url):
    """The store URL, with the watch tables of an earlier PostGIS test dropped."""
    if store_url.startswith("postgresql"):
        from geo.watch import tables
        engine = sa.create_engine(store_url)
        tables.metadata.drop_all(engine)
        engine.dispose()
    return store_url


@pytest.fixture
def feeds():
    server = FeedServer().start()
    yield server
    server.stop()


class Clock:
    """A watcher's clock that tests move by hand, so backoff and retry delays take no real time."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def at_once(work, items: list) -> list:
    """`work(item)` for every item, in threads that start together; the results (in finishing order)."""
    import threading
    start, results = threading.Barrier(len(items)), []

    def run(item):
        start.wait(timeout=10)
        results.append(work(item))
    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results
