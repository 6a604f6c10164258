"""The profile's `services:`: processes a run starts beside the app and stops with it.

A service (a local Prometheus scraping the app, a queue worker) starts once the app answers,
since it may need the app's address, on a free loopback port of its own, in a process group
of its own (golive/children.py). It is ready when its `health` path answers 2xx or its output
matches `wait_for_log`, within `timeout_s`; then its `export` variables are set in golive's
environment for the checks (a monitoring block's url_env, say) and taken back when the run
stops it. A service that exits or never gets ready is invalid input (exit 2) naming it and
quoting the end of its output — unless the profile marks it `optional`, when the run goes on
without it after a warning and the checks that need its exports say why they did not run.

A service whose every export is already set in golive's environment is not started: the
environment provides it (say, a team's real Prometheus for the demo's monitoring checks).
Services start only for a run whose checks need them ("services" in a check's needs).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from golive import children, httpclient
from golive.errors import InputError
from golive.profile import Profile, Service
from golive.redact import Redactor
from golive.target_app import RunningApp, expand, free_port, output_tail

POLL_S = 0.1


@dataclass
class RunningService:
    name: str
    port: int
    process: subprocess.Popen | None = field(default=None, repr=False)
    log_path: Path | None = None
    exported: dict[str, str | None] = field(default_factory=dict)  # var -> value before

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop its process group and take its exports back out of the environment."""
        if self.process is not None:
            children.stop_group(self.process, grace_s)
        for var, before in self.exported.items():
            if before is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = before
        self.exported = {}


def due(profile: Profile) -> dict[str, Service]:
    """The profile's services the environment does not already provide."""
    return {
        name: spec
        for name, spec in profile.model.services.items()
        if not spec.export or not all(os.environ.get(var) for var in spec.export)
    }


def start_services(
    profile: Profile, app: RunningApp, *, workdir: Path, redactor: Redactor
) -> list[RunningService]:
    """Start every service of the profile, in order; on any failure (or Ctrl-C) the ones
    started are stopped before the exception goes on."""
    started: list[RunningService] = []
    try:
        for name, spec in due(profile).items():
            running = _start(profile, name, spec, app, workdir=workdir, redactor=redactor)
            if running is not None:
                started.append(running)
    except BaseException:
        stop_services(started)
        raise
    return started


def stop_services(services: list[RunningService]) -> None:
    for service in reversed(services):
        service.stop()


def _start(
    profile: Profile,
    name: str,
    spec: Service,
    app: RunningApp,
    *,
    workdir: Path,
    redactor: Redactor,
) -> RunningService | None:
    port = free_port()
    values = {
        "python": sys.executable,
        "port": str(port),
        "app_base_url": app.base_url,
        "app_address": urlsplit(app.base_url).netloc,
        "profile_dir": str(profile.base_dir),
        "workdir": str(workdir),
    }
    running = RunningService(name=name, port=port, log_path=workdir / f"service-{name}.log")
    argv = [expand(part, values) for part in shlex.split(spec.start)]
    env = {**os.environ, **profile.env, **{k: expand(v, values) for k, v in spec.env.items()}}
    try:
        with running.log_path.open("wb") as log:
            running.process = subprocess.Popen(
                argv,
                cwd=profile.resolve(spec.cwd),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopping its group stops what it started
            )
        _wait_ready(running, spec)
    except (OSError, _NotReady) as exc:
        running.stop()
        tail = output_tail(running.log_path, redactor)
        message = f"service {name} did not start: {exc}" + (
            f"; its output ends: {tail}" if tail else ""
        )
        if spec.optional:
            print(f"golive: warning: {message} ({spec.optional})", file=sys.stderr)
            return None
        raise InputError(
            message,
            file=profile.path,
            hint=f"fix services.{name} in the profile, or run its start command by hand",
        ) from None
    except BaseException:  # Ctrl-C or SIGTERM while it starts
        running.stop()
        raise
    for var, template in spec.export.items():
        running.exported.setdefault(var, os.environ.get(var))
        os.environ[var] = expand(template, values)
    return running


class _NotReady(Exception):
    pass


def _wait_ready(running: RunningService, spec: Service) -> None:
    deadline = time.monotonic() + spec.timeout_s
    pattern = re.compile(spec.wait_for_log, re.MULTILINE) if spec.wait_for_log else None
    url = f"http://127.0.0.1:{running.port}{spec.health}" if spec.health else None
    with httpclient.client(timeout=2) as client:
        while True:
            assert running.process is not None
            if running.process.poll() is not None:
                raise _NotReady(f"it exited with code {running.process.returncode}")
            if _ready(client, url, pattern, running.log_path):
                return
            if time.monotonic() > deadline:
                wanted = " and ".join(
                    w
                    for w in (
                        f"{url} to answer 2xx" if url else "",
                        f"a line matching {spec.wait_for_log!r}" if pattern else "",
                    )
                    if w
                )
                raise _NotReady(f"not ready within {spec.timeout_s:g} s (waited for {wanted})")
            time.sleep(POLL_S)


def _ready(
    client: httpx.Client, url: str | None, pattern: re.Pattern[str] | None, log: Path | None
) -> bool:
    if pattern is not None:
        text = log.read_text(encoding="utf-8", errors="replace") if log and log.exists() else ""
        if not pattern.search(text):
            return False
    if url is not None:
        try:
            return client.get(url).is_success
        except httpx.HTTPError:
            return False
    return True
