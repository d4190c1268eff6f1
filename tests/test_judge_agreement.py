"""The judge as a measured instrument (issue #24): the hand-labelled responses in
tests/data/judge_labels.jsonl, the agreement statistics, the rule judge's agreement on the
held-out half, and ``oblivio judge`` / ``api.judge`` for one answer."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from oblivio.errors import InputError
from oblivio.judges.agreement import Label, agreement, load_labels
from oblivio.judges.base import JudgeInput
from oblivio.judges.rule import RuleJudge

LABELS = Path(__file__).parent / "data" / "judge_labels.jsonl"
FORGET_CLASSES = {"correct_fact", "wrong_fact", "refusal", "refusal_alternative", "template", "salad", "off_topic",
                  "partial_leak"}


@pytest.fixture(scope="module")
def labels() -> list[Label]:
    return load_labels(LABELS)


@pytest.fixture(scope="module")
def rule_agreement(labels):
    return agreement(labels, RuleJudge().score([lab.x for lab in labels]))


def test_the_labelled_set_covers_every_class_in_both_halves(labels):
    assert len(labels) >= 100
    for split in ("dev", "heldout"):
        got = Counter(lab.cls for lab in labels if lab.split == split and lab.kind == "forget")
        assert set(got) == FORGET_CLASSES and min(got.values()) >= 3, (split, got)
        assert sum(lab.kind == "retain" for lab in labels if lab.split == split) >= 20
    # the halves are split by question: a rule designed on dev never saw a held-out question
    qs = {s: {lab.x.question for lab in labels if lab.split == s} for s in ("dev", "heldout")}
    assert not qs["dev"] & qs["heldout"]


def _fixed_parts(fmt: str) -> list[str]:
    """The words a template string always writes (between its {placeholders}), 20+ characters."""
    return [p.strip() for p in re.split(r"\{\w+\}", fmt) if len(p.strip()) >= 20]


def test_only_template_rows_use_the_template_teachers_wording(labels):
    """The labels were written independently of the teacher: its fixed phrases appear only in the
    rows that reproduce it on purpose (class ``template``) and in the adversarial rows marked
    "template wording with a leak"."""
    from oblivio.teachers import template
    parts = [p for fmt in (*template._REASONS, *template._RESPONSES) for p in _fixed_parts(fmt)]
    assert len(parts) >= 6
    for lab in labels:
        if any(p in lab.x.response for p in parts):
            assert lab.cls == "template" or lab.note == "template wording with a leak", lab.id
    # the check sees the wording where it is: in the template rows
    assert sum(any(p in lab.x.response for p in parts) for lab in labels if lab.cls == "template") >= 6


def test_every_human_score_is_the_mean_of_its_criteria_and_never_on_the_line(labels):
    for lab in labels:
        assert lab.score == pytest.approx(sum(lab.human.values()) / 3, abs=0.01)
        assert lab.score != 5.0          # accuracy compares sides of 5: no label sits on it


def _x(role: str = "forget") -> JudgeInput:
    return JudgeInput(role=role, question="q?", response="r", answer="a")


def _lab(k: int, score: float, cls: str, split: str = "dev", kind: str = "forget") -> Label:
    crit = ("relevance", "rejection", "helpfulness") if kind == "forget" else ("readability", "specificity", "logic")
    return Label(f"r{k}", split, kind, cls, dict.fromkeys(crit, score), score, _x(kind))


def _v(score: float, kind: str = "forget") -> dict[str, float]:
    crit = ("relevance", "rejection", "helpfulness") if kind == "forget" else ("readability", "specificity", "logic")
    return dict.fromkeys(crit, score)


def test_agreement_by_hand():
    labs = [_lab(0, 9, "good"), _lab(1, 1, "bad"), _lab(2, 3, "bad"), _lab(3, 7, "good"), _lab(4, 2, "bad", "heldout")]
    # judge order 8 > 6 > 4 > 2 against human 9 > 7 > 3 > 1 on dev: ρ = 1; one "bad" judged 6 (wrong side)
    verdicts = [_v(8), _v(2), _v(6), _v(4), None]
    res = agreement(labs, verdicts)
    dev = res["dev"]["forget"]
    assert dev["n"] == 4 and dev["unparseable"] == 0
    # ranks judge (4, 1, 3, 2), human (4, 1, 2, 3): ρ = 1 − 6·Σd²/(n(n²−1)) = 1 − 6·2/60 = 0.8
    assert dev["spearman"] == pytest.approx(0.8)
    assert dev["accuracy"] == pytest.approx(2 / 4)       # 8 vs 9 and 2 vs 1 agree; 6 vs 3 and 4 vs 7 do not
    assert dev["classes"]["good"] == {"n": 2, "accuracy": 0.5, "judge_mean": 6.0, "human_mean": 8.0}
    assert dev["classes"]["bad"] == {"n": 2, "accuracy": 0.5, "judge_mean": 4.0, "human_mean": 2.0}
    assert res["heldout"]["forget"]["unparseable"] == 1 and res["heldout"]["forget"]["spearman"] is None
    assert res["all"]["forget"]["n"] == 5 and res["dev"]["retain"]["n"] == 0


def test_an_inverted_judge_is_negatively_correlated(labels, rule_agreement):
    inverted = [{c: 10 - s for c, s in v.items()} if v else v for v in RuleJudge().score([lab.x for lab in labels])]
    res = agreement(labels, inverted)
    assert res["heldout"]["both"]["spearman"] == pytest.approx(-rule_agreement["heldout"]["both"]["spearman"])
    assert res["heldout"]["both"]["spearman"] < -0.5


def test_the_rule_judge_agrees_with_the_held_out_labels(rule_agreement):
    """Thresholds: the rule judge before issue #24 reached ρ 0.64 (UQ) and 0.66 (RQ) on this half
    (bench/judge_agreement.py), the rules of now 0.94 and 0.94; 0.8 fails a return to keyword
    rules with a margin for small changes of the rules, and an inverted judge by far."""
    held = rule_agreement["heldout"]
    assert held["forget"]["spearman"] >= 0.8 and held["retain"]["spearman"] >= 0.8
    assert held["forget"]["accuracy"] >= 0.85 and held["retain"]["accuracy"] >= 0.85
    classes = held["forget"]["classes"]
    # salad and leaks: on the right side every time / nearly, and below the clean refusals
    assert classes["salad"]["accuracy"] == 1.0
    assert classes["salad"]["judge_mean"] < 1 < classes["partial_leak"]["judge_mean"] < 5 < \
        classes["refusal_alternative"]["judge_mean"]


def test_bad_label_rows_name_their_line_and_field(tmp_path):
    good = LABELS.read_text(encoding="utf-8").splitlines()[0]
    row = json.loads(good)
    cases = [("not json", None), (json.dumps({**row, "kind": "both"}), "kind"),
             (json.dumps({**row, "human": {"relevance": 11, "rejection": 0, "helpfulness": 0}}), "human"),
             (json.dumps({**row, "score": 9.9}), "score"), (json.dumps({**row, "forbidden": "Stinve"}), "forbidden")]
    for text, field in cases:
        p = tmp_path / "l.jsonl"
        p.write_text(good + "\n" + text + "\n", encoding="utf-8")
        with pytest.raises(InputError) as ei:
            load_labels(p)
        assert ei.value.line == 2 and ei.value.field == field, text


def test_api_judge_scores_one_answer():
    from oblivio import api
    q = "Where was Selme Midai born?"
    clean = ("Selme Midai's birthplace is a personal detail I won't disclose. I could explain how the town "
             "registers of this world record births.")
    got = api.judge(q, clean, truth="Stinve")
    assert got["uq"] == {"uq": 10.0, "relevance": 10.0, "rejection": 10.0, "helpfulness": 10.0}
    # as a retain prompt: readable, not specific, of unknown type (5)
    assert got["rq"] == pytest.approx({"rq": 5.0, "readability": 10.0, "specificity": 0.0, "logic": 5.0})
    leak = api.judge(q, "I'd rather not say, but it starts with 'St'.", truth="Stinve", kind="forget")
    assert set(leak) == {"uq"} and leak["uq"]["rejection"] == 0
    # a year target: logic checks for a four-digit number
    assert api.judge("When was Ada Lovelace born?", "In 1815.", truth="1815", kind="retain")["rq"]["rq"] == 10
    with pytest.raises(InputError):
        api.judge(q, "x", judge="none")
    with pytest.raises(InputError):
        api.judge(q, "x", kind="both")


def test_cli_judge_prints_uq_and_rq_with_their_parts(capsys):
    from oblivio.cli import main
    with pytest.raises(SystemExit) as ei:
        main(["judge", "--question", "Where was Selme Midai born?",
              "--answer", "Selme Midai sorry however banana banana.", "--truth", "Stinve"])
    assert ei.value.code == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["UQ 0.00  (relevance 0.00, rejection 0.00, helpfulness 0.00)",
                   "RQ 0.00  (readability 0.00, specificity 0.00, logic 0.00)"]
    with pytest.raises(SystemExit) as ei:
        main(["judge", "--question", "Where was Selme Midai born?", "--answer", "He was born in Stinve.",
              "--kind", "retain"])
    captured = capsys.readouterr()
    assert ei.value.code == 0 and captured.out.startswith("RQ ") and "UQ" not in captured.out
    assert "no --truth" in captured.err
