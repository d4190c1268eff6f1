"""Retain-sampling regimes (SPEC §1 S0, Bushipaka et al. 2025): property tests over small
random synthetic worlds, plus the error cases."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from oblivio.data.samplers import SAMPLERS, get_sampler
from oblivio.data.samplers_neighbour import balanced_indirect
from oblivio.data.schema import RETAIN_ROLES, QAItem, UnlearningData
from oblivio.errors import InputError

ALL = ("one_to_one_random", "one_to_one_sequential", "cyclic", "direct_only",
       "indirect_only", "balanced", "melu")
ONE_TO_ONE = ("one_to_one_random", "one_to_one_sequential")
POOL = ("A", "B", "C", "D")
GENERAL_LIKE = ("general", "retain")
FAST = settings(max_examples=50, deadline=None)


def _item(k: int, role: str, targets: tuple[str, ...] = ()) -> QAItem:
    return QAItem(id=f"i{k}", question=f"question {k}?", answer=f"answer {k}", role=role,
                  entity=f"e{k}", targets=targets)


targets_st = st.lists(st.sampled_from(POOL), min_size=1, max_size=2, unique=True).map(tuple)


@st.composite
def worlds(draw: st.DrawFn) -> UnlearningData:
    """Forget rows with targets; retain rows of every role (neighbours may name targets that
    are not forget targets); plus *_test and holdout rows that no sampler may ever return."""
    forget = draw(st.lists(targets_st, min_size=1, max_size=7))
    # usable roles listed twice: most draws then exercise the regimes, not their errors
    roles = st.sampled_from(("direct", "indirect", "general", "direct", "indirect", "general",
                             "retain", "direct_test", "indirect_test", "general_test",
                             "retain_test", "holdout"))
    others = draw(st.lists(st.tuples(roles, targets_st), max_size=16))
    if draw(st.booleans()):   # half the worlds surely have both neighbour kinds
        others += [("direct", forget[0]), ("indirect", draw(targets_st))]
    items = [_item(k, "forget", t) for k, t in enumerate(forget)]
    for k, (role, t) in enumerate(others, start=len(items)):
        neighbour = role.split("_")[0] in ("direct", "indirect")
        items.append(_item(k, role, t if neighbour else ()))
    return UnlearningData(items, name="synthetic")


def _melu_len(forget: list[QAItem], retain: list[QAItem]) -> int:
    """Independent count of MELU's epoch length (see the MELU docstring)."""
    ftargets = {t for f in forget for t in f.targets}
    n, covered, attached = 0, set(), set()
    for t in ftargets:
        mine = [i for i, f in enumerate(forget) if t in f.targets]
        rows = [j for j, r in enumerate(retain) if r.role in ("direct", "indirect") and t in r.targets]
        if rows:
            n += max(len(mine), len(rows))
            covered.update(mine)
            attached.update(rows)
    general = sum(1 for j, r in enumerate(retain) if r.role in GENERAL_LIKE or j not in attached)
    return n + (len(forget) - len(covered)) + general


def _expected_len(name: str, forget: list[QAItem], retain: list[QAItem], seed: int) -> int:
    F = len(forget)
    count = Counter(r.role for r in retain)
    general = count["general"] + count["retain"]
    if name in ONE_TO_ONE:
        return F
    if name == "cyclic":
        return max(F, len(retain))
    if name == "direct_only":
        return max(F, count["direct"] + general)
    if name == "indirect_only":
        return max(F, count["indirect"] + general)
    if name == "balanced":
        return max(F, count["direct"] + general + len(balanced_indirect(retain, seed)))
    return _melu_len(forget, retain)


def _should_fail(name: str, forget: list[QAItem], retain: list[QAItem]) -> bool:
    roles = {r.role for r in retain}
    if name in ONE_TO_ONE:
        return False
    if not retain:
        return True
    if name == "direct_only":
        return "direct" not in roles
    if name == "indirect_only":
        return "indirect" not in roles
    if name == "balanced":
        return not {"direct", "indirect"} <= roles
    if name == "melu":
        ftargets = {t for f in forget for t in f.targets}
        attached = [r for r in retain if r.role in ("direct", "indirect") and set(r.targets) & ftargets]
        if not attached:
            return True
        orphan = any(not any(set(r.targets) & set(f.targets) for r in attached) for f in forget)
        has_general = len(attached) < len(retain)
        return orphan and not has_general
    return False


