"""The release step: T rounds of reveal → forget PEM (O-LoRA vs a retain PEM) → negation.

Reveal and Release (Xie et al., Findings of EMNLP 2025, arXiv 2509.14624). Once:
a retain PEM (LoRA) is trained on retain data (plain NLL) and its A matrices are kept. Each
round t: the forget data is regenerated from the *current* model (the instructions chosen by
the first round's search are asked again; :mod:`.pipeline`); a forget PEM is trained on it
with a registered method's loss plus the O-LoRA term λ·Σ‖A_rᵀA_f‖²_F (:mod:`.olora`) and
merged. The paper's default method is ``task_vector``: fine-tune the PEM on the revealed
text, then negate it (B ← −λ_neg·B, so the merge gives W − λ_neg·s·B_f A_f); GA / NPO are
ablations whose PEM already unlearns and is added as is. Optionally the retain PEM is added
at the end (W + s·B_r A_r). Rounds stop early when the model no longer reveals (relevance of
the chosen instructions < ``stop_relevance``) or when utility (greedy answer accuracy on up
to 64 retain rows with a ``key``) falls below τ × its value before release; a round that
crosses τ is undone (our choice: the release returns the last model above τ).
A training budget ``max_steps`` is the total over rounds (split evenly), so iterative and
one-shot release compare at equal steps.
"""
from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from oblivio.data.schema import QAItem, UnlearningData
from oblivio.engine.loop import LoopResult, TrainConfig
from oblivio.progress import say
from oblivio.reveal.tasks import Task


@dataclass
class ReleaseConfig:
    rounds: int = 3
    rank: int = 8
    alpha: int = 16
    ortho: float = 0.1            # λ of the O-LoRA term (0: no retain PEM for it)
    lam_neg: float = 1.0          # λ_neg of the negation (task_vector's lam)
    inner: str = "task_vector"    # the registered loss of a round (ga, npo: ablations)
    inner_args: dict[str, Any] = field(default_factory=dict)
    stop_relevance: float = 0.05
    tau: float = 0.8              # utility floor, relative to before release
    add_retain: bool = False
    retain_steps: int = 30
    sampler: str = "one_to_one_random"
    targets: Sequence[str] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def utility(model: Any, tokenizer: Any, items: Sequence[QAItem]) -> float:
    """Greedy answer accuracy (the key appears) on ``items``."""
    from oblivio.reveal.respond import respond
    if not items:
        return 1.0
    out = respond(model, tokenizer, [it.question for it in items], max_new_tokens=32)
    return sum(str(it.key) in r[0] for it, r in zip(items, out)) / len(items)


def _split(total: int | None, rounds: int) -> list[int | None]:
    if total is None:
        return [None] * rounds
    rounds = max(1, min(rounds, total))
    return [total // rounds + (1 if i < total % rounds else 0) for i in range(rounds)]


def release(model: Any, tokenizer: Any, task: Task, retain: Sequence[QAItem], *, cfg: ReleaseConfig,
            train_cfg: TrainConfig, reveal_kw: dict[str, Any], log: Callable[[str], None] = say,
            given: Sequence[QAItem] | None = None) -> tuple[Any, LoopResult, list[dict[str, Any]]]:
    """Run the release; returns (model, loop result over all rounds, one record per round).
    ``given``: forget rows to release instead of revealed ones (the true forget data: the
    comparison of self-generated against true data under the same release)."""
    from oblivio.config import build_method
    from oblivio.engine.learning import learn_items
    from oblivio.engine.unlearning import LoraSpec, run_unlearning, wrap_lora
    from oblivio.reveal.olora import Orthogonal, add_delta, lora_factors
    from oblivio.reveal.pipeline import reveal

    t_start = time.perf_counter()
    spec = LoraSpec(cfg.rank, cfg.alpha, cfg.targets)
    probe = [it for it in retain if it.key][:64]
    u0 = utility(model, tokenizer, probe)
    retain_a: dict[str, torch.Tensor] = {}
    retain_pem: dict[str, Any] = {}
    if (cfg.ortho > 0 or cfg.add_retain) and retain:
        torch.manual_seed(train_cfg.seed + 1)
        peft = wrap_lora(model, spec)
        learn_items(peft, tokenizer, list(retain), dataclasses.replace(
            train_cfg, max_steps=cfg.retain_steps, epochs=1.0, progress=False), desc="retain PEM")
        retain_pem = {k: (a.detach().clone(), b.detach().clone(), s) for k, (a, b, s) in lora_factors(peft).items()}
        retain_a = {k: v[0] for k, v in retain_pem.items()}
        model = peft.unload()                  # the base weights, untouched
    rounds: list[dict[str, Any]] = []
    history: list[dict[str, float]] = []
    steps = examples = tokens = 0
    chosen = None
    stop = "rounds"
    for t, n_steps in enumerate(_split(train_cfg.max_steps, cfg.rounds), start=1):
        rev = reveal(model, tokenizer, task, chosen=chosen, log=log, **reveal_kw)
        chosen = [q.instruction for q in rev.chosen]
        if given is not None:
            rev.rows = list(given)
        rec: dict[str, Any] = {"round": t, "queries": len(rev.search.queries), "rows": len(rev.rows),
                               "relevance": round(rev.relevance, 4)}
        log(f"release round {t}/{cfg.rounds}: {rec['queries']} queries, relevance {rev.relevance:.3f}, "
            f"{len(rev.rows)} revealed rows")
        if rev.relevance < cfg.stop_relevance or not rev.rows:
            rounds.append(rec)
            stop = "relevance below threshold" if rev.rows else "nothing revealed"
            break
        # a revealed row identical to a retain row (an attribute task's own relation in a world's
        # retain set) cannot be both: it is forgotten
        seen = {(r.question.strip(), r.answer.strip()) for r in rev.rows}
        keep_r = [it for it in retain if (it.question.strip(), it.answer.strip()) not in seen]
        data = UnlearningData([*rev.rows, *keep_r], name=f"reveal-round-{t}", targets=(task.name,))
        inner = build_method(cfg.inner, {**({"lam": cfg.lam_neg} if cfg.inner == "task_vector" else {}),
                                              **cfg.inner_args})
        keep = copy.deepcopy(model.state_dict()) if cfg.tau > 0 else None
        torch.manual_seed(train_cfg.seed + 100 * t)
        model, res = run_unlearning(model, tokenizer, data, Orthogonal(inner, retain_a, cfg.ortho),
                                    sampler=cfg.sampler, train_cfg=dataclasses.replace(
                                        train_cfg, max_steps=n_steps, seed=train_cfg.seed + t),
                                    lora=spec, merge_lora=True)
        u = utility(model, tokenizer, probe)
        rec.update(steps=res.steps, utility=round(u, 4), loss=res.history[-1]["loss"] if res.history else None)
        steps, examples, tokens = steps + res.steps, examples + res.examples, tokens + res.tokens
        history += [{**h, "round": t} for h in res.history]
        rounds.append(rec)
        if u < cfg.tau * u0 and keep is not None:
            model.load_state_dict(keep)
            rec["undone"] = True
            stop = f"utility {u:.3f} below tau x {u0:.3f}"
            log(f"round {t} undone: {stop}")
            break
    if cfg.add_retain and retain_pem:
        add_delta(model, retain_pem, 1.0)
    lr = LoopResult(steps=steps, seconds=time.perf_counter() - t_start, history=history, stop_reason=stop,
                    examples=examples, tokens=tokens, model=model)
    return model, lr, [{"utility_before": round(u0, 4)}, *rounds]
