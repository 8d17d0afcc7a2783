"""Imports point downstream only: the stages of paperfeed, in data-flow order.

A module may import from its own package and from any earlier stage, never from a
later stage nor from another package of its own stage (siblings stay independent).
Every module must belong to a stage, so a new package has to take its place here.
Imports inside functions and under TYPE_CHECKING count too. docs/architecture.md
draws the same picture. (tests/store/test_boundary.py keeps the other seam: no
database driver outside store/.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import paperfeed

PACKAGE = Path(paperfeed.__file__).parent

STAGES: list[tuple[str, ...]] = [
    ("paperfeed.errors",),                       # the error tree, each error with its status
    ("paperfeed.settings", "paperfeed.models"),  # the settings table; the records passed around
    ("paperfeed.demo",),                         # data only: the bundled page captures
    ("paperfeed.sources",),                      # parse inputs into Papers; never write
    ("paperfeed.store",),                        # the only code that knows the database
    ("paperfeed.index",),                        # derived artifacts: keyword, vectors, embedders
    ("paperfeed.catalog",),                      # one data directory opened: store + indexes
    # What people ask of the corpus (search, lists, trending, visibility), and members
    # (accounts, submissions: submit fetches from sources and stores through the catalog).
    ("paperfeed.discover", "paperfeed.members"),
    ("paperfeed.mail", "paperfeed.feeds"),       # renderers: email over SMTP, Atom documents
    ("paperfeed.digests",),                      # discover + mail (+ members' address rules)
    ("paperfeed.jobs",),                         # background work: follower, harvest, digests
    ("paperfeed.http",),                         # session, CSRF, guards shared by api and web
    ("paperfeed.api",),                          # the JSON router
    ("paperfeed.web",),                          # pages, feed routes, the app (mounts api)
    ("paperfeed.cli",),
    ("paperfeed.__main__",),
    ("paperfeed",),  # the package's public names: re-exports errors and models
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def _place(name: str) -> tuple[int, str] | None:
    """(stage index, package) of a paperfeed module or imported name; None if not ours.

    The root package matches only itself: `paperfeed.x` is placed by its own package."""
    for index, packages in enumerate(STAGES):
        for package in packages:
            if name == package or (package != "paperfeed" and name.startswith(package + ".")):
                return index, package
    return None


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_stage() -> None:
    assert [_module_name(p) for p in _modules() if _place(_module_name(p)) is None] == []


def test_imports_point_downstream_only() -> None:
    wrong = []
    for path in _modules():
        module = _module_name(path)
        placed = _place(module)
        assert placed is not None
        stage, package = placed
        for name in sorted(_imports(path)):
            target = _place(name)
            if target is None or target[1] == package:
                continue  # not ours (a library), or within its own package
            if target[0] >= stage:
                wrong.append(f"{module} imports {name} "
                             f"({'a sibling' if target[0] == stage else 'upstream'})")
    assert wrong == []


def test_the_checker_sees_relative_lazy_and_upstream_imports() -> None:
    imports = _imports(PACKAGE / "cli" / "__init__.py")
    assert "paperfeed.catalog.Catalog" in imports  # from .catalog import Catalog
    assert "paperfeed.web.create_app" in imports  # inside `serve`
    assert "paperfeed.http.session.member_credentials" in _imports(PACKAGE / "api" / "routes.py")
    web, api = _place("paperfeed.web.app"), _place("paperfeed.api.routes")
    assert web and api and web[0] > api[0]
    discover, members = _place("paperfeed.discover.search"), _place("paperfeed.members")
    assert discover and members and discover[0] == members[0], "siblings"
    assert _place("paperfeed") == (len(STAGES) - 1, "paperfeed")
    assert _place("paperfeedx") is None and _place("numpy") is None
