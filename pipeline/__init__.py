"""The daily analysis: `analysis` (pure), its inputs (`sources`, `settings`), `ops` around it."""
