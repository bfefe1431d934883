"""The pages' templates (console, statistics): autoescaped, strict about missing values, and the only
place their HTML is written."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from bot.handoff import stats
from connectors import templating
from connectors.stats_page import render_page

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(p.relative_to(templating.TEMPLATES_DIR).as_posix()
                   for p in templating.TEMPLATES_DIR.rglob("*.html"))
# Modules that render pages: their strings may hold French text, routes or CSS selectors, never markup.
PAGE_MODULES = ("connectors/console.py", "connectors/stats_page.py", "connectors/templating.py")
HTML_TAG = re.compile(r"</?(?:!doctype|html|head|body|meta|title|link|script|style|p|a|div|span|h[1-6]|ul|ol|li|dl|dt|"
                      r"dd|table|thead|tbody|tr|th|td|caption|form|input|label|select|option|textarea|button|"
                      r"fieldset|legend|section|figure|svg|text|rect|br|strong|em|code|time|header|nav|main)[\s>/]",
                      re.IGNORECASE)


def test_every_template_loads_and_is_autoescaped():
    env = templating.environment()
    assert TEMPLATES and all(name.endswith(".html") for name in TEMPLATES)
    for name in TEMPLATES:
        env.get_template(name)  # parses
        assert env.autoescape(name) is True, name


def test_one_environment_per_process():
    assert templating.environment() is templating.environment()


def test_values_are_escaped_as_the_pages_always_escaped_them():
    out = templating.environment().from_string('<p title="{{ v }}">{{ v }}{{ none }}</p>').render(
        v="\"'><script>alert(1)</script>", none=None)
    assert out == ('<p title="&quot;&#x27;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">'
                   "&quot;&#x27;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>")


def test_a_missing_value_fails_the_render_instead_of_printing_nothing():
    with pytest.raises(UndefinedError):
        templating.render("stats/page.html")
    window = stats.whole_weeks(stats.StatsFilter(), date(2026, 6, 1))
    published = stats.publish(stats.Stats(filter=window.filter), stats.Rules())
    with pytest.raises(UndefinedError):
        templating.render("stats/page.html", stats=published, window=window)  # no sections, no query...
    assert "Orientations : 0" in render_page(published, window)


def test_a_hostile_value_on_the_statistics_page_is_shown_escaped():
    window = stats.whole_weeks(stats.StatsFilter(departement="35"), date(2026, 6, 1))
    published = stats.publish(stats.Stats(filter=window.filter), stats.Rules())
    published.departements[:] = ['35"><script>alert(1)</script>']
    page = render_page(published, window)
    assert "<script>" not in page and "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("module", PAGE_MODULES)
def test_no_html_is_built_in_python_strings(module):
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    found = [(node.lineno, node.value) for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and HTML_TAG.search(node.value)]
    assert found == []
