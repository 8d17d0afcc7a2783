"""Only the store knows there is a database: nothing else imports a driver, SQLAlchemy
or Alembic, or reaches past the store package's interface into its modules."""

from __future__ import annotations

import ast
from pathlib import Path

import paperfeed
import paperfeed.store

PACKAGE = Path(paperfeed.__file__).parent
DATABASE_LIBRARIES = {"sqlite3", "sqlalchemy", "alembic", "psycopg", "psycopg2"}
# The embedding cache is the index's own scratch file, not the store (index/vectors.py).
OWN_DATABASE = {"index/vectors.py"}


def _imports(path: Path) -> set[str]:
    """Absolute module names `path` imports."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            name = ".".join(part for part in (base, node.module) if part)
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def _outside_the_store() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "store" not in p.relative_to(PACKAGE).parts[:1]]


def test_no_database_library_outside_the_store() -> None:
    offenders = {str(p.relative_to(PACKAGE)): sorted(
        name for name in _imports(p) if name.split(".")[0] in DATABASE_LIBRARIES)
        for p in _outside_the_store() if str(p.relative_to(PACKAGE)) not in OWN_DATABASE}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_store_is_used_through_its_package_interface() -> None:
    offenders = {str(p.relative_to(PACKAGE)): sorted(
        name for name in _imports(p) if name.startswith("paperfeed.store.")
        and name.removeprefix("paperfeed.store.") not in paperfeed.store.__all__)
        for p in _outside_the_store()}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_imports() -> None:
    """The two checks above would pass vacuously if `_imports` found nothing."""
    assert "paperfeed.store.Store" in _imports(PACKAGE / "catalog.py")
    assert "sqlalchemy" in _imports(PACKAGE / "store" / "database.py")
    assert "sqlite3" in _imports(PACKAGE / "index" / "vectors.py")
