"""Retain-sampling regimes: how each forget example is paired with a retain example.

Bushipaka, Passaro, Cucinotta 2025, "Standard vs. Modular Sampling: Best Practices for
Reliable LLM Unlearning" (arXiv 2509.05316). A sampler returns, for one epoch,
the list of (forget index, retain index) pairs; the training loop batches them in order.
Samplers are deterministic functions of (items, epoch, seed): every process of a
multi-process run computes the same list and Accelerate shards it.

Only retain items that unlearning may see are passed in (never a ``*_test`` or holdout
item); the caller guarantees that via ``UnlearningData.unlearning_retain()``. Retain
indices always index the ``retain`` sequence passed in, also for samplers that use only a
subset of it (``direct_only`` …).

Regimes, epoch lengths with F = |D_f|, R = |D_r|:

* ``one_to_one_random`` — F pairs, each f_i with a uniformly random retain row;
* ``one_to_one_sequential`` — F pairs (f_i, r_{i mod R}): the first F retain rows;
* ``cyclic`` (MUSE) — max(F, R) pairs, pair i = (f_{i mod F}, r_{i mod R});
* ``direct_only`` / ``indirect_only`` / ``balanced`` — cyclic over a subset of the retain
  rows (see :mod:`oblivio.data.samplers_neighbour`);
* ``melu`` — same-entity pairs per target, plus general rows with a random forget row.

**What is shuffled each epoch (our choice).** For the rule-based regimes (1:1 sequential,
the cyclic family, MELU's entity pairs) the *set* of pairs is fixed by the rule and only the
*order* in which the pairs are visited is a seeded per-epoch permutation. This mirrors the
MUSE/OpenUnlearning implementation, where a shuffling DataLoader draws indices i of a dataset
whose item i is (f_{i mod F}, r_{i mod R}). ``one_to_one_random`` redraws the retain partner
itself every epoch, as TOFU does.

Empty retain: the 1:1 regimes return retain index -1 (the loss then has no retain term);
every other regime raises :class:`~oblivio.errors.InputError`, since it is defined by its
retain rows.
"""
from __future__ import annotations

import random
from typing import Protocol, Sequence

from oblivio.data.schema import QAItem
from oblivio.errors import InputError
from oblivio.registry import SAMPLERS

Pairs = list[tuple[int, int]]


class Sampler(Protocol):
    name: str

    def epoch_pairs(self, forget: Sequence[QAItem], retain: Sequence[QAItem], *,
                    epoch: int, seed: int) -> Pairs:
        """(forget index, retain index) pairs for one epoch, in training order."""
        ...




def _rng(seed: int, epoch: int) -> random.Random:
    # one stream per (seed, epoch): reproducible, and independent of how many epochs ran before
    return random.Random(seed * 1_000_003 + epoch)


def _require_forget(name: str, forget: Sequence[QAItem]) -> None:
    if not forget:
        raise InputError(f"sampler '{name}' got an empty forget set; nothing to unlearn",
                         field="set")


def _require_retain(name: str, retain: Sequence[QAItem]) -> None:
    if not retain:
        raise InputError(f"sampler '{name}' needs retain rows but the retain set is empty; "
                         "give retain data or use 'one_to_one_random' (no retain term)",
                         field="set")


def cyclic_pairs(n_forget: int, retain_idx: Sequence[int], rng: random.Random) -> Pairs:
    """MUSE's cyclic rule over ``retain_idx`` (indices into the caller's retain list):
    max(F, R) pairs, pair i = (f_{i mod F}, r_{i mod R}), visited in a permuted order."""
    n = max(n_forget, len(retain_idx))
    pairs = [(i % n_forget, retain_idx[i % len(retain_idx)]) for i in range(n)]
    rng.shuffle(pairs)
    return pairs


@SAMPLERS.register("one_to_one_random")
class OneToOneRandom:
    """TOFU/OpenUnlearning default: each f_i with a uniformly random retain row, redrawn
    every epoch. Epoch length |D_f|; forget order shuffled each epoch."""

    name = "one_to_one_random"

    def epoch_pairs(self, forget: Sequence[QAItem], retain: Sequence[QAItem], *,
                    epoch: int, seed: int) -> Pairs:
        rng = _rng(seed, epoch)
        order = list(range(len(forget)))
        rng.shuffle(order)
        if not retain:
            return [(i, -1) for i in order]
        return [(i, rng.randrange(len(retain))) for i in order]


@SAMPLERS.register("one_to_one_sequential")
class OneToOneSequential:
    """Retain = the first |D_f| retain rows: pair i = (f_i, r_i), fixed across epochs.
    Epoch length |D_f|. When |D_r| < |D_f| the retain rows are reused cyclically
    (r_{i mod |D_r|}), so every forget row still gets a partner. Pair order permuted per epoch."""

    name = "one_to_one_sequential"

    def epoch_pairs(self, forget: Sequence[QAItem], retain: Sequence[QAItem], *,
                    epoch: int, seed: int) -> Pairs:
        rng = _rng(seed, epoch)
        if not retain:
            pairs = [(i, -1) for i in range(len(forget))]
        else:
            pairs = [(i, i % len(retain)) for i in range(len(forget))]
        rng.shuffle(pairs)
        return pairs


@SAMPLERS.register("cyclic")
class Cyclic:
    """MUSE: epoch = max(|D_f|, |D_r|) pairs, pair i = (f_{i mod |D_f|}, r_{i mod |D_r|}),
    so every retain row is seen once per epoch and the forget set is cycled to match.
    Uses every retain row regardless of its role. Pair order permuted per epoch."""

    name = "cyclic"

    def epoch_pairs(self, forget: Sequence[QAItem], retain: Sequence[QAItem], *,
                    epoch: int, seed: int) -> Pairs:
        _require_forget(self.name, forget)
        _require_retain(self.name, retain)
        return cyclic_pairs(len(forget), range(len(retain)), _rng(seed, epoch))


def get_sampler(name: str) -> Sampler:
    return SAMPLERS.get(name, field="sampler")()
