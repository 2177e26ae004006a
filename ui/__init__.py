"""The dashboard's helpers: cached database reads, Plotly figures, tables, formats, URL state."""
