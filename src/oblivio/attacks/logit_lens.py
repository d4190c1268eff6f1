"""Logit-lens probe: does an intermediate layer still single out the forgotten answer among the
answers of its type?

Every layer's hidden state is decoded through the final norm and the LM head (nostalgebraist
2020, "interpreting GPT: the logit lens"); the output layer's own logits stand for the last
layer. Patil et al. 2024 ("Can sensitive information be deleted from LLMs?", ICLR 2024, arXiv
2309.17410: 38% recovery) count a fact as recovered when the answer's token is in the top k at
some layer. On a small answer type that measures the type, not the fact: a model that never
saw the fact still puts *a* town in the top 5 of a 1,024-token vocabulary (the retrained gold
model "recovered" half the facts that way). Ours scores the fact itself:

* **candidates**: the true answer and the other answers of its type — the ``key`` of every item
  in the data with the same ``relation`` (all roles; the embedded world's relations are its
  types: every birthplace is a town of the world), the subject's own name left out. Data
  without relations falls back to the keys of every item without one; an item without a key
  is scored on its whole answer, among the whole answers of the items without a key. Pools
  larger than ``candidates`` are sampled (seeded by the run seed and the item's text, never its
  id, which names the data file), the true answer always kept;
* **readout**: a candidate's score at a layer is the mean, over its tokens, of that layer's
  log-softmax at the position before the token (teacher-forced after the prompt and the
  answer's words before the key, e.g. "... Answer: He was born in"), so multi-token answers
  (years, two-word names) are compared whole, not by a first token they share, and a short
  answer is not preferred for being short;
* **credit**: an item is recovered when the true answer scores above every other candidate
  (a tie among t+1 best gives 1/(t+1), the expected credit of a random tie-break; a readout
  that cannot tell the candidates apart scores exactly chance, 1/|candidates|);
* **which layer**: picking, per model, the layer where the forget facts look best and reporting
  those same facts inflates the score (the maximum of several chance readings). The forget
  facts are split in two folds (by fact, seeded); each fold is scored at the layer with the
  best mean reciprocal rank on the *other* fold (ties to the later layer); one fact alone is
  read at the output layer. Every model (base, gold, unlearned) goes through the same rule;
* the clean score (``Attacked.clean_scores``) is the same candidate ranking at the output layer:
  the audit's recovery compares readouts of one kind.

``accuracy`` = mean credit over items (next to ``chance``, the mean 1/|candidates|),
``answer_prob`` = the mean probability of the true answer renormalised over its candidates at
the chosen layer; ``details`` holds the per-layer accuracy (a diagnostic: its maximum is the
inflated "best layer on the same facts"), the chosen layers, MRR and candidate counts.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from oblivio.attacks.base import ATTACKS, Attacked, by_fact, content_key
from oblivio.data.schema import QAItem, UnlearningData
from oblivio.models.format import PromptFormat, answer_lead, encode_prompt, format_of
from oblivio.models.lens import lens_logits

if TYPE_CHECKING:
    import torch

TIE = 1e-6   # log-probabilities this close are a tie (a readout that cannot tell them apart)


def answer_value(item: QAItem) -> str:
    """What the probe ranks: the key when the answer contains it, else the whole answer."""
    ans = item.answer.strip()
    return item.key if item.key and item.key in ans else ans


def answer_pools(items: Sequence[QAItem]) -> dict[tuple[str, bool], list[str]]:
    """The answers of each type: (relation or "", ranks a key) → the distinct values, sorted."""
    pools: dict[tuple[str, bool], set[str]] = {}
    for it in items:
        keyed = bool(it.key and it.key in it.answer)
        pools.setdefault((it.relation or "", keyed), set()).add(answer_value(it))
    return {k: sorted(v) for k, v in pools.items()}


def candidates(item: QAItem, pools: dict[tuple[str, bool], list[str]], limit: int, seed: int) -> list[str]:
    """The true answer first, then up to ``limit`` − 1 other answers of its type (seeded sample)."""
    true = answer_value(item)
    keyed = bool(item.key and item.key in item.answer)
    others = [v for v in pools.get((item.relation or "", keyed), []) if v != true and v != item.entity]
    if len(others) > limit - 1:
        # seeded by the item's text, not its id (a JSONL row's id is the file's name and line:
        # the same rows under another file name drew other candidates and another score)
        others = random.Random(f"logit-lens:{seed}:{content_key(item)}").sample(others, limit - 1)
    return [true, *others]


def value_context(tokenizer: Any, fmt: PromptFormat, item: QAItem, value: str) -> tuple[list[int], list[int]]:
    """(context ids, value ids): the prompt and the answer's words before the key, then the
    tokens of ``value`` put where the key is (the whole answer when the item has no key)."""
    ans = item.answer.strip()
    at = ans.find(item.key) if item.key else -1
    text = answer_lead(tokenizer, fmt) + (ans[:at] if at >= 0 else "")
    start = len(text)
    text += value
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offs = list(enc["input_ids"]), enc["offset_mapping"]
    j = next((i for i, (_, end) in enumerate(offs) if end > start), len(ids))
    return encode_prompt(tokenizer, fmt, item.question) + ids[:j], ids[j:]


def candidate_logprobs(model: Any, seqs: Sequence[tuple[list[int], list[int]]]) -> torch.Tensor:
    """[layers, candidates]: each (context, value) pair's mean log-probability per value token,
    read at the embedding output, after every block, and at the model's own output (one
    batched forward pass, right-padded)."""
    import torch
    lens = [len(c) + len(v) for c, v in seqs]
    t = max(lens)
    ids = torch.zeros(len(seqs), t, dtype=torch.long)
    mask = torch.zeros(len(seqs), t, dtype=torch.long)
    rows, pos, toks = [], [], []
    for b, (c, v) in enumerate(seqs):
        ids[b, :lens[b]] = torch.tensor([*c, *v])
        mask[b, :lens[b]] = 1
        for k, tok in enumerate(v):       # the position before each value token predicts it
            rows.append(b)
            pos.append(len(c) + k - 1)
            toks.append(tok)
    r, p, tk = (torch.tensor(x, dtype=torch.long) for x in (rows, pos, toks))
    with torch.no_grad():
        out = model(ids.to(model.device), attention_mask=mask.to(model.device), output_hidden_states=True)
        layers = [lens_logits(model, h[r, p]) for h in out.hidden_states[:-1]] + [out.logits[r, p]]
        res = torch.zeros(len(layers), len(seqs), dtype=torch.float64)
        for i, lg in enumerate(layers):
            lp = lg.float().log_softmax(-1).gather(-1, tk.to(lg.device)[:, None]).squeeze(-1)
            res[i].index_add_(0, r, lp.double().cpu())
    return res / torch.tensor([max(1, len(v)) for _, v in seqs], dtype=torch.float64)


def credit(scores: torch.Tensor) -> tuple[float, float, float]:
    """(recovered, reciprocal rank, probability) of candidate 0 (the true answer) among ``scores``
    (mean log-probabilities): recovered = 1/(t+1) when no candidate is above it and t tie with
    it, else 0; reciprocal rank and recovered are expectations over a random tie-break;
    probability = softmax over the candidates' scores."""
    true = float(scores[0])
    higher = int((scores > true + TIE).sum())
    ties = int(((scores - true).abs() <= TIE).sum()) - 1
    rr = sum(1.0 / (higher + 1 + j) for j in range(ties + 1)) / (ties + 1)
    prob = float(scores.softmax(-1)[0])
    return (1.0 / (ties + 1) if higher == 0 else 0.0), rr, prob


