"""The traffic inside a run: `golive gate` plays the profile's `traffic:` once, after the
app has started and before the post-deploy checks, when the run selects automated
post-deploy items (attested ones read no data);
`golive traffic` plays it (or its own command-line mix) the same way.

    golive gate --target targets/demo/target.yaml --phase post-deploy
    # golive: traffic: 40 checkouts, 33 succeeded, 3 declined, … (ledger .build/traffic.json)

A demo/staging aid: never with live keys (`golive traffic` stops, exit 2; a gate goes on
without it and says why on the terminal and under `REFUSED_KEY`). The ledger is kept for
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
REFUSED_KEY = "traffic.refused"  # why a gate run played none (live keys, a foreign host)
POST_DEPLOY = "post-deploy"


def due(prepared: Any) -> TrafficModel | None:
    """The traffic the run plays: the `golive traffic` command's (refused, exit 2, with live
    keys), or the profile's when an automated post-deploy item is selected (with live keys
    the gate goes on without it, saying so); None: none."""
    model = prepared.target.cache.get(MODEL_KEY)
    if model is not None:
        # Before anything starts (boot asks after the setup has written the env).
        safety.check(prepared.profile, model)
        return model
    block = getattr(prepared.profile.model, PROFILE_KEY, None)
    if block is None or not any(
        item.phase == POST_DEPLOY and item.automated for item in prepared.selected
    ):
        return None  # (attested items read no data)
    model = TrafficModel.model_validate(block)  # validated when the profile loaded
    try:
        safety.check(prepared.profile, model)
    except safety.Refused as exc:
        # The gate goes on without it: its checks judge the keys; no traffic is played.
        prepared.target.cache[REFUSED_KEY] = str(exc)
        print(
            f"golive: traffic not played: {prepared.target.redactor.text(str(exc))}",
            file=sys.stderr,
        )
        return None
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
