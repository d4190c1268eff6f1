"""Learning rates for a pretrained model, chosen on the validation portion of the real-knowledge
set and reported on its test portion (SmolLM2-135M-Instruct, ``--data real``).

Every setting (method × full/LoRA × learning rate) is a ``tune`` cell of the one grid runner
(oblivio/pipeline/grid.py): the run ``oblivio unlearn --model M --data D --method X --sampler
one_to_one_random --lr LR --seed S [--lora-r 8]`` would make, with the defaults otherwise (5
epochs, the pretrained model's budget by scale; batch 8 + 8, the chat template), as a run folder
``<--runs>/<method>-<mode>-<lr>-s<seed>`` (the names and configs of this script's earlier
subprocess runs, so that their folders are kept: no run is paid twice).
Each run unlearns every forget row; the rows are in a validation or a test portion (``set``:
``forget_val``, ``direct_test`` …; disjoint by fact; oblivio.roles). A ``tune`` cell evaluates the
validation portion only, a ``report`` cell the test portion only (pipeline/grid.py), so a tune
cell's test columns are empty. From the per-item values in results.json:

* **selection reads validation only**: among the settings whose validation retain accuracy
  (``direct_val``, ``indirect_val``, ``general_val``; rows unlearning never trains on) keeps
  ≥ 95% of the base model's on every role and whose forget answers are not mostly empty
  (``empty_answers`` ≤ 0.2 on validation), the one with the lowest validation forget accuracy
  (ties: the smaller rate) — per method and mode; when no setting keeps 95%, the one that keeps
  the most among those that lower validation forget accuracy by at least 0.1, marked as such;
* **the report is test**: the chosen setting's test numbers, with 95% bootstrap intervals over
  facts, and every setting's validation numbers so that the choice can be checked.

The tuning/reporting split in the grid: the chosen setting of each method and mode is run once
more as a ``report`` cell ``report-<method>-<mode>-<lr>-s<seed>`` (the same config: on the same
machine the same numbers; one more run per method and mode, since the runner has no way to name a
finished tune cell as the report), and the ``report`` section of ``--out`` and the last lines
printed are its test numbers. The table keeps every tune cell's test columns beside its
validation ones for inspection (tune.md discusses them); nothing reads them to choose.

    python bench/real/tune.py [--methods npo,graddiff] [--modes lora,full] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oblivio.pipeline.grid import Cell

ROOT = Path(__file__).resolve().parents[2]
KEEP_ROLES = ("direct_test", "indirect_test", "general_test")
LRS = {"lora": (1e-5, 3e-5, 1e-4), "full": (1e-5,)}
HEAD = "method  mode  lr      steps | val: forget (base) keep empty | test: forget [95% CI] (base) keep empty"


def split_of(data: str) -> dict[str, tuple[str, str]]:
    """item id -> (split, fact) of the shipped real set."""
    sys.path.insert(0, str(ROOT / "src"))
    from oblivio.resolve import load_data
    return {it.id: ((it.meta or {})["split"], it.fact or it.id) for it in load_data(data).items}


def cell(method: str, mode: str, lr: float, a: argparse.Namespace, role: str = "tune") -> Cell:
    """One setting as a grid cell: the config ``oblivio unlearn`` builds from the flags above."""
    from oblivio.config import load_config
    from oblivio.pipeline.grid import Cell
    cfg = load_config(overrides={"seed": a.seed, "model": {"path": a.model, "lora_r": 8 if mode == "lora" else 0},
                                 "data": {"path": a.data},
                                 # 1:1 random pairing, as the tuning ran (the default leaves it to the data)
                                 "unlearn": {"method": method, "sampler": "one_to_one_random", "train": {"lr": lr}}})
    name = f"{method}-{mode}-{lr:g}-s{a.seed}"
    return Cell(name if role == "tune" else f"report-{name}", cfg, role=role,
                tags={"method": method, "mode": mode, "lr": lr, "seed": a.seed})


def per_split(rec: dict, model: str, role: str, metric: str, split: str, splits: dict) -> tuple[float, list]:
    """Mean of ``metric`` over the role's items in ``split`` (the set ``<role>_<split>``), and
    (fact, value) pairs; nan when the run did not evaluate that portion."""
    from oblivio.roles import base_role
    m = rec["models"][model]
    name = f"{base_role(role)}_{split}"
    res = m["sets"].get(name, {}).get(metric, {})
    vals = res.get("per_item") or []
    ids = res.get("extra", {}).get("item_ids") or m["item_ids"].get(name, [])   # items with an input only
    pairs = [(splits[i][1], v) for i, v in zip(ids, vals) if v is not None and splits[i][0] == split]
    return (statistics.fmean(v for _, v in pairs) if pairs else float("nan")), pairs


def interval(pairs: list, n_boot: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap over facts of the mean (nan without values)."""
    if not pairs:
        return float("nan"), float("nan")
    by: dict[str, list[float]] = {}
    for f, v in pairs:
        by.setdefault(f, []).append(v)
    facts = list(by)
    rng = random.Random(seed)
    means = []
    for _ in range(n_boot):
        draw = [v for f in rng.choices(facts, k=len(facts)) for v in by[f]]
        means.append(statistics.fmean(draw))
    means.sort()
    return means[int(0.025 * n_boot)], means[int(0.975 * n_boot) - 1]


