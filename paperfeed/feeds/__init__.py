"""Syndication feeds (Atom) for the web layer."""

from .atom import atom_feed

__all__ = ["atom_feed"]
