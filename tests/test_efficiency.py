"""The efficiency account (engine/efficiency.py): token counting by hand, the FLOPs convention,
and the record a run and its audit write."""
from __future__ import annotations

import pytest
import torch

from oblivio.engine.efficiency import count_tokens, efficiency_record, n_parameters


@pytest.fixture(scope="module")
def model():
    from oblivio.models.tiny import tiny_llama
    return tiny_llama(64, "tiny", seed=0, bos_token_id=1, eos_token_id=2, pad_token_id=0)


def test_count_tokens_counts_non_padding_tokens_of_every_forward(model):
    ids = torch.tensor([[5, 6, 7, 8, 9], [5, 6, 0, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]])
    with torch.no_grad(), count_tokens(model, model) as c:        # the same model twice: hooked once
        model(input_ids=ids, attention_mask=mask)
        model(ids[:1, :3])                                       # positional, no mask: every position
        # a cached generation step: one new token per row, the mask spans the past as well
        model(input_ids=ids[:, :1], attention_mask=torch.ones(2, 6, dtype=torch.long))
    assert (c.tokens, c.calls) == (7 + 3 + 2, 3)
    with torch.no_grad():
        model(input_ids=ids)                                      # after the block: not counted
    assert c.tokens == 12


def test_efficiency_record_by_hand():
    training = {"tokens_per_process": 100, "processes": 2}
    rec = efficiency_record(n_params=10, timings={"eval_before": 1.5, "unlearn": 2.0, "eval_after": 1.0,
                                                  "learn_base": 4.0, "total": 9.0},
                            training=training, inference_tokens=50, memory={"peak_rss_mb": 300.0})
    assert rec["tokens"] == {"training": 200, "inference": 50}
    assert rec["flops"] == {"training": 6 * 10 * 200, "inference": 2 * 10 * 50, "total": 12000 + 1000}
    assert rec["phases"] == {"reference_eval": 1.5, "training": 2.0, "eval_after": 1.0, "learn_base": 4.0,
                             "total": 9.0}
    # the audit adds its phase and its inference tokens; training and the peak memory carry over
    aud = efficiency_record(n_params=10, timings={"audit": 3.0}, training={}, inference_tokens=20,
                            memory={"peak_rss_mb": 250.0}, previous=rec)
    assert aud["tokens"] == {"training": 200, "inference": 70} and aud["phases"]["audit"] == 3.0
    assert aud["phases"]["training"] == 2.0 and aud["memory"]["peak_rss_mb"] == 300.0
    assert aud["flops"]["inference"] == 2 * 10 * 70 and "6·N" in aud["convention"]


def test_n_parameters(model):
    assert n_parameters(model) == sum(p.numel() for p in model.parameters()) > 0
