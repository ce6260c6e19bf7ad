"""API views of a rubric: a summary for lists, and the outline with roles and targets."""

from __future__ import annotations

from pydantic import BaseModel

from app.rubrics.service import LoadedRubric
from app.rubrics.spec import Text


class RoleTargetOut(BaseModel):
    competency: str
    target: float
    weight: float
    critical: bool


class RoleOut(BaseModel):
    id: str
    name: Text
    targets: list[RoleTargetOut]
    items_drawn: int


class CompetencyOut(BaseModel):
    id: str
    dimension: str
    name: Text
    anchors: dict[int, Text]


class RubricSummaryOut(BaseModel):
    id: str
    version: str
    name: Text
    roles: list[str]

    @classmethod
    def of(cls, loaded: LoadedRubric) -> RubricSummaryOut:
        rubric = loaded.rubric
        return cls(
            id=rubric.id,
            version=loaded.version,
            name=rubric.name,
            roles=[r.id for r in rubric.roles],
        )


class RubricOut(RubricSummaryOut):
    languages: list[str]
    competencies: list[CompetencyOut]
    role_profiles: list[RoleOut]

    @classmethod
    def of(cls, loaded: LoadedRubric) -> RubricOut:
        rubric = loaded.rubric
        return cls(
            id=rubric.id,
            version=loaded.version,
            name=rubric.name,
            roles=[r.id for r in rubric.roles],
            languages=list(rubric.languages),
            competencies=[
                CompetencyOut(id=c.id, dimension=d.id, name=c.name, anchors=c.anchors)
                for d, c in rubric.competencies()
            ],
            role_profiles=[
                RoleOut(
                    id=role.id,
                    name=role.name,
                    targets=[
                        RoleTargetOut(
                            competency=cid, target=t.target, weight=t.weight, critical=t.critical
                        )
                        for cid, t in role.targets.items()
                    ],
                    items_drawn=sum(entry.count for entry in role.blueprint),
                )
                for role in rubric.roles
            ],
        )
