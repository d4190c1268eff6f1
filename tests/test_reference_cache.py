"""Reference evaluations (base, gold) are cached by model + data + eval config (eval/cache.py):
a second identical run loads them, any change re-evaluates them."""
from __future__ import annotations

import json
import pickle

import pytest

FAST_EVAL = {"metrics": ["accuracy", "answer_prob", "forget_quality"], "bootstrap": 0}


@pytest.fixture()
def eval_cache(tmp_path, monkeypatch):
    """A private cache folder, and the names of the models evaluate_model really ran on."""
    import oblivio.eval.cache as C
    import oblivio.eval.evaluate as E
    monkeypatch.setattr(C, "cache_dir", lambda: tmp_path / "evals")
    ran: list[str] = []
    real = E.evaluate_model

    def counting(*a, **k):
        ran.append(k.get("name", "model"))
        return real(*a, **k)
    monkeypatch.setattr(E, "evaluate_model", counting)
    return ran


def run(cfg, out, **eval_over):
    from oblivio import api
    from oblivio.config import load_config, to_dict
    c = load_config(overrides={"eval": {**FAST_EVAL, **eval_over}, "unlearn": {"train": {"max_steps": 1}}},
                    base=to_dict(cfg))
    api.unlearn(None, None, config=c, run_dir=out, progress=False, log=lambda m: None)
    return json.loads((out / "results.json").read_text())


def test_second_run_loads_references_and_changed_eval_config_reevaluates(tiny_cfg, tiny_world, tmp_path,
                                                                         eval_cache):
    r1 = run(tiny_cfg, tmp_path / "a")
    assert eval_cache == ["gold", "base", "unlearned"] and r1["reference_cache"] == {"gold": "miss", "base": "miss"}
    eval_cache.clear()
    r2 = run(tiny_cfg, tmp_path / "b")
    assert eval_cache == ["unlearned"] and r2["reference_cache"] == {"gold": "hit", "base": "hit"}
    # the loaded reports are the computed ones, gold-dependent metrics included
    for name in ("base", "gold"):
        assert r2["models"][name]["sets"] == r1["models"][name]["sets"]
        assert r2["models"][name]["model"] == r1["models"][name]["model"]
    assert r2["models"]["base"]["model"]["forget_quality"]["value"] is not None
    eval_cache.clear()
    r3 = run(tiny_cfg, tmp_path / "c", max_new_tokens=12)        # another eval config
    assert eval_cache == ["gold", "base", "unlearned"] and r3["reference_cache"] == {"gold": "miss", "base": "miss"}


def test_key_changes_with_model_data_eval_config_and_gold(tiny_cfg, tiny_world, fresh_base):
    import dataclasses

    import torch

    from oblivio.eval.cache import eval_key
    data, _ = tiny_world
    model, tok = fresh_base
    ecfg = tiny_cfg.eval
    k = eval_key(model, tok, data, ecfg, gold_key=None, embedder=None)
    assert k == eval_key(model, tok, data, ecfg, gold_key=None, embedder=None)
    assert k == eval_key(model, tok, data, dataclasses.replace(ecfg, show_ci=True), gold_key=None, embedder=None)
    assert k != eval_key(model, tok, data, dataclasses.replace(ecfg, batch_size=3), gold_key=None, embedder=None)
    assert k != eval_key(model, tok, data, ecfg, gold_key="g", embedder=None)
    items = list(data.items)
    items[-1] = dataclasses.replace(items[-1], answer=items[-1].answer + " x")
    assert k != eval_key(model, tok, dataclasses.replace(data, items=items), ecfg, gold_key=None, embedder=None)
    with torch.no_grad():                      # one weight, one ulp-sized nudge
        p = next(model.parameters())
        p.view(-1)[0] = torch.nextafter(p.view(-1)[0], torch.tensor(float("inf")))
    assert k != eval_key(model, tok, data, ecfg, gold_key=None, embedder=None)


def test_planted_pickle_is_refused_not_run(tmp_path, monkeypatch):
    import os

    import oblivio.eval.cache as C
    monkeypatch.setattr(C, "cache_dir", lambda: tmp_path)

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))
    (tmp_path / "k.pkl").write_bytes(pickle.dumps(Evil()))
    assert C.load("k") is None and not (tmp_path / "pwned").exists()
    C.store("ok", {"a": [1.0, 2.0]})
    assert C.load("ok") == {"a": [1.0, 2.0]}
