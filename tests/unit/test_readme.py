from __future__ import annotations

from local.docs import BEGIN, README, render


def test_readme_settings_table_matches_the_settings_module() -> None:
    text = README.read_text()
    assert BEGIN in text
    assert render(text) == text, "run `.venv/bin/python -m local.docs` to update README.md"


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text()
    assert "make run" in text
    assert "make test" in text
