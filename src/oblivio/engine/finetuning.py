"""Fine-tuning a pretrained model on a QA set (``oblivio learn --model M``): TOFU's base and gold
models, cached like the world's.

TOFU (Maini et al. 2024, arXiv 2401.06121) unlearns from a model fine-tuned on all of its
4,000 QA rows (the *base*) and measures forget quality against models fine-tuned on its retain
splits only (the *gold*, TOFU's "retain model"). Each model here starts from the same
pretrained weights and learns its rows with answer-only NLL through the model's prompt format
(its chat template when it has one, models/format.py), with the ``finetune`` config section —
TOFU's recipe by default: AdamW at 1e-5, 5 epochs, effective batch 32, weight decay 0.01, one
epoch of warm-up (config.tofu_finetune). ``model.lora_r`` > 0 fine-tunes a LoRA adapter of that
rank instead, merged into the saved model; the record says which.

Each model is one cache entry, ``<cache>/finetuned/<key>/model``, the key a hash of the
pretrained model's files, the learned rows (in order), the recipe, LoRA and the prompt
settings — not of its name: the gold of ``--data tofu:full --gold-split retain99`` and the
model of ``--data tofu:retain99`` are one entry. A hit is reported, never silent. The model
folder holds ``learned.json``, the scale it was learned at (data, authors, rows, epochs, steps,
LoRA or full), which an ``oblivio unlearn`` run that uses the folder copies into its results.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from oblivio.data.schema import QAItem
from oblivio.models.save import LEARNED_FILE
from oblivio.progress import say

Log = Callable[[str], None]
#: files of a model folder that do not change what it computes (conversion.json holds timings)
_NOT_HASHED = {"conversion.json", LEARNED_FILE}


@dataclass
class LearnedModels:
    """The fine-tuned models by name (``base``, ``gold``) as cached folders, whether each came
    from the cache, the seconds each took, and each one's record (``learned.json``)."""
    dirs: dict[str, Path]
    cached: dict[str, bool]
    seconds: dict[str, float] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path | None:
        return self.dirs.get("base")

    @property
    def gold_dir(self) -> Path | None:
        return self.dirs.get("gold")


def folder_fingerprint(folder: Path) -> str:
    """SHA-256 of a model folder's files (names and bytes), bookkeeping files aside."""
    from oblivio.models.resolve import file_sha256
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in _NOT_HASHED):
        h.update(f"{f.relative_to(folder)}|{file_sha256(f)}".encode())
    return h.hexdigest()


