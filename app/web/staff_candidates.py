"""HR's pages for candidates: the list with its exports, and new invitations.

Invite links are rendered once, in the response to the POST that made them: never put in a
redirect URL or a cookie, and never shown again (only their hash is stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.assessments import exports, views
from app.assessments import service as assessment_service
from app.assessments.service import (
    DEFAULT_LINK_VALID_DAYS,
    EMAIL_MAX,
    LINK_VALID_MAX_DAYS,
    NAME_MAX,
    NOTE_MAX,
    PAGE_MAX,
    PAGE_SIZE,
    PAGE_SIZE_MAX,
    SORT_KEYS,
    STATUS_ORDER,
    TIME_LIMIT_MAX_MINUTES,
    FieldErrors,
    ListFilters,
)
from app.config import Settings
from app.db import utcnow
from app.deps import CsrfChecked, SessionDep, SettingsDep, Staff, WebHr
from app.errors import InvalidInput
from app.privacy import audit
from app.rubrics import service as rubric_service
from app.web.staff_shared import (
    FormText,
    field_message,
    invite_page,
    notice_flash,
    page,
    whole_number,
)
from app.web.templating import language

router = APIRouter(include_in_schema=False)

# Which way a column sorts when first clicked: names and statuses A→Z, numbers best first.
FIRST_DESCENDING = frozenset({"created", "level", "fit"})
PAGE_SIZES = (25, PAGE_SIZE, 100, PAGE_SIZE_MAX)
# Page links shown on each side of the current page (first and last are always shown).
PAGE_WINDOW = 2

# Service field names that the invitation form shows under another field.
FORM_FIELD = {"rubric_id": "role", "role_id": "role"}


# ── the candidate list and its exports ──────────────────────────────────────────────────


@dataclass(frozen=True)
class Filters:
    rubric: str
    role: str
    status: str
    search: str
    sort: str
    descending: bool
    size: str = ""  # rows per page as given; empty for the default

    def query(self, **changes: Any) -> str:
        values = {
            "rubric": self.rubric,
            "role": self.role,
            "status": self.status,
            "search": self.search,
            "sort": self.sort,
            "descending": "1" if self.descending else "0",
            "size": self.size,
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v})

    def service(self) -> ListFilters:
        """The filters as the candidate list's service takes them (blank: no filter)."""
        return ListFilters(
            rubric_id=self.rubric or None,
            role_id=self.role or None,
            status=self.status or None,
            search=self.search or None,
            sort=self.sort,
            descending=self.descending,
        )


def _filters(
    rubric: str, role: str, status: str, search: str, sort: str, desc: str, size: str = ""
) -> Filters:
    # Newest first until someone picks a column.
    descending = desc in ("1", "true") if sort else True
    return Filters(
        rubric.strip(),
        role.strip(),
        status.strip(),
        search.strip(),
        sort or "created",
        descending,
        size.strip(),
    )


def _rows(session: Session, staff: Staff, filters: Filters) -> list[Any]:
    return assessment_service.list_assessments(session, staff.user, **filters.service())


def _paging(
    request: Request, page: str, size: str, errors: dict[str, str]
) -> tuple[int, int] | None:
    """The page number and size asked for (1 and PAGE_SIZE when not given); None if invalid."""
    number = whole_number(page, "page", errors, request)
    rows = whole_number(size, "size", errors, request)
    if number is not None and not 1 <= number <= PAGE_MAX:
        errors["page"] = field_message(request, "page", "")
    if rows is not None and not 1 <= rows <= PAGE_SIZE_MAX:
        errors["size"] = field_message(request, "size", "")
    if "page" in errors or "size" in errors:
        return None
    return number or 1, rows or PAGE_SIZE


def _page_links(filters: Filters, found: views.AssessmentPage) -> list[dict[str, Any] | None]:
    """First, last and the pages around the current one; None where numbers are left out."""
    last = found.pages
    shown = sorted(
        {1, last}
        | set(range(max(1, found.page - PAGE_WINDOW), min(last, found.page + PAGE_WINDOW) + 1))
    )
    links: list[dict[str, Any] | None] = []
    for number in shown:
        if links and links[-1] is not None and number > links[-1]["number"] + 1:
            links.append(None)
        links.append(
            {
                "number": number,
                "url": "/staff/assessments?" + filters.query(page=str(number)),
                "current": number == found.page,
            }
        )
    return links


def _role_choices(settings: Settings) -> list[dict[str, Any]]:
    """The loaded rubrics with their roles, for the role selects."""
    return [
        {"id": rubric_id, "name": loaded.rubric.name, "roles": loaded.rubric.roles}
        for rubric_id, loaded in sorted(
            rubric_service.current_rubrics(settings.rubrics_dir).items()
        )
    ]


def _sort_links(filters: Filters) -> dict[str, dict[str, Any]]:
    links: dict[str, dict[str, Any]] = {}
    for key in SORT_KEYS:
        current = filters.sort == key
        descending = not filters.descending if current else key in FIRST_DESCENDING
        links[key] = {
            "url": "/staff/assessments?"
            + filters.query(sort=key, descending="1" if descending else "0"),
            "aria": ("descending" if filters.descending else "ascending") if current else None,
        }
    return links


