"""BM25 keyword index (tantivy).

Tantivy is a real full-text engine: English stemming, block-max WAND top-k
(fast on common words at 588k papers), incremental segments and readers that
reload after another process commits. The index keeps only the store's paper key;
everything shown comes from the store.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path

import Stemmer
import tantivy

from ..models import IndexRow

# Query words and "quoted phrases"; every other character is dropped, so user
# text can never be read as tantivy query syntax.
QUERY_TOKEN = re.compile(r'"([^"]+)"|(\w+)')
MAX_QUERY_TERMS = 32
# Lucene's English stop set (EnglishAnalyzer), left out of queries, not of the index (so
# quoted phrases keep them). They score next to nothing (idf ~0 at 588k papers) but their
# posting lists hold most papers: without them the keyword half of a search takes 1.6 / 3.1
# ms at p50 / p95 instead of 6-7 / 10-12 at 588k (docs/search.md). A query of stop words
# only is searched as written.
STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with"))
# Fields a query searches. Title and abstract are one field: tantivy scores each field with
# its own length norm and idf and sums them, so a word in a short title was counted twice
# over (SciFact nDCG@10: 0.666 with separate fields, 0.687 as one; docs/embeddings.md).
QUERY_FIELDS = ["text", "authors"]
# "More like this": a paper's terms of highest tf-idf, ORed and weighted by it. 25 terms
# cover an abstract's topic words; a term in one paper only (itself) links to nothing.
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
    """User text -> a safe tantivy query string of words and phrases, stop words left out
    of the words (not of the phrases) unless nothing else is left."""
    parts: list[str] = []
    stops: list[str] = []
    for phrase, word in QUERY_TOKEN.findall(text):
        if phrase:
            words = re.findall(r"\w+", phrase)
            if words:
                parts.append('"' + " ".join(words).lower() + '"')
        elif word:
            word = word.lower()  # "AND", "OR", "IN" are operators in upper case
            (stops if word in STOP_WORDS else parts).append(word)
    return " ".join((parts or stops)[:MAX_QUERY_TERMS])


# Words as the `en_stem` analyser splits them (letters only, 3+: digits and 2-letter words
# make poor key terms), stemmed with the same Snowball English stemmer.
TERM = re.compile(r"[^\W\d_]{3,}")
_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word.lower())


def analyse(text: str) -> list[tuple[str, str]]:
    """(English stem, the word as written) of each term of `text`, in order."""
    return [(stem(word), word) for word in TERM.findall(text)]


def term_counts(text: str) -> dict[str, tuple[int, str]]:
    """English stem -> (occurrences in `text`, the first word written with it)."""
    counts: dict[str, tuple[int, str]] = {}
    for key, word in analyse(text):
        seen, form = counts.get(key, (0, word if word.isupper() else word.lower()))
        counts[key] = (seen + 1, form)
    return counts


def _day_number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _month_number(day_number: int) -> int:
    """YYYYMMDD (or YYYYMM00, a histogram bucket) -> year * 12 + month - 1."""
    return day_number // 10000 * 12 + day_number // 100 % 100 - 1


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
        query = self._query(text, date_from, date_to, categories)
        if query is None:
            return []
        searcher = self.index.searcher()
        return _keyed(searcher, searcher.search(query, limit, count=False).hits)

    def months(self, text: str, limit: int, *, date_from: date | None = None,
               date_to: date | None = None, categories: Sequence[str] = ()) -> dict[int, int]:
        """Papers per month (year * 12 + month - 1): of the `limit` best matches of `text`,
        or with no text of every paper the filters pass (tantivy's histogram aggregation,
        3-13 ms at 588k). Months come from the `published` fast field: no stored document
        is read."""
        searcher = self.index.searcher()
        if text.strip():
            query = self._query(text, date_from, date_to, categories)
            if query is None:
                return {}
            hits = searcher.search(query, limit, count=False).hits
            days = searcher.fast_field_values("published", [address for _, address in hits])
            counts: dict[int, int] = {}
            for day in days:
                if day:
                    month = _month_number(int(day))
                    counts[month] = counts.get(month, 0) + 1
            return counts
        everything = self._query("", date_from, date_to, categories, match_all=True)
        assert everything is not None
        found = searcher.aggregate(everything, {"months": {"histogram": {
            "field": "published", "interval": 100, "min_doc_count": 1}}})
        return {_month_number(int(bucket["key"])): int(bucket["doc_count"])
                for bucket in found["months"]["buckets"] if bucket["key"] > 0}

    def _query(self, text: str, date_from: date | None, date_to: date | None,
               categories: Sequence[str], *, match_all: bool = False) -> tantivy.Query | None:
        """`text` parsed (None if no word is left), or every paper with `match_all`, within
        the date range and categories."""
        if match_all:
            query = tantivy.Query.all_query()
        else:
            cleaned = clean_query(text)
            if not cleaned:
                return None
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
        if not filters:
            return query
        clauses = [(tantivy.Occur.Must, query)]
        clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0))
                    for f in filters]
        return tantivy.Query.boolean_query(clauses)

    def more_like_this(self, title: str, abstract: str, limit: int, *,
                       exclude: int | None = None) -> list[tuple[int, float]]:
        """(paper key, score) of the papers sharing the most of this text's key terms,
        best first; `exclude` (the paper itself) left out.

        The key terms are the text's `MLT_TERMS` stems of highest tf-idf, ORed, each boosted
        by it. Chosen here rather than by tantivy's MoreLikeThisQuery, which breaks ties
        between equally weighted terms in hash order: the same paper got different similar
        papers from one call to the next."""
        searcher = self.index.searcher()
        total = searcher.num_docs
        counts = term_counts(f"{title} {abstract}")
        freq = self.document_frequencies(sorted(counts))
        weight = {stem: seen * math.log(1 + (total - freq[stem] + 0.5) / (freq[stem] + 0.5))
                  for stem, (seen, _) in counts.items() if freq[stem] >= MLT_MIN_DOC_FREQUENCY}
        terms = sorted(weight, key=lambda stem: (-weight[stem], stem))[:MLT_TERMS]
        if not terms:
            return []
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Should, tantivy.Query.boost_query(
                tantivy.Query.term_query(self.schema, "text", stem), weight[stem]))
            for stem in terms])
        found = _keyed(searcher, searcher.search(query, limit + 1, count=False).hits)
        return [(key, score) for key, score in found if key != exclude][:limit]

    def document_frequencies(self, stems: Sequence[str]) -> dict[str, int]:
        """How many papers hold each (English-stemmed) term in their title or abstract."""
        searcher = self.index.searcher()
        return {stem: searcher.doc_freq("text", stem) for stem in stems}


def _keyed(searcher: tantivy.Searcher, hits: list[tuple[float, tantivy.DocAddress]]
           ) -> list[tuple[int, float]]:
    """(paper key, score) of each hit, keys read from the `rowid` fast field: fetching each
    stored document instead took 40 ms for 5,000 hits at 588k papers."""
    keys = searcher.fast_field_values("rowid", [address for _, address in hits])
    return [(int(key), score) for key, (score, _) in zip(keys, hits, strict=True)]  # type: ignore[arg-type]
