"""No family encodes the app's requests its own way: every request golive makes to the app
carries the profile's `auth:` through golive.client's UserSession, the one module that
builds credentials (golive/client/session.py), and says the app's paths and fields as the
profile's `flows:` do — none is the reference shop's (shop/) by default.

Two shapes are looked for, area by area (golive/, checks/, smoke/, loadtests/):

- an Authorization header built by hand (AUTH_HEADER, line by line); the exceptions,
  each with its reason, are the session, the Stripe sandbox, and calls to the Stripe API
  with the secret key (MAY_BUILD_AUTHORIZATION);
- the shop's literals (SHOP_LITERALS: `/api/v1/`, `tok_`, `food_item_id`) in the string
  constants of the code. Docstrings are not searched: they show the demo's profile as an
  example. The modules that detect an app's routes and write a profile from them
  (golive/detect*.py, golive/init_profile.py) and the sandbox are not searched either, and
  the production checklist's own webhook URL is allowed (ALLOWED_LITERALS).

An area whose family is still moving onto the request model on another branch is marked
xfail(strict=True): when that work lands, its case passes, shows as XPASS and fails the
run, and the mark must be removed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from gatekit import ROOT

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
# (file or folder, the lines it covers (None: all), why it may build the header)
MAY_BUILD_AUTHORIZATION: list[tuple[str, str | None, str]] = [
    (
        "golive/client/session.py",
        None,
        "UserSession: the one place the app's credentials are built",
    ),
    ("golive/sandbox/", None, "the embedded Stripe sandbox, the server: it reads the header"),
    (
        "golive/profile/auth.py",
        None,
        "the auth: block's model: `Authorization` is the default header name it gives the session",
    ),
    (
        "golive/backends.py",
        None,
        "asks the Stripe backend (the sandbox's /v1/balance) with the secret key",
    ),
    (
        "checks/test_stripe_config.py",
        None,
        "reads the webhook endpoints from the Stripe backend with the secret key",
    ),
    (
        "golive/webhooks/sender.py",
        r"_HIDDEN_HEADERS",
        'names the headers kept out of evidence (`{"authorization", …}`); builds none',
    ),
    ("smoke/stripe_side.py", None, "calls the Stripe API with the secret key"),
    (
        "golive/monitoring/prometheus.py",
        None,
        "sends Prometheus's own bearer token (monitoring.prometheus.bearer_token_env), "
        "never the app's",
    ),
]

SHOP_LITERALS = re.compile(r"/api/v1/|\btok_|food_item_id")
ALLOWED_LITERALS = {
    "/api/v1/stripe/webhook": "the production checklist's own webhook URL (docs/production-"
    "checklist.md, checklist.yaml's stripe.webhook-endpoint): app.webhook_path's default",
}
# Where the shop's literals are the subject: (file or folder, why)
MAY_NAME_THE_SHOP = [
    ("golive/monitoring/prometheus.py", "Prometheus's own HTTP API (/api/v1/query, …)"),
    ("golive/sandbox/", "the Stripe sandbox knows nothing of the app; its tests name the shop"),
    ("golive/detect", "detection: finds an app's routes, the shop's among the examples it knows"),
    ("golive/init_profile.py", "writes a profile from what detection found"),
]

# Areas: what each case searches. A file belongs to the first area that names it.
MIGRATING: dict[str, str] = {}  # area -> why it is still expected to fail (xfail, strict)
AREAS: dict[str, list[str]] = {
    "smoke": ["smoke/", "golive/profile/smoke.py"],
    "loadtests": ["loadtests/", "golive/profile/loadtest.py"],
    "checks": ["checks/"],
    "golive": ["golive/"],
}


def _area_of(relative: str) -> str | None:
    """The area of a file (or of a folder's files): the first that names it or a folder
    holding it."""
    for area, parts in AREAS.items():
        if any(
            relative.startswith(part) if part.endswith("/") else relative == part for part in parts
        ):
            return area
    return None


def _files(area: str) -> list[tuple[str, Path]]:
    found = []
    for part in AREAS[area]:
        paths = sorted((ROOT / part).rglob("*.py")) if part.endswith("/") else [ROOT / part]
        for path in paths:
            relative = path.relative_to(ROOT).as_posix()
            if _area_of(relative) == area and "__pycache__" not in relative:
                found.append((relative, path))
    return found


def _excused(relative: str, line: str) -> str | None:
    """The exception (its file or folder) that lets this line build the header."""
    for where, lines, _why in MAY_BUILD_AUTHORIZATION:
        if relative.startswith(where) and (lines is None or re.search(lines, line)):
            return where
    return None


def authorization_built(area: str) -> tuple[list[str], set[str]]:
    """Lines of the area that build an Authorization header unexcused, and the
    exceptions that excused one."""
    found, used = [], set()
    for relative, path in _files(area):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if AUTH_HEADER.search(text):
                excuse = _excused(relative, text)
                if excuse is not None:
                    used.add(excuse)
                else:
                    found.append(f"{relative}:{number}: {text.strip()}")
    return found, used


def _strings(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every str or bytes constant but docstrings."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings:
            if isinstance(node.value, str):
                yield node.lineno, node.value
            elif isinstance(node.value, bytes):
                yield node.lineno, node.value.decode("latin-1")


def shop_literals(area: str) -> list[str]:
    found = []
    for relative, path in _files(area):
        if any(relative.startswith(where) for where, _ in MAY_NAME_THE_SHOP):
            continue
        for number, text in _strings(path.read_text(encoding="utf-8")):
            for allowed in ALLOWED_LITERALS:
                text = text.replace(allowed, "")
            if SHOP_LITERALS.search(text):
                found.append(f"{relative}:{number}: {text.strip()[:100]!r}")
    return found


def _case(area: str) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=MIGRATING[area])] if area in MIGRATING else []
    return pytest.param(area, marks=marks, id=area)


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


def test_the_literal_search_skips_docstrings_but_not_code() -> None:
    source = (
        '"""An example: POST /api/v1/orders with tok_alice."""\n'
        "def f():\n"
        '    """GET /api/v1/me"""\n'
        '    return {"food_item_id": 1, "path": "/api/v1/stripe/webhook"}\n'
    )
    assert [text for _, text in _strings(source)] == [
        "food_item_id",
        "path",
        "/api/v1/stripe/webhook",
    ]


@pytest.mark.parametrize("area", [_case(area) for area in AREAS])
def test_only_the_session_builds_the_apps_credentials(area: str) -> None:
    assert _files(area), f"nothing to examine in {area}"
    found, _ = authorization_built(area)
    assert not found, (
        "requests to the app carry the profile's auth through golive.client.UserSession; "
        "a call to the Stripe API with the secret key belongs in MAY_BUILD_AUTHORIZATION "
        "with its reason:\n" + "\n".join(found)
    )


@pytest.mark.parametrize("area", [_case(area) for area in AREAS])
def test_no_default_names_the_reference_shop(area: str) -> None:
    found = shop_literals(area)
    assert not found, (
        "the app's paths, fields and credentials come from the profile (users, auth, flows "
        "and the family's block), never the reference shop's:\n" + "\n".join(found)
    )


def test_every_exception_still_excuses_something() -> None:
    """An exception nothing needs any more is taken off the list (the migrating areas'
    are checked once their mark goes)."""
    used: set[str] = set()
    for area in AREAS:
        if area not in MIGRATING:
            used |= authorization_built(area)[1]
    judged = {where for where, _, _ in MAY_BUILD_AUTHORIZATION if _area_of(where) not in MIGRATING}
    assert judged - used == set()
