"""Each UQ/RQ judge against human labels (issue #24 item 5; judges/agreement.py).

TRU's unlearning quality UQ and retention quality RQ (Liao et al. 2026, arXiv 2603.09980) are
scored by a judge; this measures how far each judge agrees with the hand-labelled responses of
``tests/data/judge_labels.jsonl`` (rubric and classes: tests/data/README.md): Spearman's ρ
between the judge's UQ/RQ and the human score, and accuracy (judge and human on the same side
of 5) overall and per class, for the ``dev`` half (which the rule judge's rules were designed
on) and the ``heldout`` half (never read while designing them) separately.

Judges: ``rule`` (oblivio's rule judge) and ``rule_before`` (the rule judge before issue #24,
frozen in bench/rule_judge_before.py) always; ``hf`` with ``--hf-model DIR`` (a local model
folder, or a name oblivio resolves such as ``smollm2-135m-instruct``); ``endpoint`` with
``--endpoint-url URL`` (an OpenAI-compatible server; ``--endpoint-model``; a remote host
needs ``--allow-remote``; a bearer key only from the variable named by ``--key-env``). The LLM
judges' verdicts are cached like an evaluation's ($OBLIVIO_CACHE/texts).

Prints one table per split and writes every number to ``--out`` (JSON).

``--teacher-preset PRESET`` also scores, by the two rule judges, the template teacher's own targets (its response, and
reasoning + response as a TRU model trained on them would say it) for every forget question of
the embedded world of that size, built into judge inputs exactly as an evaluation builds them
(eval/judging.py): the UQ a TRU model would get for reproducing its teacher word for word. The
old rules give it 10 by construction; a judge that agrees with people need not.

Usage: python bench/judge_agreement.py [--teacher-preset default] [--hf-model DIR] [--endpoint-url URL]
[--out bench/results/judge/agreement.json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rule_judge_before import OldRuleJudge

from oblivio.atomic import write_text
from oblivio.config import GenConfig
from oblivio.judges.agreement import SPLITS, agreement, load_labels
from oblivio.judges.base import Judge, make_judge

LABELS = Path(__file__).resolve().parents[1] / "tests" / "data" / "judge_labels.jsonl"


def judges(a: argparse.Namespace) -> dict[str, Judge]:
    out: dict[str, Judge] = {"rule_before": OldRuleJudge(), "rule": make_judge(GenConfig(kind="rule"))}
    if a.hf_model:
        out["hf"] = make_judge(GenConfig(kind="hf", model=a.hf_model, max_new_tokens=a.max_new_tokens))
    if a.endpoint_url:
        out["endpoint"] = make_judge(GenConfig(kind="endpoint", url=a.endpoint_url, endpoint_model=a.endpoint_model,
                                               api_key_env=a.key_env, allow_remote=a.allow_remote,
                                               max_new_tokens=a.max_new_tokens))
    return out


def teacher_check(preset: str, judged: dict[str, Judge]) -> dict[str, Any]:
    """Mean UQ (and each criterion's mean) of the template teacher's targets on the world's
    forget questions, for each judge: what reproducing the teacher exactly is worth."""
    from oblivio import api
    from oblivio.config import load_config
    from oblivio.eval.judging import judge_inputs
    from oblivio.metrics.base import ItemStats, SetStats
    from oblivio.registry import TEACHERS
    from oblivio.teachers.base import request_of
    data = api.load_data(None, load_config(overrides={"world": {"preset": preset}}))
    targets = TEACHERS.get("template")().write([request_of(it) for it in data.forget])
    out: dict[str, Any] = {"preset": preset, "items": len(data.forget)}
    for part in ("response", "reasoning+response"):
        texts = [t.response if part == "response" else f"{t.reasoning} {t.response}" for t in targets if t]
        sets = {"forget": SetStats("forget", [ItemStats(item=it, generation=g) for it, g in zip(data.forget, texts)])}
        inputs = [x for _, _, x in judge_inputs(sets, data)]
        for name, judge in judged.items():
            got = [v for v in judge.score(inputs) if v is not None]
            crit = {c: round(sum(v[c] for v in got) / len(got), 2) for c in got[0]} if got else {}
            out[f"{name} {part}"] = {"uq": round(sum(crit.values()) / 3, 2) if crit else None, **crit}
    return out


def _f(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def print_split(split: str, res: dict[str, dict[str, Any]]) -> None:
    """The headline table of one split, then accuracy per class (one column per judge)."""
    names = list(res)
    first = res[names[0]][split]
    print(f"\n{split}: {first['forget']['n']} forget rows (UQ), {first['retain']['n']} retain rows (RQ)\n")
    print("| judge | ρ UQ | ρ RQ | ρ both | accuracy UQ | accuracy RQ | unparseable |")
    print("|---|---|---|---|---|---|---|")
    for n in names:
        r = res[n][split]
        print(f"| {n} | {_f(r['forget']['spearman'])} | {_f(r['retain']['spearman'])} | {_f(r['both']['spearman'])} "
              f"| {_f(r['forget']['accuracy'])} | {_f(r['retain']['accuracy'])} | {r['both']['unparseable']} |")
    print(f"\n{split}: accuracy per class (mean judge score / mean human score)\n")
    print("| kind | class | n | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for kind in ("forget", "retain"):
        for cls, c in first[kind]["classes"].items():
            cells = []
            for n in names:
                x = res[n][split][kind]["classes"].get(cls)
                cells.append("–" if x is None else
                             f"{x['accuracy']:.2f} ({x['judge_mean']:.1f} / {x['human_mean']:.1f})")
            print(f"| {kind} | {cls} | {c['n']} | " + " | ".join(cells) + " |")


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--labels", default=str(LABELS))
    ap.add_argument("--splits", default=",".join(SPLITS), help="the splits to print (all are written)")
    ap.add_argument("--hf-model", help="also the hf judge with this local model folder")
    ap.add_argument("--endpoint-url", help="also the endpoint judge with this OpenAI-compatible base URL")
    ap.add_argument("--endpoint-model", default="default")
    ap.add_argument("--key-env", help="environment variable holding the endpoint's bearer key")
    ap.add_argument("--allow-remote", action="store_true", help="the endpoint may be on another machine")
    ap.add_argument("--max-new-tokens", type=int, default=64, help="an LLM judge's verdict length")
    ap.add_argument("--teacher-preset", help="also score the template teacher's targets on this world preset")
    ap.add_argument("--out", default="bench/results/judge/agreement.json")
    return ap.parse_args()


def main() -> None:
    a = parse_args()
    labels = load_labels(a.labels)
    res: dict[str, dict[str, Any]] = {}
    verdicts: dict[str, list[Any]] = {}
    judged = judges(a)
    for name, judge in judged.items():
        print(f"scoring {len(labels)} rows with {name}", file=sys.stderr, flush=True)
        verdicts[name] = judge.score([lab.x for lab in labels])
        res[name] = agreement(labels, verdicts[name])
    for split in a.splits.split(","):
        print_split(split, res)
    rows = [{"id": lab.id, "split": lab.split, "class": lab.cls, "human": lab.score,
             **{n: v[k] for n, v in verdicts.items()}} for k, lab in enumerate(labels)]
    record: dict[str, Any] = {"labels": str(a.labels), "agreement": res, "rows": rows}
    if a.teacher_preset:
        # the rule judges only: an LLM judge would generate a verdict for every forget question twice
        record["teacher"] = teacher_check(a.teacher_preset, {n: j for n, j in judged.items() if n.startswith("rule")})
        print(f"\nthe template teacher's targets on the {a.teacher_preset} world "
              f"({record['teacher']['items']} forget questions), mean UQ (relevance, rejection, helpfulness):\n")
        for k, v in record["teacher"].items():
            if isinstance(v, dict):
                print(f"- {k}: {_f(v['uq'])} ({', '.join(_f(x) for c, x in v.items() if c != 'uq')})")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, json.dumps(record, indent=1))
    print(f"\nwritten: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
