"""A bench-only BM25 index (tantivy) to try keyword set-ups without touching the product's.

It indexes each paper three ways, so one build serves every variant: `text` (title and
abstract as one field, as the product indexes them since issue 10: docs/search.md), and
`title` and `abstract` as separate fields (the product's former set-up). English stemmer;
queries are cleaned as the product cleans them.

"More like this" is tantivy's MoreLikeThisQuery built from the paper's own text: it keeps
the paper's `max_terms` terms of highest tf-idf (idf from this index) and ORs them, each
boosted by its tf-idf, so a paper's rare, repeated words (its topic) decide the match. The
product (index/fulltext.py) picks its terms the same way but itself, with ties broken by
term rather than tantivy's hash order, so its results repeat from call to call.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from paperfeed.index.fulltext import clean_query

from .report import log

FIELDS = ("text", "title", "abstract")


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("key", stored=True, indexed=True, fast=True)
    for field in FIELDS:
        builder.add_text_field(field, tokenizer_name="en_stem")
    return builder.build()


@dataclass(frozen=True)
class MoreLikeThis:
    """One "more like this" set-up: the fields matched and the term selection."""

    fields: tuple[str, ...] = ("text",)
    max_terms: int = 25
    title_repeats: int = 1  # the title counted this many times in the term frequencies
    min_doc_frequency: int = 2  # a term in a single paper links to nothing

    @property
    def label(self) -> str:
        return f"{'+'.join(self.fields)}, {self.max_terms} terms, title x{self.title_repeats}"


class Bm25:
    """Papers 0..n-1 (`key` = position) in a tantivy index under `path`, built once."""

    def __init__(self, path: Path, n: int, text: Callable[[int], tuple[str, str]]) -> None:
        stamp = path / "bench-stamp.json"
        if not stamp.exists() or json.loads(stamp.read_text()).get("n") != n:
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
            log(f"bench BM25 index: {n} papers -> {path}")
            index = tantivy.Index(_schema(), path=str(path))
            writer = index.writer(heap_size=256_000_000, num_threads=1)
            for key in range(n):
                title, abstract = text(key)
                doc = tantivy.Document()
                doc.add_integer("key", key)
                doc.add_text("text", f"{title}. {abstract}")
                doc.add_text("title", title)
                doc.add_text("abstract", abstract)
                writer.add_document(doc)
            writer.commit()
            writer.wait_merging_threads()
            stamp.write_text(json.dumps({"n": n}))
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(path))
        self.searcher = self.index.searcher()

    def _hits(self, query: tantivy.Query, k: int) -> list[tuple[int, float]]:
        result = self.searcher.search(query, k, count=False)
        return [(self.searcher.doc(a)["key"][0], s) for s, a in result.hits]

    def search(self, text: str, k: int, fields: Sequence[str] = ("text",)
               ) -> list[tuple[int, float]]:
        """BM25 top `k` of a user query over `fields` (summed per field, as tantivy does)."""
        cleaned = clean_query(text)
        if not cleaned:
            return []
        return self._hits(self.index.parse_query(cleaned, list(fields)), k)

    def more_like_this(self, title: str, abstract: str, k: int, how: MoreLikeThis,
                       exclude: int | None = None) -> list[tuple[int, float]]:
        """Papers sharing the paper's key terms, best first, without the paper itself."""
        values = {"text": [f"{title}. " * how.title_repeats + abstract],
                  "title": [title] * how.title_repeats, "abstract": [abstract]}
        query = tantivy.Query.more_like_this_document_fields_query(
            self.schema, {f: values[f] for f in how.fields},
            min_doc_frequency=how.min_doc_frequency, min_term_frequency=1,
            max_query_terms=how.max_terms, boost_factor=1.0)
        return [(key, s) for key, s in self._hits(query, k + 1) if key != exclude][:k]
