"""What every page writes, read as a user does: no "None"/"nan", and es-AR chart axes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.pages_support import assert_no_failure, figures, open_page, shown_text
from ui import params

PAGES = (
    params.RECOMMENDATIONS_PAGE,
    params.EVOLUTION_PAGE,
    params.DETAIL_PAGE,
    params.TRACK_PAGE,
    params.METHOD_PAGE,
    params.HEALTH_PAGE,
)
# A missing value leaking as Python's or pandas' spelling of it.
LEAKED_MISSING = re.compile(r"\b(None|nan|NaN|NaT|null)\b")


@pytest.fixture(scope="module")
def pages(sample_db: Path) -> dict[str, object]:
    """Every page opened once on the sample database, as a first visit (no query string)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
        return {page: open_page(page) for page in PAGES}


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_a_missing_value_as_none_or_nan(pages: dict, page: str) -> None:
    at = pages[page]
    assert_no_failure(at)
    texts = shown_text(at)
    assert len(texts) > 5, "the page shows text"
    leaked = sorted({t for t in texts if LEAKED_MISSING.search(t)})
    assert not leaked, leaked


@pytest.mark.parametrize("page", PAGES)
def test_no_page_speaks_developer_jargon(pages: dict, page: str) -> None:
    """Analysts read the pages: no migration numbers, SQL words or setting names."""
    jargon = re.compile(r"(?i:migraci[oó]n|migration)|\bNULL\b|ARGENTA_[A-Z]|DATABASE_URL")
    said = sorted({t for t in shown_text(pages[page]) if jargon.search(t)})
    assert not said, said


@pytest.mark.parametrize("page", PAGES)
def test_chart_axes_use_argentine_numbers_without_si_suffixes(pages: dict, page: str) -> None:
    for figure in figures(pages[page]):
        layout = figure["layout"]
        title = layout["title"]["text"]
        assert layout["separators"] == ",.", title  # decimal comma, thousands dot
        axes = {k: v for k, v in layout.items() if k.startswith(("xaxis", "yaxis"))}
        assert axes, title
        for name, axis in axes.items():
            # No 14k / 0.5M: plain numbers, thousands marked even on 4-digit values (1.000).
            assert axis.get("exponentformat") == "none", (title, name)
            assert axis.get("separatethousands") is True, (title, name)
            assert "s" not in axis.get("tickformat", ""), (title, name)  # d3's SI format
