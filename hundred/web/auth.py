"""Who may use the print room: a password login with a signed session cookie, or a bearer token.

- The password comes from HUNDRED_PRINT_PASSWORD (hashed with scrypt at start-up; only the hash is
  kept) or HUNDRED_PRINT_PASSWORD_HASH (`scrypt$n$r$p$salt$hash`, made by
  `python -m hundred.web.auth`). Compared in constant time. No password and no token configured:
  nobody gets in (the page says how to set one).
- A session is a cookie `<payload>.<HMAC-SHA256>`: payload = session id and expiry, signed with
  HUNDRED_PRINT_SECRET (default: random per process). HttpOnly, SameSite=Strict, Secure over
  https. Logout revokes the session id (kept in memory until it would have expired anyway).
- CSRF: every form carries a per-session token (HMAC of the session id), checked on POST, and a
  POST whose Origin is present must be this site's own. The login form carries one too, bound to
  a short-lived pre-login cookie.
- `Authorization: Bearer <HUNDRED_PRINT_TOKEN>` for scripts (no cookie, so no CSRF to check).
- Failed logins: each waits a moment, and after 5 failures from one address (or 50 in all) within
  15 minutes the login answers 429 until the window passes, or until the operator runs
  `hundred letters unlock` (it writes HUNDRED_HOME/print-unlock; the throttle forgets every
  failure it counted when that file changes).
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import json
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SESSION_COOKIE = "hundred_print"
LOGIN_COOKIE = "hundred_login"
SESSION_SECONDS = 12 * 3600
LOGIN_SECONDS = 1800
WINDOW = 900.0
PER_CLIENT = 5
OVERALL = 50
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (base64url), for HUNDRED_PRINT_PASSWORD_HASH."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return "scrypt${n}${r}${p}$".format(**SCRYPT) + f"{_b64(salt)}${_b64(digest)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class PasswordHash:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, text: str) -> PasswordHash:
        parts = text.strip().split("$")
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError(
                "HUNDRED_PRINT_PASSWORD_HASH is not scrypt$n$r$p$salt$hash (make one with `python -m hundred.web.auth`)"
            )
        n, r, p = (int(x) for x in parts[1:4])
        if n < 2**10 or n > 2**20 or n & (n - 1) or not (1 <= r <= 32) or not (1 <= p <= 16):
            raise ValueError("HUNDRED_PRINT_PASSWORD_HASH has scrypt parameters out of range")
        return cls(n, r, p, _unb64(parts[4]), _unb64(parts[5]))

    def matches(self, password: str) -> bool:
        candidate = hashlib.scrypt(
            password.encode(),
            salt=self.salt,
            n=self.n,
            r=self.r,
            p=self.p,
            dklen=len(self.digest),
            maxmem=256 * 1024 * 1024,
        )
        return hmac.compare_digest(candidate, self.digest)


@dataclass
class Throttle:
    """Failed logins per client address and overall, in a sliding window."""

    window: float = WINDOW
    per_client: int = PER_CLIENT
    overall: int = OVERALL
    unlocked: Callable[[], str | None] | None = None  # the operator's unlock stamp (service.local)
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _all: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stamp: str | None = None

    def __post_init__(self) -> None:
        self._stamp = self.unlocked() if self.unlocked else None

    def _prune(self, queue: deque[float], now: float) -> None:
        while queue and queue[0] <= now - self.window:
            queue.popleft()

    def _check_unlock(self) -> None:
        """A new unlock stamp since the last look: forget every failure counted so far."""
        if self.unlocked is None:
            return
        stamp = self.unlocked()
        if stamp is not None and stamp != self._stamp:
            self._stamp = stamp
            self._failures.clear()
            self._all.clear()

    def retry_after(self, client: str) -> int:
        """Seconds until this client may try again (0: now)."""
        now = time.monotonic()
        with self._lock:
            self._check_unlock()
            mine = self._failures.get(client, deque())
            self._prune(mine, now)
            self._prune(self._all, now)
            waits = []
            if len(mine) >= self.per_client:
                waits.append(mine[0] + self.window - now)
            if len(self._all) >= self.overall:
                waits.append(self._all[0] + self.window - now)
            return int(max(waits)) + 1 if waits else 0

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._failures.setdefault(client, deque()).append(now)
            self._all.append(now)
            if len(self._failures) > 10_000:  # bound memory under a spray of addresses
                for key in [k for k, q in self._failures.items() if not q or q[-1] <= now - self.window]:
                    del self._failures[key]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class Auth:
    """Checks passwords, tokens, sessions and CSRF tokens for one web app."""

    def __init__(
        self,
        *,
        password: str | None = None,
        password_hash: str | None = None,
        token: str | None = None,
        secret: str | None = None,
        unlocked: Callable[[], str | None] | None = None,
    ):
        """`unlocked` reads the operator's unlock stamp (`hundred letters unlock`), if any."""
        self._hash = (
            PasswordHash.parse(password_hash)
            if password_hash
            else (PasswordHash.parse(hash_password(password)) if password else None)
        )
        self._token = hashlib.sha256(token.encode()).digest() if token else None
        self._key = hashlib.sha256(
            b"hundred-print:" + (secret.encode() if secret else secrets.token_bytes(32))
        ).digest()
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()
        self.throttle = Throttle(unlocked=unlocked)

    @property
    def configured(self) -> bool:
        return self._hash is not None or self._token is not None

    @property
    def has_password(self) -> bool:
        return self._hash is not None

    def password_ok(self, password: str) -> bool:
        if self._hash is None or len(password) > 1024:
            return False
        return self._hash.matches(password)

    def token_ok(self, token: str) -> bool:
        if self._token is None or not token:
            return False
        return hmac.compare_digest(hashlib.sha256(token.encode()).digest(), self._token)

    # -- signed values -------------------------------------------------------------------------

    def _sign(self, purpose: str, payload: dict[str, Any]) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        mac = hmac.new(self._key, f"{purpose}.{body}".encode(), hashlib.sha256).digest()
        return f"{body}.{_b64(mac)}"

    def _unsign(self, purpose: str, value: str | None) -> dict[str, Any] | None:
        if not value or len(value) > 512 or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        expected = _b64(hmac.new(self._key, f"{purpose}.{body}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(mac, expected):
            return None
        try:
            payload = json.loads(_unb64(body))
        except ValueError:
            return None
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("exp"), (int, float))
            or payload["exp"] < time.time()
            or not isinstance(payload.get("sid"), str)
        ):
            return None
        return payload

    # -- sessions and CSRF ---------------------------------------------------------------------

    def new_session(self) -> str:
        return self._sign("session", {"sid": secrets.token_urlsafe(18), "exp": int(time.time()) + SESSION_SECONDS})

    def session_id(self, cookie: str | None) -> str | None:
        payload = self._unsign("session", cookie)
        if payload is None:
            return None
        sid: str = payload["sid"]  # _unsign checked it is a str
        with self._lock:
            if sid in self._revoked:
                return None
        return sid

    def revoke(self, cookie: str | None) -> None:
        payload = self._unsign("session", cookie)
        if payload is None:
            return
        now = time.time()
        with self._lock:
            self._revoked = {sid: exp for sid, exp in self._revoked.items() if exp > now}
            self._revoked[payload["sid"]] = payload["exp"]

    def csrf_token(self, sid: str) -> str:
        return _b64(hmac.new(self._key, f"csrf.{sid}".encode(), hashlib.sha256).digest())

    def csrf_ok(self, sid: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(sid))

    def new_login_nonce(self) -> str:
        return self._sign("login", {"sid": secrets.token_urlsafe(12), "exp": int(time.time()) + LOGIN_SECONDS})

    def login_nonce_id(self, cookie: str | None) -> str | None:
        payload = self._unsign("login", cookie)
        return payload["sid"] if payload else None


def main() -> int:
    """`python -m hundred.web.auth`: read a password (twice) and print its HUNDRED_PRINT_PASSWORD_HASH."""
    if sys.stdin.isatty():
        first, second = getpass.getpass("Print room password: "), getpass.getpass("Again: ")
        if first != second:
            print("the two passwords differ", file=sys.stderr)
            return 1
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < 8:
        print("use at least 8 characters", file=sys.stderr)
        return 1
    print(hash_password(first))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
