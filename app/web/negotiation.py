"""Whether an answer, above all a refusal, goes back as JSON or as a page."""

from __future__ import annotations

from starlette.requests import Request


def wants_json(request: Request) -> bool:
    """API calls, JSON bodies our pages' scripts post (the candidate's autosave), and requests
    asking for JSON alone (the rating form's autosave): a script cannot read an error page."""
    if request.url.path.startswith("/api/"):
        return True
    if request.headers.get("content-type", "").startswith("application/json"):
        return True
    accept = request.headers.get("accept", "")
    return accept.startswith("application/json") and "text/html" not in accept
