"""Import a BibTeX file into a collection: each entry matched to a paper in the store,
else stored as a new paper; then put in the collection.

The file is read whole before anything is written (`sources.bibtex`, bibtexparser v2):
a file with no readable entry is a BadRequest and changes nothing. Matching is the
store's own identity rule (`store.papers.find`: arXiv id, then DOI, then title key), so
an imported entry and a later harvest of the same paper merge. Entries not found go
through `Catalog.ingest`, the one gate every paper passes (`sources.clean.admit`:
control characters, bad links and oversized fields handled there); the index follower
makes them searchable within a second. A paper already stored is never changed by a
member's file: only new papers are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import Catalog
from ..errors import BadRequest, SourceError
from ..models import Paper, SkippedRecord, User
from ..sources.bibtex import parse_bibtex
from ..sources.clean import admit
from .library import MAX_PAPERS, Collections

MAX_ENTRIES = 2_000  # a large personal bibliography; a bound on one request's writes


@dataclass
class ImportReport:
    matched: int = 0  # found in the store
    added: int = 0  # stored as new papers
    already: int = 0  # were in the collection before
    skipped: list[SkippedRecord] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return (f"{self.matched} matched, {self.added} added to the store, "
                f"{len(self.skipped)} skipped"
                + (f", {self.already} already in the collection" if self.already else ""))


def read_entries(text: str, filename: str) -> tuple[list[Paper], list[SkippedRecord]]:
    """The file's entries as they would be stored, and those that cannot be."""
    try:
        records = list(parse_bibtex(text, filename))
    except SourceError as exc:
        raise BadRequest(f"That file could not be read as BibTeX: {exc}") from None
    papers: list[Paper] = []
    skipped: list[SkippedRecord] = []
    for record in records:
        admitted = record if isinstance(record, SkippedRecord) else admit(record)[0]
        if isinstance(admitted, SkippedRecord):
            skipped.append(admitted)
        else:
            papers.append(admitted)
    if not papers:
        raise BadRequest("No BibTeX entry with a title was found in that file"
                         + (f" ({skipped[0].reason})" if skipped else "") + ". Nothing changed.")
    if len(papers) > MAX_ENTRIES:
        raise BadRequest(f"That file has {len(papers)} entries; import at most {MAX_ENTRIES} "
                         "at a time. Nothing changed.")
    return papers, skipped


def import_bibtex(catalog: Catalog, user: User, collection_id: int, text: str,
                  filename: str = "upload.bib") -> ImportReport:
    collections = Collections(catalog.store)
    collection = collections.owned(user, collection_id)
    papers, skipped = read_entries(text, filename)
    if collection.count + len(papers) > MAX_PAPERS:
        raise BadRequest(f"A collection holds at most {MAX_PAPERS} papers. Nothing changed.")
    report = ImportReport(skipped=skipped)
    found = {id(p): catalog.store.papers.find(p) for p in papers}
    new = [p for p in papers if found[id(p)] is None]
    if new:
        ingested = catalog.ingest(new)
        report.skipped += ingested.skipped
    for paper in papers:
        stored = found[id(paper)]
        if stored is None:
            stored = catalog.store.papers.find(paper)
            if stored is None:  # refused at ingest: already in `skipped`
                continue
            report.added += 1
        else:
            report.matched += 1
        if not catalog.store.library.add(user.id, collection.id, stored.key):
            report.already += 1
    return report
