"""The newcomer's path (bench/newcomer.py, issue #25): the README's own-data lines it runs, and the
hand-written stranger's file it runs them on (examples/stranger/).

The fast tests check what the bench reads — the right README lines, in order, and the learn
override — and that the example file still loads as the docs promise (two targets, the
neighbour map giving the rows' own roles). The slow one runs the bench."""
from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from benchmod import load_bench

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "stranger"


def _load():
    return load_bench("newcomer")


nc = _load()


def test_the_bench_runs_the_readmes_own_data_lines_in_order():
    lines = nc.readme_commands()
    # learn, then unlearn on its models, then the audit: not the demo's commands above the
    # section, not the "Which method?" table below it, not the placeholder /path/to/hf-model line
    assert [ln.split()[1] for ln in lines] == ["learn", "unlearn", "audit"], lines
    assert "--data my.jsonl" in lines[0] and "--out mymodels/" in lines[0]
    assert "--model mymodels/base --gold mymodels/gold --data my.jsonl" in lines[1] and "--out runs/mine" in lines[1]
    assert lines[2] == "oblivio audit runs/mine"          # the trailing comment is cut
    assert not any("/path/to/" in ln or "demo" in ln for ln in lines)


def test_the_sections_end_is_the_next_heading(tmp_path):
    page = tmp_path / "README.md"
    page.write_text("## Two\n```bash\noblivio demo\n```\n## Your own data\n```bash\noblivio learn --data a.jsonl"
                    "  # trains\noblivio unlearn --model /path/to/m --data a.jsonl\n```\ntext\n```bash\n"
                    "oblivio audit r\n```\n## Which method?\n```bash\noblivio compare\n```\n", encoding="utf-8")
    assert nc.readme_commands(page) == ["oblivio learn --data a.jsonl", "oblivio audit r"]


def test_learn_epochs_replaces_the_readmes_and_touches_nothing_else():
    line = "oblivio learn --data my.jsonl --set learn.epochs=100 --out m/ --set learn.lr=0.001"
    assert nc.with_learn_epochs(line, 20) == ("oblivio learn --data my.jsonl --out m/ --set learn.lr=0.001 "
                                              "--set learn.epochs=20")
    assert nc.with_learn_epochs(line, None) == line
    unlearn = "oblivio unlearn --model m --set learn.epochs=100"
    assert nc.with_learn_epochs(unlearn, 20) == unlearn


def test_the_stranger_file_loads_with_two_targets_and_its_map_agrees_with_its_rows(tmp_path):
    from oblivio.data.neighbours import load_jsonl_data
    data = load_jsonl_data(str(EXAMPLE / "ferry.jsonl"))
    assert set(data.targets) == {"Morwenna Tallack", "Idris Penhaligon"}
    rows = [json.loads(ln) for ln in (EXAMPLE / "ferry.jsonl").read_text(encoding="utf-8").splitlines()]
    people = {r["entity"] for r in rows if r["set"] != "general" and r["set"] != "general_test"}
    assert len(rows) == 80 and len({r["fact"] for r in rows}) == 76 and len(people) == 10
    assert all(r["key"] in r["answer"] for r in rows)
    # the same file with plain retain rows and the map: every row gets the role it is labelled with
    plain = tmp_path / "plain.jsonl"
    unlabel = {**dict.fromkeys(("direct", "indirect", "general"), "retain"),
               **dict.fromkeys(("direct_test", "indirect_test", "general_test"), "retain_test")}
    plain.write_text("".join(json.dumps({**{k: v for k, v in r.items() if k != "targets"},
                                         "set": unlabel.get(r["set"], r["set"])}) + "\n" for r in rows),
                     encoding="utf-8")
    mapped = load_jsonl_data(str(plain), neighbour_map=str(EXAMPLE / "map.json"))
    labelled = {it.question: (it.role, it.targets) for it in data.items}
    assert Counter(it.role for it in mapped.items) == Counter(it.role for it in data.items)
    assert {it.question: (it.role, it.targets) for it in mapped.items} == labelled


@pytest.mark.slow
def test_the_bench_runs_the_path_from_an_empty_cache(tmp_path, capsys):
    """Every README line exits 0 from an empty cache; the report comes after two commands; the
    verdict has its four lines, and at the default 20 epochs the base knows none of the facts
    and the forgotten line says so."""
    out = tmp_path / "r.json"
    assert nc.main(["--learn-epochs", "20", "--out", str(out)]) == 0
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert [c["rc"] for c in rec["commands"]] == [0, 0, 0] and rec["first_report"]["commands"] == 2
    assert [v.split(":")[0] for v in rec["verdicts"]] == ["forgotten", "kept", "private", "robust"]
    assert rec["base_accuracy"]["forget_test"] == 0.0 and "nothing to forget" in rec["verdicts"][0]
    assert (tmp_path / "r" / "2-unlearn.out").is_file()
    shutil.rmtree(tmp_path / "r")
