"""An address that names no page (the served app's modal is checked in test_browser.py)."""

from __future__ import annotations

import pytest

from ui import notfound

KNOWN = ["", "evolucion", "detalle", "historial", "metodologia", "salud"]


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("http://localhost:8501/nonexistent", "", ("nonexistent", "/")),
        ("http://localhost:8501/a/b", "", ("a/b", "/")),
        ("http://host/argenta/nonexistent", "argenta", ("nonexistent", "/argenta/")),
        ("http://localhost:8501/", "", None),
        ("http://localhost:8501/detalle", "", None),
        ("http://host/argenta/salud/", "/argenta/", None),
        (None, "", None),  # no browser (AppTest)
    ],
)
def test_only_an_address_outside_the_pages_is_unknown(url, base, expected) -> None:
    assert notfound.unknown_path(url, base, KNOWN) == expected


def test_the_asked_address_cannot_close_the_script() -> None:
    hostile = "</script><img src=x onerror=alert(1)>"
    text = notfound.script(hostile, "Recomendaciones", "/")
    assert text.count("</script>") == 1 and "<img" not in text
    assert "\\u003c/script>\\u003cimg" in text  # kept, as JavaScript text
