"""The benchmark report's table, ratios, targets and discovery, on rows made here (no benchmarks
run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.report import (
    BENCH,
    Report,
    collect,
    defines_measure,
    discover,
    render,
    rows_from_json,
    rows_to_json,
)
from bench.support import Row, format_markdown, format_number, format_ratio, format_table, missed

ROWS = [
    Row("cold start", 766.4, "ms", baseline=198.2, target="ratio <= 2.0", met=False),
    Row("requests, GET one note", 2, "requests", target="<= 3", met=True),
    Row("delta bytes vs snapshot", 898, "B", baseline=9_034_557, target="ratio < 0.01", met=True),
    Row("reference figure", 318.4, "MiB"),
]


def test_ratio_is_ours_over_the_baseline() -> None:
    assert ROWS[0].ratio == pytest.approx(766.4 / 198.2)
    assert ROWS[1].ratio is None
    assert Row("texts", 0, "texts", baseline=0).ratio is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2, "2"),
        (9_034_557, "9,034,557"),
        (766.4, "766"),
        (1234.5, "1,234"),
        (11.04, "11.0"),
        (3.034, "3.03"),
        (0.4257, "0.43"),
        (0.0000994, "0.000099"),
    ],
)
def test_figures_are_rounded_for_reading(value: float, shown: str) -> None:
    assert format_number(value) == shown


def test_ratios_keep_two_decimals_and_two_digits_when_tiny() -> None:
    assert format_ratio(None) == ""
    assert format_ratio(766.4 / 198.2) == "3.87"
    assert format_ratio(1.0) == "1.00"
    assert format_ratio(898 / 9_034_557) == "0.000099"


def test_plain_table_is_aligned_with_the_figures_to_the_right() -> None:
    lines = format_table(ROWS).splitlines()
    header = lines[0]
    assert header.split() == ["measure", "ours", "baseline", "ratio", "target", "met"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert len(lines) == 2 + len(ROWS)
    ours_end = header.index("ours") + len("ours")
    baseline_end = header.index("baseline") + len("baseline")
    target_start = header.index("target")
    expected = [
        ("766 ms", "198 ms", "ratio <= 2.0", "NO"),
        ("2 requests", "", "<= 3", "yes"),
        ("898 B", "9,034,557 B", "ratio < 0.01", "yes"),
        ("318 MiB", "", "", ""),
    ]
    for line, (ours, baseline, target, met) in zip(lines[2:], expected, strict=True):
        assert line[:ours_end].endswith(ours)
        assert line[:baseline_end].endswith(baseline)
        assert line[ours_end:baseline_end].strip() == baseline
        assert line[target_start:].startswith(target)
        assert line.endswith(met or "MiB")
    assert "3.87" in lines[2]
    assert "0.000099" in lines[4]


def test_markdown_table_has_a_header_alignment_and_a_bold_miss() -> None:
    lines = format_markdown(ROWS).splitlines()
    assert lines[0] == "| measure | ours | baseline | ratio | target | met |"
    assert lines[1] == "| --- | ---: | ---: | ---: | --- | --- |"
    assert lines[2] == "| cold start | 766 ms | 198 ms | 3.87 | ratio <= 2.0 | **no** |"
    assert lines[3] == "| requests, GET one note | 2 requests |  |  | <= 3 | yes |"
    assert lines[5] == "| reference figure | 318 MiB |  |  |  |  |"


def test_markdown_escapes_a_pipe_in_a_measure() -> None:
    table = format_markdown([Row("a | b", 1, "")])
    assert "| a \\| b | 1 |" in table


def test_missed_targets_decide_the_exit_code() -> None:
    assert missed(ROWS) == [ROWS[0]]
    assert Report(rows=ROWS).exit_code == 1
    assert Report(rows=ROWS[1:]).exit_code == 0
    assert Report(rows=ROWS[1:], failed=["sync"]).exit_code == 1
    assert Report(notes=["bench/x.py has no measure(); skipped"]).exit_code == 0


def test_rows_survive_the_trip_from_a_benchmark_interpreter() -> None:
    assert rows_from_json(rows_to_json(ROWS)) == ROWS


def test_render_puts_the_machine_first_and_the_misses_last() -> None:
    report = Report(rows=ROWS, notes=["bench/checks.py has no measure(); skipped"])
    text = render(report, "Some CPU, 2 CPUs, 8.0 GiB, Python 3.11.7, 2026-11-26 12:00 UTC")
    lines = text.splitlines()
    assert lines[0] == "Machine: Some CPU, 2 CPUs, 8.0 GiB, Python 3.11.7, 2026-11-26 12:00 UTC"
    assert lines[-2] == "bench/checks.py has no measure(); skipped"
    assert lines[-1] == "target missed: cold start (ratio <= 2.0)"
    markdown = render(report, "Some CPU", markdown=True).splitlines()
    assert "| cold start | 766 ms | 198 ms | 3.87 | ratio <= 2.0 | **no** |" in markdown
    assert markdown[-1] == "- target missed: cold start (ratio <= 2.0)"


def write(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.py").write_text(text)


def test_discovery_finds_every_benchmark_but_the_machinery(tmp_path: Path) -> None:
    for name in ("__init__", "support", "report", "accounts", "cold_start", "load", "sync"):
        write(tmp_path, name, "")
    (tmp_path / "notes.txt").write_text("")
    assert discover(tmp_path) == ["cold_start", "sync", "accounts", "load"]


def test_the_real_bench_folder_holds_the_known_benchmarks() -> None:
    names = discover()
    for name in ("cold_start", "requests_per_call", "sync", "reminders", "media"):
        assert name in names
        assert defines_measure(BENCH / f"{name}.py")
    assert not {"support", "report", "__init__"} & set(names)


def test_measure_is_found_by_reading_not_importing(tmp_path: Path) -> None:
    write(tmp_path, "defined", "import sys\nsys.exit(3)\n\ndef measure():\n    return []\n")
    write(tmp_path, "assigned", "measure = print\n")
    write(tmp_path, "imported", "from elsewhere import run as measure\n")
    write(tmp_path, "nested", "class Counter:\n    def measure(self):\n        pass\n")
    write(tmp_path, "missing", "def main():\n    pass\n")
    assert defines_measure(tmp_path / "defined.py")
    assert defines_measure(tmp_path / "assigned.py")
    assert defines_measure(tmp_path / "imported.py")
    assert not defines_measure(tmp_path / "nested.py")
    assert not defines_measure(tmp_path / "missing.py")


def test_a_module_without_measure_is_skipped_with_a_note(tmp_path: Path) -> None:
    write(tmp_path, "checks", "def check():\n    pass\n")
    report = collect(["checks"], folder=tmp_path)
    assert report.rows == []
    assert report.failed == []
    assert report.notes == ["bench/checks.py has no measure(); skipped"]
    assert report.exit_code == 0
