"""The package's public surface stays small, sorted and importable."""

import paperfeed


def test_exports_are_sorted_and_present() -> None:
    assert paperfeed.__all__ == sorted(paperfeed.__all__)
    for name in paperfeed.__all__:
        assert getattr(paperfeed, name) is not None


def test_errors_share_one_base() -> None:
    for name in ("BadRequest", "ConfigError", "Conflict", "HarvestError", "NotFound",
                 "SourceError", "StoreBusy"):
        assert issubclass(getattr(paperfeed, name), paperfeed.PaperfeedError)
