"""Stage 1: sources. Parse inputs into `Paper`s (or `SkippedRecord`s); never write.

Local files go through `read_source(path, fmt=None)`; the format is detected
from the file name, then from the first bytes. Remote sources are
`arxiv_oai.OaiHarvester` (bulk OAI-PMH harvest) and `arxiv_api.fetch_by_ids`
/ `arxiv_api.search` (query API).

    FORMATS      name        files
    capture      page capture (*.txt with a date line and title/abstract pairs)
    arxiv-jsonl  arXiv metadata snapshot (*.jsonl, *.json, optionally .xz/.gz/.bz2)
    bibtex       BibTeX (*.bib)
"""

from __future__ import annotations

import lzma
from collections.abc import Iterator
from pathlib import Path

from ..errors import SourceError
from ..models import Paper, SkippedRecord
from .arxiv_jsonl import open_maybe_compressed, read_arxiv_jsonl
from .bibtex import read_bibtex
from .captured import HEADER_LINES, read_capture

__all__ = ["FORMATS", "detect_format", "format_name", "read_source"]

FORMATS: dict[str, str] = {
    "capture": "page capture: header lines, a date line, then title/abstract paragraphs",
    "arxiv-jsonl": "arXiv metadata snapshot, one JSON object per line (.xz/.gz/.bz2 ok)",
    "bibtex": "BibTeX entries (.bib)",
}
_ALIASES = {
    "captured": "capture",
    "page": "capture",
    "txt": "capture",
    "jsonl": "arxiv-jsonl",
    "json": "arxiv-jsonl",
    "arxiv": "arxiv-jsonl",
    "bib": "bibtex",
}
_COMPRESSED = (".xz", ".gz", ".bz2")


def format_name(fmt: str) -> str:
    """The FORMATS name `fmt` (a name or an alias) stands for; SourceError if none."""
    name = fmt.strip().lower()
    name = _ALIASES.get(name, name)
    if name not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise SourceError(f"unknown source format {fmt!r} (known: {known})")
    return name


def _head(path: Path, size: int = 4096) -> str:
    try:
        with open_maybe_compressed(path) as handle:
            data = handle.read(size)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    return data.decode("utf-8", errors="replace")


def detect_format(path: str | Path) -> str:
    """Name of the format of a local file; SourceError if missing or unrecognised."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"no such file: {path}")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".ndjson", ".json"):
        return "arxiv-jsonl"
    if last == ".bib":
        return "bibtex"
    head = _head(path)
    stripped = head.lstrip()
    if stripped.startswith("{"):
        return "arxiv-jsonl"
    if stripped.startswith("@") or "\n@" in head:
        return "bibtex"
    first_lines = {line.strip().lower() for line in head.splitlines()[:12] if line.strip()}
    if first_lines & HEADER_LINES or last == ".txt":
        return "capture"
    raise SourceError(
        f"cannot tell the format of {path}: expected one of {', '.join(FORMATS)}; "
        "pass the format explicitly"
    )


def read_source(path: str | Path, fmt: str | None = None) -> Iterator[Paper | SkippedRecord]:
    """Yield the records of one local file; `fmt` (a FORMATS name) overrides detection."""
    path = Path(path)
    name = format_name(fmt) if fmt else detect_format(path)
    if not path.is_file():
        raise SourceError(f"no such file: {path}")
    if name == "capture":
        return read_capture(path)
    if name == "arxiv-jsonl":
        return read_arxiv_jsonl(path)
    return read_bibtex(path)
