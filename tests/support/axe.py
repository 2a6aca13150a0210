"""axe-core accessibility checks for Playwright pages.

axe-core is pinned in tests/a11y/package-lock.json and installed by scripts/test.sh;
it is injected from node_modules into the page under test, so no page ever loads it
from a CDN. Only critical and serious violations fail a test: those are the ones
the issue's target names, and the others (best practices) are noisy on purpose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("critical", "serious")

RUN_AXE = """async (exclude) => {
  const context = exclude.length ? { exclude: exclude.map(s => [s]) } : document;
  const result = await window.axe.run(context, { resultTypes: ['violations'] });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary || '' })),
  }));
}"""


def axe_source() -> str:
    """axe.min.js from node_modules; fail loudly (never skip) when it is not installed."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run scripts/test.sh (it runs `npm ci` in tests/a11y)")
    return AXE_JS.read_text()


def violations(page: Any, exclude: list[str] | None = None) -> list[dict]:
    """Every axe violation on the page as it is now (injecting axe once per document)."""
    if not page.evaluate("() => Boolean(window.axe)"):
        # evaluate, not a <script> tag: the pages' CSP (script-src 'self') would refuse one
        page.evaluate("(source) => { (0, eval)(source); }", axe_source())
    return page.evaluate(RUN_AXE, exclude or [])


def serious(found: list[dict]) -> list[dict]:
    return [v for v in found if v["impact"] in FAILING_IMPACTS]


def report(found: list[dict]) -> str:
    """A readable list: one line per rule, then each offending element and why."""
    lines = []
    for v in found:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:8]:
            why = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}: {why[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Any, state: str, exclude: list[str] | None = None) -> None:
    """Fail with the list of critical/serious violations in this page state."""
    bad = serious(violations(page, exclude))
    assert not bad, f"axe: {len(bad)} critical/serious violation(s) in state '{state}':\n{report(bad)}"
