"""BM25 keyword index (tantivy).

Tantivy is a real full-text engine: English stemming, block-max WAND top-k
(fast on common words at 588k papers), incremental segments and readers that
reload after another process commits. The index keeps only the store's paper key;
everything shown comes from the store.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import tantivy

from ..models import IndexRow

# Query words and "quoted phrases"; every other character is dropped, so user
# text can never be read as tantivy query syntax.
QUERY_TOKEN = re.compile(r'"([^"]+)"|(\w+)')
MAX_QUERY_TERMS = 32
# Fields a query searches. Title and abstract are one field: tantivy scores each field with
# its own length norm and idf and sums them, so a word in a short title was counted twice
# over (SciFact nDCG@10: 0.666 with separate fields, 0.687 as one; docs/embeddings.md).
QUERY_FIELDS = ["text", "authors"]
# "More like this": a paper's terms of highest tf-idf, ORed and weighted by it. 25 terms
# cover an abstract's topic words; a term in one paper only links to nothing.
MLT_TERMS = 25
MLT_MIN_DOC_FREQUENCY = 2


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # The paper key; the field keeps its old name so existing index files stay valid.
    builder.add_integer_field("rowid", stored=True, indexed=True, fast=True)
    builder.add_text_field("text", tokenizer_name="en_stem")  # title, then abstract
    builder.add_text_field("authors", tokenizer_name="default")
    builder.add_text_field("categories", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("published", indexed=True, fast=True)
    return builder.build()


def clean_query(text: str) -> str:
    """User text -> a safe tantivy query string of words and phrases."""
    parts: list[str] = []
    for phrase, word in QUERY_TOKEN.findall(text):
        if phrase:
            words = re.findall(r"\w+", phrase)
            if words:
                parts.append('"' + " ".join(words).lower() + '"')
        elif word:
            parts.append(word.lower())  # "AND", "OR", "IN" are operators in upper case
    return " ".join(parts[:MAX_QUERY_TERMS])


def _day_number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


class FulltextIndex:
    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self._writer: tantivy.IndexWriter | None = None

    # -- writing ------------------------------------------------------------

    def writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self.index.writer(heap_size=256_000_000, num_threads=2)
        return self._writer

    def upsert(self, rows: Sequence[IndexRow], *, fresh: bool = False) -> None:
        """Add `rows`, replacing earlier versions (skip deletes on a fresh build)."""
        writer = self.writer()
        for row in rows:
            if not fresh:
                writer.delete_documents_by_term("rowid", row.key)
            doc = tantivy.Document()
            doc.add_integer("rowid", row.key)
            doc.add_text("text", f"{row.title}.\n{row.abstract}")
            doc.add_text("authors", " ".join(row.authors))
            for category in row.categories:
                doc.add_text("categories", category)
            if row.published:
                doc.add_integer("published", _day_number(row.published))
            writer.add_document(doc)

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._writer.wait_merging_threads()
            self._writer = None
        self.index.reload()

    def reload(self) -> None:
        self.index.reload()

    def num_docs(self) -> int:
        return self.index.searcher().num_docs

    # -- reading ------------------------------------------------------------

    def search(self, text: str, limit: int = 100, *, date_from: date | None = None,
               date_to: date | None = None,
               categories: Sequence[str] = ()) -> list[tuple[int, float]]:
        """(paper key, bm25 score) pairs, best first."""
        cleaned = clean_query(text)
        if not cleaned:
            return []
        query = self.index.parse_query(cleaned, QUERY_FIELDS)
        filters = []
        if date_from or date_to:
            filters.append(tantivy.Query.range_query(
                self.schema, "published", tantivy.FieldType.Integer,
                _day_number(date_from) if date_from else None,
                _day_number(date_to) if date_to else None))
        if categories:
            filters.append(tantivy.Query.term_set_query(self.schema, "categories",
                                                        list(categories)))
        if filters:
            clauses = [(tantivy.Occur.Must, query)]
            clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0))
                        for f in filters]
            query = tantivy.Query.boolean_query(clauses)
        searcher = self.index.searcher()
        result = searcher.search(query, limit, count=False)
        return [(searcher.doc(address)["rowid"][0], score) for score, address in result.hits]

    def more_like_this(self, title: str, abstract: str, limit: int, *,
                       exclude: int | None = None) -> list[tuple[int, float]]:
        """(paper key, score) of the papers sharing the most of this text's key terms,
        best first; `exclude` (the paper itself) left out."""
        query = tantivy.Query.more_like_this_document_fields_query(
            self.schema, {"text": [f"{title}.\n{abstract}"]},
            min_doc_frequency=MLT_MIN_DOC_FREQUENCY, min_term_frequency=1,
            max_query_terms=MLT_TERMS, boost_factor=1.0)
        searcher = self.index.searcher()
        result = searcher.search(query, limit + 1, count=False)
        found = [(searcher.doc(address)["rowid"][0], score) for score, address in result.hits]
        return [(key, score) for key, score in found if key != exclude][:limit]

    def document_frequencies(self, stems: Sequence[str]) -> dict[str, int]:
        """How many papers hold each (English-stemmed) term in their title or abstract."""
        searcher = self.index.searcher()
        return {stem: searcher.doc_freq("text", stem) for stem in stems}
