"""Validation and test portions (oblivio.roles, oblivio.data.portions): the split rule, user
data, and the guard that keeps every selection on validation rows."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from oblivio.data.portions import assign_portions, evaluated_sets, split_portions
from oblivio.data.schema import QAItem, UnlearningData
from oblivio.errors import InputError
from oblivio.roles import (
    SelectionReadsTest,
    base_role,
    current_selection,
    eval_name,
    portion_of,
    report_roles,
    selecting,
    selection_roles,
)


def _facts_by_set(data: UnlearningData) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for it in data.items:
        out[eval_name(it.role, it.portion)].add(it.fact or it.id)
    return out


# --- the world ----------------------------------------------------------------------------------

def test_world_portions_cover_every_role_disjoint_by_fact() -> None:
    from oblivio.world import build_world, world_config
    d = build_world(world_config("tiny"))
    sets = _facts_by_set(d)
    # every evaluated role has both portions; unlearning's retain rows have none
    for base in ("forget", "holdout", "direct", "indirect", "general"):
        assert sets[f"{base}_val"] and sets[f"{base}_test"], base
    # disjoint by fact: no fact in two sets (of any kind)
    names = list(sets)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not sets[a] & sets[b], (a, b)
    # every phrasing of a fact (6 training phrasings, each with its held-out phrasing) in one set
    by_fact: dict[str, set[str]] = defaultdict(set)
    for it in d.items:
        by_fact[it.fact or it.id].add(eval_name(it.role, it.portion))
    assert all(len(s) == 1 for s in by_fact.values())
    # the forget set is unlearned whole: both portions are forget rows
    assert {it.portion for it in d.forget} == {"val", "test"}
    assert len(d.forget) == sum(1 for it in d.items if base_role(eval_name(it.role, it.portion)) == "forget")
    # tiny: 7 forget facts → ⌊7/2⌋ = 3 validation, 4 test; 4 holdout facts → 2 and 2
    assert (len(sets["forget_val"]), len(sets["forget_test"])) == (3, 4)
    assert (len(sets["holdout_val"]), len(sets["holdout_test"])) == (2, 2)
    # the samplers see no held-out row
    assert {it.role for it in d.unlearning_retain()} == {"direct", "indirect", "general"}


def test_world_portions_deterministic_and_seeded() -> None:
    from oblivio.world import build_world, world_config
    a, b = build_world(world_config("tiny", seed=3)), build_world(world_config("tiny", seed=3))
    assert [(it.id, it.role, it.portion) for it in a.items] == [(it.id, it.role, it.portion) for it in b.items]
    # the test facts of the retain roles are those of a world without a validation portion
    c = build_world(world_config("tiny", seed=3, val_fraction=0.0))
    assert _facts_by_set(c)["direct_test"] == _facts_by_set(a)["direct_test"]
    assert not _facts_by_set(c)["direct_val"]
    with pytest.raises(InputError) as e:
        world_config("tiny", test_fraction=0.5, val_fraction=0.5)
    assert e.value.field == "val_fraction"


# --- the rule -----------------------------------------------------------------------------------

def _item(i: int, role: str, fact: str, portion: str | None = None) -> QAItem:
    return QAItem(id=f"i{i}", question=f"q{i}?", answer=f"a{i}", role=role, fact=fact, portion=portion)


def test_split_rule_hand_computed() -> None:
    import hashlib
    rows = [_item(k, "forget", f"f{k // 2}") for k in range(10)]        # 5 facts, 2 rows each
    out = split_portions(rows, seed=7)

    def h(f: str) -> str:
        return hashlib.sha256(f"oblivio-portion:7:forget:{f}".encode()).hexdigest()
    order = sorted({f"f{k}" for k in range(5)}, key=h)
    want = {f: ("val" if k < 2 else "test") for k, f in enumerate(order)}     # ⌊5/2⌋ = 2 validation facts
    assert {it.fact: it.portion for it in out} == want
    assert all(out[2 * k].portion == out[2 * k + 1].portion for k in range(5))   # rows of a fact together
    assert {it.fact: it.portion for it in split_portions(rows, seed=8)} != want  # another seed, another split


def test_explicit_portions_are_kept_and_spread_to_the_fact() -> None:
    rows = [_item(0, "forget", "f0", "test"), _item(1, "forget", "f0"), _item(2, "forget", "f1"),
            _item(3, "forget", "f2"), _item(4, "forget", "f3", "val")]
    out = {it.id: it.portion for it in split_portions(rows, seed=0)}
    assert out["i0"] == out["i1"] == "test" and out["i4"] == "val"
    assert sorted([out["i2"], out["i3"]]) == ["test", "val"]          # the others: ⌊2/2⌋ = 1 validation
    clash = [_item(0, "forget", "f0", "test"), _item(1, "forget", "f0", "val")]
    with pytest.raises(InputError) as e:
        split_portions(clash, seed=0)
    assert e.value.field == "set" and "one portion" in str(e.value)


def test_user_jsonl_gets_portions_and_held_out_retain(tmp_path: Path) -> None:
    from oblivio.data.neighbours import load_jsonl_data
    rows = [{"question": f"Where does P{k} live?", "answer": f"In T{k}.", "set": "forget", "fact": f"f{k}",
             "entity": "P"} for k in range(6)]
    rows += [{"question": f"Q{k}?", "answer": f"A{k}.", "set": "retain", "fact": f"r{k}"} for k in range(10)]
    rows += [{"question": f"H{k}?", "answer": f"B{k}.", "set": "holdout", "fact": f"h{k}"} for k in range(4)]
    rows += [{"question": "G?", "answer": "G.", "set": "general_test"}]       # explicit: kept
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    d = load_jsonl_data(str(p), seed=0)
    sets = _facts_by_set(d)
    assert (len(sets["forget_val"]), len(sets["forget_test"])) == (3, 3)
    assert (len(sets["holdout_val"]), len(sets["holdout_test"])) == (2, 2)
    # retain had no held-out row: round(0.2 · 10) = 2 facts each to retain_val and retain_test
    assert (len(sets["retain_val"]), len(sets["retain_test"]), len(sets["retain"])) == (2, 2, 6)
    assert len(sets["general_test"]) == 1 and "general_val" not in sets and "general" not in sets
    assert len(d.forget) == 6                                           # still unlearned whole
    # the same file, the same split; the rows written back name their sets
    again = load_jsonl_data(str(p), seed=0)
    assert [(it.id, it.role, it.portion) for it in again.items] == [(it.id, it.role, it.portion) for it in d.items]
    assert {it.to_json()["set"] for it in d.forget} == {"forget_val", "forget_test"}


@pytest.mark.parametrize("row,field,needle", [
    ({"question": "q", "answer": "a", "set": "forget_tset"}, "set", "did you mean 'forget_test'"),
    ({"question": "q", "answer": "a", "set": "direct_valid"}, "set", "unknown set role"),
    ({"question": "q", "answer": "a", "set": "forget_val_test"}, "set", "unknown set role"),
])
def test_bad_role_names_name_file_line_field(tmp_path: Path, row, field, needle) -> None:
    from oblivio.data.schema import read_jsonl
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps({"question": "x", "answer": "y", "set": "forget"}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(InputError) as e:
        read_jsonl(p)
    assert (e.value.file, e.value.line, e.value.field) == (str(p), 2, field) and needle in str(e.value)


def test_a_fact_in_two_portions_or_seen_and_held_out_is_refused() -> None:
    forget = _item(9, "forget", "f9")
    with pytest.raises(InputError, match="disjoint by fact"):
        UnlearningData([forget, _item(0, "direct", "r0"), _item(1, "direct_test", "r0")])
    with pytest.raises(InputError, match="disjoint by fact"):
        UnlearningData([forget, _item(0, "direct_val", "r0"), _item(1, "direct_test", "r0")])
    with pytest.raises(InputError):
        UnlearningData([forget, _item(0, "direct", "r0", "val")])     # seen by unlearning: no portion


def test_views_and_role_functions() -> None:
    names = ["forget_val", "forget_test", "direct", "direct_val", "direct_test", "holdout_val", "holdout_test"]
    assert selection_roles(names) == ["forget_val", "direct_val", "holdout_val"]
    assert report_roles(names) == ["forget_test", "direct_test", "holdout_test"]
    # no held-out retain set of a portion: the rows unlearning sees stand in (flattering, said so)
    assert selection_roles(["forget_val", "retain", "retain_test"]) == ["forget_val", "retain"]
    assert [portion_of(n) for n in ("forget_val", "direct_test", "direct", "real_authors_test")] == \
        ["val", "test", None, "test"]
    rows = [_item(k, "forget", f"f{k}") for k in range(4)] + [_item(10, "direct", "r0"),
                                                             _item(11, "direct_val", "r1"),
                                                             _item(12, "direct_test", "r2")]
    d = assign_portions(UnlearningData(rows), seed=0)
    assert list(evaluated_sets(d, "test")) == ["forget_test", "direct_test"]
    assert list(evaluated_sets(d, "val")) == ["forget_val", "direct_val"]
    assert list(evaluated_sets(d, None)) == ["forget", "direct", "direct_val", "direct_test"]


def test_guard_refuses_test_rows_inside_a_selection() -> None:
    rows = [_item(k, "forget", f"f{k}") for k in range(4)] + [_item(11, "direct_val", "r1"),
                                                             _item(12, "direct_test", "r2")]
    d = assign_portions(UnlearningData(rows), seed=0)
    evaluated_sets(d, "test")                                 # outside a selection: fine
    with selecting("a search"):
        assert current_selection() == "a search"
        assert list(evaluated_sets(d, "val")) == ["forget_val", "direct_val"]
        for portion in ("test", None):
            with pytest.raises(SelectionReadsTest, match="a search"):
                evaluated_sets(d, portion)
    assert current_selection() is None


def test_checkpoint_evaluation_reads_validation_inside_a_selection(monkeypatch) -> None:
    """Fast: the checkpoint callback's every evaluation (original, gold, checkpoints, final) is a
    selection of the validation sets, with a stub evaluator (no model)."""
    import torch

    import oblivio.eval.evaluate as E
    from oblivio.config import ControlConfig
    from oblivio.engine.checkpoint_eval import CheckpointEval
    from oblivio.eval.evaluate import EvalReport
    from oblivio.metrics.base import MetricResult
    from oblivio.world import build_world, world_config
    seen: list[tuple[str | None, str | None, list[str]]] = []

    def ev(model, tokenizer, data, *, cfg=None, name="m", portion=None, **kw):
        sets = list(evaluated_sets(data, portion))          # what the real evaluator would read
        seen.append((current_selection(), portion, sets))
        w = model.w.item()
        rep = EvalReport(name=name, sets={s: {"accuracy": MetricResult(w - 0.5)} for s in sets},
                         model={"model_utility": MetricResult(w)}, item_ids={}, generations={}, seconds=0.0)
        rep.portion = portion
        return rep
    monkeypatch.setattr(E, "evaluate_model", ev)

    class Knob(torch.nn.Module):
        def __init__(self, w: float) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor(w))
    cb = CheckpointEval(None, build_world(world_config("tiny")), ControlConfig(eval_every=1, stop_at_gold=True))
    model = Knob(1.0)
    cb.baseline(model, gold_model=Knob(0.6))
    for step, w in enumerate([0.95, 0.9], start=1):
        with torch.no_grad():
            model.w.fill_(w)
        cb(step, model)
    cb.finish(model, 2)
    assert len(seen) == 4                                     # original, gold, steps 1 and 2
    for sel, portion, sets in seen:
        assert sel is not None and portion == "val"
        assert sets == ["forget_val", "direct_val", "indirect_val", "general_val"]
    assert "direct_val" in cb.utility_roles_note and "test" not in cb.utility_roles_note.split(":")[-1]


# --- the guard on a real run ---------------------------------------------------------------------

SELECTION_NAMES = ("step-", "gold (validation)", "mix-", "reference (validation)", "base (validation)")


@pytest.fixture()
def recorded(monkeypatch):
    """Every evaluation of the run: (name, selection it ran in, portion, sets read)."""
    import oblivio.eval.evaluate as E
    real = E.evaluate_model
    calls: list[tuple[str, str | None, str | None, list[str]]] = []

    def spy(model, tokenizer, data, **kw):
        rep = real(model, tokenizer, data, **kw)
        calls.append((kw.get("name", "model"), current_selection(), kw.get("portion"), list(rep.sets)))
        return rep
    monkeypatch.setattr(E, "evaluate_model", spy)
    return calls


def _run(tiny_cfg, tiny_world, tmp_path, **over):
    from oblivio import api
    from oblivio.config import load_config, to_dict
    data, wm = tiny_world
    cfg = load_config(overrides={
        "control": {"eval_every": 2, "eval_items": 4, "stop_utility_tau": 0.5, "stop_at_gold": True},
        "post_steps": ["calibrate"], "calibrate": {"tau": 0.9, "tol": 0.2},
        # a few items per set keep it fast; every selection path still runs
        "eval": {"metrics": ["accuracy", "model_utility", "forget_quality", "mia_loss"], "bootstrap": 0,
                 "reference_cache": False, "max_items_per_role": 8},
        **over}, base=to_dict(tiny_cfg))
    return api.unlearn(str(wm.base_dir), data, gold=str(wm.gold_dir), config=cfg, run_dir=tmp_path / "run",
                       progress=False, log=lambda m: None)


@pytest.mark.slow
def test_selection_paths_read_validation_reported_numbers_test(tiny_cfg, tiny_world, tmp_path, recorded) -> None:
    res = _run(tiny_cfg, tiny_world, tmp_path)
    selections = [c for c in recorded if c[0].startswith(SELECTION_NAMES)]
    kinds = {c[0].split("-")[0].split(" ")[0] for c in selections}
    assert {"step", "mix", "gold", "base"} <= kinds                      # checkpoints, early stop at gold, calibration
    for name, sel, portion, sets in selections:
        assert sel is not None and portion == "val", name          # run as a selection, on validation
        assert sets and all(portion_of(s) == "val" for s in sets), (name, sets)
        assert {"forget_val", "direct_val"} <= set(sets) or name.startswith("mix-"), (name, sets)
    reported = [c for c in recorded if not c[0].startswith(SELECTION_NAMES)]
    assert {c[0] for c in reported} >= {"unlearned", "calibrated-0.9"}
    for name, sel, portion, sets in reported:
        assert sel is None and portion == "test" and all(portion_of(s) == "test" for s in sets), (name, sets)
    # the run's record: checkpoint curves on validation sets, reports on test sets
    rec = json.loads((tmp_path / "run" / "results.json").read_text())
    curves = rec["curves"]
    assert all(set(row["per_role"]) <= {"forget_val", "direct_val", "indirect_val", "general_val"}
               and row["utility"] is not None for row in curves)
    for model in ("base", "gold", "unlearned", "calibrated"):
        assert all(portion_of(s) == "test" for s in rec["models"][model]["sets"]), model
    assert res.reports["unlearned"].value("accuracy", "forget") == \
        res.reports["unlearned"].sets["forget_test"]["accuracy"].value


def test_checkpoint_mutated_to_read_test_fails(tiny_cfg, tiny_world, tmp_path, monkeypatch) -> None:
    """The mutation the guard exists for: checkpoint evaluation reading the test portion."""
    import oblivio.engine.checkpoint_eval as CE
    from oblivio.eval import evaluate as E

    def reads_test(self, model, name, tokenizer=None):
        with selecting(CE.SELECTION):
            return E.evaluate_model(model, tokenizer or self.tokenizer, self.data, cfg=self._cfg, name=name,
                                    portion="test")
    monkeypatch.setattr(CE.CheckpointEval, "_evaluate", reads_test)
    with pytest.raises(SelectionReadsTest, match="checkpoint"):
        _run(tiny_cfg, tiny_world, tmp_path, post_steps=[])


@pytest.mark.slow
def test_calibration_mutated_to_read_test_fails(tiny_cfg, tiny_world, tmp_path, monkeypatch) -> None:
    import oblivio.engine.calibrate as C
    real = C._Mixer.evaluate

    def reads_test(self, a, cfg, *, portion, **kw):
        return real(self, a, cfg, portion="test", **kw)
    monkeypatch.setattr(C._Mixer, "evaluate", reads_test)
    with pytest.raises(SelectionReadsTest, match="calibration"):
        _run(tiny_cfg, tiny_world, tmp_path, control={"eval_every": 0})


# --- world seeds ---------------------------------------------------------------------------------

def _world_of(argv: list[str]) -> UnlearningData:
    """The data a command line builds (flags → config → oblivio.resolve.load_data)."""
    from oblivio.cli_args import build_parser, cli_overrides
    from oblivio.config import load_config
    from oblivio.resolve import load_data
    args = build_parser().parse_args(["learn", "--preset", "tiny", *argv])
    return load_data(None, load_config(overrides=cli_overrides(args)))


def _people_values(d: UnlearningData) -> tuple[set[str], set[tuple[str, str]]]:
    people = {it.entity for it in d.items if it.relation == "birth_year" and it.entity}
    values = {(it.relation or "", it.key or "") for it in d.items}
    return people, values


def test_world_seed_makes_the_world_and_the_training_seed_does_not() -> None:
    w1, w1b, w2 = _world_of(["--world-seed", "1"]), _world_of(["--world-seed", "1"]), _world_of(["--world-seed", "2"])
    assert [it.to_json() for it in w1.items] == [it.to_json() for it in w1b.items]      # same seed: same world
    (p1, v1), (p2, v2) = _people_values(w1), _people_values(w2)
    assert not p1 & p2                                  # other people …
    assert v1 != v2 and w1.targets != w2.targets        # … other relation values, other targets
    assert _facts_by_set(w1)["forget_test"] != _facts_by_set(w2)["forget_test"]
    # --seed is the training seed: the world stays world.seed's (0 by default)
    default, trained_5 = _world_of([]), _world_of(["--seed", "5"])
    assert [it.to_json() for it in default.items] == [it.to_json() for it in trained_5.items]
    assert default.source is not None and default.source["seed"] == 0
