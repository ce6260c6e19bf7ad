"""Scoring throughput: assessments scored per second by the pure function, one core.

Run with `make bench`; prints figures, asserts nothing (targets live in README).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from app.assessments.drawing import draw_items
from app.assessments.scoring import ChoiceResponse, Rating, Response, WorkSampleResponse, score
from app.rubrics.loader import load_rubric
from app.rubrics.versioning import content_version

ROOT = Path(__file__).resolve().parents[2]
GOAL_PER_SECOND = 5_000


def synthetic_responses(seed: int, role_id: str) -> tuple[list[str], dict[str, Response]]:
    rng = random.Random(seed)
    items = RUBRIC.item_index()
    drawn = draw_items(RUBRIC, RUBRIC.role(role_id), seed)
    responses: dict[str, Response] = {}
    for item_id in drawn:
        item = items[item_id]
        if item.is_choice:
            count = 1 if item.select == "single" else rng.randint(1, len(item.options))
            responses[item_id] = ChoiceResponse(
                tuple(o.id for o in rng.sample(list(item.options), count))
            )
        else:
            ratings = tuple(
                Rating(f"r{n}", {c.id: rng.choice(c.levels).id for c in item.criteria})
                for n in range(2)
            )
            responses[item_id] = WorkSampleResponse(ratings)
    return drawn, responses


RUBRIC = load_rubric(ROOT / "rubrics" / "new_media_operator.yaml")


def main() -> None:
    version = content_version(RUBRIC)
    cases = [synthetic_responses(seed, "specialist") for seed in range(500)]
    for drawn, responses in cases[:50]:  # warm-up
        score(RUBRIC, version, "specialist", drawn, responses)
    # Best of several rounds, as timeit does: the least disturbed run is the truest figure.
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        for drawn, responses in cases:
            score(RUBRIC, version, "specialist", drawn, responses)
        timings.append(time.perf_counter() - start)
    per_second = len(cases) / min(timings)
    print(
        f"scoring: {per_second:,.0f} assessments/s on one core "
        f"({len(cases[0][0])} items each; goal {GOAL_PER_SECOND:,}/s, "
        f"ratio {per_second / GOAL_PER_SECOND:.2f}x)"
    )


if __name__ == "__main__":
    main()
