"""Read BibTeX files (bibtexparser v2) into Papers.

Mapping: title/abstract (braces and LaTeX decoded), author split on " and "
with "Last, First" turned into "First Last", year/month -> `published` (first
of the month or of the year), doi, url -> links. The arXiv id comes from
`eprint` (with `archivePrefix = {arXiv}`, or any eprint that parses as an
arXiv id), an arxiv.org URL, an arXiv DOI (10.48550/arXiv.X), or the
dblp/CoRR form `volume = {abs/1811.00498}`. Blocks bibtexparser could not parse
become `SkippedRecord("file:LINE", error)`; the rest of the file is kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import bibtexparser
from pylatexenc.latex2text import LatexNodes2Text

from ..errors import SourceError
from ..models import Paper, SkippedRecord, split_arxiv_id
from .textfix import normalize_space

__all__ = ["parse_bibtex", "read_bibtex"]

SOURCE = "bibtex"
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_AND_RE = re.compile(r"\s+and\s+", re.IGNORECASE)
_ARXIV_URL_RE = re.compile(r"arxiv\.org/(?:abs|pdf)/([^\s?#}]+)", re.IGNORECASE)
_ARXIV_DOI_RE = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_CORR_RE = re.compile(r"^abs/(.+)$")
_latex = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=False)


def _detex(value: str) -> str:
    """'{{Disks}} of Jon{\\'a}s' -> 'Disks of Jonás'; math ($...$) kept verbatim."""
    try:
        text = _latex.latex_to_text(value)
    except Exception:  # pylatexenc rarely fails; a raw title beats a lost one
        text = value.replace("{", "").replace("}", "")
    return normalize_space(text.replace("~", " "))


def _person(name: str) -> str:
    """'Hearin, Andrew P.' -> 'Andrew P. Hearin'; 'Last, Jr, First' -> 'First Last Jr'."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 2 and parts[1]:
        name = f"{parts[1]} {parts[0]}"
    elif len(parts) >= 3 and parts[2]:
        name = f"{parts[2]} {parts[0]} {parts[1]}"
    return _detex(name)


def _published(fields: dict[str, str]) -> date | None:
    year_text = re.sub(r"\D", "", fields.get("year", ""))[:4]
    if len(year_text) != 4:
        return None
    month_text = fields.get("month", "").strip().lower()
    month = 1
    if month_text[:3] in _MONTHS:
        month = _MONTHS[month_text[:3]]
    elif month_text.isdigit() and 1 <= int(month_text) <= 12:
        month = int(month_text)
    return date(int(year_text), month, 1)


def _arxiv(fields: dict[str, str]) -> tuple[str, int | None] | None:
    eprint = fields.get("eprint", "").strip()
    prefix = fields.get("archiveprefix", fields.get("eprinttype", "")).strip().lower()
    candidates = []
    if eprint and prefix in ("", "arxiv"):
        candidates.append(eprint)
    for key in ("url", "arxiv", "note", "howpublished", "journal"):
        match = _ARXIV_URL_RE.search(fields.get(key, ""))
        if match:
            candidates.append(match.group(1))
    doi = _ARXIV_DOI_RE.match(fields.get("doi", "").strip())
    if doi:
        candidates.append(doi.group(1))
    corr = _CORR_RE.match(fields.get("volume", "").strip())
    if corr and fields.get("journal", "").strip().lower() == "corr":
        candidates.append(corr.group(1))
    for candidate in candidates:
        parsed = split_arxiv_id(candidate)
        if parsed:
            return parsed
    return None


def parse_bibtex(text: str, source_name: str) -> Iterator[Paper | SkippedRecord]:
    """Yield one Paper per entry with a title, in file order."""
    # bibtexparser logs each failed block itself; we report them as SkippedRecords.
    logger = logging.getLogger("bibtexparser")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        library = bibtexparser.parse_string(text)
    except Exception as exc:
        raise SourceError(f"{source_name}: not a BibTeX file: {exc}") from exc
    finally:
        logger.setLevel(previous)
    records: list[tuple[int, Paper | SkippedRecord]] = []
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        error = getattr(block, "error", None)
        reason = getattr(error, "abort_reason", None) or str(error or "") or "unparseable block"
        first_line = next(iter((block.raw or "").lstrip()[:40].splitlines()), "")
        reason = f"malformed {first_line!r}: {reason}"
        records.append((line, SkippedRecord(f"{source_name}:{line}", normalize_space(reason))))
    for entry in library.entries:
        line = (entry.start_line or 0) + 1
        ref = f"{source_name}:{line}"
        fields = {f.key.lower(): str(f.value) for f in entry.fields}
        title = _detex(fields.get("title", ""))
        if not title:
            records.append((line, SkippedRecord(ref, f"entry {entry.key!r} has no title")))
            continue
        authors = [
            _person(name) for name in _AND_RE.split(fields.get("author", "").strip()) if name
        ]
        arxiv = _arxiv(fields)
        links: dict[str, str] = {}
        if fields.get("url"):
            links["url"] = fields["url"].strip()
        doi = fields.get("doi", "").strip() or None
        if doi:
            links["doi"] = f"https://doi.org/{doi}"
        records.append(
            (
                line,
                Paper(
                    title=title,
                    abstract=_detex(fields.get("abstract", "")),
                    authors=[a for a in authors if a],
                    arxiv_id=arxiv[0] if arxiv else None,
                    version=arxiv[1] if arxiv else None,
                    doi=doi,
                    published=_published(fields),
                    categories=fields.get("primaryclass", "").split(),
                    links=links,
                    source=SOURCE,
                    source_ref=ref,
                ),
            )
        )
    records.sort(key=lambda item: item[0])  # file order, failed blocks in place
    for _, record in records:
        yield record


def read_bibtex(path: str | Path) -> Iterator[Paper | SkippedRecord]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read BibTeX file {path}: {exc}") from exc
    yield from parse_bibtex(text, path.name)
