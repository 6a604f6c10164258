"""Error tracking (Sentry) and performance monitoring (OpenTelemetry), when configured.

    SENTRY_DSN=https://key@sentry.example.com/1           -> Sentry, through sentry_sdk
    OTEL_EXPORTER_OTLP_ENDPOINT=https://otlp.example.com  -> a TracerProvider exporting OTLP

Each starts only when its variable is set and its package is installed (requirements.txt
of the shop's repository declares both); a missing package is logged and the shop runs
on. No span is created by the shop itself yet, so an exporter with no collector behind it
sends nothing.
"""

from __future__ import annotations

import os
from typing import Any

SERVICE = "reference-shop"


def setup(log: Any) -> list[str]:
    """Start what the environment configures; the names of what started."""
    started = []
    dsn = os.environ.get("SENTRY_DSN")
    if dsn:
        try:
            import sentry_sdk
        except ImportError:
            log.warning("telemetry_unavailable", sdk="sentry-sdk", reason="not installed")
        else:
            # No request bodies or user data go to the tracker (send_default_pii off).
            sentry_sdk.init(dsn=dsn, send_default_pii=False, traces_sample_rate=0.0)
            started.append("sentry")
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        try:
            from opentelemetry import trace
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            log.warning("telemetry_unavailable", sdk="opentelemetry-sdk", reason="not installed")
        else:
            provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            trace.set_tracer_provider(provider)
            started.append("opentelemetry")
    if started:
        log.info("telemetry_started", sdks=started)
    return started
