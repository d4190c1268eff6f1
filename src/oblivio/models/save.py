"""Save Hugging Face causal LMs and tokenizers as portable folders (safetensors), atomically:
written into a temporary folder beside the destination, then moved into place.

Saved tokenizers load with transformers 4.x and 5.x alike: transformers 5 writes
``"tokenizer_class": "TokenizersBackend"`` (a class 4.x does not have), so
:func:`save_tokenizer` writes the class both versions know, ``PreTrainedTokenizerFast``
(5.x maps it to its tokenizers backend), drops 5.x's ``backend`` key and writes
``special_tokens_map.json`` as 4.x did, and copies a chat template that 5.x keeps in
``chat_template.jinja`` into ``tokenizer_config.json`` (where 4.x looks for it). The folder
loads from its files alone (``PreTrainedTokenizerFast(tokenizer_file=...)`` or
``from_pretrained``). The model's ``config.json`` also gets 4.x's top-level ``rope_theta``
next to 5.x's ``rope_parameters``: without it 4.x would silently use its default base
(10,000) for a model trained with another (SmolLM2: 100,000).
"""
from __future__ import annotations

import json
from pathlib import Path

#: the record of how a fine-tuned model folder was made (``oblivio learn --model``): its scale and
#: recipe, read by the reports as data
LEARNED_FILE = "learned.json"


def save_model(model, tokenizer, path: str | Path) -> Path:
    """Save as a HF directory with safetensors weights, atomically."""
    from oblivio.atomic import replace_dir
    p = Path(path)
    with replace_dir(p) as tmp:
        save_into(model, tokenizer, tmp)
    return p


def save_into(model, tokenizer, folder: Path) -> None:
    """Weights (safetensors), config and tokenizer into an existing folder the caller owns."""
    model.save_pretrained(folder, safe_serialization=True)
    portable_config(folder / "config.json")
    if tokenizer is not None:
        save_tokenizer(tokenizer, folder)


def portable_config(cfg_path: Path) -> None:
    """Add 4.x's ``rope_theta`` to a 5.x ``config.json`` that only has ``rope_parameters``
    (5.x reads both and they agree); other configs are left as they are."""
    if not cfg_path.is_file():
        return
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    rope = cfg.get("rope_parameters")
    if not isinstance(rope, dict) or "rope_theta" in cfg or "rope_theta" not in rope:
        return
    cfg["rope_theta"] = rope["rope_theta"]
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


PORTABLE_TOKENIZER_CLASS = "PreTrainedTokenizerFast"
_TOKEN_KEYS = ("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token")


def save_tokenizer(tokenizer, path: str | Path) -> Path:
    """``tokenizer.save_pretrained(path)``, then make its config loadable by transformers
    4.x and 5.x (see module docstring). Tokenizers that are not fast (``tokenizer.json``
    absent) keep their own class."""
    p = Path(path)
    tokenizer.save_pretrained(p)
    cfg_path = p / "tokenizer_config.json"
    if not (p / "tokenizer.json").is_file() or not cfg_path.is_file():
        return p
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    changed = False
    if cfg.get("tokenizer_class") in (None, "TokenizersBackend"):
        cfg["tokenizer_class"] = PORTABLE_TOKENIZER_CLASS
        cfg.pop("backend", None)     # a 5.x-only key; 4.x would pass it on as an init argument
        changed = True
    jinja = p / "chat_template.jinja"
    if "chat_template" not in cfg and jinja.is_file():
        cfg["chat_template"] = jinja.read_text(encoding="utf-8")
        changed = True
    if changed:
        cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    special = {k: cfg[k] for k in _TOKEN_KEYS if isinstance(cfg.get(k), (str, dict))}
    smap = p / "special_tokens_map.json"
    if special and not smap.exists():
        smap.write_text(json.dumps(special, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return p
