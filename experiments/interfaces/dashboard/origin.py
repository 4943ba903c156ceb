"""Who may open the dashboard's WebSocket: pages from this machine, or from the address served.

Solara accepts a WebSocket from any page, so a web site open in the trainer's browser could
script the dashboard on 127.0.0.1 (cross-site WebSocket hijacking). `OriginCheck` is an ASGI
middleware that closes a WebSocket whose `Origin` header names another site:

- served on a loopback address (the default): only pages whose origin is a loopback address
  (`localhost`, `127.0.0.1`, `[::1]`, ...) may connect; a name is not resolved, so a site that
  points its own name at 127.0.0.1 (DNS rebinding) stays out;
- served on another address (`--host` for a workshop room): also pages whose origin is the very
  host and port the browser asked for (its `Host` header), i.e. the dashboard's own page.

A connection without an `Origin` header (not a browser: a script, a test client) is let through,
as browsers always send one.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost",)


def is_loopback_literal(host: str) -> bool:
    """Whether `host` is `localhost` or an IP address literal on the loopback network."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolves_to_loopback(host: str) -> bool:
    """Whether every address `host` stands for is a loopback address (`127.1`, `localhost`,
    `::1`, `127.0.0.1`...). Unresolvable names are not loopback."""
    if is_loopback_literal(host):
        return True
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        return False
    addrs = {info[4][0] for info in infos}
    try:
        return bool(addrs) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs)
    except ValueError:
        return False


def origin_allowed(origin: str | None, host_header: str | None, served_on_loopback: bool) -> bool:
    """Whether a WebSocket from a page of `origin` may connect (see the module docstring)."""
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
        hostname = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not hostname:
        return False
    if is_loopback_literal(hostname):
        return True
    if served_on_loopback or not host_header:
        return False
    return parts.netloc.lower() == host_header.lower()


class OriginCheck:
    """ASGI middleware: close WebSockets from other sites' pages (code 1008, policy violation).

    Args:
        app: The ASGI application (Solara's Starlette app).
        served_on_loopback: Whether the server listens on a loopback address only.
    """

    def __init__(self, app: Any, served_on_loopback: bool = True) -> None:
        self.app = app
        self.served_on_loopback = served_on_loopback

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") == "websocket":
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            if not origin_allowed(
                headers.get("origin"), headers.get("host"), self.served_on_loopback
            ):
                await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)