def summarise(rec: dict, split: str, splits: dict) -> dict:
    out: dict = {}
    for model in ("base", "unlearned"):
        f, fp = per_split(rec, model, "forget", "accuracy", split, splits)
        out[f"{model}_forget"] = f
        out[f"{model}_forget_ci"] = interval(fp)
        out[f"{model}_forget_para"] = per_split(rec, model, "forget", "para_accuracy", split, splits)[0]
        out[f"{model}_empty"] = per_split(rec, model, "forget", "empty_answers", split, splits)[0]
        for r in KEEP_ROLES:
            out[f"{model}_{r}"], _ = per_split(rec, model, r, "accuracy", split, splits)
    out["keep_ratio"] = min((out[f"unlearned_{r}"] / out[f"base_{r}"] for r in KEEP_ROLES if out[f"base_{r}"] > 0),
                            default=float("nan"))
    out["n_forget_facts"] = len({f for f, _ in per_split(rec, "unlearned", "forget", "accuracy", split, splits)[1]})
    return out


def choose(rows: list[dict], methods: list[str], modes: list[str]) -> dict[str, dict]:
    """The selection rule above, on the rows' validation numbers only."""
    chosen: dict[str, dict] = {}
    for method in methods:
        for mode in modes:
            mine = [r for r in rows if r["method"] == method and r["mode"] == mode]
            ok = [r for r in mine if r["val"]["keep_ratio"] >= 0.95 and r["val"]["unlearned_empty"] <= 0.2]
            if ok:
                best = min(ok, key=lambda r: (r["val"]["unlearned_forget"], r["lr"]))
                chosen[f"{method}/{mode}"] = {"lr": best["lr"], "meets_keep": True}
                continue
            # none keeps 95%: the one that keeps the most of those that forget at least 0.1 (validation)
            moved = [r for r in mine if r["val"]["base_forget"] - r["val"]["unlearned_forget"] >= 0.1]
            if moved:
                best = max(moved, key=lambda r: (r["val"]["keep_ratio"], -r["lr"]))
                chosen[f"{method}/{mode}"] = {"lr": best["lr"], "meets_keep": False}
    return chosen


def line(r: dict, v: dict, t: dict, mark: str = "") -> str:
    """One printed row: validation ``v`` and test ``t`` summaries of setting ``r``."""
    return (f"{r['method']:8s}{r['mode']:5s} {r['lr']:<7g} {r['steps']:4d} | {v['unlearned_forget']:.2f} "
            f"({v['base_forget']:.2f}) {v['keep_ratio']:.2f} {v['unlearned_empty']:.2f} | "
            f"{t['unlearned_forget']:.2f} [{t['unlearned_forget_ci'][0]:.2f}, {t['unlearned_forget_ci'][1]:.2f}] "
            f"({t['base_forget']:.2f}) {t['keep_ratio']:.2f} {t['unlearned_empty']:.2f}{mark}")


def print_tables(rows: list[dict], chosen: dict[str, dict], report: dict[str, dict]) -> None:
    print(HEAD)
    for r in rows:
        pick = chosen.get(f"{r['method']}/{r['mode']}")
        mark = "" if not pick or pick["lr"] != r["lr"] else (" *" if pick["meets_keep"] else " * (keeps < 95%)")
        print(line(r, r["val"], r["test"], mark))
    if report:
        print("\nreported (report cells: the chosen settings run again; test is the report)")
        for rep in report.values():
            print(line(rep, rep["val"], rep["test"]))


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--data", default="real")
    ap.add_argument("--methods", default="npo,graddiff")
    ap.add_argument("--modes", default="lora,full")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", default=str(ROOT / "runs" / "real-tune"),
                    help="the grid's folder: one run folder per cell and grid.json (finished cells are kept)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "real" / "tune.json"))
    return ap.parse_args()


def main() -> None:
    from oblivio.pipeline.grid import quiet_log, run_grid, stderr_log
    a = parse_args()
    methods, modes = a.methods.split(","), a.modes.split(",")
    splits = split_of(a.data)
    tune = [cell(method, mode, lr, a) for method in methods for mode in modes for lr in LRS[mode]]
    done = run_grid(tune, a.runs, progress=False, log=stderr_log, run_log=quiet_log)
    rows = []
    for c in tune:
        rec = done[c.name]
        rows.append({**{k: c.tags[k] for k in ("method", "mode", "lr", "seed")},
                     "steps": rec["training"]["steps"], "train_seconds": rec["training"]["seconds"],
                     "val": summarise(rec, "val", splits), "test": summarise(rec, "test", splits)})
    chosen = choose(rows, methods, modes)
    # the report: each chosen setting once more, as a cell that chose nothing
    picks = [cell(r["method"], r["mode"], r["lr"], a, role="report") for r in rows
             if chosen.get(f"{r['method']}/{r['mode']}", {}).get("lr") == r["lr"]]
    reported = run_grid(picks, a.runs, progress=False, log=stderr_log, run_log=quiet_log)
    report = {}
    for c in picks:
        rec = reported[c.name]
        report[f"{c.tags['method']}/{c.tags['mode']}"] = {
            **c.tags, "run": c.name, "steps": rec["training"]["steps"],
            "val": summarise(rec, "val", splits), "test": summarise(rec, "test", splits)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"rule": __doc__.split("\n\n")[2].strip(), "rows": rows, "chosen": chosen,
                                       "report": report}, indent=1))
    print_tables(rows, chosen, report)


if __name__ == "__main__":
    main()
