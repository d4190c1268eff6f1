"""NPO with stand-in targets: each forget question is answered as the model answers the same
question about a person it never learned of, instead of with maximum entropy.

Why. Maximum entropy (``npo_me``'s second term) moves every forget answer position toward the
uniform distribution. A model that never saw a fact does not answer that way: it answers
fluently and wrongly. On a small file learned by a small model, the uniform target taught a
mode of its own ("keep keep keep …"), and the mode spread to held-out questions about the
targets' neighbours, which then lost their answers too. The targets here come from the
**stand-in question**: the forget question with the target's name replaced by an invented name
that no row of the data mentions. This is the "generic prediction" of Eldan & Russinovich 2023
("Who's Harry Potter? Approximate Unlearning in LLMs", arXiv 2310.02238: the terms that
identify what is forgotten are replaced by generic ones and the model's own predictions on the
replaced text become the fine-tuning target). Two targets, weighted by t (``tokens``):

* the **stand-in answer** ŷ_f: the model's greedy answer to the stand-in question, generated
  once before the first step (by the model being unlearned: ``prepare`` hands it over; under
  LoRA the adapter starts at zero, so it is the base), the stand-in name written back as the
  target's; learned with NLL, weight 1 − t. It teaches what to *say*;
* the **stand-in distributions** q: at every token of the true answer that the name swap leaves
  in place (the two answers' tokens aligned by ``difflib``; the name's own tokens have no
  counterpart and no target), the frozen reference's next-token distribution on the stand-in
  question and the true answer with the name swapped, matched by KL(q ‖ p_θ) on the true
  question and answer, weight t. It reaches the true answer's own positions, which teacher-forced
  probes read (membership inference, the logit lens). Inside the answer's ``key`` the share
  ``ban`` of the true token's mass is taken away (1, the default: its logit set to −∞; b < 1:
  lowered by −log(1 − b); q renormalised): asked about a stranger, the model draws its guesses
  from the answers it knows, the forgotten one among them, and a model that never learned the
  fact would not name it.

The **stranger floor** φ (``floor``, 0 by default: off) weighs NPO per row. A row with a
stand-in whose aligned answer tokens the model already finds, on average, no more likely than
q gives them before the key's removal (the reference's log-probability of the same tokens
after the stand-in question) keeps 1 − φ of its NPO term: NPO pushes a forget answer down to
the level of a person the model never learned of, and less beyond it. Membership inference
reads the pushed answers; a model pushed past that level finds them less familiar than a
stranger's facts, which the privacy verdict calls over-unlearned. The gate is read without
gradient, per step, from the passes the token targets make already.

The **anchor** κ (``anchor``, 0 by default: off) holds, in a forget answer, the target's name
as the question gives it and the word that follows the name (never a token of the key). The
held tokens leave NPO's sums (the model's and the reference's) and the stand-in targets, and
their NLL joins the bracket with weight κ. Why: a small model that learned the data from
scratch has never seen the stand-in name, and what it predicts right after it is noise; that
noise, taught at the word after the target's name, spread to the target's relatives who share
the surname ("Cosmo Shellbrook [was] born in …" turned to "Cosmo Shellbrook Pellingrove …"
on a validation file when Roswitha Shellbrook was forgotten), and NPO pushed the name itself
down until the forget answers were ".". The name and the next word are not the fact: a model
that never learned the fact still repeats the name it is asked about and goes on with "was" or
"plays". Answers that do not name the target ("He was born in …") hold nothing. The name's
share ρ (``name_hold``, 1 by default) weighs the name's tokens in that NLL (the word after the
name keeps weight 1): at ρ 0 the name is neither pushed (it stays out of NPO) nor taught back.
Why a share: membership inference reads the name's tokens too. Held at full weight, the model
copies the name with a certainty a model that never learned the fact does not have (on a
validation file the forget answers came out more familiar than gold finds them); pushed by
NPO, less familiar than that. The name's push ψ (``name_push``, 0 by default) puts the name's
tokens back into NPO's two sums at weight ψ: at ψ 1 NPO pushes the name as it does without the
anchor, and only the word after it is held.

    L = w·L_NPO(φ, κ, ψ) + (1 − w)·[(1 − t)·NLL(ŷ_f | x_f) + t·KL(q ‖ p_θ) + κ·NLL_held(ρ)] + λ·mean_ℓ KL(q ‖ p_ℓ)
        + α·NLL_r [+ γ·KL(p_ref ‖ p_θ)_r] [+ τ·(the bracket on B at θ + δ)]

The retain KL γ (``retain_kl``, 0 by default) is ``npo_me``'s (methods/npo_me.py says why).

The lens term (λ = ``lens``, 0 by default: off) is ``npo_me``'s, with the same target as the
token term: at the aligned answer tokens, KL(q ‖ p_ℓ) for the logit lens p_ℓ of every
intermediate layer (models/lens.py), averaged over those layers; the logit-lens attack reads
exactly those layers, so the target the output layer learns is asked of them too.

The bracketed tamper term is ``npo_me_tar``'s with the stand-in targets in place of maximum
entropy: after K simulated relearning steps on half the batch's facts, the other half must still
meet them (methods/npo_me_tar.py says how δ is built); τ = 0 (the default) leaves it out.

Which name, and where. An item's target is its ``entity`` field. Every target gets its own
stand-in, drawn by the run's seed from :data:`STAND_INS` among the names no row of the data
mentions (no part of them). The name is replaced where it occurs whole, then each part of it
left (a first name, a surname, a possessive) by the stand-in's part at the same place, as whole
words. An item without an ``entity``, whose question does not name it, or (t < 1) whose
stand-in answer comes back empty keeps maximum entropy for its bracket; ``record`` counts both
kinds, names the stand-ins and shows a few stand-in questions and answers.

Cost: one greedy generation over the forget set before training (t < 1); per step, one more
forward of the policy on the stand-in answers (t < 1) and one of the frozen reference on the
stand-in sequences (t > 0 or λ > 0: one pass serves both terms). A 120-step run on a file of
216 rows trained in 4.0–4.6 s with t = 1 and 5.3–6.2 s with t = 0.5, against 6.0 s for
``npo_me_tar`` with K = 1 (the seed bank and marionette cells of bench/default_protocol.py
rounds 8–9, one run each, 2 threads, on a machine that other work sometimes shared). Echoes
(ε > 0) add one greedy generation over the echo questions before training and, per step, one
forward and backward of the policy on as many echo rows as the forget batch has rows; in
round 12's file cells the whole cell (unlearning, evaluation and audit) took 21.9–36.0 s with
echoes at weight 3 against 24.0–40.4 s without (one run each, 2 threads): below what one run
resolves.

Rounds 13–15 of bench/default_protocol.py tried the floor at φ 0.5, 0.75 and 1 and the key ban
at 0; round 15, with two more validation files, chose φ 0.75 for the default recipe (φ 1
overshot on the files: their forget answers more familiar than gold finds them; ban 0 let the
logit lens read the keys; docs/results/demo.md). Round 16, with the ninth file, chose the
anchor at κ 1 with the lens term at λ 0.5 over κ 1 alone, κ 3 and round 15's recipe. Round 17
tried the name's share ρ at 0, 0.25 and 0.5 and kept ρ 1; round 18, with eleven files, chose
the name's push ψ 0.5 with ρ 0 over ψ 0.25, ψ 1 and round 16's recipe (docs/results/demo.md).

Logged parts: ``npo_me``'s with ``forget_swap`` (the bracket, averaged over the rows by their
count with maximum entropy on the rows without a stand-in) in place of ``forget_me``;
``forget_lens`` when λ > 0 (maximum entropy on the lens of the rows without a stand-in);
``forget_tamper`` when τ > 0. Defaults: ``npo_me``'s (β 0.1, w 0.5, α 1, λ 0); t 0.5, τ 0, φ 0, ban 1, κ 0, ρ 1, ψ 0.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from oblivio.config_checks import Range
from oblivio.methods.base import METHODS, LossParts, RunInputs, StepContext
from oblivio.methods.names import swap_name
from oblivio.methods.npo_me_tar import NPOMETamper

# invented names: a stand-in must be a person the model never learned of; a name that any row
# of the data mentions is skipped
STAND_INS = ("Morwen Tallis", "Jory Pellingham", "Ansel Crewdson", "Wenna Hadlow", "Idris Fennimore",
             "Tamsin Loveday", "Corin Blythewood", "Ebba Strandquist", "Perran Gostick", "Lowena Trask",
             "Caspar Vellanoweth", "Demelza Quiller")


def stand_ins(entities: list[str], texts: list[str], seed: int) -> dict[str, str]:
    """One stand-in per entity (in sorted order), drawn by ``seed`` among the names of
    :data:`STAND_INS` that no text mentions, cycling when there are more entities than names."""
    seen = "\n".join(texts)
    free = [n for n in STAND_INS if not any(part in seen for part in n.split())]
    if not free:
        free = list(STAND_INS)
    random.Random(seed).shuffle(free)
    return {e: free[k % len(free)] for k, e in enumerate(sorted(entities))}


@METHODS.register("npo_swap")
@dataclass
class NPOSwap(NPOMETamper):
    """NPO, plus the model's own answers about a stand-in name as the target of every forget question."""

    tokens: float = 0.5
    tamper: float = 0.0
    echo: float = 0.0
    floor: float = 0.0
    ban: float = 1.0
    anchor: float = 0.0
    name_hold: float = 1.0
    name_push: float = 0.0
    # per forget item (prepare_data): the stand-in encodings and alignments; not fields: never config keys
    _swap: Any = field(default=None, init=False, repr=False)
    _echoes: Any = field(default=None, init=False, repr=False)
    _model: Any = field(default=None, init=False, repr=False)
    _reference: Any = field(default=None, init=False, repr=False)
    # one step's stand-in distributions by the rows' item indices: the token and lens terms read
    # the same rows, and the reference runs once for both
    _q: dict = field(default_factory=dict, init=False, repr=False)
    _report: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    # the two targets' shares of the (1 − w) term must be a mixture
    arg_ranges: ClassVar[dict[str, tuple[float, bool] | Range]] = {
        **NPOMETamper.arg_ranges, "tokens": Range(ge=0, le=1), "echo": (0, True),
        "floor": Range(ge=0, le=1), "ban": Range(ge=0, le=1), "anchor": (0, True),
        "name_hold": Range(ge=0, le=1), "name_push": Range(ge=0, le=1)}

    @property
    def uses(self) -> frozenset[str]:
        """The reference (NPO's, the token targets' and the lens term's) whenever one is on."""
        reads = self.mix > 0 or self.tokens > 0 or self.lens > 0 or self.retain_kl > 0 or self.floor > 0
        return frozenset({"forget", "retain"} | ({"reference"} if reads else set()))

    def prepare(self, model: Any) -> None:
        self._model = model

    def prepare_data(self, inputs: RunInputs) -> None:
        super().prepare_data(inputs)
        if self._model is None:
            raise RuntimeError("npo_swap: prepare(model) was not called before prepare_data (engine/unlearning.py "
                               "calls both; in your own loop call prepare with the model to unlearn first)")
        # the generated answers are read only by the (1 − w) term's (1 − t) share
        self._swap = StandIns(self._model, inputs, generate=self.tokens < 1 and self.mix < 1, hold=self.anchor > 0)
        self._report = self._swap.report()
        if self.echo > 0:
            from oblivio.methods.echoes import Echoes
            self._echoes = Echoes(self._model, inputs)
            self._report["echoes"] = self._echoes.report()
        self._model = None          # not kept past its one use: the loop owns the model

    def record(self) -> dict[str, Any]:
        return {"stand_ins": self._report} if self._report else {}

    def loss(self, ctx: StepContext, batch) -> LossParts:
        self._reference = ctx.reference      # the token targets' model, read by spread_term
        try:
            out = super().loss(ctx, batch)
            return self._plus_echo(ctx, batch, out) if self.echo > 0 else out
        finally:
            self._reference = None           # not held past the step: the run keeps the method
            self._q = {}

    def _plus_echo(self, ctx: StepContext, batch, out: LossParts) -> LossParts:
        """``out`` + ε·NLL of as many echo rows as the forget batch has rows (methods/echoes.py),
        logged as ``retain_echo``; ``out`` itself when the run has no echo rows."""
        from oblivio.methods.ops import mean_nll
        if self._echoes is None:
            raise RuntimeError("npo_swap: prepare_data() was not called (engine/unlearning.py calls it)")
        f = batch["forget"]
        rows = self._echoes.batch(ctx.step, int(f["input_ids"].shape[0]), f["input_ids"].device)
        if rows is None:
            return out
        echo = mean_nll(unwrapped(ctx.model), rows)
        return LossParts(out.total + self.echo * echo, {**out.parts, "retain_echo": echo})

    def _targets(self, sub: dict, mask: Any) -> Targets:
        """:meth:`StandIns.targets` of ``sub``'s rows, computed once per step."""
        key = tuple(sub["index"].tolist())
        if key not in self._q:
            self._q[key] = self._stand_ins().targets(self._reference, sub, mask, ban=self.ban)
        return self._q[key]

    def npo_term(self, ctx: StepContext, f: dict, lp: Any, mask: Any) -> Any:
        """NPO on the forget rows ``f``; with the anchor (κ > 0), over the answer tokens but the
        held ones; with the stranger floor (φ > 0), a row with a stand-in whose aligned answer
        tokens the model already finds no more likely, on average, than the reference finds
        them after the stand-in question keeps only 1 − φ of its push."""
        if self.floor <= 0 and self.anchor <= 0:
            return super().npo_term(ctx, f, lp, mask)
        import torch

        from oblivio.methods.ops import npo_forget
        rows_of = self._rows(f, mask)
        weights = None
        if self.floor > 0:
            weights = torch.ones(lp.shape[0], device=lp.device)
            if rows_of.sub is not None:
                t = self._targets(rows_of.sub, mask.index_select(0, rows_of.idx))
                if len(t.rows):
                    mine = lp.detach().index_select(0, rows_of.idx)[t.rows, t.pos]
                    below = below_floor(t.rows, mine, t.stranger, rows_of.n_with)
                    weights[rows_of.idx[below]] = 1.0 - self.floor
        if self.anchor <= 0:
            return npo_forget(lp.sum(-1), ctx.reference.seq_logprob(f), self.beta, weights)
        mine, theirs = self._sums_without_held(ctx, f, lp, mask, rows_of)
        return npo_forget(mine, theirs, self.beta, weights)

    def _sums_without_held(self, ctx: StepContext, f: dict, lp: Any, mask: Any,
                           rows_of: RowSplit) -> tuple[Any, Any]:
        """NPO's two sums per row (the model's from ``lp``, the reference's) with the held
        tokens left out (NPO pushes the fact, not the name the question gives nor the word that
        follows it); with the name's push ψ (``name_push``) > 0, plus ψ times the name's tokens
        on both sides. The reference caches its summed log-likelihoods by item index; these
        sums are over fewer tokens, so they are cached apart from whole answers': without the
        held tokens under −1 − index, without only the word after the name under −1 − n − index
        (n forget items)."""
        labels, no_next = f["labels"].clone(), f["labels"].clone()
        name_lp = None
        if rows_of.sub is not None:
            sub_mask = mask.index_select(0, rows_of.idx)
            rows, pos, named = self._held(rows_of.sub, sub_mask)
            if len(rows):
                r = rows_of.idx[rows]
                name_lp = lp.new_zeros(lp.shape[0]).index_add(0, r[named], lp[r[named], pos[named]])
                lp = lp.index_put((r, pos), lp.new_zeros(len(r)))
                labels[r, pos + 1] = -100
                no_next[r[~named], pos[~named] + 1] = -100
        theirs = ctx.reference.seq_logprob({**f, "labels": labels, "index": -1 - f["index"]})
        mine = lp.sum(-1)
        if self.name_push <= 0 or name_lp is None:
            return mine, theirs
        n = len(self._stand_ins().has)
        with_name = ctx.reference.seq_logprob({**f, "labels": no_next, "index": -1 - n - f["index"]})
        return mine + self.name_push * name_lp, theirs + self.name_push * (with_name - theirs)

    def lens_term(self, model: Any, f: dict, hidden: tuple, mask: Any) -> Any:
        """The λ term: on the rows of ``f`` with a stand-in, KL(q ‖ lens) at the aligned answer
        tokens, the stand-in distributions of the token target against every intermediate
        layer's logit lens, averaged over those layers; maximum entropy on the lens of the
        others; averaged over the rows by their count."""
        import torch
        import torch.nn.functional as F

        from oblivio.methods.ops import lens_kl_uniform
        from oblivio.models.lens import lens_logits
        model = unwrapped(model)
        layers = hidden[1:-1]
        if not layers:
            return mask.new_zeros((), dtype=torch.float32)
        rows_of = self._rows(f, mask)
        on_alt = off_alt = None
        if rows_of.sub is not None:
            rows, pos, logq, _ = self._targets(rows_of.sub, mask.index_select(0, rows_of.idx))
            at = [h.index_select(0, rows_of.idx)[rows, pos] for h in layers]
            per_layer = [kl(logq, F.log_softmax(lens_logits(model, h).float(), -1)) for h in at] \
                if len(rows) else [mask.new_zeros((), dtype=torch.float32)]
            on_alt = torch.stack(per_layer).mean()
        if rows_of.keep is not None:
            off_alt = lens_kl_uniform(model, hidden, mask & rows_of.keep)
        return rows_of.mean(on_alt, off_alt)

    def _stand_ins(self) -> StandIns:
        if self._swap is None:
            raise RuntimeError("npo_swap: prepare_data() was not called (engine/unlearning.py calls it)")
        return self._swap

    def spread_term(self, model: Any, f: dict, logits: Any, mask: Any) -> tuple[str, Any]:
        """On the rows of ``f`` with a stand-in: (1 − t)·NLL of the generated stand-in answer +
        t·KL(stand-in distributions ‖ p) on the answer's own tokens; maximum entropy (from
        ``logits``) on the others; averaged over the rows by their count."""
        import torch
        import torch.nn.functional as F

        from oblivio.methods.ops import mean_nll
        swap = self._stand_ins()
        rows_of = self._rows(f, mask)
        on_alt = off_alt = None
        if rows_of.sub is not None:
            on_alt = f["input_ids"].new_zeros((), dtype=torch.float)
            if self.tokens < 1:
                on_alt = on_alt + (1 - self.tokens) * mean_nll(unwrapped(model), swap.answers.batch(rows_of.sub))
            if self.tokens > 0:
                rows, pos, logq, _ = self._targets(rows_of.sub, mask.index_select(0, rows_of.idx))
                if len(rows):
                    at = logits.index_select(0, rows_of.idx)[rows, pos]
                    on_alt = on_alt + self.tokens * kl(logq, F.log_softmax(at, -1))
            if self.anchor > 0:
                on_alt = on_alt + self.anchor * self._held_nll(rows_of, logits, mask)
        if rows_of.keep is not None:
            off_alt = super().spread_term(model, f, logits, mask & rows_of.keep)[1]
        return "forget_swap", rows_of.mean(on_alt, off_alt)

    def _held(self, sub: dict, mask: Any) -> tuple[Any, Any, Any]:
        """:meth:`StandIns.held` of ``sub``'s rows, found once per step (NPO and the bracket
        both read them)."""
        key = ("held", *sub["index"].tolist())
        if key not in self._q:
            self._q[key] = self._stand_ins().held(sub, mask)
        return self._q[key]

    def _held_nll(self, rows_of: RowSplit, logits: Any, mask: Any) -> Any:
        """NLL of the held tokens (:meth:`StandIns.held`) of the rows with a stand-in, from their
        answer-position ``logits``, averaged over them with the name's tokens weighed by ρ
        (``name_hold``) and the word after the name by 1; 0 where they have none."""
        import torch.nn.functional as F
        sub = rows_of.sub
        assert sub is not None
        rows, pos, named = self._held(sub, mask.index_select(0, rows_of.idx))
        if not len(rows):
            return logits.new_zeros(())
        at = logits.index_select(0, rows_of.idx)[rows, pos]
        nll = F.cross_entropy(at, sub["labels"][:, 1:][rows, pos], reduction="none")
        return (nll * (1 - (1 - self.name_hold) * named.to(nll.dtype))).mean()

    def _rows(self, f: dict, mask: Any) -> RowSplit:
        """The rows of the forget batch ``f`` with a stand-in and those without one."""
        import torch
        has = [self._stand_ins().has[i] for i in f["index"].tolist()]
        with_alt = [r for r, h in enumerate(has) if h]
        without = [r for r, h in enumerate(has) if not h]
        split = RowSplit(len(with_alt), len(without))
        if with_alt:
            split.idx = torch.tensor(with_alt, device=f["input_ids"].device)
            split.sub = {k: f[k].index_select(0, split.idx) for k in ("input_ids", "attention_mask", "labels", "index")}
        if without:
            split.keep = torch.zeros(len(has), 1, dtype=torch.bool, device=mask.device)
            split.keep[without] = True
        return split


