"""Who may do what in a hosted team dashboard: users, roles, passwords and the sign-in guard.

Team mode is configuration, in `.streamlit/secrets.toml`:

    [auth]                        # optional: Streamlit's OpenID Connect sign-in (st.login)
    redirect_uri = "https://atlas.example.org/oauth2callback"
    cookie_secret = "..."
    client_id = "..."
    client_secret = "..."
    server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"

    [atlas]                       # this project's section
    default_role = "viewer"       # for OIDC users not listed under [atlas.roles]
    max_failed_attempts = 5       # password sign-in: failures from one address before it is locked
    lockout_minutes = 15          # out this long (a user name is only slowed down, see SignInGuard)

    [atlas.roles]                 # OIDC users by e-mail
    "ana@example.org" = "admin"

    [atlas.users.ana]             # named users for teams without an identity provider
    password = "$argon2id$v=19$..."   # `python -m geo user add ana --role editor` prints this block
    role = "editor"

With either sign-in configured, nobody sees data before signing in. Roles: a `viewer` sees the map, the
filters and exports; an `editor` also adds articles and corrects incidents; an `admin` also sets users'
roles, deletes articles and undoes changes. The store refuses a write the role may not make.
"""
from __future__ import annotations

import functools
import math
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ROLES = ("viewer", "editor", "admin")
ABILITIES = {
    "viewer": frozenset({"view", "export"}),
    "editor": frozenset({"view", "export", "add", "correct"}),
    "admin": frozenset({"view", "export", "add", "correct", "delete", "undo", "roles"}),
}


class PermissionDenied(Exception):
    """A user tried something their role does not allow."""


@dataclass(frozen=True)
class User:
    name: str
    role: str = "viewer"

    def can(self, ability: str) -> bool:
        return ability in ABILITIES.get(self.role, frozenset())

    def require(self, ability: str) -> None:
        if not self.can(ability):
            raise PermissionDenied(f"{self.name} ({self.role}) may not {ability}; ask an admin for another role")


LOCAL = User("local", "admin")  # the command line and the single-user dashboard on one's own machine


def _hasher():
    from argon2 import PasswordHasher
    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash to store instead of the password."""
    if len(password) < 8:
        raise ValueError("a password needs 8 characters at least")
    return _hasher().hash(password)


def verify_password(hashed: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError
    try:
        return _hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def toml_key(name: str) -> str:
    """`name` as one TOML key: bare when it may be, else quoted (`j.doe` bare would be two nested tables)."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def user_entry(name: str, role: str, password: str) -> str:
    """The block of secrets.toml that declares a named user."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError("a user name is letters, digits, '-', '_' or '.'")
    return f'[atlas.users.{toml_key(name)}]\npassword = "{hash_password(password)}"\nrole = "{role}"\n'


@dataclass
class AuthConfig:
    oidc: bool = False                                # an [auth] section for st.login
    users: dict[str, dict[str, str]] = field(default_factory=dict)   # name -> {password, role}
    roles: dict[str, str] = field(default_factory=dict)              # OIDC e-mail -> role
    default_role: str = "viewer"
    max_failed_attempts: int = 5
    lockout_minutes: float = 15.0

    @property
    def enabled(self) -> bool:
        return self.oidc or bool(self.users)

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, Any]) -> "AuthConfig":
        try:
            atlas = dict(secrets.get("atlas", {}) or {})
            oidc = "auth" in secrets and bool(secrets["auth"])
        except FileNotFoundError:  # no secrets.toml at all: single-user mode
            return cls()
        users = {str(k): dict(v) for k, v in dict(atlas.get("users", {}) or {}).items()}
        for name, entry in users.items():
            if entry.get("role", "viewer") not in ROLES or not str(entry.get("password", "")).startswith("$argon2"):
                raise ValueError(f"[atlas.users.{toml_key(name)}] needs an argon2 password hash and a role in {ROLES}")
        default_role = str(atlas.get("default_role", "viewer"))
        if default_role not in ROLES:
            raise ValueError(f"[atlas] default_role must be one of {ROLES}")
        return cls(oidc=oidc, users=users, roles={str(k).lower(): str(v) for k, v in
                                                  dict(atlas.get("roles", {}) or {}).items()},
                   default_role=default_role, max_failed_attempts=int(atlas.get("max_failed_attempts", 5)),
                   lockout_minutes=float(atlas.get("lockout_minutes", 15)))

    def oidc_user(self, email: str | None, name: str | None = None) -> User:
        who = (email or name or "unknown").lower()
        return User(email or name or "unknown", self.roles.get(who, self.default_role))


FIRST_SLOWDOWN_SECONDS = 5.0   # a user name's wait after `max_failed_attempts` failures, doubling after each
MAX_SLOWDOWN_SECONDS = 60.0


@functools.cache
def _dummy_hash() -> str:
    """What an unknown name's password is checked against, so refusing it takes as long as a known one."""
    return _hasher().hash(secrets.token_urlsafe(16))


