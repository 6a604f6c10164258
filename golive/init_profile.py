"""The files `golive init` writes: a starter profile, attestations and waivers, as text.

Built as strings, not dumped with PyYAML, because the comments are the point: every
guess says where it came from and asks to be confirmed. Every value taken from the
repository goes through `yaml_string` (double-quoted, escaped) and every comment through
`comment_text` (one line, printable), so an odd file name or route cannot break the YAML.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from golive import __version__
from golive.detect import ROLE_LABELS, STRIPE_ROLES, Detection, Guess, stripe_role
from golive.detect_routes import Where
from golive.profile import WEBHOOK_PATH_DEFAULT, EnvNames
from golive.redact import DEFAULT

COMMENT_COLUMN = 36
FRAMEWORK_LABELS = {
    "flask": "Flask",
    "django": "Django",
    "fastapi": "FastAPI",
    "starlette": "Starlette",
    "express": "Express",
}
CONFIRM = "— confirm"


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar that reads back as exactly `text`."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable() and (
            0x20 <= code <= 0x7E
            or 0xA0 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or code >= 0x10000
        ):
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def comment_text(text: str) -> str:
    """`text` on one printable line: a newline in a file name must not end the comment."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


@dataclass
class Note:
    """One line of the header and of the terminal: a guess, or something not found."""

    label: str
    value: str
    where: Where | None = None
    how: str = ""


@dataclass
class Starter:
    target: str
    attestations: str
    waivers: str
    guesses: list[Note] = field(default_factory=list)
    missing: list[Note] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)  # names that differ from the checklist's


def render(
    found: Detection,
    *,
    profile_dir: Path,
    checklist_vars: dict[str, list[str]],
    target_shown: str,
) -> Starter:
    """The three files for `found`, the profile living in `profile_dir`.

    `checklist_vars`: each variable the checklist's env checks read -> the items reading it.
    `target_shown`: the profile's path as the next commands should name it."""
    starter = Starter("", ATTESTATIONS, WAIVERS)
    _notes(found, checklist_vars, starter)
    body = _body(found, profile_dir)
    header = _header(found, starter, target_shown)
    # A last line of defence: nothing shaped like a Stripe secret leaves init.
    starter.target = DEFAULT.text("\n".join(header + body) + "\n")
    return starter


def _at(where: Where | None) -> str:
    return comment_text(str(where)) if where else ""


def _guessed(where: Where | None, extra: str = "") -> str:
    return f"guessed from {_at(where)}{extra} {CONFIRM}"


def _line(indent: int, text: str, comment: str = "") -> str:
    line = " " * indent + text
    if not comment:
        return line
    return f"{line.ljust(COMMENT_COLUMN - 2)}  # {comment_text(comment)}"


# --- what was found, for the header and the terminal -----------------------------------


