"""Error tracking (Sentry) and tracing (OpenTelemetry), each when its setting is there and
its package is installed; a missing package leaves the shop running without it."""

from __future__ import annotations

import logging
import os

log = logging.getLogger("store.telemetry")


def setup() -> None:
    if os.environ.get("SENTRY_DSN"):
        try:
            import sentry_sdk
        except ImportError:
            log.warning("sentry-sdk is not installed: no error tracking")
        else:
            sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], send_default_pii=False)
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        try:
            from opentelemetry import trace
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            log.warning("opentelemetry-sdk is not installed: no tracing")
        else:
            provider = TracerProvider()
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            trace.set_tracer_provider(provider)
