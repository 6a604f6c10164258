"""Names that must exist: every flow a job, the login or a family names; every user a
family names (one, or a list of them); every {variable} a template reads. Checked when the profile loads, so a
typo is exit 2 naming the file and line before anything runs.

A family block whose names depend on each other (a job, then a capture of that job's
flow) says so in a method `references(model)` returning (path in the block, message)
pairs; golive/profile/api.py's `owned` is one."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel

from golive.errors import InputError
from golive.profile.flows import JOB_INPUTS, JOB_OUTPUTS, Flow, Jobs, placeholders
from golive.profile.names import Ref
from golive.validation import raise_all
from golive.yamlsrc import Located, PathKey

HINT = "names must match the profile's `users:` and `flows:`"


def job_flows(model: Any) -> dict[str, str]:
    """job -> the flow that does it (named under `jobs:`, or a flow of the job's name)."""
    named = (model.jobs or Jobs()).model_dump()
    found = {}
    for job in Jobs.model_fields:
        flow = named.get(job) or (job if job in model.flows else None)
        if flow:
            found[job] = flow
    return found


def flow_for(model: Any, job: str) -> str | None:
    """The flow that does `job`: the one `jobs:` names, else a flow of that name (a job
    or any flow's name may be given), as golive/client/app.py finds it at run time."""
    named = getattr(model.jobs or Jobs(), job, None) if job in Jobs.model_fields else None
    if named:
        return named if named in model.flows else None
    return job if job in model.flows else None


def job_missing(model: Any, job: str) -> str:
    """The message for a job or flow name that no flow answers to."""
    if job in Jobs.model_fields:
        return (
            f"no flow does the `{job}` job (add flows.{job}, or jobs.{job}: <flow>; "
            f"{_known(model.flows)})"
        )
    return f"no flow named {job!r} ({_known(model.flows)})"


def validate(model: Any, located: Located, blocks: dict[str, Any]) -> None:
    errors: list[InputError] = []

    def error(path: PathKey, message: str) -> None:
        if path[:1] == ("flows",) and len(path) > 3 and path[2] == "steps":
            # A flow written as a bare list of steps has no `steps` key in the file.
            written = located.data.get("flows", {}).get(path[1]) if located.data else None
            if isinstance(written, list):
                path = (*path[:2], *path[3:])
        errors.append(InputError(message, file=located.file, line=located.line(path), hint=HINT))

    flows: dict[str, Flow] = model.flows
    for job, flow in (model.jobs or Jobs()).model_dump().items():
        if flow is not None and flow not in flows:
            error(("jobs", job), f"jobs.{job}: no flow named {flow!r} ({_known(flows)})")
    login = model.auth.login.flow if model.auth and model.auth.login else None
    if login is not None and login not in flows:
        error(
            ("auth", "login", "flow"), f"auth.login.flow: no flow named {login!r} ({_known(flows)})"
        )
    jobs = {job: flow for job, flow in job_flows(model).items() if flow in flows}
    for job, wanted in JOB_OUTPUTS.items():
        flow = jobs.get(job)
        for names in wanted:
            if flow is not None and not set(names) & flows[flow].captures():
                error(
                    ("flows", flow),
                    f"flows.{flow} does the `{job}` job but captures none of {', '.join(names)}",
                )
    login_vars = (flows[login].captures() | set(flows[login].vars)) if login in flows else set()
    _check_auth_templates(model, login_vars, error)
    checkout_vars = flows[jobs["checkout"]].captures() if "checkout" in jobs else set()
    for name, flow in flows.items():
        served = [job for job, f in jobs.items() if f == name]
        known = {"user", *flow.vars, *flow.inputs, *login_vars}
        if name == login:
            pass
        elif not served:
            known |= {v for inputs in JOB_INPUTS.values() for v in inputs} | checkout_vars
        else:
            for job in served:
                known |= set(JOB_INPUTS.get(job, ()))
                if job != "checkout":
                    known |= checkout_vars
        if flow.item is not None:
            unknown = placeholders(flow.item) - known - {"item"}
            for var in sorted(unknown):
                error(("flows", name, "item"), _unknown(name, "item", var, known | {"item"}))
        for index, step in enumerate(flow.steps):
            here = set(known)
            if step.for_each is not None:
                leaf = step.for_each.split(".")[-1]
                root = step.for_each.split(".")[0]
                if root not in known:
                    error(
                        ("flows", name, "steps", index, "for_each"),
                        _unknown(name, f"steps[{index}].for_each", root, known),
                    )
                here |= {"each", leaf[:-1] if leaf.endswith("s") else leaf}
            request = step.request
            for part, template in (
                ("path", request.path),
                ("json", request.json_body),
                ("form", request.form),
                ("query", request.query),
                ("headers", request.headers),
            ):
                for var in sorted(placeholders(template) - here):
                    error(
                        ("flows", name, "steps", index, "request", part),
                        _unknown(name, f"steps[{index}].request.{part}", var, here),
                    )
            known |= set(step.capture)
    _check_family_names(model, blocks, error)
    _check_block_references(model, blocks, error)
    raise_all(errors)


def _check_auth_templates(model: Any, login_vars: set[str], error: Any) -> None:
    auth = model.auth
    if auth is None:
        return
    known = {"user", *login_vars}
    for kind in ("header", "basic", "cookie"):
        block = getattr(auth, kind)
        if block is None:
            continue
        for field, template in block.model_dump().items():
            for var in sorted(placeholders(template) - known):
                error(
                    ("auth", kind, field),
                    f"auth.{kind}.{field}: {{{var}}} is neither {{user.…}} nor captured by "
                    f"the login flow ({', '.join(sorted(known))})",
                )


def _check_family_names(model: Any, blocks: dict[str, Any], error: Any) -> None:
    """Every field marked as a user or flow name (golive/profile/names.py), in the
    profile's own model and in the family blocks."""
    known = {"user": model.users, "flow": model.flows}

    def walk(node: Any, path: PathKey) -> None:
        if isinstance(node, BaseModel):
            for name, info in type(node).model_fields.items():
                value = getattr(node, name)
                here = (*path, info.alias or name)
                marks = _marks(info)
                listed = _listed_mark(info.annotation)
                if marks and isinstance(value, str):
                    _one(value, known[marks[0].kind], here, marks[0].kind, error, single=True)
                elif listed is not None and isinstance(value, list):
                    for index, entry in enumerate(value):
                        if isinstance(entry, str):
                            _one(entry, known[listed.kind], (*here, index), listed.kind, error)
                else:
                    walk(value, here)
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    for key, block in blocks.items():
        walk(block, () if key == "profile" else (key,))
    for name, user in model.users.items():
        if user.pool is not None and user.pool.signup and "signup" not in job_flows(model):
            error(
                ("users", name, "pool", "signup"),
                f"users.{name}.pool.signup: the profile has no `signup` flow",
            )


def _marks(info: Any) -> list[Ref]:
    """The Ref marks of a field: its own, or those of an optional one (`UserName | None`)."""
    found = [m for m in info.metadata if isinstance(m, Ref)]
    for arg in get_args(info.annotation):
        found += [m for m in getattr(arg, "__metadata__", ()) if isinstance(m, Ref)]
    return found


def _check_block_references(model: Any, blocks: dict[str, Any], error: Any) -> None:
    for key, block in blocks.items():
        check = getattr(block, "references", None)
        if key == "profile" or not callable(check):
            continue
        for path, message in check(model):
            where = ".".join(str(p) for p in (key, *path))
            error((key, *path), f"{where}: {message}")


def _listed_mark(annotation: Any) -> Ref | None:
    """The mark of a list of names (`list[UserName]`), else None."""
    if get_origin(annotation) is not list:
        return None
    for arg in get_args(annotation):
        for meta in getattr(arg, "__metadata__", ()):
            if isinstance(meta, Ref):
                return meta
    return None


def _one(
    name: str,
    known: dict[str, Any],
    path: PathKey,
    kind: str,
    error: Any,
    *,
    single: bool = False,
) -> None:
    where = ".".join(str(p) for p in path)
    if name not in known:
        error(path, f"{where}: no {kind} named {name!r} ({_known(known)})")
    elif single and kind == "user" and getattr(known[name], "pool", None) is not None:
        # One user is meant here (who buys, who probes); a pool is many (load.users).
        error(path, f"{where}: {name!r} is a pool of users; name one user")


def _known(names: dict[str, Any] | set[str]) -> str:
    return "known: " + (", ".join(sorted(names)) if names else "none")


def known_names(names: dict[str, Any] | set[str]) -> str:
    """`known: a, b` (or `known: none`), for a message naming what exists."""
    return _known(names)


def _unknown(flow: str, where: str, var: str, known: set[str]) -> str:
    return (
        f"flows.{flow}.{where}: {{{var}}} is not a variable here "
        f"(known: {', '.join(sorted(known))})"
    )
