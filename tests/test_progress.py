"""Progress on stderr, results on stdout, --quiet silences progress (oblivio/progress.py, cli.py).

The facility itself on hand-made lines; then `oblivio eval` and `oblivio unlearn` on the tiny
world: their phase lines reach stderr and never stdout, and --quiet leaves stderr empty and
stdout as it was. (`oblivio audit`: tests/test_attacks.py; the audit's one line on a
hand-built record: here.)"""
from __future__ import annotations

import re

import pytest

from clirun import run_cli
from oblivio.attacks.audit import audit_summary
from oblivio.progress import bar, phase, say, silenced, warn


# -- the facility ------------------------------------------------------------------------------
def test_phase_says_what_starts_then_how_long_it_took():
    lines: list[str] = []
    with phase("evaluating base", "5 sets, 108 items", log=lines.append):
        lines.append("inside")
    assert lines[:2] == ["evaluating base: 5 sets, 108 items …", "inside"]
    assert re.fullmatch(r"evaluating base: done in \d+\.\d s", lines[2]) and len(lines) == 3


def test_a_phase_that_fails_does_not_say_done():
    lines: list[str] = []
    with pytest.raises(ValueError), phase("audit", log=lines.append):
        raise ValueError("boom")
    assert lines == ["audit …"]


def test_progress_goes_to_stderr_and_silenced_turns_it_off(capsys):
    say("one")
    with silenced():
        say("two")
        with silenced(False):        # an inner switch never brings back what an outer one turned off
            say("three")
            assert bar(range(3)).disable
        with phase("four"):
            pass
        warn("five")                 # a warning is not progress
    with silenced(False):
        say("six")
    shown = bar(range(3), delay=60)            # not drawn before a minute: nothing printed here
    assert not shown.disable
    shown.close()
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == "one\noblivio: warning: five\nsix\n"


# -- the audit's one line ----------------------------------------------------------------------
def test_audit_summary_counts_robust_only_and_names_the_rest_with_why_skipped():
    rec = {"attacks": {
        "paraphrase": {"robust": True, "decision": "robust"},
        "relearn": {"robust": False, "decision": "not robust"},
        "reverse": {"robust": False, "decision": "undecided"},
        "quantize_int4": {"robust": False, "decision": "not robust"},
        "logit_lens": {"robust": None, "decision": None},
        "cross_lingual": {"robust": None, "skipped": "no translations"},
        "few_shot": {"robust": None, "skipped": "no probe fields"},
        "roleplay": {"robust": None, "skipped": "no translations"}}}
    # 8 attacks, one robust: a failing or undecided attack counted robust would read 2+ of 8
    assert audit_summary(rec) == (
        "audit: robust on 1 of 8 attacks; fails: relearn, quantize_int4; "
        "undecided (interval straddles the margin): reverse; no verdict (no gold score): logit_lens; "
        "skipped: cross_lingual, roleplay (no translations), few_shot (no probe fields)")


# -- the commands on the tiny world ------------------------------------------------------------
FAST = ["--set", "eval.metrics=[accuracy, mia_minkpp]", "--set", "eval.max_items_per_role=4"]
PHASE = re.compile(r"…$|: done in \d+\.\d s$")


@pytest.fixture()
def tiny_yaml(tiny_cfg, tmp_path):
    import yaml

    from oblivio.config import to_dict
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(to_dict(tiny_cfg)))
    return cfg


def _no_progress(out: str) -> None:
    assert not [ln for ln in out.splitlines() if PHASE.search(ln)], out


def _said(pattern: str, err: str) -> bool:
    """A line of ``err`` matches ``pattern`` (a bar's redraws end in carriage returns)."""
    return any(re.fullmatch(pattern, ln.strip()) for ln in re.split(r"[\r\n]", err))


def test_eval_progress_on_stderr_results_on_stdout_quiet_only_silences(tiny_world, tiny_yaml, capsys):
    _, wm = tiny_world
    args = ["eval", "--config", str(tiny_yaml), "--model", str(wm.base_dir), "--gold", str(wm.gold_dir), *FAST]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    assert _said(r"evaluating model: 5 sets, 20 items \(test portion\) …", err), err
    assert _said(r"evaluating model: done in \d+\.\d s", err), err
    # the gold model: evaluated now, or its evaluation read from the reference cache (said so)
    assert _said(r"evaluating gold: done in .*|gold: evaluation reused from the reference cache .*", err), err
    _no_progress(out)
    assert out.splitlines()[0].startswith("set ") and out.splitlines()[-1].startswith("robust: ")
    code, out_q, err_q = run_cli([*args, "--quiet"], capsys)
    assert code == 0 and err_q == "" and out_q == out


def test_unlearn_progress_on_stderr_results_on_stdout_quiet_only_silences(tiny_world, tiny_yaml, tmp_path, capsys):
    args = ["unlearn", "--config", str(tiny_yaml), "--method", "ga", "--steps", "1", *FAST]
    code, out, err = run_cli([*args, "--out", str(tmp_path / "a")], capsys)
    assert code == 0, err
    # the references (evaluated, or read from the cache), then the unlearned model, each timed
    assert _said(r"evaluating base: done in .*|base: evaluation reused from the reference cache .*", err), err
    assert _said(r"evaluating unlearned: 5 sets, 20 items \(test portion\) …", err), err
    assert _said(r"evaluating unlearned: done in \d+\.\d s", err) and "forget targets: " in err
    _no_progress(out)
    assert f"run folder: {tmp_path / 'a'} (" in out and out.splitlines()[-1].startswith("robust: ")
    code, out_q, err_q = run_cli([*args, "--out", str(tmp_path / "b"), "--quiet"], capsys)
    assert code == 0 and err_q == ""
    assert out_q == out.replace(str(tmp_path / "a"), str(tmp_path / "b"))
