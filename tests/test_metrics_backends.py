"""A Stripe backend that keeps payments but serves no disputes (as localstripe, or the
sandbox before it had them): the fraud metrics are not-run, naming the list it refused,
never a pass over charges alone. The stand-in is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from jsonhandler import JsonHandler, serving
from metricskit import iso, run

NOW = int(time.time())


def _charges() -> list[dict]:
    return [
        {
            "id": f"ch_{i}",
            "object": "charge",
            "status": "succeeded",
            "amount": 1000,
            "currency": "usd",
            "created": NOW - 3600 - i,
        }
        for i in range(30)
    ]


class NoDisputes(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?")[0]
        if path == "/v1/balance":
            self._answer(200, {"object": "balance", "available": [], "pending": []})
        elif path == "/v1/charges":
            page = {"object": "list", "url": path, "has_more": False, "data": _charges()}
            self._answer(200, page)
        else:
            error = {
                "type": "invalid_request_error",
                "message": f"Unrecognized request URL (GET: {path})",
            }
            self._answer(404, {"error": error})


def test_no_disputes_list_makes_the_fraud_rate_not_run(tmp_path: Path) -> None:
    with serving(NoDisputes) as url:
        target = tmp_path / "target.yaml"
        target.write_text(
            "name: no-disputes\nmode: test\nenv: {source: process}\n"
            f"stripe: {{backend: sandbox, api_base: '{url}'}}\n"
            f"post_deploy: {{go_live: '{iso(datetime.fromtimestamp(NOW - 86400, UTC))}'}}\n"
        )
        done = run(target, tmp_path / "out", "weekly-operations.fraud-patterns")
    assert done.outcomes() == {"weekly-operations.fraud-patterns": "not-run"}
    assert done.item("weekly-operations.fraud-patterns")["reason"] == (
        "the Stripe backend answered HTTP 404 to GET /v1/disputes: it does not list disputes; "
        "backend sandbox cannot measure fraud_rate"
    )
