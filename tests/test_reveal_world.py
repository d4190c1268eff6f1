"""Reveal and Release on the tiny world: the reveal step recovering facts the base really
knows, the release lowering them without forget rows, and the CLI / API: `oblivio reveal` is a
run (no training; the ``reveal`` post-step) whose config.yaml reruns it and whose rows are
forget data for `oblivio unlearn`."""
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
    """--out FILE.jsonl (the earlier form): the rows there, and the run folder beside it."""
    from oblivio.cli import main
    from oblivio.data.schema import read_jsonl
    data, _ = tiny_world
    out = tmp_path / "revealed.jsonl"
    with pytest.raises(SystemExit) as ei:
        main(["reveal", "--config", _config_file(tmp_path, tiny_cfg), "--target", data.targets[0], "--budget", "3",
              "--samples", "2", "--top-k", "1", "--out", str(out)])
    said = capsys.readouterr()
    # progress (the search and each query) on stderr; the result (the best instruction) on stdout
    assert ei.value.code == 0 and "query 3/3" in said.err and "relevance" in said.err
    assert "reveal: instruction search: done in " in said.err and "query" not in said.out
    assert said.out.startswith("best instruction: ")
    rows = read_jsonl(out)
    assert rows and all(r.role == "forget" for r in rows)
    assert json.loads(out.read_text().splitlines()[0])["meta"]["reveal"]["task"] == "entity"
    assert (tmp_path / "revealed" / "revealed.jsonl").read_text() == out.read_text()
    # a name that is nobody in the world and no keywords: exit 2, nothing written
    for bad in (tmp_path / "bad.jsonl", tmp_path / "badrun"):
        with pytest.raises(SystemExit) as ei:
            main(["reveal", "--config", _config_file(tmp_path, tiny_cfg), "--target", "Nobody Atall",
                  "--out", str(bad)])
        out_err = capsys.readouterr()
        assert ei.value.code == 2 and "reveal.keywords" in out_err.err
        assert "learning" not in out_err.err                 # failed before any model was loaded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["revealed", "revealed.jsonl", "tiny.yaml"]


def test_reveal_is_a_run_its_config_yaml_reruns(tmp_path, tiny_world, tiny_cfg, capsys):
    """`oblivio reveal --out RUN`: a run folder (config.yaml, results.json, revealed.jsonl) and
    no model/ (nothing was trained); its config.yaml alone reveals the same rows again."""
    from oblivio.cli import main
    from oblivio.config import load_config
    from oblivio.data.schema import read_jsonl
    data, _ = tiny_world
    target = data.targets[0]
    run, again = tmp_path / "rv", tmp_path / "again"
    with pytest.raises(SystemExit) as ei:
        main(["reveal", "--config", _config_file(tmp_path, tiny_cfg), "--target", target, "--budget", "3",
              "--samples", "2", "--top-k", "2", "--out", str(run), "--quiet"])
    assert ei.value.code == 0, capsys.readouterr().err
    assert {"config.yaml", "results.json", "revealed.jsonl"} <= {p.name for p in run.iterdir()}
    assert not (run / "model").exists()
    rows = read_jsonl(run / "revealed.jsonl")
    rec = json.loads((run / "results.json").read_text())
    assert rec["training"]["steps"] == 0 and rec["models"] == {}           # nothing trained, nothing evaluated
    assert rec["post_steps"]["reveal"]["rows"] == len(rows) > 0
    assert (rec["reveal"]["target"], rec["reveal"]["queries"], len(rec["reveal"]["chosen"])) == (target, 3, 2)
    cfg = load_config(run / "config.yaml")
    assert (cfg.unlearn.enabled, cfg.post_steps, cfg.data.targets, cfg.seed) == (False, ["reveal"], [target], 0)
    with pytest.raises(SystemExit) as ei:
        main(["reveal", "--config", str(run / "config.yaml"), "--out", str(again), "--quiet"])
    assert ei.value.code == 0, capsys.readouterr().err
    assert (again / "revealed.jsonl").read_text() == (run / "revealed.jsonl").read_text()


def test_revealed_rows_are_forget_data_for_unlearn(tmp_path, tiny_world, tiny_cfg):
    """Reveal, then unlearn with the revealed rows as the forget set (and the world's retain rows):
    the run trains on exactly those rows."""
    import dataclasses

    from oblivio import api
    from oblivio.config import load_config, to_dict
    from oblivio.data.schema import read_jsonl, write_jsonl
    data, wm = tiny_world
    res = api.reveal(target=data.targets[0], config=tiny_cfg, out=tmp_path / "rv", progress=False,
                     log=lambda m: None)
    revealed = read_jsonl(tmp_path / "rv" / "revealed.jsonl")
    assert [r.answer for r in revealed] == [r.answer for r in res.rows] and res.run_dir == tmp_path / "rv"
    retain = [dataclasses.replace(it, role="retain") for it in data.items if it.role == "general"][:8]
    f = tmp_path / "forget_and_retain.jsonl"
    write_jsonl([*revealed, *retain], f)
    cfg = load_config(overrides={"unlearn": {"train": {"max_steps": 2}}, "eval": {"enabled": False}},
                      base=to_dict(tiny_cfg))
    run = api.unlearn(wm.base_dir, str(f), config=cfg, method="npo", sampler="one_to_one_random",
                      run_dir=tmp_path / "u", progress=False, log=lambda m: None)
    assert run.training["steps"] == 2
    counts = json.loads((tmp_path / "u" / "results.json").read_text())["data"]["counts"]
    # the forget rows are all trained on; counts name them by evaluation portion (val/test by fact)
    assert set(counts) == {"forget_val", "forget_test", "retain"}
    assert (counts["forget_val"] + counts["forget_test"], counts["retain"]) == (len(revealed), len(retain))
    assert counts["forget_val"] > 0 and counts["forget_test"] > 0
