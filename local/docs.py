"""Keep generated parts of README.md true: ``python -m local.docs`` rewrites them.

The settings table is generated from ``shared/settings.py``; a test fails when the README's copy
differs, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import re
import sys

from local.config import ROOT

README = ROOT / "README.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
SCOPES = {"azure": "Azure", "both": "both", "local": "local"}


def settings_table() -> str:
    from shared.settings import Settings

    lines = ["| setting | scope | default | meaning |", "|---|---|---|---|"]
    for field in Settings.model_fields.values():
        extra = field.json_schema_extra
        scope = extra.get("scope", "") if isinstance(extra, dict) else ""
        default = "" if field.default in (None, "") else f"`{field.default}`"
        lines.append(
            f"| `{field.alias}` | {SCOPES.get(str(scope), scope)} | {default} | "
            f"{field.description} |"
        )
    return "\n".join(lines)


def render(text: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    return pattern.sub(f"{BEGIN}\n{settings_table()}\n{END}", text)


def main() -> int:
    text = README.read_text()
    updated = render(text)
    if updated != text:
        README.write_text(updated)
        print("README.md: settings table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
