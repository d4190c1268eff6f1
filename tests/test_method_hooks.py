"""The method contract's hooks (engine/contract.py): declared in a Protocol with defaults and
called unconditionally; a class from outside the package gets the defaults without
inheriting them, keeps its own hooks, and its declared flag and ``record()`` reach the
engine and results.json. Teachers and judges: the same for their optional ``from_config``."""
from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from typing import ClassVar

import pytest

from oblivio.errors import InputError
from oblivio.methods import LossParts, MethodBase

MODULE = "zz_hook_methods"
OUTSIDE = '''
from dataclasses import dataclass
from typing import ClassVar

from oblivio.methods import LossParts


@dataclass
class Plain:
    """A loss and no hook: does not inherit MethodBase."""

    alpha: float = 1.0
    uses: ClassVar[frozenset[str]] = frozenset({"forget"})

    def loss(self, ctx, batch):
        from oblivio.methods.ops import mean_nll
        nll = mean_nll(ctx.model, batch["forget"])
        return LossParts(-self.alpha * nll, {"nll": nll})


@dataclass
class Reporting(Plain):
    """Two hooks of its own, the others left to the defaults."""

    def prepare_data(self, inputs):
        self.n_forget = len(inputs.forget)

    def record(self):
        # "steps" is the loop's own entry: it must not be overwritten
        return {"method_report": {"forget_items": self.n_forget}, "steps": -1}


class BareTeacher:
    """No from_config: built without arguments."""

    def write(self, requests):
        return [None for _ in requests]


class BareJudge:
    def score(self, inputs):
        return [None for _ in inputs]


@dataclass
class Finishing(Plain):
    """Its weights are the unlearned model only after finish()."""

    builds_model_at_finish: ClassVar[bool] = True

    def finish(self, model):
        self.finished = True
'''


