"""A hostile target echoes secrets in every encoding; none may come out of golive.

The target is a real HTTP server on loopback that answers every request with canaries:
raw, JSON-escaped (`"\\nsk_live_…"`), URL-encoded (`%22sk_live_…%22`, `key%3Dsk_live_…`),
glued to letters, as a JWT, inside base64 of a JSON body, and the profile's own env secret
placed across the 200-character excerpt boundary. A real `golive gate` runs the API and
webhook checks against it (they keep response excerpts as evidence); then every file under
--out and the terminal are searched for each canary and for any 12-character piece of one.

Base64: golive decodes base64 runs while redacting; a run that holds a secret is replaced
whole (`«base64, N chars, redacted»`), so no output can be decoded back to one.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from gatekit import GateRun, gate

pytestmark = pytest.mark.slow

LIVE = "_" + "live_"  # never a literal live prefix in this file
EXCERPT = 200
WINDOW = 12  # no piece of a canary this long may appear anywhere


def _key(prefix: str) -> str:
    return prefix + "CANARY" + secrets.token_hex(10)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Canaries:
    def __init__(self) -> None:
        self.sk, self.rk, self.whsec = _key("sk" + LIVE), _key("rk" + LIVE), _key("whsec_")
        self.sk_b64 = _key("sk" + LIVE)  # only ever inside the base64 body
        self.visa, self.mastercard = "4242424242424242", "5555555555554444"
        claims = {"sub": "user_" + secrets.token_hex(8), "scope": "admin"}
        self.jwt = ".".join(
            [
                _b64url(b'{"alg":"HS256","typ":"JWT"}'),
                _b64url(json.dumps(claims).encode()),
                _b64url(secrets.token_bytes(32)),
            ]
        )
        self.env_token = "tkn" + secrets.token_hex(20)  # not key-shaped: only the env knows it
        self.webhook_secret = _key("whsec_")  # signs the deliveries; the env's
        self.blob = base64.b64encode(
            json.dumps({"secret": self.sk_b64, "card": self.mastercard}).encode()
        ).decode()
        self.bodies = self._bodies()

    def _bodies(self) -> dict[str, str]:
        v, m = self.visa, self.mastercard
        spaced = " ".join(v[i : i + 4] for i in range(0, 16, 4))
        escaped = (  # JSON text as served: a backslash and an `n` before each secret
            '{"log":"boot\\n' + self.sk + "\\n" + self.rk + "\\t" + self.whsec + "\\n" + v
        ) + '\\n5555-5555-5555-4444"}'
        url = (
            f"next=%22{self.sk}%22&q=key%3D{self.rk}&w={self.whsec}%26"
            f"&card={spaced.replace(' ', '%20')}&c=%22{m}%22"
        )
        glued = f"id{self.sk}x ref{v}x {m[:4]}.{m[4:8]}.{m[8:12]}.{m[12:]} abc{self.whsec}"
        return {
            "/v1/escaped": escaped,
            "/v1/url": url,
            "/v1/glued": glued,
            "/v1/b64": json.dumps({"blob": self.blob}),
            "/v1/jwt": json.dumps({"token": self.jwt, "auth": f"Bearer {self.jwt}"}),
            "/v1/straddle": self._straddle(EXCERPT - 15),
            # The webhook sender keeps 199 characters and an ellipsis.
            "/webhook": self._straddle(EXCERPT - 1 - 15),
        }

    def _straddle(self, start: int) -> str:
        """A JSON body whose env token starts at `start`, so an excerpt cuts it."""
        head = '{"pad":"'
        tail = '","token":"'
        pad = "x" * (start - len(head) - len(tail))
        body = head + pad + tail + self.env_token + '"}'
        assert body.index(self.env_token) == start
        return body

    def values(self) -> dict[str, str]:
        """Each canary, and each encoded form planted, by name."""
        forms = {
            "sk": self.sk,
            "rk": self.rk,
            "whsec": self.whsec,
            "sk-in-base64": self.sk_b64,
            "base64 blob": self.blob,
            "visa": self.visa,
            "mastercard": self.mastercard,
            "jwt": self.jwt,
            "env token": self.env_token,
            "webhook secret": self.webhook_secret,
        }
        forms["visa spaced %20"] = "%20".join(self.visa[i : i + 4] for i in range(0, 16, 4))
        forms["mastercard dashed"] = "5555-5555-5555-4444"
        forms["mastercard dotted"] = "5555.5555.5555.4444"
        return forms

    def fragments(self) -> dict[str, str]:
        """Every WINDOW-character piece of every canary form -> the canary it comes from."""
        pieces: dict[str, str] = {}
        for name, value in self.values().items():
            for start in range(len(value) - WINDOW + 1):
                pieces.setdefault(value[start : start + WINDOW], name)
        return pieces


class _Hostile(BaseHTTPRequestHandler):
    bodies: dict[str, str] = {}

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 2 * 1024 * 1024))
        path = self.path.split("?", 1)[0]
        body = self.bodies.get(path, self.bodies["/v1/escaped"]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", self.bodies["/v1/url"][:120])
        self.send_header("Strict-Transport-Security", "max-age=60; " + self.bodies["/v1/glued"])
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def canaries() -> Canaries:
    return Canaries()


@pytest.fixture
def hostile(canaries: Canaries) -> Iterator[str]:
    handler = type("Handler", (_Hostile,), {"bodies": canaries.bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def hostile_profile(folder: Path, base_url: str, canaries: Canaries) -> Path:
    folder.mkdir()
    (folder / "hostile.env").write_text(
        f"STRIPE_WEBHOOK_SECRET={canaries.webhook_secret}\nHOSTILE_API_TOKEN={canaries.env_token}\n"
    )
    get = [{"method": "GET", "path": path} for path in canaries.bodies if path != "/webhook"]
    profile = {
        "name": "hostile",
        "mode": "live",
        "env": {"file": "hostile.env"},
        "app": {"base_url": base_url, "health": "/healthz", "webhook_path": "/webhook"},
        "users": {"ann": {"token": "tok_hostile_a"}, "ben": {"token": "tok_hostile_b"}},
        "auth": {"header": {"name": "Authorization", "scheme": "Bearer"}},
        "flows": {  # answers no order_id: the check stops with the excerpt in its message
            "make_order": [
                {
                    "request": {"method": "POST", "path": "/v1/escaped", "json": {"x": 1}},
                    "capture": {"order_id": "order_id"},
                }
            ]
        },
        "api": {
            "users": {"a": "ann", "b": "ben"},
            "endpoints": get,
            "owned": {
                "create": {"job": "make_order"},
                "id": "order_id",
                "probes": [{"method": "GET", "path": "/v1/orders/{order_id}"}],
            },
            "cors": {"foreign_origin": "https://evil.example.net", "path": "/v1/url"},
            "rate_limit": {"method": "POST", "path": "/v1/jwt", "burst": 3, "expect_429_within": 2},
            "malformed": [
                {"method": "POST", "path": path, "json": {"a": 1}}
                for path in ("/v1/straddle", "/v1/url")
            ],
        },
    }
    path = folder / "target.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}")


def leaks(text: str, canaries: Canaries) -> list[str]:
    """Which canaries text shows, as is or inside a base64 run decoded at any offset."""
    fragments = canaries.fragments()
    found = {name for piece, name in fragments.items() if piece in text}
    for run in _BASE64_RUN.findall(text):
        normal = run.replace("-", "+").replace("_", "/")
        for offset in range(4):
            chunk = normal[offset:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            decoded = base64.b64decode(chunk).decode("latin-1")
            found |= {name for piece, name in fragments.items() if piece in decoded}
    return sorted(found)


def assert_nothing_leaks(run: GateRun, canaries: Canaries) -> None:
    texts = {"stdout": run.stdout, "stderr": run.stderr, **run.report_texts()}
    assert {"results.json", "report.html", "junit.xml", "summary.md"} <= set(texts)
    leaked = {name: found for name, text in texts.items() if (found := leaks(text, canaries))}
    assert not leaked, f"canaries leaked: {leaked}"


def test_a_hostile_target_leaks_no_canary(tmp_path: Path, hostile: str, canaries: Canaries) -> None:
    profile = hostile_profile(tmp_path / "hostile", hostile, canaries)
    out = tmp_path / "out"
    run = gate(profile, out, "--section", "api-security")
    assert run.returncode == 1, run.stdout + run.stderr  # NO-GO: every check sees 200s
    outcomes = run.outcomes()
    assert outcomes["api-security.authentication"] == "fail"
    assert outcomes["api-security.authorization"] == "error"
    # The excerpts did reach the output, masked: the test is not vacuous.
    auth = [e for e in run.evidence("api-security.authentication") if e.get("kind") != "control"]
    assert len(auth) == 2 * 6 and all(e["body_excerpt"] for e in auth)
    assert any(e["variant"] for e in run.evidence("api-security.webhook-signature-verification"))
    assert_nothing_leaks(run, canaries)
    results = (out / "results.json").read_text()
    assert f"sk_live_…{canaries.sk[-4:]}" in results
    assert "424242******4242" in results and "555555******4444" in results
    assert "golive could not create user A's resource" in run.stdout  # the excerpt, on the terminal


def test_a_failing_setup_command_shows_no_secret(tmp_path: Path, canaries: Canaries) -> None:
    profile = hostile_profile(tmp_path / "hostile", "http://127.0.0.1:9", canaries)
    data = yaml.safe_load(profile.read_text())
    # The command prints the env's token and a key it made up, then fails.
    script = (
        "import sys; print(open('hostile.env').read().replace(chr(10), ' ')); "
        f"print('key%3D{canaries.sk} card {canaries.visa}'); sys.exit(3)"
    )
    data["setup"] = [f'{{python}} -c "{script}"']
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    run = gate(profile, tmp_path / "out", "--section", "api-security")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "failed with exit code 3" in run.stderr
    assert f"sk_live_…{canaries.sk[-4:]}" in run.stderr  # the output is shown, masked
    found = leaks(run.stdout + run.stderr, canaries)
    assert not found, f"canaries leaked on the terminal: {found}\n{run.stderr}"
