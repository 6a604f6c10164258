"""The profile's `watch:` block: what `golive watch` measures on every tick.

Without the block the watch still runs: its rollback triggers are the thresholds of the
checklist's rollback plan (`final-checks.rollback-plan`: success rate >= 80 %, webhook
failures <= 10 %), measured through the Stripe API, and the post-deploy items' thresholds
on the same metrics are shown as targets. The block tunes them and adds metrics:

```yaml
watch:
  duration: 60m          # --duration's default
  interval: 60s          # --interval's default
  lookback: 15m          # each tick judges the last 15 minutes (default: since the watch began)
  triggers:              # tune a rollback trigger of the checklist, by its metric name
    payment_success_rate: {min_samples: 20, failure_limit: 1}
  metrics:               # more metrics, each from one provider
    - name: error-rate
      prometheus: 'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'
      threshold: value<0.05
      role: trigger      # trigger: can roll back; target: reported only
      failure_limit: 0   # failed measurements allowed (Argo's failureLimit)
      consecutive_failure_limit: 2   # failed in a row allowed (optional)
      consecutive_error_limit: 4     # unmeasurable in a row allowed
      min_samples: 1     # fewer: the measurement is inconclusive
```
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from golive.profile.postdeploy import parse_duration
from golive.thresholds import ThresholdSyntaxError
from golive.thresholds import parse as parse_threshold

PROFILE_KEY = "watch"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Limits(_Strict):
    failure_limit: int | None = Field(
        None, ge=0, description="Failed measurements allowed before the metric fails"
    )
    consecutive_failure_limit: int | None = Field(
        None, ge=0, description="Failed measurements in a row allowed (none: no such rule)"
    )
    consecutive_error_limit: int | None = Field(
        None, ge=0, description="Measurements in a row golive may fail to take (default 4)"
    )
    min_samples: int | None = Field(
        None, ge=1, description="Fewer samples than this: the measurement is inconclusive"
    )


class WatchMetric(Limits):
    name: str = Field(min_length=1, description="The metric's name in the report")
    stripe: str | None = Field(
        None, description="A Stripe API metric of golive.metrics (e.g. payment_success_rate)"
    )
    prometheus: str | None = Field(
        None, description="A PromQL query of the profile's monitoring.prometheus server"
    )
    threshold: str = Field(description="k6-style, on the measured value: e.g. value<0.05")
    role: Literal["trigger", "target"] = Field(
        "trigger", description="trigger: its failure rolls back; target: reported only"
    )

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, value: str) -> str:
        try:
            parse_threshold(value)
        except ThresholdSyntaxError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _one_provider(self) -> WatchMetric:
        if (self.stripe is None) == (self.prometheus is None):
            raise ValueError("give exactly one provider: stripe: METRIC or prometheus: QUERY")
        return self


class WatchModel(_Strict):
    duration: str = Field("60m", description="How long the watch runs (--duration)")
    interval: str = Field("60s", description="Time between two ticks (--interval)")
    lookback: str | None = Field(
        None, description="Each tick judges this much before it (default: since the start)"
    )
    triggers: dict[str, Limits] = Field(
        default_factory=dict,
        description="Limits for the checklist's rollback triggers, by metric name",
    )
    metrics: list[WatchMetric] = Field(default_factory=list, description="More metrics")

    @field_validator("duration", "interval", "lookback")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    def lookback_delta(self) -> timedelta | None:
        return None if self.lookback is None else parse_duration(self.lookback)
