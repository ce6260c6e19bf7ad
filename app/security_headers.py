"""Security headers on every response, errors included (ARCHITECTURE §9)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"x-frame-options": b"DENY",
}
# The invite link carries the candidate's token: it must never leak through a Referer, and
# every page behind it is personal, so nothing is cached — error pages included.
INVITE_PREFIX = "/take/"
INVITE_HEADERS = {
    **HEADERS,
    b"referrer-policy": b"no-referrer",
    b"cache-control": b"no-store",
}

# API answers are made for one caller (results, people, tokens): no cache keeps them either,
# unless a route says otherwise.
API_PREFIX = "/api/"
API_HEADERS = {**HEADERS, b"cache-control": b"no-store"}


# The interactive API docs are FastAPI's Swagger UI page: its script and styles come from a CDN
# and it starts with an inline script. It shows no personal data, so only this page may.
DOCS_PATH = "/api/docs"
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {DOCS_CDN}; "
    f"style-src 'self' {DOCS_CDN}; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_HEADERS = {**API_HEADERS, b"content-security-policy": DOCS_CSP.encode()}


def _defaults(path: str) -> dict[bytes, bytes]:
    if path == DOCS_PATH:
        return DOCS_HEADERS
    if path.startswith(INVITE_PREFIX):
        return INVITE_HEADERS
    return API_HEADERS if path.startswith(API_PREFIX) else HEADERS


def headers_for(path: str) -> dict[str, str]:
    """The headers above for `path`, for responses made outside this middleware."""
    return {name.decode(): value.decode() for name, value in _defaults(path).items()}


class SecurityHeadersMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware) so streaming and 500 responses get headers too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        defaults = _defaults(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in defaults.items() if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
