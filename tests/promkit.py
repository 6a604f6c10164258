"""A real Prometheus server for the monitoring tests (Debian's `prometheus` package).

    prom = start_prometheus(tmp_path, scrape=["127.0.0.1:8123"], rules=[rules_file])
    prom.url                       # http://127.0.0.1:PORT
    prom.wait_for('shop_orders_created_total > 0')
    prom.stop()

It scrapes the given loopback targets every second (job `shop`), evaluates its rule files
every second, keeps its data in a temporary folder, and listens on a free 127.0.0.1 port.
A machine without the binary fails the test with the command that installs it (.ci/run
installs it in CI): a monitoring test never passes by skipping. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from shopkit import free_port, wait_for

INSTALL = "apt-get update && apt-get install -y prometheus"
START_TIMEOUT_S = 30.0
WAIT_S = 30.0  # a bound for scrapes and rule evaluations to show up, never a timing check


def binary() -> str:
    """The prometheus binary; the test fails naming the install command without it."""
    found = shutil.which("prometheus")
    if not found:
        pytest.fail(f"the prometheus binary is not installed; install it with: {INSTALL}")
    return found


class PrometheusProcess:
    def __init__(self, workdir: Path, scrape: list[str], rules: list[Path]) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.scrape = scrape
        self.rules = rules
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.taken = False  # another Prometheus answered on the port picked

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        return {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in self.rules],
            "scrape_configs": [
                {
                    "job_name": "shop",
                    "scrape_interval": "1s",
                    "scrape_timeout": "900ms",
                    "static_configs": [{"targets": self.scrape}],
                }
            ],
        }

    def start(self) -> PrometheusProcess:
        config = self.workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        exe = binary()
        for _ in range(3):  # a port picked free can be taken before Prometheus binds it
            self.port = free_port()
            self.taken = False
            log = (self.workdir / "prometheus.log").open("wb")
            self.proc = subprocess.Popen(
                [
                    exe,
                    f"--config.file={config}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    f"--storage.tsdb.path={self.workdir / 'data'}",
                    "--web.enable-lifecycle",
                    "--log.level=warn",
                ],
                cwd=self.workdir,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            log.close()
            if self._wait_ready():
                return self
            if "address already in use" not in self.log().lower() and not self.taken:
                break
        raise RuntimeError(f"Prometheus did not start:\n{self.log()[-3000:]}")

    def _wait_ready(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(trust_env=False, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                    # Ready, and ours: another test's Prometheus may hold the port we
                    # picked while ours is still failing to bind it.
                    if client.get(f"{self.url}/-/ready").status_code == 200:
                        flags = client.get(f"{self.url}/api/v1/status/flags").json()["data"]
                        if flags["storage.tsdb.path"] == str(self.workdir / "data"):
                            return True
                        self.taken = True  # ours cannot bind it: start again elsewhere
                        self.stop()
                        return False
                time.sleep(0.05)
        self.stop()
        return False

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def log(self) -> str:
        path = self.workdir / "prometheus.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- reading it back ------------------------------------------------------------------

    def api(self, path: str, **params: Any) -> Any:
        with httpx.Client(trust_env=False, timeout=10) as client:
            body = client.get(f"{self.url}{path}", params=params).json()
        assert body["status"] == "success", body
        return body["data"]

    def wait_for(self, expr: str, what: str | None = None) -> list[dict]:
        """Until the instant query `expr` returns a series (e.g. `x > 0`)."""
        return wait_for(
            lambda: self.api("/api/v1/query", query=expr)["result"], what or expr, WAIT_S
        )

    def wait_rules_evaluated(self, after: datetime | None = None) -> list[dict]:
        """Until every loaded rule has been evaluated (health ok or err) — at or after
        `after`, when given: an evaluation before the first scrape sees no series and
        is healthy whatever the expression."""

        def evaluated() -> list[dict] | None:
            rules = [r for g in self.api("/api/v1/rules")["groups"] for r in g["rules"]]
            if any(r["health"] == "unknown" for r in rules):
                return None
            if after is not None and any(
                datetime.fromisoformat(r["lastEvaluation"]) < after for r in rules
            ):
                return None
            return rules

        return wait_for(evaluated, "every rule evaluated", WAIT_S)


def start_prometheus(workdir: Path, scrape: list[str], rules: list[Path]) -> PrometheusProcess:
    return PrometheusProcess(workdir, scrape, rules).start()


@contextlib.contextmanager
def running(workdir: Path, scrape: list[str], rules: list[Path]) -> Iterator[PrometheusProcess]:
    prom = start_prometheus(workdir, scrape, rules)
    try:
        yield prom
    finally:
        prom.stop()
