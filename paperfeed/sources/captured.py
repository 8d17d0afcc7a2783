"""Parse page captures (text extracted from a paper-discovery site's ranked list).

A capture is: a few header lines (`new`, `Subscribe`, ...), a date line such
as `Aug 1`, then papers in rank order, each a title paragraph followed by an
abstract paragraph, paragraphs separated by blank lines.

Titles and abstracts are told apart by length as well as by position (in the
five real pages titles are <= 159 characters, abstracts >= 1,375), so one
missing paragraph does not shift every later title into an abstract. A title
with no abstract (typically a truncated last entry) is reported as a
`SkippedRecord`: its title may be cut too, and a paper without an abstract is
useless to search. Every title still takes its rank slot, so ranks stay the
positions shown on the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from ..errors import SourceError
from ..models import Paper, SkippedRecord
from .textfix import fix_text

__all__ = ["HEADER_LINES", "parse_capture", "read_capture"]

SOURCE = "capture"
HEADER_LINES = frozenset(
    {
        "new",
        "get trending papers in your email inbox!",
        "subscribe",
        "daily papers",
        "byak and the research community",
    }
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DATE_RE = re.compile(r"^([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})$")
_PARA_SPLIT = re.compile(r"\n[ \t]*\n")
# Longer than any real title (max 159 in the pages), shorter than any abstract (min 1,375).
_ABSTRACT_MIN_CHARS = 300
_HEADER_SCAN = 12  # the date line is within the first few paragraphs


def _parse_day(text: str) -> tuple[int, int] | None:
    match = _DATE_RE.match(text.strip())
    if not match or match.group(1).lower() not in _MONTHS:
        return None
    month, day = _MONTHS[match.group(1).lower()], int(match.group(2))
    try:
        date(2000, month, day)  # leap year: accepts Feb 29
    except ValueError:
        return None
    return month, day


def resolve_year(month: int, day: int, today: date | None = None) -> int:
    """Most recent year in which month/day is not in the future (Feb 29 -> a leap year)."""
    today = today or date.today()
    year = today.year
    while True:
        try:
            candidate = date(year, month, day)
        except ValueError:  # Feb 29 in a non-leap year
            year -= 1
            continue
        if candidate <= today:
            return year
        year -= 1


def parse_capture(
    text: str,
    source_ref: str,
    *,
    year: int | None = None,
    today: date | None = None,
) -> Iterator[Paper | SkippedRecord]:
    """Yield the papers of one capture in rank order (rank 1 = top of the page).

    `Paper.published` is the page's date: the only date a capture carries.
    """
    paragraphs = [p.strip() for p in _PARA_SPLIT.split(text.replace("\r\n", "\n"))]
    paragraphs = [p for p in paragraphs if p]
    page_date: date | None = None
    start = 0
    for index, para in enumerate(paragraphs[:_HEADER_SCAN]):
        parsed = _parse_day(para)
        if parsed:
            month, day = parsed
            page_year = year if year is not None else resolve_year(month, day, today)
            try:
                page_date = date(page_year, month, day)
            except ValueError as exc:
                msg = f"{source_ref}: date {para!r} does not exist in {page_year}"
                raise SourceError(msg) from exc
            start = index + 1
            break
    else:
        # No date line: skip only the known header lines.
        while start < len(paragraphs) and paragraphs[start].lower() in HEADER_LINES:
            start += 1

    rank = 0
    pending: tuple[int, str] | None = None  # (rank, title) waiting for its abstract
    for para in paragraphs[start:]:
        if len(para) >= _ABSTRACT_MIN_CHARS:
            if pending is None:
                yield SkippedRecord(f"{source_ref}:#{rank + 1}", "abstract without a title")
                continue
            title_rank, raw_title = pending
            pending = None
            title = fix_text(raw_title)
            yield Paper(
                title=title,
                abstract=fix_text(para),
                published=page_date,
                source=SOURCE,
                source_ref=source_ref,
                rank=title_rank,
            )
            continue
        if pending is not None:
            yield SkippedRecord(
                f"{source_ref}:#{pending[0]}", f"title without an abstract: {pending[1][:80]!r}"
            )
        rank += 1
        pending = (rank, para)
    if pending is not None:
        yield SkippedRecord(
            f"{source_ref}:#{pending[0]}",
            f"title without an abstract (truncated page?): {pending[1][:80]!r}",
        )


def read_capture(
    path: str | Path, *, year: int | None = None, today: date | None = None
) -> Iterator[Paper | SkippedRecord]:
    """Parse one capture file; `source_ref` is the file name."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read page capture {path}: {exc}") from exc
    yield from parse_capture(text, path.name, year=year, today=today)
