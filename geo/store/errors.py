"""The store's errors: each is said to the user in one line."""
from __future__ import annotations


class StoreError(Exception):
    """A problem with the store, said in one line."""


class ArticleRefused(StoreError):
    """One article the store cannot keep (the others can still be written)."""


def first_line(exc: BaseException) -> str:
    """The first line of a driver's error (SQLAlchemy wraps it in `orig`), for a one-line message."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
