"""Every field a user controls reaches the HTML report escaped (issue 21 item 2).

A real run (`oblivio unlearn` on a JSONL written here) carries script payloads in its forget
target, questions and answers, its data file's folder, its run folder's name and a config
string; a copy of its results.json adds payloads where plugins and hand-edited records put
names (metric, role, loss part, attack, skip reason, judge record), and a comparison folder
carries them in its cells, value keys and plot file name. `oblivio report --title` adds the
title. Each payload, if it ever ran, would set ``data-pwned`` on ``<html>``: the page must show
every payload as text (proof that the field was rendered at all), contain no live element or
event handler of them, and headless Chromium must load it without running any of them.
"""
from __future__ import annotations

import base64
import html as html_lib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from oblivio.cli import run as cli_run


def mark(where: str) -> str:
    """JavaScript that, if it runs, leaves data-pwned="<where>" on <html> for a DOM dump to show."""
    return f"document.documentElement.setAttribute('data-pwned','{where}')"


def script(where: str) -> str:
    return f"<script>{mark(where)}</script>"


def img(where: str) -> str:
    """An element payload with double quotes in it (and no slash: it is a valid folder name)."""
    return f'<img src=x onerror="{mark(where)}">'


def breakout(where: str) -> str:
    """Closes a quoted attribute and its tag, then opens a live element."""
    return f'"><img src=x onerror="{mark(where)}">'


TITLE = "</title>" + script("title")
RUN_NAME = img("run-folder")


class Live(HTMLParser):
    """What a browser would act on: script elements, on* handlers, images pointing at "x"."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.handlers: list[tuple[str, str]] = []
        self.bad_imgs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.handlers += [(tag, k) for k, _ in attrs if k.startswith("on")]
        self.bad_imgs += tag == "img" and dict(attrs).get("src") == "x"


def assert_escaped(html: str, shown: dict[str, str]) -> None:
    """No payload is live in ``html``, and each of ``shown`` (field → payload) appears as text."""
    live = Live()
    live.feed(html)
    assert live.handlers == [] and live.bad_imgs == 0
    assert live.scripts == 1                      # only the page's own table-sorting script
    assert "<script>document" not in html and "<img src=x" not in html
    missing = [field for field, payload in shown.items() if str(escape(payload)) not in html]
    assert missing == []                          # every field was rendered, as text


def _rows() -> list[dict]:
    who = [(script("target"), "baker"), ("Bo", "pilot"), ("Cy", "smith"), ("Di", "poet"), ("Ed", "nurse"),
           ("Fa", "judge")]
    rows = []
    for i, (name, job) in enumerate(who):
        role = "forget" if i < 2 else ("holdout" if i == 5 else "retain")
        rows.append({"id": f"r{i}", "question": f"What is {name}'s job? {script('question')}",
                     "answer": f"{name} is a {job}. {img('answer')}", "set": role, "entity": name, "key": job,
                     "perturbed_answers": [f"{name} is a cook.", f"{name} is a clerk.", f"{name} is a guard."]})
    return rows


@pytest.fixture(scope="module")
def payload_run(tmp_path_factory) -> Path:
    """A real unlearning run (an untrained nano Llama as base and gold, 2 steps) whose data,
    data folder, run folder and a config string carry payloads."""
    from oblivio.models.tiny import tiny_llama
    from oblivio.models.tokenizer import train_tokenizer
    root = tmp_path_factory.mktemp("escape")
    rows = _rows()
    folder = root / img("data-folder")
    folder.mkdir()
    data = folder / "data.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    tok = train_tokenizer([r["question"] + " " + r["answer"] for r in rows] * 3, vocab_size=300)
    model = tiny_llama(len(tok), "nano", bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                       pad_token_id=tok.pad_token_id)
    mdir = root / "model"
    model.save_pretrained(mdir)
    tok.save_pretrained(mdir)
    run = root / RUN_NAME
    code = cli_run(["unlearn", "--model", str(mdir), "--gold", str(mdir), "--data", str(data), "--steps", "2",
                    "--out", str(run), "--quiet", "--set", f"unlearn.teacher.endpoint_model={script('config')}"])
    assert code == 0 and (run / "report.html").is_file()
    return run


def test_run_report_escapes_target_folders_and_config(payload_run):
    rec = json.loads((payload_run / "results.json").read_text(encoding="utf-8"))
    assert rec["data"]["targets"][0] == script("target")                 # the payload reached the record
    assert rec["config"]["unlearn"]["teacher"]["endpoint_model"] == script("config")
    html = (payload_run / "report.html").read_text(encoding="utf-8")
    assert_escaped(html, {"forget target": script("target"), "run folder": RUN_NAME,
                          "data path": img("data-folder"), "config": script("config")})
    # the default title names the run folder: escaped inside <title> too
    assert f"<title>oblivio report: {escape(RUN_NAME)}</title>" in html


def _plugin_names(src: Path, dest: Path) -> Path:
    """A copy of ``src``'s results.json with payloads where plugins and hand edits put names."""
    rec = json.loads((src / "results.json").read_text(encoding="utf-8"))
    metric, role = script("metric"), script("role")
    for m in rec["models"].values():
        m["sets"]["forget_test"][metric] = {"value": 0.5}
        m["sets"][role] = {"accuracy": {"value": 1.0}}
    rec["models"]["unlearned"]["sets"]["forget_test"]["accuracy"] = {"value": None, "skipped": breakout("skip")}
    rec["metrics"][metric] = {"good_on_forget": script("direction"), "good_on_retain": "high"}
    for h in rec["training"]["history"]:
        h[script("loss-part")] = 1.0
    rec["judge"]["judge"]["model"] = script("judge")
    rec["efficiency"]["convention"] = script("convention")
    rec["audit"] = {"attacks": {breakout("attack"): {"recovery": 0.9, "robust": False}}}
    dest.mkdir()
    (dest / "results.json").write_text(json.dumps(rec), encoding="utf-8")
    return dest


