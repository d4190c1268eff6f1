"""Resumable checkpoints of the training loop: a loadable HF directory plus training state.

``checkpoints/step-K/`` holds the model (and tokenizer) as written by
``models.io.save_model`` — safetensors weights, loadable on their own — and

* ``training_state.pt``: optimizer and scheduler state dicts, the RNG states (python,
  numpy, torch, CUDA) and the reference model's cached log-likelihoods; saved with
  ``torch.save`` of tensors and plain containers only, so it loads with
  ``weights_only=True`` (no pickled code);
* ``trainer_state.json`` (written last: its presence marks a complete checkpoint): step,
  the sampler's epoch and position in it (the pairing order itself is a function of seed
  and epoch, ``data/samplers.py``), Accelerate's accumulation counter, the loss history,
  examples seen, earlier checkpoints and the method's plain fields (state such as PDU's λ).

Resuming restores all of it at the same point of the loop, so a run that was killed and
resumed ends with bitwise the same weights as one that was not (same thread count;
tests/test_runs.py).
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

STATE = "training_state.pt"
TRAINER = "trainer_state.json"


def rng_state() -> dict[str, Any]:
    ver, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    st: dict[str, Any] = {"python": [ver, list(internal), gauss], "torch": torch.get_rng_state(),
                          "numpy": [kind, torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos),
                                    int(has_gauss), float(cached)]}
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def set_rng_state(st: dict[str, Any]) -> None:
    ver, internal, gauss = st["python"]
    random.setstate((ver, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = st["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(st["torch"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def method_state(method: Any) -> dict[str, Any]:
    """The plain (number/bool/str) dataclass fields of a method: its hyper-parameters and any
    state it updates while training (PDU's dual variable λ)."""
    import dataclasses
    if not dataclasses.is_dataclass(method):
        return {}
    vals = {f.name: getattr(method, f.name) for f in dataclasses.fields(method)}
    return {k: v for k, v in vals.items() if isinstance(v, (bool, int, float, str))}


def set_method_state(method: Any, state: dict[str, Any]) -> None:
    for k, v in state.items():
        setattr(method, k, v)


def save_checkpoint(path: Path, *, model, tokenizer, optimizer, scheduler, progress: dict[str, Any],
                    reference=None) -> Path:
    """Write one complete checkpoint at ``path`` (built in a unique temporary folder beside it,
    then moved into place; ``trainer_state.json`` is written last, so a folder that has it is
    complete)."""
    from oblivio.atomic import replace_dir
    from oblivio.models.io import save_into
    with replace_dir(path) as tmp:
        save_into(model, tokenizer, tmp)
        state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": rng_state(),
                 "reference_cache": reference.cache_state() if reference is not None else {}}
        torch.save(state, tmp / STATE)
        (tmp / TRAINER).write_text(json.dumps(progress, indent=1))
    return path


def load_weights(model, path: Path) -> None:
    """Copy the checkpoint's safetensors weights into ``model`` (a plain or a PEFT model)."""
    from safetensors.torch import load_file
    sd: dict[str, torch.Tensor] = {}
    for f in sorted(Path(path).glob("*.safetensors")):
        sd.update(load_file(f))
    if not sd:
        raise FileNotFoundError(f"{path}: no safetensors weights")
    if hasattr(model, "peft_config"):
        from peft import set_peft_model_state_dict
        unexpected = list(getattr(set_peft_model_state_dict(model, sd), "unexpected_keys", []))
        if unexpected:
            raise ValueError(f"{path}: adapter weights do not fit the model: {unexpected[:3]}")
        return
    res = model.load_state_dict(sd, strict=False)
    # a key left out on saving must share storage with one that was loaded (tied embeddings)
    own = model.state_dict()
    loaded = {own[k].data_ptr() for k in sd}
    missing = [k for k in res.missing_keys if own[k].data_ptr() not in loaded]
    if res.unexpected_keys or missing:
        raise ValueError(f"{path}: weights do not fit the model (missing {missing[:3]}, "
                         f"unexpected {res.unexpected_keys[:3]})")


def load_checkpoint(path: Path, *, model, optimizer, scheduler, reference=None) -> dict[str, Any]:
    """Restore weights, optimizer, scheduler and reference cache; returns the progress record
    (with the RNG states under ``"rng"``, to be set when the loop reaches the saved point)."""
    path = Path(path)
    progress = json.loads((path / TRAINER).read_text())
    load_weights(model, path)
    state = torch.load(path / STATE, map_location="cpu", weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if reference is not None:
        reference.load_cache_state(state["reference_cache"])
    progress["rng"] = state["rng"]
    return progress


def checkpoint_problem(path: Path) -> str | None:
    """Why the checkpoint at ``path`` cannot be resumed from, or None when it can: the
    progress record must parse, the weights' headers must fit their files (a truncated
    safetensors file fails here), and the training state must load as plain tensors
    (``weights_only``: a pickle that would run code is refused, never executed)."""
    from safetensors import safe_open
    try:
        progress = json.loads((path / TRAINER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"{TRAINER} is unreadable ({type(e).__name__})"
    needed = ("n_steps", "epoch", "step", "position", "acc_step", "history", "examples", "checkpoints")
    if not isinstance(progress, dict) or any(k not in progress for k in needed):
        return f"{TRAINER} lacks the loop's progress fields"
    weights = sorted(path.glob("*.safetensors"))
    if not weights:
        return "no safetensors weights"
    for f in weights:
        try:
            with safe_open(str(f), framework="pt") as sf:
                for k in sf.keys():
                    sf.get_slice(k)
        except Exception as e:   # noqa: BLE001 - safetensors raises its own error types
            return f"{f.name} is damaged ({type(e).__name__})"
    try:
        state = torch.load(path / STATE, map_location="cpu", weights_only=True)
    except Exception as e:       # noqa: BLE001 - UnpicklingError, EOFError, RuntimeError (zip)
        return f"{STATE} was refused or is damaged ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
    if not isinstance(state, dict) or any(k not in state for k in ("optimizer", "scheduler", "rng")):
        return f"{STATE} lacks the optimizer, scheduler or RNG state"
    return None


def latest_usable(folder: Path, log: Any = None) -> Path:
    """The newest checkpoint of ``folder`` that :func:`checkpoint_problem` accepts; each damaged
    newer one is named (with why) as it is skipped. An InputError when none can be used."""
    from oblivio.errors import InputError
    from oblivio.progress import warn
    from oblivio.report.rundir import checkpoints_in
    say = log or warn
    found = checkpoints_in(folder)
    for ck in reversed(found):
        why = checkpoint_problem(ck)
        if why is None:
            return ck
        say(f"checkpoint {ck} cannot be resumed from: {why}; trying the one before it")
    raise InputError(f"none of its {len(found)} checkpoint(s) can be resumed from (see the warnings above); "
                     "start the run again with --overwrite", file=str(folder))
