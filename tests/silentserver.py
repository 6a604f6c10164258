"""A target that never answers: a real TCP server on 127.0.0.1 that accepts connections,
reads what is sent and never writes a byte back.

It stands for an app that hangs (a deadlocked worker, a full accept queue behind a load
balancer). Its life is bounded: every connection is dropped and the server stops on
`close()`, or after `lifetime_s` whatever happens.

    with SilentServer() as silent:
        ... point a profile's app.base_url at silent.url ...
"""

from __future__ import annotations

import socket
import threading
import time


class SilentServer:
    def __init__(self, lifetime_s: float = 600.0) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._until = time.monotonic() + lifetime_s
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._until:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:
                self.connections += 1
                self._held.append(conn)
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()
        self.close()

    def _hold(self, conn: socket.socket) -> None:
        # Read (so the client's write never blocks) and say nothing, until closed.
        conn.settimeout(0.2)
        while not self._stop.is_set() and time.monotonic() < self._until:
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            held, self._held = self._held, []
        for conn in held:
            conn.close()
        self._listener.close()

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self._thread.join(timeout=5)
