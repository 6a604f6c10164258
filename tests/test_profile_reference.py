"""docs/profile.md is generated from the profile's models, every field described.

A field without a description fails here, naming the model and the field; a committed
docs/profile.md that differs from what the generator writes fails with the command that
regenerates it. A field or free-form block added to the profile is picked up by itself.
"""

from __future__ import annotations

from typing import Any

from gatekit import ROOT
from pydantic import BaseModel, ConfigDict, Field, create_model

from golive.profile import ProfileModel, reference

REGENERATE = (
    "python3 dev.py reference (or python -m golive.profile.reference --write docs/profile.md)"
)


def test_every_field_reachable_from_the_profile_has_a_description() -> None:
    missing = reference.missing_descriptions()
    assert not missing, "fields without a description: " + ", ".join(missing)


def test_the_committed_reference_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "profile.md").read_text(encoding="utf-8")
    assert committed == reference.render(), f"docs/profile.md is stale: run {REGENERATE}"


def test_every_model_of_the_profile_and_its_blocks_is_documented() -> None:
    text = reference.render()
    titles = [s.title for s in reference.sections()]
    for key in ("env", "env.names", "app", "observer", "observer.sql", "smoke.deadlines"):
        assert key in titles, key
        assert f"\n## {key}\n" in text
    # The free-form blocks are documented through their own models.
    assert "| `observer` | [ObserverModel](#observer) (block), or null |" in text
    assert "| `none` | string (not blank), or null |" in text
    assert '| `webhook_path` | string | no | `"/api/v1/stripe/webhook"` |' in text
    assert "| `port` | integer (≥ 0, ≤ 65535) | no | `0` |" in text


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="The step's name")
    retries: int = Field(0, ge=0)  # no description: must be reported


class _Jobs(BaseModel):
    """Background jobs the target runs."""

    model_config = ConfigDict(extra="forbid")
    steps: list[_Step] = Field(default_factory=list, description="What a job does")


def _extended() -> tuple[type[BaseModel], Any]:
    """ProfileModel with a new free-form block, as another engineer would add one."""
    root = create_model(
        "ExtendedProfile",
        __base__=ProfileModel,
        jobs=(dict[str, Any] | None, Field(None, description="Background jobs")),
    )

    def block_of(name: str) -> type[BaseModel] | None:
        return _Jobs if name == "jobs" else reference.profile_block(name)

    return root, block_of


def test_a_new_block_and_its_models_are_picked_up_and_checked() -> None:
    root, block_of = _extended()
    titles = [s.title for s in reference.sections(root, block_of)]
    assert "jobs" in titles and "jobs.steps[]" in titles
    text = reference.render(root, block_of)
    assert "| `jobs` | [_Jobs](#jobs) (block), or null |" in text
    assert "Background jobs the target runs." in text
    assert "| `retries` | integer (≥ 0) | no | `0` |  |" in text
    missing = reference.missing_descriptions(root, block_of)
    assert missing == [f"{__name__}._Step.retries"]
