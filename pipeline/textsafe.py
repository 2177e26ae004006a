"""Text that leaves the program safely: no credentials, no spreadsheet formulas, no markup."""

from __future__ import annotations

import re

import polars as pl

# scheme://user:password@host -> scheme://user:***@host (also a bare password: scheme://:pw@).
_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/:@\s]*):(?P<secret>[^\s/]*)@")
# OWASP "CSV injection": a cell starting with one of these is a formula in a spreadsheet,
# unless the whole cell is a plain decimal number (e.g. "-1.5", "+2e3"). Both patterns are
# RE2-compatible: store/export.py applies them in SQL to the CSV export.
FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
# Markup characters of inline Markdown and Streamlit's `:color[...]`/`:emoji:` directives
# ("." and "-" only mark up at the start of a line, and tickers use them).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~$:&])")


def redact(text: str) -> str:
    """`text` with the password of every `scheme://user:password@host` replaced by `***`."""
    return _CREDENTIALS.sub(r"\g<head>:***@", text)


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix `'` to text cells a spreadsheet would run as a formula (=, +, -, @, tab, CR).

    Cells that are numbers ("-1.5") are left alone, as OWASP recommends.
    """
    fixes = []
    for name, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        col = pl.col(name)
        risky = col.str.contains(FORMULA_START) & ~col.str.contains(PLAIN_NUMBER)
        fixes.append(pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name))
    return frame.with_columns(fixes) if fixes else frame


def escape_markdown(text: str) -> str:
    """`text` shown literally by Markdown (st.markdown): every markup character escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
