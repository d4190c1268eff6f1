"""Pipeline stage 5: the run folder — the model (HF directory, safetensors; not when the run
skipped training: it is unchanged), config.yaml (which alone reproduces the run), results.json
(the source of truth), summary.md and report.html."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from oblivio.config import Config, to_dict
from oblivio.data.schema import UnlearningData, summarize


def data_info(d: UnlearningData | None, cut: Any, *, rule: bool = True) -> dict[str, Any]:
    if d is None:
        return {"name": None, "counts": {}, "targets": []}
    info = {"name": d.name, "counts": summarize(d.items), "targets": list(d.targets)}
    if rule:
        info["targets_rule"] = d.targets_rule
    info["truncated"] = cut
    if d.provenance:
        info["provenance"] = d.provenance
    return info


def write_model_and_config(work: Path, cfg: Config, model: Any, tokenizer: Any) -> None:
    import yaml

    from oblivio.models.io import save_model
    save_model(model, tokenizer, work / "model")
    (work / "config.yaml").write_text(yaml.safe_dump(to_dict(cfg), sort_keys=False))


def write_unlearn_run(work: Path, final: Path | None, *, cfg: Config, model: Any, tokenizer: Any,
                      reports: dict[str, Any], timings: dict[str, float], data: UnlearningData | None, cut: Any,
                      training: dict[str, Any], control: dict[str, Any] | None = None,
                      extra: dict[str, Any] | None = None) -> None:
    """Everything an ``unlearn`` run leaves in its folder (``final`` is where it will be) but
    config.yaml, which the run wrote before training (pipeline/resume.py ``start_run``: a resume
    needs it); ``control``: the checkpoint evaluation's record; ``extra``: more top-level
    results.json keys."""
    from oblivio.models.io import save_model
    from oblivio.report.results import results_record, summary_text, write_json
    u = cfg.unlearn
    if u.enabled:
        save_model(model, tokenizer, work / "model")
    rec = results_record(config=to_dict(cfg), seed=cfg.seed, timings=timings, reports=reports,
                         data_info=data_info(data, cut), training=training, extra={**(control or {}), **(extra or {})})
    write_json(work / "results.json", rec)
    notes = [f"data: {data.name}, targets: {', '.join(data.targets) or '-'}"
             + (f" ({data.targets_rule})" if data.targets_rule else "") if data is not None else "data: none",
             f"method: {u.method}{f' {u.args}' if u.args else ''}, sampler: {u.sampler}, {training['steps']} steps"
             if u.enabled
             else "no unlearning (unlearn.enabled: false): the model is unchanged and not saved",
             *(f"post-step {k}: {_brief(v)}" for k, v in (extra or {}).get("post_steps", {}).items()),
             "timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())]
    from oblivio.report.results import learned_note, learned_records
    if (scale := learned_note(learned_records(to_dict(cfg)))) is not None:
        notes.append(scale)
    if cut:
        from oblivio.data.context import truncation_note
        notes.append(str(truncation_note(cut)))
    if control is not None:
        from oblivio.report.curves import plot_curves
        if plot_curves(control, work / "curves.png", title=f"{u.method} ({u.sampler}): checkpoint evaluation"):
            notes.append(f"checkpoint curves: curves.png (selected step {control['selected_step']})")
    title = "oblivio unlearning run" if u.enabled else "oblivio run (no unlearning)"
    from oblivio.report.verdict import verdict_lines
    # the verdict heads summary.md as it heads the report and the terminal's last lines
    (work / "summary.md").write_text(summary_text(title=title, reports=reports, notes=notes, ci=cfg.eval.show_ci,
                                                  verdicts=verdict_lines(rec) if reports else ()))
    run_report(work, final)


def run_report(folder: Path, final: Path | None) -> None:
    """``report.html`` inside a run folder; a report that cannot be drawn never fails the run."""
    from oblivio.report.html import write_report
    try:
        write_report([folder], folder / "report.html", display_path=final, overwrite=True)
    except Exception as e:   # noqa: BLE001  (the run's results are already safe on disk)
        (folder / "report.txt").write_text(f"report.html could not be written: {type(e).__name__}: {e}\n")


def _brief(rec: Any) -> str:
    """A post-step's record in one line: its plain values (seconds, counts, files)."""
    if not isinstance(rec, dict):
        return str(rec)
    return ", ".join(f"{k} {v}" for k, v in rec.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool))
