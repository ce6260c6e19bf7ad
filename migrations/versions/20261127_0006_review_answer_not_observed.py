"""review answers: "not observed" in a column of its own

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 12:10:00

Before, `review_answer.level` NULL meant "not observed" and -1 a draft that had only a comment.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_review_answer_level_or_not_observed"
UNCHOSEN = -1  # the old stand-in level of a draft without a choice
answer = sa.table(
    "review_answer", sa.column("level", sa.Integer()), sa.column("not_observed", sa.Boolean())
)


def upgrade() -> None:
    with op.batch_alter_table("review_answer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("not_observed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(answer.update().where(answer.c.level.is_(None)).values(not_observed=True))
    op.execute(answer.update().where(answer.c.level == UNCHOSEN).values(level=None))
    with op.batch_alter_table("review_answer", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f(CHECK), "level IS NULL OR NOT not_observed")


def downgrade() -> None:
    op.execute(
        answer.update()
        .where(answer.c.level.is_(None), answer.c.not_observed == sa.false())
        .values(level=UNCHOSEN)
    )
    with op.batch_alter_table("review_answer", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.drop_column("not_observed")
