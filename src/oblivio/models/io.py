"""Load and save Hugging Face causal LMs and tokenizers (safetensors, no network).

Loading never reaches a hub: ``local_files_only=True`` and ``trust_remote_code`` stays off
unless asked. Saving is atomic: write into a temporary directory, then rename.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from oblivio.errors import InputError


def load_model(path: str | Path, *, dtype: str = "auto", trust_remote_code: bool = False):
    """(model, tokenizer) from a local HF directory; clear errors for a bad directory."""
    p = Path(path)
    if not p.is_dir():
        raise InputError("model directory not found", file=str(p))
    if not (p / "config.json").is_file():
        raise InputError("not a Hugging Face model directory (no config.json)", file=str(p))
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16,
                   "float16": torch.float16}.get(dtype)
    if torch_dtype is None:
        raise InputError(f"unknown dtype {dtype!r}", field="model.dtype")
    try:
        tok = AutoTokenizer.from_pretrained(p, local_files_only=True, trust_remote_code=trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(p, local_files_only=True, dtype=torch_dtype,
                                                     trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot load model: {e}", file=str(p)) from None
    if tok.pad_token_id is None:
        # many causal LMs ship without a pad token; EOS is the usual stand-in
        tok.pad_token = tok.eos_token
    return model, tok


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
