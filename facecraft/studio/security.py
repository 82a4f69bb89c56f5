"""The studio's front door (an ASGI middleware): host, origin and token checks before any route runs.

- ``GET /api/health`` is open (for scripts); everything else needs the token.
- ``/api/*`` needs the token twice: in the cookie and in the ``X-Facecraft-Token`` header. A page on another
  site cannot read the token, so it can neither set the header nor (SameSite=Strict) send the cookie.
- Pages and files need the cookie; opening ``/?token=...`` (the printed URL) sets it and drops the token from
  the address bar.
- A request whose Origin is not the studio's own is refused, and so is a Host the studio is not bound to
  (DNS rebinding).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.datastructures import Headers
from starlette.requests import cookie_parser

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_HEADER = "x-facecraft-token"
OPEN_PATHS = frozenset({"/api/health"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})

_LOCKED_PAGE = (
    "<!doctype html><meta charset=utf-8><title>facecraft studio</title>"
    "<p style='font-family:sans-serif'>This studio needs its access token. Open the link that "
    "<code>facecraft studio</code> printed in its terminal.</p>"
)


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


class Guard:
    def __init__(self, app: ASGIApp, token: str, cookie: str, allowed_hosts: frozenset[str] | None):
        self.app, self.token, self.cookie, self.allowed_hosts = app, token, cookie, allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if self.allowed_hosts is not None and hostname not in self.allowed_hosts:
            await _reply(send, 400, {"error": f"unknown host {hostname!r}"})
            return
        origin = headers.get("origin")
        if origin is not None and origin != f"{scope.get('scheme', 'http')}://{host}":
            await _reply(send, 403, {"error": "requests from other sites are refused"})
            return
        path: str = scope["path"]
        if path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        cookie_ok = same(cookie_parser(headers.get("cookie", "")).get(self.cookie), self.token)
        if path.startswith("/api/"):
            if cookie_ok and same(headers.get(TOKEN_HEADER), self.token):
                await self.app(scope, receive, send)
            else:
                await _reply(send, 401, {"error": "missing or wrong studio token"})
            return
        query = parse_qs(scope.get("query_string", b"").decode())
        if same((query.pop("token", None) or [None])[0], self.token):
            rest = urlencode(query, doseq=True)
            await _redirect(send, path + (f"?{rest}" if rest else ""), self._set_cookie())
            return
        if not cookie_ok:
            await _reply(send, 401, _LOCKED_PAGE, "text/html; charset=utf-8")
            return
        await self.app(scope, receive, send)

    def _set_cookie(self) -> str:
        return f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"


async def _reply(send: Send, status: int, body: Any, content_type: str = "application/json") -> None:
    data = (body if isinstance(body, str) else json.dumps(body)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _redirect(send: Send, location: str, cookie: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode()),
                (b"set-cookie", cookie.encode()),
                (b"content-length", b"0"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
