"""Starting and stopping the target app for a run, like Playwright's `webServer`.

The profile's `app.start` runs in the foreground on a port the harness picks, in a process
group of its own; the run waits for `app.health` to answer 2xx, and the whole group is
stopped (SIGTERM, then SIGKILL) when the run ends — after a failure or Ctrl-C too, while it
starts included. An app that exits or never answers is invalid input (exit 2) naming the
command and quoting the end of its output.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from golive import children, httpclient
from golive.errors import InputError
from golive.profile import App, Profile
from golive.redact import Redactor


@dataclass
class RunningApp:
    base_url: str
    webhook_url: str
    process: subprocess.Popen | None = field(default=None, repr=False)
    log_path: Path | None = None

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop the app's whole process group (what it started too), even if the app
        itself has already exited."""
        if self.process is not None:
            children.stop_group(self.process, grace_s)

    def describe(self) -> dict[str, str]:
        return {"base_url": self.base_url, "webhook_url": self.webhook_url}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(
    profile: Profile, spec: App, *, stripe_api_base: str | None, workdir: Path, redactor: Redactor
) -> RunningApp:
    port = spec.port or free_port()
    values = {
        "python": sys.executable,
        "port": str(port),
        "profile_dir": str(profile.base_dir),
        "stripe_api_base": stripe_api_base or "",
    }
    base_url = expand(spec.base_url, values).rstrip("/")
    running = RunningApp(base_url=base_url, webhook_url=base_url + spec.webhook_path)
    if spec.start is None:
        return running  # a target someone else runs: only where it answers
    argv = [expand(part, values) for part in shlex.split(spec.start)]
    env = {**os.environ, **profile.env, **{k: expand(v, values) for k, v in spec.env.items()}}
    if stripe_api_base:
        env.setdefault("STRIPE_API_BASE", stripe_api_base)
    running.log_path = workdir / "app.log"
    with running.log_path.open("wb") as log:
        try:
            running.process = subprocess.Popen(
                argv,
                cwd=profile.resolve(spec.cwd),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopping it stops its children
            )
        except OSError as exc:
            raise InputError(
                f"app.start {spec.start!r} could not run: {exc}",
                file=profile.path,
                hint="fix app.start in the profile",
            ) from None
    try:
        _wait_healthy(running, base_url + spec.health, spec.health_timeout_s)
    except InputError as exc:
        running.stop()
        tail = output_tail(running.log_path, redactor)
        raise InputError(
            f"{exc.message}; its output ends: {tail}" if tail else exc.message,
            file=profile.path,
            hint=exc.hint,
        ) from None
    except BaseException:  # Ctrl-C or SIGTERM while it starts: the caller never gets it
        running.stop()
        raise
    return running


def _wait_healthy(running: RunningApp, url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with httpclient.client(timeout=2) as client:
        while True:
            if running.process is not None and running.process.poll() is not None:
                raise InputError(
                    f"the target app exited with code {running.process.returncode} before "
                    f"{url} answered",
                    hint="run app.start by hand to see why",
                )
            try:
                if client.get(url).is_success:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise InputError(
                    f"the target app did not answer 2xx at {url} within {timeout_s:g} s",
                    hint="check app.health and app.start, or raise app.health_timeout_s",
                )
            time.sleep(0.1)


def register_webhook(
    running: RunningApp,
    backend: object,
    events: list[str],
    secret: str | None,
    api_version: str | None = None,
) -> str:
    """Create the app's webhook endpoint in the sandbox, signing with the app's own secret
    and pinned to the app's API version (as a deployment script creates it)."""
    from golive.client import stripe_api

    client = stripe_api.client(backend)
    endpoint = client.v1.webhook_endpoints.create(
        params={
            "url": running.webhook_url,
            "enabled_events": events,
            **({"api_version": api_version} if api_version else {}),
        }
    )
    if secret:
        # The sandbox's admin route, in-process or a `golive sandbox` process alike.
        with httpclient.client() as web:
            web.post(
                f"{backend.api_base}/_golive/webhook_endpoints/{endpoint.id}/secret",
                json={"secret": secret},
            ).raise_for_status()
    return endpoint.id


def expand(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def output_tail(path: Path | None, redactor: Redactor, lines: int = 3) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:]
    return redactor.text(" / ".join(text))
