"""The traffic inside a run: `golive gate` plays the profile's `traffic:` once, after the
app has started and before the post-deploy checks, when the run selects post-deploy items;
`golive traffic` plays it (or its own command-line mix) the same way.

    golive gate --target targets/demo/target.yaml --phase post-deploy
    # golive: traffic: 40 checkouts, 33 succeeded, 3 declined, … (ledger .build/traffic.json)

A demo/staging aid: never with live keys (the run stops, exit 2). The ledger is kept for
the checks in the run's cache (`LEDGER_KEY`) and written to `traffic.ledger` when the
profile names a file.
"""

from __future__ import annotations

import sys
from typing import Any

from golive.errors import InputError
from golive.traffic import safety
from golive.traffic.ledger import Ledger
from golive.traffic.profile import PROFILE_KEY, TrafficModel

MODEL_KEY = "traffic.model"  # set by `golive traffic`: play this model whatever the phases
LEDGER_KEY = "traffic.ledger"  # the ledger's dict, for the checks of the run
POST_DEPLOY = "post-deploy"


def due(prepared: Any) -> TrafficModel | None:
    """The traffic the run plays: the `golive traffic` command's, or the profile's when
    a post-deploy item is selected; None: none. Refused (exit 2) with live keys."""
    model = prepared.target.cache.get(MODEL_KEY)
    if model is None:
        block = getattr(prepared.profile.model, PROFILE_KEY, None)
        if block is None or not any(item.phase == POST_DEPLOY for item in prepared.selected):
            return None
        model = TrafficModel.model_validate(block)  # validated when the profile loaded
    # Before anything starts (boot asks after the setup has written the env).
    safety.check(prepared.profile, model)
    return model


def play(prepared: Any, model: TrafficModel) -> Ledger:
    """Play `model` against the booted target; refused (exit 2) with live keys."""
    from golive.traffic.player import TrafficError, play

    profile, target = prepared.profile, prepared.target
    if target.app is None or target.stripe is None:
        raise InputError(
            "traffic needs the app and its Stripe backend running: the profile has no "
            "`app:` or no `stripe:`",
            file=profile.path,
            hint="give the profile `app:` and `stripe:`, or remove `traffic:`",
        )
    safety.check(profile, model, target.app.base_url)
    publishable = profile.env.get(profile.var("publishable_key")) or None
    try:
        ledger = play(
            target.client(),
            target.stripe,
            model,
            publishable_key=publishable,
            target=profile.name,
            redactor=target.redactor,
            as_of=target.now,
        )
    except TrafficError as exc:
        raise InputError(f"traffic: {exc}", file=profile.path) from None
    target.cache[LEDGER_KEY] = ledger.to_dict()
    where = ""
    if model.ledger:
        where = f" (ledger {ledger.write(profile.resolve(model.ledger))})"
    print(f"golive: traffic: {target.redactor.text(ledger.summary())}{where}", file=sys.stderr)
    return ledger
