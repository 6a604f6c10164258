"""`golive init`: a starter profile that validates, with every guess marked and placed.

Each test builds a small fake app repository in tmp_path and runs the CLI in it (cwd = the
repository): through its entry point in this process (gatekit.golive_here), and as a
subprocess where what a user's terminal shows matters (the canary test); the profile is
then read with the real loader (`golive.profile.load`) and `golive validate`. Detection is proven both
ways: found when the app has it, not guessed when it has not.
"""

from __future__ import annotations

import re
import secrets
import string
import subprocess
from pathlib import Path

import pytest
import yaml
from gatekit import gate, golive, golive_here

from golive import detect, profile
from golive.detect_routes import SourceFile, find_routes
from golive.init_profile import comment_text, yaml_string

WRITTEN = ("target.yaml", "attestations.yaml", "waivers.yaml")


def make_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def init(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return golive_here("init", *args, cwd=repo)


def init_ok(repo: Path, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    done = init(repo, *args)
    assert done.returncode == 0, done.stderr
    return done, (repo / "golive" / "target.yaml").read_text(encoding="utf-8")


def line_of(text: str, start: str) -> str:
    """The first line of `text` that starts with `start` once indented spaces are removed."""
    return next(line for line in text.splitlines() if line.lstrip().startswith(start))


def assert_validates(repo: Path, target: str = "golive/target.yaml") -> None:
    done = golive_here("validate", "--target", target, cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: ")


def source_line(repo: Path, file: str, needle: str) -> int:
    lines = (repo / file).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def canary_key() -> str:
    """A live-looking secret made now, never stored in golive's repository."""
    alphabet = string.ascii_letters + string.digits
    return "sk_live_" + "".join(secrets.choice(alphabet) for _ in range(24))


# --- fake apps -------------------------------------------------------------------------

FLASK_APP = """\
import os

import stripe
from flask import Flask, request

app = Flask(__name__)
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
endpoint_secret = os.getenv("STRIPE_WEBHOOK_SECRET")
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL")


@app.route("/healthz")
def health():
    return "ok"


@app.route("/orders", methods=["POST"])
def create_order():
    return {"ok": True}


@app.route('/stripe/webhook', methods=['POST'])
def stripe_webhook():
    payload = request.get_data()
    signature = request.headers.get("Stripe-Signature")
    event = stripe.Webhook.construct_event(payload, signature, endpoint_secret)
    return "", 200
"""

FLASK_FILES = {
    "requirements.txt": "Flask==3.0.3\nstripe==11.1.0\n",
    ".env.example": (
        "STRIPE_SECRET_KEY=replace-me\nSTRIPE_PUBLISHABLE_KEY=replace-me\n"
        "STRIPE_WEBHOOK_SECRET=replace-me\nSTRIPE_API_VERSION=2024-11-20.acacia\n"
        "DATABASE_URL=postgresql://localhost/shop\n"
    ),
    "app.py": FLASK_APP,
}

EXPRESS_SERVER = """\
const express = require('express');
const mongoose = require('mongoose');
const Stripe = require('stripe');
const billing = require('./routes/billing');

const stripe = Stripe(process.env.STRIPE_SK);
const { STRIPE_WEBHOOK_SECRET, PORT } = process.env;
const app = express();

mongoose.connect(process.env.MONGODB_URI);

app.get('/health', (req, res) => res.json({ ok: true }));

app.post('/api/orders', express.json(), async (req, res) => {
  res.json({ ok: true });
});

app.post('/api/webhooks/stripe', express.raw({type: 'application/json'}), (req, res) => {
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], STRIPE_WEBHOOK_SECRET);
  } catch (err) {
    return res.status(400).send(`Webhook Error: ${err.message}`);
  }
  res.json({ received: true });
});

app.use('/billing', billing);
app.listen(PORT || 3000);
"""

EXPRESS_FILES = {
    "package.json": """\
{
  "name": "shop-api",
  "main": "src/server.js",
  "scripts": {"start": "node src/server.js"},
  "dependencies": {
    "express": "^4.19.2",
    "mongoose": "^8.4.0",
    "stripe": "^16.0.0"
  }
}
""",
    "src/server.js": EXPRESS_SERVER,
    "src/routes/billing.js": """\
const express = require('express');
const router = express.Router();
router.post('/webhook-legacy', express.raw({type: 'application/json'}), (req, res) => res.sendStatus(410));
module.exports = router;
""",
}

DJANGO_FILES = {
    "requirements.txt": "Django==5.0.6\nstripe==11.1.0\ndj-database-url==2.1\n",
    "manage.py": "import os\nimport sys\n\nif __name__ == '__main__':\n    pass\n",
    "shop/settings.py": """\
import os

import dj_database_url

STRIPE_API_KEY = os.environ.get("STRIPE_API_KEY")
STRIPE_ENDPOINT_SECRET = os.environ.get("STRIPE_ENDPOINT_SECRET")
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
ROOT_URLCONF = "shop.urls"
""",
    "shop/urls.py": """\
from django.urls import include, path

urlpatterns = [
    path("api/", include("payments.urls")),
]
""",
    "payments/urls.py": """\
from django.urls import path

from . import views

urlpatterns = [
    path('orders/', views.orders),
    path('payments/webhook/', views.stripe_webhook),
]
""",
    "payments/views.py": """\
import stripe
from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt


def orders(request):
    return HttpResponse("[]")


@csrf_exempt
def stripe_webhook(request):
    signature = request.META.get("HTTP_STRIPE_SIGNATURE")
    try:
        event = stripe.Webhook.construct_event(
            request.body, signature, settings.STRIPE_ENDPOINT_SECRET
        )
    except ValueError:
        return HttpResponse(status=400)
    return HttpResponse(status=200)
""",
}

FASTAPI_FILES = {
    "pyproject.toml": """\
[project]
name = "fastshop"
version = "0.1.0"
dependencies = ["fastapi>=0.110", "uvicorn[standard]", "stripe>=9"]
""",
    "app/__init__.py": "",
    "app/routers/__init__.py": "",
    "app/main.py": """\
from fastapi import FastAPI

from app.routers import billing

app = FastAPI()
app.include_router(billing.router, prefix="/api")


@app.get("/health")
async def health():
    return {"ok": True}
""",
    "app/routers/billing.py": """\
import os

import stripe
from fastapi import APIRouter, Header, Request

router = APIRouter(prefix="/billing")
WEBHOOK_SECRET = os.getenv("STRIPE_WEBHOOK_SECRET", "")
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
DB = os.environ.get("POSTGRES_URL")


@router.post("/stripe-webhook")
async def stripe_webhook(request: Request, stripe_signature: str = Header(None)):
    payload = await request.body()
    event = stripe.Webhook.construct_event(payload, stripe_signature, WEBHOOK_SECRET)
    return {"received": True}
""",
}

NOTHING_FILES = {"README.md": "# tools\n", "tool.py": "print('hello')\n"}


# --- end to end, as a user runs it -------------------------------------------------------


def test_flask_app_gets_a_profile_that_validates_with_each_guess_marked(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", FLASK_FILES)
    done, text = init_ok(repo)

    for name in WRITTEN:
        assert (repo / "golive" / name).is_file()
    target = profile.load(repo / "golive" / "target.yaml")
    model = target.model
    assert model.mode == "test"
    assert target.repository_path == repo.resolve()
    assert model.env.source == "process"
    assert model.stripe is not None and model.stripe.backend == "sandbox"
    assert model.stripe.secret_key_env == "STRIPE_SECRET_KEY"  # the default: not rewritten
    assert model.attestations == "attestations.yaml" and model.waivers == "waivers.yaml"
    assert "Flask" in model.description
    assert model.app is not None and model.app.webhook_path == "/stripe/webhook"
    assert model.app.health == "/healthz"
    assert model.app.start is None  # only suggested, in a comment
    assert model.database is not None and model.database.url_env == "DATABASE_URL"
    assert model.database.naming.table_style is None  # no mongoose, no Flask-SQLAlchemy

    route_line = source_line(repo, "app.py", "@app.route('/stripe/webhook'")
    assert line_of(text, "webhook_path:").endswith(f"# guessed from app.py:{route_line} — confirm")
    database_line = source_line(repo, "app.py", "DATABASE_URL")
    assert line_of(text, "url_env:").endswith(f"# guessed from app.py:{database_line} — confirm")
    assert line_of(text, "description:").endswith("# guessed from requirements.txt:1 — confirm")
    assert "/orders" not in line_of(text, "webhook_path:")  # a POST route, not a candidate
    assert '# start: "flask --app app run --port {port}"' in text
    assert "Named differently" not in text  # the app uses the checklist's names
    assert "SQLALCHEMY_DATABASE_URI" not in text  # a config key the app sets, not a variable

    assert_validates(repo)
    assert "wrote golive/target.yaml" in done.stdout
    assert "wrote golive/attestations.yaml" in done.stdout
    assert "wrote golive/waivers.yaml" in done.stdout
    assert re.search(r"webhook route\s+/stripe/webhook\s+app\.py:\d+", done.stdout)
    # The library call, not the header read a line above it, is what ties the route.
    assert "has a call to stripe.Webhook.construct_event at app.py:" in done.stdout
    assert "golive validate --target golive/target.yaml" in done.stdout
    assert "golive gate --target golive/target.yaml --phase pre-deploy" in done.stdout


def test_the_header_lists_every_guess_and_everything_not_found(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", FLASK_FILES)
    _, text = init_ok(repo)
    header = text.split("\nname:", 1)[0]
    assert all(line.startswith("#") or not line for line in header.splitlines())
    guessed, missing = header.split("# Not found", 1)
    for label in (
        "framework",
        "webhook route",
        "health route",
        "database URL",
        "Stripe secret key",
        "Stripe publishable key",
        "Stripe webhook secret",
        "Stripe API version",
        "start command",
    ):
        assert f"#   {label} " in guessed, label
    assert "nothing" in missing.split("\n#\n")[0]
    assert "golive validate --target golive/target.yaml" in header


def test_express_app_with_mongoose(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "api", EXPRESS_FILES)
    done, text = init_ok(repo)
    model = profile.load(repo / "golive" / "target.yaml").model

    assert "Express" in model.description
    assert model.app is not None and model.app.webhook_path == "/api/webhooks/stripe"
    assert model.app.health == "/health"
    route_line = source_line(repo, "src/server.js", "app.post('/api/webhooks/stripe'")
    webhook = line_of(text, "webhook_path:")
    assert f"# guessed from src/server.js:{route_line} — confirm" in webhook
    assert "also seen: /billing/webhook-legacy" in webhook  # the other candidate, mounted
    assert "/api/orders" not in webhook
    assert model.database is not None and model.database.url_env == "MONGODB_URI"
    assert model.database.naming.table_style == "lower_plural"
    assert model.database.naming.column_style == "exact"
    assert "(mongoose) — confirm" in line_of(text, "table_style:")
    # The app's own name for the secret key, and the checklist's, both said.
    assert model.env.names.secret_key == "STRIPE_SK"
    assert "names:" in text and 'secret_key: "STRIPE_SK"' in text
    assert model.stripe is not None and model.stripe.secret_key_env == "STRIPE_SK"  # follows
    assert model.env.names.webhook_secret == "STRIPE_WEBHOOK_SECRET"  # the default: not written
    named = text.split("# Named differently from the checklist's defaults:", 1)[1].split("\n#\n")[0]
    assert "STRIPE_SK" in named and "STRIPE_SECRET_KEY" in named
    assert "environment.secret-key" in named
    assert "STRIPE_WEBHOOK_SECRET" not in named  # that one matches
    assert '# start: "npm start"' in text and '# env: {PORT: "{port}"}' in text
    assert "Named differently" in done.stdout
    assert_validates(repo)


def test_django_app_with_an_included_urlconf(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "site", DJANGO_FILES)
    done, text = init_ok(repo)
    model = profile.load(repo / "golive" / "target.yaml").model

    assert "Django" in model.description
    assert model.app is not None and model.app.webhook_path == "/api/payments/webhook/"
    route_line = source_line(repo, "payments/urls.py", "payments/webhook/")
    assert f"# guessed from payments/urls.py:{route_line} — confirm" in line_of(
        text, "webhook_path:"
    )
    assert "its handler stripe_webhook has a call to stripe.Webhook.construct_event" in done.stdout
    assert "mounted by shop/urls.py:4" in done.stdout
    assert model.database is not None and model.database.url_env == "DATABASE_URL"
    assert model.database.naming.tables == {}  # Django's <app>_<model> names: not guessed
    assert "which golive\n  # cannot guess from here" in text
    assert "STRIPE_API_KEY" in text and "STRIPE_ENDPOINT_SECRET" in text
    assert "manage.py runserver 127.0.0.1:{port}" in text
    assert_validates(repo)


def test_fastapi_app_with_router_prefixes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "fast", FASTAPI_FILES)
    _, text = init_ok(repo)
    model = profile.load(repo / "golive" / "target.yaml").model

    assert "FastAPI" in model.description
    assert model.app is not None and model.app.webhook_path == "/api/billing/stripe-webhook"
    assert model.app.health == "/health"
    assert model.database is not None and model.database.url_env == "POSTGRES_URL"
    assert '# start: "uvicorn app.main:app --host 127.0.0.1 --port {port}"' in text
    assert model.app.start is None
    assert_validates(repo)


def test_a_repository_with_nothing_to_detect_still_validates(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "tools", NOTHING_FILES)
    done, text = init_ok(repo)
    model = profile.load(repo / "golive" / "target.yaml").model

    assert "guessed from" not in text
    assert "# start:" not in text  # no framework, no suggestion
    assert model.database is None  # the block is there, commented out
    assert "# database:" in text
    assert model.app is not None and model.app.webhook_path == "/api/v1/stripe/webhook"
    assert "not found in the source" in line_of(text, "webhook_path:")
    assert "not found in the source" in line_of(text, "health:")
    assert "framework not found" in line_of(text, "description:")
    missing = text.split("# Not found", 1)[1].split("\n#\n")[0]
    for label in (
        "framework",
        "webhook route",
        "health route",
        "database URL",
        "Stripe secret key",
        "Stripe publishable key",
        "Stripe webhook secret",
        "Stripe API version",
        "dotenv example",
    ):
        assert f"#   {label} " in missing, label
    assert "Guessed (confirm each):\n#   nothing" in text
    assert "Not found:" in done.stdout and "STRIPE_SECRET_KEY" in done.stdout
    assert_validates(repo)


@pytest.mark.slow
def test_the_gate_runs_on_the_written_profile(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", FLASK_FILES)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    init_ok(repo)
    run = gate(repo / "golive" / "target.yaml", tmp_path / "report", "--phase", "pre-deploy")
    assert run.returncode in (0, 1), run.stderr  # NO-GO is expected; never invalid input
    assert run.results["verdict"] in ("GO", "NO-GO")


def test_refuses_to_overwrite_and_force_does(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", FLASK_FILES)
    init_ok(repo)
    target = repo / "golive" / "target.yaml"
    target.write_text("# mine\n" + target.read_text(encoding="utf-8"), encoding="utf-8")

    again = init(repo)
    assert again.returncode == 2
    assert "golive/target.yaml" in again.stderr and "--force" in again.stderr
    assert target.read_text(encoding="utf-8").startswith("# mine\n")

    forced = init(repo, "--force")
    assert forced.returncode == 0, forced.stderr
    assert not target.read_text(encoding="utf-8").startswith("# mine\n")


def test_refuses_when_any_of_the_three_exists_and_writes_none(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", {**FLASK_FILES, "golive/waivers.yaml": "waivers: []\n"})
    done = init(repo)
    assert done.returncode == 2
    assert "golive/waivers.yaml" in done.stderr and "--force" in done.stderr
    assert not (repo / "golive" / "target.yaml").exists()
    assert not (repo / "golive" / "attestations.yaml").exists()


def test_a_real_env_is_never_read_copied_or_printed(tmp_path: Path) -> None:
    in_env, in_production, in_example = canary_key(), canary_key(), canary_key()
    repo = make_repo(
        tmp_path / "shop",
        {
            **FLASK_FILES,
            ".env": f"STRIPE_SECRET_KEY={in_env}\nDATABASE_URL=postgresql://u:{in_env}@db/x\n",
            ".env.production": f"STRIPE_SECRET_KEY={in_production}\n",
            # Example files sometimes hold a real key by mistake: only names are taken.
            ".env.example": f"STRIPE_SECRET_KEY={in_example}\nSTRIPE_PUBLISHABLE_KEY=\n",
        },
    )
    done = golive("init", cwd=repo)  # a real process: what the user's terminal shows
    assert done.returncode == 0, done.stderr
    text = (repo / "golive" / "target.yaml").read_text(encoding="utf-8")
    written = "".join((repo / "golive" / name).read_text(encoding="utf-8") for name in WRITTEN)
    for canary in (in_env, in_production, in_example):
        for place, content in (
            ("files", written),
            ("stdout", done.stdout),
            ("stderr", done.stderr),
        ):
            assert canary not in content, place
            assert canary[8:] not in content, place
    assert "Real dotenv files (.env, .env.production) were not opened" in text
    assert "STRIPE_PUBLISHABLE_KEY" in text  # the example's names are used
    assert_validates(repo)


def test_odd_names_and_paths_stay_valid_yaml(tmp_path: Path) -> None:
    name = "we\"ird: #app 'ü' {x} \\ - [y]"
    route = "/hooks/it's #1: ü {x}"
    repo = make_repo(
        tmp_path / name,
        {
            "requirements.txt": "flask\n",
            'odd "dir"#\nnext/app.py': (
                "import stripe\nfrom flask import Flask, request\napp = Flask(__name__)\n\n"
                f'@app.post("{route}")\n'
                "def hook():\n"
                "    return stripe.Webhook.construct_event(request.data, '', '')\n"
            ),
        },
    )
    _, text = init_ok(repo)
    yaml.safe_load(text)
    model = profile.load(repo / "golive" / "target.yaml").model
    assert model.name == name
    assert model.app is not None and model.app.webhook_path == route
    assert '# guessed from odd "dir"#\\nnext/app.py:5 — confirm' in text
    assert_validates(repo)


def test_repo_and_dir_options(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "apps" / "shop", FLASK_FILES)
    done = golive_here("init", "--repo", "apps/shop", "--dir", "ci/golive", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    path = repo / "ci" / "golive" / "target.yaml"
    target = profile.load(path)
    assert target.model.repository is not None and target.model.repository.path == "../.."
    assert target.repository_path == repo.resolve()
    assert "golive validate --target apps/shop/ci/golive/target.yaml" in done.stdout
    assert_validates(tmp_path, "apps/shop/ci/golive/target.yaml")
    assert not (repo / "golive").exists()


def test_the_attestations_file_takes_golive_attest(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", FLASK_FILES)
    init_ok(repo)
    done = golive_here(
        "attest",
        "code-review.security-audit",
        "--by",
        "Marco Rossi",
        "--evidence",
        "https://wiki.example.com/audit",
        "--target",
        "golive/target.yaml",
        cwd=repo,
    )
    assert done.returncode == 0, done.stderr
    check = golive_here("validate", "--target", "golive/target.yaml", cwd=repo)
    assert check.returncode == 0, check.stderr
    assert "1 attestations, 0 waivers" in check.stdout
    text = (repo / "golive" / "attestations.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Sign-offs") and "golive attest" in text


# --- detection, both ways (in-process: quick) ---------------------------------------------


def scan(tmp_path: Path, files: dict[str, str]) -> detect.Detection:
    return detect.scan(make_repo(tmp_path / "repo", files))


@pytest.mark.parametrize(
    ("files", "framework"),
    [
        ({"requirements.txt": "flask>=3\n"}, "flask"),
        ({"requirements-prod.txt": "Django==5.0\n"}, "django"),
        ({"Pipfile": '[packages]\nfastapi = "*"\nstarlette = "*"\n'}, "fastapi"),
        ({"pyproject.toml": '[project]\nname="x"\ndependencies=["starlette"]\n'}, "starlette"),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npython="^3.11"\nFlask="^3"\n'}, "flask"),
        ({"package.json": '{"dependencies": {"express": "^4"}}'}, "express"),
        ({"app.py": "from flask import Flask\n"}, "flask"),
        ({"main.py": "from fastapi import FastAPI\n"}, "fastapi"),
        ({"src/index.ts": "import express from 'express';\n"}, "express"),
        ({"views.py": "from django.http import HttpResponse\n"}, "django"),
    ],
)
def test_framework_found(tmp_path: Path, files: dict[str, str], framework: str) -> None:
    found = scan(tmp_path, files)
    assert found.framework is not None and found.framework.value == framework


@pytest.mark.parametrize(
    "files",
    [
        {"requirements.txt": "requests\nflask-sqlalchemy\n"},  # not Flask itself
        {"package.json": '{"dependencies": {"express-validator": "^7", "koa": "^2"}}'},
        {"app.py": "from flask_sqlalchemy import SQLAlchemy\n"},
        {"README.md": "Built with Flask and Express."},
        {"tests/test_app.py": "from flask import Flask\n"},  # tests are not the app
    ],
)
def test_framework_not_guessed(tmp_path: Path, files: dict[str, str]) -> None:
    assert scan(tmp_path, files).framework is None


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("STRIPE_SECRET_KEY", "secret_key"),
        ("STRIPE_API_KEY", "secret_key"),
        ("STRIPE_SK", "secret_key"),
        ("STRIPE_SECRET", "secret_key"),
        ("STRIPE_RESTRICTED_KEY", "secret_key"),
        ("STRIPE_PUBLISHABLE_KEY", "publishable_key"),
        ("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "publishable_key"),
        ("STRIPE_PK", "publishable_key"),
        ("STRIPE_WEBHOOK_SECRET", "webhook_secret"),
        ("STRIPE_ENDPOINT_SECRET", "webhook_secret"),
        ("STRIPE_SIGNING_SECRET", "webhook_secret"),
        ("STRIPE_API_VERSION", "api_version"),
        ("STRIPE_WEBHOOK_URL", None),
        ("STRIPE_PRICE_ID", None),
        ("SECRET_KEY", None),
    ],
)
def test_stripe_variable_roles(name: str, role: str | None) -> None:
    assert detect.stripe_role(name) == role


def test_env_names_from_every_kind_of_read(tmp_path: Path) -> None:
    found = scan(
        tmp_path,
        {
            "a.py": 'import os\nx = os.environ["STRIPE_SK"]\ny = os.getenv("DATABASE_URL")\n',
            "b.py": "from django.conf import settings\nz = settings.STRIPE_WEBHOOK_SECRET\n",
            "c.js": "const { STRIPE_PUBLISHABLE_KEY: pk } = process.env;\n",
            "d.ts": "const v = process.env['STRIPE_API_VERSION'];\n",
        },
    )
    roles = {role: guess.value for role, guess in found.stripe.items()}
    assert roles == {
        "secret_key": "STRIPE_SK",
        "webhook_secret": "STRIPE_WEBHOOK_SECRET",
        "publishable_key": "STRIPE_PUBLISHABLE_KEY",
        "api_version": "STRIPE_API_VERSION",
    }
    assert found.stripe["secret_key"].where == detect.Where("a.py", 2)
    assert found.database_var is not None and found.database_var.value == "DATABASE_URL"


def test_an_ambiguous_stripe_key_is_judged_by_its_use(tmp_path: Path) -> None:
    found = scan(
        tmp_path,
        {
            "server.js": "const stripe = require('stripe')(process.env.STRIPE_KEY);\n",
            "web.js": "const s = loadStripe(process.env.STRIPE_PUB);\n",
            "prices.js": "const price = process.env.STRIPE_PLAN;\n",
        },
    )
    assert found.stripe["secret_key"].value == "STRIPE_KEY"
    assert found.stripe["publishable_key"].value == "STRIPE_PUB"
    assert "STRIPE_PLAN" not in {g.value for g in found.stripe.values()}


def test_no_stripe_or_database_variable_guessed_without_one(tmp_path: Path) -> None:
    found = scan(
        tmp_path,
        {
            "a.py": 'import os\nos.environ["SECRET_KEY"]\nos.getenv("REDIS_URL")\n',
            ".env.example": "TEST_DATABASE_URL=sqlite://\nSENTRY_DSN=\n",
        },
    )
    assert found.stripe == {}
    assert found.database_var is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MONGO_URL", "MONGO_URL"),
        ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_DATABASE_URI"),
        ("ORDERS_DB_URL", "ORDERS_DB_URL"),
    ],
)
def test_database_variable_names(tmp_path: Path, name: str, expected: str) -> None:
    found = scan(tmp_path, {"db.py": f'import os\nurl = os.environ["{name}"]\n'})
    assert found.database_var is not None and found.database_var.value == expected


def test_the_webhook_is_the_route_nearest_the_signature_check(tmp_path: Path) -> None:
    found = scan(
        tmp_path,
        {
            "app.py": """\
import stripe
from flask import Flask
app = Flask(__name__)

@app.route("/webhooks/github", methods=["POST"])
def github():
    return ""

@app.route("/webhooks/stripe", methods=["POST"])
def stripe_hook():
    return stripe.Webhook.construct_event(b"", "", "")

@app.route("/webhooks/stripe-old", methods=["POST"])
def old():
    return stripe.Webhook.construct_event(b"", "", "")
""",
        },
    )
    assert found.webhook is not None
    assert found.webhook.route.full_path == "/webhooks/stripe"
    assert [r.full_path for r in found.webhook.others] == [
        "/webhooks/stripe-old",
        "/webhooks/github",
    ]


def test_a_webhook_route_without_a_signature_check_is_flagged(tmp_path: Path) -> None:
    found = scan(tmp_path, {"app.js": "app.post('/webhook', express.json(), handle);\n"})
    assert found.webhook is not None and found.webhook.call is None
    assert "no Stripe signature verification" in found.webhook.how


@pytest.mark.parametrize(
    "files",
    [
        {"app.py": "@app.route('/orders', methods=['POST'])\ndef orders():\n    pass\n"},
        {"app.py": "@app.route('/webhook')\ndef hook():\n    return construct_event()\n"},  # GET
        {"app.js": "axios.post('/webhook', body);\n"},  # a client call, not a route
        {"tests/test_hook.py": "@app.post('/webhook')\ndef f():\n    construct_event(1)\n"},
        {"app.py": "# stripe.Webhook.construct_event(payload)\n"},
    ],
)
def test_no_webhook_guessed_without_one(tmp_path: Path, files: dict[str, str]) -> None:
    assert scan(tmp_path, files).webhook is None


def test_an_express_router_mounted_by_the_app(tmp_path: Path) -> None:
    found = scan(
        tmp_path,
        {
            "src/app.ts": (
                "import express from 'express';\nimport payments from './routes/payments';\n"
                "const app = express();\napp.use('/api/v2', payments);\n"
            ),
            "src/routes/payments.ts": (
                "const router = express.Router();\n"
                "router.route('/stripe/webhook').post(express.raw({type: '*/*'}), handleWebhook);\n"
                "async function handleWebhook(req, res) {\n"
                "  const event = stripe.webhooks.constructEvent(req.body, sig, secret);\n"
                "}\nexport default router;\n"
            ),
        },
    )
    assert found.webhook is not None
    assert found.webhook.route.full_path == "/api/v2/stripe/webhook"
    assert found.webhook.route.mounted_by == [detect.Where("src/app.ts", 4)]


def test_a_flask_blueprint_and_a_nextjs_api_route(tmp_path: Path) -> None:
    files = [
        SourceFile(
            "shop/payments.py",
            "bp = Blueprint('payments', __name__, url_prefix='/pay')\n"
            "@bp.route('/hook', methods=['POST'])\ndef hook():\n    pass\n",
        ),
        SourceFile("web/pages/api/stripe/webhook.ts", "export default async function h() {}\n"),
        SourceFile("web/app/api/checkout/route.ts", "export async function POST() {}\n"),
    ]
    assert {r.full_path for r in find_routes(files)} == {
        "/pay/hook",
        "/api/stripe/webhook",
        "/api/checkout",
    }


def test_health_route_found_and_not_guessed(tmp_path: Path) -> None:
    found = scan(tmp_path, {"app.py": "@app.get('/api/healthz')\ndef h():\n    pass\n"})
    assert found.health is not None and found.health.full_path == "/api/healthz"
    found = scan(
        tmp_path / "other", {"app.py": "@app.get('/orders/<id>/status')\ndef h():\n    pass\n"}
    )
    assert found.health is None


def test_dotenv_files_sorted_into_examples_and_real_ones(tmp_path: Path) -> None:
    found = scan(
        tmp_path,
        {
            ".env": "A=1\n",
            ".env.local": "A=1\n",
            "prod.env": "A=1\n",
            ".env.example": "A=\n",
            "config/env.sample": "A=\n",
            "example.env": "A=\n",
            "env.ts": "export const x = process.env.STRIPE_SECRET_KEY;\n",
        },
    )
    assert found.real_env_files == [".env", ".env.local", "prod.env"]
    assert sorted(found.env_examples) == [".env.example", "config/env.sample", "example.env"]
    assert found.stripe["secret_key"].where.file == "env.ts"  # code, not a dotenv file


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        'quo"te',
        "it's",
        "#hash: colon - [list] {map} & * ! | > % @ `",
        "back\\slash",
        "ü é 中文 😀",
        "new\nline\ttab\r\x00\x7f\x85\u2028\ufeff",
        "",
        "yes",
        "null",
        "1.5",
    ],
)
def test_yaml_string_round_trips(text: str) -> None:
    assert yaml.safe_load(f"key: {yaml_string(text)}") == {"key": text}
    assert "\n" not in comment_text(text)
    yaml.safe_load(f"key: 1  # {comment_text(text)}")


def test_hand_rolled_verification_ties_the_route_by_the_signature_header(tmp_path: Path) -> None:
    found = scan(
        tmp_path,
        {
            "app.py": """\
from flask import Flask, request
from payments.verify import check_signature
app = Flask(__name__)

@app.route("/orders", methods=["POST"])
def orders():
    return ""

@app.route("/hooks/payments", methods=["POST"])
def payments_hook():
    check_signature(request.data, request.headers["Stripe-Signature"])
    return ""
""",
        },
    )
    assert found.webhook is not None and found.webhook.route.full_path == "/hooks/payments"
    assert found.webhook.call is not None
    assert found.webhook.call.call == "a read of the Stripe-Signature header"


def test_a_signature_check_tied_to_no_route_is_said_so(tmp_path: Path) -> None:
    found = scan(
        tmp_path,
        {
            "routes.py": 'from starlette.routing import Route\nR = [Route("/stripe/webhook", h)]\n',
            "verify.py": "def verify(headers):\n    return headers['stripe-signature']\n",
        },
    )
    assert found.webhook is not None and found.webhook.call is None
    assert found.webhook.verified_elsewhere
    assert "verify.py:2 is tied to no route" in found.webhook.how


@pytest.mark.parametrize(
    "files",
    [
        {
            "app.py": 'WEBHOOK_PATH = "/api/stripe/events"\n'
            "ROUTES = [Route(WEBHOOK_PATH, receive, methods=['POST'])]\n"
            "async def receive(request):\n"
            "    stripe.Webhook.construct_event(await request.body(), '', '')\n"
        },
        {
            "server.js": "const WEBHOOK_PATH = '/api/stripe/events';\n"
            "app.post(WEBHOOK_PATH, express.raw({type: '*/*'}), (req, res) => {\n"
            "  stripe.webhooks.constructEvent(req.body, sig, secret);\n});\n"
        },
    ],
)
def test_a_route_path_held_in_a_constant(tmp_path: Path, files: dict[str, str]) -> None:
    found = scan(tmp_path, files)
    assert found.webhook is not None and found.webhook.route.full_path == "/api/stripe/events"


def test_names_read_through_a_helper(tmp_path: Path) -> None:
    found = scan(
        tmp_path,
        {
            "config.py": """\
def load(env):
    get = env.get
    return {
        "key": get("STRIPE_SECRET_KEY"),
        "db": get("DATABASE_URL", "sqlite:///x.db"),
        "other": get("SHOP_NAME"),
    }
""",
            "errors.py": 'MESSAGE = "STRIPE_WEBHOOK_SECRET is required"\n',
        },
    )
    assert found.stripe["secret_key"].value == "STRIPE_SECRET_KEY"
    assert found.stripe["secret_key"].how == "named in the source"
    assert found.database_var is not None and found.database_var.value == "DATABASE_URL"
    assert "webhook_secret" not in found.stripe  # a sentence naming it is not a read
    assert "SHOP_NAME" not in {e.name for e in found.env_names}
