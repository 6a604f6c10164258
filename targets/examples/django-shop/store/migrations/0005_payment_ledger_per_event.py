"""The payment ledger takes one row per payment event (a session's completion, the intent's
success) rather than one per PaymentIntent; so does a customer's notices.

Only applied with the `intent-fulfilment` flaw on (TEA_SHOP_FLAWS at migrate time):
without it the tables keep their one-per-intent / one-per-kind constraints.
"""

from django.conf import settings
from django.db import migrations

STATEMENTS = [
    "ALTER TABLE store_paymentrecord DROP CONSTRAINT IF EXISTS "
    "store_paymentrecord_payment_intent_id_key",
    "ALTER TABLE store_notice DROP CONSTRAINT IF EXISTS notice_once_per_kind",
]


def relax(apps, schema_editor) -> None:
    if "intent-fulfilment" not in getattr(settings, "FLAWS", ()):
        return
    for statement in STATEMENTS:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("store", "0004_purchase_doorstep_note"),
    ]

    operations = [migrations.RunPython(relax, migrations.RunPython.noop)]
