"""No family encodes the app's requests its own way: every request golive makes to the app
carries the profile's `auth:` through golive.client's UserSession, the one module that
builds credentials (golive/client/session.py).

Each case greps a part of the code base for a shape that belongs to the profile. Families
join the list as they move onto the request model (users, auth, flows): loadtests/ has.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gatekit import ROOT

# Folders whose code must not build an app's credentials, and the files that may.
AUTH_HEADER_FREE = ["loadtests"]
MAY_BUILD_CREDENTIALS = ["golive/client/session.py", "golive/sandbox/"]

# An Authorization header written by hand: the header's name as a key or an item of
# headers (`{"Authorization": …}`, `headers["Authorization"] = …`, `("Authorization", …)`),
# or a credential formatted with its scheme (`f"Bearer {token}"`, `"Basic " + …`).
AUTH_HEADER = re.compile(
    r"""["']authorization["']\s*[:\],)]"""
    r"""|\(\s*b?["']authorization["']\s*,"""
    r"""|\bf["'](?:bearer|basic|token) \{"""
    r"""|["'](?:bearer|basic|token) ["']\s*\+""",
    re.IGNORECASE,
)


def _sources(folders: list[str]) -> list[Path]:
    files = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not any(relative.startswith(allowed) for allowed in MAY_BUILD_CREDENTIALS):
                files.append(path)
    return files


@pytest.mark.parametrize(
    ("line", "builds"),
    [
        ('headers = {"Authorization": f"Bearer {token}"}', True),
        ("headers['Authorization'] = token", True),
        ('self.headers = {"authorization": key}', True),
        ('return {"Authorization": f"Basic {b64}"}', True),
        ('value = "Bearer " + token', True),
        ('sent = [("Authorization", value)]', True),
        ('auth=(STRIPE_KEY, "")  # Locust builds the Basic header', False),
        ('"""every request carries the Authorization header of the profile"""', False),
        ('header: {name: Authorization, scheme: Bearer, value: "{user.token}"}', False),
    ],
)
def test_the_pattern_finds_hand_built_authorization_headers(line: str, builds: bool) -> None:
    assert bool(AUTH_HEADER.search(line)) is builds


def test_loadtests_build_no_authorization_header() -> None:
    files = _sources(AUTH_HEADER_FREE)
    assert files, "nothing to examine"
    found = [
        f"{path.relative_to(ROOT)}:{number}: {text.strip()}"
        for path in files
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if AUTH_HEADER.search(text)
    ]
    assert not found, (
        "requests to the app carry the profile's auth through golive.client.UserSession; "
        "the Stripe backend is reached through golive.client.stripe_api (or Basic auth "
        "built by the HTTP client):\n" + "\n".join(found)
    )
