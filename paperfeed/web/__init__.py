"""Stage 5: the web site (server-rendered pages) and the app factory."""

from .app import create_app

__all__ = ["create_app"]
