"""Reveal and Release on the tiny world: the reveal step recovering facts the base really
knows, the release lowering them without forget rows, and the CLI / API."""
from __future__ import annotations

import json

import pytest
import yaml

from oblivio.reveal.pipeline import reveal
from oblivio.reveal.tasks import world_task


def test_reveal_recovers_facts_the_model_knows(tiny_world):
    from oblivio.reveal.respond import respond
    data, wm = tiny_world
    target = data.targets[0]
    task = world_task("entity", data.source, target=target)
    res = reveal(wm.base, wm.tokenizer, task, budget=10, top_k=2, n=3, seed=0)
    assert res.rows and all(r.role == "forget" and r.targets == (target,) for r in res.rows)
    # the truth is measured after the fact (evaluation only): which true values the rows hold
    assert res.truth is not None and res.truth["values"] == len(task.truth)
    revealed = set(res.truth["found"])
    # what the base answers when asked each fact directly (greedy, training phrasings)
    qa = [it for it in data.forget if it.entity == target and it.key]
    out = respond(wm.base, wm.tokenizer, [it.question for it in qa], max_new_tokens=24)
    known = {it.key for it, o in zip(qa, out) if it.key in o[0]}
    assert len(revealed & known) >= 2, (revealed, known)
    # the best instruction found in 10 of the pool's 36 asserts at least 2 of the 5 attribute
    # types about the target (which instructions 10 queries reach depends on the search's seed)
    assert res.search.best().relevance >= 0.4
    gold = reveal(wm.gold, wm.tokenizer, task, chosen=[q.instruction for q in res.chosen], n=3, seed=0)
    assert gold.relevance < res.relevance          # the model that never saw the target asserts less of it
    assert gold.truth["recall"] < res.truth["recall"]          # and what it asserts is less often true
    assert len(res.search.queries) == 10 and res.search.curve() == sorted(res.search.curve())


def test_reveal_release_unlearns_without_forget_rows(tiny_world, tiny_cfg, fresh_base):
    from oblivio import api
    data, wm = tiny_world
    model, tok = fresh_base
    from oblivio.config import load_config, to_dict
    cfg = load_config(overrides={"unlearn": {"train": {"lr": 1e-2, "max_steps": 20}}}, base=to_dict(tiny_cfg))
    args = {"budget": 6, "top_k": 2, "samples": 3, "rounds": 2, "retain_steps": 5}
    res = api.unlearn(model, data, tokenizer=tok, method="reveal_release", method_args=args, config=cfg,
                      evaluate_models=True, progress=False, log=lambda m: None)
    rounds = res.training["release"]
    assert rounds[0]["utility_before"] > 0 and [r["round"] for r in rounds[1:]] == [1, 2][:len(rounds) - 1]
    assert res.training["steps"] == 20 and all(r.get("steps") == 10 for r in rounds[1:])  # budget over rounds
    acc = {k: r.value("accuracy", "forget") for k, r in res.reports.items()}
    assert acc["unlearned"] <= acc["base"]
    # what the target's open instructions still reveal (never trained on, never given)
    from oblivio.reveal.respond import value_recall
    from oblivio.world.extras import world_extras
    ex = world_extras(data.source)
    rows = [it for it in (*ex.base, *ex.probes) if it.entity in data.targets]
    before, after = value_recall(wm.base, wm.tokenizer, rows), value_recall(res.model, tok, rows)
    assert after["instruction/trained"] < before["instruction/trained"]
    # not asserted (measured, README): whether other people's instructions are kept better
    # than the target's — on this world and seed they are not (0.70 vs 0.85)


def _config_file(tmp_path, tiny_cfg):
    from oblivio.config import to_dict
    p = tmp_path / "tiny.yaml"
    d = to_dict(tiny_cfg)
    p.write_text(yaml.safe_dump({k: d[k] for k in ("world", "learn", "unlearn", "eval")}))
    return str(p)


def test_cli_reveal_writes_the_forget_set(tmp_path, tiny_world, tiny_cfg, capsys):
    from oblivio.cli import main
    from oblivio.data.schema import read_jsonl
    data, _ = tiny_world
    out = tmp_path / "revealed.jsonl"
    with pytest.raises(SystemExit) as ei:
        main(["reveal", "--config", _config_file(tmp_path, tiny_cfg), "--target", data.targets[0], "--budget", "3",
              "--samples", "2", "--top-k", "1", "--out", str(out), "--quiet"])
    text = capsys.readouterr().out
    assert ei.value.code == 0 and "query 3/3" in text and "relevance" in text
    rows = read_jsonl(out)
    assert rows and all(r.role == "forget" for r in rows)
    assert json.loads(out.read_text().splitlines()[0])["meta"]["reveal"]["task"] == "entity"
    # a name that is nobody in the world and no keywords: exit 2, nothing written
    bad = tmp_path / "bad.jsonl"
    with pytest.raises(SystemExit) as ei:
        main(["reveal", "--config", _config_file(tmp_path, tiny_cfg), "--target", "Nobody Atall",
              "--out", str(bad), "--quiet"])
    out = capsys.readouterr()
    assert ei.value.code == 2 and "reveal.keywords" in out.err and not bad.exists()
    assert "learning" not in out.out                 # failed before any model was loaded
