"""What the 360 review pages share: rendering, notices after redirects, form reading and
the wording of the review service's errors in both languages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.datastructures import FormData

from app.accounts.models import Role
from app.deps import HR_ROLES, Staff
from app.errors import AppError
from app.reviews import service as review_service
from app.web.nul_characters import refuse_nul_characters
from app.web.templating import language, render

Msg = tuple[str, str]
MANAGING_ROLES = (Role.LEAD, *HR_ROLES)


class RowId(IntegerConvertor):
    """`{name:rowid}`: an id of at most nine digits, so a number no row can have is a plain
    404 rather than an integer overflow in the database."""

    regex = "[0-9]{1,9}"


register_url_convertor("rowid", RowId())

# Shown once after a POST → 303 (`?notice=code`): codes only, never text from the request,
# so a crafted link cannot put words on the page.
NOTICES: Mapping[str, Msg] = {
    "team_created": ("团队已创建。", "The team was created."),
    "team_saved": ("团队信息已保存。", "The team was saved."),
    "member_added": ("成员已加入团队。", "The member was added."),
    "member_removed": (
        "成员已移出团队；已参与的评估周期不受影响。",
        "The member was removed; cycles they are already part of keep them.",
    ),
    "cycle_opened": (
        "评估周期已开启：每位被评估人会自评，主管作为上级评分。",
        "The cycle is open: each ratee rates themself and the lead rates as their manager.",
    ),
    "rater_added": ("评分人已添加。", "The rater was added."),
    "nominated": (
        "提名已提交，等待主管审批。",
        "Your nomination was sent; the lead will approve or decline it.",
    ),
    "approved": ("已批准该提名。", "The nomination was approved."),
    "declined": ("已拒绝该提名。", "The nomination was declined."),
    "closed": (
        "评估周期已结束，结果已发布。",
        "The cycle is closed and its results are released.",
    ),
    "saved": ("已保存。提交之前你仍可修改。", "Saved. You can still change it before you submit."),
    "submitted": (
        "已提交，谢谢！你的评分现在是只读的。",
        "Submitted, thank you. Your ratings are read-only now.",
    ),
}

# The review service words its errors in English; each known one also in Chinese here.
# (field pattern, message pattern, Chinese) — the first match wins; the English page shows
# the service's own message, which names the people and values involved, except where
# `_ENGLISH` words it for people rather than for API clients.
_CHINESE: tuple[tuple[str, str, str], ...] = (
    ("name", "already exists", "已有同名团队，请换一个名称。"),
    ("name", "", "请填写 1–200 个字符的名称。"),
    ("lead_id", "needs the role", "团队负责人需要具有“主管”角色。"),
    ("lead_id", "", "请选择一位在职的主管。"),
    ("user_id", "already a member", "此人已是该团队成员。"),
    ("user_id", "", "请选择一位在职的员工。"),
    (
        "role_id",
        "different team roles",
        "所选成员的岗位不同，一个评估周期只按一个岗位画像衡量：请选择岗位画像。",
    ),
    ("role_id", "", "请选择评估标准中的一个岗位画像。"),
    ("rubric_id", "", "请选择一套评估标准。"),
    ("due_at", "in the future", "截止时间必须晚于现在。"),
    ("due_at", "within", "截止时间须在一年之内。"),
    ("due_at", "", "请按 年-月-日 时:分 填写截止时间。"),
    ("ratees", "at least one", "请至少选择一名要评估的成员。"),
    ("ratees", "inactive", "已停用的账号不能被评估。"),
    ("ratees", "not members", "所选人员不是该团队的成员。"),
    ("ratees", "", "请检查所选的被评估人。"),
    ("min_raters", "at most", "每组最少人数不能超过 20。"),
    ("min_raters", "", "同事组和下属组的最少人数须为 2–20 的整数（为保护匿名至少 2 人）。"),
    ("group_weights", "", "各组权重须为正数。"),
    ("group", "", "请选择上级、同事或下属（自评会自动加入）。"),
    ("rater_id", "already", "此人已在名单中：同一个人不会被请求两次为同一人评分。"),
    ("rater_id", "yourself", "你已自动参加自评，请提名同事。"),
    ("rater_id", "themselves", "任何人都不能以同事、下属或上级身份为自己评分。"),
    ("rater_id", "nominate an active member", "请提名本团队的在职成员。"),
    ("rater_id", "", "请选择一位在职的员工。"),
    ("ratee_id", "", "此人不在本评估周期中。"),
    (r"answers\..*\.level", "not both", "请选择一个等级或“未观察到”，不能同时选择。"),
    (r"answers\..*\.level", "", "请选择量表中的一个等级。"),
    (r"answers\..*\.comment", "", "评语最多 2000 个字符。"),
    (r"answers\..*", "", "请选择一个等级或“未观察到”。"),
    ("", "is closed", "该评估周期已结束，结果已发布，不能再修改。"),
    ("", "already closed", "该评估周期已经结束，结果已发布。"),
    ("", "you have submitted", "你已提交这份评分，答案不能再修改。"),
    ("", "not awaiting a decision", "该提名已经处理过了。"),
    (
        "",
        "chooses and approves the raters of your own review",
        "你自己的评估由他人（HR）选择和审批评分人。",
    ),
    ("", "only people reviewed in this cycle", "只有本周期的被评估人可以为自己提名同事。"),
)


_ENGLISH: tuple[tuple[str, str, str], ...] = (
    ("ratees", "not members", "Some of the people chosen are not members of this team."),
    ("min_raters", "at most", "The minimum number of raters per group is at most 20."),
    (
        "min_raters",
        "",
        "Give peers and direct reports a whole number from 2 to 20 "
        "(at least 2 keeps raters anonymous).",
    ),
    ("group_weights", "", "Group weights must be positive numbers."),
    (r"answers\..*\.level", "not both", 'Choose a level or "not observed", not both.'),
    (r"answers\..*\.comment", "", "The comment can have at most 2000 characters."),
    (r"answers\..*", "choose a level", 'Choose a level or "not observed".'),
)


def _find(table: tuple[tuple[str, str, str], ...], field: str | None, message: str) -> str | None:
    for field_pattern, needle, text in table:
        if re.fullmatch(field_pattern, field or "") and needle in message:
            return text
    return None


def pick(request: Request, message: Msg) -> str:
    return message[0] if language(request) == "zh" else message[1]


def error_text(request: Request, field: str | None, message: str) -> str:
    """A service error in the page's language, specific to the field where it can be."""
    if language(request) == "zh":
        return _find(_CHINESE, field, message) or f"未能完成：{message}"
    found = _find(_ENGLISH, field, message)
    return found or message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def field_errors(
    request: Request, error: AppError, form_field: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Field → message of a service error (several for FieldErrors); `form_field` renames
    service fields to the form's own."""
    form_field = form_field or {}
    found = (
        error.errors
        if isinstance(error, review_service.FieldErrors)
        else {error.field or "form": error.message}
    )
    errors: dict[str, str] = {}
    for field, message in found.items():
        shown = form_field.get(field, field)
        errors.setdefault(shown, error_text(request, field, message))
    return errors


def notice_flash(request: Request, code: str | None) -> dict[str, str] | None:
    found = NOTICES.get(code or "")
    return None if found is None else {"kind": "success", "text": pick(request, found)}


def error_flash(request: Request, error: AppError) -> dict[str, str]:
    return {"kind": "error", "text": error_text(request, error.field, error.message)}


def redirect(path: str, notice: str | None = None, anchor: str = "") -> RedirectResponse:
    target = f"{path}?{urlencode({'notice': notice})}" if notice else path
    return RedirectResponse(target + (f"#{anchor}" if anchor else ""), status_code=303)


def page(
    request: Request,
    staff: Staff,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A review page; `tx(text)` picks a rubric text ({"zh": …, "en": …}) in the page language."""
    lang = language(request)

    def tx(text: Mapping[str, str] | None) -> str:
        if not text:
            return ""
        return text.get(lang) or text.get("en") or next(iter(text.values()), "")

    return render(
        request,
        f"reviews/{template}",
        {
            "tx": tx,
            "me": staff.user,
            "is_hr": staff.has_role(*HR_ROLES),
            "manages_cycles": staff.has_role(*MANAGING_ROLES),
            "flash": notice_flash(request, notice),
            **(context or {}),
        },
        staff=staff,
        status_code=status_code,
    )


async def _form(request: Request) -> FormData:
    # Parsed once already (and cached on the request) by the NUL check, with these limits.
    return await request.form(max_files=0, max_fields=400)


FormDep = Annotated[FormData, Depends(_form)]
no_nul_characters = refuse_nul_characters(_form)


def form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def form_id(form: FormData, name: str) -> int | None:
    """A positive id chosen in a select, or None when nothing (or nonsense) was sent."""
    value = form_text(form, name)
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) < 2**31 else None


def form_ids(form: FormData, name: str) -> list[int]:
    ids = []
    for value in form.getlist(name):
        if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) < 2**31:
            ids.append(int(value))
    return ids
