"""Onboarding a customer definition file: validation of the whole file, then a bulk apply.

The bad-file tests edit BASE, a small valid definition whose line numbers are
listed next to it, so the line each problem must point at can be read off.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import simlab.commands.customers
from protocol.identifiers import Iccid
from simulator.errors import OnboardingConflictError, Problem, SpecError, UnknownSimError
from simulator.platform.onboarding import load_customer, parse_customer
from simulator.platform.platform import Platform

SAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "customers" / "savanna-trackers.yaml"


def luhn_digit(body: str) -> int:
    """Independent Luhn: double every second digit from the right of the body, sum the digits."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return (10 - total % 10) % 10


def iccid_of(body: int) -> str:
    return f"{body}{luhn_digit(str(body))}"


# ---- a compact valid definition with known line numbers -------------------------------------

BODY_A = 894600100000000000  # sim_ranges[0]: 100 SIMs, bodies ...000 to ...099
BODY_B = 894600100000001000  # sim_ranges[1]: 50 SIMs, bodies ...1000 to ...1049
ICCID_A = str(Iccid.from_body(str(BODY_A)))
ICCID_B = str(Iccid.from_body(str(BODY_B)))

BASE = f"""\
customer: Acme Meters
accounts:
  - id: acme
    name: Acme Meters
    kind: enterprise
  - id: acme-north
    name: Acme North
    kind: business_unit
    parent: acme
communication_plans:
  - name: meters
    apns:
      - name: iot.public
      - name: meters.acme
        private: true
        tunnel: acme-hq
    networks:
      - country: SE
    radio_types: [LTE-M]
rate_plans:
  - name: meter-1mb
    allowance: 1 MB
  - name: meter-10mb
    allowance: 10 MB
tunnels:
  - name: acme-hq
    peer: 192.0.2.1
    subnets: [10.0.0.0/16]
sim_ranges:
  - first_iccid: "{ICCID_A}"
    count: 100
    account: acme-north
    communication_plan: meters
    rate_plan: meter-1mb
    first_imsi: "240070000000000"
  - first_iccid: "{ICCID_B}"
    count: 50
    account: acme
    communication_plan: meters
    rate_plan: meter-10mb
    first_imsi: "240070000001000"
automation_rules:
  - name: nearly-out
    trigger: usage_threshold
    percent: 80
    action:
      notify: 80% of the allowance used
"""

# The lines of BASE the tests point at (checked by test_base_lines_are_where_the_tests_expect).
BASE_LINES = {
    6: "  - id: acme-north",
    9: "    parent: acme",
    14: "      - name: meters.acme",
    16: "        tunnel: acme-hq",
    19: "    radio_types: [LTE-M]",
    21: "  - name: meter-1mb",
    22: "    allowance: 1 MB",
    23: "  - name: meter-10mb",
    24: "    allowance: 10 MB",
    27: "    peer: 192.0.2.1",
    30: f'  - first_iccid: "{ICCID_A}"',
    31: "    count: 100",
    33: "    communication_plan: meters",
    36: f'  - first_iccid: "{ICCID_B}"',
    37: "    count: 50",
    38: "    account: acme",
    40: "    rate_plan: meter-10mb",
    41: '    first_imsi: "240070000001000"',
    43: "  - name: nearly-out",
    45: "    percent: 80",
}


