"""Candidate report speed: per report against the floor, warm and cold; batch throughput.

The floor is WeasyPrint rendering the same report's text as plain HTML, in the same process,
with the same fonts: every block of the report (paragraph, list item, heading, chart) becomes
one `<p>` of its visible text, except that the report's `<h1>`–`<h3>` stay headings (bold by
the user agent's style, at the body size), so the floor embeds the regular and the bold face
as the report does. No margin boxes, boxes, colours or charts; the same page size and
margins. The ratio to a regular-face-only floor (every block a `<p>`) is printed beside it.
Run with `make bench` (a temporary SQLite database with the demo data is built first); prints
figures, asserts nothing.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pypdf
from sqlalchemy import select
from sqlalchemy.orm import Session
from weasyprint import CSS, HTML  # type: ignore[import-untyped]

from app import demo, migrations
from app.assessments.models import AssessmentResult
from app.config import Settings
from app.db import make_engine
from app.reports import batch, render, stack_room
from app.reports import service as report_service

ROOT = Path(__file__).resolve().parents[2]

GOAL_RATIO = 1.5
GOAL_SECONDS_PER_3_PAGES = 0.5
GOAL_SCALING = 1.8
ROUNDS = 5
BATCH_JOBS = 24
FLOOR_CSS = """
@page { size: A4; margin: 24mm 18mm 22mm 18mm; }
html { font-family: "Noto Sans CJK SC", "Noto Sans CJK JP", sans-serif; font-size: 10pt;
       line-height: 1.55; }
p { margin: 0 0 2.5mm; }
h1, h2, h3 { font-size: 10pt; margin: 0 0 2.5mm; }
"""
BLOCKS = {
    "p", "li", "td", "th", "h1", "h2", "h3", "dt", "dd", "div", "figcaption", "svg", "section",
}  # fmt: skip


HEADINGS = ("h1", "h2", "h3")


class _Text(HTMLParser):
    """The visible text of report markup, one block per paragraph (a chart is one); the
    report's headings stay headings, everything else becomes a plain paragraph."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[str, str]] = []
        self.current: list[str] = []
        self.skip = 0
        self.in_svg = 0
        self.heading = ""

    def _flush(self) -> None:
        text = " ".join(" ".join(self.current).split())
        if text:
            self.blocks.append((self.heading or "p", text))
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "title", "desc", "head"):
            self.skip += 1
        if tag == "svg":
            self.in_svg += 1
        if tag in BLOCKS and not self.in_svg:
            self._flush()
            if tag in HEADINGS:
                self.heading = tag

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "desc", "head"):
            self.skip -= 1
        if tag == "svg":
            self.in_svg -= 1
        if tag in BLOCKS and not self.in_svg:
            self._flush()
            if tag in HEADINGS:
                self.heading = ""

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)


def plain_html(markup: str, tag: str, *, headings: bool = True) -> str:
    """The report's text as plain HTML: `<h1>`–`<h3>` for its headings (bold by the user
    agent's default style), `<p>` for every other block; with `headings=False`, all `<p>`."""
    parser = _Text()
    parser.feed(markup)
    parser._flush()
    body = "".join(
        f"<{name}>{escape(text)}</{name}>" if headings else f"<p>{escape(text)}</p>"
        for name, text in parser.blocks
    )
    head = f'<!doctype html><html lang="{tag}"><head><meta charset="utf-8"></head>'
    return f"{head}<body>{body}</body></html>"


_floor_css: Any = None


def _floor_write(html: str) -> bytes:
    document = HTML(string=html).render(font_config=render.font_config(), stylesheets=[_floor_css])
    pdf: bytes = document.write_pdf()
    return pdf


def floor_pdf(html: str) -> bytes:
    global _floor_css
    if _floor_css is None:
        _floor_css = CSS(string=FLOOR_CSS, font_config=render.font_config())
    # Rendered as the report is (`render.render_pdf`): the garbage collector paused, the
    # document gone before the collection that ends the pause, and the same frame-stack room
    # (`stack_room`). Same process, same treatment.
    with render.gc_paused():
        return stack_room.call(_floor_write, html)


@dataclass
class Timing:
    load: float
    template: float
    pdf: float
    pages: int

    @property
    def total(self) -> float:
        return self.load + self.template + self.pdf


def report_once(url: str, assessment_id: int, lang: str) -> tuple[Timing, str]:
    """Data loading (queries, rubric, plan, charts), template, PDF: one candidate report."""
    engine = _engine(url)
    start = time.perf_counter()
    with Session(engine) as session:
        document = report_service.candidate_report(
            session, report_service.command_line_operator(), assessment_id, lang
        )
        session.rollback()
    loaded = time.perf_counter()
    markup = render.pdf_markup(document.template, document.context)
    templated = time.perf_counter()
    pdf = render.render_pdf(markup, title=document.title, lang=lang)
    done = time.perf_counter()
    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return Timing(loaded - start, templated - loaded, done - templated, pages), markup


def floor_once(markup: str, lang: str, *, headings: bool = True) -> float:
    html = plain_html(markup, render.html_lang(lang), headings=headings)
    start = time.perf_counter()
    floor_pdf(html)
    return time.perf_counter() - start


_engines: dict[str, Any] = {}


def _engine(url: str) -> Any:
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def build_database(directory: Path) -> tuple[str, list[int]]:
    url = f"sqlite:///{directory / 'bench.db'}"
    migrations.upgrade(url)
    settings = Settings(database_url=url, rubrics_dir=ROOT / "rubrics")
    engine = _engine(url)
    with Session(engine) as session:
        demo.load(session, settings)
        session.commit()
        ids = list(
            session.scalars(select(AssessmentResult.assessment_id).order_by("assessment_id"))
        )
    return url, ids


