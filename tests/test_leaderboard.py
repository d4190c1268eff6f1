"""`oblivio leaderboard` (issue 25 item 5): many finished runs in one table, every value the
run's results.json's, sorted, as Markdown, CSV or an escaped HTML page; and the audit's
one-line summary (item 4).

Two real tiny runs (1-2 steps, four metrics on 4 items per role) are the source; the sorting,
hostile-name and damaged-file cases use edited copies of their results.json, so the expected
order and text are known by construction, not by what training happened to give."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from clirun import run_cli
from oblivio import api
from oblivio.attacks.audit import audit_summary, run_audit
from oblivio.config import load_config, merge, to_dict
from oblivio.report.leaderboard import SCRIPT
from oblivio.report.verdict import verdicts

EVAL = {"metrics": ["accuracy", "model_utility", "forget_quality", "privleak", "mia_minkpp"],
        "max_items_per_role": 4, "max_new_tokens": 8}
FORGET_ACC = "models.unlearned.sets.forget_test.accuracy"


def _get(rec: dict, path: str):
    for part in path.split("."):
        rec = rec[part]
    return rec


@pytest.fixture(scope="module")
def runs(tiny_cfg, tiny_world, tmp_path_factory) -> dict[str, Path]:
    """Two finished runs that differ in every setting the table names them by (the model/
    folders are dropped: the table reads results.json alone)."""
    root = tmp_path_factory.mktemp("board")
    settings = {"a": {"unlearn": {"method": "graddiff", "sampler": "one_to_one_random",
                                  "train": {"max_steps": 2, "lr": 1e-3}}, "seed": 0},
                "b": {"unlearn": {"method": "npo", "sampler": "cyclic", "train": {"max_steps": 1, "lr": 3e-3}},
                      "model": {"lora_r": 4}, "seed": 3}}
    out = {}
    for name, over in settings.items():
        cfg = load_config(overrides=merge(over, {"eval": EVAL}), base=to_dict(tiny_cfg))
        api.unlearn(None, None, config=cfg, run_dir=root / name, progress=False, log=lambda m: None)
        shutil.rmtree(root / name / "model")
        out[name] = root / name
    return out


def _copy(src: Path, dest: Path, edit) -> Path:
    """A copy of run ``src`` at ``dest`` whose results.json ``edit`` changed (in place)."""
    shutil.copytree(src, dest)
    rec = json.loads((dest / "results.json").read_text(encoding="utf-8"))
    edit(rec)
    (dest / "results.json").write_text(json.dumps(rec), encoding="utf-8")
    return dest


def _attacked(unlearned: float, gold: float, n_facts: int = 80) -> dict[str, dict[str, float | int]]:
    """An attack's per-model record: attacked accuracies on ``n_facts`` facts."""
    return {"unlearned": {"accuracy": unlearned, "n_facts": n_facts}, "gold": {"accuracy": gold, "n_facts": n_facts}}


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _num(text: str) -> float | None:
    return None if text == "" else float(text)


def test_rows_are_named_by_settings_and_carry_results_json_values(runs, tmp_path):
    # b copy with an audit record: the robust column has a verdict to agree with
    audited = _copy(runs["b"], tmp_path / "audited", lambda r: r.update(audit={"attacks": {
        "relearn": {"robust": False, "recovery": 0.5, "excess_ci": [0.2, 0.5], "models": _attacked(0.6, 0.2)},
        "reverse": {"robust": True, "recovery": 0.0, "excess_ci": [-0.02, 0.03], "models": _attacked(0.2, 0.2)}}}))
    rows = _rows(api.leaderboard([runs["a"], audited], fmt="csv"))
    assert len(rows) == 2
    for row in rows:
        rec = json.loads((Path(row["run"]) / "results.json").read_text(encoding="utf-8"))
        c = rec["config"]
        assert (row["method"], row["sampler"]) == (c["unlearn"]["method"], c["unlearn"]["sampler"])
        assert float(row["lr"]) == c["unlearn"]["train"]["lr"]
        assert int(row["steps"]) == c["unlearn"]["train"]["max_steps"]
        assert (int(row["seed"]), int(row["lora_r"])) == (c["seed"], c["model"]["lora_r"])
        assert [row[q] for q in ("forgotten", "kept", "private", "robust")] == [v.status for v in verdicts(rec)]
        for key, path in (("forget_accuracy", FORGET_ACC), ("model_utility", "models.unlearned.model.model_utility"),
                          ("forget_quality", "models.unlearned.model.forget_quality"),
                          ("privleak", "models.unlearned.model.privleak")):
            node = _get(rec, path)
            assert _num(row[key]) == node["value"], key           # exactly: full precision
            ci = node.get("ci")
            assert [_num(row[f"{key}_low"]), _num(row[f"{key}_high"])] == (ci or [None, None]), key
    by = {r["method"]: r for r in rows}
    assert (by["graddiff"]["sampler"], by["npo"]["sampler"]) == ("one_to_one_random", "cyclic")
    assert by["npo"]["lora_r"] == "4" and by["npo"]["seed"] == "3" and by["npo"]["robust"] == "no"
    assert by["graddiff"]["forget_accuracy_low"] != ""     # the interval really is there to compare
    # Markdown shows the same run with its interval, settings as the config has them
    md = api.leaderboard([audited])
    rec = json.loads((audited / "results.json").read_text(encoding="utf-8"))
    acc = _get(rec, FORGET_ACC)
    line = md.splitlines()[2]
    assert f"| {audited} | npo |  | cyclic | 0.003 | 1 | 3 | 4 |" in line
    assert f"{acc['value']:.3f} [{acc['ci'][0]:.3f}, {acc['ci'][1]:.3f}]" in line


