"""The app with the 360 review pages mounted (a no-op once `create_app` includes them), for
the browser test's `uvicorn --factory`."""

from __future__ import annotations

from fastapi import FastAPI

from app import main
from app.web import reviews as review_pages


def create_app() -> FastAPI:
    app = main.create_app()
    if "/staff/reviews" not in {getattr(route, "path", "") for route in app.routes}:
        app.include_router(review_pages.router)
    return app
