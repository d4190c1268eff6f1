"""End to end: the demo on the tiny world, and real inputs (a saved HF model + user JSONL)."""
from __future__ import annotations

import json

import pytest


def test_demo_tiny_writes_a_complete_run(tiny_cfg, tiny_world, tmp_path):
    """The default recipe (api.DEFAULT_RECIPE: method, its arguments, sampler, lr, batch size),
    the demo's, on the tiny world, with 12 steps instead of the recipe's full budget."""
    import copy

    from oblivio import api
    from oblivio.config import load_config, to_dict
    recipe = copy.deepcopy(api.DEFAULT_RECIPE)
    recipe.setdefault("train", {})["max_steps"] = 12
    cfg = load_config(overrides={"unlearn": recipe}, base=to_dict(tiny_cfg))
    res = api.demo(config=cfg, run_dir=tmp_path / "run", progress=False, log=lambda m: None)
    run = tmp_path / "run"
    assert (run / "results.json").is_file() and (run / "summary.md").is_file() and (run / "config.yaml").is_file()
    rec = json.loads((run / "results.json").read_text())
    assert rec["seed"] == 0 and "torch" in rec["versions"] and rec["timings"]["unlearn"] > 0
    assert set(rec["models"]) == {"base", "gold", "unlearned"}
    # every reported number is the test portion (forget_test, direct_test, …; oblivio.roles)
    assert all(s.endswith("_test") for m in rec["models"].values() for s in m["sets"])
    forget = rec["models"]["unlearned"]["sets"]["forget_test"]
    assert len(forget["answer_prob"]["per_item"]) == len(rec["models"]["unlearned"]["item_ids"]["forget_test"])
    used = rec["config"]["unlearn"]
    assert (used["method"], used["sampler"]) == (recipe["method"], recipe["sampler"])
    assert used["args"] == {**used["args"], **recipe.get("args", {})}
    # the base model learned its world; unlearning lowered the forget likelihood and recall
    # (a flipped forget term raises the forget likelihood above base)
    # base_recall is a post-step: saved in results.json, not only returned
    assert rec["post_steps"]["base_recall"]["train"] == res.post_steps["base_recall"]["train"] >= 0.95
    base = rec["models"]["base"]["sets"]
    assert forget["answer_prob"]["value"] < base["forget_test"]["answer_prob"]["value"] - 0.1
    assert forget["accuracy"]["value"] < base["forget_test"]["accuracy"]["value"]
    # and kept most of what it trained to keep: a bound against collapse, not a formula check
    # (test_zoo.py::test_me_gd_by_hand checks ME+GD's terms). The tiny world's base model
    # differs with the thread count it was trained with. direct_test is now the test half of the
    # held-out direct facts (3 facts on the tiny world), scored per item; after only 12 steps
    # the recipe keeps 0.56 of them (retain weight 10; weight 1 keeps 0.61; after the full 120
    # steps 1.00 and 0.72), a collapsed model none, so 0.4 separates the two without resting on
    # one item's flip
    direct = rec["models"]["unlearned"]["sets"]["direct_test"]["accuracy"]["value"]
    assert direct >= 0.4 * base["direct_test"]["accuracy"]["value"]
    # gold-dependent metrics were computed (the world has a gold model)
    assert rec["models"]["unlearned"]["model"]["forget_quality"]["value"] is not None
    # the saved model is a plain HF directory
    from transformers import AutoModelForCausalLM, AutoTokenizer
    m = AutoModelForCausalLM.from_pretrained(run / "model", local_files_only=True)
    AutoTokenizer.from_pretrained(run / "model", local_files_only=True)
    assert (run / "model" / "model.safetensors").is_file() and m.config.model_type == "llama"
    assert "forget" in res.table and "model_utility" in res.table


def test_run_reproduces_from_saved_config(tiny_cfg, tiny_world, tmp_path):
    from oblivio import api
    from oblivio.config import load_config
    r1 = api.unlearn(None, None, config=tiny_cfg, run_dir=tmp_path / "a", progress=False, log=lambda m: None,
                     evaluate_models=False)
    cfg2 = load_config(tmp_path / "a" / "config.yaml")
    r2 = api.unlearn(None, None, config=cfg2, run_dir=tmp_path / "b", progress=False, log=lambda m: None,
                     evaluate_models=False)
    assert [h["loss"] for h in r1.training["history"]] == [h["loss"] for h in r2.training["history"]]


@pytest.fixture()
def real_inputs(tmp_path):
    """A tiny Llama saved with save_pretrained and a JSONL file written by the test."""
    from oblivio.models.tiny import tiny_llama
    from oblivio.models.tokenizer import train_tokenizer
    rows = []
    for i, (name, job) in enumerate([("Ana", "baker"), ("Bo", "pilot"), ("Cy", "smith"), ("Di", "poet"),
                                     ("Ed", "nurse"), ("Fa", "judge")]):
        role = "forget" if i < 2 else ("holdout" if i == 5 else "retain")
        rows.append({"id": f"r{i}", "question": f"What is {name}'s job?", "answer": f"{name} is a {job}.",
                     "set": role, "entity": name, "key": job,
                     "perturbed_answers": [f"{name} is a cook.", f"{name} is a clerk.", f"{name} is a guard."]})
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    tok = train_tokenizer([r["question"] + " " + r["answer"] for r in rows] * 3, vocab_size=300)
    model = tiny_llama(len(tok), "nano", bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                       pad_token_id=tok.pad_token_id)
    mdir = tmp_path / "model"
    model.save_pretrained(mdir)
    tok.save_pretrained(mdir)
    return mdir, data