class Targets(NamedTuple):
    """The token targets of a step's rows with a stand-in (:meth:`StandIns.targets`), one entry
    per aligned answer token: its row, its position, log q, and log q of the true token before
    the key's removal (the stranger floor's level)."""

    rows: Any
    pos: Any
    logq: Any
    stranger: Any


def below_floor(rows: Any, mine: Any, stranger: Any, n_rows: int) -> Any:
    """Per row (0…``n_rows``-1), whether the mean of ``mine`` (the model's log-probabilities of
    the aligned true tokens) is at or below the mean of ``stranger`` over the same tokens; a row
    without aligned tokens is not below."""
    import torch
    count = torch.zeros(n_rows, device=mine.device).index_add_(0, rows, torch.ones_like(mine))
    gap = torch.zeros(n_rows, device=mine.device).index_add_(0, rows, mine - stranger)
    return (count > 0) & (gap <= 0)


@dataclass
class RowSplit:
    """A forget batch's rows with a stand-in (``idx``, their sub-batch ``sub``) and without one
    (``keep``: a [B, 1] mask of them); :meth:`mean` weighs each side's term by its row count."""

    n_with: int
    n_without: int
    idx: Any = None
    sub: dict | None = None
    keep: Any = None

    def mean(self, on_alt: Any, off_alt: Any) -> Any:
        import torch
        parts = ([self.n_with * on_alt] if on_alt is not None else []) + \
            ([self.n_without * off_alt] if off_alt is not None else [])
        return torch.stack(parts).sum() / (self.n_with + self.n_without)


