"""Email bodies from templates: every email has a plain-text and an HTML version.

Plain text is not autoescaped (a `<` in a username must stay a `<`); HTML is. Undefined
variables raise instead of rendering as empty strings, so a missing link cannot go out.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_email(template_stem: str, **context: object) -> tuple[str, str]:
    """(text, html) from `<stem>.txt` and `<stem>.html` in mail/templates/."""
    env = _environment()
    text = env.get_template(f"{template_stem}.txt").render(context)
    html = env.get_template(f"{template_stem}.html").render(context)
    return text, html