def edited(*changes: tuple[str, str], text: str = BASE) -> str:
    """BASE with each (old, new) applied; `old` must occur exactly once."""
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def write(tmp_path: Path, text: str, name: str = "customer.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        load_customer(path)
    assert caught.value.problems, "a SpecError must list at least one problem"
    return caught.value.problems


def test_base_lines_are_where_the_tests_expect():
    lines = BASE.splitlines()
    for number, content in BASE_LINES.items():
        assert lines[number - 1] == content, f"line {number}"


def test_base_is_valid_and_onboards():
    spec = parse_customer(BASE, filename="base.yaml")
    summary = Platform().onboard(spec)
    assert (summary.accounts, summary.sims, len(summary.ranges)) == (2, 150, 2)
    assert summary.ranges[0].last == iccid_of(BODY_A + 99)
    assert summary.ranges[1].last == iccid_of(BODY_B + 49)


# ---- 1. the bundled sample ------------------------------------------------------------------

SAMPLE_FIRST = (894620001000000000, 894620001000060000)
SAMPLE_COUNT = (50_000, 200)


@pytest.fixture
def sample() -> tuple[Platform, object]:
    platform = Platform()
    summary = platform.onboard(load_customer(SAMPLE))
    return platform, summary


def test_sample_validates():
    spec = load_customer(SAMPLE)
    assert spec.customer == "Savanna Trackers AB"
    assert [str(r.first_iccid) for r in spec.sim_ranges] == [
        iccid_of(body) for body in SAMPLE_FIRST
    ]


def test_sample_onboarding_summary(sample):
    platform, summary = sample
    assert summary.customer == "Savanna Trackers AB"
    assert summary.accounts == 3
    assert summary.communication_plans == 2
    assert summary.rate_plans == 2
    assert summary.tunnels == 1
    assert summary.automation_rules == 5
    assert summary.sims == 50_200
    assert len(platform.sims) == 50_200
    assert len(summary.ranges) == 2
    assert summary.audit_entries == 2
    assert len(platform.audit) == 2
    assert [(r.count, r.account, r.state) for r in summary.ranges] == [
        (50_000, "savanna-kenya", "TEST_READY"),
        (200, "savanna-sweden", "INVENTORY"),
    ]


def test_sample_one_audit_entry_per_range(sample):
    platform, _ = sample
    entries = list(platform.audit)
    assert [(e.first, e.count, e.old, e.new) for e in entries] == [
        (0, 50_000, -1, 0),  # TEST_READY
        (50_000, 200, -1, 1),  # INVENTORY
    ]
    for entry, first, count in zip(entries, SAMPLE_FIRST, SAMPLE_COUNT, strict=True):
        assert iccid_of(first) in entry.reason
        assert iccid_of(first + count - 1) in entry.reason


def test_sample_sims_by_state(sample):
    platform, _ = sample
    assert platform.summary_by_state() == {"TEST_READY": 50_000, "INVENTORY": 200}


def test_sample_last_iccid_of_each_range(sample):
    _, summary = sample
    expected_last = [
        iccid_of(first + count - 1) for first, count in zip(SAMPLE_FIRST, SAMPLE_COUNT, strict=True)
    ]
    assert expected_last == ["8946200010000499999", "8946200010000601990"]
    assert [r.first for r in summary.ranges] == [iccid_of(b) for b in SAMPLE_FIRST]
    assert [r.last for r in summary.ranges] == expected_last


def test_sample_row_lookup(sample):
    platform, _ = sample
    start = 0
    for first, count in zip(SAMPLE_FIRST, SAMPLE_COUNT, strict=True):
        for offset in (0, count // 2, count - 1):
            iccid = iccid_of(first + offset)
            row = platform.row(iccid)
            assert row == start + offset
            assert str(platform.sims.iccid(row)) == iccid
            assert platform.row(Iccid(iccid)) == row
        start += count
    assert platform.state(iccid_of(SAMPLE_FIRST[0] + 123)).name == "TEST_READY"
    assert platform.state(iccid_of(SAMPLE_FIRST[1] + 123)).name == "INVENTORY"


@pytest.mark.parametrize(
    "body",
    [
        SAMPLE_FIRST[0] - 1,  # just before the first range
        SAMPLE_FIRST[0] + SAMPLE_COUNT[0],  # just after the first range
        SAMPLE_FIRST[1] - 1,  # just before the second range
        SAMPLE_FIRST[1] + SAMPLE_COUNT[1],  # just after the second range
    ],
)
def test_sample_iccid_just_outside_a_range_is_unknown(sample, body):
    platform, _ = sample
    iccid = iccid_of(body)
    with pytest.raises(UnknownSimError) as caught:
        platform.row(iccid)
    assert caught.value.iccid == iccid
    assert iccid in str(caught.value)


# ---- 2. bad files: file, line, field and message --------------------------------------------

WRONG_CHECK = (luhn_digit(str(BODY_A)) + 1) % 10

BAD_FILES = [
    pytest.param(
        edited(("rate_plan: meter-10mb", "rate_plan: meter-100mb")),
        40,
        "sim_ranges[1].rate_plan",
        ("unknown rate plan 'meter-100mb'", "meter-1mb", "meter-10mb"),
        id="unknown-rate-plan",
    ),
    pytest.param(
        edited(
            (
                "    communication_plan: meters\n    rate_plan: meter-1mb",
                "    communication_plan: sensors\n    rate_plan: meter-1mb",
            )
        ),
        33,
        "sim_ranges[0].communication_plan",
        ("unknown communication plan 'sensors'", "meters"),
        id="unknown-communication-plan",
    ),
    pytest.param(
        edited(("    account: acme\n", "    account: ghost\n")),
        38,
        "sim_ranges[1].account",
        ("unknown account 'ghost'", "acme-north"),
        id="unknown-account",
    ),
    pytest.param(
        # the later range starts inside the earlier one
        edited((ICCID_B, iccid_of(BODY_A + 50))),
        36,
        "sim_ranges[1].first_iccid",
        ("ICCID range overlaps", "sim_ranges[0]"),
        id="overlapping-iccids",
    ),
    pytest.param(
        # the later range is numerically first, and reaches into the earlier one
        edited((ICCID_B, iccid_of(BODY_A - 10))),
        36,
        "sim_ranges[1].first_iccid",
        ("ICCID range overlaps", "sim_ranges[0]"),
        id="overlapping-iccids-later-range-lower",
    ),
    pytest.param(
        edited(('"240070000001000"', '"240070000000099"')),
        41,
        "sim_ranges[1].first_imsi",
        ("IMSI range overlaps", "sim_ranges[0]"),
        id="overlapping-imsis",
    ),
    pytest.param(
        edited((ICCID_A, f"{BODY_A}{WRONG_CHECK}")),
        30,
        "sim_ranges[0].first_iccid",
        (
            f"{BODY_A}{WRONG_CHECK}",
            f"check digit is {WRONG_CHECK}",
            f"expected {luhn_digit(str(BODY_A))}",
        ),
        id="wrong-check-digit",
    ),
    pytest.param(
        edited(("count: 100", "count: -5")),
        31,
        "sim_ranges[0].count",
        ("greater than or equal to 1", "-5"),
        id="negative-count",
    ),
    pytest.param(
        edited(("count: 100", "count: 0")),
        31,
        "sim_ranges[0].count",
        ("greater than or equal to 1", "got 0"),
        id="zero-count",
    ),
    pytest.param(
        edited(("    allowance: 1 MB", "    allowance: 1 MB\n    colour: blue")),
        23,
        "rate_plans[0].colour",
        ("unknown field",),
        id="unknown-field",
    ),
    pytest.param(
        edited(("count: 50", 'count: "many"')),
        37,
        "sim_ranges[1].count",
        ("valid integer", "'many'"),
        id="wrong-type",
    ),
    pytest.param(
        # the problem points at the start of the entry that lacks the field
        edited(("    rate_plan: meter-1mb\n", "    # rate_plan left out\n")),
        30,
        "sim_ranges[0].rate_plan",
        ("required field is missing",),
        id="missing-required-field",
    ),
    pytest.param(
        edited(("        tunnel: acme-hq", "        # tunnel left out")),
        14,
        "communication_plans[0].apns[1]",
        ("private APN 'meters.acme'", "tunnel"),
        id="private-apn-without-tunnel",
    ),
    pytest.param(
        edited(("        tunnel: acme-hq", "        tunnel: acme-dc")),
        16,
        "communication_plans[0].apns[1].tunnel",
        ("unknown tunnel 'acme-dc'", "acme-hq"),
        id="undefined-tunnel",
    ),
    pytest.param(
        edited(
            ("  - name: meter-10mb", "  - name: meter-1mb"),
            ("rate_plan: meter-10mb", "rate_plan: meter-1mb"),
        ),
        23,
        "rate_plans[1].name",
        ("'meter-1mb'", "already defined", "entry 0"),
        id="duplicate-plan-name",
    ),
    pytest.param(
        edited(("parent: acme", "parent: acme-south")),
        9,
        "accounts[1].parent",
        ("unknown account 'acme-south'", "acme, acme-north"),
        id="unknown-parent-account",
    ),
    pytest.param(
        edited(("    percent: 80", "    # percent left out")),
        43,
        "automation_rules[0]",
        ("usage_threshold", "needs percent"),
        id="rule-without-its-parameter",
    ),
    pytest.param(
        edited(("allowance: 10 MB", "allowance: 5 XB")),
        24,
        "rate_plans[1].allowance",
        ("unknown unit 'XB'", "'5 XB'", "MB"),
        id="unknown-data-unit",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "fragments"), BAD_FILES)
def test_bad_file_names_file_line_field_and_problem(tmp_path, text, line, field, fragments):
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    [problem] = problems
    assert problem.file == str(path)
    assert (problem.line, problem.field) == (line, field)
    for fragment in fragments:
        assert fragment in problem.message
    assert str(problem) == f"{path}:{line}: {field}: {problem.message}"


def test_parse_customer_names_the_given_filename():
    with pytest.raises(SpecError) as caught:
        parse_customer(edited(("count: 100", "count: 0")), filename="acme.yaml")
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == ("acme.yaml", 31, "sim_ranges[0].count")


def test_broken_yaml_gives_a_line_and_says_not_valid_yaml(tmp_path):
    path = write(tmp_path, edited(("radio_types: [LTE-M]", "radio_types: [LTE-M")))
    [problem] = problems_of(path)
    assert problem.file == str(path)
    # The '[' is left open on line 19; PyYAML notices at the next key, on line 20.
    assert problem.line == 19
    assert problem.field == ""
    assert problem.message.startswith("not valid YAML: while parsing a flow sequence, expected ")
    assert problem.message.endswith("on line 20")


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "absent.yaml"
    [problem] = problems_of(path)
    assert problem.file == str(path)
    assert problem.line is None
    assert "cannot read the file" in problem.message


def test_several_field_problems_are_all_reported(tmp_path):
    path = write(
        tmp_path,
        edited(
            ("radio_types: [LTE-M]", "radio_types: [LTE-M, 5G]"),
            ("allowance: 1 MB", "allowance: 5 XB"),
            ("peer: 192.0.2.1", "peer: 192.0.2.300"),
            ("count: 100", "count: 0"),
        ),
    )
    problems = problems_of(path)
    assert {p.file for p in problems} == {str(path)}
    assert sorted((p.line, p.field) for p in problems) == [
        (19, "communication_plans[0].radio_types[1]"),
        (22, "rate_plans[0].allowance"),
        (27, "tunnels[0].peer"),
        (31, "sim_ranges[0].count"),
    ]


def test_several_whole_file_problems_are_all_reported(tmp_path):
    path = write(
        tmp_path,
        edited(
            ("parent: acme", "parent: nobody"),
            ("        tunnel: acme-hq", "        tunnel: acme-dc"),
            (ICCID_B, iccid_of(BODY_A + 99)),
            ("rate_plan: meter-10mb", "rate_plan: gold"),
        ),
    )
    problems = problems_of(path)
    assert {p.file for p in problems} == {str(path)}
    assert sorted((p.line, p.field) for p in problems) == [
        (9, "accounts[1].parent"),
        (16, "communication_plans[0].apns[1].tunnel"),
        (36, "sim_ranges[1].first_iccid"),
        (40, "sim_ranges[1].rate_plan"),
    ]


def test_duplicated_key_is_a_problem_at_the_second_line(tmp_path):
    path = write(tmp_path, edited(("count: 100", "count: 100\n    count: 0")))
    [problem] = problems_of(path)
    assert (problem.line, problem.field) == (32, "sim_ranges[0].count")
    assert problem.message == "given twice (lines 31 and 32); keep one"


# ---- 3. nothing is applied ------------------------------------------------------------------


def test_bad_file_never_reaches_platform_onboard(tmp_path, monkeypatch):
    calls: list[object] = []
    real_onboard = Platform.onboard

    def spy(self, spec, **kwargs):
        calls.append(spec)
        return real_onboard(self, spec, **kwargs)

    monkeypatch.setattr(Platform, "onboard", spy)
    bad = write(
        tmp_path, edited(("count: 100", "count: 0"), ("rate_plan: meter-10mb", "rate_plan: x"))
    )
    with pytest.raises(typer.Exit) as caught:
        simlab.commands.customers.onboard(str(bad), as_json=True)
    assert caught.value.exit_code == 2
    assert calls == []
    # the spy does see a good file, so the check above means something
    simlab.commands.customers.onboard(str(write(tmp_path, BASE, "good.yaml")), as_json=True)
    assert len(calls) == 1


def snapshot(platform: Platform) -> tuple[object, ...]:
    return (
        len(platform.sims),
        len(platform.audit),
        [a.id for a in platform.accounts],
        [p.name for p in platform.comm_plans],
        [p.name for p in platform.rate_plans],
        sorted(platform.tunnels),
        len(platform.rules.rules),
        platform.summary_by_state(),
    )


def renamed(text: str) -> str:
    """The same definition under names and IMSIs not yet on the platform."""
    for old, new in (
        ("meters", "gauges"),
        ("meter-", "gauge-"),
        ("acme", "zeta"),
        ("nearly-out", "zeta-nearly-out"),
        ('first_imsi: "24007000000', 'first_imsi: "24007000100'),
    ):
        text = text.replace(old, new)
    return text


def test_iccid_clash_with_onboarded_sims_changes_nothing():
    platform = Platform()
    platform.onboard(parse_customer(BASE))
    before = snapshot(platform)
    fresh = 894600200000000000
    # range 0 is free, range 1 reaches into the SIMs of BASE's range 0
    clashing = parse_customer(
        renamed(edited((ICCID_A, iccid_of(fresh)), (ICCID_B, iccid_of(BODY_A - 10))))
    )
    with pytest.raises(OnboardingConflictError, match=ICCID_A):
        platform.onboard(clashing)
    assert snapshot(platform) == before
    with pytest.raises(UnknownSimError):
        platform.row(iccid_of(fresh))
    # nothing was half-registered: the same names onboard once the ICCIDs are free
    free = parse_customer(
        renamed(edited((ICCID_A, iccid_of(fresh)), (ICCID_B, iccid_of(fresh + 1000))))
    )
    summary = platform.onboard(free)
    assert summary.sims == 150
    assert len(platform.sims) == 300


def test_name_clash_with_onboarded_customer_changes_nothing():
    platform = Platform()
    platform.onboard(parse_customer(BASE))
    before = snapshot(platform)
    with pytest.raises(OnboardingConflictError, match="acme"):
        platform.onboard(parse_customer(edited((ICCID_A, iccid_of(894600300000000000)))))
    assert snapshot(platform) == before


# ---- 4. the real command --------------------------------------------------------------------

PROBLEM_LINE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+): (?P<field>[A-Za-z_][\w.\[\]]*): (?P<message>.+)$"
)


