"""Stage 4: what people ask of the corpus: search, similar papers, daily feeds."""
