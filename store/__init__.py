"""The only code that opens DuckDB or speaks SQL.

`store.open_latest()` is the notebook helper: a read-only connection to the newest published file.
"""

from store.latest import close_latest, open_latest

__all__ = ["close_latest", "open_latest"]
