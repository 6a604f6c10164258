"""A Prometheus for the demo target: its `services.prometheus` (targets/demo/target.yaml).

    python -m golive.demo_prometheus --port PORT --scrape HOST:PORT --rules FILE --data DIR

It writes a prometheus.yml into DIR that scrapes the shop every second (job `shop`) and
evaluates the rule file every second, runs Debian's `prometheus` on 127.0.0.1:PORT, and
prints READY_LINE once Prometheus has scraped the shop twice and evaluated every rule: the checks
then read a server with something in it. It stays in the foreground until stopped (golive
stops its process group). No `prometheus` binary: it says how to install it and exits 3,
and the demo runs without (the service is optional: the monitoring items are not-run).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from golive.monitoring.prometheus import PrometheusClient, PrometheusError

READY_LINE = "golive demo: prometheus ready"
INSTALL = "apt-get install prometheus (Debian/Ubuntu)"
READY_TIMEOUT_S = 30.0
JOB = "shop"  # the profile's uptime query reads up{job="shop"}


def config(scrape: str, rules: Path) -> dict:
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": JOB,
                "scrape_interval": "1s",
                "scrape_timeout": "900ms",
                "static_configs": [{"targets": [scrape]}],
            }
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m golive.demo_prometheus")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--scrape", required=True, help="host:port of the app's /metrics")
    parser.add_argument("--rules", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    exe = shutil.which("prometheus")
    if exe is None:
        print(f"prometheus is not installed: {INSTALL}", file=sys.stderr)
        return 3
    args.data.mkdir(parents=True, exist_ok=True)
    config_file = args.data / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config(args.scrape, args.rules.resolve())))
    url = f"http://127.0.0.1:{args.port}"
    process = subprocess.Popen(
        [
            exe,
            f"--config.file={config_file}",
            f"--web.listen-address=127.0.0.1:{args.port}",
            f"--storage.tsdb.path={args.data / 'tsdb'}",
            "--log.level=warn",
        ]
    )
    try:
        if _wait_ready(process, url):
            print(f"{READY_LINE} at {url}", flush=True)
        return process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def _wait_ready(process: subprocess.Popen, url: str) -> bool:
    """Until the shop was scraped up and every rule evaluated; False if Prometheus exits."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with PrometheusClient(url, timeout_s=2) as client:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if _scraped(client) and _rules_evaluated(client):
                    return True
            except PrometheusError:
                pass  # not listening yet
            time.sleep(0.2)
    return False


def _scraped(client: PrometheusClient) -> bool:
    # Two scrapes up: a rate or an increase needs two samples to return a series at all.
    return bool(
        client.query(f'count_over_time(up{{job="{JOB}"}}[1m]) >= 2 and up{{job="{JOB}"}} == 1')
    )


def _rules_evaluated(client: PrometheusClient) -> bool:
    rules = client.alerting_rules()
    return bool(rules) and all(rule.get("health") != "unknown" for rule in rules)


if __name__ == "__main__":
    raise SystemExit(main())
