"""A small client over Prometheus's HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/).

    client = PrometheusClient("http://127.0.0.1:9090")
    client.query('up{job="shop"}', at=now)              -> [Series]
    client.query_range(expr, start, end, step_s=60)     -> [Series] (values over time)
    client.alerting_rules()                             -> [dict] (/api/v1/rules, type=alert)
    client.alerts()                                     -> [dict] (/api/v1/alerts)
    client.targets()                                    -> [dict] (/api/v1/targets, active)
    client.metric_names()                               -> set[str] (label __name__ values)

Every failure (unreachable, a non-JSON or non-success answer, a query Prometheus refuses)
raises PrometheusError naming the URL and what Prometheus said: golive could not read the
monitoring system, an error of the check, never a verdict on the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from golive import httpclient


class PrometheusError(Exception):
    """golive could not get an answer from Prometheus; the message names the URL."""


@dataclass(frozen=True)
class Series:
    """One series of a query's result: its labels and its (unix time, value) samples."""

    labels: dict[str, str]
    samples: list[tuple[float, float]]

    @property
    def value(self) -> float:
        return self.samples[-1][1]

    def describe(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return "{" + inner + "}"


class PrometheusClient:
    def __init__(self, url: str, *, timeout_s: float = 10.0, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpclient.client(timeout=timeout_s, headers=headers)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the API ------------------------------------------------------------------------

    def query(self, expr: str, at: datetime | None = None) -> list[Series]:
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = f"{at.timestamp():.3f}"
        return _series(self._get("/api/v1/query", params), expr)

    def query_range(self, expr: str, start: datetime, end: datetime, step_s: float) -> list[Series]:
        params = {
            "query": expr,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{max(step_s, 1.0):.3f}",
        }
        return _series(self._get("/api/v1/query_range", params), expr)

    def alerting_rules(self) -> list[dict[str, Any]]:
        """Every loaded alerting rule, with its group's name and file added."""
        data = self._get("/api/v1/rules", {"type": "alert"})
        rules = []
        for group in data.get("groups") or []:
            for rule in group.get("rules") or []:
                if rule.get("type") == "alerting":
                    rules.append({**rule, "group": group.get("name"), "file": group.get("file")})
        return rules

    def alerts(self) -> list[dict[str, Any]]:
        return list(self._get("/api/v1/alerts", {}).get("alerts") or [])

    def targets(self) -> list[dict[str, Any]]:
        return list(self._get("/api/v1/targets", {"state": "active"}).get("activeTargets") or [])

    def metric_names(self) -> set[str]:
        return set(self._get("/api/v1/label/__name__/values", {}) or [])

    # -- transport ----------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        where = f"{self.url}{path}"
        try:
            response = self._client.get(where, params=params)
        except httpx.HTTPError as exc:
            raise PrometheusError(
                f"Prometheus at {self.url} did not answer {path}: {type(exc).__name__}: {exc}"
            ) from None
        try:
            body = response.json()
        except ValueError:
            raise PrometheusError(
                f"Prometheus at {self.url} answered {path} with HTTP {response.status_code} "
                f"and no JSON: {response.text[:200]!r}"
            ) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise PrometheusError(
                f"Prometheus at {self.url} refused {path} (HTTP {response.status_code}): "
                f"{error or str(body)[:200]}"
            )
        return body.get("data")


def _series(data: Any, expr: str) -> list[Series]:
    kind = (data or {}).get("resultType")
    result = (data or {}).get("result")
    if kind == "scalar":
        return [Series({}, [(float(result[0]), float(result[1]))])]
    if kind not in ("vector", "matrix") or not isinstance(result, list):
        raise PrometheusError(f"unexpected result type {kind!r} for {expr!r}")
    out = []
    for entry in result:
        if kind == "vector":
            samples = [(float(entry["value"][0]), float(entry["value"][1]))]
        else:
            samples = [(float(t), float(v)) for t, v in entry.get("values") or []]
        out.append(Series(dict(entry.get("metric") or {}), samples))
    return out