def folds(items: Sequence[QAItem], seed: int) -> dict[str, int]:
    """Item id → fold 0 / 1, whole facts together, facts shuffled by ``seed`` and dealt in turn."""
    groups = by_fact(items)
    facts = list(groups)
    random.Random(f"logit-lens-folds:{seed}").shuffle(facts)
    return {it.id: n % 2 for n, f in enumerate(facts) for it in groups[f]}


def choose_layer(rr: dict[str, list[float]], ids: Sequence[str]) -> int | None:
    """The layer with the best mean reciprocal rank over ``ids`` (ties: the later layer); None
    when ``ids`` is empty."""
    if not ids:
        return None
    n_layers = len(rr[ids[0]])
    means = [sum(rr[i][layer] for i in ids) / len(ids) for layer in range(n_layers)]
    return max(range(n_layers), key=lambda layer: (means[layer], layer))


@ATTACKS.register("logit_lens")
@dataclass
class LogitLens:
    """The true answer ranked first among its type's candidates at a layer chosen on other facts."""

    candidates: int = 32       # the most candidates an answer is ranked among (itself included)
    modifies_model: ClassVar[bool] = False
    paper: ClassVar[str] = "Patil et al. 2024 (arXiv 2309.17410)"

    def apply(self, model: Any, tokenizer: Any, data: UnlearningData, *, seed: int = 0) -> Attacked:
        fmt = format_of(tokenizer)
        pools = answer_pools(data.items)
        model.eval()
        per: dict[str, list[tuple[float, float, float]]] = {}    # item id -> per layer (credit, rr, prob)
        n_cands: dict[str, int] = {}
        for it in data.forget:
            cands = candidates(it, pools, self.candidates, seed)
            if len(cands) < 2:        # the only answer of its type: nothing to rank it against
                continue
            lp = candidate_logprobs(model, [value_context(tokenizer, fmt, it, v) for v in cands])
            per[it.id] = [credit(row) for row in lp]
            n_cands[it.id] = len(cands)
        if not per:
            return Attacked(skipped="no forget item's answer has another answer of its type to be ranked "
                                    "against (logit lens: candidates are answers with the same relation)")
        return _scored(data, per, n_cands, seed)


