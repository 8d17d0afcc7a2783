"""Stage 5: the JSON API, shaped after the public daily-papers APIs."""
