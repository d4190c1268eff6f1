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


# -- a page people read (issue 25 item 5) ----------------------------------------------------------
VOID = {"meta", "br", "img", "link", "input", "hr", "source", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None = None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        """Descendants with ``tag`` whose attributes hold ``attrs`` (class_ matches one class)."""
        out = []
        for c in self.children:
            if isinstance(c, Node):
                ok = tag in (None, c.tag) and all(
                    (v in (c.attrs.get("class") or "").split()) if k == "class_"
                    else c.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
                out += [c] * ok + c.all(tag, **attrs)
        return out

    def inside(self, tag: str) -> bool:
        p = self.parent
        while p is not None and p.tag != tag:
            p = p.parent
        return p is not None


class Tree(HTMLParser):
    """The page as a tree of nodes (enough of a DOM to ask what is inside what)."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#root", {})
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_endtag(self, tag):
        p = self.cur
        while p is not None and p.tag != tag:
            p = p.parent
        if p is not None and p.parent is not None:
            self.cur = p.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def tree(html: str) -> Node:
    t = Tree()
    t.feed(html)
    return t.root


def cells(tr: Node) -> list[str]:
    return [c.text().strip() for c in tr.children if isinstance(c, Node) and c.tag in ("td", "th")]


@pytest.fixture(scope="module")
def audited(two_runs, tmp_path_factory):
    """The with-gold run audited by two cheap attacks: one shown to fail (reverse: the tiny
    model answers reversed questions), one whose attacked accuracy is 0 (few_shot)."""
    from oblivio import api
    run = tmp_path_factory.mktemp("audited") / "run"
    shutil.copytree(two_runs[0], run)
    api.audit(run, "reverse,few_shot", progress=False, log=lambda m: None)
    return run


def test_verdict_block_shows_n_interval_and_margin_on_the_page(audited):
    """Each of the four lines shows its n, interval and margin as text, not only in a title."""
    rec = json.loads((audited / "results.json").read_text())
    page = tree((audited / "report.html").read_text())
    lines = {li.attrs["data-question"]: li for li in page.all("section", id="verdict")[0].all("li")}
    assert list(lines) == ["forgotten", "kept", "private", "robust"]
    for v in verdicts(rec):
        li = lines[v.question]
        assert li.attrs["data-status"] == v.status
        n = li.all("span", class_="n")[0].text()
        assert n.startswith(f"n = {v.n}") and ("needs ≥ 59" in n) == (v.n < 59)
        iv = li.all("span", class_="interval")[0].text()
        ends = (f"[{v.interval.lo:.3f}, {v.interval.hi:.3f}]" if v.question == "kept" else
                f"[{v.interval.lo:+.3f}, {v.interval.hi:+.3f}]".replace("-", "−"))
        assert ends in iv and f"{v.interval.level:.0%} interval" in iv
        margin = li.all("span", class_="margin")[0].text()
        assert margin == ("kept from ratio ≥ 0.95" if v.question == "kept" else
                          "margin +0.05" if v.question == "robust" else "margin ±0.05")
    # the robust line is decided on the worst attack's 95% interval (reverse: +1.000 here)
    rob = {v.question: v for v in verdicts(rec)}["robust"]
    assert rob.interval.level == 0.95 and rob.interval.lo > 0.05 and rob.status == "no"


def test_key_metrics_first_with_counts_the_rest_folded_in_column_order(two_runs):
    from oblivio.report.results import HEADLINE_MODEL, HEADLINE_SET
    run, _ = two_runs
    rec = json.loads((run / "results.json").read_text())
    page = tree((run / "report.html").read_text())
    keys = {t.attrs["data-role"]: t for t in page.all("table", class_="key")}
    folded = {d.attrs["data-role"]: d for d in page.all("details") if "data-role" in d.attrs}
    u = rec["models"]["unlearned"]
    assert list(keys) == [*u["sets"], "(model level)"]              # forget first, then retain, holdout
    for role, table in keys.items():
        have = u["sets"][role] if role in u["sets"] else u["model"]
        want = [m for m in (HEADLINE_MODEL if role == "(model level)" else HEADLINE_SET) if m in have]
        rows = [tr for tr in table.all("tr") if "data-metric" in tr.attrs]
        assert [tr.attrs["data-metric"] for tr in rows] == want       # the key metrics, in the terminal's order
        assert cells(table.all("thead")[0].all("tr")[0])[2:5] == ["base", "gold", "unlearned"]
        others = [tr.attrs["data-metric"] for tr in folded[role].all("tr") if "data-metric" in tr.attrs]
        assert sorted(others + want) == sorted(have)                   # no metric is lost, none shown twice
        for tr in rows:
            name, row = tr.attrs["data-metric"], cells(tr)
            r = have[name]
            if isinstance(r.get("n_facts"), int) and r.get("per_item"):
                assert row[-1] == f"{len(r['per_item'])} / {r['n_facts']}"   # items / facts of the unlearned model
            arrow = row[1]
            if role.startswith("holdout"):
                assert arrow == "—"      # facts no model was taught: no better direction (was ↑)
            elif role.startswith("forget") and name == "accuracy":
                assert arrow == "↓"
            elif role.startswith("direct") and name == "accuracy":
                assert arrow == "↑"
    # the forget accuracy's interval is on the page next to its value
    ci = u["sets"]["forget_test"]["accuracy"]["ci"]
    assert f"[{fmt(ci[0])}, {fmt(ci[1])}]" in keys["forget_test"].text()


def test_terminal_table_and_summary_use_the_same_columns_and_carry_the_verdict(two_runs):
    """summary.md: the four verdict lines first, then the table with base, gold, unlearned (the
    reference evaluation puts gold first; the table must not follow that order)."""
    from oblivio.report.verdict import verdict_lines
    run, _ = two_runs
    rec = json.loads((run / "results.json").read_text())
    text = (run / "summary.md").read_text()
    assert "## Verdict" in text
    for line in verdict_lines(rec):
        assert f"- {line}" in text
    assert text.index("## Verdict") < text.index("```")
    head = next(ln for ln in text.splitlines() if ln.startswith("set "))
    assert head.split()[3:] == ["base", "gold", "unlearned"]
    # the method's note: its arguments when it has any, and no stray " ," when it has none
    method = next(ln for ln in text.splitlines() if ln.startswith("- method: "))
    args = rec["config"]["unlearn"]["args"]
    assert method.startswith("- method: npo, sampler: " if not args else f"- method: npo {args}, sampler: "), method


def test_audit_refreshes_the_summary_verdict(audited):
    from oblivio.report.verdict import verdict_lines
    rec = json.loads((audited / "results.json").read_text())
    text = (audited / "summary.md").read_text()
    robust = verdict_lines(rec)[3]
    assert robust.startswith("robust: no") and f"- {robust}" in text
    assert "robust: not available" not in text and text.count("## Verdict") == 1


def test_glossary_is_the_registrys_for_every_metric_on_the_page(two_runs, tmp_path):
    """Every metric named on the page has a glossary entry and a hover text, both the metric
    registry's description (a hand-written list would go stale); a metric this installation does
    not know shows the description its run saved."""
    from oblivio.metrics.base import METRICS
    run, _ = two_runs
    rec = json.loads((run / "results.json").read_text())
    rec["models"]["unlearned"]["sets"]["forget_test"]["plugin_metric"] = {"value": 0.5}
    rec["metrics"]["plugin_metric"] = {"description": "A plugin's own words.", "good_on_forget": "lower"}
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.json").write_text(json.dumps(rec))
    page = tree(render([tmp_path / "r"]))
    shown = {tr.attrs["data-metric"] for tr in page.all("tr") if "data-metric" in tr.attrs}
    entries = {dd.attrs["data-metric"]: dd.all("span", class_="desc")[0].text()
               for dd in page.all("section", id="glossary")[0].all("dd")}
    assert {"accuracy", "truth_ratio", "mia_minkpp", "uq", "rq", "plugin_metric"} <= shown
    assert shown <= set(entries)
    for name in shown - {"plugin_metric"}:
        assert entries[name] == METRICS.get(name).description, name
    assert entries["plugin_metric"] == "A plugin's own words."
    links = page.all("a", class_="m")                              # the hover on each metric name
    assert len(links) > 50
    for a in links:
        name = a.attrs["href"].removeprefix("#g-")
        assert a.text().lower() == name and a.attrs["title"] == entries[name]


def test_judge_is_a_table_with_n(two_runs):
    run, _ = two_runs
    rec = json.loads((run / "results.json").read_text())
    page = tree((run / "report.html").read_text())
    sec = page.all("section", id="judge")[0]
    assert sec.all("pre") == []                                  # no raw JSON dump
    rows = [cells(tr) for tr in sec.all("tbody")[0].all("tr")]
    j = rec["judge"]["models"]
    want = [("UQ", r) for r in j["unlearned"]["uq"]] + [("RQ", r) for r in j["unlearned"]["rq"]]
    assert [(r[0], r[1]) for r in rows] == want
    for (metric, role), row in zip(want, rows):
        for col, m in zip(row[2:5], ("base", "gold", "unlearned")):
            assert col.split()[0] == fmt(j[m][metric.lower()][role]["value"])
        u = j["unlearned"][metric.lower()][role]
        assert row[5] == f"{u['judged']} / {u['n_facts']}"


def _svgs(html: str) -> list[str]:
    import base64
    import re
    return [base64.b64decode(b).decode("utf-8") for b in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)]


def test_audit_chart_names_every_attack_skipped_ones_with_reason_and_shows_gold(audited, tmp_path):
    import re
    rec = json.loads((audited / "results.json").read_text())
    why = "the data has no translated questions (cross-lingual probes)"
    rec["audit"]["attacks"]["cross_lingual"] = {"skipped": why, "recovery": None, "robust": None}
    # an attacked accuracy of 0, set here: what the trained tiny model scores moves with the
    # machine's arithmetic, and the bar must show either way
    rec["audit"]["attacks"]["few_shot"]["models"]["unlearned"]["accuracy"] = 0.0
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.json").write_text(json.dumps(rec))
    html = render([tmp_path / "r"])
    chart = next(s for s in _svgs(html) if "under the attack" in s)
    attacks = rec["audit"]["attacks"]
    for name in attacks:
        assert f">{name}</text>" in chart                       # the whole name, never cut
    assert f"skipped: {why}" in chart
    ran = [n for n, a in attacks.items() if not a.get("skipped")]
    # gold's attacked accuracy as a diamond on every attack that ran (and one in the legend)
    assert chart.count('fill="#000"/>') == len(ran) + 1
    # an attacked accuracy of 0 (few_shot) still draws a visible bar
    assert all(float(w) >= 2 for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="12"', chart))
    # every label fits the drawing: ~6.5 px per character at 11 px
    width = float(re.search(r'<svg[^>]* width="(\d+)"', chart).group(1))
    for x, anchor, text in re.findall(r'<text x="([\d.]+)" y="[\d.]+"(?: text-anchor="(\w+)")?[^>]*>([^<]*)</text>',
                                      chart):
        w = 6.5 * len(html_unescape(text))
        lo = float(x) - {"end": w, "middle": w / 2}.get(anchor, 0)
        assert lo >= 0 and lo + w <= width + 1, text
    # the table below names the skipped attack with its reason, and each decision
    page = tree(html)
    rows = {tr.attrs["data-attack"]: cells(tr) for tr in page.all("tr") if "data-attack" in tr.attrs}
    assert rows["cross_lingual"][1] == "skipped" and rows["cross_lingual"][-1] == why
    words = {"too few facts": "too few facts to decide", "undecided": "not decided"}
    few_shot = attacks["few_shot"]["decision"]
    assert rows["reverse"][1] == "not robust" and rows["few_shot"][1] == words.get(few_shot, few_shot)


def _attack(decision: str | None, robust: bool | None, n: int, acc: float = 0.2, gold: float = 0.2) -> dict:
    return {"decision": decision, "robust": robust, "margin": 0.05, "recovery": 0.0, "skipped": None,
            "excess_ci": [acc - gold - 0.01, acc - gold + 0.01],
            "models": {"unlearned": {"accuracy": acc, "accuracy_ci": [acc - 0.1, acc + 0.1], "n_facts": n},
                       "gold": {"accuracy": gold}, "base": {"accuracy": 0.9}}}


def test_audit_chart_draws_an_attack_on_too_few_facts_undecided_not_green():
    """A newcomer's audit on 8 forget facts: the verdict said "too few facts to decide", the
    chart drew the attack green (robust). An attack decided on too few facts — in a record of
    today ("too few facts", robust null) or of before (robust true on 8 facts) — is drawn in the
    verdict's amber with a key entry and its n; robust on enough facts stays green, an excess
    wholly above the margin stays red at any n."""
    import base64
    import re

    from oblivio.report import figures, tables
    from oblivio.report.svgplot import DECISION_COLOURS
    rec = {"config": {}, "audit": {"attacks": {
        "old_record": _attack("robust", True, 8), "new_record": _attack("too few facts", None, 8),
        "enough_facts": _attack("robust", True, 60), "fails": _attack("not robust", False, 8, acc=0.8)}}}
    fig = figures.attacks(rec)
    assert isinstance(fig, figures.Figure)
    svg = base64.b64decode(fig.src.split(",", 1)[1]).decode()
    bars = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="12" fill="(#[0-9a-f]{6})"/>', svg)
    amber, green, red = DECISION_COLOURS["too few facts"], DECISION_COLOURS["robust"], DECISION_COLOURS["not robust"]
    assert amber not in (green, red, DECISION_COLOURS["not decided"])
    assert bars == [amber, amber, green, red]                     # the rows in the record's order
    # the key names each colour drawn, "too few facts" among them; not the one no row has
    assert f'fill="{amber}"/><text x="' in svg and ">too few facts</text>" in svg and ">not decided</text>" not in svg
    assert svg.count("too few facts (n=8, needs 59)") == 2
    # the table below the chart and the record's reader say the same
    rows = {a.name: a.decision for a in tables.attack_table(rec)}
    assert rows == {"old_record": "too few facts to decide", "new_record": "too few facts to decide",
                    "enough_facts": "robust", "fails": "not robust"}
    assert {v.question: v for v in verdicts({**rec, "models": {"unlearned": {}}})}["robust"].status == "no"


def _figure_of(monkeypatch, draw):
    """The matplotlib figure a report figure function draws (before it is encoded)."""
    from oblivio.report import figures
    got = {}
    monkeypatch.setattr(figures, "_encode", lambda fig, alt: got.setdefault("fig", fig) and figures.Figure("", alt))
    assert isinstance(draw(), figures.Figure)
    return got["fig"]


def _legend_outside(fig) -> None:
    """Every legend of ``fig`` lies wholly outside its axes' plot area and inside the figure."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    legends = [(ax, ax.get_legend()) for ax in fig.axes if ax.get_legend() is not None]
    assert legends
    for ax, leg in legends:
        lb, ab = leg.get_window_extent(r), ax.get_window_extent(r)
        assert lb.x0 >= ab.x1 or lb.y1 <= ab.y0, (lb, ab)          # right of (or below) the plot area
        assert fig.bbox.x0 <= lb.x0 and lb.x1 <= fig.bbox.x1 + 1 and lb.y0 >= fig.bbox.y0 - 1


def test_legends_stand_outside_the_curves(monkeypatch):
    """The ROC curves, the truth-ratio histograms and the checkpoint curves had their legends
    inside the plot area, over the curves; each now stands beside it, inside the figure."""
    from oblivio.report import figures
    from oblivio.report.curves import curves_figure
    mia = {n: {"model": {"mia_minkpp": {"value": v, "per_item": [0.1 * i + v for i in range(10)],
                                        "extra": {"holdout_scores": [0.1 * i for i in range(10)]}}}}
           for n, v in (("base", 0.9), ("gold", 0.5), ("unlearned", 0.3))}
    _legend_outside(_figure_of(monkeypatch, lambda: figures.mia_roc({"models": mia})))
    tr = {n: {"sets": {"forget": {"truth_ratio": {"per_item": [0.1 * i * k for i in range(8)]}}}}
          for k, n in enumerate(("base", "gold", "unlearned"), 1)}
    _legend_outside(_figure_of(monkeypatch, lambda: figures.truth_ratios({"models": tr})))
    control = {"curves": [{"step": s, "utility": 1 - 0.01 * s, "per_role": {"forget": {"accuracy": 1 - 0.1 * s},
                                                                           "direct": {"accuracy": 0.9}}}
                          for s in range(0, 10, 2)],
               "control": {"original_utility": 1.0, "select_tau": 0.95}, "selected_step": 4}
    fig = curves_figure(control)
    assert len([ax for ax in fig.axes if ax.get_legend() is not None]) == 2
    _legend_outside(fig)


def html_unescape(s: str) -> str:
    import html
    return html.unescape(s)


def test_training_chart_has_round_ticks():
    from oblivio.report.svgplot import line_chart, nice_ticks
    assert nice_ticks(0.1, 13.5) == [2.5, 5.0, 7.5, 10.0, 12.5]    # was: the two ends only
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(1, 60) == [10, 20, 30, 40, 50, 60]
    svg = line_chart({"loss": [(1, 13.5), (2, 0.1), (3, 6.0)]}, xlabel="step", ylabel="loss")
    for label in ("2.5", "5", "7.5", "10", "12.5"):
        assert f'text-anchor="end">{label}</text>' in svg


def _compare_folder(root, runs, **extra):
    """A comparison folder holding copies of ``runs`` as its cells' run folders."""
    cells = []
    for name, src in runs.items():
        shutil.copytree(src, root / "runs" / name)
        method, sampler = name.split("__")
        cells.append({"method": method, "sampler": sampler, "steps": 6, "values": {"forget_efficacy": 0.5},
                      "runs": [f"runs/{name}"]})
    (root / "compare.json").write_text(json.dumps({"oblivio_compare": 1, "config": {}, "cells": cells, **extra}))
    return root


def test_compare_and_several_runs_lead_with_runs_by_verdicts(two_runs, tmp_path):
    from oblivio.cli import run as cli_run
    a, b = two_runs
    recs = [json.loads((p / "results.json").read_text()) for p in (a, b)]
    cmp = _compare_folder(tmp_path / "cmp", {"npo__one_to_one_random": a, "graddiff__one_to_one_random": b})
    for html in (render([cmp]), render([a, b])):
        assert "has no single verdict" not in html
        page = tree(html)
        rows = page.all("section", id="overview")[0].all("tbody")[0].all("tr")
        assert len(rows) == 2                                    # one row per run, verdicts side by side
        for tr, rec in zip(rows, recs):
            label = tr.attrs["data-run"]
            assert label.startswith(rec["config"]["unlearn"]["method"] + " · ")    # named by method, not folder
            assert f"lr {rec['config']['unlearn']['train']['lr']:g}" in label and "seed 0" in label
            st = {td.attrs["data-question"]: td.attrs["data-status"] for td in tr.all("td")
                  if "data-question" in td.attrs}
            assert st == {v.question: v.status for v in verdicts(rec)}
    # `report A B`: each run's column is headed by its method and settings
    out = tmp_path / "ab.html"
    assert cli_run(["report", str(a), str(b), "--out", str(out)]) == 0
    heads = [h.text() for h in tree(out.read_text()).all("section", id="tables")[0].all("h3")]
    assert heads[0].startswith("npo · ") and heads[1].startswith("graddiff · ")


def test_compare_over_worlds_shows_its_verdict_lines(tmp_path):
    lines = ["forgotten: yes  forget accuracy minus gold's: mean difference +0.010, 90% interval [−0.020, +0.040] "
             "(Student-t over worlds), 3 worlds, margin ±0.05, n=90",
             "kept: not decided (interval too wide)  worst retain role direct_test: accuracy unlearned/base mean ratio "
             "0.960, 90% interval [0.900, 1.020] (Student-t over worlds), kept from ≥ 0.95, n=90",
             "private: over-unlearned  MIA AUC (Min-K%++, forget vs holdout) minus gold's: mean difference −0.200, 90% "
             "interval [−0.300, −0.100] (Student-t over worlds), 3 worlds, margin ±0.05, n=90",
             "robust: not available  no run of these worlds was audited (or no attack applied)"]
    rec = {"oblivio_compare": 1, "config": {"world_seeds": [0, 1, 2]}, "worlds": [0, 1, 2], "seed": 0,
           "cells": [{"method": "npo", "sampler": "one_to_one_random", "steps": 6, "values": {"fe": 0.5}}],
           "verdicts": {"npo/1:1 rand": lines}}
    (tmp_path / "compare.json").write_text(json.dumps(rec))
    page = tree(render([tmp_path]))
    tr = page.all("section", id="overview")[0].all("tbody")[0].all("tr")
    assert len(tr) == 1 and "over 3 worlds" in cells(tr[0])
    st = {td.attrs["data-question"]: (td.attrs["data-status"], td.text()) for td in tr[0].all("td")
          if "data-question" in td.attrs}
    assert {q: s for q, (s, _) in st.items()} == {"forgotten": "yes", "kept": "undecided",
                                                   "private": "over-unlearned", "robust": "not available"}
    assert "n = 90" in st["forgotten"][1] and "[−0.020, +0.040]" in st["forgotten"][1]
    shown = page.all("section", id="verdict")[0].all("li")
    assert [li.all("span")[0].text() for li in shown] == [ln.split("  ")[0] for ln in lines]
    assert all(ln.split("  ", 1)[1] in li.text() for li, ln in zip(shown, lines))
