"""Routes in an app's source, for `golive init`: which path receives Stripe's webhook.

Read-only pattern matching over the text of the files (nothing is imported or run):
route registrations (Flask/FastAPI decorators, Starlette `Route`, Django `path`,
Express `app.post`/`router.post`, Next.js API files), the prefixes they are mounted
under (`app.use`, `include`, `include_router`, `register_blueprint`, `APIRouter(prefix=)`)
and the calls that verify a Stripe signature (`construct_event`, `constructEvent`).
The webhook route is the registered route nearest such a call.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Where:
    """A line of a file in the repository (path relative to its root, `/`-separated)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class SourceFile:
    path: str
    text: str

    @property
    def lang(self) -> str:
        return "py" if self.path.endswith(".py") else "js"

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line_at(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


@dataclass
class Route:
    path: str  # as registered, with the same file's router prefix
    where: Where
    methods: frozenset[str] | None  # None: any method, or not known
    owner: str  # the object it is registered on: app, router, bp… ("urls", "next")
    handler: str | None = None  # the named function that handles it, when named
    body: tuple[int, int] | None = None  # lines of an inline or decorated handler
    full_path: str = ""  # with the prefixes it is mounted under
    mounted_by: list[Where] = field(default_factory=list)

    @property
    def takes_post(self) -> bool:
        return self.methods is None or "POST" in self.methods

    @property
    def takes_get(self) -> bool:
        return self.methods is None or "GET" in self.methods


@dataclass
class Mount:
    """A prefix under which another file's (or object's) routes are served."""

    prefix: str
    where: Where
    on: str | None  # the object mounted on (its own prefix applies next)
    target: str | None = None  # the file whose routes it mounts
    owner: str | None = None  # only routes on this object (None: any)


@dataclass(frozen=True)
class SignatureCall:
    where: Where
    call: str  # as written: stripe.Webhook.construct_event, stripe.webhooks.constructEvent
    function: str | None  # the enclosing function's name


@dataclass
class WebhookGuess:
    route: Route
    call: SignatureCall | None  # None: only named like a webhook
    how: str
    others: list[Route]
    verified_elsewhere: bool = False  # a signature check exists, tied to no route


JS_EXTS = (".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx", ".mts", ".cts")
HTTP_VERBS = ("get", "post", "put", "patch", "delete")
# Objects whose .get('/x', …) is an HTTP client call, not a route.
CLIENT_OBJECTS = {
    "axios",
    "http",
    "https",
    "request",
    "client",
    "api",
    "got",
    "ky",
    "superagent",
    "supertest",
    "agent",
    "fetch",
    "$",
    "jQuery",
    "map",
    "cache",
    "headers",
    "params",
    "searchParams",
    "session",
    "redis",
    "store",
}
# A health route: one of these words as the last segment of a short path.
HEALTH = re.compile(
    r"(?:health|healthz|healthcheck|health-check|_health|ping|ready|readyz|livez|alive)", re.I
)

PY_DECORATOR = re.compile(
    r"^[ \t]*@[ \t]*([\w.]+)\.(route|api_route|get|post|put|patch|delete)[ \t]*\(", re.M
)
PY_DEF = re.compile(r"^([ \t]*)(?:async[ \t]+)?def[ \t]+(\w+)", re.M)
PY_ADD_URL_RULE = re.compile(r"\b([\w.]+)\.add_url_rule[ \t]*\(")
PY_STARLETTE_ROUTE = re.compile(r"(?<![\w.])Route[ \t]*\(")
PY_DJANGO_PATH = re.compile(r"(?<![\w.])(path|re_path|url)[ \t]*\(")
PY_ROUTER = re.compile(r"^[ \t]*(\w+)[ \t]*=[ \t]*(?:[\w.]+\.)?(APIRouter|Blueprint)[ \t]*\(", re.M)
PY_MOUNT = re.compile(r"\b([\w.]+)\.(include_router|register_blueprint|mount)[ \t]*\(")
PY_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]+)", re.M)
PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w.]+)(?:[ \t]+as[ \t]+(\w+))?", re.M)
JS_CALL = re.compile(
    r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*\.\s*(get|post|put|patch|delete|all|use)\s*\("
)
JS_CHAINED = re.compile(r"\.route\s*\(\s*(['\"`])(.+?)\1\s*\)")
JS_CHAIN_VERB = re.compile(r"\s*\.\s*(get|post|put|patch|delete|all)\s*\(")
JS_REQUIRE = re.compile(r"(?:const|let|var)\s+([\w$]+)\s*=\s*require\(\s*['\"](.+?)['\"]\s*\)")
JS_REQUIRE_NAMED = re.compile(
    r"(?:const|let|var)\s*\{([^}]*)\}\s*=\s*require\(\s*['\"](.+?)['\"]\s*\)"
)
JS_IMPORT = re.compile(r"import\s+([\w$]+)?\s*,?\s*(?:\{([^}]*)\})?\s*from\s+['\"](.+?)['\"]")
JS_FUNCTION = re.compile(
    r"(?:function\s*\*?\s*([\w$]+)\s*\("
    r"|(?:const|let|var)\s+([\w$]+)\s*=\s*(?:async\s*)?(?:function\b|\(|[\w$]+\s*=>)"
    r"|(?:exports|module\.exports)\.([\w$]+)\s*="
    r"|^\s*(?:async\s+)?([\w$]+)\s*\([^)]*\)\s*\{)"
)
JS_KEYWORDS = {"if", "for", "while", "switch", "catch", "function", "return", "with"}
# Hand-rolled verification reads the header instead of calling a Stripe library.
SIGNATURE_HEADER = re.compile(r"""['"](?:stripe-signature|HTTP_STRIPE_SIGNATURE)['"]""", re.I)
SIGNATURE_CALL = re.compile(
    r"(?<![\w$])((?:[\w$]+\.)*(?:construct_event|constructEventAsync|constructEvent"
    r"|verify_header|verifyHeader))\s*\("
)


# --- a small scanner: call arguments, skipping strings and comments -------------------


def _skip_string(text: str, i: int, end: int) -> int:
    """Index just past the string literal starting at `i` (triple quotes too)."""
    quote = text[i]
    if text.startswith(quote * 3, i) and quote in "'\"":
        close = text.find(quote * 3, i + 3, end)
        return end if close < 0 else close + 3
    i += 1
    while i < end:
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        if text[i] == "\n" and quote != "`":
            return i + 1  # an unterminated string ends with its line
        i += 1
    return end


def call_args(text: str, open_paren: int, lang: str, limit: int = 50_000) -> tuple[list[str], int]:
    """The top-level arguments of the call whose `(` is at `open_paren`, and the index
    past its `)` (the limit's end if it never closes)."""
    end = min(len(text), open_paren + limit)
    depth, start, args = 0, open_paren + 1, []
    i = open_paren
    while i < end:
        ch = text[i]
        if ch in "'\"`":
            i = _skip_string(text, i, end)
            continue
        if (lang == "py" and ch == "#") or (lang == "js" and text.startswith("//", i)):
            newline = text.find("\n", i, end)
            i = end if newline < 0 else newline
            continue
        if lang == "js" and text.startswith("/*", i):
            close = text.find("*/", i + 2, end)
            i = end if close < 0 else close + 2
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                last = text[start:i]
                if last.strip():
                    args.append(last)
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append(text[start:i])
            start = i + 1
        i += 1
    return args, end


_STRING = re.compile(r"\s*(?:\w+\s*=\s*)?[rRbBuU]?(['\"`])((?:\\.|(?!\1)[^\\])*)\1\s*", re.S)


def string_value(arg: str | None) -> str | None:
    """The literal of a plain string argument (`'/x'`, `path="/x"`), else None."""
    if arg is None:
        return None
    match = _STRING.fullmatch(arg)
    if not match or (match[1] == "`" and "${" in match[2]):
        return None
    return match[2]


def path_value(f: SourceFile, arg: str | None) -> str | None:
    """A route's path: a string literal, or a constant of the same file holding one
    (`Route(WEBHOOK_PATH, …)` with `WEBHOOK_PATH = "/api/webhook"`)."""
    literal = string_value(arg)
    if literal is not None or arg is None:
        return literal
    name = re.fullmatch(r"\s*([A-Za-z_$][\w$]*)\s*", arg)
    if name is None:
        return None
    constant = re.search(
        rf"^[ \t]*(?:export[ \t]+)?(?:const[ \t]+|let[ \t]+|var[ \t]+)?{re.escape(name[1])}"
        r"[ \t]*(?::[ \t]*\w+[ \t]*)?=[ \t]*(['\"`])([^'\"`\n]*)\1",
        f.text,
        re.M,
    )
    return constant[2] if constant else None


def kwarg(args: list[str], name: str) -> str | None:
    for arg in args:
        match = re.match(rf"\s*{name}\s*[=:]\s*(.*)", arg, re.S)
        if match:
            return match[1].strip()
    return None


def _methods(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset(m.upper() for m in re.findall(r"['\"](\w+)['\"]", value))


def _identifier(arg: str) -> str | None:
    """`views.hook`, `Hook.as_view()`, `csrf_exempt(views.hook)` -> the dotted name."""
    match = re.fullmatch(r"\s*([\w$]+(?:\.[\w$]+)*)(?:\.as_view\(\s*\))?\s*", arg)
    if match:
        return match[1]
    wrapped = re.fullmatch(r"\s*[\w$.]+\((.*)\)\s*", arg, re.S)  # a decorator called inline
    return _identifier(wrapped[1]) if wrapped and "(" not in wrapped[1] else None


def join_url(*parts: str) -> str:
    pieces = [p.strip("/") for p in parts if p.strip("/")]
    path = "/" + "/".join(pieces)
    return path + "/" if pieces and parts[-1].endswith("/") and len(parts[-1]) > 1 else path


# --- Python ----------------------------------------------------------------------------


def _python_block(lines: list[str], def_line: int) -> tuple[int, int]:
    """1-based first and last line of the function defined at `def_line` (1-based)."""
    indent = len(lines[def_line - 1]) - len(lines[def_line - 1].lstrip())
    last = def_line
    for number in range(def_line + 1, len(lines) + 1):
        text = lines[number - 1]
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(text) - len(text.lstrip()) <= indent and not stripped.startswith((")", "]")):
            break
        last = number
    return def_line, last


def _python_routes(f: SourceFile) -> tuple[list[Route], list[Mount]]:
    routes: list[Route] = []
    mounts: list[Mount] = []
    prefixes: dict[str, str] = {}
    for m in PY_ROUTER.finditer(f.text):
        args, _ = call_args(f.text, m.end() - 1, "py")
        prefix = string_value(kwarg(args, "url_prefix") or kwarg(args, "prefix"))
        if prefix:
            prefixes[m[1]] = prefix
    for m in PY_DECORATOR.finditer(f.text):
        args, end = call_args(f.text, m.end() - 1, "py")
        path = path_value(f, args[0] if args else None)
        if path is None:
            continue
        verb = m[2]
        if verb in ("route", "api_route"):
            methods = _methods(kwarg(args, "methods")) or frozenset({"GET"})
        else:
            methods = frozenset({verb.upper()})
        owner = m[1].rsplit(".", 1)[-1]
        handler, body = None, None
        following = PY_DEF.search(f.text, end)
        if following and f.line_at(following.start()) - f.line_at(end) <= 12:
            handler = following[2]
            body = _python_block(f.lines, f.line_at(following.start(2)))
        routes.append(
            Route(
                join_url(prefixes.get(owner, ""), path) if owner in prefixes else path,
                Where(f.path, f.line_at(m.start(1))),
                methods,
                owner,
                handler,
                body,
            )
        )
    for m in PY_ADD_URL_RULE.finditer(f.text):
        args, _ = call_args(f.text, m.end() - 1, "py")
        path = path_value(f, args[0] if args else None)
        view = kwarg(args, "view_func") or (args[2] if len(args) > 2 else None)
        if path is not None:
            owner = m[1].rsplit(".", 1)[-1]
            routes.append(
                Route(
                    join_url(prefixes.get(owner, ""), path),
                    Where(f.path, f.line_at(m.start())),
                    _methods(kwarg(args, "methods")) or frozenset({"GET"}),
                    owner,
                    _last(_identifier(view)) if view else None,
                )
            )
    for m in PY_STARLETTE_ROUTE.finditer(f.text):
        args, _ = call_args(f.text, m.end() - 1, "py")
        path = path_value(f, args[0] if args else None)
        endpoint = kwarg(args, "endpoint") or (args[1] if len(args) > 1 else None)
        if path is not None and endpoint is not None:
            routes.append(
                Route(
                    path,
                    Where(f.path, f.line_at(m.start())),
                    _methods(kwarg(args, "methods")),
                    "routes",
                    _last(_identifier(endpoint)),
                )
            )
    if "urlpatterns" in f.text:
        _django_urls(f, routes, mounts)
    for m in PY_MOUNT.finditer(f.text):
        args, _ = call_args(f.text, m.end() - 1, "py")
        if m[2] == "mount":
            prefix, ident = (
                string_value(args[0] if args else None),
                args[1] if len(args) > 1 else "",
            )
        else:
            ident = args[0] if args else ""
            prefix = string_value(kwarg(args, "url_prefix") or kwarg(args, "prefix")) or ""
        name = _identifier(ident)
        if prefix is None or name is None:
            continue
        mounts.append(
            Mount(prefix, Where(f.path, f.line_at(m.start())), m[1].rsplit(".", 1)[-1], owner=name)
        )
    return routes, mounts


def _django_urls(f: SourceFile, routes: list[Route], mounts: list[Mount]) -> None:
    for m in PY_DJANGO_PATH.finditer(f.text):
        args, _ = call_args(f.text, m.end() - 1, "py")
        path = string_value(args[0] if args else None)
        if path is None or len(args) < 2:
            continue
        if m[1] != "path":  # re_path / url: a regex; its literal part is the path
            path = path.removeprefix("^").removesuffix("$")
        where = Where(f.path, f.line_at(m.start()))
        include = re.match(r"\s*include\(\s*\(?\s*['\"]([\w.]+)['\"]", args[1])
        if include:
            mounts.append(Mount(path, where, None, target=None, owner="module:" + include[1]))
            continue
        view = _identifier(args[1])
        if view:
            routes.append(Route(join_url(path), where, None, "urls", _last(view)))


def _python_imports(f: SourceFile, files: set[str]) -> dict[str, tuple[str, str | None]]:
    """Local name -> (file it comes from, the imported object's name or None for a module)."""
    here = posixpath.dirname(f.path)
    found: dict[str, tuple[str, str | None]] = {}
    for m in PY_FROM.finditer(f.text):
        dots = len(m[1]) - len(m[1].lstrip("."))
        module = m[1].lstrip(".").replace(".", "/")
        base = here
        for _ in range(max(dots - 1, 0)):
            base = posixpath.dirname(base)
        stem = posixpath.join(base, module) if dots else module
        names = m[2] if m[2].startswith("(") else m[2].split("#", 1)[0]
        for item in names.strip("()").split(","):
            parts = item.split()
            if not parts:
                continue
            name, alias = parts[0], parts[2] if len(parts) == 3 and parts[1] == "as" else parts[0]
            as_module = _python_file(posixpath.join(stem, name), files, relative=bool(dots))
            if as_module:
                found[alias] = (as_module, None)
            else:
                source = _python_file(stem, files, relative=bool(dots))
                if source:
                    found[alias] = (source, name)
    for m in PY_IMPORT.finditer(f.text):
        source = _python_file(m[1].replace(".", "/"), files, relative=False)
        if source:
            found[m[2] or m[1].split(".")[0]] = (source, None)
    return found


def _python_file(stem: str, files: set[str], *, relative: bool) -> str | None:
    stem = posixpath.normpath(stem) if stem else ""
    for candidate in (stem + ".py", stem + "/__init__.py"):
        if candidate in files:
            return candidate
        if not relative:  # an absolute import may be rooted in a subfolder (src/…)
            for path in sorted(files):
                if path.endswith("/" + candidate):
                    return path
    return None


# --- JavaScript / TypeScript --------------------------------------------------------


def _js_imports(f: SourceFile, files: set[str]) -> dict[str, str]:
    """Local name -> the repository file it is imported from (relative imports only)."""
    found: dict[str, str] = {}

    def add(names: str, spec: str, named: bool) -> None:
        target = _js_file(f.path, spec, files)
        if target is None:
            return
        for item in names.split(","):
            words = re.split(r"\s+as\s+|\s*:\s*", item.strip()) if named else [item.strip()]
            if words and words[-1]:
                found[words[-1]] = target

    for m in JS_REQUIRE.finditer(f.text):
        add(m[1], m[2], False)
    for m in JS_REQUIRE_NAMED.finditer(f.text):
        add(m[1], m[2], True)
    for m in JS_IMPORT.finditer(f.text):
        if m[1]:
            add(m[1], m[3], False)
        if m[2]:
            add(m[2], m[3], True)
    return found


def _js_file(importer: str, spec: str, files: set[str]) -> str | None:
    if not spec.startswith("."):
        return None
    base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
    for candidate in (
        base,
        *(base + ext for ext in JS_EXTS),
        *(base + "/index" + ext for ext in JS_EXTS),
    ):
        if candidate in files:
            return candidate
    return None


def _js_routes(f: SourceFile, files: set[str]) -> tuple[list[Route], list[Mount]]:
    routes: list[Route] = []
    mounts: list[Mount] = []
    for m in JS_CALL.finditer(f.text):
        owner, verb = m[1], m[2]
        if owner in CLIENT_OBJECTS:
            continue
        args, end = call_args(f.text, m.end() - 1, "js")
        path = path_value(f, args[0] if args else None)
        if path is None or not path.startswith("/") or len(args) < 2:
            continue
        where = Where(f.path, f.line_at(m.start()))
        last = args[-1].strip()
        if verb == "use":
            inline = re.fullmatch(r"require\(\s*['\"](.+?)['\"]\s*\)", last)
            target = _js_file(f.path, inline[1], files) if inline else None
            name = _identifier(last)
            if target or name:
                mounts.append(
                    Mount(path, where, owner, target=target, owner=None if target else name)
                )
            continue
        methods = None if verb == "all" else frozenset({verb.upper()})
        routes.append(_js_route(f, path, where, methods, owner, last, m.start(), end))
    for m in JS_CHAINED.finditer(f.text):
        position = m.end()
        while chained := JS_CHAIN_VERB.match(f.text, position):
            args, position = call_args(f.text, chained.end() - 1, "js")
            if args:
                verb = chained[1]
                methods = None if verb == "all" else frozenset({verb.upper()})
                where = Where(f.path, f.line_at(m.start()))
                on = re.search(r"([\w$]+)\s*$", f.text[: m.start()])
                owner = on[1] if on else "router"
                last = args[-1].strip()
                routes.append(_js_route(f, m[2], where, methods, owner, last, m.start(), position))
    return routes, mounts


def _js_route(
    f: SourceFile,
    path: str,
    where: Where,
    methods: frozenset[str] | None,
    owner: str,
    last_arg: str,
    start: int,
    end: int,
) -> Route:
    name = _identifier(last_arg)
    # The call's own lines hold an inline handler: a signature call there is its.
    return Route(path, where, methods, owner, _last(name), (f.line_at(start), f.line_at(end)))


def _next_routes(f: SourceFile) -> list[Route]:
    """Next.js file routes: pages/api/x.js -> /api/x, app/api/x/route.ts -> /api/x."""
    parts = f.path.split("/")
    stem = posixpath.splitext(parts[-1])[0]
    if "pages" in parts and parts[parts.index("pages") + 1 : parts.index("pages") + 2] == ["api"]:
        segments = parts[parts.index("pages") + 1 : -1] + ([] if stem == "index" else [stem])
    elif "app" in parts and stem == "route":
        segments = [p for p in parts[parts.index("app") + 1 : -1] if not p.startswith("(")]
    else:
        return []
    path = join_url(*segments)
    return [Route(path, Where(f.path, 1), None, "next", None, (1, len(f.lines) or 1))]


# --- signature calls, prefixes, the choice ------------------------------------------


def signature_calls(files: list[SourceFile]) -> list[SignatureCall]:
    calls = []
    for f in files:
        for m in SIGNATURE_CALL.finditer(f.text):
            before = f.text[f.text.rfind("\n", 0, m.start()) + 1 : m.start()]
            comment = "#" if f.lang == "py" else "//"
            if (
                re.search(r"\b(?:def|function)\s+$", before)
                or comment in before
                or before.lstrip().startswith(("*", "/*"))
            ):
                continue  # a definition or a comment, not a call
            line = f.line_at(m.start())
            calls.append(SignatureCall(Where(f.path, line), m[1], _enclosing(f, line)))
        for m in SIGNATURE_HEADER.finditer(f.text):
            line = f.line_at(m.start())
            if not any(c.where == Where(f.path, line) for c in calls):
                what = "a read of the Stripe-Signature header"
                calls.append(SignatureCall(Where(f.path, line), what, _enclosing(f, line)))
    return calls


def _enclosing(f: SourceFile, line: int) -> str | None:
    """The name of the function around `line`, read upwards."""
    lines = f.lines
    if f.lang == "py":
        indent = len(lines[line - 1]) - len(lines[line - 1].lstrip())
        for number in range(line - 1, 0, -1):
            m = PY_DEF.match(lines[number - 1])
            if m and len(m[1]) < indent:
                return m[2]
        return None
    for number in range(line, 0, -1):
        m = JS_FUNCTION.search(lines[number - 1])
        if m:
            name = next(g for g in m.groups() if g)
            if name not in JS_KEYWORDS:
                return name
    return None


def resolve(routes: list[Route], mounts: list[Mount], files: list[SourceFile]) -> None:
    """Give each route its full path: its own, under every prefix it is mounted at."""
    paths = {f.path for f in files}
    by_path = {f.path: f for f in files}
    imports: dict[str, dict[str, tuple[str, str | None]]] = {}
    for mount in mounts:
        f = by_path[mount.where.file]
        owner = mount.owner or ""
        if owner.startswith("module:"):  # Django include("app.urls")
            mount.target = _python_file(owner[7:].replace(".", "/"), paths, relative=False)
            mount.owner = None
        elif mount.target is None and f.lang == "js":
            source = _js_imports(f, paths).get(owner.split(".")[0])
            mount.target, mount.owner = (source, None) if source else (f.path, owner)
        elif mount.target is None:
            if f.path not in imports:
                imports[f.path] = _python_imports(f, paths)
            table = imports[f.path]
            head, _, attribute = owner.partition(".")
            if head in table:
                mount.target, name = table[head]
                mount.owner = attribute.rsplit(".", 1)[-1] if attribute else name
            else:
                mount.target = f.path  # an object of the same file
    for route in routes:
        parts, file, owner = [route.path], route.where.file, route.owner
        for _ in range(8):
            mount = next(
                (
                    m
                    for m in mounts
                    if m.target == file
                    and (m.owner is None or m.owner == owner)
                    and m.where not in route.mounted_by
                    and not (m.where.file == file and m.on == owner)
                ),
                None,
            )
            if mount is None:
                break
            parts.insert(0, mount.prefix)
            route.mounted_by.append(mount.where)
            file, owner = mount.where.file, mount.on or ""
        route.full_path = join_url(*parts)


def choose_webhook(routes: list[Route], calls: list[SignatureCall]) -> WebhookGuess | None:
    """The POST route nearest a signature call; failing that, one named like a webhook."""
    scored: list[tuple[tuple[int, int, int], Route, SignatureCall]] = []
    for route in (r for r in routes if r.takes_post):
        best: tuple[tuple[int, int, int], SignatureCall] | None = None
        for call in calls:
            same_file = route.where.file == call.where.file
            header = int(call.call.startswith("a read"))  # a library call says more
            if same_file and route.body and route.body[0] <= call.where.line <= route.body[1]:
                score = (0, header, call.where.line - route.where.line)
            elif route.handler and route.handler == call.function:
                score = (1, header, 0 if same_file else 1)
            elif same_file:
                score = (2, header, abs(call.where.line - route.where.line))
            else:
                continue
            if best is None or score < best[0]:
                best = (score, call)
        if best:
            scored.append((best[0], route, best[1]))
    named = [r for r in routes if r.takes_post and "webhook" in r.full_path.lower()]
    if scored:
        scored.sort(key=lambda s: (s[0], s[1].where.file, s[1].where.line))
        score, route, call = scored[0]
        how = {
            0: f"the handler registered there has {_call(call)} at {call.where}",
            1: f"its handler {route.handler} has {_call(call)} at {call.where}",
            2: f"the route nearest {_call(call)} at {call.where}",
        }[score[0]]
        # Other candidates: routes tied to a signature call too, or named like a webhook;
        # not every POST route that happens to share the file.
        linked = [r for s, r, _ in scored[1:] if s[0] < 2]
        return WebhookGuess(route, call, how, _distinct(linked + named, route))
    if named:
        how = "named like a webhook; no Stripe signature verification found in the source"
        if calls:  # verified somewhere golive could not tie to a route
            how = f"named like a webhook; {_call(calls[0])} at {calls[0].where} is tied to no route"
        return WebhookGuess(named[0], None, how, _distinct(named[1:], named[0]), bool(calls))
    return None


def _call(call: SignatureCall) -> str:
    return call.call if call.call.startswith("a read") else f"a call to {call.call}"


def choose_health(routes: list[Route]) -> Route | None:
    """A GET route like /healthz, /api/health, /ping: the shortest one."""

    def healthy(route: Route) -> bool:
        segments = route.full_path.strip("/").split("/")
        return len(segments) <= 3 and bool(HEALTH.fullmatch(segments[-1]))

    found = [r for r in routes if r.takes_get and healthy(r)]
    return min(found, key=lambda r: (len(r.full_path), r.where.file, r.where.line), default=None)


def _distinct(routes: list[Route], chosen: Route) -> list[Route]:
    seen, out = {chosen.full_path}, []
    for route in routes:
        if route.full_path not in seen:
            seen.add(route.full_path)
            out.append(route)
    return out


def _last(name: str | None) -> str | None:
    return name.rsplit(".", 1)[-1] if name else None


def find_routes(files: list[SourceFile]) -> list[Route]:
    """Every route of the source, with its full path."""
    paths = {f.path for f in files}
    routes: list[Route] = []
    mounts: list[Mount] = []
    for f in files:
        found, mounted = _python_routes(f) if f.lang == "py" else _js_routes(f, paths)
        routes += found + ([] if f.lang == "py" else _next_routes(f))
        mounts += mounted
    resolve(routes, mounts, files)
    return routes
