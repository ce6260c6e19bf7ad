"""`yardstick serve` with several workers: responses are not held back by Nagle's algorithm."""

from __future__ import annotations

import socket

from app.serving import _Config


def test_connections_accepted_by_a_multi_worker_server_send_without_delay() -> None:
    # With several workers uvicorn binds this socket and asyncio leaves Nagle's algorithm on
    # for its connections, which holds each response body back until the client's delayed
    # acknowledgement of the headers (40 ms a request, measured).
    config = _Config("app.main:create_app", factory=True, host="127.0.0.1", port=0, workers=2)
    listening = config.bind_socket()
    try:
        listening.listen()
        with socket.create_connection(listening.getsockname()[:2]) as _client:
            accepted, _ = listening.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listening.close()