@router.get("/staff/assessments", response_class=HTMLResponse)
def list_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebHr,
    rubric: str = "",
    role: str = "",
    status: str = "",
    search: str = "",
    sort: str = "",
    descending: str = "",
    page_number: Annotated[str, Query(alias="page")] = "",
    size: str = "",
    notice: str = "",
) -> HTMLResponse:
    filters = _filters(rubric, role, status, search, sort, descending, size)
    errors: dict[str, str] = {}
    found = None
    paging = _paging(request, page_number, size, errors)
    if paging is not None:
        try:
            found = assessment_service.page_assessments(
                session, staff.user, page=paging[0], size=paging[1], **filters.service()
            )
        except InvalidInput as error:
            field = error.field or "search"
            errors[field] = field_message(request, field, error.message)
    # Exports are of the whole filtered list, whatever page is shown.
    export_query = filters.query(lang=language(request), size="")
    return page(
        request,
        staff,
        "assessments.html",
        {
            "rows": found.rows if found else (),
            "found": found,
            "page_links": _page_links(filters, found) if found else [],
            "page_sizes": PAGE_SIZES,
            "filters": filters,
            "errors": errors,
            "rubrics": _role_choices(settings),
            "statuses": [s.value for s in STATUS_ORDER],
            "sort_links": _sort_links(filters),
            "csv_url": "/staff/assessments/export.csv?" + export_query,
            "xlsx_url": "/staff/assessments/export.xlsx?" + export_query,
            "flash": notice_flash(request, notice),
        },
        status_code=422 if errors else 200,
    )


def _export_language(request: Request, lang: str) -> str:
    return lang if lang in ("zh", "en") else language(request)


@router.get("/staff/assessments/export.{fmt}")
def export_assessments(
    fmt: exports.ExportFormat,
    request: Request,
    session: SessionDep,
    staff: WebHr,
    rubric: str = "",
    role: str = "",
    status: str = "",
    search: str = "",
    sort: str = "",
    descending: str = "",
    lang: str = "",
) -> Response:
    filters = _filters(rubric, role, status, search, sort, descending)
    rows = _rows(session, staff, filters)
    content = exports.export(rows, fmt, _export_language(request, lang))
    audit.record(
        session,
        staff.user,
        "assessment.list_exported",
        "assessment_list",
        format=fmt,
        rows=len(rows),
    )
    return Response(
        content,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": "attachment; "
            f'filename="{exports.filename(filters.role, fmt, utcnow().date())}"',
            "Cache-Control": "no-store",
        },
    )


# ── a new invitation ────────────────────────────────────────────────────────────────────


def _new_form(
    request: Request,
    staff: Staff,
    settings: Settings,
    values: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        staff,
        "new.html",
        {
            "values": values,
            "errors": errors or {},
            "rubrics": _role_choices(settings),
            "limits": {
                "name": NAME_MAX,
                "email": EMAIL_MAX,
                "note": NOTE_MAX,
                "minutes": TIME_LIMIT_MAX_MINUTES,
                "days": LINK_VALID_MAX_DAYS,
            },
        },
        status_code=status_code,
    )


@router.get("/staff/assessments/new", response_class=HTMLResponse)
def new_form(request: Request, settings: SettingsDep, staff: WebHr) -> HTMLResponse:
    values = {"link_valid_days": str(DEFAULT_LINK_VALID_DAYS)}
    return _new_form(request, staff, settings, values)


@router.post("/staff/assessments/new", response_class=HTMLResponse)
def create(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebHr,
    _csrf: CsrfChecked,
    name: FormText = "",
    email: FormText = "",
    note: FormText = "",
    role: FormText = "",
    time_limit_minutes: FormText = "",
    link_valid_days: FormText = "",
) -> HTMLResponse:
    values = {
        "name": name,
        "email": email,
        "note": note,
        "role": role,
        "time_limit_minutes": time_limit_minutes,
        "link_valid_days": link_valid_days,
    }
    errors: dict[str, str] = {}
    rubric_id, _, role_id = role.partition(":")
    known = {(r["id"], p.id) for r in _role_choices(settings) for p in r["roles"]}
    if (rubric_id, role_id) not in known:
        errors["role"] = field_message(request, "role", "")
    minutes = whole_number(time_limit_minutes, "time_limit_minutes", errors, request)
    if minutes is not None and not 1 <= minutes <= TIME_LIMIT_MAX_MINUTES:
        errors["time_limit_minutes"] = field_message(request, "time_limit_minutes", "")
    days = whole_number(link_valid_days, "link_valid_days", errors, request)
    if days is not None and not 1 <= days <= LINK_VALID_MAX_DAYS:
        errors["link_valid_days"] = field_message(request, "link_valid_days", "")

    # Candidate and assessment are made together or not at all.
    savepoint = session.begin_nested()
    created: tuple[int, str] | None = None
    try:
        candidate = assessment_service.create_candidate(session, staff.user, name, email, note)
        if not errors:
            assessment, url = assessment_service.create_assessment(
                session, staff.user, candidate.id, rubric_id, role_id, minutes, days, settings
            )
            created = (assessment.id, url)
    except FieldErrors as error:
        for field, message in error.errors.items():
            errors[field] = field_message(request, field, message)
    except InvalidInput as error:
        field = FORM_FIELD.get(error.field or "", error.field or "role")
        errors[field] = field_message(request, field, error.message)
    if created is None:
        savepoint.rollback()
        return _new_form(request, staff, settings, values, errors, status_code=422)
    savepoint.commit()
    return invite_page(
        request, session, staff, created[0], created[1], reissued=False, status_code=201
    )
