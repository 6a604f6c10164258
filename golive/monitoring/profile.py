"""The profile's `monitoring:` block: where the target's Prometheus is, the queries the
metrics items evaluate, and which alerting rule covers each of the checklist's alerts.

```yaml
monitoring:
  prometheus:
    url: http://prometheus.internal:9090    # or url_env: PROMETHEUS_URL
    bearer_token_env: PROM_TOKEN            # optional: sent as Authorization: Bearer …
    queries:                                # name -> PromQL; {window} is the judged window
      error_rate: >-
        sum(increase(http_requests_total{status=~"5.."}[{window}]))
        / sum(increase(http_requests_total[{window}]))
      uptime: avg_over_time(up{job="shop"}[{window}])
      webhook_processing_time: histogram_quantile(0.95, sum by (le) (rate(shop_webhook_processing_seconds_bucket[5m])))
    alerts:                                 # optional: the checks' default heuristic otherwise
      intent-creation-failures: {name: PaymentIntentCreationFailures}
      amount-mismatch: {expr_matches: 'amount_mismatch'}
      disputes: {labels: {team: payments, topic: disputes}}
```

`url_env` and `bearer_token_env` are read from golive's own environment when a check
runs. An alert's `name` is the rule's alert name, exactly; `labels` must all be on the rule;
`expr_matches` is a regular expression searched in the rule's expression. When the block
says nothing about an alert, its check's own `expr_matches` param (checklist.yaml) is
searched in the rule's name and expression.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from golive.validation import Regex

PROFILE_KEY = "monitoring"
# A query's placeholder for the window it is judged over (seconds, e.g. `604800s`).
WINDOW_PLACEHOLDER = "{window}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertMatch(_Strict):
    """Which loaded alerting rule covers an alert: every given criterion must hold."""

    name: str | None = Field(None, description="The rule's alert name, exactly")
    labels: dict[str, str] | None = Field(None, description="Labels the rule must carry")
    expr_matches: Regex | None = Field(
        None, description="A regular expression searched in the rule's expression"
    )

    @model_validator(mode="after")
    def _something(self) -> AlertMatch:
        if self.name is None and not self.labels and self.expr_matches is None:
            raise ValueError("give name, labels or expr_matches")
        return self

    def describe(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Prometheus(_Strict):
    url: str | None = Field(None, description="Prometheus's base URL (http://host:9090)")
    url_env: str | None = Field(
        None, description="The environment variable holding the URL, read when the check runs"
    )
    bearer_token_env: str | None = Field(
        None,
        description="The environment variable holding a bearer token for Prometheus (sent "
        "as Authorization: Bearer …, never recorded)",
    )
    timeout_s: float = Field(10.0, gt=0, le=300, description="Timeout of one API request")
    queries: dict[str, str] = Field(
        default_factory=dict,
        description="Named PromQL queries the metrics items evaluate; `{window}` is replaced "
        "by the judged window's length (e.g. `86400s`)",
    )
    alerts: dict[str, AlertMatch] = Field(
        default_factory=dict,
        description="Which loaded alerting rule covers each alert the checks look for "
        "(keys: the checks' `alert` params, e.g. intent-creation-failures)",
    )

    @field_validator("queries")
    @classmethod
    def _promql(cls, value: dict[str, str]) -> dict[str, str]:
        from golive.monitoring.promql import PromqlError, metric_names

        for name, expr in value.items():
            try:
                metric_names(expr.replace(WINDOW_PLACEHOLDER, "1h"))
            except PromqlError as exc:
                raise ValueError(f"queries.{name}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_url(self) -> Prometheus:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env")
        if self.url is not None and not re.match(r"^https?://[^/\s]+", self.url):
            raise ValueError(f"url must be http(s)://host[:port][/path], got {self.url!r}")
        return self

    def resolved_url(self, env: Mapping[str, str]) -> str | None:
        """The server's URL: `url`, or the value of `url_env` (None while it is unset)."""
        return self.url or (env.get(self.url_env or "") or "").strip() or None

    def token(self, env: Mapping[str, str]) -> str | None:
        """The bearer token `bearer_token_env` names; ValueError naming the variable when
        it is unset (a request without it would be refused, not judged)."""
        if not self.bearer_token_env:
            return None
        token = env.get(self.bearer_token_env)
        if not token:
            raise ValueError(
                f"monitoring.prometheus.bearer_token_env names {self.bearer_token_env}, "
                "which is not set"
            )
        return token


class Monitoring(_Strict):
    prometheus: Prometheus | None = Field(None, description="The target's Prometheus server")
