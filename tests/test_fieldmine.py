"""golive/fieldmine.py: the request-field names a repository's source reads, in five
languages, with one file:line each; containers of money-like keys told apart; tests,
vendored code and untracked files left out; and what price tampering makes of them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from golive import fieldmine, tamper
from golive.profile.flows import Flow

SOURCES = {
    "python": (
        "app/views.py",
        """
def checkout(request):
    body = json.loads(request.body)
    snap = body.get("basket_snapshot") or {}
    cents = int(snap.get("amount_minor", 0))
    tip = request.POST.get("tipCents")
    ship = (body.get("carrier_choice") or {}).get("price_cents")
    name = body["display_name"]
    received = intent["amount_received"]


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sku: str
    gratuity_cents: int | None = None


class Order(models.Model):
    refund_total = models.IntegerField()
""",
    ),
    "javascript": (
        "src/routes/orders.js",
        """
router.post("/orders", async (req, res) => {
  const { carrierChoice, items, couponCode } = req.body;
  const cost = carrierChoice.rateCents;
  const t = req.body.tip_amount;
  const s = req.body["serviceCharge"];
  const schema = z.object({ surchargeMinor: z.number() });
  res.json({ ok: true, amount: order.totalCents });
});
""",
    ),
    "typescript": (
        "src/api.ts",
        "export const h = (req: Request) => { const q = req.body.handoff.netPrice; };\n",
    ),
    "ruby": (
        "app/controllers/orders_controller.rb",
        """
class OrdersController < ApplicationController
  def create
    amount = params.dig(:handoff, :amount_minor)
    params.require(:order).permit(:unit_cost, :qty)
    x = params[:gratuity_total]
  end
end
""",
    ),
    "php": (
        "app/Http/OrderController.php",
        """<?php
$a = $_POST['total_due'];
$b = $request->input('handoff.amount_minor');
$c = $request->discountCents;
""",
    ),
    "go": (
        "internal/orders.go",
        """package orders
type Req struct {
\tHandoff struct {
\t\tMinor int `json:"amount_minor"`
\t} `json:"handoff"`
\tTip int `json:"tip,omitempty"`
}
""",
    ),
}
EXPECTED = {
    "python": {
        "amount_minor",
        "basket_snapshot",
        "tipCents",
        "carrier_choice",
        "price_cents",
        "gratuity_cents",
    },
    "javascript": {
        "carrierChoice",
        "rateCents",
        "couponCode",
        "tip_amount",
        "serviceCharge",
        "surchargeMinor",
    },
    "typescript": {"handoff", "netPrice"},
    "ruby": {"amount_minor", "handoff", "unit_cost", "gratuity_total"},
    "php": {"total_due", "amount_minor", "discountCents"},
    "go": {"amount_minor", "tip"},
}
CONTAINERS = {
    "python": {"basket_snapshot", "carrier_choice"},
    "javascript": {"carrierChoice"},
    "typescript": {"handoff"},
    "ruby": {"handoff"},
    "php": set(),  # `handoff` is read with its key in one dotted name: see below
    "go": set(),
}


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("language", sorted(SOURCES))
def test_each_language_gives_the_money_fields_and_their_containers(
    tmp_path: Path, language: str
) -> None:
    relative, text = SOURCES[language]
    write(tmp_path, {relative: text})
    mined = fieldmine.mine(tmp_path, tamper.money_like)
    money = {f.name: f for f in mined.money(tamper.money_like)}
    assert EXPECTED[language] <= set(money), sorted(money)
    assert {n for n, f in money.items() if f.container} >= CONTAINERS[language]
    # Not money, or not read from the request (a Stripe object's, a database model's).
    assert {"display_name", "items", "qty", "sku"}.isdisjoint(money)
    assert {"amount_received", "refund_total", "totalCents"}.isdisjoint(money), sorted(money)
    first = text.splitlines()
    for field in money.values():
        path, line = field.where.rsplit(":", 1)
        assert path == relative
        assert field.name in first[int(line) - 1] or field.container, field
    assert mined.files == 1


def test_php_dotted_input_reads_both_levels(tmp_path: Path) -> None:
    write(tmp_path, {"c.php": "<?php $b = $request->input('handoff.amount_minor');\n"})
    fields = fieldmine.mine(tmp_path, tamper.money_like).fields
    assert {"handoff", "amount_minor"} <= set(fields)
    assert fields["handoff"].container


def test_tests_vendor_and_files_outside_the_app_are_skipped(tmp_path: Path) -> None:
    read = 'x = request.POST.get("{}")\n'
    write(
        tmp_path,
        {
            "app/views.py": read.format("real_total"),
            "tests/test_views.py": read.format("test_total"),
            "app/test_views.py": read.format("test2_total"),
            "node_modules/lib/index.js": "const a = req.body.vendor_total;\n",
            "vendor/x.php": "<?php $_POST['vendor2_total'];\n",
            "app/migrations/0001.py": read.format("migration_total"),
            "app/notes.txt": read.format("text_total"),
        },
    )
    (tmp_path / "app" / "big.py").write_text(
        read.format("big_total") + "#" * fieldmine.MAX_BYTES, encoding="utf-8"
    )
    mined = fieldmine.mine(tmp_path, tamper.money_like)
    assert set(mined.fields) == {"real_total"}
    assert mined.files == 1 and mined.skipped == 1  # the big file


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_a_checkout_gives_its_tracked_files_only(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": 'request.POST.get("tracked_total")\n'})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "a.py")
    git(tmp_path, "commit", "-qm", "a")
    write(tmp_path, {"b.py": 'request.POST.get("untracked_total")\n'})
    assert set(fieldmine.mine(tmp_path, tamper.money_like).fields) == {"tracked_total"}
    # A plain folder inside another checkout is walked, not given that checkout's files.
    inner = tmp_path / "build" / "app"
    write(inner, {"c.py": 'request.POST.get("inner_total")\n'})
    assert set(fieldmine.mine(inner, tamper.money_like).fields) == {"inner_total"}


def test_money_words_decided() -> None:
    assert all(tamper.money_like(k) for k in ("amount_minor", "netTotal", "shipping_quote"))
    assert not any(tamper.money_like(k) for k in ("on_hold", "holdUntil", "display_name"))


def test_the_battery_sends_mined_names_as_numbers_then_as_objects() -> None:
    flow = Flow.model_validate(
        {
            "item": {"sku": "{item.id}", "qty": "{item.quantity}"},
            "steps": [{"request": {"method": "POST", "path": "/o", "json": {"lines": "{lines}"}}}],
        }
    )
    own = tamper.flow_fields(flow, {"lines": []})
    source = [
        fieldmine.Field("basket_snapshot", "app/v.py:4", container=True),
        fieldmine.Field("amount_minor", "app/v.py:5"),
        fieldmine.Field("tipCents", "app/v.py:6"),
    ]
    batches = tamper.battery("top", own, ["totalMinor"], source)
    first, objects = batches[0], batches[1]
    assert [t.label for t in first] == ["totalMinor", "amount_minor", "tipCents"]
    assert [t.label for t in objects] == [
        "basket_snapshot{amount_minor,tipCents}",
        "amount_minor{amount_minor,tipCents}",
        "tipCents{amount_minor,tipCents}",
    ]
    assert objects[0].value(50) == {"amount_minor": 50, "tipCents": 50}
    assert objects[0].where == "app/v.py:4" and first[1].value(50) == 50
    # Without a repository the battery is what it was.
    assert tamper.battery("top", own, ["totalMinor"])[1][0].origin == "dictionary"