def simlab_command() -> list[str]:
    script = Path(sys.executable).with_name("simlab")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from simlab.commands import main; main()"]


def run_simlab(
    *args: str, cwd: Path, columns: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES"}}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        [*simlab_command(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_onboards_the_bundled_sample_by_name(tmp_path):
    result = run_simlab("onboard", "savanna-trackers", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Savanna Trackers AB" in result.stdout
    assert "50,200" in result.stdout
    assert result.stderr == ""


def test_cli_json_summary(tmp_path):
    result = run_simlab("onboard", "savanna-trackers", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["customer"] == "Savanna Trackers AB"
    assert payload["sims"] == 50_200
    assert payload["audit_entries"] == 2
    assert payload["by_state"] == {"TEST_READY": 50_000, "INVENTORY": 200}
    assert [r["last"] for r in payload["ranges"]] == ["8946200010000499999", "8946200010000601990"]


MULTI_BAD = edited(
    ("allowance: 1 MB", "allowance: 5 XB"),
    ("count: 100", "count: 0"),
    ("    account: acme\n", "    account: ghost\n"),
)


def test_cli_bad_file_exit_2_one_line_per_problem(tmp_path):
    path = write(tmp_path, MULTI_BAD)
    expected = [str(p) for p in problems_of(path)]
    assert len(expected) == 2  # field problems hide the whole-file ones until they are fixed
    # a wide console, so that the format is checked apart from line wrapping (see below)
    for args in (("onboard", str(path)), ("onboard", str(path), "--json")):
        result = run_simlab(*args, cwd=tmp_path, columns=1000)
        assert result.returncode == 2
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert lines == expected
        parsed = [PROBLEM_LINE.match(line) for line in lines]
        assert all(parsed), lines
        assert [(m["file"], int(m["line"]), m["field"]) for m in parsed] == [
            (str(path), 22, "rate_plans[0].allowance"),
            (str(path), 31, "sim_ranges[0].count"),
        ]


def test_cli_bad_file_whole_file_problems(tmp_path):
    path = write(
        tmp_path,
        edited(("    account: acme\n", "    account: ghost\n"), ("parent: acme", "parent: x")),
    )
    result = run_simlab("onboard", str(path), cwd=tmp_path, columns=1000)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{path}:9: accounts[1].parent: unknown account 'x' (defined: acme, acme-north)",
        f"{path}:38: sim_ranges[1].account: unknown account 'ghost' (defined: acme, acme-north)",
    ]


def test_cli_problem_lines_are_not_wrapped(tmp_path):
    deep = tmp_path / "customers" / "acme-meters-and-sensors" / "2026"
    deep.mkdir(parents=True)
    path = write(deep, MULTI_BAD)
    result = run_simlab("onboard", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [str(p) for p in problems_of(path)]


def test_cli_summary_shows_whole_iccids(tmp_path):
    result = run_simlab("onboard", "savanna-trackers", cwd=tmp_path)
    assert result.returncode == 0
    assert "8946200010000499999" in result.stdout
