"""Imports between the surfaces point one way: http <- api <- web (the app factory) <- cli.

`http/` (session, CSRF, request guards) is shared by the pages and the JSON API and imports
neither; `api/` never imports `web/`; `web/` mounts the API's router in `create_app`; nothing
below the surfaces imports them. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import paperfeed

PACKAGE = Path(paperfeed.__file__).parent
SURFACES = ("paperfeed.http", "paperfeed.api", "paperfeed.web", "paperfeed.cli",
            "paperfeed.__main__")
# module prefix -> what it must not import
FORBIDDEN = {
    "paperfeed.http": SURFACES[1:],
    "paperfeed.api": SURFACES[2:],
    "paperfeed.web": SURFACES[3:],
}


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


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_surfaces_import_downstream_only() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        forbidden = next((bad for prefix, bad in FORBIDDEN.items()
                          if _within(module, (prefix,))), None)
        if forbidden is None and not _within(module, SURFACES):
            forbidden = SURFACES  # the stages below never reach up into a surface
        wrong += [f"{module} imports {name}" for name in sorted(_imports(path))
                  if forbidden and _within(name, forbidden)]
    assert wrong == []


def test_the_checker_sees_relative_and_lazy_imports() -> None:
    imports = _imports(PACKAGE / "cli.py")
    assert "paperfeed.catalog.Catalog" in imports  # from .catalog import Catalog
    assert "paperfeed.web.create_app" in imports  # inside `serve`
    assert "paperfeed.http.session.member_credentials" in _imports(PACKAGE / "api" / "routes.py")