def _notes(found: Detection, checklist_vars: dict[str, list[str]], starter: Starter) -> None:
    guesses, missing = starter.guesses, starter.missing
    if found.framework:
        label = FRAMEWORK_LABELS[found.framework.value]
        guesses.append(Note("framework", label, found.framework.where, _also(found.framework)))
    else:
        missing.append(
            Note("framework", "unknown", how="none of Flask, Django, FastAPI, Starlette, Express")
        )
    hook = found.webhook
    if hook:
        others = ", ".join(f"{r.full_path} ({r.where})" for r in hook.others)
        how = (
            hook.how
            + _mounted(hook.route.mounted_by)
            + (f"; also seen: {others}" if others else "")
        )
        guesses.append(Note("webhook route", hook.route.full_path, hook.route.where, how))
    else:
        missing.append(
            Note(
                "webhook route",
                "no route around a Stripe signature check (construct_event, constructEvent)",
                how=f"app.webhook_path is golive's default {WEBHOOK_PATH_DEFAULT}",
            )
        )
    if found.health:
        guesses.append(Note("health route", found.health.full_path, found.health.where))
    else:
        missing.append(
            Note(
                "health route",
                "no /health, /healthz, /ping… route",
                how="golive's default /healthz",
            )
        )
    if found.database_var:
        guesses.append(
            Note(
                "database URL",
                found.database_var.value,
                found.database_var.where,
                _also(found.database_var),
            )
        )
    else:
        missing.append(
            Note(
                "database URL",
                "no DATABASE_URL, MONGODB_URI, … read by the app or listed in a dotenv example",
                how="the database block is commented out; the database items stay not-run",
            )
        )
    if found.orm:
        guesses.append(Note("database library", found.orm.value, found.orm.where, found.orm.how))
    if found.start:
        guesses.append(
            Note(
                "start command",
                found.start.command,
                found.start.where,
                f"{found.start.how}; commented out",
            )
        )
    defaults = {stripe_role(name): name for name in checklist_vars}
    for role in STRIPE_ROLES:
        guess, expected = found.stripe.get(role), defaults.get(role)
        if guess:
            guesses.append(Note(ROLE_LABELS[role], guess.value, guess.where, _also(guess)))
        else:
            how = f"the checklist reads {expected}" if expected else ""
            missing.append(Note(ROLE_LABELS[role], "no variable read by the app", how=how))
        if guess and expected and guess.value != expected:
            items = ", ".join(dict.fromkeys(checklist_vars[expected]))
            starter.renamed.append(
                f"the app reads {guess.value} ({_at(guess.where)}) where golive's default is "
                f"{expected} (read by {items}): written as env.names.{role}"
            )
    if not found.env_examples:
        missing.append(
            Note(
                "dotenv example",
                "no .env.example, .env.sample, .env.template",
                how="names from the source only",
            )
        )


def _also(guess: Guess) -> str:
    return f"also seen: {', '.join(guess.others)}" if guess.others else guess.how


def _mounted(mounts: list[Where]) -> str:
    return f"; mounted by {', '.join(map(str, mounts))}" if mounts else ""


def _header(found: Detection, starter: Starter, target_shown: str) -> list[str]:
    name = comment_text(found.repo.name)
    lines = [
        f"# golive target profile for {name}, written by `golive init` (golive {__version__})",
        "# from the repository's files: nothing was run or imported. It validates as written.",
        '# Lines marked "— confirm" hold a guess or a default: check each against the app.',
        "#",
        "# Guessed (confirm each):",
    ]
    lines += _note_lines(starter.guesses) or ["#   nothing"]
    lines += ["# Not found (golive's default is written, or the block is commented out):"]
    lines += _note_lines(starter.missing) or ["#   nothing"]
    if starter.renamed:
        lines.append("# Named differently from the checklist's defaults:")
        for text in starter.renamed:
            lines += _wrapped("- " + text, "#   ", "#     ")
    if found.real_env_files:
        lines += _wrapped(
            f"Real dotenv files ({', '.join(found.real_env_files)}) were not opened: "
            "nothing from them is in this file.",
            "# ",
            "# ",
        )
    if found.truncated:
        lines.append(f"# Only the first {found.files_read} source files were read.")
    lines += [
        "#",
        "# Next:",
        f"#   golive validate --target {comment_text(target_shown)}",
        f"#   golive gate --target {comment_text(target_shown)} --phase pre-deploy",
        "",
    ]
    return lines


def _note_lines(notes: list[Note]) -> list[str]:
    lines = []
    for note in notes:
        text = f"{note.label:<26} {note.value}"
        text += f" — {note.where}" if note.where else ""
        text += f"; {note.how}" if note.how else ""
        lines += _wrapped(text, "#   ", "#" + " " * 30)
    return lines


def _wrapped(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        comment_text(text),
        width=100,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        break_long_words=False,
    )


