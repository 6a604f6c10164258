"""The profile's blocks for live checks, validated when the profile loads.

`api`, `data`, `pricing`, `observer` (and the blocks of later checks) are free-form in
ProfileModel so that each check module owns its own model; they are still checked up
front, so a typo is one message naming the file and line (exit 2), not an error in the
middle of a run.
"""

from __future__ import annotations

import importlib

from pydantic import BaseModel

from golive.errors import InputError, InputErrors
from golive.validation import raise_all, validate
from golive.yamlsrc import Located

# profile key -> "module:Model" (imported only when the block is present)
BLOCKS: dict[str, str] = {
    "api": "golive.profile.api:ApiProfile",
    "data": "golive.profile.data:DataModel",
    "pricing": "golive.profile.pricing:Pricing",
    "observer": "golive.observer:ObserverModel",
    "smoke": "golive.profile.smoke:Smoke",
    "load": "golive.profile.loadtest:LoadModel",
    "post_deploy": "golive.profile.postdeploy:PostDeploy",
    "watch": "golive.watch.profile:WatchModel",
    "reconcile": "golive.reconcile.profile:ReconcileModel",
    "monitoring": "golive.monitoring.profile:Monitoring",
    "traffic": "golive.traffic.profile:TrafficModel",
}


def model_of(key: str) -> type[BaseModel]:
    module, _, name = BLOCKS[key].partition(":")
    return getattr(importlib.import_module(module), name)


def validate_blocks(located: Located) -> dict[str, BaseModel]:
    """Every present block against its model; InputErrors name file, line and field."""
    data = located.data if isinstance(located.data, dict) else {}
    errors: list[InputError] = []
    models: dict[str, BaseModel] = {}
    for key in BLOCKS:
        if data.get(key) is None:
            continue
        try:
            models[key] = validate(
                model_of(key),
                located.sub(key),
                prefix=key,
                hint=f"see {BLOCKS[key].partition(':')[0].replace('.', '/')}.py for `{key}`",
            )
        except InputErrors as exc:
            errors.extend(exc.errors)
    raise_all(errors)
    return models
