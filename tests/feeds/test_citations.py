"""Exports read back by parsers paperfeed does not use to write them: pybtex for BibTeX,
citeproc-py (rendering a bibliography) for CSL-JSON."""

from __future__ import annotations

import json
from datetime import date

from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from pybtex.database import parse_string
from pylatexenc.latex2text import LatexNodes2Text

from paperfeed.feeds.citations import citation_keys, to_bibtex, to_csl_json
from paperfeed.models import StoredPaper

HOSTILE = 'Breaking {out} \\end{document} } @misc{x, <script>alert(1)</script> 100% & $O(n)$'


def _paper(key: int, title: str, authors: list[str], **extra: object) -> StoredPaper:
    fields: dict = {"abstract": "We study things.", "categories": ["cs.LG"], "arxiv_id": None,
                    "doi": None, "published": date(2024, 5, 17), "updated": None,
                    "version": None, "links": {}, "added_at": "2026-01-01T00:00:00+00:00"}
    fields.update(extra)
    return StoredPaper(key=key, id=f"p{key}", title=title, authors=authors, **fields)


PAPERS = [
    _paper(1, "Attention Is All You Need", ["Ashish Vaswani", "Noam Shazeer"],
           arxiv_id="1706.03762", links={"abs": "https://arxiv.org/abs/1706.03762"}),
    _paper(2, "Études of Jonás: accents", ["José Núñez"], doi="10.1000/xyz"),
    _paper(3, HOSTILE, ["Mallory"], arxiv_id="2401.00001"),
    _paper(4, "Attention again", ["Ashish Vaswani"], published=date(2024, 1, 1)),
]


def _text(latex: str) -> str:
    return " ".join(LatexNodes2Text().latex_to_text(latex).split())


def test_bibtex_reads_back_with_pybtex_field_for_field() -> None:
    data = parse_string(to_bibtex(PAPERS), "bibtex")
    keys = citation_keys(PAPERS)
    assert list(data.entries.keys()) == keys and len(set(keys)) == 4
    first = data.entries[keys[0]]
    assert _text(first.fields["title"]) == "Attention Is All You Need"
    assert [_text(str(p)) for p in first.persons["author"]] == ["Vaswani, Ashish", "Shazeer, Noam"]
    assert first.fields["eprint"] == "1706.03762" and first.fields["year"] == "2024"
    accented = data.entries[keys[1]]
    assert _text(accented.fields["title"]) == "Études of Jonás: accents"
    assert accented.fields["doi"] == "10.1000/xyz"
    hostile = data.entries[keys[2]]
    assert len(data.entries) == 4, "a brace or @ in a title cannot open another entry"
    assert _text(hostile.fields["title"]) == " ".join(HOSTILE.split())


def test_csl_json_renders_a_bibliography_with_citeproc() -> None:
    items = json.loads(to_csl_json(PAPERS))
    source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    rendered = [str(entry) for entry in bibliography.bibliography()]
    assert len(rendered) == 4
    joined = "\n".join(rendered)
    assert "Vaswani, A." in joined and "Attention Is All You Need" in joined
    assert "2024" in joined and "Núñez" in joined
    assert any("<script>" in line for line in rendered), "kept as text: escaping is the page's job"
    assert items[0]["number"] == "arXiv:1706.03762" and items[1]["DOI"] == "10.1000/xyz"
