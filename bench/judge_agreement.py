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

Usage: python bench/judge_agreement.py [--hf-model DIR] [--endpoint-url URL] [--out bench/results/judge/agreement.json]
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
    ap.add_argument("--out", default="bench/results/judge/agreement.json")
    return ap.parse_args()


def main() -> None:
    a = parse_args()
    labels = load_labels(a.labels)
    res: dict[str, dict[str, Any]] = {}
    verdicts: dict[str, list[Any]] = {}
    for name, judge in judges(a).items():
        print(f"scoring {len(labels)} rows with {name}", file=sys.stderr, flush=True)
        verdicts[name] = judge.score([lab.x for lab in labels])
        res[name] = agreement(labels, verdicts[name])
    for split in a.splits.split(","):
        print_split(split, res)
    rows = [{"id": lab.id, "split": lab.split, "class": lab.cls, "human": lab.score,
             **{n: v[k] for n, v in verdicts.items()}} for k, lab in enumerate(labels)]
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, json.dumps({"labels": str(a.labels), "agreement": res, "rows": rows}, indent=1))
    print(f"\nwritten: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
