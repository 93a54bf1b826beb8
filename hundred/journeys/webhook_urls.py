"""Is a webhook URL safe to call? Refuse loopback, link-local (cloud metadata), private and internal hosts.

A journey is written by a marketer but its webhooks are called from the server that runs hundred,
inside its network: `http://169.254.169.254/` would read the cloud's metadata (credentials),
`http://localhost:5432/` would poke the database. Two checks, one rule:

- `check_webhook_url(url, allow_private)`: pure, no network; `hundred validate` runs it on every
  webhook touch. It looks at the host as written: IP literals in every spelling a resolver accepts
  (`127.1`, `0x7f000001`, `2130706433`, `[::ffff:127.0.0.1]`) and names such as `localhost`,
  `*.localhost`, `*.internal`, `*.local`.
- `check_resolved_webhook_url(url, allow_private)`: the same, then resolves the host name and checks
  every address it resolves to; the webhook channel calls it just before sending (a public name can
  point at a private address). Never called by validate: no DNS there.

`allow_private` comes from the setting HUNDRED_ALLOW_PRIVATE_WEBHOOKS (`allow_private_webhooks()`),
for receivers on the company's own network. Both functions return the reason a URL is refused, or
None when it may be called.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

ENV = "HUNDRED_ALLOW_PRIVATE_WEBHOOKS"
INTERNAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".intranet", ".corp", ".lan")
_NUMERIC_V4 = re.compile(r"^(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+)){0,3}$")
_HOST_CHARS = re.compile(r"^[^\s/\\@%?#:\[\]]+$")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def allow_private_webhooks(environ: Mapping[str, str] | None = None) -> bool:
    """The setting as pydantic-settings reads a bool: 1/true/yes/on (any case) allow private hosts."""
    value = (os.environ if environ is None else environ).get(ENV, "")
    return value.strip().lower() in ("1", "true", "yes", "on", "y", "t")


def address_kind(address: Address) -> str | None:
    """What kind of non-public address this is ("a loopback address (this machine)"), or None when public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and address_kind(embedded):
            return f"{embedded} written as IPv6: {address_kind(embedded)}"
    if address.is_unspecified:
        return "the unspecified address (this machine)"
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_link_local:
        return "a link-local address (where cloud metadata with credentials lives)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private network address"
    if not address.is_global:
        return "not a public internet address"
    return None


def address_reason(address: Address) -> str | None:
    kind = address_kind(address)
    return f"{address} is {kind}" if kind else None


def _literal(host: str) -> Address | None:
    """The host as an IP address when it is one, in any spelling inet_aton accepts."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_V4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _host(url: str) -> tuple[str | None, str | None]:
    """(host, None) for a well-formed http(s) URL, else (None, reason)."""
    if not isinstance(url, str) or any(ord(c) < 33 or c == "\x7f" for c in url):
        return None, "it holds spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises for a bad port)
    except ValueError as exc:
        return None, f"it is not a valid web address ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return None, "it does not start with https:// or http://"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return None, "it names no host"
    if parts.username is not None or parts.password is not None:
        return None, "it holds a user name or password; put the secret in secret_env instead"
    if not host.startswith("[") and ":" not in host and not _HOST_CHARS.match(host):
        return None, "its host name holds characters a host name cannot have"
    return host.lower(), None


def check_webhook_url(url: str, allow_private: bool = False) -> str | None:
    """Why this webhook URL is refused (without DNS), or None. Pure: safe to call from validate."""
    host, reason = _host(url)
    if reason or host is None:
        return reason
    if allow_private:
        return None
    address = _literal(host)
    if address is not None:
        return address_reason(address)
    if host in INTERNAL_NAMES or host.endswith(INTERNAL_SUFFIXES) or "." not in host:
        return f"'{host[:60]}' is a name on the local or internal network"
    return None


Resolver = Callable[..., list[tuple[Any, ...]]]


def check_resolved_webhook_url(
    url: str, allow_private: bool = False, getaddrinfo: Resolver = socket.getaddrinfo
) -> str | None:
    """`check_webhook_url`, then every address the host resolves to must be public. Send time only.

    The caller should connect to one of the checked addresses (or re-check right before connecting)
    so that a name that changes its answer between check and request cannot slip through.
    """
    reason = check_webhook_url(url, allow_private)
    if reason or allow_private:
        return reason
    host, _ = _host(url)
    assert host is not None
    try:
        infos = getaddrinfo(host.strip("[]"), None, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return f"'{host}' does not resolve ({exc})"
    if not infos:
        return f"'{host}' does not resolve"
    for info in infos:
        try:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        except ValueError:
            return f"'{host}' resolves to something that is not an IP address"
        kind = address_kind(address)
        if kind:
            return f"'{host}' resolves to {address}, {kind}"
    return None