@dataclass
class Warm:
    assessment_id: int
    report: Timing
    floor: float
    # The floor without headings: the regular face alone.
    floor_regular: float


def warm(url: str, ids: list[int], lang: str) -> list[Warm]:
    """Best of ROUNDS for the report and for both floors, measured in turns so that all see
    the same machine (other processes come and go)."""
    rows = []
    for assessment_id in ids:
        _, markup = report_once(url, assessment_id, lang)  # warm-up
        floor_once(markup, lang)
        floor_once(markup, lang, headings=False)
        reports, floors, regular = [], [], []
        for _ in range(ROUNDS):
            reports.append(report_once(url, assessment_id, lang)[0])
            floors.append(floor_once(markup, lang))
            regular.append(floor_once(markup, lang, headings=False))
        best = min(reports, key=lambda t: t.total)
        rows.append(Warm(assessment_id, best, min(floors), min(regular)))
    return rows


def cold(url: str, assessment_id: int, lang: str) -> tuple[float, float]:
    """First report, and first floor, each in a fresh process (fonts and CSS not cached)."""
    found = []
    for mode in ("report", "floor"):
        out = subprocess.run(
            [sys.executable, __file__, "--cold", mode, url, str(assessment_id), lang],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        found.append(float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"]))
    return found[0], found[1]


def _cold_child(mode: str, url: str, assessment_id: int, lang: str) -> None:
    if mode == "report":
        timing, _ = report_once(url, assessment_id, lang)
        seconds = timing.total
    else:
        # The floor's text comes from the template alone (no PDF made before timing).
        with Session(_engine(url)) as session:
            document = report_service.candidate_report(
                session, report_service.command_line_operator(), assessment_id, lang
            )
        seconds = floor_once(render.pdf_markup(document.template, document.context), lang)
    print(json.dumps({"seconds": seconds}))


@dataclass
class Throughput:
    whole: float
    steady: float
    # CPU seconds the workers spent per wall second in steady state: below the worker count
    # when they wait (for a lock, or for a CPU other processes hold).
    busy: float


def throughput(url: str, ids: list[int], workers: int, out: Path) -> Throughput:
    """Reports per second over the whole run (pool start-up included), and in steady state:
    from the moment every worker finished its first report to the last report."""
    jobs = [batch.Job(ids[n % len(ids)], "zh", out) for n in range(BATCH_JOBS)]
    finished: list[tuple[float, batch.Outcome]] = []
    with open(os.devnull, "w") as quiet:
        start = time.perf_counter()
        outcomes = batch.run(
            jobs,
            database_url=url,
            workers=workers,
            progress=quiet,
            on_outcome=lambda o: finished.append((time.perf_counter(), o)),
        )
        seconds = time.perf_counter() - start
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise SystemExit(f"batch failed: {failed[0].error}")
    steady_wall = finished[-1][0] - finished[workers - 1][0]
    steady_cpu = sum(o.cpu_seconds for _, o in finished[workers:])
    return Throughput(
        len(jobs) / seconds, (len(jobs) - workers) / steady_wall, steady_cpu / steady_wall
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        url, ids = build_database(Path(directory))
        print(f"candidate reports: {len(ids)} demo assessments with a result, best of {ROUNDS}")
        print(
            f"{'id':>3} {'lang':>4} {'pages':>5} {'load':>6} {'tmpl':>6} {'pdf':>6} "
            f"{'total':>6} {'floor':>6} {'ratio':>6} {'s/3pp':>6} {'floor-r':>7} {'ratio-r':>7}"
        )
        ratios, per3, regular = [], [], []
        for lang in ("zh", "en"):
            for row in warm(url, ids, lang):
                t = row.report
                ratio, ratio_r = t.total / row.floor, t.total / row.floor_regular
                three = t.total / t.pages * 3
                ratios.append(ratio)
                regular.append(ratio_r)
                per3.append(three)
                print(
                    f"{row.assessment_id:>3} {lang:>4} {t.pages:>5} {t.load:>6.3f} "
                    f"{t.template:>6.3f} {t.pdf:>6.3f} {t.total:>6.3f} {row.floor:>6.3f} "
                    f"{ratio:>5.2f}x {three:>6.3f} {row.floor_regular:>7.3f} {ratio_r:>6.2f}x"
                )
        print(
            f"warm: median ratio {statistics.median(ratios):.2f}x the floor (goal ≤ "
            f"{GOAL_RATIO}x; {statistics.median(regular):.2f}x the regular-face-only floor), "
            f"median {statistics.median(per3):.3f} s per 3 pages "
            f"(goal ≤ {GOAL_SECONDS_PER_3_PAGES} s)"
        )
        report_cold, floor_cold = cold(url, ids[0], "zh")
        print(
            f"cold (fresh process, assessment {ids[0]}, zh): report {report_cold:.2f} s, "
            f"floor {floor_cold:.2f} s, ratio {report_cold / floor_cold:.2f}x"
        )
        load = os.getloadavg()[0]
        one = throughput(url, ids, 1, Path(directory))
        two = throughput(url, ids, 2, Path(directory))
        print(
            f"batch ({BATCH_JOBS} zh reports, spawn pool) on {os.cpu_count()} CPUs, load "
            f"average {load:.1f} before:\n"
            f"  whole run: 1 worker {one.whole:.2f}/s, 2 workers {two.whole:.2f}/s, "
            f"scaling {two.whole / one.whole:.2f}x (goal ≥ {GOAL_SCALING}x)\n"
            f"  steady state: 1 worker {one.steady:.2f}/s, 2 workers {two.steady:.2f}/s, "
            f"scaling {two.steady / one.steady:.2f}x; CPUs kept busy {one.busy:.2f} and "
            f"{two.busy:.2f}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--cold":
        _cold_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        main()