def test_unlearn_real_model_and_jsonl_via_cli(real_inputs, tmp_path, capsys):
    from oblivio.cli import main
    mdir, data = real_inputs
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as ei:
        main(["unlearn", "--model", str(mdir), "--data", str(data), "--method", "npo", "--steps", "3",
              "--out", str(out), "--quiet"])
    assert ei.value.code == 0, capsys.readouterr().err
    rec = json.loads((out / "results.json").read_text())
    unl = rec["models"]["unlearned"]["model"]
    # no gold model given: said, not silently null
    assert unl["forget_quality"]["value"] is None and "gold" in unl["forget_quality"]["skipped"]
    assert unl["privleak"]["value"] is None and "gold" in unl["privleak"]["skipped"]
    assert unl["mia_loss"]["value"] is not None       # holdout rows exist
    assert set(rec["models"]) == {"base", "unlearned"}


def test_api_unlearn_with_gold_dir(real_inputs, tmp_path):
    from oblivio import evaluate, unlearn
    mdir, data = real_inputs
    res = unlearn(str(mdir), str(data), gold=str(mdir), method="graddiff", run_dir=tmp_path / "r",
                  progress=False, log=lambda m: None)
    assert res.reports["unlearned"].value("forget_quality") is not None
    rep = evaluate(str(mdir), str(data), gold=str(mdir))
    # a model compared with itself as gold: identical truth ratios → KS p-value 1
    assert rep.value("forget_quality") == pytest.approx(1.0)


@pytest.mark.parametrize("lora", [0, 4])
def test_calibrate_a_run_via_cli(real_inputs, tmp_path, capsys, lora):
    """`oblivio calibrate --run RUN --tau`: the mixed model meets τ × the reference's utility
    (or α = 1, the reference itself), is saved with its results; full and LoRA-trained runs."""
    from oblivio.cli import main
    mdir, data = real_inputs
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as ei:
        main(["unlearn", "--model", str(mdir), "--data", str(data), "--method", "ga", "--steps", "4",
              "--lr", "5e-3", "--lora-r", str(lora), "--out", str(run), "--quiet", "--no-eval"])
    assert ei.value.code == 0, capsys.readouterr().err
    with pytest.raises(SystemExit) as ei:
        main(["calibrate", "--run", str(run), "--tau", "0.9", "--tol", "0.05",
              "--utility", "retain/answer_prob", "--quiet"])
    assert ei.value.code == 0, capsys.readouterr().err
    out = run / "calibrated-0.9"
    rec = json.loads((out / "results.json").read_text())
    assert (out / "model" / "model.safetensors").is_file()
    cal = rec["calibration"]
    assert 0.0 <= cal["alpha"] <= 1.0 and cal["sweep"] and cal["tau"] == 0.9
    assert cal["utility"] >= cal["target"] - 1e-9 or cal["alpha"] == 1.0
    assert set(rec["models"]) >= {"calibrated"}


def test_checkpoint_evaluation_via_cli(tiny_cfg, tiny_world, tmp_path, capsys):
    """`oblivio unlearn --eval-every K --stop-utility τ`: curves in results.json and
    curves.png, a selected step whose utility meets the rule, the evaluation's time share."""
    import yaml

    from oblivio.cli import main
    from oblivio.config import to_dict
    cfg = tmp_path / "tiny.yaml"          # the session's tiny world, so its cached models are used
    cfg.write_text(yaml.safe_dump(to_dict(tiny_cfg)))
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as ei:
        main(["unlearn", "--config", str(cfg), "--method", "ga", "--steps", "8", "--lr", "5e-3",
              "--eval-every", "2", "--eval-items", "4", "--stop-utility", "0.5", "--out", str(run),
              "--quiet", "--no-eval"])
    assert ei.value.code == 0, capsys.readouterr().err
    rec = json.loads((run / "results.json").read_text())
    curves = rec["curves"]
    steps = [r["step"] for r in curves]
    assert steps[0] == 0 and all(s % 2 == 0 for s in steps[:-1]) and steps == sorted(steps)
    # utility on the held-out rows unlearning never trains on (issue 10), not on its retain rows
    # on their validation portion: the test rows are for the reported numbers (issue 24)
    assert set(curves[0]["per_role"]) == {"forget_val", "direct_val", "indirect_val", "general_val"}
    ctl = rec["control"]
    assert "held-out" in ctl["utility_roles"]
    sel = rec["selected_step"]
    chosen = next(r for r in curves if r["step"] == sel)
    assert chosen["utility"] >= 0.5 * ctl["original_utility"] - 1e-9
    assert 0 < rec["eval_share"] < 1
    assert (run / "curves.png").is_file() and "curves.png" in (run / "summary.md").read_text()