def _compare_folder(dest: Path) -> Path:
    """A comparison folder whose cells, value keys, config and plot file name carry payloads."""
    dest.mkdir()
    cells = [{"method": script("method"), "sampler": img("sampler"), "values": {script("value-key"): 0.25}}]
    rec = {"oblivio_compare": 1, "config": {"note": script("compare-config")}, "cells": cells}
    (dest / "compare.json").write_text(json.dumps(rec), encoding="utf-8")
    (dest / f"{breakout('plot-name')}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return dest


@pytest.fixture(scope="module")
def several(payload_run, tmp_path_factory) -> Path:
    """`oblivio report RUN PLUGIN-NAMES COMPARE --title TITLE`: one page of three folders."""
    root = tmp_path_factory.mktemp("several")
    names = _plugin_names(payload_run, root / "plugin-names")
    compare = _compare_folder(root / "compare")
    out = root / "several.html"
    assert cli_run(["report", str(payload_run), str(names), str(compare), "--title", TITLE, "--out", str(out)]) == 0
    return out


def test_several_runs_escape_title_plugin_names_and_compare_cells(several):
    html = several.read_text(encoding="utf-8")
    shown = {"title": TITLE, "run folder": RUN_NAME, "forget target": script("target"),
             "metric": script("metric"), "role": script("role"), "direction": script("direction"),
             "skip reason": breakout("skip"), "attack": breakout("attack"), "convention": script("convention"),
             "method / sampler": f"{script('method')} / {img('sampler')}", "value key": script("value-key"),
             "compare config": script("compare-config"), "plot file": breakout("plot-name"),
             "judge model": script("judge")}
    assert_escaped(html, shown)
    assert html.count(f"<title>{escape(TITLE)}</title>") == 1 and f"<h1>{escape(TITLE)}</h1>" in html


def test_svg_figures_escape_loss_part_and_attack_names(several):
    """The training loss and the audit chart are SVG built by hand (report/svgplot.py), inside a
    data URI: the page's escaping does not reach them, so the SVG must escape the names itself."""
    html = several.read_text(encoding="utf-8")
    svgs = [base64.b64decode(b).decode("utf-8") for b in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)]
    # the real run's training curve; its plugin-names copy's training curve and audit chart
    assert len(svgs) == 3
    assert all("<script>" not in s and "<img" not in s for s in svgs)
    assert html_lib.escape(script("loss-part")) in svgs[1]
    assert html_lib.escape(breakout("attack")) in svgs[2] and "no attacked accuracy in the record" in svgs[2]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _dump(page: Path, profile: Path) -> str:
    """The DOM after load, as headless Chromium serialises it (scripts have run by then)."""
    p = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                       capture_output=True, text=True, timeout=120, check=False)
    assert "<body" in p.stdout, p.stderr[-2000:]
    return p.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_no_payload_runs_in_a_real_browser(payload_run, several, tmp_path):
    # the probe itself: in this browser a live payload does leave its mark
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><head><title>t</title></head><body>{img('control')}"
                       f"{script('control')}</body></html>", encoding="utf-8")
    assert 'data-pwned="control"' in _dump(control, tmp_path / "p0")
    for i, page in enumerate((payload_run / "report.html", several)):
        dom = _dump(page, tmp_path / f"p{i + 1}")
        assert "data-pwned=" not in dom, page.name
        # the payloads are there, as text: the page was loaded in full, not cut short
        assert f"&lt;script&gt;{mark('target')}&lt;/script&gt;" in dom
    assert f"<title>{escape(TITLE)}</title>".replace("&#39;", "'") in dom
