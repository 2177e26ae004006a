"""The pure analysis: indicators, component scores, calls and details.

Polars in, polars out. Nothing here opens a file or a database (except reading the bundled
sentiment lexicon once), and nothing imports duckdb or streamlit: `tests/test_layout.py`
checks it.
"""

from pipeline.analysis.stages import Analysis, analyse

__all__ = ["Analysis", "analyse"]
