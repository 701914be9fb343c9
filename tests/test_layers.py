"""The import layers of docs/architecture.md ("Apps and layers"), checked by parsing every module of the project with
`ast`: nothing is imported and no database is touched, so the whole file runs in a fraction of a second.

Every module of every top-level package of the repository is read, except `tests/`, `bench/`, `.venv/`, hidden
folders and `migrations/`. A "project import" is an import of one of those packages (or of `tests`/`bench`), written
as `import x`, `from x import y`, a relative import, or a literal `import_module("x")`/`import_string("x.Y")`/
`__import__("x")`. The rules:

(a) cycle      no cycle between packages (config counts as two: its plumbing and its entry modules);
(b) layer      a module imports its own package and lower layers only (LAYERS, lowest first; two packages on one
               line may not import each other);
(c) in-function no project import inside a function or method body. One exception, Django's idiom: an app's
               `apps.py` may import modules of its own package inside `AppConfig.ready()` (they import models, which
               cannot be loaded before the app registry is ready);
(d) settings   no `getattr(settings, ...)`: every setting is declared in config/settings;
(e) drf        no `rest_framework` in a services module (`*/services.py`, `*/services/*.py`) nor in chat's
               broadcast module, which builds its payload without DRF (nor from a project `serializers` module);
(f) config     a module of config other than the entry modules imports no other project package.

Violations are keyed by short strings ("layer: accounts.selectors -> materials.models") so that a failure reads as a
list, and KNOWN_VIOLATIONS can name the ones that exist today.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Top-level folders that are not application code.
EXCLUDED_TOP_LEVEL = frozenset({"tests", "bench", "deploy", ".venv"})
# Packages the application must never import, though they are the project's: they are not layers.
NON_LAYER_PACKAGES = frozenset({"tests", "bench", "deploy"})

# Lowest first. A module may import its own package and any package on an EARLIER line; two packages on the same
# line may not import each other. `config-plumbing` is every module of config that is not an entry module.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("config-plumbing",),
    ("core",),
    ("accounts",),
    ("enrollments",),
    ("files", "jobs", "backups"),
    ("notifications",),
    ("chat",),
    ("materials",),
    ("people",),
    ("scheduling",),
    ("assignments",),
    ("invoices",),
    ("demo", "config-entry"),
)
RANK = {component: rank for rank, line in enumerate(LAYERS) for component in line}

# config's entry modules (the top layer): `config.<name>` and anything below it (a settings package split by concern).
CONFIG_ENTRY_MODULES = frozenset(
    {"urls", "asgi", "routing", "wsgi", "server", "health", "schema_view", "apps", "settings", "metrics_view"}
)

# Chat's broadcast module (today `chat.events`; `chat.broadcast` if it is renamed).
CHAT_BROADCAST_MODULES = frozenset({"chat.events", "chat.broadcast"})

DYNAMIC_IMPORTERS = frozenset({"import_module", "import_string", "__import__"})

# Violations allowed to exist: none. (The layout of issue 17 started with 59; the test still fails on an entry
# here that is no longer a violation, so a future exception must be named, and removed once it is fixed.)
KNOWN_VIOLATIONS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Module:
    name: str  # dotted: "chat.services.messages"
    source: str
    is_package: bool = False  # an __init__.py
    label: str = ""  # for messages: the file's path

    @property
    def where(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # dotted module (or the nearest known module above the imported name)
    line: int
    function: str | None  # the innermost enclosing function's name, None at module or class level
    in_class: str | None  # the class enclosing that function, if any


def component(module: str) -> str:
    """The layer unit a module belongs to: its top-level package, config split into plumbing and entry."""
    parts = module.split(".")
    if parts[0] != "config":
        return parts[0]
    return "config-entry" if len(parts) > 1 and parts[1] in CONFIG_ENTRY_MODULES else "config-plumbing"


def is_services_module(module: str) -> bool:
    return "services" in module.split(".")[1:]


# --- reading the tree ----------------------------------------------------------------------------------------------


def _is_app_folder(path: Path) -> bool:
    """A top-level folder with Python files of its own (a package, or an app someone forgot to make one): what
    runs builds (var/, staticfiles/, node_modules/) holds none at its top and is not walked."""
    if not path.is_dir() or path.name.startswith(".") or path.name in EXCLUDED_TOP_LEVEL:
        return False
    return any(child.suffix == ".py" for child in path.iterdir())


def read_tree(root: Path = ROOT) -> list[Module]:
    """Every module of every top-level package of the repository (a folder holding Python files)."""
    modules = []
    for top in sorted(p for p in root.iterdir() if _is_app_folder(p)):
        for path in sorted(top.rglob("*.py")):
            relative = path.relative_to(root)
            folders = relative.parts[:-1]
            if any(part in {"migrations", "__pycache__"} or part.startswith(".") for part in folders):
                continue
            is_package = path.name == "__init__.py"
            parts = folders if is_package else (*folders, path.stem)
            modules.append(
                Module(".".join(parts), path.read_text(encoding="utf-8"), is_package=is_package, label=str(relative))
            )
    return modules


# --- parsing --------------------------------------------------------------------------------------------------------


class _Visitor(ast.NodeVisitor):
    def __init__(self, module: Module, known: frozenset[str], projects: frozenset[str]) -> None:
        self.module = module
        self.known = known
        self.projects = projects
        self.functions: list[str] = []
        self.classes: list[str | None] = []  # the class around each function scope (None: not a method)
        self.class_stack: list[str] = []
        self.imports: list[Import] = []
        self.drf: list[Import] = []  # rest_framework imports
        self.settings_reads: list[tuple[int, str]] = []

    # scopes
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        # Decorators and default values run where the function is defined, not in its body.
        for outer in [*getattr(node, "decorator_list", []), *node.args.defaults, *filter(None, node.args.kw_defaults)]:
            self.visit(outer)
        self.functions.append(getattr(node, "name", "<lambda>"))
        self.classes.append(self.class_stack[-1] if self.class_stack else None)
        saved, self.class_stack = self.class_stack, []
        for child in node.body if isinstance(node.body, list) else [node.body]:
            self.visit(child)
        self.class_stack = saved
        self.classes.pop()
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.class_stack.append(node.name)
        self.generic_visit(node)
        self.class_stack.pop()

    # imports
    def _record(self, target: str, line: int) -> None:
        record = Import(
            self.module.name,
            target,
            line,
            self.functions[-1] if self.functions else None,
            self.classes[-1] if self.classes else None,
        )
        top = target.split(".")[0]
        if top == "rest_framework":
            self.drf.append(record)
        elif top in self.projects:
            self.imports.append(record)

    def _nearest_known(self, dotted: str) -> str:
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in self.known:
                return candidate
        return dotted

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._record(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            package = self.module.name.split(".")
            if not self.module.is_package:
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            self._record(candidate if candidate in self.known else self._nearest_known(base), node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        first = node.args[0] if node.args else None
        if name in DYNAMIC_IMPORTERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            self._record(self._nearest_known(first.value), node.lineno)
        if name == "getattr" and first is not None:
            holder = first.id if isinstance(first, ast.Name) else first.attr if isinstance(first, ast.Attribute) else ""
            if holder == "settings":
                second = node.args[1] if len(node.args) > 1 else None
                setting = second.value if isinstance(second, ast.Constant) else "?"
                self.settings_reads.append((node.lineno, str(setting)))
        self.generic_visit(node)


@dataclass(frozen=True)
class Parsed:
    module: Module
    imports: tuple[Import, ...]
    drf: tuple[Import, ...]
    settings_reads: tuple[tuple[int, str], ...]


def parse(modules: list[Module]) -> list[Parsed]:
    known = frozenset(m.name for m in modules)
    layered = {name for line in LAYERS for name in line if not name.startswith("config-")}
    projects = frozenset({m.name.split(".")[0] for m in modules} | layered | NON_LAYER_PACKAGES | {"config"})
    parsed = []
    for module in modules:
        visitor = _Visitor(module, known, projects)
        visitor.visit(ast.parse(module.source, filename=module.where))
        parsed.append(Parsed(module, tuple(visitor.imports), tuple(visitor.drf), tuple(visitor.settings_reads)))
    return parsed


# --- the rules ------------------------------------------------------------------------------------------------------


def _ready_exemption(imp: Import) -> bool:
    """`<app>.apps`, inside `ready()`, importing its own package: Django's place for it."""
    importer = imp.importer.split(".")
    return (
        len(importer) == 2
        and importer[1] == "apps"
        and imp.function == "ready"
        and imp.in_class is not None
        and imp.target.split(".")[0] == importer[0]
    )


