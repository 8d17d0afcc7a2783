"""For you through the real app (TestClient, SQLite and PostgreSQL, the demo corpus): private
ratings from cards and paper pages, the recommendations page and its why, picked
categories, the active-learning round, the JSON API and the private Atom feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from paperfeed.catalog import Catalog
from paperfeed.discover.foryou import Recommender, Why
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import make_settings
from .members import csrf, signed_up

HOSTILE = '<script>alert("t")</script><img src=x onerror=alert(1)> distillation teacher'


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catalog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """One store per backend for the whole module (the tests build on each other's members)."""
    store: dict[str, str] = {}
    if request.param == "postgresql":
        store["database_url"] = request.getfixturevalue("postgres").fresh_database()
    catalog = Catalog(make_settings(tmp_path_factory.mktemp("foryou"), **store))
    catalog.ingest([Paper(title=HOSTILE, abstract="Knowledge distillation from a teacher "
                          "network into a student network, <b>bold</b>.",
                          arxiv_id="2001.99999", published=date(2020, 1, 2), source="test",
                          source_ref="1")]
                   + [Paper(title=f"Parsing sentences, part {i}", abstract="Syntax trees.",
                            arxiv_id=f"2002.{i:05d}", published=date(2020, 2, 3),
                            categories=["cs.CL"], authors=["Noor Quillfeather", f"Co {i}"],
                            source="test", source_ref=f"c{i}")
                      for i in range(4)])
    catalog.reindex()
    return catalog


def _distillation(catalog: Catalog) -> list:
    papers = catalog.store.papers.newest_matching(None, None, [], 1000)
    return [p for p in papers if "distillation" in p.title.lower() and "<" not in p.title]


def _rate(client: TestClient, paper_id: str, rating: int, back: str = "/") -> None:
    answer = client.post(f"/papers/{paper_id}/rating",
                         data={"rating": str(rating), "csrf_token": csrf(client)},
                         headers={"referer": f"http://testserver{back}"},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(back)


def _titles(page: str) -> list[str]:
    return re.findall(r'<h2><a href="/papers/[^"]+">([^<]+)</a>', page)


def test_a_visitor_is_asked_to_log_in(catalog: Catalog) -> None:
    client = TestClient(create_app(catalog.settings, catalog))
    answer = client.get("/for-you", follow_redirects=False)
    assert answer.status_code == 303 and "why=for-you" in answer.headers["location"]
    paper = _distillation(catalog)[0]
    answer = client.post(f"/papers/{paper.id}/rating",
                         data={"rating": "1", "csrf_token": csrf(client)}, follow_redirects=False)
    assert answer.status_code == 303 and "why=rate" in answer.headers["location"]
    assert "“More like this”" not in client.get("/").text  # the buttons say it plainly
    assert 'class="rate-button more" aria-pressed="false"' in client.get("/").text


def test_rating_changes_for_you_and_explains_it(catalog: Catalog) -> None:
    ada = signed_up(catalog, "ada")
    before = ada.get("/for-you?period=all")
    assert before.status_code == 200 and "Nothing rated yet" in before.text
    liked = _distillation(catalog)[:3]
    assert len(liked) == 3
    for paper in liked:
        _rate(ada, paper.id, 1, back=f"/papers/{paper.id}")
    after = ada.get("/for-you?period=all")
    assert "Nothing rated yet" not in after.text and "3 liked" in after.text
    assert _titles(after.text) != _titles(before.text)
    top = _titles(after.text)[:5]
    assert sum("distill" in t.lower() for t in top) >= 2, top  # the topic it was taught
    # Each recommendation says why: a liked paper, linked, and the words they share.
    why = re.findall(r'<p class="why-for-you">(.*?)</p>', after.text, re.S)
    assert why and any(f'href="/papers/{p.id}"' in w for w in why for p in liked)
    assert any('class="terms"' in w for w in why)
    assert not any(f'id="paper-{p.key}"' in after.text for p in liked)  # rated: not again
    # The paper page shows the member's own rating pressed; again takes it back.
    page = ada.get(f"/papers/{liked[0].id}").text
    assert 'class="rate-button more" aria-pressed="true"' in page
    _rate(ada, liked[0].id, 1, back=f"/papers/{liked[0].id}")
    assert 'class="rate-button more" aria-pressed="true"' not in ada.get(
        f"/papers/{liked[0].id}").text


def test_shared_pages_fill_in_each_members_own_ratings(catalog: Catalog) -> None:
    bea, cy = signed_up(catalog, "bea"), signed_up(catalog, "cy")
    home = bea.get("/").text
    key = int(re.findall(r'id="paper-(\d+)"', home)[0])
    paper = catalog.store.papers.get_many([key])[0]
    _rate(bea, paper.id, -1)
    mine, theirs = bea.get("/").text, cy.get("/").text
    card = re.compile(rf'id="paper-{key}".*?</article>', re.S)
    assert 'class="rate-button less" aria-pressed="true"' in card.search(mine)[0]
    assert 'aria-pressed="true"' not in card.search(theirs)[0]
    assert "pf:rated" not in mine and "pf:rated" not in theirs
    assert catalog.store.community.vote_counts([key]) == {}  # private: no upvote


def test_categories_and_the_rating_round(catalog: Catalog) -> None:
    dee = signed_up(catalog, "dee")
    answer = dee.post("/for-you/categories", data={"category": ["cs.CL", "no.such"],
                                                  "csrf_token": csrf(dee)},
                      follow_redirects=False)
    assert answer.status_code == 303
    assert catalog.store.ratings.categories(
        catalog.store.members.user_by_name("dee").id) == ["cs.CL"]
    page = dee.get("/for-you?period=all").text
    shown = [catalog.store.papers.get(i) for i in re.findall(r'data-id="([^"]+)"', page)]
    assert shown and all("cs.CL" in p.categories for p in shown)
    first = dee.get("/for-you/rate").text
    ids = re.findall(r'data-id="([^"]+)"', first)
    assert len(ids) == 10
    for paper_id in ids[:5]:
        _rate(dee, paper_id, 1, back="/for-you/rate")
    for paper_id in ids[5:]:
        _rate(dee, paper_id, -1, back="/for-you/rate")
    second = re.findall(r'data-id="([^"]+)"', dee.get("/for-you/rate").text)
    assert len(second) == 10 and not set(second) & set(ids)


def test_bad_input_is_refused(catalog: Catalog) -> None:
    eve = signed_up(catalog, "eve")
    assert eve.get("/for-you?period=year").status_code == 400
    paper = _distillation(catalog)[0]
    answer = eve.post(f"/papers/{paper.id}/rating",
                      data={"rating": "5", "csrf_token": csrf(eve)})
    assert answer.status_code == 400
    assert eve.post("/papers/no-such-paper/rating",
                    data={"rating": "1", "csrf_token": csrf(eve)}).status_code == 404
    assert eve.post(f"/papers/{paper.id}/rating", data={"rating": "1"}).status_code == 403


def test_hostile_titles_render_inert_in_why(catalog: Catalog) -> None:
    fay = signed_up(catalog, "fay")
    hostile = catalog.store.papers.get("2001.99999")
    _rate(fay, hostile.id, 1)  # the one liked paper: every why names it
    page = fay.get("/for-you?period=all").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page  # its title is there, as text, in a why
    assert str(escape(hostile.title))[:60] in page


def _token(client: TestClient) -> str:
    page = client.post("/account/tokens", data={"label": "t", "csrf_token": csrf(client)})
    return re.findall(r'<code class="token">(pf_[\w-]+)</code>', page.text)[0]


def test_the_api_rates_and_recommends_with_a_token(catalog: Catalog) -> None:
    gus = signed_up(catalog, "gus")
    bare = TestClient(create_app(catalog.settings, catalog))
    auth = {"Authorization": f"Bearer {_token(gus)}"}
    liked = _distillation(catalog)[:3]
    for paper in liked:
        answer = bare.post(f"/api/papers/{paper.id}/rating", json={"rating": 1}, headers=auth)
        assert answer.status_code == 200 and answer.json() == {"id": paper.id, "rating": 1}
    items = bare.get("/api/recommendations", params={"period": "all", "limit": 5},
                     headers=auth).json()
    assert len(items) == 5 and items[0]["score"] >= items[-1]["score"]
    assert {p["id"] for item in items for p in item["why"]["papers"]} <= {p.id for p in liked}
    assert all(item["why"]["papers"] for item in items)
    answer = bare.post(f"/api/papers/{liked[0].id}/rating", json={"rating": 0}, headers=auth)
    assert answer.json()["rating"] == 0
    gid = catalog.store.members.user_by_name("gus").id
    assert len(catalog.store.ratings.ratings(gid)) == 2
    bad = bare.post(f"/api/papers/{liked[0].id}/rating", json={"rating": 2}, headers=auth)
    assert bad.status_code == 400 and bad.json()["error"]["status"] == 400
    assert bare.get("/api/recommendations").status_code == 401
    # No credentials at all: the CSRF check answers first, as for votes.
    assert bare.post(f"/api/papers/{liked[0].id}/rating", json={"rating": 1}).status_code == 403
    revoked = {"Authorization": "Bearer pf_" + "x" * 43}
    assert bare.post(f"/api/papers/{liked[0].id}/rating", json={"rating": 1},
                     headers=revoked).status_code == 401
    assert bare.get("/api/recommendations", params={"period": "year"},
                    headers=auth).status_code == 400


def test_the_private_feed_works_until_revoked(catalog: Catalog) -> None:
    hal = signed_up(catalog, "hal")
    for paper in _distillation(catalog)[:3]:
        _rate(hal, paper.id, 1)
    page = hal.post("/for-you/feeds", data={"csrf_token": csrf(hal)})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    [url] = re.findall(r'<code class="feed-url">(/for-you/feed/pff_[\w-]+\.atom)</code>',
                       page.text)
    assert url not in hal.get("/for-you").text, "shown once"
    reader = TestClient(create_app(catalog.settings, catalog))  # no cookies: a feed reader
    feed = reader.get(url)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith(
        "application/atom+xml")
    entries = ET.fromstring(feed.content).findall("{http://www.w3.org/2005/Atom}entry")
    assert entries and "private" in feed.headers["cache-control"]
    assert reader.get(url.replace("pff_", "pff_x")).status_code == 404
    hid = catalog.store.members.user_by_name("hal").id
    [listed] = catalog.store.ratings.feed_tokens(hid)
    other = signed_up(catalog, "ivy")  # someone else's feed is not theirs to revoke
    assert other.post(f"/for-you/feeds/{listed.id}/revoke",
                      data={"csrf_token": csrf(other)}).status_code == 404
    account = hal.get("/account").text  # listed, and revocable, on the account page too
    assert f'action="/for-you/feeds/{listed.id}/revoke"' in account and url not in account
    answer = hal.post(f"/for-you/feeds/{listed.id}/revoke", data={"csrf_token": csrf(hal)},
                      follow_redirects=False)
    assert answer.status_code == 303
    assert reader.get(url).status_code == 404


def test_the_digest_switch(catalog: Catalog) -> None:
    jo = signed_up(catalog, "jo")
    jid = catalog.store.members.user_by_name("jo").id
    jo.post("/for-you/digest", data={"on": "1", "csrf_token": csrf(jo)})
    assert catalog.store.ratings.digest_for_you(jid)
    assert "Leave it out" in jo.get("/for-you").text
    jo.post("/for-you/digest", data={"on": "0", "csrf_token": csrf(jo)})
    assert not catalog.store.ratings.digest_for_you(jid)


def test_the_nav_links_for_you(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path / "d", load_demo=False))
    assert 'href="/for-you"' in TestClient(create_app(catalog.settings, catalog)).get("/").text


def test_my_papers_are_found_by_author_name(catalog: Catalog) -> None:
    kim = signed_up(catalog, "kim")
    page = kim.get("/for-you").text
    assert 'class="my-papers" action="/search"' in page and 'name="mode" value="keyword"' in page
    found = kim.get("/search", params={"q": "Noor Quillfeather", "mode": "keyword"}).text
    ids = re.findall(r'data-id="([^"]+)"', found)
    assert sorted(ids) == [f"2002.{i:05d}" for i in range(4)]  # hers, and only hers
    assert 'class="rate-button more"' in found  # picked right there


WALK_LIKED = [("Quantum walk search on lattices",
               "A quantum walk finds a marked vertex of a lattice."),
              ("Continuous-time quantum walk transport", "Transport by a quantum walk on chains."),
              ("Quantum walk algorithms for element distinctness",
               "Element distinctness decided with a quantum walk.")]
# The same words in another order (the same static vector, the same stems): only the word
# pair "quantum walk", which the liked papers share, tells them apart.
WALK_PAIRED = ("Quantum walk sampling on expander graphs",
               "We sample expander graphs by a quantum walk of bounded depth.")
WALK_APART = ("Walk sampling on expander quantum graphs",
              "We sample expander quantum graphs by a walk of bounded depth.")
WALK_OTHERS = [("Entangled polymer melts under shear", "Viscosity of coarse-grained chains."),
               ("Lipid membranes and their elasticity", "Bending rigidity of bilayers."),
               ("Enzyme catalysis observed in single molecules", "Turnover of one enzyme."),
               ("DNA origami nanostructures", "Self-assembly of DNA tiles."),
               ("Spin glasses on random graphs", "Replica symmetry breaking at low temperature.")]


def test_a_shared_word_pair_ranks_first_and_is_the_why(catalog: Catalog) -> None:
    """Last in this module: its papers make a new latest day."""
    day = date(2031, 5, 6)
    catalog.ingest([Paper(title=t, abstract=a, arxiv_id=f"2103.{i:05d}",
                          published=date(2031, 1, 4), source="test", source_ref=f"qw{i}")
                    for i, (t, a) in enumerate(WALK_LIKED)]
                   + [Paper(title=t, abstract=a, arxiv_id=f"3105.{i:05d}", published=day,
                            source="test", source_ref=f"qw-new{i}")
                      for i, (t, a) in enumerate([WALK_APART, WALK_PAIRED] + WALK_OTHERS)])
    catalog.reindex()
    ida = signed_up(catalog, "ida")
    for i in range(len(WALK_LIKED)):
        _rate(ida, f"2103.{i:05d}", 1)
    apart, paired = (catalog.store.papers.get(f"3105.{i:05d}") for i in range(2))
    recommender = Recommender(catalog)
    vectors = recommender.vectors([apart.key, paired.key])
    assert float(vectors[apart.key] @ vectors[paired.key]) > 0.9999  # a fair test
    user = catalog.store.members.user_by_name("ida")
    assert user is not None
    fitted = recommender.fitted(user.id)
    keys = [catalog.store.papers.get(f"3105.{i:05d}").key for i in range(len(WALK_OTHERS) + 2)]
    vectors = recommender.vectors(keys)
    cand = recommender.candidate_parts(keys)
    alone = fitted.model.rank(np.stack([vectors[k] for k in keys]),
                              ridge=fitted.ridge.score(cand.stems))
    assert abs(alone[1] - alone[0]) < 0.01  # by vectors and stems they (nearly) tie
    scores = recommender.scores(fitted, np.stack([vectors[k] for k in keys]), cand)
    assert scores[1] > scores[0] + 0.1  # the bigram decides
    page = ida.get("/for-you?period=day").text
    titles = _titles(page)
    assert titles.index(WALK_PAIRED[0]) < titles.index(WALK_APART[0])
    why = re.findall(r'<p class="why-for-you">(.*?)</p>', page, re.S)
    assert 'class="terms">quantum walk' in why[titles.index(WALK_PAIRED[0])]
    api = ida.get("/api/recommendations?period=day&limit=5").json()
    first = api["papers"][0] if isinstance(api, dict) else api[0]
    assert first["title"] == WALK_PAIRED[0]
    assert "quantum walk" in first["why"]["terms"]


def _why_for(catalog: Catalog, name: str, liked: list[str], paper_id: str) -> Why:
    """The why of `paper_id` for a new member `name` who rated the `liked` papers."""
    client = signed_up(catalog, name)
    for arxiv_id in liked:
        _rate(client, arxiv_id, 1)
    user = catalog.store.members.user_by_name(name)
    assert user is not None
    recommender = Recommender(catalog)
    paper = catalog.store.papers.get(paper_id)
    return recommender.why(recommender.fitted(user.id), paper,
                           recommender.vectors([paper.key])[paper.key])


def test_the_why_names_a_word_once_however_the_liked_papers_write_it(
        catalog: Catalog) -> None:
    """Two liked papers write one stem two ways ("abilities", "ability"): the why shares it
    once, not as two words."""
    liked = [("Emergent abilities of sparse transformers", "Sparse transformers show "
              "emergent abilities on arithmetic."),
             ("Reasoning ability of sparse transformers", "We probe the reasoning ability of "
              "sparse transformers on arithmetic.")]
    catalog.ingest([Paper(title=t, abstract=a, arxiv_id=f"2104.{i:05d}",
                          published=date(2021, 4, 1), source="test", source_ref=f"ab{i}")
                    for i, (t, a) in enumerate(liked)]
                   + [Paper(title="Arithmetic abilities and the ability to count in sparse "
                            "transformers", abstract="Counting ability of sparse transformers.",
                            arxiv_id="2104.00009", published=date(2021, 4, 2), source="test",
                            source_ref="ab9")])
    catalog.reindex()
    why = _why_for(catalog, "ivo", [f"2104.{i:05d}" for i in range(len(liked))], "2104.00009")
    assert len(why.papers) == 2
    words = [w for term in why.terms for w in term.split()]
    assert {"abilities", "ability"} & set(words)
    assert not {"abilities", "ability"} <= set(words)


def test_the_why_leaves_out_a_pair_of_common_words(catalog: Catalog) -> None:
    """"experiments show" is a pair both papers have, but both its words are in most
    abstracts, and "between" in "between photonic" is in a third of them: the why names the
    pair that says something instead."""
    liked = ("Photonic lattices with synthetic gauge fields",
             "Experiments show that photonic lattices carry synthetic gauge fields, "
             "between photonic sites.")
    catalog.ingest([Paper(title=liked[0], abstract=liked[1], arxiv_id="2105.00001",
                          published=date(2021, 5, 1), source="test", source_ref="pl1"),
                    Paper(title="Topological edge states of photonic lattices",
                          abstract="Experiments show robust edge states in photonic lattices, "
                                   "between photonic sites.",
                          arxiv_id="2105.00002", published=date(2021, 5, 2), source="test",
                          source_ref="pl2")])
    catalog.reindex()
    fulltext = catalog.indexes.fulltext
    common = fulltext.document_frequencies(["experi", "show", "between"])
    assert min(common.values()) > 0.25 * fulltext.num_docs()  # a fair test
    why = _why_for(catalog, "uma", ["2105.00001"], "2105.00002")
    assert why.terms[0] == "photonic lattices"
    assert "experiments show" not in why.terms
    assert not [term for term in why.terms if "between" in term]
