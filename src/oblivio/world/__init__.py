"""The embedded fictional world: a seeded, offline stand-in for a real unlearning benchmark.

``build_world(world_config("tiny"))`` makes people, organisations and places with
relations (:mod:`.graph`), turns every fact into QA items through several question
phrasings, one held out (:mod:`.phrasings`), and gives each item a role relative to the
forget targets (:mod:`.splits`): forget, direct / indirect neighbours and general knowledge
after Bushipaka et al. 2025 (arXiv 2509.05316), their held-out validation and test portions,
and never-trained holdout people; wrong answers for TOFU's truth ratio (Maini et al. 2024,
arXiv 2401.06121). Every evaluated role has a validation and a test portion, disjoint by
fact (:mod:`oblivio.data.portions`).

``seed`` (``world.seed``, ``--world-seed``) makes the world: its people and their names, the
relations' values, the forget targets and the portions. The training seed (``--seed``) is
another: it never changes the world.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from oblivio.data.schema import UnlearningData
from oblivio.errors import InputError

__all__ = ["WorldConfig", "PRESETS", "build_world", "world_config"]

# Sizes. tiny: unit tests; small: quick checks; default: a CPU demo trains it in ~1-2 min;
# large: ~10x default, for GPU benchmarks.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n_people=8, n_orgs=3, n_places=4, n_holdout=1, n_targets=1),
    "small": dict(n_people=14, n_orgs=4, n_places=5, n_holdout=2, n_targets=1),
    "default": dict(n_people=30, n_orgs=6, n_places=6, n_holdout=3, n_targets=2),
    "large": dict(n_people=300, n_orgs=40, n_places=50, n_holdout=20, n_targets=8),
}

_MIN = dict(n_people=4, n_orgs=1, n_places=1, n_holdout=0, n_targets=1)


@dataclass(frozen=True)
class WorldConfig:
    """Everything that determines a world. ``dataclasses.asdict`` is JSON-serialisable
    (it is hashed to key the trained-model cache)."""

    preset: str = "default"
    seed: int = 0
    n_people: int = 30
    n_orgs: int = 6
    n_places: int = 6
    n_holdout: int = 3
    n_targets: int = 2
    test_fraction: float = 0.2      # fraction of each retain role's facts moved to <role>_test
    val_fraction: float = 0.2       # and to <role>_val (both learned, neither shown to unlearning)
    targets: tuple[str, ...] = ()   # explicit target names; empty = pick n_targets by seed

    def __post_init__(self) -> None:
        where = f"world config ({self.preset})"
        for name, lo in _MIN.items():
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise InputError(f"must be an integer >= {lo}, got {v!r}", file=where, field=name)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise InputError(f"must be an integer, got {self.seed!r}", file=where, field="seed")
        for name in ("test_fraction", "val_fraction"):
            tf = getattr(self, name)
            if not isinstance(tf, (int, float)) or isinstance(tf, bool) or not 0 <= tf < 1:
                raise InputError(f"must be a number in [0, 1), got {tf!r}", file=where, field=name)
        if self.test_fraction + self.val_fraction >= 1:
            raise InputError(f"test_fraction + val_fraction must be < 1 (unlearning keeps some retain facts), got "
                             f"{self.test_fraction} + {self.val_fraction}", file=where, field="val_fraction")
        targets = (self.targets,) if isinstance(self.targets, str) else self.targets
        if not all(isinstance(t, str) and t for t in targets):
            raise InputError("must be a list of person names", file=where, field="targets")
        # a list would break hashing and JSON round trips; the n_targets of explicit targets
        # is their count, so the cache key states what was actually built
        object.__setattr__(self, "targets", tuple(targets))
        if self.targets:
            object.__setattr__(self, "n_targets", len(self.targets))


def world_config(preset: str = "default", **overrides: Any) -> WorldConfig:
    """The config of a named preset, with field overrides (``seed=3``, ``targets=[...]``)."""
    if preset not in PRESETS:
        raise InputError(f"unknown world preset {preset!r} (known: {', '.join(PRESETS)})",
                         field="preset")
    known = {f.name for f in dataclasses.fields(WorldConfig)} - {"preset"}
    for key in overrides:
        if key not in known:
            raise InputError(f"unknown world setting {key!r} (known: {', '.join(sorted(known))})",
                             field=key)
    return WorldConfig(preset=preset, **{**PRESETS[preset], **overrides})


def build_world(cfg: WorldConfig | None = None) -> UnlearningData:
    """Build the world's items with their roles. Deterministic for a config."""
    from oblivio.world.graph import build_graph
    from oblivio.world.phrasings import fact_items
    from oblivio.world.splits import assign_roles, choose_targets

    cfg = cfg if cfg is not None else world_config()
    graph = build_graph(cfg)
    targets = choose_targets(graph, cfg)
    # targets and holdout people never appear as wrong answers: no retain item may carry a
    # target's name, and no trained item may carry a holdout name
    exclude = set(targets) | set(graph.holdout_people())
    from oblivio.world.reverse import reverse_fields
    facts = [(f, fact_items(f, graph, exclude=exclude, reverse=reverse_fields(f, graph))) for f in graph.facts()]
    items = assign_roles(facts, graph, targets, test_fraction=cfg.test_fraction, seed=cfg.seed,
                         val_fraction=cfg.val_fraction)
    from oblivio.data.portions import assign_portions
    data = UnlearningData(items, name=f"world:{cfg.preset}", targets=tuple(targets),
                          neighbour_roles=True, source=dataclasses.asdict(cfg))
    return assign_portions(data, cfg.seed)
