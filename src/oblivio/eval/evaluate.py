"""Evaluate one model on every set of an unlearning problem, sharing work between metrics.

The selected metrics declare what they need (metrics/base.py ``NEEDS``); this module
computes exactly the union, once: one teacher-forced pass over all items of all sets, one
pass over paraphrased/perturbed answers, and one batched greedy generation for all
questions and paraphrased questions. Then every set-scope metric runs on each set, and
model-scope metrics (forget quality, utility, MIA, privleak) run across sets, with the
gold model's results when given. Assessment columns follow Liu et al. 2024
("Rethinking Machine Unlearning for LLMs", arXiv 2402.08787).

**Portions.** An evaluation reads one portion of the data (:mod:`oblivio.roles`): ``"test"``
for every reported number (sets ``forget_test``, ``direct_test`` …, ``holdout_test``; the
model-scope metrics over them), ``"val"`` for every selection (``forget_val`` …), or None for
data built for the purpose, every role as it is named (:func:`oblivio.data.portions.evaluated_sets`).
:meth:`EvalReport.value` finds a split role by its base name (``value("accuracy", "forget")``
reads ``forget_test`` in a test evaluation).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from oblivio.config import EvalConfig
from oblivio.data.collate import Encoded, encode_items, encode_pair
from oblivio.data.schema import QAItem, UnlearningData
from oblivio.metrics.base import METRICS, ItemStats, MetricResult, ModelStats, SetStats
from oblivio.models.format import PromptFormat, cached_answer, cached_prompt, resolve_format


@dataclass
class EvalReport:
    name: str
    sets: dict[str, dict[str, MetricResult]]
    model: dict[str, MetricResult]
    item_ids: dict[str, list[str]]
    generations: dict[str, list[str]]
    seconds: float
    stats: ModelStats | None = field(default=None, repr=False)
    statistics: dict[str, Any] = field(default_factory=dict)   # resampling unit, facts per role
    prompt_format: dict[str, Any] = field(default_factory=dict)  # the format asked in (models/format.py)
    portion: str | None = None      # "test" (reported), "val" (a selection's) or None (roles as named)

    def set_name(self, role: str) -> str:
        """The evaluated set of ``role``: itself when present, else its portion in this report
        (``forget`` → ``forget_test`` or ``forget_val``; ``holdout`` likewise)."""
        from oblivio.roles import SPLIT_BASES, find_set
        if role in self.sets or role not in SPLIT_BASES:
            return role
        return find_set(self.sets, role) or role
    # each item's fact (``item_ids``' order; an item without one is its own fact): the
    # verdicts resample whole facts from results.json alone, pairing two models (report/evidence.py)
    item_facts: dict[str, list[str]] = field(default_factory=dict)

    def ci(self, metric: str, role: str | None = None) -> tuple[float, float] | None:
        r = self.model.get(metric) if role is None else self.sets.get(self.set_name(role), {}).get(metric)
        return None if r is None else r.ci

    def value(self, metric: str, role: str | None = None) -> float | None:
        r = self.model.get(metric) if role is None else self.sets.get(self.set_name(role), {}).get(metric)
        return None if r is None else r.value

    @classmethod
    def from_json(cls, name: str, d: dict[str, Any]) -> EvalReport:
        """The report :meth:`to_json` wrote into a run's results.json (``models.<name>``)."""
        return cls(name=name, seconds=float(d.get("seconds", 0.0)),
                   sets={role: {m: MetricResult.from_json(r) for m, r in ms.items()}
                         for role, ms in d.get("sets", {}).items()},
                   model={m: MetricResult.from_json(r) for m, r in d.get("model", {}).items()},
                   item_ids=dict(d.get("item_ids", {})), generations=dict(d.get("generations", {})),
                   statistics=dict(d.get("statistics", {})), prompt_format=dict(d.get("prompt_format", {})),
                   portion=d.get("portion"), item_facts=dict(d.get("item_facts", {})))

    def to_json(self, *, per_item: bool = True) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "portion": self.portion,
            "sets": {role: {m: r.to_json(per_item=per_item) for m, r in ms.items()}
                     for role, ms in self.sets.items()},
            "model": {m: r.to_json(per_item=per_item) for m, r in self.model.items()},
            "statistics": self.statistics,
            "prompt_format": self.prompt_format,
            "item_ids": self.item_ids if per_item else {},
            "item_facts": self.item_facts if per_item else {},
            "generations": self.generations if per_item else {},
        }


