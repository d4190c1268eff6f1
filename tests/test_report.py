"""The HTML report: every number equals results.json, every section present or "not available:
why", safe writing, and a real headless browser (the verdict's rules: tests/test_verdict.py)."""
from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from oblivio.report.html import GENERATOR, fmt, render, write_report
from oblivio.report.verdict import verdicts

SECTIONS = ("verdict", "tables", "truth", "roc", "training", "checkpoints", "attacks", "calibration", "judge",
            "efficiency", "reproduce")


class Page(HTMLParser):
    """Collects data-key'd numbers, section ids, images and 'not available' notes."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[tuple[str, str]] = []
        self.sections: list[str] = []
        self.imgs: list[dict[str, str | None]] = []
        self._key: str | None = None
        self._text = ""
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id") or "")
        if tag == "img":
            self.imgs.append(a)
        if a.get("data-key"):
            self._key, self._text = a["data-key"], ""

    def handle_data(self, data):
        self.text.append(data)
        if self._key is not None:
            self._text += data

    def handle_endtag(self, tag):
        if self._key is not None and tag in ("td", "span"):
            # a table cell may hold the value and then its interval: the value is the first word
            self.numbers.append((self._key, self._text.split()[0] if self._text.split() else ""))
            self._key = None


def lookup(rec, key):
    node = rec
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def parse(html: str) -> Page:
    p = Page()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def two_runs(tiny_world, tiny_cfg, tmp_path_factory):
    from oblivio import api
    from oblivio.config import load_config, to_dict
    data, wm = tiny_world
    root = tmp_path_factory.mktemp("report-runs")
    cfg = load_config(overrides={"control": {"eval_every": 2, "eval_items": 8}}, base=to_dict(tiny_cfg))
    api.unlearn(None, data, config=cfg, method="npo", run_dir=root / "with-gold", progress=False, log=lambda m: None)
    api.unlearn(str(wm.base_dir), data, config=tiny_cfg, method="graddiff", run_dir=root / "no-gold",
                progress=False, log=lambda m: None)
    return root / "with-gold", root / "no-gold"


def test_run_folder_gets_a_report_whose_numbers_equal_results_json(two_runs):
    run, _ = two_runs
    rec = json.loads((run / "results.json").read_text())
    html = (run / "report.html").read_text()
    page = parse(html)
    assert GENERATOR in html
    assert [s for s in SECTIONS if s not in page.sections] == []
    assert len(page.numbers) > 100
    for key, text in page.numbers:
        assert text == fmt(lookup(rec, key)), key
    # the verdict names all four questions; robustness says why it is absent
    joined = " ".join(page.text)
    for q in ("forgotten:", "kept:", "private:", "robust:"):
        assert q in joined
    assert "this run was not audited" in joined
    # the offline rule judge runs in every evaluation: its UQ/RQ record is shown, not "not available"
    assert "not available: no judge ran" not in joined
    assert set(rec["judge"]["models"]) == {"base", "gold", "unlearned"} and '"uq"' in html
    assert all(img.get("alt") for img in page.imgs) and len(page.imgs) >= 4   # truth, roc, training, checkpoints
    assert "with-gold.partial" not in html                                    # the final name is shown
    # efficiency: time per phase, tokens and peak memory, from results.json
    keys = {k for k, _ in page.numbers}
    assert {"training.tokens_per_process", "training.peak_rss_mb", "timings.unlearn"} <= keys
    tr = rec["training"]
    assert tr["tokens_per_process"] > 2 * tr["examples_per_process"] > 0 and tr["peak_rss_mb"] > 0


def test_a_run_without_gold_says_why_instead_of_drawing(two_runs):
    _, run = two_runs
    page = parse((run / "report.html").read_text())
    joined = " ".join(page.text)
    assert "not available: no gold (retrained) model" in joined
    assert "not available: checkpoint evaluation was off" in joined
    rec = json.loads((run / "results.json").read_text())
    # the world has holdout facts: without gold, forgetting is judged against their floor
    v = {v.question: v for v in verdicts(rec)}["forgotten"]
    assert v.status != "not available" and "vs floor (base, holdout facts; no gold model)" in v.sentence
    assert v.interval is not None and v.interval.how == "unpaired" and "n=" in v.line


def test_cli_report_of_several_runs_and_size(two_runs, tmp_path):
    from oblivio.cli import run as cli_run
    a, b = two_runs
    out = tmp_path / "cmp.html"
    assert cli_run(["report", str(a), str(b), "--out", str(out)]) == 0
    page = parse(out.read_text())
    recs = {"with-gold": json.loads((a / "results.json").read_text())}
    assert page.sections.count("verdict") == 1
    # ten runs side by side stay under 5 MB
    big = tmp_path / "ten.html"
    write_report([a] * 5 + [b] * 5, big)
    assert big.stat().st_size < 5 * 2**20
    assert recs


def test_report_never_replaces_a_users_file(two_runs, tmp_path):
    from oblivio.cli import main
    a, _ = two_runs
    mine = tmp_path / "notes.html"
    mine.write_text("<p>my thesis</p>")
    with pytest.raises(SystemExit) as e:
        main(["report", str(a), "--out", str(mine)])
    assert e.value.code == 2 and mine.read_text() == "<p>my thesis</p>"
    with pytest.raises(SystemExit) as e:
        main(["report", str(tmp_path), "--out", str(tmp_path / "x.html")])     # not a run folder
    assert e.value.code == 2 and not (tmp_path / "x.html").exists()
    # a report oblivio wrote is replaced
    out = tmp_path / "r.html"
    write_report([a], out)
    write_report([a], out)
    assert GENERATOR in out.read_text()


def test_compare_folder_report(tmp_path):
    rec = {"oblivio_compare": 1, "config": {}, "cells": [
        {"method": "npo", "sampler": "melu", "values": {"forget/accuracy": 0.125, "fe": 0.5}},
        {"method": "graddiff", "sampler": "cyclic", "values": {"forget/accuracy": 0.0625, "fe": 0.75}}]}
    (tmp_path / "compare.json").write_text(json.dumps(rec))
    page = parse(render([tmp_path]))
    assert sorted(t for _, t in page.numbers) == sorted(fmt(x) for x in (0.125, 0.5, 0.0625, 0.75))
    for key, text in page.numbers:
        assert text == fmt(lookup(rec, key))


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_in_a_real_browser(two_runs, tmp_path):
    a, b = two_runs
    page = tmp_path / "both.html"
    write_report([a, b], page)
    shot = tmp_path / "shot.png"
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    p = subprocess.run([*common, "--window-size=1400,2000", f"--screenshot={shot}", page.as_uri()],
                       capture_output=True, text=True, timeout=120, check=False)
    assert shot.is_file() and shot.stat().st_size > 10_000
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=False)
    console_errors = [ln for ln in (p.stderr + dom.stderr).splitlines()
                      if "CONSOLE" in ln and ("Uncaught" in ln or "Error" in ln)]
    assert console_errors == []
    rendered = parse(dom.stdout)
    assert [s for s in SECTIONS if s not in rendered.sections] == []
    assert "forgotten:" in " ".join(rendered.text)


def test_empty_answers_metric_counts_empty_generations():
    from oblivio.data.schema import QAItem
    from oblivio.metrics.base import ItemStats, SetStats
    from oblivio.metrics.qa import empty_answers
    items = [ItemStats(item=QAItem(id=str(i), question="q", answer="a", role="forget", fact=str(i)), generation=g)
             for i, g in enumerate(["", "  ", "Paris", "no idea"])]
    r = empty_answers(SetStats(role="forget", items=items, computed=frozenset({"gen"})))
    assert r.value == 0.5 and r.per_item == [1.0, 1.0, 0.0, 0.0] and r.extra["n_empty"] == 2
