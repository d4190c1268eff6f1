"""Which teacher and judge endpoints oblivio may send requests to: a URL check shared by config
validation (before any model loads) and the endpoint backend (before each request).

A URL from a config file is untrusted: it may not carry a credential (``user:password@``, a
query), and it must name this machine (``localhost``, 127.0.0.0/8, ``::1``) unless the command
line says ``--allow-remote-endpoints``.
"""
from __future__ import annotations

import ipaddress
import urllib.parse

from oblivio.errors import InputError

REMOTE_FLAG = "--allow-remote-endpoints"


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address (127.0.0.0/8, ::1). Anything else — a name that
    merely starts with 127.0.0.1, a hex or decimal integer address — is not."""
    host = host.lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint_url(url: str, *, allow_remote: bool, field: str = "url", file: str | None = None) -> str:
    """``url`` if a teacher or judge may send requests to it, else an InputError naming ``field``:
    http(s) with a host; no ``user:password@`` (a credential in a config file), query or
    fragment (the path ``/chat/completions`` is appended); on this machine unless
    ``allow_remote``. Returns the host."""
    def bad(msg: str) -> InputError:
        return InputError(msg, file=file, field=field)
    # a parser that skips or reinterprets such characters could see another host than httpx does
    if any(c.isspace() or ord(c) < 32 or c == "\\" for c in url):
        raise bad(f"must not contain spaces, control characters or backslashes, got {url!r}")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port          # noqa: B018 -- raises ValueError for a port out of range or not a number
    except ValueError as e:
        raise bad(f"not a valid URL ({e}): {url!r}") from None
    if parts.scheme not in ("http", "https"):
        raise bad(f"must start with http:// or https://, got {url!r}")
    if "@" in parts.netloc:
        raise bad("must not contain a user name or password (user:password@host): a credential does not "
                  "belong in a URL; name the variable holding the key with --teacher-key-env / --judge-key-env")
    if "?" in url or "#" in url:
        raise bad(f"must be a base URL without '?…' or '#…' (the key goes in --teacher-key-env / "
                  f"--judge-key-env), got {url!r}")
    host = parts.hostname
    if not host:
        raise bad(f"has no host, got {url!r}")
    if not allow_remote and not is_loopback(host):
        raise bad(f"{host} is not this machine (localhost, 127.0.0.0/8, ::1): requests, and the key if one "
                  f"is given, would go to another machine; pass {REMOTE_FLAG} to allow that")
    return host
