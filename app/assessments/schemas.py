"""Input models for scoring: the offline responses file of ARCHITECTURE §3."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.assessments.scoring import ChoiceResponse, Rating, Response, WorkSampleResponse


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RatingIn(Strict):
    rater: str = Field(min_length=1)
    criteria: dict[str, str]

    def to_rating(self) -> Rating:
        return Rating(rater=self.rater, criteria=dict(self.criteria))


class ChoiceIn(Strict):
    selected: list[str]


class WorkSampleIn(Strict):
    ratings: list[RatingIn] = []
    adjudication: RatingIn | None = None


class ResponsesFileIn(Strict):
    items: list[str] | None = None
    responses: dict[str, ChoiceIn | WorkSampleIn] = {}

    def drawn_items(self) -> list[str]:
        return list(self.items) if self.items is not None else list(self.responses)

    def to_responses(self) -> dict[str, Response]:
        converted: dict[str, Response] = {}
        for item_id, answer in self.responses.items():
            if isinstance(answer, ChoiceIn):
                converted[item_id] = ChoiceResponse(tuple(answer.selected))
            else:
                converted[item_id] = WorkSampleResponse(
                    ratings=tuple(r.to_rating() for r in answer.ratings),
                    adjudication=answer.adjudication.to_rating() if answer.adjudication else None,
                )
        return converted
