"""Post-deploy monitoring: golive reads the target's monitoring system (Prometheus) for the
checklist's alerting and metrics items (checks/test_monitoring.py, docs/monitoring.md).

- profile.py: the profile's `monitoring:` block;
- prometheus.py: a small client over Prometheus's HTTP API;
- promql.py: the metric names a PromQL expression reads;
- rules.py: which loaded alerting rule covers an item's alert.
"""