def _path(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])
            return path[::-1]
        for following in sorted(graph.get(node, ())):
            if following not in previous:
                previous[following] = node
                queue.append(following)
    return None


def _points_down(source: str, target: str) -> bool:
    if source == "config-plumbing":
        return target == "config-plumbing"
    return source in RANK and target in RANK and RANK[target] < RANK[source]


def find_violations(modules: list[Module]) -> dict[str, list[str]]:
    """Every violation as {key: [evidence, ...]}; the key names the rule and the module pair."""
    violations: dict[str, list[str]] = defaultdict(list)

    def add(key: str, evidence: str) -> None:
        if evidence not in violations[key]:
            violations[key].append(evidence)

    for top in sorted({component(m.name) for m in modules} - set(RANK)):
        add(f"unknown: {top}", f"top-level package {top!r} is in no line of LAYERS (tests/test_layers.py)")

    parsed = parse(modules)
    graph: dict[str, set[str]] = defaultdict(set)
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in parsed:
        where = item.module.where
        for imp in item.imports:
            at = f"{where}:{imp.line}"
            source, target = component(imp.importer), component(imp.target)
            pair = f"{imp.importer} -> {imp.target}"
            if source != target:
                graph[source].add(target)
                edges[(source, target)].append(f"{at} imports {imp.target}")
                if source == "config-plumbing" and target != "config-entry":
                    add(f"config: {pair}", f"{at}: config plumbing imports the project package {target!r}")
                elif target not in RANK:
                    add(f"layer: {pair}", f"{at}: {target!r} is not a layer the application may import")
                elif source in RANK and RANK[target] >= RANK[source]:
                    relation = "the same line as" if RANK[target] == RANK[source] else "above"
                    add(f"layer: {pair}", f"{at}: {target!r} is {relation} {source!r} in LAYERS")
            if imp.function is not None and not _ready_exemption(imp):
                add(f"in-function: {pair}", f"{at}: imported inside {imp.function}()")
        drf_bound = is_services_module(item.module.name) or item.module.name in CHAT_BROADCAST_MODULES
        if drf_bound:
            for imp in item.drf:
                add(f"drf: {imp.importer} -> {imp.target}", f"{where}:{imp.line} imports {imp.target}")
        if item.module.name in CHAT_BROADCAST_MODULES:
            for imp in item.imports:
                if imp.target.split(".")[-1] == "serializers":
                    add(f"drf: {imp.importer} -> {imp.target}", f"{where}:{imp.line} imports a DRF serializer module")
        for line, setting in item.settings_reads:
            add(f"settings: {item.module.name} -> settings.{setting}", f"{where}:{line}: getattr(settings, ...)")

    # A cycle between packages always holds at least one edge that does not point down (or leaves LAYERS): that
    # edge names the cycle, with the way back, so the report stays one line per loop-closing import.
    for (source, target), evidence in sorted(edges.items()):
        if _points_down(source, target):
            continue
        back = _path(graph, target, source)
        if back is not None:
            add(f"cycle: {source} -> {target}", f"{evidence[0]}; and back: {' -> '.join(back)}")
    return dict(violations)


