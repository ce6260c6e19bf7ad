"""Many candidate reports at once: a spawn process pool, recycled workers, progress on stderr.

Each worker has its own database engine and WeasyPrint set-up (fonts, parsed CSS). A job
loads its data in a short transaction that ends before rendering, so workers never hold a
database lock while WeasyPrint runs. A job that fails is reported; the others go on.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.db import make_engine
from app.errors import AppError
from app.reports import render
from app.reports import service as report_service
from app.reports.documents import Document

# WeasyPrint and Pango keep caches that grow with every document; a fresh process now and
# then keeps a long batch's memory flat.
MAX_TASKS_PER_CHILD = 40
BAR_WIDTH = 30
CANDIDATE_TEMPLATE = "reports/candidate.html"

_engine: Engine | None = None


@dataclass(frozen=True)
class Job:
    assessment_id: int
    lang: str
    out_dir: Path


@dataclass(frozen=True)
class Outcome:
    assessment_id: int
    path: Path | None
    error: str | None
    size: int
    seconds: float
    # CPU time the worker spent on it: with `seconds`, tells waiting from working.
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def load_candidate(session: Session, assessment_id: int, lang: str) -> Document:
    return report_service.candidate_report(
        session, report_service.command_line_operator(), assessment_id, lang
    )


def write_pdf(document: Document, out: Path) -> int:
    """Render and write atomically: a reader never sees half a file."""
    pdf = report_service.pdf(document)
    partial = out.with_name(f".{out.name}.{os.getpid()}.part")
    partial.write_bytes(pdf)
    partial.replace(out)
    return len(pdf)


WARM_UP = (
    '<!doctype html><html lang="zh-CN"><body><p>报告 Report <b>报告 Report</b></p></body></html>'
)


def _init_worker(database_url: str) -> None:
    global _engine
    _engine = make_engine(database_url)
    # Pay once per worker, not in its first job: the stylesheet, the template, and loading
    # the regular and bold CJK faces (the first PDF of a process is slower by that much).
    render.environment().get_template(CANDIDATE_TEMPLATE)
    render.render_pdf(WARM_UP, title="warm-up", lang="zh")
    # What is alive now (modules, fonts, the parsed stylesheet) lives as long as the worker:
    # spare the garbage collector's full collections from scanning it again and again.
    gc.collect()
    gc.freeze()


def render_job(job: Job) -> Outcome:
    """One report; any failure becomes the outcome's error message instead of an exception."""
    start, cpu = time.perf_counter(), time.process_time()

    def outcome(path: Path | None, error: str | None, size: int = 0) -> Outcome:
        seconds = time.perf_counter() - start
        return Outcome(job.assessment_id, path, error, size, seconds, time.process_time() - cpu)

    try:
        if _engine is None:
            raise RuntimeError("worker not initialised")
        with Session(_engine) as session:
            document = load_candidate(session, job.assessment_id, job.lang)
            # Read-only: end the transaction (and any SQLite lock) before rendering.
            session.rollback()
        out = job.out_dir / f"{document.filename}.pdf"
        size = write_pdf(document, out)
    except AppError as error:
        return outcome(None, error.message)
    except Exception as error:
        return outcome(None, f"{type(error).__name__}: {error}")
    return outcome(out, None, size)


class Progress:
    """A bar redrawn in place on a terminal; one line per finished job anywhere else."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.live = stream.isatty()

    def step(self, outcome: Outcome) -> None:
        self.done += 1
        state = "ok" if outcome.ok else "FAILED"
        if self.live:
            filled = round(BAR_WIDTH * self.done / max(self.total, 1))
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total}")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(
                f"[{self.done}/{self.total}] assessment {outcome.assessment_id}: {state}\n"
            )
        self.stream.flush()


def run(
    jobs: Sequence[Job],
    *,
    database_url: str,
    workers: int,
    progress: TextIO = sys.stderr,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Render every job in `workers` spawned processes; outcomes in the order of `jobs`."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    bar = Progress(len(jobs), progress)
    found: dict[int, Outcome] = {}
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(database_url,),
        max_tasks_per_child=MAX_TASKS_PER_CHILD,
    ) as pool:
        futures = {pool.submit(render_job, job): n for n, job in enumerate(jobs)}
        for future in as_completed(futures):
            n = futures[future]
            try:
                outcome = future.result()
            except Exception as error:  # a worker died (e.g. killed): that job failed
                message = f"worker failed: {type(error).__name__}: {error}"
                outcome = Outcome(jobs[n].assessment_id, None, message, 0, 0.0)
            found[n] = outcome
            bar.step(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    return [found[n] for n in range(len(jobs))]