class SignInGuard:
    """Password sign-in, guarded against guessing. Each attempt is checked and counted in one step (a
    write transaction of the store, so every server process sees the same counts and parallel guesses
    cannot all pass the check); it counts as a failure until the password is found right.

    Failures count per client address and per user name. An address with `max_failed` failures in the
    last `lockout` minutes is locked out; a user name only slows down (a wait that doubles with each
    failure, from 5 s to a minute), so nobody can lock the real user out by guessing wrong on purpose.
    Unknown names are checked against a dummy hash: they take as long to refuse as known ones. Without
    a writable store (a GeoParquet dataset) the counts stay in this process's memory."""

    def __init__(self, config: AuthConfig, store: Any = None) -> None:
        self.config = config
        self.store = None if store is None or getattr(store, "read_only", False) else store
        self._failures: list[tuple[str, str, float]] = []   # (name, address, at) without a store
        self._lock = threading.Lock()

    def sign_in(self, name: str, password: str, address: str | None = None) -> User | None:
        """The user, or None (a wrong name and a wrong password fail alike). Raises PermissionDenied
        while the address is locked out or the name must wait."""
        name = name.strip()
        address = address if isinstance(address, str) and address else "unknown"  # not every server says
        self._check_and_count(name, address)
        entry = self.config.users.get(name)
        right = verify_password(entry["password"] if entry else _dummy_hash(), password)
        if not (entry and right):
            return None
        if self.store is not None:
            self.store.forget_sign_in_failures(name)
        else:
            with self._lock:
                self._failures = [f for f in self._failures if f[0] != name]
        return User(name, entry.get("role", "viewer"))

    def _check_and_count(self, name: str, address: str) -> None:
        window = self.config.lockout_minutes * 60
        if self.store is not None:
            self.store.count_sign_in(name, address, window, functools.partial(self._refuse, name))
            return
        with self._lock:
            now = time.time()
            self._failures = [f for f in self._failures if now - f[2] < window]
            self._refuse(name, [f[2] for f in self._failures if f[0] == name],
                         [f[2] for f in self._failures if f[1] == address], now)
            self._failures.append((name, address, now))

    def _refuse(self, name: str, by_name: list[float], by_address: list[float], now: float) -> None:
        """Raise PermissionDenied when an attempt must not be checked now (times in epoch seconds)."""
        limit = self.config.max_failed_attempts
        if len(by_address) >= limit:
            wait = self.config.lockout_minutes * 60 - (now - min(by_address))
            raise PermissionDenied(f"too many failed sign-ins from your address; try again in "
                                   f"{int(wait // 60) + 1} min")
        if len(by_name) >= limit:
            slowdown = min(FIRST_SLOWDOWN_SECONDS * 2.0 ** min(len(by_name) - limit, 16), MAX_SLOWDOWN_SECONDS)
            wait = slowdown - (now - max(by_name))
            if wait > 0:
                raise PermissionDenied(f"too many failed sign-ins for {name!r}; wait {math.ceil(wait)} s and "
                                       "try again")