def compare(found: dict[str, list[str]], known: frozenset[str]) -> tuple[list[str], list[str]]:
    """(new violations as readable lines, KNOWN_VIOLATIONS entries that no longer occur)."""
    new = [f"{key}\n      " + "\n      ".join(found[key]) for key in sorted(set(found) - known)]
    return new, sorted(known - set(found))


@functools.cache
def tree_violations() -> dict[str, list[str]]:
    return find_violations(read_tree())


# --- the tree -------------------------------------------------------------------------------------------------------


def test_the_tree_keeps_its_layers():
    new, _ = compare(tree_violations(), KNOWN_VIOLATIONS)
    assert not new, f"{len(new)} import rule violation(s) (docs/architecture.md, 'Apps and layers'):\n" + "\n".join(
        f"  {line}" for line in new
    )


def test_known_violations_only_shrink():
    _, gone = compare(tree_violations(), KNOWN_VIOLATIONS)
    assert not gone, "no longer violations, remove them from KNOWN_VIOLATIONS:\n" + "\n".join(f"  {k}" for k in gone)


def test_the_tree_is_read():
    names = {m.name for m in read_tree()}
    assert {"config", "accounts.models", "chat.consumers"} <= names
    assert not any(".migrations" in n or n.startswith(("tests.", "bench.")) for n in names)


