"""The Jinja2 environment of the server-rendered pages (mediators' console, statistics).

Built once per process, on first use. Autoescape is on for .html templates and values are escaped as
`html.escape` does (`&quot;`, `&#x27;`), so no page builds HTML out of Python strings and no value can add
markup. `StrictUndefined`: a variable missing from a page's context fails the render instead of printing
nothing. Templates live in connectors/templates/ (base.html, console/, stats/).
"""

from __future__ import annotations

import functools
import html
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_eval_context, select_autoescape
from markupsafe import Markup

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@pass_eval_context
def _finalize(eval_ctx, value):
    """None shows as nothing; anything else is escaped like html.escape (what the pages always sent)."""
    if value is None:
        return ""
    if not eval_ctx.autoescape or hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value), quote=True))


@functools.lru_cache(maxsize=None)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=True),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: no stat() on every render
    )


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)
