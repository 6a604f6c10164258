"""checklist.yaml against its source, docs/production-checklist.md, and its own rules."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest
from gatekit import ROOT, golive

from golive import checklist, registry, thresholds
from golive.checklist import ID_PATTERN, Checklist, Item

MARKDOWN = ROOT / "docs" / "production-checklist.md"
CHECKBOX = re.compile(r"^(?P<indent> *)- \[ \] (?P<text>.+?)\s*$")


@dataclass
class MdSection:
    group: str
    title: str
    boxes: list[tuple[int, str]] = field(default_factory=list)  # (indent, text)


def markdown_sections() -> list[MdSection]:
    """`###` headings with their checkboxes, under their `##` group (emoji stripped)."""
    sections: list[MdSection] = []
    group = ""
    for line in MARKDOWN.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            group = re.sub(r"^[^A-Za-z]+", "", line[3:]).strip()
        elif line.startswith("### "):
            sections.append(MdSection(group, line[4:].strip()))
        elif match := CHECKBOX.match(line):
            sections[-1].boxes.append((len(match["indent"]), match["text"]))
    return [s for s in sections if s.boxes]


def markdown_list(heading: str) -> list[str]:
    """The bullet or numbered lines under a `###` heading, markers stripped."""
    lines = MARKDOWN.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"### {heading}") + 1
    out = []
    for line in lines[start:]:
        if line.startswith(("#", "---")):
            break
        if match := re.match(r"^(?:- |\d+\. )(.+)$", line):
            out.append(match[1].strip())
    return out


@pytest.fixture(scope="module")
def the_checklist() -> Checklist:
    return checklist.load(checklist.DEFAULT_CHECKLIST)


@pytest.fixture(scope="module")
def items(the_checklist: Checklist) -> list[Item]:
    return [item for section in the_checklist.sections for item in section.items]


def by_id(the_checklist: Checklist, item_id: str) -> Item:
    return the_checklist.items[item_id]


# --- the checklist is the markdown, item for item ---------------------------------------


def test_exactly_the_191_checkboxes_in_order(items: list[Item]) -> None:
    boxes = [text for section in markdown_sections() for _, text in section.boxes]
    assert len(boxes) == 191
    assert len(items) == 191
    assert [item.title for item in items] == boxes


def test_sections_are_the_markdown_headings(the_checklist: Checklist) -> None:
    md = markdown_sections()
    assert [(s.group, s.title) for s in the_checklist.sections] == [(s.group, s.title) for s in md]
    assert [len(s.items) for s in the_checklist.sections] == [len(s.boxes) for s in md]


def test_nested_checkboxes_are_children_of_the_box_above(the_checklist: Checklist) -> None:
    for section, md in zip(the_checklist.sections, markdown_sections(), strict=True):
        parent = None
        for item, (indent, _) in zip(section.items, md.boxes, strict=True):
            if indent == 0:
                parent = item.id
                assert item.parent is None, item.id
            else:
                assert item.parent == parent, item.id


def test_ids_are_unique_and_stable_looking(the_checklist: Checklist, items: list[Item]) -> None:
    ids = [item.id for item in items]
    assert len(set(ids)) == len(ids)
    section_ids = [s.id for s in the_checklist.sections]
    assert len(set(section_ids)) == len(section_ids)
    for section in the_checklist.sections:
        for item in section.items:
            assert re.fullmatch(ID_PATTERN, item.id), item.id
            # section.slug: the section is part of the id, so ids read as a path
            assert item.id.startswith(section.id + "."), item.id
            assert len(item.id) <= 60, item.id


def test_every_item_has_a_kind_severity_and_phase(items: list[Item]) -> None:
    for item in items:
        assert (item.automated is None) != (item.attested is None), item.id
        assert item.severity in ("blocker", "major", "minor")
        assert item.phase in checklist.PHASES
        if item.attested:
            assert item.attested.freshness_days > 0


# --- seed values --------------------------------------------------------------------------

SEED_FIELDS = [
    "Order.stripePaymentIntentId",
    "Order.idempotencyKey",
    "Order.paymentStatus",
    "Order.vendorAmount",
    "Payment.stripePaymentIntentId",
    "Payment.stripeChargeId",
    "Payment.vendorAmount",
]
SEED_INDEXES = [
    {"field": "Order.stripePaymentIntentId", "unique": True, "sparse": True},
    {"field": "Order.idempotencyKey", "unique": True, "sparse": True},
    {"field": "Order.paymentStatus"},
    {"field": "Payment.stripePaymentIntentId", "unique": True, "sparse": True},
    {"field": "WebhookEvent.eventId", "unique": True},
    {"field": "WebhookEvent.processed"},
]


def check_params(item: Item, ref: str) -> list[dict]:
    assert item.automated is not None, item.id
    return [c.params for c in item.automated.checks if c.ref == ref]


def test_api_version_is_pinned(the_checklist: Checklist) -> None:
    item = by_id(the_checklist, "environment.api-version")
    assert item.title == "`STRIPE_API_VERSION=2024-11-20.acacia`"
    assert check_params(item, "env.equals") == [
        {"role": "api_version", "expected": "2024-11-20.acacia"}
    ]
    events = by_id(the_checklist, "webhook-config.events-selected")
    assert events.params["api_version"] == "2024-11-20.acacia"


@pytest.mark.parametrize(
    ("item_id", "role", "live", "test"),
    [
        (
            "environment.secret-key",
            "secret_key",
            ["sk_live_", "rk_live_"],
            ["sk_test_", "rk_test_"],
        ),
        ("environment.publishable-key", "publishable_key", ["pk_live_"], ["pk_test_"]),
        ("environment.webhook-secret", "webhook_secret", ["whsec_"], ["whsec_"]),
    ],
)
def test_key_prefixes(
    the_checklist: Checklist, item_id: str, role: str, live: list, test: list
) -> None:
    # The variable by role: its name is the profile's env.names (STRIPE_… by default).
    item = by_id(the_checklist, item_id)
    assert check_params(item, "env.key-prefix") == [{"role": role, "live": live, "test": test}]
    # The title names the live prefix the markdown asks for.
    assert f"starts with `{live[0]}`" in item.title


def test_the_seven_fields(the_checklist: Checklist) -> None:
    parent = by_id(the_checklist, "database.migrations-run")
    assert check_params(parent, "db.fields") == [{"fields": SEED_FIELDS}]
    children = [i for i in the_checklist.sections[1].items if i.parent == parent.id]
    assert [c.title for c in children] == [f"`{f}`" for f in SEED_FIELDS]
    for child, name in zip(children, SEED_FIELDS, strict=True):
        assert check_params(child, "db.fields") == [{"fields": [name]}]


def test_the_six_indexes_with_unique_and_sparse(the_checklist: Checklist) -> None:
    parent = by_id(the_checklist, "database.indexes-created")
    assert check_params(parent, "db.indexes") == [{"indexes": SEED_INDEXES}]
    children = [i for i in the_checklist.sections[1].items if i.parent == parent.id]
    assert len(children) == 6
    for child, spec in zip(children, SEED_INDEXES, strict=True):
        assert check_params(child, "db.indexes") == [{"indexes": [spec]}]
        flags = [name for name in ("unique", "sparse") if spec.get(name)]
        expected = f"`{spec['field']}`" + (f" ({', '.join(flags)})" if flags else "")
        assert child.title == expected


def test_webhook_path_and_events(the_checklist: Checklist) -> None:
    url = by_id(the_checklist, "webhook-config.endpoint-url")
    # The path is the profile's app.webhook_path (the title shows golive's default).
    assert url.params == {"scheme": "https"}
    assert "https://yourdomain.com/api/v1/stripe/webhook" in url.title
    events = by_id(the_checklist, "webhook-config.events-selected")
    assert events.params["required"] == [
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
    ]
    assert events.params["recommended"] == ["charge.refunded", "payment_intent.canceled"]
    children = [i for i in the_checklist.items.values() if i.parent == events.id]
    assert [c.params["required"] for c in children] == [
        ["payment_intent.succeeded"],
        ["payment_intent.payment_failed"],
        ["charge.refunded"],
        ["payment_intent.canceled"],
    ]
    for child in children:
        assert f"`{child.params['required'][0]}`" in child.title
        # "(optional)" in the markdown: recommended events never block the release.
        assert child.severity == ("minor" if "(optional)" in child.title else "blocker")


@pytest.mark.parametrize(
    ("item_id", "thresholds_"),
    [
        (
            "metrics.payment-success-rate",
            {"payment_success_rate": "rate>0.95", "samples": "count>=20"},
        ),
        (
            "metrics.webhook-processing-time",
            {"webhook_processing_ms": "p(95)<2000", "samples": "count>=1"},
        ),
        (
            "metrics.order-creation-latency",
            {"order_creation_ms": "p(95)<5000", "samples": "count>=1"},
        ),
        ("metrics.refund-rate", {"refund_rate": "rate<0.05", "samples": "count>=20"}),
        (
            "metrics.failed-payment-rate",
            {"failed_payment_rate": "rate<0.05", "samples": "count>=20"},
        ),
        (
            "final-checks.rollback-plan",
            {"payment_success_rate": "rate>=0.80", "webhook_failure_rate": "rate<=0.10"},
        ),
    ],
)
def test_metric_thresholds(the_checklist: Checklist, item_id: str, thresholds_: dict) -> None:
    assert by_id(the_checklist, item_id).thresholds == thresholds_


def test_rollback_plan_carries_the_markdown_lists(the_checklist: Checklist) -> None:
    item = by_id(the_checklist, "final-checks.rollback-plan")
    assert item.params["rollback_triggers"] == markdown_list("Rollback Triggers")
    assert item.params["rollback_procedure"] == markdown_list("Rollback Procedure")
    assert len(item.params["rollback_triggers"]) == 4
    assert len(item.params["rollback_procedure"]) == 6


def test_every_threshold_parses(items: list[Item]) -> None:
    found = 0
    for item in items:
        for name, expression in item.thresholds.items():
            parsed = thresholds.parse(expression)
            assert parsed.expression == expression, (item.id, name)
            found += 1
    assert found >= 10


# --- references to checks -----------------------------------------------------------------


def test_pre_deploy_automated_items_use_only_implemented_checks(items: list[Item]) -> None:
    registry.discover()
    pre_deploy = [i for i in items if i.phase == "pre-deploy" and i.automated]
    assert len(pre_deploy) >= 20
    for item in pre_deploy:
        for ref in item.automated.checks:
            assert ref.ref in registry.REGISTRY, f"{item.id} uses {ref.ref}"


def test_every_check_is_referenced_and_every_reference_exists(items: list[Item]) -> None:
    registry.discover()
    referenced = {ref.ref for i in items if i.automated for ref in i.automated.checks}
    assert set(registry.REGISTRY) - referenced == set()
    assert referenced <= set(registry.REGISTRY)


# --- diagnostics ----------------------------------------------------------------------------


def test_diagnostics_name_existing_items(the_checklist: Checklist) -> None:
    diagnostics = the_checklist.model.diagnostics
    assert len(diagnostics) == 4
    for diagnostic in diagnostics:
        assert diagnostic.prevented_by
        for item_id in diagnostic.prevented_by:
            assert item_id in the_checklist.items, (diagnostic.id, item_id)


def test_diagnostics_are_the_markdown_issues(the_checklist: Checklist) -> None:
    text = MARKDOWN.read_text(encoding="utf-8")
    issues = re.findall(r"^### Issue: (.+)$", text, flags=re.M)
    diagnostics = the_checklist.model.diagnostics
    assert [d.title for d in diagnostics] == issues
    for diagnostic in diagnostics:
        block = text.split(f"### Issue: {diagnostic.title}", 1)[1].split("---", 1)[0]
        assert f"**Detection:** {diagnostic.detection}" in block
        for step in diagnostic.resolution + diagnostic.prevention:
            assert step in block


# --- the CLI's view of the same file --------------------------------------------------------


def test_items_command_lists_all_191(items: list[Item]) -> None:
    done = golive("items", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["id"] for r in rows] == [i.id for i in items]
    assert {r["kind"] for r in rows} == {"automated", "attested"}