class StandIns:
    """Per forget item, what a model that never learned of its target gives: the stand-in
    question, the generated stand-in answer (when ``generate``), the true answer with the name
    swapped, and which answer tokens of the true and the swapped answer correspond."""

    def __init__(self, model: Any, inputs: RunInputs, *, generate: bool, hold: bool = False) -> None:
        from difflib import SequenceMatcher

        from oblivio.methods.alternate import AltAnswers
        from oblivio.models.format import cached_answer
        items = inputs.forget
        # every row of the data, held-out rows included: a stand-in must be no one the data names
        texts = [t for it in inputs.data.items for t in (it.question, it.answer)]
        self.names = stand_ins(sorted({it.entity for it in items if it.entity}), texts, inputs.seed)
        questions = [swap_name(it.question, it.entity, self.names[it.entity]) if it.entity else it.question
                     for it in items]
        self.has = [q != it.question for it, q in zip(items, questions)]
        answers = [it.answer for it in items]
        if generate:
            answers, self.has = generated_answers(model, inputs, questions, self.has, self.names)
        # trimmed as the forget rows are (data/collate.py encode_items: 256 tokens)
        self.answers = AltAnswers(inputs.tokenizer, inputs.fmt, [it.question for it in items], answers, max_len=256)
        swapped = [swap_name(it.answer, it.entity, self.names[it.entity]) if h and it.entity else it.answer
                   for it, h in zip(items, self.has)]
        self.swapped = AltAnswers(inputs.tokenizer, inputs.fmt, questions, swapped, max_len=256)
        # answer token j of the true answer ↔ token j' of the swapped one, where the two agree;
        # and, per item, the true answer's key tokens (position j → token id)
        self.pairs: list[list[tuple[int, int]]] = []
        self.key_tokens: list[dict[int, int]] = []
        self.holds: list[list[int]] = []
        for it, sw, h in zip(items, swapped, self.has):
            a = cached_answer(inputs.tokenizer, inputs.fmt, it.answer)
            b = cached_answer(inputs.tokenizer, inputs.fmt, sw)
            blocks = SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
            self.pairs.append([(m.a + k, m.b + k) for m in blocks for k in range(m.size)])
            self.key_tokens.append({j: a[j] for j in key_positions(inputs.tokenizer, a, it.key)})
            # the anchor's tokens: the target's name as the question gives it, and the word
            # after it; never a key token. They leave the stand-in targets (below)
            self.holds.append(held_tokens(inputs.tokenizer, a, {j for j, _ in self.pairs[-1]}, it.question,
                                          set(self.key_tokens[-1])) if hold and h else [])
        self.examples = [{"question": it.question, "stand_in_question": q, "stand_in_answer": ans}
                         for it, q, ans, h in zip(items, questions, answers, self.has) if h][:3] if generate else \
            [{"question": it.question, "stand_in_question": q} for it, q, h in zip(items, questions, self.has) if h][:3]

    def report(self) -> dict[str, Any]:
        n = len(self.has)
        return {"items": n, "stand_in": sum(self.has), "maximum_entropy": n - sum(self.has),
                "names": dict(self.names), "examples": self.examples}

    def held(self, sub: dict, mask: Any) -> tuple[Any, Any, Any]:
        """(rows, positions, named) in ``mask``'s coordinates ([R, T-1], the answer positions of
        ``sub``'s rows) that predict the held tokens of ``sub``'s rows; ``named`` tells, per
        entry, whether the token is part of the target's name (one the swap replaced: no pair in
        the alignment) rather than the word after it."""
        import torch
        rows, at, named = [], [], []
        for r, i in enumerate(sub["index"].tolist()):
            pos = mask[r].nonzero().flatten().tolist()
            aligned = {j for j, _ in self.pairs[i]}
            for j in self.holds[i]:
                if j < len(pos):
                    rows.append(r)
                    at.append(pos[j])
                    named.append(j not in aligned)
        dev = mask.device
        return (torch.tensor(rows, dtype=torch.long, device=dev), torch.tensor(at, dtype=torch.long, device=dev),
                torch.tensor(named, dtype=torch.bool, device=dev))

    def targets(self, reference: Any, sub: dict, mask: Any, *, ban: float = 1.0) -> Targets:
        """:class:`Targets` of the aligned answer tokens of ``sub``'s rows: the row and the
        position (in ``mask``'s coordinates: the model's answer positions on ``sub``, [R, T-1])
        that predicts each, the reference's next-token log-distribution on the stand-in question
        and swapped answer there, the share ``ban`` of the true token's mass removed inside the
        key, and the log-probability that distribution gave the true token before the removal."""
        import torch
        import torch.nn.functional as F
        if reference is None:
            raise RuntimeError("npo_swap: the token targets need the reference model (uses declares it)")
        sw = self.swapped.batch(sub)
        with torch.no_grad():
            q_logits = reference.logits(sw)[:, :-1].float()
        q_mask = sw["labels"][:, 1:].ne(-100)
        rows, mine, theirs, banned = [], [], [], []
        for r, i in enumerate(sub["index"].tolist()):
            pos = mask[r].nonzero().flatten().tolist()
            q_pos = q_mask[r].nonzero().flatten().tolist()
            held = set(self.holds[i])
            for j, k in self.pairs[i]:
                if j < len(pos) and k < len(q_pos) and j not in held:
                    rows.append(r)
                    mine.append(pos[j])
                    theirs.append(q_pos[k])
                    banned.append(self.key_tokens[i].get(j, -1))
        dev = q_logits.device
        r_t = torch.tensor(rows, dtype=torch.long, device=dev)
        p_t = torch.tensor(mine, dtype=torch.long, device=dev)
        q = q_logits[r_t, torch.tensor(theirs, dtype=torch.long, device=dev)]
        # the aligned tokens are the same in both answers: the true answer's own label there
        true = sub["labels"][:, 1:].to(dev)[r_t, p_t]
        stranger = F.log_softmax(q, -1).gather(-1, true[:, None]).squeeze(-1) if len(rows) else q.new_zeros(0)
        # inside the key, the true token is no candidate (ban = 1): the stand-in's answers are
        # drawn from what the model knows, the forgotten answer among them; a model that never
        # learned it would not name it. A share below 1 lowers its logit by −log(1 − ban)
        tok = torch.tensor(banned, dtype=torch.long, device=dev)
        hit = tok.ge(0).nonzero().flatten()
        if len(hit) and ban > 0:
            drop = float("-inf") if ban >= 1 else math.log1p(-ban)
            q = q.index_put((hit, tok[hit]), q[hit, tok[hit]] + drop)
        return Targets(r_t, p_t, F.log_softmax(q, -1), stranger)



