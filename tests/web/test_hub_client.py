"""The public daily-papers API's own Python client (huggingface_hub, from PyPI) reads a
real paperfeed server by changing only the endpoint: every call it makes, its parsed
objects checked against the store.

Before the API spoke the public shapes, every call failed: dates were `2026-01-02`
where the client parses `2026-01-02T00:00:00.000Z`, and authors, submitters and the
list items' nesting differed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub import constants as hub_constants
from huggingface_hub.errors import HfHubHTTPError

from paperfeed.catalog import Catalog
from paperfeed.models import Paper, StoredPaper

from ..conftest import LiveServer, make_settings

RANKING = Paper(title="Pairwise ranking losses for retrieval", arxiv_id="2601.00001",
                abstract="We study pairwise ranking losses.", authors=["Ada Lovelace", "Bob Ross"],
                published=date(2026, 1, 2), categories=["cs.IR"], source="test", source_ref="1")
OLD = Paper(title="Attention is all you need", arxiv_id="1706.03762",
            abstract="The dominant sequence transduction models...", authors=["Ashish Vaswani"],
            published=date(2017, 6, 12), categories=["cs.CL"], source="test", source_ref="2")
OTHER = Paper(title="Graph neural networks for molecules", arxiv_id="2601.00002",
              abstract="Message passing on molecular graphs.", authors=["Carl Gauss"],
              published=date(2026, 1, 2), categories=["cs.LG"], source="test", source_ref="3")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HfApi, Catalog]]:
    home: Path = tmp_path_factory.mktemp("hub")
    catalog = Catalog(make_settings(home / "data", load_demo=False))
    catalog.ingest([RANKING, OLD, OTHER])
    catalog.index_if_writable()
    members = catalog.store.members
    ada, bob, carol = (members.add_user(n, f"{n}@example.org", "x") for n in ("ada", "bob",
                                                                             "carol"))
    ranking, old = _stored(catalog, RANKING), _stored(catalog, OLD)
    for user in (ada, bob):
        catalog.store.community.vote(user.id, ranking.key, True)
    # carol puts the 2017 paper on today's list, with its code
    catalog.store.community.submit(old.key, carol.id, datetime.now(UTC).date())
    catalog.store.papers.add_links(old.key, {"code": "https://github.com/tensorflow/t2t"})
    # paperfeed's embedder sets HF_HUB_OFFLINE (nothing may download weights), which the
    # client reads as "make no requests"; here it only ever talks to 127.0.0.1.
    with LiveServer(catalog) as server, pytest.MonkeyPatch.context() as patch:
        patch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
        yield HfApi(endpoint=server.url, token=False), catalog


def _stored(catalog: Catalog, paper: Paper) -> StoredPaper:
    found = catalog.store.papers.get(paper.arxiv_id or "")
    assert found is not None
    return found


def _midnight(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None


def _same_paper(info: object, stored: StoredPaper, upvotes: int) -> None:
    assert info.id == stored.id  # type: ignore[attr-defined]
    assert info.title == stored.title  # type: ignore[attr-defined]
    assert info.summary == stored.abstract  # type: ignore[attr-defined]
    assert [a.name for a in info.authors] == stored.authors  # type: ignore[attr-defined]
    assert info.published_at == _midnight(stored.published)  # type: ignore[attr-defined]
    assert (info.upvotes or 0) == upvotes  # type: ignore[attr-defined]


def test_list_daily_papers(hub: tuple[HfApi, Catalog]) -> None:
    api, catalog = hub
    ranking, other = _stored(catalog, RANKING), _stored(catalog, OTHER)
    day = list(api.list_daily_papers(date="2026-01-02", sort="trending", token=False))
    assert [p.id for p in day] == [ranking.id, other.id]  # most upvoted first
    _same_paper(day[0], ranking, upvotes=2)
    _same_paper(day[1], other, upvotes=0)
    # listed on its first version's day: no one submitted it
    assert day[0].submitted_at == _midnight(ranking.published) and day[0].submitted_by is None
    for period in ({"week": "2026-W01"}, {"month": "2026-01"}):
        listed = list(api.list_daily_papers(**period, sort="publishedAt", token=False))
        assert {p.id for p in listed} == {ranking.id, other.id}, period
    paged = [p.id for page in (0, 1) for p in api.list_daily_papers(
        date="2026-01-02", sort="trending", p=page, limit=1, token=False)]
    assert paged == [ranking.id, other.id]


def test_list_daily_papers_submitted(hub: tuple[HfApi, Catalog]) -> None:
    """A 2017 paper submitted today: published in 2017, listed today, by carol."""
    api, catalog = hub
    old = _stored(catalog, OLD)
    submission = catalog.store.community.submission(old.key)
    assert submission is not None
    [latest] = api.list_daily_papers(token=False)  # the latest day with papers: today
    [by_carol] = api.list_daily_papers(submitter="carol", token=False)
    assert list(api.list_daily_papers(submitter="ada", token=False)) == []
    for info in (latest, by_carol):
        _same_paper(info, old, upvotes=0)
        assert info.published_at == datetime(2017, 6, 12, tzinfo=UTC)
        assert info.submitted_at == datetime.fromisoformat(submission.submitted_at)
        assert info.submitted_at.date() == submission.featured_on
        assert info.submitted_by.username == "carol"
        assert info.github_repo == "https://github.com/tensorflow/t2t"


def test_list_papers(hub: tuple[HfApi, Catalog]) -> None:
    api, catalog = hub
    found = list(api.list_papers(query="pairwise ranking losses", limit=2))
    assert found and found[0].id == RANKING.arxiv_id
    _same_paper(found[0], _stored(catalog, RANKING), upvotes=2)


def test_paper_info(hub: tuple[HfApi, Catalog]) -> None:
    api, catalog = hub
    for paper, votes in ((RANKING, 2), (OLD, 0)):
        info = api.paper_info(paper.arxiv_id or "")
        _same_paper(info, _stored(catalog, paper), upvotes=votes)
    assert api.paper_info(OLD.arxiv_id or "").submitted_by.username == "carol"
    with pytest.raises(HfHubHTTPError) as missing:
        api.paper_info("2601.99999")
    assert missing.value.response.status_code == 404


def test_read_paper(hub: tuple[HfApi, Catalog]) -> None:
    api, catalog = hub
    text = api.read_paper(RANKING.arxiv_id or "")
    assert text.startswith(f"# {RANKING.title}\n")
    assert "Ada Lovelace, Bob Ross" in text and RANKING.abstract in text
    assert "Published: 2026-01-02" in text
    with pytest.raises(HfHubHTTPError):
        api.read_paper("2601.99999")