# --- each rule can fail (synthetic trees) ---------------------------------------------------------------------------


def tree(**sources: str) -> list[Module]:
    """Modules from keyword arguments: `chat__services="..."` is chat/services.py; `chat__` is chat/__init__.py."""
    modules = []
    for key, source in sources.items():
        is_package = key.endswith("__")
        name = key.rstrip("_").replace("__", ".")
        modules.append(Module(name, source, is_package=is_package))
    for package in {m.name.split(".")[0] for m in modules}:
        if package not in {m.name for m in modules}:
            modules.append(Module(package, "", is_package=True))
    return modules


def keys(modules: list[Module], *, cycles: bool = True) -> set[str]:
    return {key for key in find_violations(modules) if cycles or not key.startswith("cycle: ")}


CLEAN = dict(
    config__exceptions="from rest_framework.exceptions import APIException\n",
    config__pagination="from config.exceptions import APIException\nfrom . import exceptions\n",
    config__urls="from django.urls import include\nimport chat.urls\nfrom invoices import views\n",
    config__apps="class C:\n    def ready(self):\n        from config.pagination import X\n",
    core__updating="from config.exceptions import APIException\n",
    accounts__models="from core.updating import model_update\n",
    accounts__permissions="from rest_framework.permissions import BasePermission\n",
    jobs__models="from accounts.models import User\n",
    notifications__tasks="from jobs.models import X\nfrom files import storage\n",
    files__storage="from django.conf import settings\nX = settings.MEDIA_ROOT\n",
    chat__services="from .models import Room\nfrom . import events\nfrom accounts import models\n",
    chat__models="from django.db import models\n",
    chat__events="from chat.marshal import message_json\n",
    chat__marshal="",
    chat__apps="class ChatConfig:\n    def ready(self):\n        from chat import events\n",
    chat__views="from rest_framework import generics\nfrom chat import services\n",
    invoices__services__lifecycle="from notifications.tasks import X\nfrom chat.services import system_message_post\n",
    invoices__views="from rest_framework.views import APIView\nfrom invoices.services import lifecycle\n",
    invoices__services__="from .lifecycle import X\n",
    demo__seed="from invoices.models import Invoice\nfrom accounts.models import User\n",
)


def test_a_clean_tree_passes():
    assert find_violations(tree(**CLEAN)) == {}