@pytest.mark.parametrize("name", ALL)
@FAST
@given(data=worlds(), seed=st.integers(0, 5), epoch=st.integers(0, 3))
def test_sampler_properties(data: UnlearningData, name: str, seed: int, epoch: int) -> None:
    forget, retain = data.forget, data.unlearning_retain()
    sampler = get_sampler(name)
    event("expected InputError" if _should_fail(name, forget, retain) else "sampled")
    if _should_fail(name, forget, retain):
        with pytest.raises(InputError):
            sampler.epoch_pairs(forget, retain, epoch=epoch, seed=seed)
        return
    pairs = sampler.epoch_pairs(forget, retain, epoch=epoch, seed=seed)
    # epoch length per regime
    assert len(pairs) == _expected_len(name, forget, retain, seed)
    # every forget row at least once per epoch (exactly once for 1:1)
    seen = Counter(i for i, _ in pairs)
    assert set(seen) == set(range(len(forget)))
    if name in ONE_TO_ONE:
        assert all(c == 1 for c in seen.values())
    # retain indices index the retain list the caller passed; never a *_test/holdout item
    for _, j in pairs:
        if not retain:
            assert j == -1 and name in ONE_TO_ONE
            continue
        assert 0 <= j < len(retain)
        assert retain[j].role in RETAIN_ROLES
        assert not retain[j].role.endswith("_test") and retain[j].role != "holdout"
    if name == "direct_only":
        assert all(retain[j].role in ("direct", *GENERAL_LIKE) for _, j in pairs)
    if name == "indirect_only":
        assert all(retain[j].role in ("indirect", *GENERAL_LIKE) for _, j in pairs)
    if name in ("cyclic", "direct_only", "indirect_only"):
        # the cyclic rule visits every usable retain row each epoch
        usable = {"cyclic": RETAIN_ROLES, "direct_only": ("direct", *GENERAL_LIKE),
                  "indirect_only": ("indirect", *GENERAL_LIKE)}[name]
        assert {j for _, j in pairs} == {j for j, r in enumerate(retain) if r.role in usable}
    if name == "balanced":
        kept = set(balanced_indirect(retain, seed))
        assert {j for _, j in pairs if retain[j].role == "indirect"} == kept
    if name == "melu":
        ftargets = {t for f in forget for t in f.targets}
        for i, j in pairs:
            # a neighbour of some forget target is only ever paired with its own entity's rows
            if retain[j].role in ("direct", "indirect") and set(retain[j].targets) & ftargets:
                assert set(forget[i].targets) & set(retain[j].targets), (forget[i], retain[j])
    # determinism: same (seed, epoch) → same list
    assert sampler.epoch_pairs(forget, retain, epoch=epoch, seed=seed) == pairs
    # the order varies across epochs once there are enough distinct pairs to permute
    if len(set(pairs)) >= 6:
        others = [sampler.epoch_pairs(forget, retain, epoch=e, seed=seed) for e in (epoch + 1, epoch + 2)]
        assert any(o != pairs for o in others)


@FAST
@given(data=worlds(), seed=st.integers(0, 100))
def test_balanced_counts_per_target(data: UnlearningData, seed: int) -> None:
    retain = data.unlearning_retain()
    kept = balanced_indirect(retain, seed)
    direct = Counter(r.targets[0] for r in retain if r.role == "direct")
    avail = Counter(r.targets[0] for r in retain if r.role == "indirect")
    got = Counter(retain[j].targets[0] for j in kept)
    assert all(retain[j].role == "indirect" for j in kept)
    for t in POOL:
        assert got[t] == min(direct[t], avail[t])
    assert balanced_indirect(retain, seed) == kept   # seed-only: same every call/epoch


def _small() -> tuple[list[QAItem], list[QAItem]]:
    forget = [_item(k, "forget", ("A",) if k % 2 else ("B",)) for k in range(6)]
    retain = ([_item(10 + k, "direct", ("A",) if k % 2 else ("B",)) for k in range(4)]
              + [_item(20 + k, "indirect", ("A",) if k % 3 else ("B",)) for k in range(9)]
              + [_item(30 + k, "general") for k in range(5)])
    return forget, retain