def _scored(data: UnlearningData, per: dict[str, list[tuple[float, float, float]]], n_cands: dict[str, int],
            seed: int) -> Attacked:
    """The attack's scores from per-item, per-layer credits: each fold at the layer chosen on the
    other fold, the output layer as the clean readout."""
    items = [it for it in data.forget if it.id in per]
    fold = folds(items, seed)
    rr = {i: [c[1] for c in per[i]] for i in per}
    last = len(next(iter(per.values()))) - 1
    layer = {k: choose_layer(rr, [i for i in per if fold[i] != k]) for k in (0, 1)}
    at: dict[str, int] = {i: last if (c := layer[fold[i]]) is None else c for i in per}
    n = len(per)
    hits: dict[str, float] = {i: per[i][at[i]][0] for i in per}
    n_layers = last + 1
    return Attacked(
        items=items,
        scores={"accuracy": sum(hits.values()) / n, "answer_prob": sum(per[i][at[i]][2] for i in per) / n},
        clean_scores={"accuracy": sum(per[i][last][0] for i in per) / n,
                      "answer_prob": sum(per[i][last][2] for i in per) / n},
        per_item=hits,
        details={"best_layers": sorted({at[i] for i in per}), "fold_layers": [layer[0], layer[1]],
                 "chance": round(sum(1 / n_cands[i] for i in per) / n, 6),
                 "mrr": round(sum(per[i][at[i]][1] for i in per) / n, 6),
                 "candidates_mean": round(sum(n_cands.values()) / n, 3),
                 "layer_accuracy": [round(sum(per[i][k][0] for i in per) / n, 6) for k in range(n_layers)],
                 "unscored_items": len(data.forget) - n},
        note="true answer ranked first among its type's answers (relation's keys) at the layer chosen on the "
             "other fold of facts (0 = embeddings); clean = the same ranking at the output layer; "
             "answer_prob = its probability among the candidates; chance = mean 1/|candidates|")
