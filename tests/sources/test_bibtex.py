"""BibTeX: a real paper.bib (arXiv eprints, ADS-style names, LaTeX accents) + one broken entry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from paperfeed.models import Paper, SkippedRecord
from paperfeed.sources import detect_format, read_source
from paperfeed.sources.bibtex import parse_bibtex, read_bibtex


def test_reference_file(fixtures: Path) -> None:
    path = fixtures / "references.bib"
    assert detect_format(path) == "bibtex"
    records = list(read_bibtex(path))
    papers = [r for r in records if isinstance(r, Paper)]
    skipped = [r for r in records if isinstance(r, SkippedRecord)]
    assert len(papers) == 7
    assert len(skipped) == 1
    assert skipped[0].source_ref == "references.bib:64"
    assert "Broken:2024" in skipped[0].reason and "Expected a `=`" in skipped[0].reason
    # order is file order, the broken entry in its place
    assert [r.source_ref for r in records][3:6] == [
        "references.bib:46",
        "references.bib:64",
        "references.bib:70",
    ]

    hearin = papers[1]
    assert hearin.title == (
        "A Differentiable Model of the Assembly of Individual and Populations of Dark Matter Halos"
    )
    assert hearin.authors == [
        "Andrew P. Hearin",
        "Jonás Chaves-Montero",
        "Mathew R. Becker",
        "Alex Alarcon",
    ]
    assert hearin.arxiv_id == "2105.05859" and hearin.id == "2105.05859"
    assert hearin.doi == "10.21105/astro.2105.05859"
    assert hearin.published == date(2021, 7, 1)
    assert hearin.categories == ["astro-ph.CO"]
    assert hearin.links["doi"] == "https://doi.org/10.21105/astro.2105.05859"

    jax = papers[0]
    assert jax.title == "JAX: composable transformations of Python+NumPy programs"
    assert "Jake VanderPlas" in jax.authors and jax.arxiv_id is None
    assert jax.id.startswith("pf-") and jax.links["url"] == "http://github.com/google/jax"
    scott = next(p for p in papers if p.title == "Multivariate Density Estimation")
    assert scott.authors == ["D. W. Scott"] and scott.published == date(1992, 1, 1)
    assert len(list(read_source(path))) == 8


def test_arxiv_ids_from_urls_dois_and_corr() -> None:
    text = r"""
@article{a, title={Multilingual {NMT} with a language-independent attention bridge},
  journal={CoRR}, volume={abs/1811.00498}, year={2018}, month=nov}
@misc{b, title={Random {{Disks}} of {{Constant Curvature}}: The {{Lattice Story}}},
  author={Ferrari, Frank}, doi={10.48550/arXiv.2406.06875}, year={2024}, month=jun,
  abstract={We lay the groundwork for a UV-complete formulation.}}
@misc{c, title={Fast {ES-RNN}}, url={https://arxiv.org/abs/1907.03329v2}, year="2019"}
@misc{d, author={Nobody}, year={2020}}
"""
    records = list(parse_bibtex(text, "inline.bib"))
    a, b, c, d = records
    assert isinstance(a, Paper) and a.arxiv_id == "1811.00498" and a.published == date(2018, 11, 1)
    assert isinstance(b, Paper) and b.arxiv_id == "2406.06875"
    assert b.title == "Random Disks of Constant Curvature: The Lattice Story"
    assert b.authors == ["Frank Ferrari"]
    assert b.abstract == "We lay the groundwork for a UV-complete formulation."
    assert isinstance(c, Paper) and (c.arxiv_id, c.version) == ("1907.03329", 2)
    assert isinstance(d, SkippedRecord) and "no title" in d.reason
