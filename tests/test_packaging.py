"""simlab installs as one distribution: its public names, its wheel, its static checks."""

import importlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "simulator", "diagnostics", "simlab")


def _modules() -> list[str]:
    """Every module of the distribution's packages, found on disk (a new one cannot be missed)."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


MODULES = _modules()


@pytest.mark.parametrize("name", MODULES)
def test_public_names_exist_and_are_documented(name):
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no docstring"
    if not hasattr(module, "__all__") and hasattr(module, "__path__"):
        return  # a package that re-exports nothing
    exported = module.__all__
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    for public in exported:
        assert hasattr(module, public), f"{name}.__all__ names {public}, which does not exist"


BUILD_LEFTOVERS = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "simlab-runs"
)
"""What a working tree holds that is not source: setuptools would ship a stale `build/lib`."""


def test_wheel_ships_the_packages_and_scenario_files(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=BUILD_LEFTOVERS)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("simlab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {n for n in names if n.endswith(".py") and not n.startswith("simlab/scenarios/")}
    on_disk = {
        str(p.relative_to(ROOT)) for package in PACKAGES for p in (ROOT / package).rglob("*.py")
    }
    assert shipped == on_disk, f"modules shipped but not in the tree: {shipped - on_disk}"
    packages = {
        str(p.parent.relative_to(ROOT))
        for package in PACKAGES
        for p in (ROOT / package).rglob("__init__.py")
    }
    for package in packages:
        assert f"{package}/__init__.py" in names, f"{package} is not in pyproject's packages"
    bundled = {
        f"simlab/scenarios/{p.relative_to(ROOT / 'scenarios')}"
        for p in (ROOT / "scenarios").rglob("*.yaml")
    }
    assert bundled <= names, f"scenario files missing from the wheel: {bundled - names}"
    assert "simlab/scenarios/customers/savanna-trackers.yaml" in names
    console = {
        str(p.relative_to(ROOT))
        for folder in ("templates", "static")
        for p in (ROOT / "diagnostics" / "web" / folder).iterdir()
    }
    assert console <= names, f"console pages or assets missing from the wheel: {console - names}"
    assert not any(n.startswith("tests/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "simlab = simlab.commands:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    # The installed wheel finds its bundled customer file from anywhere.
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from simlab.commands import main; main()",
            "onboard",
            "savanna-trackers",
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
    )
    assert '"sims": 50200' in run.stdout
    # ...and the customer wording's language files.
    languages = {f"diagnostics/diagnosis/languages/{language}.yaml" for language in ("en", "sv")}
    assert languages <= names, f"language files missing from the wheel: {languages - names}"
    wording = subprocess.run(
        [
            sys.executable,
            "-c",
            "from diagnostics.diagnosis.messages import TEMPLATES; print(sorted(TEMPLATES))",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
    )
    assert wording.stdout.strip() == "['en', 'sv']"


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_static_checks_are_clean(command):
    tool = shutil.which(command[0], path=str(Path(sys.executable).parent))
    assert tool, f"{command[0]} is not installed next to {sys.executable}; install simlab[dev]"
    result = subprocess.run(
        [tool, *command[1:]], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("script", "figure"),
    [
        ("onboarding.py", "wall_s"),
        ("world.py", "wall_s"),
        ("detection.py", "sweep_1m_devices_ms"),
        ("publish.py", "sink_qos0_msgs_per_s"),
        ("cli.py", "cli_startup_s"),
        ("hardening.py", "garbage_msgs_per_s_survived"),
        ("console.py", "page_p99_ms.device"),
        ("scale.py", "bulk_vs_simpy"),
        ("onboarding_load.py", "answer_key_met"),
        ("service_scale.py", "service_bytes_per_device"),
    ],
)
def test_benchmarks_run_as_a_quick_smoke(script, figure):
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    figures = dict(line.split("=", 1) for line in run.stdout.splitlines() if "=" in line)
    assert float(figures[figure]) > 0
