"""Hand computations for the loss and pass tests: a tiny random Llama, right-padded batches,
and the SPEC formulas written with plain torch ops on one unpadded sequence at a time
(never oblivio's helpers), so that they are independent of the code under test."""
from __future__ import annotations

import math

import torch

V = 40
PAD = 0

# (prompt length, answer length) per sequence: unequal, so right padding differs per row
FORGET_SHAPES = [(3, 4), (5, 2), (2, 7), (4, 1)]
RETAIN_SHAPES = [(4, 3), (2, 5), (6, 2)]


def tiny_llama(seed: int, vocab: int = V):
    """A 2-layer random Llama; initializer_range 0.2 gives logits with std ≈ 1 (not uniform)."""
    from transformers import LlamaConfig, LlamaForCausalLM
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      tie_word_embeddings=False, initializer_range=0.2, pad_token_id=PAD,
                      bos_token_id=1, eos_token_id=2)
    torch.manual_seed(seed)
    return LlamaForCausalLM(cfg).eval()


def make_seqs(shapes, seed: int) -> list[tuple[list[int], int]]:
    """(token ids, prompt length) per sequence; ids avoid the pad id."""
    g = torch.Generator().manual_seed(seed)
    return [(torch.randint(3, V, (p + a,), generator=g).tolist(), p) for p, a in shapes]


def pad_batch(seqs, index_offset: int = 0) -> dict[str, torch.Tensor]:
    """Right-padded batch, labels = ids on the answer only (prompt and padding -100)."""
    width = max(len(s) for s, _ in seqs)
    ids = torch.full((len(seqs), width), PAD)
    att = torch.zeros((len(seqs), width), dtype=torch.long)
    lab = torch.full((len(seqs), width), -100)
    for i, (s, p) in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        att[i, :len(s)] = 1
        lab[i, p:len(s)] = torch.tensor(s[p:])
    return {"input_ids": ids, "attention_mask": att, "labels": lab,
            "index": torch.arange(len(seqs)) + index_offset}


# --- the hand computation: one unpadded sequence at a time, float64 -----------------------

def hand_logsoftmax(model, ids: list[int]) -> torch.Tensor:
    """log p(· | ids[:t+1]) for every position t: [L, V] (row t predicts token t+1)."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0].double()
    return torch.log_softmax(logits, -1)


def hand_answer_logprobs(model, ids: list[int], p: int) -> list[float]:
    """log p(y_t | x, y_<t) for each answer token t = p .. L-1 (predicted at position t−1)."""
    ls = hand_logsoftmax(model, ids)
    return [ls[t - 1, ids[t]].item() for t in range(p, len(ids))]


def hand_sum_logprob(model, seqs) -> list[float]:
    """log π(y|x) = Σ_t log p(y_t | …), per sequence."""
    return [sum(hand_answer_logprobs(model, s, p)) for s, p in seqs]


def hand_mean_nll(model, seqs) -> float:
    """NLL over the batch: total answer-token NLL / number of answer tokens (token mean)."""
    lps = [lp for s, p in seqs for lp in hand_answer_logprobs(model, s, p)]
    return -sum(lps) / len(lps)


def hand_kl(model, ref, seqs) -> float:
    """KL(p_ref ‖ p_θ) = Σ_v p_ref (log p_ref − log p_θ), averaged over every answer position."""
    vals = []
    for s, p in seqs:
        lq, lp = hand_logsoftmax(model, s), hand_logsoftmax(ref, s)
        for t in range(p, len(s)):
            vals.append(float((lp[t - 1].exp() * (lp[t - 1] - lq[t - 1])).sum()))
    return sum(vals) / len(vals)


def hand_capped(ells: list[float], delta: float) -> float:
    """(1/|S|) Σ_{i∈S} (δ − ℓ_i), S = {i : ℓ_i < δ}; 0 when S is empty."""
    s = [delta - e for e in ells if e < delta]
    return sum(s) / len(s) if s else 0.0


def logsigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def hand_npo(model, ref, seqs, beta: float) -> float:
    """−(2/β)·mean_i log σ(−β·(log π_θ(y_i|x_i) − log π_ref(y_i|x_i)))."""
    lt, lr = hand_sum_logprob(model, seqs), hand_sum_logprob(ref, seqs)
    return -(2.0 / beta) * sum(logsigmoid(-beta * (a - b)) for a, b in zip(lt, lr)) / len(lt)
