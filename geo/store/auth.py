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
    max_failed_attempts = 5       # password sign-in: attempts before a lock-out...
    lockout_minutes = 15          # ...of this long

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


def user_entry(name: str, role: str, password: str) -> str:
    """The block of secrets.toml that declares a named user."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError("a user name is letters, digits, '-', '_' or '.'")
    return f'[atlas.users.{name}]\npassword = "{hash_password(password)}"\nrole = "{role}"\n'


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
                raise ValueError(f"[atlas.users.{name}] needs an argon2 password hash and a role in {ROLES}")
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


class SignInGuard:
    """Password sign-in with a limit on failed attempts per user name (shared by every session of the
    server process): after `max_failed` failures the name is locked for `lockout` seconds."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def locked_for(self, name: str) -> float:
        """Seconds the name stays locked (0 when it may try)."""
        window = self.config.lockout_minutes * 60
        with self._lock:
            recent = [t for t in self._failures.get(name, []) if time.time() - t < window]
            self._failures[name] = recent
            if len(recent) >= self.config.max_failed_attempts:
                return window - (time.time() - recent[0])
        return 0.0

    def sign_in(self, name: str, password: str) -> User | None:
        """The user, or None (a wrong name and a wrong password fail alike). Raises PermissionDenied
        while the name is locked."""
        name = name.strip()
        wait = self.locked_for(name)
        if wait > 0:
            raise PermissionDenied(f"too many failed sign-ins for {name!r}; try again in {int(wait // 60) + 1} min")
        entry = self.config.users.get(name)
        if entry and verify_password(entry["password"], password):
            with self._lock:
                self._failures.pop(name, None)
            return User(name, entry.get("role", "viewer"))
        with self._lock:
            self._failures.setdefault(name, []).append(time.time())
        return None
