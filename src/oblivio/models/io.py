"""Load Hugging Face causal LMs and tokenizers (safetensors, no network).

Loading never reaches a hub: ``local_files_only=True`` and ``trust_remote_code`` stays off
unless asked. A ``--model`` that names a GGUF file or a registered model is resolved to a local
folder first (:mod:`oblivio.models.resolve`). Saving lives in :mod:`oblivio.models.save`
(re-exported here).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from oblivio.errors import InputError
from oblivio.errors import first_line as _first_line
from oblivio.models.save import (  # noqa: F401 (re-exported: callers import saving from io)
    PORTABLE_TOKENIZER_CLASS,
    portable_config,
    save_into,
    save_model,
    save_tokenizer,
)


def load_model(path: str | Path, *, dtype: str = "auto", trust_remote_code: bool = False,
               allow_pickle: bool = False):
    """(model, tokenizer) from a local HF directory, a ``.gguf`` file or a registered model name
    (models/resolve.py: a GGUF is converted once into a cached folder); a broken directory is an
    InputError that says what is wrong (models/check.py), never a traceback or a silently
    re-initialised layer. Pickle weights (``pytorch_model.bin``) load only with ``allow_pickle``."""
    from oblivio.models.check import check_loaded, check_model_dir
    from oblivio.models.resolve import resolve_model_path
    p = resolve_model_path(path).path
    check_model_dir(p, allow_pickle=allow_pickle)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16,
                   "float16": torch.float16, "fp32": torch.float32, "bf16": torch.bfloat16,
                   "fp16": torch.float16}.get(dtype)
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
