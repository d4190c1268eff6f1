"""What is wrong with a model folder, said before (and right after) loading it.

``transformers`` turns most broken folders into a traceback deep inside its loader, and some
into a *silent* success: weights missing for some layers are randomly initialised with a
log line. :func:`check_model_dir` looks at the folder without loading any weights —

* missing path, a file instead of a folder, an oblivio run folder (its model is in
  ``model/``), a training checkpoint (optimizer/scheduler/RNG state, no ``config.json``);
* ``config.json`` that is not a JSON object;
* no tokenizer files;
* no weights; pickle weights (``pytorch_model.bin``) without safetensors are refused unless
  ``allow_pickle`` (loading a pickle runs arbitrary code from the file);
* every safetensors file: its header parsed and its size checked against the tensors it
  declares, so a truncated or corrupt file is named before ``transformers`` reads it —

and :func:`check_loaded` checks the loaded pair: no weight missing or of the wrong shape for
the config, and at least as many embedding rows as the tokenizer has tokens.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from oblivio.errors import InputError

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "spiece.model", "vocab.txt",
                    "tokenizer_config.json")
# files a training loop saves next to (or instead of) a model: Accelerate's save_state,
# HF Trainer checkpoints, oblivio's resumable checkpoints
_STATE_FILES = ("optimizer.bin", "optimizer.pt", "scheduler.bin", "scheduler.pt", "random_states_0.pkl",
                "trainer_state.json", "training_state.json", "rng_state.pth", "state.json")
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
                "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "U32": 4, "U64": 8}


def check_model_dir(p: Path, *, allow_pickle: bool = False) -> None:
    """Raise an :class:`InputError` that says what is wrong with model folder ``p``."""
    if not p.exists():
        hub = len(p.parts) == 2 and not p.is_absolute() and not str(p).startswith(".")
        raise InputError("model directory not found" + (" (models are loaded from local folders only, never "
                         "downloaded: download it first, e.g. with `huggingface-cli download`)" if hub else ""),
                         file=str(p))
    if not p.is_dir():
        raise InputError("expected a model directory, got a file", file=str(p))
    names = {c.name for c in p.iterdir()}
    if "config.json" not in names:
        if (p / "model" / "config.json").is_file():
            raise InputError(f"this is a run folder, not a model; its model is {p / 'model'}", file=str(p))
        if names & set(_STATE_FILES) or any(n.startswith(("checkpoint-", "step-")) for n in names):
            raise InputError("this is a training checkpoint (optimizer/RNG state), not a model directory: "
                             "it has no config.json; pass the model folder (a run's model/) instead", file=str(p))
        raise InputError("not a Hugging Face model directory (no config.json)", file=str(p))
    cfg = _read_json(p / "config.json")
    if not isinstance(cfg, dict):
        raise InputError("config.json is not a JSON object", file=str(p / "config.json"))
    if not names & set(_TOKENIZER_FILES):
        raise InputError("no tokenizer in the model directory (tokenizer.json, tokenizer_config.json, ...); "
                         "save the tokenizer with the model (tokenizer.save_pretrained)", file=str(p))
    shards = _safetensors_files(p, names)
    if not shards:
        if {"pytorch_model.bin", "pytorch_model.bin.index.json"} & names:
            if not allow_pickle:
                raise InputError("weights are a pickle (pytorch_model.bin), which can run arbitrary code when "
                                 "loaded; convert them to safetensors, or pass --allow-pickle if you trust "
                                 "the file", file=str(p))
            return
        raise InputError("no weights in the model directory (model.safetensors)", file=str(p))
    for f in shards:
        check_safetensors(f)


def _read_json(f: Path) -> Any:
    from oblivio.textio import read_json_file
    return read_json_file(f, what=f.name)


def _safetensors_files(p: Path, names: set[str]) -> list[Path]:
    if "model.safetensors.index.json" in names:
        idx = _read_json(p / "model.safetensors.index.json")
        wm = idx.get("weight_map") if isinstance(idx, dict) else None
        if not isinstance(wm, dict) or not all(isinstance(v, str) for v in wm.values()):
            raise InputError("no weight_map in the safetensors index", file=str(p / "model.safetensors.index.json"))
        files = [p / f for f in sorted(set(wm.values()))]
        for f in files:
            if not f.is_file():
                raise InputError(f"shard {f.name} named by model.safetensors.index.json is missing", file=str(f))
        return files
    return sorted(p / n for n in names if n.endswith(".safetensors"))


def check_safetensors(f: Path) -> None:
    """Header parsed, every tensor's byte range inside the file, the file not truncated."""
    size = f.stat().st_size
    with f.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise InputError(f"corrupt safetensors file ({size} bytes, shorter than its header)", file=str(f))
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, 100_000_000):
            raise InputError(f"corrupt or truncated safetensors file (header of {n} bytes in a file of "
                             f"{size} bytes)", file=str(f))
        raw = fh.read(n)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError("corrupt safetensors file (its header is not valid JSON)", file=str(f)) from None
    if not isinstance(header, dict):
        raise InputError("corrupt safetensors file (header is not an object)", file=str(f))
    end = 0
    for name, t in header.items():
        if name == "__metadata__":
            continue
        try:
            start, stop = (int(x) for x in t["data_offsets"])
            count = 1
            for d in t["shape"]:
                count *= int(d)
            width = _DTYPE_BYTES.get(t["dtype"])
        except (TypeError, KeyError, ValueError):
            raise InputError(f"corrupt safetensors file (bad entry for tensor {name!r})", file=str(f)) from None
        if width is not None and stop - start != count * width:
            raise InputError(f"corrupt safetensors file (tensor {name!r} {t['shape']} {t['dtype']} spans "
                             f"{stop - start} bytes)", file=str(f))
        end = max(end, stop)
    if 8 + n + end > size:
        raise InputError(f"truncated safetensors file: {size} bytes, its header declares {8 + n + end}",
                         file=str(f))


def check_loaded(model: Any, tokenizer: Any, info: dict[str, Any], p: Path) -> None:
    """After ``from_pretrained(..., output_loading_info=True)``: nothing silently re-initialised."""
    for kind, what in (("missing_keys", "missing from the weights (they would be random)"),
                       ("mismatched_keys", "of a different shape than config.json says")):
        keys = sorted(str(k[0] if isinstance(k, tuple) else k) for k in (info.get(kind) or ()))
        if keys:
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            raise InputError(f"config.json and the weights disagree: {len(keys)} tensors {what}: "
                             f"{', '.join(keys[:3])}{more}", file=str(p))
    rows = model.get_input_embeddings().weight.shape[0]
    if rows < len(tokenizer):
        raise InputError(f"the model's vocabulary ({rows} embedding rows) is smaller than its tokenizer's "
                         f"({len(tokenizer)} tokens): token ids ≥ {rows} would index past the embedding",
                         file=str(p))
