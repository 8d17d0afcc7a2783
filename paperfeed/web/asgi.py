"""`paperfeed.web.asgi:app` for multi-process servers (settings from PAPERFEED_* variables)."""

from ..catalog import Catalog
from ..settings import load_settings
from .app import create_app

_settings = load_settings()
app = create_app(_settings, Catalog(_settings, read_only=True))
