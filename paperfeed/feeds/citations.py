"""A collection's papers as citations: BibTeX and CSL-JSON.

BibTeX is written by bibtexparser v2 (already the reader of sources/bibtex.py): it owns
the entry syntax (braces, field layout); each value is first LaTeX-encoded by pylatexenc,
so a brace, backslash, `%` or `&` in a title stays text and can neither end the field
nor run a macro, and accents become `{\\'a}` for BibTeX tools that are not UTF-8 clean.

CSL-JSON (the input of citeproc, Zotero, pandoc) is a plain JSON schema of ~60 fields;
paperfeed fills nine of them (id, type, title, author, issued, abstract, DOI, URL,
number/publisher for arXiv preprints). No Python library writes it (citeproc-py only
reads it), so the dicts are built here and tests render a bibliography from them with
citeproc-py, the reference's independent reader (tests/feeds/test_citations.py).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import bibtexparser
from bibtexparser.model import Entry, Field
from pylatexenc.latexencode import UnicodeToLatexEncoder

from ..models import StoredPaper

_LATEX = UnicodeToLatexEncoder(unknown_char_policy="keep", unknown_char_warning=False,
                               replacement_latex_protection="braces-all")
_KEY_CHARS = re.compile(r"[^a-z0-9]+")
_STOP = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards"}


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _KEY_CHARS.sub("", folded)


def _name_parts(name: str) -> tuple[str, str]:
    """'Ada M. Lovelace' → ('Lovelace', 'Ada M.'): the last word is the family name, the
    reading arXiv's own listings need (they give names as written)."""
    words = name.split()
    return (words[-1], " ".join(words[:-1])) if words else ("", "")


def citation_keys(papers: Sequence[StoredPaper]) -> list[str]:
    """'lovelace2024analytical', unique within the list (b, c, … appended)."""
    keys: list[str] = []
    seen: set[str] = set()
    for paper in papers:
        family = _ascii(_name_parts(paper.authors[0])[0]) if paper.authors else ""
        word = next((w for w in (_ascii(t) for t in paper.title.split())
                     if w and w not in _STOP), "")
        year = str(paper.published.year) if paper.published else ""
        base = (family + year + word)[:60] or f"paper{paper.key}"
        key, n = base, 1
        while key in seen:
            n += 1
            key = f"{base}{chr(ord('a') + n - 1) if n <= 26 else n}"
        seen.add(key)
        keys.append(key)
    return keys


def _latex(text: str) -> str:
    return _LATEX.unicode_to_latex(" ".join(text.split()))


def _bibtex_entry(paper: StoredPaper, key: str) -> Entry:
    fields = [Field("title", "{" + _latex(paper.title) + "}")]
    if paper.authors:
        fields.append(Field("author", " and ".join(
            "{" + _latex(family) + "}, " + _latex(given) if given else "{" + _latex(family) + "}"
            for family, given in map(_name_parts, paper.authors))))
    if paper.published:
        fields += [Field("year", str(paper.published.year)),
                   Field("month", str(paper.published.month))]
    if paper.arxiv_id:
        fields += [Field("eprint", _latex(paper.arxiv_id)), Field("archiveprefix", "arXiv")]
        if paper.primary_category:
            fields.append(Field("primaryclass", _latex(paper.primary_category)))
    if paper.doi:
        fields.append(Field("doi", _latex(paper.doi)))
    url = paper.links.get("abs") or paper.links.get("url")
    if url:
        fields.append(Field("url", _latex(url)))
    if paper.abstract:
        fields.append(Field("abstract", _latex(paper.abstract)))
    return Entry("misc" if paper.arxiv_id or not paper.doi else "article", key, fields)


def to_bibtex(papers: Sequence[StoredPaper]) -> str:
    library = bibtexparser.Library([_bibtex_entry(p, k)
                                    for p, k in zip(papers, citation_keys(papers), strict=True)])
    return bibtexparser.write_string(library)


def csl_item(paper: StoredPaper, key: str) -> dict[str, Any]:
    item: dict[str, Any] = {"id": key, "type": "article" if paper.arxiv_id else "article-journal",
                            "title": paper.title}
    if paper.authors:
        item["author"] = [{"family": family, "given": given} if given else {"literal": family}
                          for family, given in map(_name_parts, paper.authors)]
    if paper.published:
        day = paper.published
        item["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
    if paper.abstract:
        item["abstract"] = paper.abstract
    if paper.doi:
        item["DOI"] = paper.doi
    url = paper.links.get("abs") or paper.links.get("url")
    if url:
        item["URL"] = url
    if paper.arxiv_id:
        item |= {"number": f"arXiv:{paper.arxiv_id}", "publisher": "arXiv"}
    return item


def to_csl_json(papers: Sequence[StoredPaper]) -> str:
    items = [csl_item(p, k) for p, k in zip(papers, citation_keys(papers), strict=True)]
    return json.dumps(items, ensure_ascii=False, indent=1)
