"""Index housekeeping: purchase_state_created looked redundant next to purchase_owner_recent
(both end in created_at) and slows every purchase insert.

Only applied with the `lean-indexes` flaw on (TEA_SHOP_FLAWS at migrate time).
"""

from django.conf import settings
from django.db import migrations

STATEMENTS = ["DROP INDEX IF EXISTS purchase_state_created"]


def drop(apps, schema_editor) -> None:
    if "lean-indexes" not in getattr(settings, "FLAWS", ()):
        return
    for statement in STATEMENTS:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("store", "0005_payment_ledger_per_event"),
    ]

    operations = [migrations.RunPython(drop, migrations.RunPython.noop)]
