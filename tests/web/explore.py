"""A small site with authors (issue 13): the 20 real arXiv papers of one day
(tests/fixtures/arxiv_cs_excerpt.jsonl, 2019-05-17) and a made-up author with name
variants, co-authors, a long author list and hostile text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from paperfeed.catalog import Catalog
from paperfeed.models import Paper
from paperfeed.sources.arxiv_jsonl import read_arxiv_jsonl

from ..conftest import FIXTURES, make_settings

DAY = date(2019, 5, 17)
HOSTILE_NAME = '<img src=x onerror="document.title=\'pwned\'">Eve'
HOSTILE_TITLE = "<script>document.title='pwned'</script>Analytical engines for attention"
MANY = [f"Member{n} Collaboration" for n in range(1, 13)]  # 12 authors


def _paper(arxiv_id: str, title: str, authors: list[str], day: date,
           categories: list[str], **links: str) -> Paper:
    abstract = (f"We study {title.lower()}. Notes on the engine's operation, with tables "
                "of Bernoulli numbers computed step by step, and a discussion of what such "
                "machines could and could not do beyond arithmetic.")
    return Paper(title=title, abstract=abstract, authors=authors, arxiv_id=arxiv_id,
                 version=1, published=day, updated=day, categories=categories,
                 links=dict(links), source="test")


def made_up() -> list[Paper]:
    return [
        _paper("1905.00001", "Notes on the analytical engine", ["Ada Lovelace",
               "Charles Babbage"], date(2019, 5, 10), ["cs.GL", "math.HO"],
               code="https://example.org/engine", project="https://example.org/ada"),
        _paper("1904.00002", "Bernoulli numbers by machine", ["Ádá Lovelace",
               "Charles Babbage", "Mary Somerville"], date(2019, 4, 2), ["math.HO"]),
        _paper("1903.00003", "On the connexion of the physical sciences", ["A. Lovelace",
               "Mary Somerville"], date(2019, 3, 3), ["physics.hist-ph"]),
        _paper("1905.00004", HOSTILE_TITLE, ["Ada Lovelace", HOSTILE_NAME], DAY,
               ["cs.LG"]),
        _paper("1905.00005", "A collaboration of twelve", MANY, DAY, ["hep-ex"]),
    ]


def explore_catalog(home: Path) -> Catalog:
    catalog = Catalog(make_settings(home, load_demo=False))
    catalog.ingest([*read_arxiv_jsonl(FIXTURES / "arxiv_cs_excerpt.jsonl"), *made_up()])
    catalog.reindex()
    return catalog
