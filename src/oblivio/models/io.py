"""Load and save Hugging Face causal LMs and tokenizers (safetensors, no network).

Loading never reaches a hub: ``local_files_only=True`` and ``trust_remote_code`` stays off
unless asked. Saving is atomic: write into a temporary directory, then rename.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from oblivio.errors import InputError


def load_model(path: str | Path, *, dtype: str = "auto", trust_remote_code: bool = False,
               allow_pickle: bool = False):
    """(model, tokenizer) from a local HF directory; a broken directory is an InputError that
    says what is wrong (models/check.py), never a traceback or a silently re-initialised layer.
    Pickle weights (``pytorch_model.bin``) load only with ``allow_pickle``."""
    from oblivio.models.check import check_loaded, check_model_dir
    p = Path(path)
    check_model_dir(p, allow_pickle=allow_pickle)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16,
                   "float16": torch.float16}.get(dtype)
    if torch_dtype is None:
        raise InputError(f"unknown dtype {dtype!r}", field="model.dtype")
    try:
        tok = AutoTokenizer.from_pretrained(p, local_files_only=True, trust_remote_code=trust_remote_code)
    except Exception as e:  # noqa: BLE001 -- transformers raises OSError, ValueError, TypeError, ...
        raise InputError(f"cannot load the tokenizer: {_first_line(e)}", file=str(p)) from None
    try:
        loaded: Any = AutoModelForCausalLM.from_pretrained(
            p, local_files_only=True, dtype=torch_dtype, trust_remote_code=trust_remote_code,
            use_safetensors=None if allow_pickle else True, output_loading_info=True,
            # a wrong shape is reported by check_loaded, naming the tensors (never kept: it raises)
            ignore_mismatched_sizes=True)
        model, info = loaded
    except Exception as e:  # noqa: BLE001 -- a size mismatch is a RuntimeError, a bad config a ValueError
        raise InputError(f"cannot load the model weights: {_first_line(e)}", file=str(p)) from None
    check_loaded(model, tok, info, p)
    if tok.pad_token_id is None:
        # many causal LMs ship without a pad token; EOS is the usual stand-in
        tok.pad_token = tok.eos_token
    return model, tok


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:300]


def save_model(model, tokenizer, path: str | Path) -> Path:
    """Save as a HF directory with safetensors weights, atomically."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    if tokenizer is not None:
        tokenizer.save_pretrained(tmp)
    if p.exists():
        shutil.rmtree(p)
    tmp.rename(p)
    return p
