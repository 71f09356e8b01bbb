"""The borough parameter files: complete, valid for main.bicep, and alike but for what differs.

pycep cannot read ``.bicepparam`` files, and they are simple, so they are read here line by line:
one ``using`` line and one ``param name = value`` per line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.infra.bicep import INFRA, autoscale_parameters, autoscale_value_problem, parse

TENANTS = INFRA / "tenants"
BOROUGHS = ("kensington-and-chelsea", "westminster", "hammersmith-and-fulham")
# What truly differs between boroughs. Entra ids are read from the environment (the same
# variable names everywhere), so they need not be listed.
DIFFERS = frozenset({"environmentName", "serviceName", "smsSender"})


def read_bicepparam(path: Path) -> tuple[str, dict[str, str]]:
    using = ""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        if match := re.fullmatch(r"using '([^']+)'", line):
            using = match.group(1)
        elif match := re.fullmatch(r"param (\w+) = (.+)", line):
            assert match.group(1) not in values, f"{path.name}: {match.group(1)} set twice"
            values[match.group(1)] = match.group(2)
        else:
            raise AssertionError(f"{path.name}: cannot read {line!r}")
    return using, values


def differing(files: dict[str, dict[str, str]]) -> set[str]:
    names = set().union(*files.values())
    return {name for name in names if len({values.get(name) for values in files.values()}) > 1}


def _string(value: str) -> str:
    assert re.fullmatch(r"'[^']*'", value), f"{value} is not a plain string"
    return value[1:-1]


def test_there_is_one_parameter_file_per_borough() -> None:
    assert sorted(path.stem for path in TENANTS.glob("*.bicepparam")) == sorted(BOROUGHS)


@pytest.mark.parametrize("borough", BOROUGHS)
def test_parameter_file_sets_what_main_bicep_needs(borough: str) -> None:
    using, values = read_bicepparam(TENANTS / f"{borough}.bicepparam")
    assert (TENANTS / using).resolve() == INFRA / "main.bicep"
    parameters = parse(INFRA / "main.bicep")["parameters"]
    required = {name for name, spec in parameters.items() if spec.get("default") is None}
    assert set(values) - set(parameters) == set()
    assert required - set(values) == set()


@pytest.mark.parametrize("borough", BOROUGHS)
def test_parameter_values_fit_their_limits(borough: str) -> None:
    _, values = read_bicepparam(TENANTS / f"{borough}.bicepparam")
    assert _string(values["environmentName"]) == borough
    assert 3 <= len(_string(values["environmentName"])) <= 24
    sender = _string(values["smsSender"])
    assert re.fullmatch(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{3,11}", sender), sender
    assert 3 <= len(_string(values["serviceName"])) <= 60
    for name in ("staffTenantId", "staffApiClientId", "familyTenantId", "familyAppClientId"):
        assert re.fullmatch(r"readEnvironmentVariable\('FAMILYSTORY_[A-Z_]+'\)", values[name]), name


@pytest.mark.parametrize("borough", BOROUGHS)
def test_an_autoscale_maximum_a_borough_sets_is_one_cosmos_db_takes(borough: str) -> None:
    _, values = read_bicepparam(TENANTS / f"{borough}.bicepparam")
    for name in autoscale_parameters(INFRA / "main.bicep") & set(values):
        assert autoscale_value_problem(int(values[name])) is None, name


def test_autoscale_values_outside_cosmos_db_limits_are_refused() -> None:
    assert [
        value
        for value in (0, 999, 1000, 1500, 4000, 1_000_000, 1_001_000)
        if autoscale_value_problem(value)
    ] == [0, 999, 1500, 1_001_000]


def test_boroughs_differ_only_in_what_truly_differs() -> None:
    files = {borough: read_bicepparam(TENANTS / f"{borough}.bicepparam")[1] for borough in BOROUGHS}
    assert differing(files) == DIFFERS


def test_difference_check_notices_a_borough_specific_setting() -> None:
    files = {
        "a": {"environmentName": "'a'", "location": "'uksouth'"},
        "b": {"environmentName": "'b'", "location": "'ukwest'"},
        "c": {"environmentName": "'c'", "location": "'uksouth'", "enableMalwareScanning": "true"},
    }
    assert differing(files) == {"environmentName", "location", "enableMalwareScanning"}


def test_senders_are_distinct() -> None:
    senders = [read_bicepparam(TENANTS / f"{b}.bicepparam")[1]["smsSender"] for b in BOROUGHS]
    assert len(set(senders)) == len(BOROUGHS)