# --- the profile's body -----------------------------------------------------------------


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def _body(found: Detection, profile_dir: Path) -> list[str]:
    lines = [f"name: {yaml_string(found.repo.name)}"]
    framework = found.framework
    if framework:
        kind = FRAMEWORK_LABELS[framework.value]
        lines.append(
            _line(
                0,
                f"description: {yaml_string(kind + ' app that takes payments with Stripe')}",
                _guessed(framework.where),
            )
        )
    else:
        lines.append(
            _line(
                0,
                'description: "web app that takes payments with Stripe"',
                "framework not found: describe it",
            )
        )
    lines.append(
        _line(0, "mode: test", "staging carries test keys; a production profile says live")
    )
    lines += _env_lines(found, profile_dir)
    lines += [
        "repository:",
        _line(
            2,
            f"path: {yaml_string(_rel(found.repo, profile_dir))}",
            "the app's git checkout, relative to this file",
        ),
    ]
    lines += _database_lines(found)
    lines += [
        "stripe:",
        _line(
            2,
            "backend: sandbox",
            "golive's embedded stand-in; stripe-test: Stripe's test mode (an sk_test_ key), "
            "for a deployed staging app; or stripe-mock, localstripe",
        ),
    ]
    lines += _app_lines(found, profile_dir)
    lines += [
        _line(
            0,
            "attestations: attestations.yaml",
            "sign-offs: golive attest ITEM --by NAME --evidence URL",
        ),
        _line(0, "waivers: waivers.yaml", "accepted failures, each approved and with an expiry"),
    ]
    return lines


def _env_lines(found: Detection, profile_dir: Path) -> list[str]:
    lines = [
        "env:",
        _line(
            2,
            "source: process",
            "the gate reads its own environment: export the app's variables in CI",
        ),
    ]
    defaults = EnvNames()
    renamed = [
        (role, found.stripe[role])
        for role in STRIPE_ROLES
        if role in found.stripe and found.stripe[role].value != getattr(defaults, role)
    ]
    if renamed:
        lines.append(
            _line(2, "names:", "the app's names for Stripe's settings (golive reads these)")
        )
        lines += [
            _line(4, f"{role}: {yaml_string(guess.value)}", _guessed(guess.where))
            for role, guess in renamed
        ]
    wanted = {g.value for g in found.stripe.values()}
    if found.database_var:
        wanted.add(found.database_var.value)
    listed = [e for e in found.env_names if e.name in wanted or e in found.stripe_names]
    if listed:
        sources = " and ".join(filter(None, [", ".join(found.env_examples), "the source"]))
        lines.append(
            f"  # The app's variables golive needs (names from {comment_text(sources)}; never a value):"
        )
        lines += [f"  #   {comment_text(e.name):<30} {_at(e.where)}" for e in listed]
    others = [e.name for e in found.env_names if e not in listed and e.kind in ("code", "example")]
    if others:
        lines += _wrapped("Other variables the app reads: " + ", ".join(others), "  # ", "  #   ")
    dotenv = next((f for f in found.real_env_files if f.rsplit("/", 1)[-1] == ".env"), ".env")
    where = _rel(found.repo / dotenv, profile_dir)
    lines.append(
        f"  # Or a dotenv file on the machine that runs the gate (never committed): file: {comment_text(where)}"
    )
    return lines


def _database_lines(found: Detection) -> list[str]:
    naming = _naming_lines(found)
    if found.database_var is None:
        lines = [
            "# database:                         # not found: set the variable holding the database URL",
            "#   url_env: DATABASE_URL           # (or url: …); until then the database items are not-run",
        ]
        return lines + [_commented_out(line) for line in naming]
    var = found.database_var
    return [
        "database:",
        _line(2, f"url_env: {yaml_string(var.value)}", _guessed(var.where)),
        *naming,
    ]


def _commented_out(line: str) -> str:
    """An indented profile line (or comment) inside the commented-out database block."""
    text = line[2:]
    return (
        "#   " + text.lstrip().removeprefix("# ") if text.lstrip().startswith("#") else "# " + text
    )