def _metric_names(cfg: EvalConfig) -> list[str]:
    import oblivio.metrics  # noqa: F401  (registration)
    if cfg.metrics:
        names = list(cfg.metrics)
    else:   # the default list stays cheap: metrics flagged ``expensive`` only when asked for
        # once per metric: a dotted path or entry point is an alias of a metric's own name
        names = [n for n, m in METRICS.items() if not m.expensive and n == m.name]
    if cfg.extraction:
        from oblivio.metrics.extraction import EXTRACTION_METRICS
        names += [n for n in EXTRACTION_METRICS if n not in names]
    for n in names:
        METRICS.get(n, field="eval.metrics")
    return names


def select_items(data: UnlearningData, cfg: EvalConfig, portion: str | None = None) -> dict[str, list[QAItem]]:
    """The evaluated sets of ``portion`` (module docstring), each cut to its first ``cfg.limit``
    facts when set (``--limit``: the portion rule's fact order, seed ``cfg.seed``), then to
    ``cfg.max_items_per_role`` items when set (a fixed, seeded subset). Every evaluation builds
    its sets here: a limit reaches the reference models, checkpoints and attacks alike."""
    from oblivio.data.portions import evaluated_sets, first_facts
    by_role = evaluated_sets(data, portion)
    if cfg.limit:
        by_role = {r: first_facts(v, cfg.limit, role=r, seed=cfg.seed) for r, v in by_role.items()}
    if cfg.max_items_per_role:
        rng = random.Random(cfg.seed)
        by_role = {r: (sorted(rng.sample(v, cfg.max_items_per_role), key=lambda it: it.id)
                       if len(v) > cfg.max_items_per_role else v) for r, v in by_role.items()}
    return by_role


def generation_limits(tokenizer, by_role: dict[str, list[QAItem]], cfg: EvalConfig,
                      fmt: PromptFormat) -> dict[str, int]:
    """Greedy-generation token limit per role: ``cfg.max_new_tokens`` when set, else the
    role's longest answer in tokens (with the end-of-answer token) + ``cfg.gen_margin``, and in
    the chat style at least ``cfg.chat_min_new_tokens``."""
    if cfg.max_new_tokens is not None:
        return {r: int(cfg.max_new_tokens) for r in by_role}
    floor = cfg.chat_min_new_tokens if fmt.style == "chat" else 1
    return {r: max(floor, max((len(cached_answer(tokenizer, fmt, it.answer)) for it in items), default=1)
                   + cfg.gen_margin)
            for r, items in by_role.items()}


def compute_stats(model, tokenizer, by_role: dict[str, list[QAItem]], needs: set[str], *,
                  cfg: EvalConfig, fmt: PromptFormat, embedder=None) -> dict[str, SetStats]:
    """The shared passes: each computed once for all sets, then split back per item."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    flat: list[tuple[str, QAItem, ItemStats]] = []
    for role, items in by_role.items():
        for it in items:
            flat.append((role, it, ItemStats(item=it)))
    computed: set[str] = set()
    limit: dict[str, int] = {}
    stats = [s for _, _, s in flat]
    if needs & {"tf", "perturbed"}:
        _teacher_forced_pass(model, tokenizer, flat, pad, cfg=cfg, fmt=fmt)
        computed.add("tf")
    if "perturbed" in needs:
        _perturbed_pass(model, tokenizer, flat, pad, cfg=cfg, fmt=fmt)
        computed.add("perturbed")
    if needs & {"gen", "para_gen", "embed"}:
        limit = generation_limits(tokenizer, by_role, cfg, fmt)
        _generation_pass(model, tokenizer, flat, limit, para="para_gen" in needs, cfg=cfg, fmt=fmt)
        computed.add("gen")
        if "para_gen" in needs:
            computed.add("para_gen")
        if "embed" in needs and embedder is not None:
            cos = embedder.cosine([s.generation or "" for s in stats], [it.answer for _, it, _ in flat])
            for s, c in zip(stats, cos):
                s.gen_embedding_cos = float(c)
            computed.add("embed")
    if "extraction" in needs:
        _extraction_pass(model, tokenizer, flat, with_tf="tf" in computed, cfg=cfg, fmt=fmt)
        computed.add("extraction")
    if any(it.key for _, it, _ in flat):
        computed.add("key")
    from oblivio.roles import base_role
    if any(base_role(r) == "holdout" for r in by_role):
        computed.add("holdout")
    out: dict[str, SetStats] = {}
    for role in by_role:
        out[role] = SetStats(role=role, items=[s for r, _, s in flat if r == role], computed=frozenset(computed),
                             gen_max_new_tokens=limit.get(role) if "gen" in computed else None)
    return out


_Flat = list[tuple[str, QAItem, ItemStats]]     # (role, item, its stats being filled), every set in one list


def _teacher_forced_pass(model, tokenizer, flat: _Flat, pad: int, *, cfg: EvalConfig, fmt: PromptFormat) -> None:
    """Per-token log-probabilities, correctness and Min-K%++ of every item's own answer."""
    from oblivio.eval.passes import teacher_forced
    encs = encode_items(tokenizer, fmt, [it for _, it, _ in flat])
    eos = tokenizer.eos_token_id
    for (_, _, s), e, o in zip(flat, encs, teacher_forced(model, encs, pad, batch_size=cfg.batch_size)):
        s.token_logprobs, s.token_correct, s.token_minkpp = o.logprobs, o.correct, o.minkpp
        # encode_answer appends EOS to mark the end of the answer: not part of its text
        s.eos_last = eos is not None and len(e.answer) > 0 and e.answer[-1] == eos


