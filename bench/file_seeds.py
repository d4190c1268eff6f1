"""Recipes × training seeds on one user's file, by the README's own-data commands.

``bench/newcomer.py`` runs the README's lines once (seed 0, an empty cache). On a file whose
roles hold 12 facts, one run cannot tell a recipe's effect from a seed's; this script learns
the file's base and gold once, by the README's own ``oblivio learn`` line (read from it as
``bench/newcomer.py`` reads it), then runs ``oblivio unlearn`` and ``oblivio audit`` for each recipe (the default,
or one given by its command-line flags) and each ``--seeds`` seed, and reports per run the
worst held-out retain role's accuracy ratio to base, the relearning attack's excess over gold
and each verdict's word. Reported numbers only: nothing here chooses a recipe.

Usage: ``python bench/file_seeds.py --data examples/stranger4/marionettes.jsonl --seeds 0,1,2
--recipes '[{"label": "default", "flags": []}, {"label": "npo_me", "flags": ["--method", "npo_me",
"--set", "unlearn.args.mix=0.5", "--set", "unlearn.args.alpha=10"]}]' --out
bench/results/file_seeds/marionettes.json`` (work folder ``--work``, default a temporary one).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import mean
from typing import Any

from newcomer import readme_commands  # bench/newcomer.py: the script's own folder is on sys.path

from oblivio.atomic import write_text

ROLES = ("direct_test", "indirect_test", "general_test")


def oblivio(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "oblivio", *args, "--quiet"], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summary(run: Path) -> dict[str, Any]:
    """The worst held-out retain ratio, the relearning and logit-lens excess over gold and the verdict words."""
    rec = json.loads((run / "results.json").read_text(encoding="utf-8"))
    acc = {m: {s: v["accuracy"]["value"] for s, v in rec["models"][m]["sets"].items()} for m in ("base", "unlearned")}
    ratios = {r: acc["unlearned"][r] / acc["base"][r] for r in ROLES if acc["base"].get(r)}
    attacks = json.loads((run / "audit.json").read_text(encoding="utf-8"))["attacks"]
    from oblivio.report.verdict import verdict_lines
    words = {ln.split(":")[0]: ln.split(":", 1)[1].split("  ")[0].strip() for ln in verdict_lines(rec)}
    return {"worst_ratio": min(ratios.values()), "ratios": ratios,
            "relearn_excess": attacks["relearn"]["recovery"], "lens_excess": _excess(attacks.get("logit_lens")),
            "verdicts": words}


def _excess(attack: dict[str, Any] | None) -> float | None:
    """An attack's forget accuracy on the unlearned model minus gold's (None when it did not run)."""
    if not attack or not attack.get("models"):
        return None
    return attack["models"]["unlearned"]["accuracy"] - attack["models"]["gold"]["accuracy"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--recipes", default='[{"label": "default", "flags": []}]')
    ap.add_argument("--learn", help="the learn command instead of the README's (e.g. another model size)")
    ap.add_argument("--work")
    ap.add_argument("--out")
    a = ap.parse_args()
    work = Path(a.work or tempfile.mkdtemp(prefix="file-seeds-"))
    work.mkdir(parents=True, exist_ok=True)
    mine = work / "my.jsonl"
    if mine.exists() and mine.read_bytes() != Path(a.data).read_bytes():
        sys.exit(f"{mine} exists and is not a copy of {a.data}: give another --work folder")
    shutil.copy(a.data, mine)
    os.environ.setdefault("OBLIVIO_CACHE", str(work / "cache"))
    learn = a.learn or next(ln for ln in readme_commands() if ln.startswith("oblivio learn "))
    if not (work / "mymodels" / "gold").is_dir():
        oblivio(*shlex.split(learn)[1:], cwd=work)
    rows = []
    for r in json.loads(a.recipes):
        for s in [int(x) for x in a.seeds.split(",")]:
            run = f"runs/{r['label']}-s{s}"
            oblivio("unlearn", "--model", "mymodels/base", "--gold", "mymodels/gold", "--data", "my.jsonl",
                    "--out", run, "--seed", str(s), "--overwrite", *r["flags"], cwd=work)
            oblivio("audit", run, cwd=work)
            row = {"label": r["label"], "seed": s, **summary(work / run)}
            rows.append(row)
            print(f"{r['label']:<10} seed {s}: worst retain ratio {row['worst_ratio']:.3f}, relearn excess "
                  f"{row['relearn_excess']:+.3f}, " + ", ".join(f"{k} {v}" for k, v in row["verdicts"].items()))
    for label in dict.fromkeys(r["label"] for r in rows):
        mine = [r for r in rows if r["label"] == label]
        worst, excess = mean(r["worst_ratio"] for r in mine), mean(r["relearn_excess"] for r in mine)
        print(f"{label:<10} mean over {len(mine)} seeds: worst retain ratio {worst:.3f}, relearn excess {excess:+.3f}")
    if a.out:
        record = {"data": a.data, "learn": learn, "recipes": json.loads(a.recipes), "rows": rows}
        write_text(Path(a.out), json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
