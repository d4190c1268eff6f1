"""Files from someone else (issue 21, item 2): a config file or a received run folder never
imports a ``module:Name`` plugin on its own; the command line (the name itself, or
``--allow-plugins``) permits it.

The cases put a run-folder-shaped directory on ``sys.path`` (as the working folder is
for ``python -m oblivio``) with a ``helpers.py`` whose import writes a marker file: a refusal
must leave no marker, a permission (``--allow-plugins``, the name on the command line) must
import it.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from oblivio.cli import main
from oblivio.errors import InputError
from oblivio.report.rundir import MARKER

HELPERS = '''
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

Path(__file__).with_name("IMPORTED").write_text("helpers.py ran")


@dataclass
class Method:
    uses: ClassVar[frozenset[str]] = frozenset({"forget"})


class NoUses:            # imported, then refused for its missing `uses`: a run that imports it ends at once
    pass


def relevance(responses, context=None):
    return 0.0
'''


@pytest.fixture()
def received(tmp_path, monkeypatch) -> Path:
    """A received run folder: config.yaml names helpers:NoUses, helpers.py marks its import
    (NoUses: were it imported, the run would stop at validation, not train)."""
    d = tmp_path / "run.failed"
    (d / "model").mkdir(parents=True)
    (d / "checkpoints" / "step-2").mkdir(parents=True)
    (d / "checkpoints" / "step-2" / "trainer_state.json").write_text("{}")
    (d / MARKER).write_text("{}")
    (d / "inputs.json").write_text(json.dumps({"model": "config", "data": "config", "gold": None,
                                               "gold_object": False, "evaluate_models": None}))
    (d / "config.yaml").write_text("seed: 0\nunlearn:\n  method: helpers:NoUses\n  train:\n    lr: 0.001\n")
    (d / "helpers.py").write_text(HELPERS)
    monkeypatch.chdir(d)
    monkeypatch.syspath_prepend(str(d))
    sys.modules.pop("helpers", None)
    from oblivio.registry import METHODS, METRICS, POST_STEPS, SAMPLERS
    for reg in (METHODS, METRICS, SAMPLERS, POST_STEPS):      # a permitted import registers: undone after
        reg.discover()
        monkeypatch.setattr(reg, "_items", dict(reg._items))
    yield d
    sys.modules.pop("helpers", None)


def run(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ei:
        main(argv)
    return ei.value.code, capsys.readouterr().err


REFUSED = [
    ["audit", "--run", "."],
    ["calibrate", "--run", "."],
    ["unlearn", "--config", "config.yaml", "--out", "out", "--quiet"],
    ["demo", "--config", "config.yaml", "--out", "out", "--quiet"],
    ["learn", "--config", "config.yaml", "--quiet"],
]


@pytest.mark.parametrize("argv", REFUSED, ids=[" ".join(a[:2]) for a in REFUSED])
def test_a_plugin_named_by_a_received_file_is_refused_and_not_imported(received, capsys, argv):
    code, err = run(argv, capsys)
    assert code == 2, err
    assert "config.yaml" in err and "unlearn.method" in err and "helpers:NoUses" in err and "--allow-plugins" in err
    assert not (received / "IMPORTED").exists() and "helpers" not in sys.modules
    assert not (received / "out").exists()


def test_resume_of_a_received_run_refuses_its_plugin(received, capsys):
    code, err = run(["unlearn", "--resume", str(received)], capsys)
    assert code == 2 and "helpers:NoUses" in err and "--allow-plugins" in err
    assert not (received / "IMPORTED").exists()


@pytest.mark.parametrize("argv", [
    ["audit", "--run", ".", "--allow-plugins"],
    ["audit", "--run", ".", "--set", "unlearn.method=helpers:Method"],
    ["calibrate", "--run", ".", "--allow-plugins", "--quiet"],
    ["unlearn", "--config", "config.yaml", "--method", "helpers:NoUses", "--out", "out", "--quiet"],
    ["unlearn", "--config", "config.yaml", "--allow-plugins", "--set", "unlearn.args.nope=1", "--out", "out"],
    ["unlearn", "--resume", "RUN", "--allow-plugins"],
], ids=["audit-allow", "audit-set", "calibrate-allow", "unlearn-method-flag", "unlearn-allow", "resume-allow"])
def test_the_command_line_permits_the_plugin(received, capsys, argv):
    """Permitted, the module is imported; each run then stops cheaply on something else (no
    results.json, no model, a plugin class without `uses`, an unknown argument), never on the
    plugin permission."""
    code, err = run([str(received) if a == "RUN" else a for a in argv], capsys)
    assert (received / "IMPORTED").exists(), err
    assert "--allow-plugins" not in err
    assert code != 0


@pytest.mark.parametrize("text, field", [
    ("unlearn:\n  sampler: helpers:Method\n", "unlearn.sampler"),
    ("eval:\n  metrics: [accuracy, helpers:relevance]\n", "eval.metrics"),
    ("post_steps: [helpers:Method]\n", "post_steps"),
    ("audit:\n  attacks: [helpers:Method]\n", "audit.attacks"),
    ("compare:\n  methods: [npo, helpers:Method]\n", "compare.methods"),
    ("unlearn:\n  teacher:\n    kind: helpers:Method\n", "unlearn.teacher.kind"),
    ("eval:\n  judge:\n    kind: helpers:Method\n", "eval.judge.kind"),
    ("control:\n  forget_metric: forget/helpers:relevance\n", "control.forget_metric"),
    ("calibrate:\n  metric: helpers:relevance\n", "calibrate.metric"),
    ("reveal:\n  scorer: helpers.relevance\n", "reveal.scorer"),       # no colon: still imported
    ("unlearn:\n  method: reveal_release\n  args:\n    scorer: helpers.relevance\n", "unlearn.args.scorer"),
    ("unlearn:\n  method: reveal_release\n  args:\n    inner: helpers:Method\n", "unlearn.args.inner"),
])
def test_every_plugin_field_of_a_file_is_refused(received, text, field):
    from oblivio.config import load_config
    f = received / "c.yaml"
    f.write_text(text)
    with pytest.raises(InputError, match="--allow-plugins") as ei:
        load_config(f)
    assert ei.value.field == field and ei.value.file == str(f)
    assert not (received / "IMPORTED").exists()


def test_the_same_value_from_the_command_line_or_allow_plugins_is_accepted(received):
    from oblivio.config import load_config
    f = received / "c.yaml"
    f.write_text("unlearn:\n  method: helpers:Method\neval:\n  metrics: [accuracy]\n")
    assert load_config(f, {"unlearn": {"method": "helpers:Method"}}).unlearn.method == "helpers:Method"
    assert (received / "IMPORTED").exists()
    assert load_config(f, {"allow_plugins": True}).unlearn.method == "helpers:Method"
    # registered names in a file need no permission
    f.write_text("unlearn:\n  method: npo\n  sampler: cyclic\neval:\n  metrics: [accuracy, answer_prob]\n")
    assert load_config(f).unlearn.method == "npo"


def test_allow_plugins_in_a_file_is_not_a_permission(received, capsys):
    from oblivio.config import load_config
    f = received / "c.yaml"
    f.write_text("allow_plugins: true\nunlearn:\n  method: helpers:Method\n")
    with pytest.raises(InputError, match="--allow-plugins"):
        load_config(f)
    assert "allow_plugins: true is ignored" in capsys.readouterr().err
    assert not (received / "IMPORTED").exists()