def items_digest(items: list[QAItem]) -> str:
    """SHA-256 of the rows a model learns: their text, in order (the training order's seed)."""
    rows = [[it.question, it.answer] for it in items]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def planned_steps(n_items: int, cfg: Any) -> int:
    """Optimiser steps of one fine-tuning (engine/loop.py ``total_steps``): the cost model's unit."""
    from oblivio.engine.loop import total_steps
    return total_steps(cfg, -(-n_items // cfg.batch_size))


def finetune_models(model_spec: str | Path, sets: dict[str, list[QAItem]], cfg: Any, *, record: dict[str, Any],
                    progress: bool = True, log: Log = say) -> LearnedModels:
    """Each set of ``sets`` learned by a fresh copy of ``model_spec`` (cached; module docstring).
    ``record``: what the data says of its scale (data/tofu.py ``learning_sets``)."""
    from oblivio.models.resolve import recorded_source, resolve_model_path
    resolved = resolve_model_path(model_spec, log=log)        # a GGUF or registered name: converted once
    pretrained = {"spec": str(model_spec), "fingerprint": folder_fingerprint(resolved.path),
                  **({"source": src} if (src := recorded_source(model_spec)) else {})}
    recipe = {k: v for k, v in dataclasses.asdict(cfg.finetune).items() if k not in ("progress", "log_with")}
    lora = ({"r": cfg.model.lora_r, "alpha": cfg.model.lora_alpha, "targets": list(cfg.model.lora_targets)}
            if cfg.model.lora_r else None)
    out = LearnedModels({}, {})
    for name, items in sets.items():
        if not items:
            from oblivio.errors import InputError
            raise InputError(f"the {name} model would learn no rows", field="data.path")
        spec = {"kind": "finetuned", "model": pretrained["fingerprint"], "items": items_digest(items),
                "recipe": recipe, "lora": lora, "prompt": cfg.model.prompt, "system_prompt": cfg.model.system_prompt,
                "dtype": cfg.model.dtype}
        rec = {"oblivio_learned": 1, "model": name, "pretrained": pretrained, **_scale(record, name, items),
               "recipe": recipe, "fine_tuning": "LoRA" if lora else "full", "lora": lora,
               "steps_planned": planned_steps(len(items), cfg.finetune)}
        out.dirs[name], out.cached[name], out.records[name], secs = _entry(resolved.path, items, spec, rec, cfg,
                                                                           progress=progress, log=log)
        if secs is not None:
            out.seconds[name] = secs
    return out


def _scale(record: dict[str, Any], name: str, items: list[QAItem]) -> dict[str, Any]:
    """The data's record narrowed to model ``name``: its rows and authors, and the data's own keys."""
    per = (record.get("models") or {}).get(name, {"items": len(items)})
    return {**{k: v for k, v in record.items() if k != "models"}, **per}


def _entry(source: Path, items: list[QAItem], spec: dict[str, Any], rec: dict[str, Any], cfg: Any, *,
           progress: bool, log: Log) -> tuple[Path, bool, dict[str, Any], float | None]:
    """(model folder, cached?, its record, seconds trained or None) of one cache entry."""
    from oblivio.atomic import exclusive_lock, write_text
    from oblivio.engine.dist import state
    from oblivio.models.cache import cache_key, cache_root
    key = cache_key(spec)
    root = cache_root() / "finetuned" / key
    secs: float | None = None
    if not (root / "done.json").is_file() and state().is_main_process:
        root.mkdir(parents=True, exist_ok=True)
        lock = exclusive_lock(root / ".lock", on_wait=lambda: log(f"waiting for another process fine-tuning "
                                                                  f"this model ({root})"))
        with lock:
            if not (root / "done.json").is_file():    # trained by another process while we waited
                rec = {**rec, "cache_key": key}
                rec.update(_train_one(source, items, rec, cfg, root / "model", progress=progress, log=log))
                secs = rec["seconds"]
                write_text(root / "done.json", json.dumps({"spec": spec, "record": rec}, indent=1, default=str))
    state().wait_for_everyone()
    if secs is None:
        log(f"reusing the cached {rec['model']} model ({root}; key {key} = hash of the pretrained model, the "
            "learned rows and the recipe)")
    saved = json.loads((root / "model" / LEARNED_FILE).read_text(encoding="utf-8"))
    return root / "model", secs is None, saved, secs


def _train_one(source: Path, items: list[QAItem], rec: dict[str, Any], cfg: Any, dest: Path, *, progress: bool,
               log: Log) -> dict[str, Any]:
    """Fine-tune a fresh copy of the model in ``source`` on ``items``, save it (with its
    ``learned.json``) into ``dest``; returns what training adds to the record."""
    import torch

    from oblivio.atomic import replace_dir
    from oblivio.engine.learning import learn_items
    from oblivio.engine.unlearning import LoraSpec, wrap_lora
    from oblivio.models.format import PromptFormat, bind_format
    from oblivio.models.io import load_model
    from oblivio.models.save import save_into
    # the models layer directly (not oblivio.resolve, which sits above the engine)
    model, tok = load_model(source, dtype=cfg.model.dtype, trust_remote_code=cfg.model.trust_remote_code,
                            allow_pickle=cfg.model.allow_pickle)
    fmt = bind_format(tok, PromptFormat(style=cfg.model.prompt, system=cfg.model.system_prompt))
    tcfg = dataclasses.replace(cfg.finetune, progress=progress)
    if cfg.model.lora_r:
        torch.manual_seed(tcfg.seed)        # the adapter's initialisation: a function of the seed
        model = wrap_lora(model, LoraSpec(cfg.model.lora_r, cfg.model.lora_alpha, cfg.model.lora_targets))
    else:
        for p in model.parameters():
            p.requires_grad_(True)
    log(f"fine-tuning the {rec['model']} model on {len(items)} rows ({rec.get('data', '?')}): "
        f"{rec['steps_planned']} steps of {tcfg.batch_size * tcfg.grad_accum} rows, {rec['fine_tuning']}")
    t0 = time.perf_counter()
    res = learn_items(model, tok, items, tcfg, fmt=fmt, desc=f"learn {rec['model']}")
    seconds = time.perf_counter() - t0
    model = res.model if res.model is not None else model
    if cfg.model.lora_r:
        model = model.merge_and_unload()
    model.eval()
    losses = [h["loss"] for h in res.history if "loss" in h]
    added = {"steps": res.steps, "epochs": tcfg.epochs if tcfg.max_steps is None else None,
             "tokens": res.tokens, "seconds": round(seconds, 2),
             "seconds_per_step": round(seconds / max(1, res.steps), 3),
             "first_loss": losses[0] if losses else None, "final_loss": losses[-1] if losses else None,
             "prompt_format": fmt.record(), "torch_threads": torch.get_num_threads()}
    log(f"fine-tuned the {rec['model']} model: {res.steps} steps in {seconds:.1f}s, loss "
        f"{added['first_loss']:.4f} -> {added['final_loss']:.4f}" if losses else f"fine-tuned in {seconds:.1f}s")
    with replace_dir(dest) as tmp:
        save_into(model, tok, tmp)
        (tmp / LEARNED_FILE).write_text(json.dumps({**rec, **added}, indent=1, default=str) + "\n", encoding="utf-8")
    return added


def scale_table(records: dict[str, dict[str, Any]], cached: dict[str, bool] | None = None) -> str:
    """The scale each model was learned at, as a Markdown table (printed by ``oblivio learn``)."""
    head = "| model | data | authors | rows | epochs | steps | fine-tuning | from |"
    lines = [head, "|" + "---|" * 8]
    for name, r in records.items():
        sub = r.get("subset")
        authors = f"{r.get('authors', '?')}" + (" (subset)" if sub else "")
        lora = r.get("lora") or {}
        tuning = f"LoRA r={lora.get('r')}" if r.get("fine_tuning") == "LoRA" else "full"
        lines.append(f"| {name} | {r.get('data', '?')} | {authors} | {r.get('items', '?')} | "
                     f"{r.get('epochs') if r.get('epochs') is not None else '-'} | {r.get('steps', '?')} | {tuning} | "
                     f"{'cache' if (cached or {}).get(name) else 'trained now'} |")
    return "\n".join(lines)
