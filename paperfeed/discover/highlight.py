"""Mark query words in titles and abstracts, safely.

Text is split into words and the rest; everything is HTML-escaped and only
words whose English stem matches a query stem are wrapped in <mark>. The same
Snowball stemmer as the keyword index, so what matched is what lights up.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from markupsafe import Markup, escape

WORD = re.compile(r"(\w+)")
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is",
    "it", "of", "on", "or", "that", "the", "this", "to", "was", "were", "with", "we", "our", "via",
})


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def query_stems(query: str) -> frozenset[str]:
    words = [w.lower() for w in WORD.findall(query) if w.lower() not in STOPWORDS]
    return frozenset(_stemmer().stemWords(words))


def highlight(text: str, stems: frozenset[str]) -> Markup:
    if not stems:
        return escape(text)
    parts = WORD.split(text)
    words = _stemmer().stemWords([p.lower() for p in parts[1::2]])
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2 and words[i // 2] in stems:
            out.append(f"<mark>{escape(part)}</mark>")
        else:
            out.append(str(escape(part)))
    return Markup("".join(out))


def snippet(text: str, stems: frozenset[str], width: int = 320) -> Markup:
    """The `width`-character window of `text` with the most query words, highlighted."""
    if len(text) <= width:
        return highlight(text, stems)
    best_start, best_hits = 0, -1
    sentence_starts = [0] + [m.end() for m in re.finditer(r"[.!?]\s+", text)]
    for start in sentence_starts:
        window = text[start:start + width]
        hits = sum(1 for w in _stemmer().stemWords([x.lower() for x in WORD.findall(window)])
                   if w in stems)
        if hits > best_hits:
            best_start, best_hits = start, hits
    window = text[best_start:best_start + width]
    cut = window.rfind(" ")
    if cut > width // 2:
        window = window[:cut]
    prefix = "… " if best_start else ""
    return Markup(prefix) + highlight(window, stems) + Markup(" …")