@pytest.fixture()
def outside(tmp_path, monkeypatch):
    """The module above on sys.path, as a user's PYTHONPATH; the registry restored afterwards."""
    (tmp_path / f"{MODULE}.py").write_text(OUTSIDE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    from oblivio.registry import JUDGES, METHODS, TEACHERS
    for reg in (METHODS, TEACHERS, JUDGES):
        reg.discover()
        monkeypatch.setattr(reg, "_items", dict(reg._items))
    sys.modules.pop(MODULE, None)
    yield lambda name: f"{MODULE}:{name}"
    sys.modules.pop(MODULE, None)


def test_an_outside_class_gets_the_defaults_and_keeps_its_own_hooks(outside) -> None:
    from oblivio.config import build_method
    from oblivio.registry import METHODS
    cls = METHODS.get(outside("Reporting"))
    own = sys.modules[MODULE].Reporting
    assert cls.__name__ == "Reporting" and issubclass(cls, own) and issubclass(cls, MethodBase)
    assert METHODS.get(outside("Reporting")) is cls                 # adapted once
    assert cls.prepare_data is own.prepare_data and cls.record is own.record     # its own hooks win
    assert cls.prepare is MethodBase.prepare and cls.finish is MethodBase.finish
    meth = build_method(outside("Reporting"), {"alpha": 0.5})
    assert meth.alpha == 0.5 and [f.name for f in dataclasses.fields(meth)] == ["alpha"]
    assert meth.builds_model_at_finish is False and meth.runs_own_rounds is False
    plain = build_method(outside("Plain"), {})
    assert plain.record() == {} and plain.prepare(None) is None


def test_an_outside_teacher_or_judge_without_from_config_is_built(outside) -> None:
    from oblivio.config import GenConfig
    from oblivio.judges.base import JudgeBase, make_judge
    from oblivio.teachers.base import TeacherBase, make_teacher
    teacher = make_teacher(GenConfig(kind=outside("BareTeacher")))
    judge = make_judge(GenConfig(kind=outside("BareJudge")))
    mod = sys.modules[MODULE]
    assert isinstance(teacher, mod.BareTeacher) and isinstance(teacher, TeacherBase)
    assert isinstance(judge, mod.BareJudge) and isinstance(judge, JudgeBase)
    assert teacher.write([1, 2]) == [None, None] and judge.score([1]) == [None]


@dataclass(frozen=True)
class FrozenLoss:
    uses: ClassVar[frozenset[str]] = frozenset({"forget"})

    def loss(self, ctx, batch) -> LossParts:
        raise AssertionError("not called here")

    def finish(self, model) -> None:
        model.append("own finish")


class SlottedLoss:
    __slots__ = ("beta",)
    uses = frozenset({"forget"})

    def __init__(self) -> None:
        self.beta = 2.0


@pytest.mark.parametrize("cls", [FrozenLoss, SlottedLoss])
def test_an_object_built_by_hand_takes_the_defaults_in_place(cls) -> None:
    """What run_unlearning does with a method that did not come through the registry: the
    same object (its state and the caller's reference stay), its own hooks kept."""
    from oblivio.engine.contract import as_method
    obj = cls()
    got = as_method(obj)
    assert got is obj and isinstance(obj, cls) and isinstance(obj, MethodBase)
    assert type(obj).__name__ == cls.__name__ and as_method(obj) is obj
    assert obj.record() == {} and obj.builds_model_at_finish is False
    seen: list[str] = []
    obj.finish(seen)
    assert seen == (["own finish"] if cls is FrozenLoss else [])
    if cls is SlottedLoss:
        assert obj.beta == 2.0


def _train_cfg(steps: int):
    from oblivio.engine.loop import TrainConfig
    return TrainConfig(lr=1e-3, max_steps=steps, batch_size=4, progress=False)


def test_an_outside_method_runs_with_its_own_and_the_default_hooks(outside, tiny_world, fresh_base) -> None:
    from oblivio.config import build_method
    from oblivio.engine.unlearning import run_unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    meth = build_method(outside("Reporting"), {})
    _, res = run_unlearning(model, tok, data, meth, sampler="one_to_one_random", train_cfg=_train_cfg(2))
    assert res.steps == 2
    assert meth.record()["method_report"] == {"forget_items": len(data.forget)}   # its prepare_data ran


class Watch:
    """A checkpoint evaluator of the user's own: declares it, no class name involved."""

    evaluates_checkpoints = True

    def __init__(self) -> None:
        self.steps: list[int] = []

    def __call__(self, step, model) -> None:
        self.steps.append(step)


def test_checkpoint_evaluation_refuses_a_method_that_builds_its_model_at_finish(outside, tiny_world,
                                                                               fresh_base) -> None:
    from oblivio.config import ControlConfig, build_method
    from oblivio.engine.checkpoint_eval import CheckpointEval
    from oblivio.engine.unlearning import run_unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    for cb in (CheckpointEval(None, None, ControlConfig(eval_every=1)), Watch()):
        with pytest.raises(InputError, match="builds its model after the last step") as ei:
            run_unlearning(model, tok, data, build_method(outside("Finishing"), {}), sampler="one_to_one_random",
                           train_cfg=_train_cfg(1), callbacks=[cb])
        assert ei.value.field == "control.eval_every"
    # a method without the flag is evaluated at every step; the flagged one runs, and is
    # finished, under a callback that evaluates nothing (a plain function)
    watch = Watch()
    model, _ = run_unlearning(model, tok, data, build_method(outside("Plain"), {}), sampler="one_to_one_random",
                              train_cfg=_train_cfg(2), callbacks=[watch])
    assert watch.steps == [1, 2]
    fin = build_method(outside("Finishing"), {})
    run_unlearning(model, tok, data, fin, sampler="one_to_one_random", train_cfg=_train_cfg(1),
                   callbacks=[lambda step, m: None])
    assert fin.finished is True


def test_a_methods_record_lands_in_results_json(outside, tiny_world, tiny_cfg, tmp_path) -> None:
    from oblivio import api
    data, _ = tiny_world
    out = tmp_path / "run"
    api.unlearn(None, None, config=tiny_cfg, method=outside("Reporting"), run_dir=out, evaluate_models=False,
                progress=False, log=lambda m: None)
    training = json.loads((out / "results.json").read_text())["training"]
    assert training["method_report"] == {"forget_items": len(data.forget)}
    assert training["steps"] == tiny_cfg.unlearn.train.max_steps          # the loop's entry, not the record's


def test_every_built_in_method_inherits_the_base() -> None:
    """The package's own methods declare their hooks by inheriting MethodBase (the registry
    would otherwise make a subclass of its own for them)."""
    import importlib

    from oblivio.registry import METHODS
    for name, cls in METHODS.items():
        if cls.__module__.startswith("oblivio."):
            module_cls = getattr(importlib.import_module(cls.__module__), cls.__name__)
            assert module_cls is cls and issubclass(cls, MethodBase), name
