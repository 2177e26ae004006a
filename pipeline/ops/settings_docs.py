"""The README's configuration table and deploy/argenta.env.example, made from the settings.

`python -m pipeline.ops.settings_docs` (or `make settings-docs`) rewrites both from the
declarations in pipeline/settings.py; `--check` only says which one is out of date (exit 1).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

from pipeline.settings import SETTINGS, Setting

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / "deploy" / "argenta.env.example"
UNIT = ROOT / "deploy" / "argenta-pipeline.service"
TABLE_START = "<!-- settings table: generated from pipeline/settings.py by make settings-docs -->"
TABLE_END = "<!-- end of settings table -->"
ENV_HEADER = """\
# Argenta IA settings for the systemd unit: copy to /etc/argenta/argenta.env (mode 0640,
# group argenta) and edit. Each setting is shown commented out with its default (or, for a
# setting that is unset by default, an example): uncomment the line and change the value.
# `argenta` reads the same variables from the environment or a .env file.
# Generated from pipeline/settings.py by `make settings-docs`; edit the declarations there.
"""


def default_cell(declared: Setting[Any]) -> str:
    """How the README shows a setting's default."""
    return declared.shown or f"`{declared.default_text}`"


def markdown_table() -> str:
    """The README's configuration table: variable, default, accepted values, meaning."""
    rows = ["| variable | default | accepted | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{s.variable}` | {default_cell(s)} | {s.parser.accepted} | {s.help} |" for s in SETTINGS
    ]
    return "\n".join(rows) + "\n"


def unit_environment(unit_text: str) -> dict[str, str]:
    """The variables the systemd unit sets itself (its `Environment=NAME=value` lines)."""
    found = {}
    for line in unit_text.splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            found[name] = value
    return found


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text.replace("`", ""), 94, initial_indent="# ", subsequent_indent="# ")


def _env_entry(declared: Setting[Any], from_unit: dict[str, str]) -> list[str]:
    """One setting's block in the example environment file."""
    default = declared.default_text or declared.shown.replace("`", "")
    lines = _comment(f"{declared.variable}: {declared.help}.")
    lines += _comment(f"Accepted: {declared.parser.accepted}; default: {default}.")
    if declared.variable in from_unit:
        lines += _comment(f"Set by {UNIT.name}: leave it unset here.")
        return [*lines, f"#{declared.variable}={from_unit[declared.variable]}"]
    return [*lines, f"#{declared.variable}={declared.default_text or declared.example}"]


def env_example(unit_text: str) -> str:
    """The example environment file: every setting, commented out, with its help."""
    from_unit = unit_environment(unit_text)
    blocks = ["\n".join(_env_entry(s, from_unit)) for s in SETTINGS]
    return ENV_HEADER + "\n" + "\n\n".join(blocks) + "\n"


def with_table(readme: str) -> str:
    """`readme` with the text between the table markers replaced by the current table."""
    before, start, rest = readme.partition(TABLE_START + "\n")
    _, end, after = rest.partition(TABLE_END)
    if not (start and end):
        raise ValueError(f"README.md lacks the markers {TABLE_START!r} ... {TABLE_END!r}")
    return before + start + markdown_table() + end + after


def expected_files() -> dict[Path, str]:
    """Each generated file and the text it should hold."""
    return {
        README: with_table(README.read_text(encoding="utf-8")),
        ENV_EXAMPLE: env_example(UNIT.read_text(encoding="utf-8")),
    }


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated files, or with --check list the stale ones and exit 1."""
    check = "--check" in (sys.argv[1:] if argv is None else argv)
    expected = expected_files()
    stale = [p for p, text in expected.items() if p.read_text(encoding="utf-8") != text]
    for path in stale:
        if check:
            print(f"{path.relative_to(ROOT)} is out of date: run make settings-docs")
        else:
            path.write_text(expected[path], encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
