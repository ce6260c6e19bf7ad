"""`yardstick serve` with several workers: connections spread over the workers, and
responses not held back by Nagle's algorithm."""

from __future__ import annotations

import asyncio
import pickle
import socket
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import pytest

from app import migrations
from app.serving import _Config
from tests.load.rawhttp import Client
from tests.load.server import Server, open_connections


def worker_socket(supervisors: socket.socket) -> socket.socket:
    """What a worker process receives: uvicorn pickles the supervisor's sockets to it."""
    received: socket.socket = pickle.loads(ForkingPickler.dumps(supervisors))
    return received


def test_connections_accepted_by_a_worker_send_without_delay() -> None:
    # asyncio leaves Nagle's algorithm on for connections of a socket it did not create,
    # which holds each response body back until the client's delayed acknowledgement of the
    # headers (40 ms a request, measured).
    config = _Config("app.main:create_app", factory=True, host="127.0.0.1", port=0, workers=2)
    with config.bind_socket() as supervisors, worker_socket(supervisors) as listening:
        listening.listen()
        with socket.create_connection(listening.getsockname()[:2]) as _client:
            accepted, _ = listening.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_each_worker_listens_on_its_own_socket_at_the_supervisors_address() -> None:
    config = _Config("app.main:create_app", factory=True, host="127.0.0.1", port=0, workers=2)
    with (
        config.bind_socket() as supervisors,
        worker_socket(supervisors) as first,
        worker_socket(supervisors) as second,
    ):
        first.listen()
        second.listen()

        assert first.getsockname() == second.getsockname() == supervisors.getsockname()
        assert first.fileno() != second.fileno()
        # The supervisor's socket only holds the address: a client reaches a worker.
        with socket.create_connection(supervisors.getsockname()[:2]) as _client:
            first.settimeout(0.5)
            second.settimeout(0.5)
            accepted = []
            for listening in (first, second):
                try:
                    accepted.append(listening.accept()[0])
                except TimeoutError:
                    continue
            assert len(accepted) == 1
            accepted[0].close()


def test_a_server_with_several_workers_does_not_share_a_port_already_served() -> None:
    # Its workers' sockets allow sharing the address with each other: a second server
    # started on the same port by mistake must fail, not take half the connections.
    first = _Config("app.main:create_app", factory=True, host="127.0.0.1", port=0, workers=2)
    with first.bind_socket() as supervisors, worker_socket(supervisors) as serving:
        serving.listen()
        port = serving.getsockname()[1]
        second = _Config(
            "app.main:create_app", factory=True, host="127.0.0.1", port=port, workers=2
        )
        with pytest.raises(SystemExit):
            second.bind_socket()


@pytest.mark.slow
def test_keep_alive_clients_are_spread_over_the_workers(tmp_path: Path) -> None:
    # On one shared socket the worker that woke first took every waiting connection: all
    # 50 on one worker in three runs out of four, the other worker idle.
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    migrations.upgrade(url)
    server = Server(url, tmp_path / "server.log", workers=2)
    server.start()
    try:

        async def connect_all() -> dict[int, int]:
            client = Client(server.base_url, size=40)
            try:
                replies = await asyncio.gather(*(client.get("/api/v1/health") for _ in range(40)))
                assert {reply.status for reply in replies} == {200}
                return {pid: open_connections(pid, server.port) for pid in server.worker_pids()}
            finally:
                await client.aclose()

        held = asyncio.run(connect_all())
    finally:
        server.stop()

    assert sum(held.values()) == 40
    # Spread by a hash of each connection's address: both busy (all 40 on one: 2 in 10¹²).
    assert all(count > 0 for count in held.values()), held
