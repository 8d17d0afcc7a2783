"""A small site with something on every page, for page weights and screenshots: the demo
corpus (316 papers), one real day of arXiv papers with their authors (the tests' fixture,
2019-05-17), a member's comment with a reply on one of them, and the map fitted."""

from __future__ import annotations

from pathlib import Path

from paperfeed.catalog import Catalog
from paperfeed.models import Paper
from paperfeed.settings import load_settings
from paperfeed.sources.arxiv_jsonl import read_arxiv_jsonl

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "arxiv_cs_excerpt.jsonl"
DAY = "2019-05-17"
COMMENT = ("The **low-cost** arm is the point: a benchmark anyone can rebuild.\n\n"
           "- the [code](https://github.com/) is public\n- results vary by 10-20 %")
REPLY = "Does the `grasping` task transfer between two of the arms?"


def build(home: Path) -> dict[str, str]:
    """The site in `home`; the URLs worth looking at (a paper with comments, an author)."""
    catalog = Catalog(load_settings(home=home, load_demo=True))
    catalog.ingest(read_arxiv_jsonl(FIXTURE))
    catalog.reindex()
    catalog.indexes.build_map(catalog.store.papers)
    store = catalog.store
    store.members.add_user("admin", "admin@example.org", "x", is_admin=True)
    ada = store.members.add_user("ada", "ada@example.org", "x", is_admin=False)
    bea = store.members.add_user("bea", "bea@example.org", "x", is_admin=False)
    paper = next(p for p in read_arxiv_jsonl(FIXTURE) if isinstance(p, Paper))
    stored = store.papers.find(paper)
    assert stored is not None and stored.authors
    first = store.comments.add(ada.id, stored.key, COMMENT)
    store.comments.add(bea.id, stored.key, REPLY, parent_id=first.id)
    store.close()
    return {"paper": f"/papers/{stored.id}", "author": f"/authors/{stored.authors[0]}",
            "day": f"/papers/date/{DAY}"}
