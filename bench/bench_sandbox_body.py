"""The sandbox's peak memory when sent a 300 MB request body, which it must refuse.

    python bench/bench_sandbox_body.py [--mb 300] [--source DIR]

For each variant (Content-Length or chunked, with or without an API key) a fresh `golive
sandbox` process starts on a free loopback port; its RSS is read, then a raw socket POSTs a
lazily generated body of --mb MB to /v1/payment_intents in 64 KB pieces, stopping early if
the server answers (or closes the connection). The report gives, per variant: the answer,
how much the client had sent when it came, how long that took, and the sandbox's peak RSS
(VmHWM in /proc/<pid>/status) against its RSS before the request.

--source DIR runs the sandbox from another checkout (e.g. `git archive` of the code before
a change, unpacked into DIR) with this checkout's Python environment.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import select
import socket
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_sandbox_memory import sandbox_process  # noqa: E402

MB = 1024 * 1024
PIECE = b"x" * 65536
KEY = "sk_test_benchmark000000000000000000"
TIME_LIMIT_S = 300.0  # per variant: the send loop and the wait for the answer


def proc_kb(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1))


def read_status(sock: socket.socket, deadline: float) -> str:
    """The answer's status line and body, as far as they arrive before EOF or the deadline."""
    data = b""
    sock.settimeout(max(1.0, deadline - time.monotonic()))
    while time.monotonic() < deadline:
        head, sep, rest = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if sep and length and len(rest) >= int(length.group(1)):
            break
        try:
            more = sock.recv(65536)
        except OSError:
            break
        if not more:
            break
        data += more
    if not data:
        return "no answer (connection closed)"
    status = data.split(b"\r\n", 1)[0].decode("latin-1")
    message = re.search(rb'"message":"([^"]{0,60})', data)
    return status + (f' — "{message.group(1).decode()}…"' if message else "")


def send(port: int, size: int, *, chunked: bool, key: bool) -> tuple[int, float, str]:
    """(bytes sent when the answer came or sending failed, seconds, the answer)."""
    head = [
        "POST /v1/payment_intents HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/x-www-form-urlencoded",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}",
        *([f"Authorization: Bearer {KEY}"] if key else []),
    ]
    prefix = b"amount=2000&currency=usd&metadata[note]="
    sent = 0
    started = time.monotonic()
    deadline = started + TIME_LIMIT_S
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        try:
            while sent < size and time.monotonic() < deadline:
                if select.select([sock], [], [], 0)[0]:
                    break  # answered or closed
                piece = (prefix + PIECE[len(prefix) :]) if sent == 0 else PIECE
                piece = piece[: size - sent]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
            if chunked and sent >= size:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # reset while sending: the server stopped reading
        answer = read_status(sock, deadline)
    return sent, time.monotonic() - started, answer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=300, help="body size in MiB")
    parser.add_argument("--source", type=Path, default=None, help="run the sandbox from DIR")
    args = parser.parse_args()
    size = args.mb * MB
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"sandbox from: {args.source or HERE.parent}; body: {args.mb} MiB\n")
    print(
        f"{'variant':<32} {'RSS before':>10} {'peak RSS':>9} {'sent when answered':>19} {'time':>7}  answer"
    )
    for chunked in (False, True):
        for key in (True, False):
            with sandbox_process(args.source, None) as (process, _url):
                port = int(_url.rsplit(":", 1)[1])
                before = proc_kb(process.pid, "VmRSS") / 1024
                sent, elapsed, answer = send(port, size, chunked=chunked, key=key)
                time.sleep(0.5)  # anything the server still does with what it read
                peak = proc_kb(process.pid, "VmHWM") / 1024
            variant = f"{'chunked' if chunked else 'Content-Length'}, {'with' if key else 'no'} key"
            print(
                f"{variant:<32} {before:>7.0f} MB {peak:>6.0f} MB {sent / MB:>15.1f} MiB {elapsed:>6.2f}s  {answer}",
                flush=True,
            )


if __name__ == "__main__":
    main()
