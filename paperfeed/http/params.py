"""Values from a URL parsed once for every route that takes them.

An id in a path names a stored row only if the store's integers can hold it
(SQLite's INTEGER and PostgreSQL's BIGINT are 64-bit signed): anything else
(`-1`, `x`, `9223372036854775808`) names no row, so it is a 404 here rather than
an OverflowError from the database driver (issue 9.9).
"""

from __future__ import annotations

from ..errors import NotFound

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def stored_id(raw: str, missing: str) -> int:
    """The row id `raw` spells, or NotFound(`missing`) when it cannot be one."""
    if raw.isascii() and raw.isdigit() and len(raw) <= _MAX_DIGITS and 0 < int(raw) <= MAX_ID:
        return int(raw)
    raise NotFound(missing)
