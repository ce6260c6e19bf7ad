"""Every table module, imported so Alembic and the tests see the whole schema."""

from app.accounts import models as account_models
from app.assessments import models as assessment_models
from app.db import Base
from app.plans import models as plan_models
from app.privacy import models as privacy_models
from app.reviews import models as review_models
from app.rubrics import models as rubric_models

__all__ = [
    "Base",
    "account_models",
    "assessment_models",
    "plan_models",
    "privacy_models",
    "review_models",
    "rubric_models",
]
