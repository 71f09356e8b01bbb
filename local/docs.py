"""Keep generated parts of README.md true: ``python -m local.docs`` rewrites them.

The settings table is generated from ``shared/settings.py``, the table of SMS segments from the
shipped texts (``shared/sms/languages.py``); a test fails when the README's copy differs, so the
documentation cannot drift from the code.
"""

from __future__ import annotations

import re
import sys

from local.config import ROOT

README = ROOT / "README.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
SEGMENTS_BEGIN, SEGMENTS_END = "<!-- sms-segments:begin -->", "<!-- sms-segments:end -->"
SAMPLE_SERVICE = "Family Support"
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


def segments_table() -> str:
    """Each shipped text's cost with the longest day, time and code, and its budget."""
    from shared.sms.languages import SHIPPED
    from shared.sms.templates import (
        FAMILY_TEXTS,
        STAFF_BUDGET,
        STAFF_TEXTS,
        worst_segments,
    )

    lines = [
        f'| language | text | encoding | segments at most (service "{SAMPLE_SERVICE}") | budget |',
        "|---|---|---|---:|---:|",
    ]
    for tag, language in SHIPPED.items():
        names = [*FAMILY_TEXTS, *(STAFF_TEXTS if tag == "en" else ())]
        for name in names:
            template = getattr(language, name)
            worst = worst_segments(language, name, template, SAMPLE_SERVICE, "Europe/London")
            encoding = "GSM-7" if is_gsm7(template) else "UCS-2"
            budget = STAFF_BUDGET if name in STAFF_TEXTS else language.max_segments
            lines.append(f"| {tag} | {name} | {encoding} | {worst} | {budget} |")
    return "\n".join(lines)


def is_gsm7(template: str) -> bool:
    from shared.sms.templates import GSM7_BASIC, GSM7_EXTENDED, plain

    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in plain(template))


def render(text: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    text = pattern.sub(f"{BEGIN}\n{settings_table()}\n{END}", text)
    segments = re.compile(re.escape(SEGMENTS_BEGIN) + r".*?" + re.escape(SEGMENTS_END), re.DOTALL)
    return segments.sub(f"{SEGMENTS_BEGIN}\n{segments_table()}\n{SEGMENTS_END}", text)


def main() -> int:
    text = README.read_text()
    updated = render(text)
    if updated != text:
        README.write_text(updated)
        print("README.md: settings table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
