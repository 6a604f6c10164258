"""How the app's model and field names map onto tables/collections and columns.

The checklist speaks in the app's own model names (`Order.stripePaymentIntentId`); each ORM
spells those differently in the database, so a profile picks a style and, where the app
deviates, explicit overrides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TABLE_STYLES = ("snake_plural", "snake", "lower_plural", "exact")
COLUMN_STYLES = ("snake", "exact")

# Order matters: split "HTTPStatus" before "paymentStatus".
_ACRONYM_BOUNDARY = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD_BOUNDARY = re.compile(r"([a-z0-9])([A-Z])")


def snake_case(name: str) -> str:
    """`stripePaymentIntentId` -> `stripe_payment_intent_id`, `WebhookEvent` -> `webhook_event`."""
    name = _ACRONYM_BOUNDARY.sub(r"\1_\2", name)
    name = _WORD_BOUNDARY.sub(r"\1_\2", name)
    return name.replace("-", "_").lower()


def pluralize(word: str) -> str:
    """English plural of the last word, the way Rails/Django/Mongoose do it for model names.

    Only the common rules; irregular names belong in `Naming.tables`.
    """
    lower = word.lower()
    if lower.endswith("y") and len(word) > 1 and lower[-2] not in "aeiou":
        return word[:-1] + "ies"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


@dataclass(frozen=True)
class Naming:
    table_style: str = "snake_plural"
    column_style: str = "snake"
    tables: dict[str, str] = field(default_factory=dict)  # {"Order": "shop_orders"}
    columns: dict[str, str] = field(default_factory=dict)  # {"Order.paymentStatus": "status"}

    def __post_init__(self) -> None:
        # Fail at profile load time rather than report every table as missing.
        if self.table_style not in TABLE_STYLES:
            raise ValueError(f"table_style must be one of {TABLE_STYLES}, not {self.table_style!r}")
        if self.column_style not in COLUMN_STYLES:
            raise ValueError(
                f"column_style must be one of {COLUMN_STYLES}, not {self.column_style!r}"
            )

    def table(self, model: str) -> str:
        if model in self.tables:
            return self.tables[model]
        if self.table_style == "snake_plural":
            return pluralize(snake_case(model))
        if self.table_style == "snake":
            return snake_case(model)
        if self.table_style == "lower_plural":
            # Mongoose lowercases the whole model name before pluralizing: webhookevents.
            return pluralize(model.lower())
        return model

    def column(self, model: str, field: str) -> str:
        key = f"{model}.{field}"
        if key in self.columns:
            return self.columns[key]
        if self.column_style == "snake":
            # Dotted Mongo-style paths keep their dots: a.bC -> a.b_c.
            return ".".join(snake_case(part) for part in field.split("."))
        return field


# What a Mongoose app gets without any schema options.
MONGO_NAMING = Naming(table_style="lower_plural", column_style="exact")
