"""Security headers on every response: pages, API JSON, feeds, static files, errors,
redirects (issue 9.7).

Added by an ASGI middleware wrapped around the whole app (web/app.py), outside
Starlette's own error middleware, so no answer leaves without them. A response that
sets its own Content-Security-Policy keeps it: the digest preview (an email's HTML,
styled inline as email must be) allows inline styles and nothing else.

- Content-Security-Policy: scripts and styles only from this site's own files (the
  templates have no inline script, no `style=` attribute, no event handler); no
  plugins; forms post only here; no site may frame a page (`frame-ancestors`).
- X-Content-Type-Options: nosniff, so an uploaded or echoed text is never run as script.
- Referrer-Policy: same-origin. Links out (arXiv, code, project pages) carry no
  Referer, and URLs with tokens in them (reset, verify, unsubscribe) never leave.
- Strict-Transport-Security, when PAPERFEED_COOKIE_SECURE says the site is HTTPS-only.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# An email's HTML shown as a page: inline styles (the only way mail clients style), and
# nothing to run, load or submit.
EMAIL_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HSTS = "max-age=31536000"  # a year; subdomains are not ours to decide for


def security_headers(*, https_only: bool) -> list[tuple[bytes, bytes]]:
    headers = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
               "referrer-policy": "same-origin"}
    if https_only:
        headers["strict-transport-security"] = HSTS
    return [(name.encode(), value.encode()) for name, value in headers.items()]


class SecurityHeaders:
    """ASGI middleware: adds `security_headers` to every response that lacks them."""

    def __init__(self, app: ASGIApp, *, https_only: bool) -> None:
        self.app = app
        self.headers = security_headers(https_only=https_only)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in self.headers if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
