"""For you's vector half moves to the transformer tier's vectors once that tier holds the
member's papers and the whole candidate list, and ranks by the static tier's before: a
list is never ranked in two vector spaces at once, and no paper waits for the backfill."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from paperfeed.catalog import Catalog, demo_vectors
from paperfeed.discover.foryou import Recommender, _matrix
from paperfeed.index.sync import AT_ONCE_ROWS
from paperfeed.models import Paper
from paperfeed.sources import read_source

from ..conftest import REPO, make_settings
from .members import csrf, signed_up


def test_the_vector_half_follows_the_transformer_backfill(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    pages = sorted((REPO / "paperfeed" / "demo" / "pages").glob("*.txt"))
    catalog.ingest([r for page in pages for r in read_source(page, "capture")])
    older = catalog.store.papers.count()
    catalog.ingest([Paper(title=f"Note {i} on subject {i % 37}", abstract=f"Observation {i}.",
                          arxiv_id=f"1001.{i:05d}", published=date(2010, 1, 1)
                          + timedelta(days=i), source="t", source_ref=str(i))
                    for i in range(AT_ONCE_ROWS + 50 - older)])
    catalog.indexes.seed(catalog.store.papers, demo_vectors())  # the demo embeds fast
    catalog.reindex()  # a bulk update: the transformer is left to the backfill
    tier = catalog.indexes.transformer
    assert tier is not None and len(tier.index) == 0
    newest = catalog.store.papers.newest_matching(None, None, [], 64)
    member = signed_up(catalog, "lise")
    for paper in newest[:3]:
        answer = member.post(f"/papers/{paper.id}/rating",
                             data={"rating": "1", "csrf_token": csrf(member)},
                             follow_redirects=False)
        assert answer.status_code == 303
    user = catalog.store.members.user_by_name("lise")
    assert user is not None
    recommender = Recommender(catalog)
    held = [p.key for p in newest[3:]]
    old = catalog.store.papers.newest_matching(None, date(2010, 12, 31), [], 1)[0].key

    def half(keys: list[int]) -> str:
        fitted = recommender.fitted(user.id)
        static = _matrix(recommender.vectors(keys), keys)
        model, _ = recommender.vector_half(fitted, keys, static)
        return "static" if model is fitted.model else "transformer"

    assert recommender.fitted(user.id).deep is None  # the tier holds none of the liked papers
    assert half(held) == "static"
    assert member.get("/for-you?period=week").status_code == 200
    catalog.indexes.backfill(catalog.store.papers, seconds=0)  # one batch: the newest 64
    assert tier.index.has([p.key for p in newest]).all() and not tier.index.has([old]).all()
    assert recommender.fitted(user.id).deep is not None  # refitted: the tier has grown
    assert half(held) == "transformer"
    assert half(held + [old]) == "static"  # one candidate the tier lacks: the static half
    page = member.get("/for-you?period=week")
    assert page.status_code == 200 and 'class="why-for-you"' in page.text
