"""Writing a scenario of one's own: copies find the bundled files, `new` starts one, typos help."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from simlab.commands import app
from simlab.resources import bundled

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name", ["lost-giraffe", "psm-water-meters"])
def test_a_copied_scenario_finds_the_bundled_customer_and_world(here, name):
    shutil.copy(bundled() / f"{name}.yaml", here / "my.yaml")
    assert invoke("scenarios", "validate", "my.yaml").exit_code == 0
    (here / "elsewhere").mkdir()
    (here / "elsewhere" / "x").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(here / "elsewhere" / "x")
        result = invoke("scenarios", "validate", "../../my.yaml")
    assert result.exit_code == 0, result.output


def test_a_customer_file_beside_the_scenario_comes_first(here):
    text = (bundled() / "lost-giraffe.yaml").read_text()
    (here / "customers").mkdir()
    (here / "customers" / "savanna-trackers.yaml").write_text("not: a customer\n")
    (here / "my.yaml").write_text(text)
    result = invoke("scenarios", "validate", "my.yaml")
    assert result.exit_code == 2
    assert "customers/savanna-trackers.yaml" in result.stderr  # the local file was read


def test_a_missing_customer_names_the_scenario_line_and_where_it_looked(here):
    text = (bundled() / "lost-giraffe.yaml").read_text()
    (here / "my.yaml").write_text(text.replace("savanna-trackers.yaml", "nobody.yaml"))
    result = invoke("scenarios", "validate", "my.yaml")
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    written = next(n for n, t in enumerate(text.splitlines(), 1) if "customer:" in t)
    assert line.startswith(
        f"my.yaml:{written}: world.customer: no customer file 'customers/nobody.yaml' "
        "beside this scenario (customers/nobody.yaml) or among the bundled files ("
    )
    assert str(bundled() / "customers" / "nobody.yaml") in line


def test_a_missing_world_file_says_where_it_looked(here):
    text = (bundled() / "psm-water-meters.yaml").read_text()
    (here / "my.yaml").write_text(text.replace("malarvatten-meters.yaml", "nowhere.yaml"))
    result = invoke("scenarios", "validate", "my.yaml")
    assert result.exit_code == 2
    assert "my.yaml:" in result.stderr
    assert ": world: no world file 'worlds/nowhere.yaml' beside this scenario" in result.stderr


def test_new_writes_a_commented_scenario_that_validates(here):
    result = invoke("scenarios", "new", "my-herd")
    assert result.exit_code == 0, result.output
    text = (here / "my-herd.yaml").read_text()
    assert text.startswith("#")
    assert "title: My herd" in text
    assert invoke("scenarios", "validate", "my-herd.yaml").exit_code == 0


def test_new_from_a_bundled_scenario_validates_and_never_overwrites(here):
    assert invoke("scenarios", "new", "otter", "--from", "sea-otter-in-france").exit_code == 0
    assert "title: The sea otter in France" in (here / "otter.yaml").read_text()
    assert invoke("scenarios", "validate", "otter.yaml").exit_code == 0
    (here / "otter.yaml").write_text("mine\n")
    again = invoke("scenarios", "new", "otter")
    assert again.exit_code == 2
    assert "already exists" in again.stderr
    assert (here / "otter.yaml").read_text() == "mine\n"


def test_new_refuses_a_path_and_an_unknown_model(here):
    assert invoke("scenarios", "new", "../up").exit_code == 2
    result = invoke("scenarios", "new", "x", "--from", "lost-girafe")
    assert result.exit_code == 2
    assert "did you mean lost-giraffe?" in result.stderr
    assert not (here / "x.yaml").exists()


@pytest.mark.parametrize(
    "command",
    [("run", "lost-girafe"), ("train", "lost-girafe"), ("scenarios", "show", "lost-girafe")],
)
def test_a_mistyped_scenario_name_suggests_the_near_one(here, command):
    result = invoke(*command)
    assert result.exit_code == 2
    assert "lost-girafe: no such scenario or file; did you mean lost-giraffe?" in result.stderr