def _perturbed_pass(model, tokenizer, flat: _Flat, pad: int, *, cfg: EvalConfig, fmt: PromptFormat) -> None:
    """Mean log-probabilities of the paraphrased (true) answer and of each perturbed answer, for
    the truth ratio; without a paraphrase the true one is the answer's (the pass before)."""
    from oblivio.eval.passes import teacher_forced
    seqs: list[Encoded] = []
    owners: list[tuple[int, bool]] = []
    for k, (_, it, s) in enumerate(flat):
        if not it.perturbed_answers:
            continue
        if it.paraphrased_answer:
            seqs.append(encode_pair(tokenizer, fmt, it.question, it.paraphrased_answer))
            owners.append((k, True))
        elif s.token_logprobs is not None:   # the answer itself: reuse the pass above
            s.true_mean_logprob = float(s.token_logprobs.mean())
        for p in it.perturbed_answers:
            seqs.append(encode_pair(tokenizer, fmt, it.question, p))
            owners.append((k, False))
    outs = teacher_forced(model, seqs, pad, batch_size=cfg.batch_size, full=False) if seqs else []
    for (k, is_true), o in zip(owners, outs):
        m = float(o.logprobs.mean())
        if is_true:
            flat[k][2].true_mean_logprob = m
        else:
            flat[k][2].perturbed_mean_logprobs.append(m)


def _generation_pass(model, tokenizer, flat: _Flat, limit: dict[str, int], *, para: bool, cfg: EvalConfig,
                     fmt: PromptFormat) -> None:
    """Greedy answers to every question (and, with ``para``, to its paraphrase), in one batched call."""
    from oblivio.eval.generate import greedy_generate_ex
    prompts, owners, limits = [], [], []
    for k, (role, it, _) in enumerate(flat):
        prompts.append(cached_prompt(tokenizer, fmt, it.question))
        owners.append((k, False))
        limits.append(limit[role])
        if para and it.paraphrased_question:
            prompts.append(cached_prompt(tokenizer, fmt, it.paraphrased_question))
            owners.append((k, True))
            limits.append(limit[role])
    gens, cut = greedy_generate_ex(model, tokenizer, prompts, max_new_tokens=limits,
                                   batch_size=cfg.batch_size, fmt=fmt)
    for (k, is_para), g, c in zip(owners, gens, cut):
        s = flat[k][2]
        if is_para:
            s.para_generation = g
        else:
            s.generation = g
            s.gen_truncated = c


def _extraction_pass(model, tokenizer, flat: _Flat, *, with_tf: bool, cfg: EvalConfig, fmt: PromptFormat) -> None:
    """PS series and extraction strength (eval/extraction.py): exact variants decided from
    teacher forcing (the shared pass, when ``with_tf``), PS-similar by binary search over prefix
    lengths, every search round one batched greedy call for all items."""
    from oblivio.eval.extraction import extraction_stats
    from oblivio.metrics.extraction import VARIANT_OF
    variants = [v for m, v in VARIANT_OF.items() if m in (cfg.metrics or ()) or not cfg.metrics or cfg.extraction]
    stats = [s for _, _, s in flat]
    ex = extraction_stats(model, tokenizer, [it for _, it, _ in flat], fmt=fmt, batch_size=cfg.batch_size,
                          variants=variants, token_correct=[s.token_correct for s in stats] if with_tf else None)
    for s, d in zip(stats, ex):
        for attr, v in d.items():
            setattr(s, attr, v)