def test_relative_imports_are_resolved():
    paying = "from . import lifecycle\nfrom .lifecycle import X\nfrom ..models import Invoice\nfrom .. import views\n"
    modules = tree(**{**CLEAN, "invoices__services__paying": paying, "invoices__models": ""})
    assert find_violations(modules) == {}
    assert {i.target for p in parse(modules) for i in p.imports if i.importer == "invoices.services.paying"} == {
        "invoices.services.lifecycle",
        "invoices.models",
        "invoices.views",
    }
    # From a package's __init__, "." is the package itself.
    modules = tree(**{**CLEAN, "invoices__services__": "from .lifecycle import X\nfrom ..models import Invoice\n"})
    assert {i.target for p in parse(modules) for i in p.imports if i.importer == "invoices.services"} == {
        "invoices.services.lifecycle",
        "invoices",
    }


def test_rule_a_fails_on_a_cycle_between_packages():
    found = keys(
        tree(
            **{
                **CLEAN,
                "accounts__selectors": "import materials.models\n",
                "materials__models": "import accounts.models\n",
            }
        )
    )
    assert "cycle: accounts -> materials" in found
    assert "cycle: materials -> accounts" not in found  # that edge points down: the other one closes the loop
    # A cycle through three packages names each of its edges.
    found = keys(
        tree(
            **{
                **CLEAN,
                "chat__receivers": "import scheduling.x\n",
                "scheduling__x": "import assignments.y\n",
                "assignments__y": "import chat.z\n",
            }
        )
    )
    assert {key for key in found if key.startswith("cycle: ")} == {
        "cycle: chat -> scheduling",
        "cycle: scheduling -> assignments",
    }


def test_rule_b_fails_on_an_upward_import_and_between_peers():
    found = keys(tree(**{**CLEAN, "accounts__selectors": "from materials.models import Enrollment\n"}))
    assert found == {"layer: accounts.selectors -> materials.models"}
    assert keys(tree(**{**CLEAN, "files__storage": "from jobs import models\n"})) == {
        "layer: files.storage -> jobs.models"
    }
    assert keys(tree(**{**CLEAN, "demo__seed": "from config import urls\n"})) == {"layer: demo.seed -> config.urls"}
    # The entry modules are above the plumbing, and the application imports no test code.
    assert keys(tree(**{**CLEAN, "config__pagination": "from config.urls import x\n"}), cycles=False) == {
        "layer: config.pagination -> config.urls"
    }
    assert keys(tree(**{**CLEAN, "chat__views": "from tests.chat import factories\n"})) == {
        "layer: chat.views -> tests.chat"
    }


def test_rule_c_fails_on_a_project_import_inside_a_function():
    source = "def f():\n    from accounts.models import User\n    import_module('materials.x')\n"
    found = keys(tree(**{**CLEAN, "scheduling__services": source, "materials__x": ""}))
    assert found == {
        "in-function: scheduling.services -> accounts.models",
        "in-function: scheduling.services -> materials.x",
    }
    method = "class A:\n    async def m(self):\n        f = lambda: __import__('core.updating')\n"
    method += "        import chat.models\n"
    found = keys(tree(**{**CLEAN, "invoices__views": method}))
    assert found == {"in-function: invoices.views -> core.updating", "in-function: invoices.views -> chat.models"}
    # Standard-library and third-party imports in functions are fine; ready() may import only its own app.
    assert (
        keys(tree(**{**CLEAN, "chat__views": "def f():\n    import json\n    from django.db import models\n"})) == set()
    )
    ready = (
        "class C:\n    def ready(self):\n        from chat import events\n        from assignments.signals import s\n"
    )
    assert keys(tree(**{**CLEAN, "chat__apps": ready, "assignments__signals": ""})) >= {
        "in-function: chat.apps -> assignments.signals"
    }
    assert "in-function: chat.apps -> chat.events" not in keys(tree(**{**CLEAN, "chat__apps": ready}))
    elsewhere = "def ready():\n    from chat import events\n"
    assert keys(tree(**{**CLEAN, "chat__signals": elsewhere})) == {"in-function: chat.signals -> chat.events"}


