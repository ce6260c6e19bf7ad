"""Rules every review module shares: statuses, who counts as HR, field errors, group labels."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from app.accounts.models import Role, User
from app.errors import Forbidden, InvalidInput
from app.reviews.aggregation import Group, ReviewPolicy
from app.reviews.models import ReviewCycle

# Re-exported: the review modules name roles through this one.
from app.rubrics.labels import role_name as role_name
from app.rubrics.labels import t as t
from app.rubrics.spec import Text

HR_ROLES = frozenset({Role.HR, Role.ADMIN})
# Roles that may run cycles; which cycles is decided per object (the team's lead, or HR).
MANAGING_ROLES = frozenset({Role.LEAD, Role.HR, Role.ADMIN})
NAME_MAX = 200
COMMENT_MAX = 2000


class CycleStatus(StrEnum):
    OPEN = "open"
    # Closed and released in one step: results exist exactly when the cycle is released.
    RELEASED = "released"


class RequestStatus(StrEnum):
    NOMINATED = "nominated"
    APPROVED = "approved"
    DECLINED = "declined"


GROUP_LABELS: Mapping[str, Text] = {
    Group.SELF.value: {"zh": "自评", "en": "Self"},
    Group.MANAGER.value: {"zh": "上级", "en": "Manager"},
    Group.PEER.value: {"zh": "同事", "en": "Peers"},
    Group.REPORT.value: {"zh": "下属", "en": "Direct reports"},
}
CYCLE_STATUS_LABELS: Mapping[str, Text] = {
    CycleStatus.OPEN.value: {"zh": "进行中", "en": "Open"},
    CycleStatus.RELEASED.value: {"zh": "已发布结果", "en": "Results released"},
}
REQUEST_STATUS_LABELS: Mapping[str, Text] = {
    RequestStatus.NOMINATED.value: {"zh": "待审批", "en": "Awaiting approval"},
    RequestStatus.APPROVED.value: {"zh": "已确认", "en": "Approved"},
    RequestStatus.DECLINED.value: {"zh": "已拒绝", "en": "Declined"},
}


class FieldErrors(InvalidInput):
    """Several fields are wrong at once; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        first = next(iter(errors))
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), field=first)
        self.errors = dict(errors)


def is_hr(user: User) -> bool:
    return Role(user.role) in HR_ROLES


def require_managing_role(user: User) -> None:
    """Members never run cycles: a 403 before any object is looked at."""
    if Role(user.role) not in MANAGING_ROLES:
        raise Forbidden("only team leads, HR and admins may do this")


def group_label(group: str) -> Text:
    return dict(GROUP_LABELS.get(group, t(group, group)))


def policy_of(cycle: ReviewCycle) -> ReviewPolicy:
    return ReviewPolicy(
        min_raters=dict(cycle.min_raters),
        group_weights=dict(cycle.group_weights),
        comment_seed=cycle.comment_seed,
    )
