"""`simlab report`: a real run of the lost giraffe drawn as one self-contained HTML page."""

from __future__ import annotations

import html
import json
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest
from typer.testing import CliRunner

from simlab.commands import app
from simlab.report import ReportError, fleet_status, load_run, write_report
from simlab.report_plots import STATUSES
from simlab.run import RunOptions, run_scenario
from simlab.scenario import load_scenario

pytestmark = pytest.mark.broker

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class Page(HTMLParser):
    """Checks nesting and gathers what the assertions need: svgs, links, text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.svgs = 0
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.svgs += tag == "svg"
        self.links += [v or "" for k, v in attrs if k in {"src", "href", "xlink:href"}]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self.links += [v or "" for k, v in attrs if k in {"src", "href", "xlink:href"}]

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def run_dir(mosquitto, tmp_path_factory):
    out = tmp_path_factory.mktemp("giraffe") / "run"
    run_scenario(
        load_scenario("lost-giraffe"),
        "lost-giraffe",
        RunOptions(out=out, broker=mosquitto.url),
    )
    return out


def _parse(path):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def test_the_report_of_a_real_run(run_dir, tmp_path):
    target = tmp_path / "giraffe.html"
    result = CliRunner().invoke(app, ["report", str(run_dir), "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file()
    raw = target.read_text(encoding="utf-8")
    page = _parse(target)
    assert page.problems == []
    assert page.stack == []
    assert page.svgs == 3
    assert {"html", "head", "body", "title", "table"} <= page.tags
    assert not page.tags & {"script", "link", "img", "iframe", "object"}
    assert all(not link.startswith(("http://", "https://", "//")) for link in page.links)
    assert "http://" not in raw
    assert "https://" not in raw
    text = " ".join(page.text)
    card = json.loads((run_dir / "scorecard.json").read_text())
    for device in card["devices"]:
        assert device["device_id"] in text
        assert device["expected"] in text
        assert device["diagnosed"] in text
    diagnoses = json.loads((run_dir / "diagnoses.json").read_text())
    assert diagnoses
    for entry in diagnoses:
        for message in entry["messages"].values():
            assert html.escape(message["body"]) in raw  # escaped in the file
            assert message["body"] in "".join(page.text)  # the text a reader sees
            assert html.escape(message["subject"]) in raw
    languages = {lang for entry in diagnoses for lang in entry["messages"]}
    assert languages == {"en", "sv"}, "Swedish as well as English"
    assert "hours since 2026-03-02 00:00 (UTC)" in text  # the status plot's time axis
    assert "battery_depleted: collar-0007, from 6.0 h" in text  # the fault, marked


def test_messages_are_escaped(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    diagnoses = json.loads((copy / "diagnoses.json").read_text())
    diagnoses[0]["messages"]["en"]["subject"] = "<script>alert('x')</script> & more"
    diagnoses[0]["messages"]["en"]["body"] = "Dear <b>customer</b> & co."
    (copy / "diagnoses.json").write_text(json.dumps(diagnoses))
    raw = write_report(copy).read_text(encoding="utf-8")
    assert "<script>" not in raw
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in raw
    assert "Dear &lt;b&gt;customer&lt;/b&gt; &amp; co." in raw
    assert _parse(copy / "report.html").problems == []


def test_fleet_status_counts_every_device_at_every_moment(run_dir):
    files = load_run(run_dir)
    status = files.status
    assert status.times[0] == files.start
    assert status.times[-1] == files.end
    assert np.all(np.diff(status.times) > 0)
    assert set(status.counts.sum(axis=0)) == {24}  # every collar, always in one verdict
    offline = status.counts[STATUSES.index("OFFLINE")]
    assert offline[0] == 0
    assert offline[-1] == 1  # collar 7, flat


@pytest.mark.parametrize("missing", ["run.json", "scorecard.json", "diagnoses.json"])
def test_a_run_directory_missing_a_file(run_dir, tmp_path, missing):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / missing).unlink()
    result = CliRunner().invoke(app, ["report", str(copy)])
    assert result.exit_code == 2
    assert f"{copy / missing}: missing" in result.output
    assert not (copy / "report.html").exists()


def test_a_broken_run_directory(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "scorecard.json").write_text('{"devices": [')
    result = CliRunner().invoke(app, ["report", str(copy)])
    assert result.exit_code == 2
    assert f"{copy / 'scorecard.json'}: broken JSON at line 1" in result.output
    (copy / "scorecard.json").write_text("{}")
    result = CliRunner().invoke(app, ["report", str(copy)])
    assert result.exit_code == 2
    assert "scorecard.json: no devices" in result.output
    shutil.copy(run_dir / "scorecard.json", copy / "scorecard.json")
    (copy / "diagnostics.sqlite").unlink()
    result = CliRunner().invoke(app, ["report", str(copy)])
    assert result.exit_code == 2
    assert f"{copy / 'diagnostics.sqlite'}: missing" in result.output
    (copy / "diagnostics.sqlite").write_text("not a database")
    result = CliRunner().invoke(app, ["report", str(copy)])
    assert result.exit_code == 2
    assert "diagnostics.sqlite: not the service's database" in result.output


def test_no_such_directory(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "nowhere: no such run directory" in result.output


def test_fleet_status_of_a_missing_database(tmp_path):
    with pytest.raises(ReportError, match=r"none\.sqlite: missing"):
        fleet_status(tmp_path / "none.sqlite", start=0.0, end=1.0)


def _files(directory):
    return sorted(p.name for p in directory.iterdir())


def test_each_diagnosis_shows_fix_next_step_and_evidence_in_the_customers_zone(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    diagnoses = json.loads((copy / "diagnoses.json").read_text())
    diagnoses[0]["diagnosis"]["next_step"] = "Ask the rangers to look at the collar."
    (copy / "diagnoses.json").write_text(json.dumps(diagnoses))
    page = _parse(write_report(copy))
    text = " ".join(page.text)
    for entry in diagnoses:
        d = entry["diagnosis"]
        assert entry["time_zone"] == "Africa/Nairobi"  # from the SIM's inventory record
        block = text.split(entry["device_id"], 1)[1]
        assert d["fix"] in block
        assert d["next_step"] is None or d["next_step"] in block
        evidence = [e for check in d["checks"] for e in check["evidence"]]
        assert evidence
        for item in evidence:
            assert item["text"] in block
    collar = next(e for e in diagnoses if e["device_id"] == "collar-0007")
    # battery flat from about 12:15 Nairobi time (09:15 UTC), as the story has it
    assert "+9.2" in text
    assert "2026-03-02 12:1" in text
    assert "EAT, Africa/Nairobi" in text
    assert collar["diagnosis"]["started"] is not None


def test_the_page_tells_the_scenarios_story(run_dir, tmp_path):
    page = _parse(write_report(run_dir, tmp_path / "page.html"))
    text = " ".join(page.text)
    run = json.loads((run_dir / "run.json").read_text())
    assert "Collar 7 silent since midday" in run["story"]
    assert "Story" in text
    assert "Subject: Collar 7 silent since midday" in text
    assert run["summary"] in text


def test_neither_the_run_nor_the_report_leaves_wal_files(run_dir, tmp_path):
    assert not {"diagnostics.sqlite-wal", "diagnostics.sqlite-shm"} & set(_files(run_dir))
    write_report(run_dir, tmp_path / "page.html")
    load_run(run_dir)
    assert not {"diagnostics.sqlite-wal", "diagnostics.sqlite-shm"} & set(_files(run_dir))