def _with_accuracy(value, skipped: str | None = None):
    def edit(rec):
        node = _get(rec, FORGET_ACC)
        node.update(value=value, ci=None if value is None else [value, value])
        if skipped:
            node["skipped"] = skipped
    return edit


@pytest.fixture()
def ordered(runs, tmp_path) -> dict[str, Path]:
    """Copies of run a with forget accuracy 0.6, 0.2, 0.4 and skipped, model utility 0.1, 0.9,
    0.5 and 0.3, in that order."""
    vals = {"p": (0.6, 0.1), "q": (0.2, 0.9), "r": (0.4, 0.5)}
    out = {}
    for name, (acc, util) in vals.items():
        def edit(rec, acc=acc, util=util):
            _with_accuracy(acc)(rec)
            rec["models"]["unlearned"]["model"]["model_utility"]["value"] = util
        out[name] = _copy(runs["a"], tmp_path / name, edit)
    def skipped(rec):
        _with_accuracy(None, skipped="no key spans")(rec)
        rec["models"]["unlearned"]["model"]["model_utility"]["value"] = 0.3
    out["s"] = _copy(runs["a"], tmp_path / "s", skipped)
    return out


def _order(text: str) -> list[str]:
    return [Path(r["run"]).name for r in _rows(text)]


def test_sort_default_by_forget_accuracy_and_by_any_column(ordered):
    paths = list(ordered.values())
    assert _order(api.leaderboard(paths, fmt="csv")) == ["q", "r", "p", "s"]          # skipped: last
    assert _order(api.leaderboard(paths, fmt="csv", sort="forget_accuracy:desc")) == ["p", "r", "q", "s"]
    assert _order(api.leaderboard(paths, fmt="csv", sort="model_utility:desc")) == ["q", "r", "s", "p"]
    assert _order(api.leaderboard(paths, fmt="csv", sort="run:desc")) == ["s", "r", "q", "p"]
    md = api.leaderboard(paths)                     # Markdown: the same default order
    assert [line.split("|")[1].strip().rsplit("/", 1)[-1] for line in md.splitlines()[2:]] == ["q", "r", "p", "s"]
    assert "| skipped |" in md.splitlines()[-1]


def test_a_compare_folder_stands_for_its_cells(ordered, tmp_path):
    cmp = tmp_path / "cmp"
    (cmp / "runs").mkdir(parents=True)
    (cmp / "compare.json").write_text(json.dumps({"oblivio_compare": 1, "cells": []}), encoding="utf-8")
    for name in ("r", "q"):
        shutil.copytree(ordered[name], cmp / "runs" / f"cell-{name}")
    (cmp / "runs" / ".cell-p.tmp").mkdir()          # an unfinished temporary folder: not a cell
    rows = _rows(api.leaderboard([cmp, cmp / "runs" / "cell-q", ordered["p"]], fmt="csv"))
    # each run once, however often it was named; the cells named by their folder in the comparison
    assert [r["run"] for r in rows] == [str(cmp / "runs" / "cell-q"), str(cmp / "runs" / "cell-r"), str(ordered["p"])]