def unwrapped(model: Any) -> Any:
    """``model`` itself, not a data-parallel wrapper: a wrapper's forward is a collective, and
    these passes run only on processes whose batch has rows with a stand-in (the gradient still
    reaches the shared weights, and the loop's backward averages it across processes)."""
    from torch.nn.parallel import DistributedDataParallel
    return model.module if isinstance(model, DistributedDataParallel) else model


def kl(logq: Any, logp: Any) -> Any:
    """Mean over rows of KL(q ‖ p) from log-distributions [N, V]; a token q gives no mass adds nothing."""
    return (logq.exp() * (logq - logp).masked_fill(logq.isinf(), 0.0)).sum(-1).mean()


def held_tokens(tokenizer: Any, ids: list[int], aligned: set[int], question: str, key: set[int]) -> list[int]:
    """The positions of ``ids`` (an encoded true answer) the anchor holds: the target's name,
    the tokens with no counterpart in the swapped answer (``aligned`` holds those that do) whose
    decoded text, stripped, is not empty and occurs in ``question``; and after each run of
    unaligned tokens, the first aligned token (the word that follows the name). Never a
    position of ``key``."""
    out = set()
    for j, tok in enumerate(ids):
        text = tokenizer.decode([tok]).strip()
        if j not in aligned and text and text in question:
            out.add(j)
        if j in aligned and j > 0 and j - 1 not in aligned:
            out.add(j)
    return sorted(out - key)


