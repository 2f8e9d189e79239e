"""The import rules of the project, checked on the source tree with ``ast`` (docs/architecture.md, "Layers"):

1. an app never imports a higher one: accounts → questionbank → contests → realtime → leaderboards →
   exports → judging → anticheat → practice → surveys → live → sharing (each may import those before it).
   ``contest_engine`` is the project package: its modules may import anything, and an app may import those of
   its modules that import no app
   (``periodic``, ``tasks``, ``demo``, ``middleware``);
2. no two project modules import each other, directly or round a longer circle;
3. an import of a project module inside a function (a deferred import) carries a comment on its line or
   just above (above its block of imports) saying why it cannot be at the top of the module.

Every import counts, at the top of a module or inside a function; ``importlib`` and ``import_string`` by
name are not imports (the registries use them on purpose). Migrations are left out: they are generated,
and only ever import Django and their own app.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("accounts", "questionbank", "contests", "realtime", "leaderboards", "exports", "judging", "anticheat",
          "practice", "surveys", "live", "retention", "sharing", "api")
PROJECT = "contest_engine"
PACKAGES = (*LAYERS, PROJECT)


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    line: int
    deferred: bool
    explained: bool


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every module of the project packages (migrations left out)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` stands for (the longest dotted prefix that is a module), or None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _commented(lines: list[str], node: ast.stmt) -> bool:
    """A comment on the import's own lines, or right above it or above the block of imports it is part of."""
    if any("#" in lines[n - 1] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)):
        return True
    above = node.lineno - 2
    while above >= 0 and lines[above].lstrip().startswith(("from ", "import ")):
        above -= 1
    return above >= 0 and lines[above].strip().startswith("#")


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def add(node: ast.stmt, target: str | None, deferred: bool) -> None:
        if target is not None and target != module:
            found.append(Import(module, target, node.lineno, deferred, _commented(lines, node)))

    def visit(node: ast.AST, deferred: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = deferred or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(child, _resolve(alias.name, modules), inside)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    origin = ".".join([*base, child.module] if child.module else base)
                else:
                    origin = child.module or ""
                targets = {_resolve(f"{origin}.{alias.name}", modules) for alias in child.names}
                for target in targets:
                    add(child, target, inside)
            visit(child, inside)

    visit(ast.parse(source, filename=str(path)), False)
    return found


def layer_of(module: str) -> str:
    return module.split(".")[0]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


RULES = frozenset({"layers", "circles", "deferred"})


def problems(root: Path, rules: frozenset[str] = RULES) -> list[str]:
    """Every breach of ``rules`` in the tree at ``root``, as readable lines (empty: all kept)."""
    modules = module_files(root)
    imports = [item for module, path in modules.items() for item in imports_of(module, path, modules)]
    app_free = {module for module in modules if layer_of(module) == PROJECT} - {
        item.importer for item in imports if layer_of(item.importer) == PROJECT and layer_of(item.target) in LAYERS}
    out: list[str] = []
    for item in imports:
        where = f"{modules[item.importer].relative_to(root)}:{item.line}"
        low, high = layer_of(item.importer), layer_of(item.target)
        if "layers" in rules and low in LAYERS and high in LAYERS and LAYERS.index(high) > LAYERS.index(low):
            out.append(f"{where}: {item.importer} imports {item.target}, of a higher app ({low} < {high})")
        if "layers" in rules and low in LAYERS and high == PROJECT and item.target not in app_free:
            out.append(f"{where}: {item.importer} imports {item.target}, a project module that imports apps")
        if "deferred" in rules and item.deferred and not item.explained:
            out.append(f"{where}: {item.importer} imports {item.target} inside a function without a comment "
                       f"saying why it is not at the top of the module")
    edges: dict[str, set[str]] = {}
    for item in imports:
        edges.setdefault(item.importer, set()).add(item.target)
    for component in cycles(edges) if "circles" in rules else []:
        members = set(component)
        links = sorted(f"{i.importer} → {i.target} ({modules[i.importer].relative_to(root)}:{i.line})"
                       for i in imports if i.importer in members and i.target in members)
        out.append("modules importing each other: " + ", ".join(component) + "\n    " + "\n    ".join(links))
    return out


# --- the project itself -----------------------------------------------------------------------------------


def test_the_project_keeps_its_layers_and_has_no_import_circles():
    found = problems(ROOT, frozenset({"layers", "circles"}))
    assert not found, "\n".join(found)


def test_every_import_inside_a_function_says_why():
    found = problems(ROOT, frozenset({"deferred"}))
    assert not found, "\n".join(found)


def test_every_project_module_is_seen():
    modules = module_files(ROOT)
    assert {"accounts.models", "contests.services.attempts.start", "realtime.writer", "judging.views",
            "contest_engine.settings"} <= set(modules)
    assert not any(".migrations" in name for name in modules)


# --- the checker, on small trees: each rule fails when broken ----------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_an_import_of_a_higher_app_is_refused_even_inside_a_function(tmp_path):
    root = _tree(tmp_path, {
        "contests/models.py": "",
        "questionbank/selectors.py": """
            def stats():
                # deferred: a comment does not make an upward import right
                from contests.models import Attempt
            """,
        "leaderboards/views.py": "from contests import models\n",  # downward: fine
    })
    assert problems(root) == ["questionbank/selectors.py:4: questionbank.selectors imports contests.models, "
                              "of a higher app (questionbank < contests)"]


def test_modules_importing_each_other_are_a_circle_however_deferred_and_however_long(tmp_path):
    root = _tree(tmp_path, {
        "contests/selectors.py": """
            def read():
                from contests.services import attempts  # why: ...
            """,
        "contests/services/__init__.py": "",
        "contests/services/attempts.py": "from contests import blueprints\n",
        "contests/blueprints.py": "from .selectors import read\n",
        "contests/limits.py": "from contests import selectors\n",  # into the circle, not part of it
    })
    (found,) = problems(root)
    assert found.startswith("modules importing each other: contests.blueprints, contests.selectors, "
                            "contests.services.attempts\n")
    assert "contests.selectors → contests.services.attempts (contests/selectors.py:3)" in found


def test_a_deferred_project_import_needs_a_comment(tmp_path):
    root = _tree(tmp_path, {
        "accounts/models.py": "",
        "accounts/apps.py": """
            def ready():
                # Models may not be imported before the app registry is ready.
                from accounts import models

            def other():
                from accounts.models import User  # noqa: F401 - the registry is not ready here
                import json  # not a project module: no comment needed

            def block():
                # Both wait for the registry.
                from accounts import models
                from accounts.models import User

            def bare():
                from accounts.models import User
            """,
    })
    assert problems(root) == ["accounts/apps.py:16: accounts.apps imports accounts.models inside a function "
                              "without a comment saying why it is not at the top of the module"]


def test_apps_may_import_only_the_project_modules_that_import_no_app(tmp_path):
    root = _tree(tmp_path, {
        "contest_engine/periodic.py": "",
        "contest_engine/routing.py": "from leaderboards import consumers\n",
        "leaderboards/consumers.py": "",
        "accounts/jobs.py": "from contest_engine.periodic import periodic\n",
        "accounts/urls.py": "from contest_engine import routing\n",
    })
    assert problems(root) == ["accounts/urls.py:1: accounts.urls imports contest_engine.routing, "
                              "a project module that imports apps"]
