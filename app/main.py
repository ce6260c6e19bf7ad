"""create_app(): the JSON API under /api/v1, the pages, static files and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import accounts as accounts_api
from app.api import assessments as assessments_api
from app.api import health as health_api
from app.api import plans as plans_api
from app.api import privacy as privacy_api
from app.api import reports as reports_api
from app.api import reviews as reviews_api
from app.api import rubrics as rubrics_api
from app.config import Settings, get_settings
from app.db import close_loop_pools
from app.deps import LoginRequired
from app.errors import AppError
from app.rubrics import service as rubric_service
from app.security_headers import SecurityHeadersMiddleware, headers_for
from app.web import accounts as accounts_pages
from app.web import admin as admin_pages
from app.web import candidate as candidate_pages
from app.web import pages, staff
from app.web import plans as plans_pages
from app.web import reports as report_pages
from app.web import reviews as review_pages
from app.web.negotiation import wants_json
from app.web.templating import language, templates

STATIC_DIR = Path(__file__).parent / "web" / "static"


def _error_page(request: Request, status: int, message: str) -> Response:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"lang": language(request), "status": status, "message": message},
        status_code=status,
    )


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    await close_loop_pools()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Refuse to start on an invalid rubric: better no service than wrong scores.
    rubric_service.current_rubrics(settings.rubrics_dir)

    app = FastAPI(
        lifespan=_lifespan,
        title="Yardstick",
        summary="Competency assessment and training for new-media operators",
        version="0.1.0",
        docs_url="/api/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    # Routes are tried in order, one by one: the candidate's pages first, as they carry most
    # of the traffic (an autosave with every change) and share no path with the others.
    app.include_router(candidate_pages.router)
    app.include_router(health_api.router, prefix="/api/v1")
    app.include_router(rubrics_api.router, prefix="/api/v1")
    app.include_router(accounts_api.router, prefix="/api/v1")
    app.include_router(assessments_api.router, prefix="/api/v1")
    app.include_router(reviews_api.router, prefix="/api/v1")
    app.include_router(plans_api.router, prefix="/api/v1")
    app.include_router(reports_api.router, prefix="/api/v1")
    app.include_router(privacy_api.router, prefix="/api/v1")
    app.include_router(pages.router)
    app.include_router(accounts_pages.router)
    app.include_router(staff.router)
    app.include_router(plans_pages.router)
    app.include_router(review_pages.router)
    app.include_router(report_pages.router)
    app.include_router(admin_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(AppError)
    def _app_error(request: Request, error: AppError) -> Response:
        if not wants_json(request):
            return _error_page(request, error.status_code, error.message)
        detail: dict[str, str] = {"code": error.code, "message": error.message}
        if error.field:
            detail["field"] = error.field
        return JSONResponse({"detail": detail}, status_code=error.status_code)

    @app.exception_handler(Exception)
    def _server_error(request: Request, _error: Exception) -> Response:
        # Starlette answers an unhandled error outside every middleware: the security
        # headers are set here or the response goes out without them.
        message = "something went wrong on our side; please try again later"
        response: Response
        if wants_json(request):
            detail = {"code": "server_error", "message": message}
            response = JSONResponse({"detail": detail}, status_code=500)
        else:
            try:
                response = _error_page(request, 500, message)
            except Exception:
                # Whatever broke the page may break the error page too.
                response = PlainTextResponse(message, status_code=500)
        response.headers.update(headers_for(request.url.path))
        return response

    @app.exception_handler(LoginRequired)
    def _login_required(_request: Request, error: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(error.next_path)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if wants_json(request):
            return JSONResponse(
                {"detail": error.detail}, status_code=error.status_code, headers=error.headers
            )
        return _error_page(request, error.status_code, str(error.detail))

    return app
