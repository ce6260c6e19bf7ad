"""Autosave throughput and latency at 50 concurrent clients, beside a bare endpoint of the app.

A real `uvicorn` serves the product app plus one bare route added here only (same JSON body
model, no database); both are measured in the same run, alternating, and compared.
Run with `make bench`; prints figures, asserts nothing (goals in tests/bench/README.md).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import benchkit
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app.main import create_app
from app.web.candidate import AutosaveIn
from app.web.candidate import autosave as AUTOSAVE_ENDPOINT
from tests.load.crowd import Invite, invite
from tests.load.rawhttp import Client
from tests.load.server import Server, ServerFailed, open_connections

CLIENTS = 50
WARM_UP_SECONDS = 1.5
ROUND_SECONDS = 3.0
ROUNDS = 2
GOAL = 0.5  # autosave throughput as a share of the bare endpoint's
BARE_PATH = "/bench/bare"
SLOW_START_SECONDS = 120.0
DEPLOYMENTS = [(backend, workers) for backend in benchkit.backends() for workers in (1, 2)]


def bare(body: AutosaveIn) -> JSONResponse:
    """Reads the same body as autosave and answers alike, touching no database."""
    return JSONResponse({"saved_at": None, "answered": len(body.answers), "total": 0})


def bench_app() -> FastAPI:
    """The product app with the bare route mounted, for uvicorn's `--factory`."""
    application = create_app()
    application.add_api_route(BARE_PATH, bare, methods=["POST"])
    # Routes are matched in order: the bare route goes just before the candidate's routes,
    # so that finding either costs the same.
    routes = application.router.routes
    bare_route = routes.pop()
    candidate = next(i for i, r in enumerate(routes) if _holds(r, AUTOSAVE_ENDPOINT))
    routes.insert(candidate, bare_route)
    return application


def _holds(route: object, endpoint: object) -> bool:
    """Whether a route of the app's table is, or includes, the route of `endpoint`."""
    if getattr(route, "endpoint", None) is endpoint:
        return True
    included = getattr(route, "original_router", None)  # FastAPI's included router
    return included is not None and any(_holds(r, endpoint) for r in included.routes)


@dataclass
class Sample:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: int = 0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


async def _load(client: Client, candidates: list[Invite], bare: bool, seconds: float) -> Sample:
    sample = Sample()
    stop = time.monotonic() + seconds

    async def one_client(candidate: Invite) -> None:
        n = 0
        while time.monotonic() < stop:
            question = candidate.questions[n % len(candidate.questions)]
            path = BARE_PATH if bare else f"{candidate.path}/autosave"
            reply = await client.post_json(path, {"answers": {question.id: question.value(n)}})
            if reply.status == 200:
                sample.latencies.append(reply.seconds)
            else:
                sample.failures += 1
            n += 1

    started = time.monotonic()
    await asyncio.gather(*(one_client(c) for c in candidates))
    sample.seconds = time.monotonic() - started
    return sample


def _connections_per_process(server: Server) -> list[int]:
    """The clients' connections each app process holds: a keep-alive connection stays with
    the process that accepted it, so this tells how evenly the load was spread."""
    pids = server.worker_pids() if server.workers > 1 else [server.pid]
    return sorted((open_connections(pid, server.port) for pid in pids), reverse=True)


async def _measure(server: Server, candidates: list[Invite]) -> tuple[Sample, Sample, list[int]]:
    client = Client(server.base_url, size=CLIENTS)
    try:
        for candidate in candidates:
            reply = await client.post_form(f"{candidate.path}/start", {"consent": "yes"})
            assert reply.status == 303, reply.text
        await _load(client, candidates, True, WARM_UP_SECONDS)
        await _load(client, candidates, False, WARM_UP_SECONDS)
        totals = (Sample(), Sample())
        # Alternating rounds, so a drift of the machine weighs on both alike.
        for _ in range(ROUNDS):
            for total, is_bare in zip(totals, (True, False), strict=True):
                sample = await _load(client, candidates, is_bare, ROUND_SECONDS)
                total.seconds += sample.seconds
                total.latencies += sample.latencies
                total.failures += sample.failures
        split = _connections_per_process(server)
    finally:
        await client.aclose()
    return (*totals, split)


def _row(backend: str, workers: int, name: str, sample: Sample, extra: str = "") -> str:
    ordered = sorted(sample.latencies)
    return (
        f"{backend:<11}{workers:>9}  {name:<9}{sample.per_second:>8.0f}"
        f"{benchkit.percentile(ordered, 0.5) * 1000:>9.1f}"
        f"{benchkit.percentile(ordered, 0.99) * 1000:>9.1f}{sample.failures:>8}  {extra}"
    )


def main() -> None:
    print(
        f"autosave vs a bare endpoint of the same app: {CLIENTS} concurrent keep-alive clients, "
        f"{ROUNDS} alternating rounds of {ROUND_SECONDS:.0f} s each, one client process "
        "on the same machine"
    )
    print(
        f"{'backend':<11}{'processes':>9}  {'endpoint':<9}{'req/s':>8}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'errors':>8}"
    )
    for backend, workers in DEPLOYMENTS:
        with (
            tempfile.TemporaryDirectory() as scratch,
            benchkit.private_database(backend, Path(scratch), "autosave") as url,
        ):
            benchkit.migrate(url)
            server = Server(
                url,
                Path(scratch) / "server.log",
                workers=workers,
                app="bench_autosave:bench_app",
                app_dir=Path(__file__).parent,
            )
            try:
                try:
                    server.start()
                except ServerFailed:
                    # Two app processes importing at once on a busy machine can take longer
                    # than the load tests wait; a server that exited still fails here.
                    server.wait_until_up(timeout=SLOW_START_SECONDS)
                candidates = invite(url, server.base_url, CLIENTS)
                bare_sample, autosave, split = asyncio.run(_measure(server, candidates))
            finally:
                server.stop()
        ratio = autosave.per_second / bare_sample.per_second
        verdict = "meets" if ratio >= GOAL else "misses"
        print(_row(backend, workers, "bare", bare_sample))
        print(
            _row(
                backend,
                workers,
                "autosave",
                autosave,
                f"ratio {ratio:.2f} ({verdict} the goal of {GOAL:.2f})"
                + (
                    f"; client connections per process {'/'.join(map(str, split))}"
                    if workers > 1
                    else ""
                ),
            )
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