class Live(HTMLParser):
    """What a browser would act on: script elements and on* handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs) -> None:
        self._in_script = tag == "script"
        self.scripts += [""] if tag == "script" else []
        self.handlers += [k for k, _ in attrs if k.startswith("on")]

    def handle_data(self, data) -> None:
        if self._in_script:
            self.scripts[-1] += data

    def handle_endtag(self, tag) -> None:
        self._in_script = False


SCRIPT_PAYLOAD = "<script>document.documentElement.setAttribute('data-pwned','method')</script>"
IMG_PAYLOAD = '"><img src=x onerror="alert(1)">'


def _hostile(runs, tmp_path) -> Path:
    def edit(rec):
        rec["config"]["unlearn"]["method"] = SCRIPT_PAYLOAD
        rec["config"]["unlearn"]["sampler"] = "=HYPERLINK(\"http://x\")|`code`"
        rec["config"]["unlearn"]["args"] = {"beta": IMG_PAYLOAD}
    return _copy(runs["a"], tmp_path / "img src=x onerror=alert(2)>", edit)


def test_html_escapes_hostile_names_and_runs_only_its_own_script(runs, tmp_path):
    bad = _hostile(runs, tmp_path)
    page = api.leaderboard([bad, runs["b"]], fmt="html")
    live = Live()
    live.feed(page)
    assert live.handlers == [] and len(live.scripts) == 1 and live.scripts[0] == SCRIPT
    for text in (SCRIPT_PAYLOAD, str(bad), f"beta={IMG_PAYLOAD}"):
        assert str(escape(text)) in page            # shown, as text
    assert "<img" not in page and "<script>document" not in page
    # the page's script is allowed by its hash and nothing else is: the hash is of the script
    # exactly as the page carries it (a template reformatted around it would silently stop it)
    csp = re.search(r"script-src '(sha256-[^']+)'", page)
    assert csp and csp.group(1) == "sha256-" + base64.b64encode(
        hashlib.sha256(live.scripts[0].encode("utf-8")).digest()).decode("ascii")


def test_markdown_and_csv_defuse_hostile_names(runs, tmp_path):
    bad = _hostile(runs, tmp_path)
    md = api.leaderboard([bad])
    row = md.splitlines()[2]
    assert "<" not in row.replace("\\<", "") and "`" not in row.replace("\\`", "")
    assert row.count("|") - row.count("\\|") == md.splitlines()[0].count("|")   # no column added by a name
    got = _rows(api.leaderboard([bad], fmt="csv"))[0]
    assert got["sampler"] == "'=HYPERLINK(\"http://x\")|`code`"        # a spreadsheet shows it, runs nothing
    assert got["method"] == SCRIPT_PAYLOAD and got["privleak"].startswith("-")   # numbers stay numbers


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_page_script_parses(tmp_path):
    f = tmp_path / "sort.js"
    f.write_text(SCRIPT, encoding="utf-8")
    p = subprocess.run(["node", "--check", str(f)], capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 0, p.stderr


def test_cli_writes_by_extension_and_refuses_what_is_not_a_run(runs, tmp_path, capsys):
    out = tmp_path / "board.csv"
    code, stdout, err = run_cli(["leaderboard", str(runs["a"]), str(runs["b"]), "--out", str(out)], capsys)
    assert code == 0 and stdout == "" and str(out) in err
    assert {r["method"] for r in _rows(out.read_text(encoding="utf-8"))} == {"graddiff", "npo"}
    code, _, err = run_cli(["leaderboard", str(runs["a"]), "--out", str(out)], capsys)
    assert code == 2 and "--overwrite" in err                        # an existing file: only when asked
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    code, stdout, err = run_cli(["leaderboard", str(runs["a"]), str(empty)], capsys)
    assert code == 2 and stdout == "" and str(empty) in err and "not a finished" in err
    damaged = _copy(runs["a"], tmp_path / "damaged", lambda r: _get(r, FORGET_ACC).update(value="0.1"))
    code, _, err = run_cli(["leaderboard", str(damaged)], capsys)
    assert code == 2 and str(damaged / "results.json") in err and f"{FORGET_ACC}.value" in err
    code, _, err = run_cli(["leaderboard", str(runs["a"]), "--sort", "accuracy"], capsys)
    assert code == 2 and "--sort" in err and "forget_accuracy" in err


# -- the audit's summary line -------------------------------------------------------------------
def test_audit_summary_counts_and_names_every_outcome():
    rec = {"attacks": {"relearn": {"robust": False}, "reverse": {"robust": True},
                       "cross_lingual": {"robust": None, "skipped": "no translations"},
                       "logit_lens": {"robust": None}, "paraphrase": {"robust": True},
                       "quantize_int4": {"robust": False}}}
    assert audit_summary(rec) == ("audit: robust on 2 of 6 attacks; fails: relearn, quantize_int4; "
                                  "no verdict (no gold score): logit_lens; skipped: cross_lingual (no translations)")
    assert audit_summary({"attacks": {"reverse": {"robust": True}}}) == "audit: robust on 1 of 1 attacks"
    assert audit_summary({"attacks": {}}) == "audit: no attack ran"


def test_run_audit_ends_with_its_summary(tiny_world):
    data, wm = tiny_world
    lines: list[str] = []
    rec = run_audit({"unlearned": (wm.base, wm.tokenizer)}, data,
                    attacks=["reverse"], retain_items=4, log=lines.append)
    assert lines[-1] == audit_summary(rec) and lines[-1].startswith("audit: robust on 0 of 1 attacks")
