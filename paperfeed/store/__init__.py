"""Stage 2: the store. The only code that writes SQL."""

from .sqlite import Store, UpsertStats

__all__ = ["Store", "UpsertStats"]
