"""`yardstick score`: the offline scoring interface gives the hand-computed values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app

HERE = Path(__file__).parent
RUBRIC = HERE / "scoring_rubric.yaml"
runner = CliRunner()


def score_file(name: str, role: str = "analyst") -> tuple[int, str]:
    result = runner.invoke(
        app, ["score", "--rubric", str(RUBRIC), "--role", role, str(HERE / "responses" / name)]
    )
    return result.exit_code, result.output


def test_mixed_responses_give_the_hand_computed_result() -> None:
    code, output = score_file("mixed.json")
    assert code == 0, output
    result = json.loads(output)

    # comp_a: k_single 1 (w 1), k_multi a = 1 of 2 (w 2) → p = 2/3 → L = 1 + 4·2/3 = 11/3.
    assert result["competencies"]["comp_a"]["level"] == pytest.approx(11 / 3)
    # comp_b: s1 good = 2/3 (w 1); w1 = mean(5, 4) / 6 = 0.75 (w 2) → p = 13/18.
    assert result["competencies"]["comp_b"]["fraction"] == pytest.approx(13 / 18)
    assert result["competencies"]["comp_b"]["level"] == pytest.approx(1 + 4 * 13 / 18)
    assert result["competencies"]["comp_b"]["gap"] == pytest.approx(4 - (1 + 4 * 13 / 18))
    # comp_c: k_c drawn but unanswered → 0 → level 1, which is its target.
    assert result["competencies"]["comp_c"]["level"] == 1
    assert result["competencies"]["comp_c"]["gap"] == 0
    # craft = (2·11/3 + 1·(1 + 4·13/18)) / 3
    assert result["dimensions"]["craft"]["level"] == pytest.approx((22 / 3 + 1 + 52 / 18) / 3)
    # fit = (2·1 + 1·((4·13/18) / 3) + 1·1) / 4
    assert result["fit"] == pytest.approx((3 + 52 / 54) / 4)
    assert result["recommendation"]["band"] == "yes"
    assert result["pending"] == []
    assert result["final"] is True
    assert len(result["rubric_version"]) == 64


def test_pending_work_sample_is_listed() -> None:
    code, output = score_file("pending.json")
    assert code == 0, output
    result = json.loads(output)

    assert result["pending"] == ["w1"]
    assert result["final"] is False
    assert result["competencies"]["comp_b"]["level"] is None
    assert result["competencies"]["comp_c"]["assessed"] is False
    # comp_a is the only competency with a level: 1 → fit 0 → "no".
    assert result["overall_level"] == 1
    assert result["recommendation"]["band"] == "no"


def test_unknown_ids_are_all_named() -> None:
    code, output = score_file("bad_ids.json")

    assert code == 1
    assert "unknown item 'nope'" in output
    assert "unknown option 'zzz'" in output
    assert "unknown level 'l7' for criterion 'clarity'" in output
    assert "unknown criterion 'tone'" in output
    assert "Traceback" not in output


def test_unknown_role_is_named() -> None:
    code, output = score_file("mixed.json", role="boss")
    assert code == 1
    assert "unknown role 'boss'" in output


def test_malformed_responses_file_names_the_place(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"responses": {"k_single": {"selected": ["right"]}', encoding="utf-8")
    result = runner.invoke(
        app, ["score", "--rubric", str(RUBRIC), "--role", "analyst", str(broken)]
    )
    assert result.exit_code == 1
    assert "broken.json:1:" in result.output
    assert "invalid JSON" in result.output

    wrong_shape = tmp_path / "shape.json"
    wrong_shape.write_text('{"responses": {}, "score": 5}', encoding="utf-8")
    result = runner.invoke(
        app, ["score", "--rubric", str(RUBRIC), "--role", "analyst", str(wrong_shape)]
    )
    assert result.exit_code == 1
    assert "score" in result.output