def key_positions(tokenizer: Any, ids: list[int], key: str | None) -> list[int]:
    """The positions of ``ids`` (an encoded answer) whose decoded text overlaps the first
    occurrence of ``key`` in the decoded answer; none without a key or where it does not occur."""
    if not key:
        return []
    ends = [len(tokenizer.decode(ids[:j + 1])) for j in range(len(ids))]
    start = tokenizer.decode(ids).find(key)
    if start < 0:
        return []
    stop = start + len(key)
    return [j for j in range(len(ids)) if (ends[j - 1] if j else 0) < stop and ends[j] > start]


def generated_answers(model: Any, inputs: RunInputs, questions: list[str], has: list[bool],
                      names: dict[str, str]) -> tuple[list[str], list[bool]]:
    """(answers, has a stand-in) per forget item: the model's greedy answer to its stand-in
    question, the stand-in written back as the target's name; an item without a stand-in
    question, or whose answer comes back empty, keeps its own answer (never trained: its term
    is maximum entropy)."""
    from oblivio.methods.alternate import greedy_answers
    items = inputs.forget
    todo = [i for i, h in enumerate(has) if h]
    answers, out = [it.answer for it in items], [False] * len(items)
    for i, text in zip(todo, greedy_answers(model, inputs, [(questions[i], i) for i in todo])):
        ent = items[i].entity
        if text and ent:
            answers[i], out[i] = swap_name(text, names[ent], ent), True
    return answers, out
