"""Repair the damage HTML-to-text extraction leaves in titles and abstracts.

Every rule here is driven by a pattern actually found in the page captures
(`pages/*.txt`); a rule is narrow on purpose so real words and numbers survive:

- LaTeX text-style commands whose backslash was stripped: `texttt{D}ual` -> `Dual`
  (also textbf/textit/textrm/textsf/emph/mathrm/mathbf/mathit/mathcal with a
  brace-free argument: `mathcal{O}(d^2)` -> `O(d^2)`).
- Old-style font groups: `{it decreases}`, `{\\em parameter}`, `{bf 1}` -> the text.
- HTML numeric-entity residues of punctuation: `x2014` -> `—`, `x2013` -> `–`
  (only punctuation code points x2010-x202F, never after a digit, so `0x2014`
  and `32x2048` stay; a residue may be glued to words: `tokenx2014only`).
- Multiplication: `2.31times` -> `2.31×`, `8times 8` -> `8×8`.
- LaTeX escapes: `\\%` -> `%`, accents `Fr\\'echet` -> `Fréchet`,
  `na\\"{\\i}ve` -> `naïve`, `\\L ojasiewicz` -> `Łojasiewicz`,
  `{\\tau}`/`{\\epsilon}` -> `τ`/`ε`, `rightarrow` -> `→`, `$i$REPO` -> `iREPO`.
- Link residues: `URL{URL}` -> `URL`, `URL{here.}` -> `URL`.
- Whitespace: runs of spaces/newlines collapse to one space, ends trimmed.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fix_text", "normalize_space"]

_STYLE_CMDS = (
    "texttt|textbf|textit|textrm|textsf|textsc|emph|mathrm|mathbf|mathit|mathsf|mathtt|mathcal"
)
# Backslash optional: the pages lost it ("texttt{D}"), BibTeX keeps it ("\\emph{x}").
_STYLE_RE = re.compile(r"\\?\b(?:" + _STYLE_CMDS + r")\{([^{}]*)\}")
# "mathcal O(" without braces (seen once in the pages).
_MATHCAL_BARE_RE = re.compile(r"\bmathcal ([A-Z])\b")
_GROUP_RE = re.compile(r"\{\\?(?:it|em|bf|sl|rm|tt|sc)\s+([^{}]*)\}")

_PUNCT_ENTITY_RE = re.compile(r"(?<![0-9])x(20[12][0-9A-Fa-f])(?![0-9])")
_TIMES_RE = re.compile(r"(\d(?:\.\d+)?)times\b(?: (?=\d))?")

_GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "eta": "η",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "pi": "π",
    "rho": "ρ",
    "omega": "ω",
}
# Only in braces with a backslash ("{\tau}"): a bare "alpha" may be a word.
_GREEK_RE = re.compile(r"\{\\(" + "|".join(_GREEK) + r")\}|\\(" + "|".join(_GREEK) + r")\b")

_ACCENTS = {
    "'": "\u0301",
    '"': "\u0308",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "c": "\u0327",
    "v": "\u030c",
    "=": "\u0304",
    "u": "\u0306",
    "H": "\u030b",
}
# \'e  \'{e}  {\'e}  \"{\i}  \c{c}  \v{c}
_ACCENT_RE = re.compile(r"\{?\\([\'\"`^~=]|[cvuH](?=\{))\s*\{?\\?([A-Za-z])\}?\}?")
_SPECIAL = {
    r"\L ": "Ł",
    r"\L{}": "Ł",
    r"\l ": "ł",
    r"\l{}": "ł",
    r"\o ": "ø",
    r"\o{}": "ø",
    r"\ss ": "ß",
    r"\ss{}": "ß",
    r"\aa ": "å",
    r"\aa{}": "å",
    r"\i ": "ı",
}
_SPECIAL_RE = re.compile("|".join(re.escape(k) for k in _SPECIAL))

_LINK_DUP_RE = re.compile(r"(https?://[^\s{}]+)\{(https?://[^\s{}]+)\}")
_LINK_TEXT_RE = re.compile(r"(https?://[^\s{}]+)\{([^{}]{0,40})\}")
_INLINE_VAR_RE = re.compile(r"\$([A-Za-z0-9])\$")
_WS_RE = re.compile(r"\s+")


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace (incl. newlines) to one space and trim."""
    return _WS_RE.sub(" ", text).strip()


def _entity(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    # Only dashes, quotes, ellipsis, bullets: the residues an HTML extractor leaves.
    if not unicodedata.category(char).startswith("P"):
        return match.group(0)
    return char


def _accent(match: re.Match[str]) -> str:
    mark, letter = match.group(1), match.group(2)
    base = "i" if letter == "i" and match.group(0).count("\\") > 1 else letter
    return unicodedata.normalize("NFC", base + _ACCENTS[mark])


def fix_text(text: str) -> str:
    """Undo extraction damage in one title or abstract; idempotent."""
    if not text:
        return ""
    out = text
    for _ in range(3):  # nested \emph{\textbf{x}} unwraps from the inside out
        new = _STYLE_RE.sub(r"\1", out)
        if new == out:
            break
        out = new
    out = _MATHCAL_BARE_RE.sub(r"\1", out)
    out = _GROUP_RE.sub(r"\1", out)
    out = _LINK_DUP_RE.sub(r"\2", out)
    out = _LINK_TEXT_RE.sub(r"\1", out)
    out = _PUNCT_ENTITY_RE.sub(_entity, out)
    out = _TIMES_RE.sub(r"\1×", out)
    out = out.replace(r"\%", "%").replace(r"\&", "&").replace(r"\_", "_")
    out = _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group(0)], out)
    out = _ACCENT_RE.sub(_accent, out)
    out = _GREEK_RE.sub(lambda m: _GREEK[m.group(1) or m.group(2)], out)
    out = re.sub(r"\brightarrow\b", "→", out)
    out = _INLINE_VAR_RE.sub(r"\1", out)
    return normalize_space(out)
