"""The run record: ``results.json`` (config, versions, seed, timings, per-example values)
and ``summary.md`` (a short human-readable account), written atomically.
"""
from __future__ import annotations

import json
import platform
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:       # annotations only: reading a run's record must not import torch
    from oblivio.eval.evaluate import EvalReport

HEADLINE_SET = ("accuracy", "para_accuracy", "answer_prob", "rouge_recall", "truth_ratio")
HEADLINE_MODEL = ("forget_quality", "model_utility", "mia_minkpp", "privleak")
ARROW = {"higher": "↑", "lower": "↓", "closer_to_gold": "≈gold", "info": ""}
#: where a model's column goes: the model the run starts from, the retrained target, then the
#: model(s) judged — the same order in the terminal table, summary.md and the HTML report
_COLUMN_RANK = {"base": 0, "reference": 0, "gold": 1}


def column_order(names: Iterable[str]) -> list[str]:
    """``names`` as columns: base (or calibrate's reference), gold, then the rest in their order."""
    return sorted(names, key=lambda n: _COLUMN_RANK.get(n, 2))


def versions() -> dict[str, str]:
    import importlib.metadata as md
    out = {"python": platform.python_version()}
    for pkg in ("oblivio", "torch", "transformers", "accelerate", "peft", "tokenizers"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def read_results(path: str | Path, markers: tuple[str, ...] = ("oblivio_results",)) -> dict[str, Any]:
    """A results.json (or compare.json) someone may have edited or truncated: valid UTF-8 JSON,
    a mapping with one of ``markers``, ``models`` (when present) a mapping of mappings; anything
    else is an InputError naming the file, never a traceback further on."""
    from oblivio.errors import InputError
    f = Path(path)
    try:
        rec = json.loads(f.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"not valid JSON ({e}); the run folder is damaged: run it again", file=str(f)) from None
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror or e})", file=str(f)) from None
    if not isinstance(rec, dict) or not any(m in rec for m in markers):
        raise InputError(f"not an oblivio {f.name} (no '{markers[0]}' marker)", file=str(f))
    models = rec.get("models")
    if models is not None and (not isinstance(models, dict) or
                               not all(isinstance(v, dict) for v in models.values())):
        raise InputError("field 'models' must map each model name to its results; the file was changed "
                         "or damaged: run it again", file=str(f))
    return rec


def write_json(path: Path, obj: Any) -> None:
    from oblivio.atomic import write_text
    write_text(path, json.dumps(obj, indent=1, default=_default, ensure_ascii=False))


def _default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "__dataclass_fields__"):
        import dataclasses
        return dataclasses.asdict(o)
    return str(o)


def _fmt(v: float | None) -> str:
    if v is None:
        return "skip"
    if abs(v) >= 100 or (v != 0 and abs(v) < 1e-3):
        return f"{v:.3g}"
    return f"{v:.3f}"


def _cell(r: Any, ci: bool) -> str:
    """One table cell: the value, and with ``ci`` its 95% interval over facts, "v [lo, hi]"."""
    v = _fmt(r.value if r is not None else None)
    if ci and r is not None and r.value is not None and r.ci is not None:
        return f"{v} [{_fmt(r.ci[0])}, {_fmt(r.ci[1])}]"
    return v


