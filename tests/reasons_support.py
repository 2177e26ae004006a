"""Every reason the analysis can store for a NULL score, found in the modules that declare them."""

from __future__ import annotations

from pipeline.analysis import stages
from pipeline.analysis.scoring import Reason, fundamental, macro, sentiment, technical


def declared_reasons() -> list[Reason]:
    """The module-level `Reason`s of the scoring modules and the relative model's (a dict)."""
    found: list[Reason] = []
    for module in (technical, fundamental, macro, sentiment, stages):
        for value in vars(module).values():
            items = value.values() if isinstance(value, dict) else [value]
            found += [item for item in items if isinstance(item, Reason)]
    return found
