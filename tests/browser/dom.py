"""Checks on what a desk page holds, shared by the fake-backend and real-stack browser tests."""

from __future__ import annotations

# Every place a text can stay in the page: the markup (text, attributes such as title or aria-label),
# the fields' current values (not in the markup), and the accessibility tree a screen reader reads.
_PLACES_JS = """(secret) => {
  const found = [];
  if (document.documentElement.outerHTML.includes(secret)) { found.push("markup"); }
  document.querySelectorAll("input, textarea").forEach((field) => {
    if (field.value.includes(secret)) { found.push("value of #" + field.id); }
  });
  document.querySelectorAll("[aria-live], [role=log], [role=alert], [role=status]").forEach((region) => {
    if (region.textContent.includes(secret)) { found.push("live region #" + region.id); }
  });
  return found;
}"""


def places_holding(page, secret: str) -> list[str]:  # noqa: ANN001 (playwright types are optional)
    """Where `secret` still is in the page (empty when nowhere)."""
    found = page.evaluate(_PLACES_JS, secret)
    if secret in page.locator("body").aria_snapshot():
        found.append("accessibility tree")
    return found