def table(reports: dict[str, EvalReport], *, set_metrics=HEADLINE_SET, model_metrics=HEADLINE_MODEL,
          ci: bool = False) -> str:
    """A fixed-width table: one row per (set, metric), one column per model; with ``ci`` each
    value is followed by its 95% bootstrap interval over facts."""
    import oblivio.metrics  # noqa: F401
    from oblivio.metrics.base import METRICS

    names = column_order(reports)
    roles: list[str] = []
    for r in reports.values():
        roles += [x for x in r.sets if x not in roles]
    w = 26 if ci else 11
    head = f"{'set':<14}{'metric':<16}{'good':<7}" + "".join(f"{n:>{w}}" for n in names)
    lines = [head, "-" * len(head)]
    gone: dict[tuple[str, str], list[str]] = {}
    for role in roles:
        for m in set_metrics:
            if m not in METRICS:
                continue
            vals = [reports[n].sets.get(role, {}).get(m) for n in names]
            if all(v is None or v.skipped for v in vals):
                # no row, but never silently: one "skipped" line per metric and reason below
                why = next((v.skipped for v in vals if v is not None), None)
                if why:
                    gone.setdefault((m, why.replace(f"set '{role}'", "the set")), []).append(role)
                continue
            good = ARROW[METRICS.get(m).direction(role)]
            lines.append(f"{role:<14}{m:<16}{good:<7}" + "".join(f"{_cell(v, ci):>{w}}" for v in vals))
    for m in model_metrics:
        vals = [reports[n].model.get(m) for n in names]
        good = ARROW[METRICS.get(m).on_forget] if m in METRICS else ""
        lines.append(f"{'(model)':<14}{m:<16}{good:<7}" + "".join(f"{_cell(v, ci):>{w}}" for v in vals))
    # say which model's column a skip belongs to: the gold column skips forget quality by nature
    skipped: dict[str, list[str]] = {}
    for n, r in reports.items():
        for m, v in r.model.items():
            if v.skipped:
                skipped.setdefault(f"{m}: {v.skipped}", []).append(n)
    for reason in sorted(skipped):
        lines.append(f"skipped ({', '.join(skipped[reason])}) — {reason}")
    for (m, why), rs in gone.items():
        lines.append(f"skipped (all models) — {m} on {'every set' if rs == roles else ', '.join(rs)}: {why}")
    limit = next((r.statistics.get("limit") for r in reports.values() if r.statistics.get("limit")), None)
    if limit:     # a quick check must not read as the full evaluation
        lines.append(f"--limit {limit}: at most {limit} facts per set (eval.limit); a quick check, not a result")
    if ci:
        stat = next((r.statistics for r in reports.values() if r.statistics), {})
        if stat.get("bootstrap"):
            lines.append(f"[lo, hi]: 95% bootstrap interval over facts ({stat['bootstrap']} resamples, "
                         f"seed {stat['seed']}); forget quality is a test's p-value (no interval)")
        else:
            lines.append("no intervals: eval.bootstrap = 0")
    return "\n".join(lines)