def test_registry_and_unknown_name() -> None:
    assert set(ALL) == set(SAMPLERS.names())
    with pytest.raises(InputError, match="did you mean 'cyclic'"):
        get_sampler("cyclc")


@pytest.mark.parametrize("name", ALL)
def test_shuffled_across_epochs_and_seeds(name: str) -> None:
    forget, retain = _small()
    s = get_sampler(name)
    e0 = s.epoch_pairs(forget, retain, epoch=0, seed=0)
    assert s.epoch_pairs(forget, retain, epoch=0, seed=0) == e0
    assert s.epoch_pairs(forget, retain, epoch=1, seed=0) != e0
    assert s.epoch_pairs(forget, retain, epoch=0, seed=1) != e0


def test_rule_based_pairs_are_fixed_only_order_changes() -> None:
    forget, retain = _small()
    for name in ("one_to_one_sequential", "cyclic", "direct_only", "indirect_only", "balanced"):
        s = get_sampler(name)
        assert sorted(s.epoch_pairs(forget, retain, epoch=0, seed=3)) == \
            sorted(s.epoch_pairs(forget, retain, epoch=5, seed=3))
    seq = get_sampler("one_to_one_sequential").epoch_pairs(forget, retain, epoch=0, seed=0)
    assert sorted(seq) == [(i, i) for i in range(6)]          # first |D_f| retain rows
    cyc = get_sampler("cyclic").epoch_pairs(forget, retain, epoch=0, seed=0)
    assert sorted(cyc) == sorted((i % 6, i) for i in range(18))


@pytest.mark.parametrize("name", [n for n in ALL if n not in ONE_TO_ONE])
def test_empty_retain_raises(name: str) -> None:
    forget, _ = _small()
    with pytest.raises(InputError, match="retain set is empty"):
        get_sampler(name).epoch_pairs(forget, [], epoch=0, seed=0)


@pytest.mark.parametrize("name", ONE_TO_ONE)
def test_empty_retain_one_to_one(name: str) -> None:
    forget, _ = _small()
    pairs = get_sampler(name).epoch_pairs(forget, [], epoch=0, seed=0)
    assert sorted(pairs) == [(i, -1) for i in range(6)]


@pytest.mark.parametrize("name,role", [("direct_only", "direct"), ("indirect_only", "indirect"),
                                       ("balanced", "direct"), ("melu", "direct")])
def test_missing_role_is_input_error(name: str, role: str) -> None:
    forget, _ = _small()
    retain = [_item(40 + k, "retain") for k in range(3)]
    with pytest.raises(InputError, match=f"'{role}'.*neighbour map") as e:
        get_sampler(name).epoch_pairs(forget, retain, epoch=0, seed=0)
    assert e.value.field == "set"


def test_melu_needs_forget_targets() -> None:
    _, retain = _small()
    forget = [_item(50, "forget")]
    with pytest.raises(InputError, match="item.targets on every forget row") as e:
        get_sampler("melu").epoch_pairs(forget, retain, epoch=0, seed=0)
    assert e.value.field == "targets"


def test_melu_neighbours_must_name_a_target() -> None:
    forget, _ = _small()
    retain = [_item(60, "direct", ("Z",)), _item(61, "general")]
    with pytest.raises(InputError, match="names a forget target") as e:
        get_sampler("melu").epoch_pairs(forget, retain, epoch=0, seed=0)
    assert e.value.field == "targets"


def test_balanced_needs_neighbour_targets() -> None:
    forget, retain = _small()
    retain = retain + [_item(70, "indirect")]
    with pytest.raises(InputError, match="item.targets") as e:
        get_sampler("balanced").epoch_pairs(forget, retain, epoch=0, seed=0)
    assert e.value.field == "targets"


def test_melu_pairs_same_entity_and_general_rows() -> None:
    forget, retain = _small()
    pairs = get_sampler("melu").epoch_pairs(forget, retain, epoch=0, seed=0)
    # A: 3 forget, 2 direct + 6 indirect = 8 → 8 pairs; B: 3 forget, 2 + 3 = 5 → 5; 5 general
    assert len(pairs) == 8 + 5 + 5
    general = [j for _, j in pairs if retain[j].role == "general"]
    assert sorted(general) == list(range(13, 18))          # each general row exactly once
