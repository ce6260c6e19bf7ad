"""Serving the app with uvicorn: `yardstick serve`, and the servers the load tests start.

With more than one worker (or with reload) uvicorn binds the listening socket itself,
without saying it is a TCP socket, and asyncio turns Nagle's algorithm off only on
connections that say so. Every response is written as headers, then body: with Nagle's
algorithm on, the body waits for the client to acknowledge the headers, which clients delay
by up to 40 ms. Measured: 0.6 ms per request with one worker, 44 ms with two. Connections
accepted on a listening socket inherit its TCP_NODELAY, so it is set there.

With several workers, each listens on a socket of its own, bound to the same address with
SO_REUSEPORT: the kernel then spreads new connections over the workers. On the one socket
uvicorn shares between them, the worker whose event loop wakes first accepts every
connection waiting, so keep-alive clients (a proxy's, a crowd of candidates) could all end
up on one worker while the others idle (measured: 50 of 50 connections on one of two
workers in three runs out of four).
"""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path
from typing import Any, SupportsIndex

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import ChangeReload, Multiprocess

logger = logging.getLogger("uvicorn.error")
_REUSE_PORT = hasattr(socket, "SO_REUSEPORT")  # Linux and the BSDs


def _listener(family: int, address: Any) -> socket.socket:
    """A TCP socket bound to `address` beside the other workers' (SO_REUSEPORT)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(address)
    return sock


class _WorkerListeners(socket.socket):
    """The address the supervisor holds for its workers, which bind their own sockets to it.

    uvicorn hands the supervisor's socket to each worker process by pickling it; this one
    unpickles as a new socket bound to the same address. The supervisor's own is bound and
    never listens, so it takes no connections.
    """

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        return (_listener, (self.family, self.getsockname()))


class _Config(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        if self.workers > 1 and self.uds is None and self.fd is None and _REUSE_PORT:
            return self._bind_for_workers()
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _bind_for_workers(self) -> socket.socket:
        ipv6 = bool(self.host) and ":" in self.host
        family = socket.AF_INET6 if ipv6 else socket.AF_INET
        sock = _WorkerListeners(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            if self.port:
                # SO_REUSEPORT would let this server share a port another server of the same
                # user already serves: bound without it first, the port must be free.
                with socket.socket(family, socket.SOCK_STREAM) as probe:
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    probe.bind((self.host, self.port))
            sock.bind((self.host, self.port))
        except OSError as error:
            sock.close()
            logger.error(error)
            sys.exit(STARTUP_FAILURE)
        shown = f"[{self.host}]" if ipv6 else self.host
        scheme = "https" if self.is_ssl else "http"
        port = sock.getsockname()[1]
        logger.info(
            "Uvicorn running on %s://%s:%d with a socket per worker (Press CTRL+C to quit)",
            scheme,
            shown,
            port,
        )
        sock.set_inheritable(True)
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
