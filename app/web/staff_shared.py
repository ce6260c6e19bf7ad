"""What the staff pages share: rendering with `tx`, notices after redirects, form reading.

Texts a person reads are `(zh, en)` pairs picked by the page's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.assessments import service as assessment_service
from app.assessments.service import (
    LINK_VALID_MAX_DAYS,
    NAME_MAX,
    NOTE_MAX,
    PAGE_MAX,
    PAGE_SIZE_MAX,
    TIME_LIMIT_MAX_MINUTES,
)
from app.assessments.views import STATUS_LABELS
from app.deps import Staff
from app.web.nul_characters import refuse_nul_characters
from app.web.templating import language, render

Msg = tuple[str, str]
FormText = Annotated[str, Form()]

# What each form field needs, in the page's language; the service's own messages (English,
# for the API) are the fallback for anything not listed.
FIELD_TEXT: Mapping[str, Msg] = {
    "name": (f"请填写 1–{NAME_MAX} 个字符的姓名。", f"Give a name of 1–{NAME_MAX} characters."),
    "email": (
        "请填写有效的邮箱地址，例如 name@example.com。",
        "Give a valid email address, e.g. name@example.com.",
    ),
    "note": (f"备注最多 {NOTE_MAX} 个字符。", f"The note can have at most {NOTE_MAX} characters."),
    "role": ("请选择一个岗位。", "Choose a role."),
    "time_limit_minutes": (
        f"请填写 1–{TIME_LIMIT_MAX_MINUTES} 之间的整数分钟数；留空表示不限时。",
        f"Give a whole number of minutes from 1 to {TIME_LIMIT_MAX_MINUTES}, "
        "or leave it empty for no time limit.",
    ),
    "link_valid_days": (
        f"请填写 1–{LINK_VALID_MAX_DAYS} 之间的整数天数；留空表示链接不过期。",
        f"Give a whole number of days from 1 to {LINK_VALID_MAX_DAYS}, "
        "or leave it empty for a link that does not expire.",
    ),
    "days": (
        f"请填写 1–{LINK_VALID_MAX_DAYS} 之间的整数天数。",
        f"Give a whole number of days from 1 to {LINK_VALID_MAX_DAYS}.",
    ),
    "user_id": ("请选择一位在职的员工。", "Choose an active staff user."),
    "status": ("未知的状态。", "Unknown status."),
    "sort": ("未知的排序方式。", "Unknown sort order."),
    "page": (
        f"页码应为 1–{PAGE_MAX:,} 之间的整数。",
        f"The page number must be a whole number from 1 to {PAGE_MAX:,}.",
    ),
    "size": (
        f"每页条数应为 1–{PAGE_SIZE_MAX} 之间的整数。",
        f"Rows per page must be a whole number from 1 to {PAGE_SIZE_MAX}.",
    ),
}


# Notices shown once after a POST → 303 redirect (`?notice=code`). Codes only, never text
# from the request, so a crafted link cannot put words on the page.
NOTICES: Mapping[str, tuple[str, Msg]] = {
    "rater_added": ("success", ("已添加评分人。", "The rater was added.")),
    "rater_removed": (
        "success",
        (
            "已移除评分人；其已给出的评分仍计入结果。",
            "The rater was removed; ratings they gave still count.",
        ),
    ),
    "revoked": (
        "success",
        (
            "邀请链接已撤回，候选人将看到评估已被撤回。",
            "The link was revoked; the candidate is told it was withdrawn.",
        ),
    ),
    "extended": ("success", ("链接有效期已延长。", "The link's expiry was extended.")),
    "feedback_on": (
        "success",
        ("已允许生成候选人反馈报告。", "The candidate feedback report is now available."),
    ),
    "feedback_off": (
        "success",
        ("已关闭候选人反馈报告。", "The candidate feedback report is switched off."),
    ),
    "rated": (
        "success",
        ("评分已保存。这是下一项评分任务。", "Rating saved. Here is your next task."),
    ),
    "rated_last": (
        "success",
        ("评分已保存。你的评分任务都已完成。", "Rating saved. You have no more tasks to rate."),
    ),
}


def pick(request: Request, message: Msg) -> str:
    return message[0] if language(request) == "zh" else message[1]


def notice_flash(request: Request, code: str | None) -> dict[str, str] | None:
    found = NOTICES.get(code or "")
    return None if found is None else {"kind": found[0], "text": pick(request, found[1])}


def redirect(path: str, notice: str | None = None) -> RedirectResponse:
    target = f"{path}?{urlencode({'notice': notice})}" if notice else path
    return RedirectResponse(target, status_code=303)


def page(
    request: Request,
    staff: Staff,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A staff page; `tx(text)` picks a rubric text ({"zh": …, "en": …}) in the page language."""
    lang = language(request)

    def tx(text: Mapping[str, str] | None) -> str:
        if not text:
            return ""
        return text.get(lang) or text.get("en") or next(iter(text.values()), "")

    return render(
        request,
        f"staff/{template}",
        {"tx": tx, "status_labels": STATUS_LABELS, **(context or {})},
        staff=staff,
        status_code=status_code,
    )


async def _form(request: Request) -> FormData:
    # Already parsed (and cached on the request) by the NUL check, with these limits.
    return await request.form(max_files=0, max_fields=200)


FormDep = Annotated[FormData, Depends(_form)]
no_nul_characters = refuse_nul_characters(_form)


def form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def field_message(request: Request, field: str, fallback: str) -> str:
    text = FIELD_TEXT.get(field)
    return pick(request, text) if text else fallback


def whole_number(value: str, field: str, errors: dict[str, str], request: Request) -> int | None:
    """The number typed, None when left empty; a message in `errors` when it is not one."""
    value = value.strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        errors[field] = field_message(request, field, "")
        return None
    return int(value)


def invite_page(
    request: Request,
    session: Session,
    staff: Staff,
    assessment_id: int,
    url: str,
    *,
    reissued: bool,
    status_code: int,
) -> HTMLResponse:
    """The invite link, shown this once (in the response to the POST that made it)."""
    view = assessment_service.get_assessment_view(session, staff.user, assessment_id)
    return page(
        request,
        staff,
        "invite.html",
        {"view": view, "invite_url": url, "reissued": reissued},
        status_code=status_code,
    )