def test_rule_d_fails_on_getattr_settings():
    source = "from django.conf import settings\nimport django.conf\nA = getattr(settings, 'A', 1)\n"
    source += "def f():\n    return getattr(django.conf.settings, 'B')\n"
    found = keys(tree(**{**CLEAN, "core__limits": source}))
    assert found == {"settings: core.limits -> settings.A", "settings: core.limits -> settings.B"}
    found = keys(tree(**{**CLEAN, "config__cache": "X = getattr(settings, 'REDIS_URL', None)\n"}))
    assert found == {"settings: config.cache -> settings.REDIS_URL"}
    found = keys(tree(**{**CLEAN, "config__cache": "def f(url=getattr(settings, 'C', 1)):\n    pass\n"}))
    assert found == {"settings: config.cache -> settings.C"}


def test_rule_e_fails_on_drf_in_services_and_in_the_chat_broadcast():
    found = keys(
        tree(
            **{
                **CLEAN,
                "scheduling__services": "from rest_framework.fields import DateTimeField\n",
                "invoices__services__lifecycle": "import rest_framework\n",
                "chat__events": "from rest_framework.renderers import JSONRenderer\nfrom chat import serializers\n",
                "chat__serializers": "",
            }
        )
    )
    assert found == {
        "drf: scheduling.services -> rest_framework.fields",
        "drf: invoices.services.lifecycle -> rest_framework",
        "drf: chat.events -> rest_framework.renderers",
        "drf: chat.events -> chat.serializers",
    }


def test_rule_f_fails_on_config_plumbing_importing_an_app():
    found = keys(tree(**{**CLEAN, "config__jobs": "from scheduling.tasks import x\n", "scheduling__tasks": ""}))
    assert found == {"config: config.jobs -> scheduling.tasks"}
    # (config's plumbing is below every app, so this one closes a cycle too: accounts imports config.)
    found = keys(
        tree(**{**CLEAN, "config__seeding__people": "import accounts.models\nimport core.updating\n"}), cycles=False
    )
    assert found == {
        "config: config.seeding.people -> accounts.models",
        "config: config.seeding.people -> core.updating",
    }
    # Entry modules (a split settings package included) may import anything.
    assert keys(tree(**{**CLEAN, "config__settings__base": "import chat.layer\n", "chat__layer": ""})) == set()


def test_an_unknown_top_level_package_fails():
    assert keys(tree(**{**CLEAN, "widgets__models": "import accounts.models\n"})) == {"unknown: widgets"}


def test_known_violations_can_only_shrink():
    found = {"layer: a -> b": ["a.py:1"], "cycle: a -> b": ["a.py:1"]}
    new, gone = compare(found, frozenset({"layer: a -> b", "drf: x.services -> rest_framework"}))
    assert [line.split("\n")[0] for line in new] == ["cycle: a -> b"]
    assert gone == ["drf: x.services -> rest_framework"]


def test_the_reader_walks_the_packages_and_skips_the_rest(tmp_path):
    files = {
        "chat/__init__.py": "",
        "chat/services/__init__.py": "from .rooms import x\n",
        "chat/services/rooms.py": "from accounts.models import User\n",
        "chat/migrations/0001_initial.py": "from materials.models import Subject\n",  # migrations are not read
        "accounts/__init__.py": "",
        "accounts/models.py": "",
        "widgets/apps.py": "",  # Python files without __init__.py: still a package, and an unknown one
        "tests/test_x.py": "import chat.services\n",
        "bench/run.py": "import chat.services\n",
        "var/cache/generated.py": "",  # nothing at its top: not a package
        ".ci/run.py": "",
    }
    for name, source in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    modules = read_tree(tmp_path)
    assert {m.name: m.is_package for m in modules} == {
        "accounts": True,
        "accounts.models": False,
        "chat": True,
        "chat.services": True,
        "chat.services.rooms": False,
        "widgets.apps": False,
    }
    assert set(find_violations(modules)) == {"unknown: widgets"}
