"""What every `paperfeed` command is handed: the settings, and the data directory opened once."""

from __future__ import annotations

import click

from ..catalog import Catalog
from ..settings import Settings


class Context:
    def __init__(self, settings: Settings, debug: bool) -> None:
        self.settings = settings
        self.debug = debug
        self._catalog: Catalog | None = None

    def catalog(self, **overrides: object) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog(self.settings.with_overrides(**overrides))
        return self._catalog


pass_context = click.make_pass_decorator(Context)
