"""Pure modules stay pure: scoring and statistics import no database, web or I/O layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"
PURE_MODULES = [
    "app/assessments/scoring.py",
    "app/assessments/drawing.py",
    "app/assessments/states.py",
    "app/rubrics/spec.py",
    "app/stats/agreement.py",
    "app/plans/gaps.py",
    "app/reviews/aggregation.py",
    "app/reports/charts.py",
    "app/reports/svg.py",
    "app/plans/practice.py",
    "app/rubrics/labels.py",
]
FORBIDDEN = ("sqlalchemy", "fastapi", "starlette", "app.db", "app.config", "jinja2", "weasyprint")
# Pure modules may lean on each other, never on services, models or fronts.
ALLOWED_APP_IMPORTS = {
    "app.rubrics.spec",
    "app.errors",
    "app.assessments.scoring",
    "app.stats.agreement",
    "app.reports.svg",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_nothing_impure(module: str) -> None:
    imports = imported_modules(APP.parent / module)

    forbidden = {m for m in imports if m.startswith(FORBIDDEN)}
    assert not forbidden, f"{module} imports {sorted(forbidden)}"
    app_imports = {m for m in imports if m.startswith("app.")} - ALLOWED_APP_IMPORTS
    assert not app_imports, f"{module} imports {sorted(app_imports)}"


def test_fronts_do_not_reach_into_models_of_other_fronts() -> None:
    for path in (APP / "api").glob("*.py"):
        imports = imported_modules(path)
        assert not {m for m in imports if m.startswith("app.web")}, path.name
    for path in (APP / "web").glob("*.py"):
        imports = imported_modules(path)
        assert not {m for m in imports if m.startswith("app.api")}, path.name
