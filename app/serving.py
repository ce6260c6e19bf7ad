"""Serving the app with uvicorn: `yardstick serve`, and the servers the load tests start.

With more than one worker (or with reload) uvicorn binds the listening socket itself,
without saying it is a TCP socket, and asyncio turns Nagle's algorithm off only on
connections that say so. Every response is written as headers, then body: with Nagle's
algorithm on, the body waits for the client to acknowledge the headers, which clients delay
by up to 40 ms. Measured: 0.6 ms per request with one worker, 44 ms with two. Connections
accepted on a listening socket inherit its TCP_NODELAY, so it is set there.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import ChangeReload, Multiprocess


class _Config(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def run(
    app: str = "app.main:create_app",
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    reload: bool = False,
    app_dir: str | Path | None = None,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """`uvicorn.run` for an app factory, with the listening socket as described above."""
    if app_dir is not None:
        sys.path.insert(0, str(app_dir))
    config = _Config(
        app,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=False,
        log_level=log_level,
        access_log=access_log,
    )
    server = uvicorn.Server(config)
    if config.should_reload:
        ChangeReload(config, target=server.run, sockets=[config.bind_socket()]).run()
    elif config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
    if not server.started and not config.should_reload and config.workers == 1:
        sys.exit(STARTUP_FAILURE)
