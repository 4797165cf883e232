"""Browser tests wait for what they check with Playwright's auto-retrying
``expect()``: a read of the page inside an assertion (``page.content()``,
``locator.inner_text()``, ``page.url`` …) takes whatever is there at that
instant, so right after a click or a reload it can see the old page, or an
empty one on a busy machine, and fail at random."""

import ast
from pathlib import Path

BROWSER_TESTS = [Path("tests/e2e"), Path("tests/deploy")]
# Page and locator reads that return at once instead of waiting for a state.
READS = {
    "content",
    "inner_text",
    "inner_html",
    "text_content",
    "all_inner_texts",
    "all_text_contents",
    "input_value",
    "is_checked",
    "is_visible",
    "is_hidden",
    "is_enabled",
    "is_disabled",
    "get_attribute",
    "count",
    "evaluate",
    "title",
}


def immediate_reads(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert):
            continue
        for inner in ast.walk(node.test):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr in READS
            ):
                found.append((inner.lineno, f".{inner.func.attr}()"))
            elif isinstance(inner, ast.Attribute) and inner.attr == "url":
                found.append((inner.lineno, ".url"))
    return found


def test_reads_are_caught() -> None:
    assert immediate_reads("assert 'x' in page.content()") == [(1, ".content()")]
    assert immediate_reads("assert page.url.endswith('/')") == [(1, ".url")]
    assert immediate_reads("expect(page.locator('body')).to_contain_text('x')") == []


def test_browser_tests_assert_through_expect_only() -> None:
    offenders = [
        f"{path}:{line}: {read}"
        for directory in BROWSER_TESTS
        for path in sorted(directory.glob("*.py"))
        for line, read in immediate_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