def evaluate_model(model, tokenizer, data: UnlearningData, *, cfg: EvalConfig | None = None,
                   fmt: PromptFormat | None = None, gold: EvalReport | None = None,
                   name: str = "model", embedder=None, portion: str | None = None,
                   log: Callable[[str], None] | None = None) -> EvalReport:
    """Every selected metric on every set of ``portion`` of ``data`` (see module docstring):
    ``"test"`` for a reported evaluation, ``"val"`` for a selection, None (the default) for
    data built for the purpose, its roles as named. ``log``: where the evaluation says it starts
    and how long it took (oblivio/progress.py ``phase``); None for an evaluation inside other
    work (an attack's scoring, a checkpoint's), which says nothing."""
    cfg = cfg or EvalConfig()
    fmt = resolve_format(tokenizer, fmt)
    names = _metric_names(cfg)
    metrics = [METRICS.get(n) for n in names]
    by_role = select_items(data, cfg, portion)
    if log is None:
        return _evaluate(model, tokenizer, data, by_role, metrics, cfg=cfg, fmt=fmt, gold=gold, name=name,
                         embedder=embedder, portion=portion)
    from oblivio.progress import phase
    n_items = sum(len(v) for v in by_role.values())
    with phase(f"evaluating {name}", f"{len(by_role)} sets, {n_items} items"
               + (f" ({portion} portion)" if portion else ""), log=log):
        return _evaluate(model, tokenizer, data, by_role, metrics, cfg=cfg, fmt=fmt, gold=gold, name=name,
                         embedder=embedder, portion=portion)


def _evaluate(model, tokenizer, data: UnlearningData, by_role: dict[str, list[QAItem]], metrics: list[Any], *,
              cfg: EvalConfig, fmt: PromptFormat, gold: EvalReport | None, name: str, embedder: Any,
              portion: str | None) -> EvalReport:
    """:func:`evaluate_model` on the selected items ``by_role``."""
    needs = {n for m in metrics for n in m.needs}
    t0 = time.perf_counter()
    was_training = model.training
    model.eval()
    sets = compute_stats(model, tokenizer, by_role, needs, cfg=cfg, fmt=fmt, embedder=embedder)
    if "judge" in needs:     # TRU's UQ/RQ judge on the generations (eval/judging.py; eval.judge)
        from oblivio.eval.judging import judge_sets
        judge_sets(model, tokenizer, sets, data, cfg=cfg, fmt=fmt)
    if was_training:
        model.train()
    ms = ModelStats(name=name, sets=sets)
    for role, s in sets.items():
        ms.set_results[role] = {m.name: m.fn(s) for m in metrics if m.scope == "set"}
    gold_stats = gold.stats if gold is not None else None
    model_res = {m.name: m.fn(ms, gold_stats) for m in metrics if m.scope == "model"}
    if name == "gold":
        # the gold model is these metrics' reference: it is not compared with itself, and
        # "no gold model given" would read as if it were missing
        from oblivio.metrics.model_level import NO_GOLD
        model_res = {k: MetricResult.skip("the gold model is the reference of this metric")
                     if r.skipped == NO_GOLD else r for k, r in model_res.items()}
    # 95% intervals from a bootstrap over facts (eval/intervals.py)
    from oblivio.eval.intervals import attach_intervals, describe
    from oblivio.metrics.stats import fact_of
    attach_intervals(ms, model_res, n_boot=cfg.bootstrap, seed=cfg.seed, gold=gold_stats)
    return EvalReport(
        name=name, sets=ms.set_results, model=model_res,
        item_ids={r: [s.item.id for s in st.items] for r, st in sets.items()},
        item_facts={r: [fact_of(s.item) for s in st.items] for r, st in sets.items()},
        generations={r: [s.generation or "" for s in st.items] for r, st in sets.items()} if "gen" in needs else {},
        seconds=time.perf_counter() - t0, stats=ms, statistics=describe(sets, cfg.bootstrap, cfg.seed, limit=cfg.limit),
        prompt_format=fmt.record(), portion=portion)
