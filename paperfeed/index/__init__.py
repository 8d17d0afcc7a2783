"""Stage 3: indexes derived from the store (BM25 keyword, dense vectors)."""