def _naming_lines(found: Detection) -> list[str]:
    framework = found.framework.value if found.framework else None
    orm = found.orm
    if framework == "django":
        return [
            "  # naming: Django names tables <app label>_<model> (payments_order), which golive",
            "  # cannot guess from here: set them once you know them, e.g.",
            "  #   tables: {Order: payments_order, Payment: payments_payment, WebhookEvent: payments_webhookevent}",
        ]
    if orm and orm.value == "mongoose":
        return [
            _line(2, "naming:", "mongoose: model WebhookEvent -> collection webhookevents"),
            _line(4, "table_style: lower_plural", _guessed(orm.where, " (mongoose)")),
            _line(4, "column_style: exact", "fields keep their camelCase names"),
        ]
    if orm and orm.value == "flask-sqlalchemy":
        return [
            _line(2, "naming:", "Flask-SQLAlchemy: class WebhookEvent -> table webhook_event"),
            _line(4, "table_style: snake", _guessed(orm.where, " (flask-sqlalchemy)")),
        ]
    return [
        "  # naming: golive's default maps Order.paymentStatus to orders.payment_status; set",
        "  # table_style, column_style, tables, columns if the app's tables differ",
    ]


def _app_lines(found: Detection, profile_dir: Path) -> list[str]:
    lines = [
        "app:",
        _line(
            2,
            'base_url: "http://127.0.0.1:{port}"',
            "where the app answers; deployed: https://staging.example.com",
        ),
    ]
    start = found.start
    if start:
        cwd = _rel(found.repo / start.cwd, profile_dir)
        lines += [
            f"  # Suggested from {_at(start.where)} ({comment_text(start.how)}): uncomment once it runs the",
            "  # app, and golive starts it for the live checks (with the sandbox's URL as STRIPE_API_BASE).",
            f"  # start: {yaml_string(start.command)}",
            f"  # cwd: {yaml_string(cwd)}",
        ]
        if start.env:
            pairs = ", ".join(f"{k}: {yaml_string(v)}" for k, v in start.env.items())
            lines.append(f"  # env: {{{pairs}}}")
        lines.append(
            "  # register_webhook: [payment_intent.succeeded, payment_intent.payment_failed]"
        )
    health = found.health
    if health:
        lines.append(_line(2, f"health: {yaml_string(health.full_path)}", _guessed(health.where)))
    else:
        lines.append(
            _line(2, 'health: "/healthz"', f"not found in the source: golive's default {CONFIRM}")
        )
    hook = found.webhook
    if hook:
        extra = ""
        if hook.call is None:
            extra = (
                " (by its name"
                + ("" if hook.verified_elsewhere else "; no signature check found!")
                + ")"
            )
        others = [r.full_path for r in hook.others]
        also = f"; also seen: {', '.join(others)}" if others else ""
        lines.append(
            _line(
                2,
                f"webhook_path: {yaml_string(hook.route.full_path)}",
                _guessed(hook.route.where, extra) + also,
            )
        )
    else:
        lines.append(
            _line(
                2,
                f"webhook_path: {yaml_string(WEBHOOK_PATH_DEFAULT)}",
                f"not found in the source: golive's default {CONFIRM}",
            )
        )
    return lines


ATTESTATIONS = """\
# Sign-offs for the checklist's manual items (`golive items` lists them: kind "attested").
# Until an item has a fresh sign-off it is `pending`, and a pending blocker is NO-GO.
# `golive attest ITEM --by NAME --evidence TEXT|URL [--expires DATE] --target <this profile>`
# appends one, like:
#   - item: code-review.security-audit
#     by: Marco Rossi
#     evidence: https://wiki.example.com/audit-2026-11
#     date: 2026-11-20          # counts for the item's freshness_days
#     expires: 2027-01-31       # optional hard end
# Keep this file in the repository and review it like code.
attestations: []
"""

WAIVERS = """\
# Waivers accept a failing automated item for a while. Each one needs every field:
#   - item: business-settings.logo          # an automated item's id (`golive items`)
#     reason: Brand refresh lands next sprint
#     author: Dana Whitfield
#     approver: Priya Natarajan             # someone other than the author
#     expires: 2026-12-15T00:00:00Z         # UTC; an expired waiver fails the gate
# A valid waiver turns the item's fail or error into `waived`; the reports list every
# waiver in scope.
waivers: []
"""
