"""localstripe from PyPI in a throwaway virtual environment, run on a free port.

localstripe binds every interface (`::`), not loopback, and cannot be told otherwise: while
a test runs, its port is reachable from the network; tests reach it at 127.0.0.1 only.

Used by the backend tests and the benchmark. The environment is cached between runs in
$GOLIVE_CACHE (default ~/.cache/golive) so only the first run pays for the install.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

CACHE = Path(os.environ.get("GOLIVE_CACHE", Path.home() / ".cache" / "golive"))
VENV = CACHE / "localstripe-venv"


def localstripe_binary() -> Path:
    binary = VENV / "bin" / "localstripe"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [
                str(VENV / "bin" / "pip"),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "localstripe",
            ],
            check=True,
        )
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(argv: list[str], port: int, probe_path: str, what: str) -> Iterator[str]:
    """Start a server process on `port`; yield its URL once `probe_path` answers; always stop it."""
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + probe_path, timeout=1, auth=("sk_test_x", ""), trust_env=False)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{what} did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def running_localstripe() -> contextlib.AbstractContextManager[str]:
    """localstripe on a free port."""
    port = free_port()
    argv = [str(localstripe_binary()), "--port", str(port), "--from-scratch"]
    return running_server(argv, port, "/v1/balance", "localstripe")