def results_record(*, config: dict[str, Any], seed: int, timings: dict[str, float],
                   reports: dict[str, EvalReport], data_info: dict[str, Any],
                   training: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    import oblivio.metrics  # noqa: F401
    from oblivio.metrics.base import METRICS
    return {
        "oblivio_results": 1,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "seed": seed,
        "versions": versions(),
        "config": config,
        "data": data_info,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "training": training or {},
        "metrics": {n: {"description": m.description, "scope": m.scope, "good_on_forget": m.on_forget,
                        "good_on_retain": m.on_retain, "needs": list(m.needs), "source": m.source}
                    for n, m in METRICS.items()},
        "models": {name: r.to_json() for name, r in reports.items()},
        **({"judge": j} if (j := judge_summary(reports, config)) else {}),
        **({"model_source": m} if (m := model_source(config)) else {}),
        **({"learned": m} if (m := learned_records(config)) else {}),
        # the format every model was asked in (the same for all: one tokenizer per run)
        **({"prompt_format": f} if (f := next((r.prompt_format for r in reports.values() if r.prompt_format),
                                              None)) else {}),
        **(extra or {}),
    }


def model_source(config: dict[str, Any]) -> dict[str, Any]:
    """Where the run's model and gold came from when one was a GGUF file or a registered name
    (its file, sha256, quantisation, converted folder: models/resolve.py); empty for folders."""
    from oblivio.models.resolve import recorded_source
    m = config.get("model")
    if not isinstance(m, dict):
        return {}
    return {role: src for role, key in (("model", "path"), ("gold", "gold"))
            if (src := recorded_source(m.get(key))) is not None}


#: what results.json copies from a model folder's learned.json (engine/finetuning.py): its scale
LEARNED_KEYS = ("data", "model", "forget_split", "gold_split", "subset", "items", "authors", "author_indices",
                "epochs", "steps", "fine_tuning", "lora", "recipe", "provenance", "pretrained", "cache_key")


def learned_records(config: dict[str, Any]) -> dict[str, Any]:
    """The scale the run's model and gold were fine-tuned at by ``oblivio learn --model``, from
    the ``learned.json`` in their folders (read as data: a JSON object, its known keys only);
    empty for other models."""
    from oblivio.models.save import LEARNED_FILE
    m = config.get("model")
    if not isinstance(m, dict):
        return {}
    out: dict[str, Any] = {}
    for role, key in (("model", "path"), ("gold", "gold")):
        val = m.get(key)
        f = Path(val) / LEARNED_FILE if isinstance(val, str) and val else None
        try:
            rec = json.loads(f.read_text(encoding="utf-8")) if f is not None and f.is_file() else None
        except (OSError, ValueError):
            rec = None
        if isinstance(rec, dict):
            out[role] = {k: rec[k] for k in LEARNED_KEYS if k in rec}
    return out


def learned_note(learned: dict[str, Any]) -> str | None:
    """One line for a run's summary: the scale its models were fine-tuned at."""
    parts = []
    for role, r in learned.items():
        sub = " subset" if r.get("subset") else ""
        epochs = r.get("epochs")
        length = f"{epochs:g} epochs" if isinstance(epochs, (int, float)) else f"{r.get('steps', '?')} steps"
        n = r.get("authors", "?")
        parts.append(f"{role} fine-tuned on {r.get('data', '?')}{sub} ({n} author{'' if n == 1 else 's'}, "
                     f"{r.get('items', '?')} rows, {length}, {r.get('fine_tuning', '?')})")
    return "models: " + "; ".join(parts) if parts else None


def judge_summary(reports: dict[str, EvalReport], config: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """TRU's UQ (forget) and RQ (every judged retain role) per model, with intervals, criteria
    and unparseable counts (the report's judge section); None when no judge ran."""
    out: dict[str, Any] = {}
    for name, r in reports.items():
        rows: dict[str, Any] = {}
        for role, ms in r.sets.items():
            for metric in ("uq", "rq"):
                res = ms.get(metric)
                if res is None or (res.value is None and "unparseable" not in res.extra):
                    continue
                rows.setdefault(metric, {})[role] = {
                    "value": res.value, "ci": list(res.ci) if res.ci else None, "n_facts": res.n_facts,
                    "criteria": res.extra.get("criteria"), "unparseable": res.extra.get("unparseable", 0),
                    "judged": res.extra.get("judged")}
        if rows:
            out[name] = rows
    if not out:
        return None
    judge = ((config or {}).get("eval") or {}).get("judge") or {}
    keys = {"hf": ("kind", "model"), "endpoint": ("kind", "url", "endpoint_model")}.get(str(judge.get("kind")),
                                                                                      ("kind",))
    return {"judge": {k: judge.get(k) for k in keys if judge.get(k)},
            "models": out}


VERDICT_HEADING = "## Verdict"


def verdict_block(lines: Sequence[str]) -> list[str]:
    """summary.md's verdict section: a heading and the four verdict lines (report/verdict.py)."""
    return [VERDICT_HEADING, "", *[f"- {ln}" for ln in lines], ""] if lines else []


def summary_text(*, title: str, reports: dict[str, EvalReport], notes: list[str], ci: bool = False,
                 verdicts: Sequence[str] = ()) -> str:
    """summary.md: the title, the four verdict lines, the notes and the results table (none
    when nothing was evaluated)."""
    shown = ["```", table(reports, ci=ci), "```", ""] if reports else []
    return "\n".join([f"# {title}", "", *verdict_block(verdicts), *[f"- {n}" for n in notes], "", *shown])


def refresh_summary(folder: Path, rec: dict[str, Any]) -> None:
    """Rewrite the verdict section of ``folder``'s summary.md from results.json record ``rec``
    (after ``oblivio audit`` added evidence); a folder without summary.md is left alone."""
    from oblivio.atomic import write_text
    from oblivio.report.verdict import verdict_lines
    f = folder / "summary.md"
    if not f.is_file() or "models" not in rec:
        return
    lines = f.read_text(encoding="utf-8").split("\n")
    block = verdict_block(verdict_lines(rec))
    if VERDICT_HEADING in lines:
        start = lines.index(VERDICT_HEADING)
        end = start + 2
        while end < len(lines) and lines[end].startswith("- "):
            end += 1
        lines[start:end + 1] = block
    else:               # a summary written before verdicts were in it: after its title
        lines[2:2] = block
    write_text(f, "\n".join(lines))
