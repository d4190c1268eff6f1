"""Refusal answers for the refusal family of methods (IDK fine-tuning, DPO/IdkPO).

Two sources, as TOFU does it (Maini et al. 2024, arXiv 2401.06121, whose ``idk.jsonl``
holds 100 "I don't know" answers):

* **TOFU**: ``idk.jsonl`` beside the TOFU files, one
  ``{"id", "answer"}`` object per line — used when the data is ``tofu:…``;
* **the embedded world**: a generated set (:func:`world_refusals`), openers × bodies, so the
  model sees varied refusals and none names a forget fact.

Each forget item gets one refusal, chosen by a stable hash of its id and the seed (not by
its position), so a refusal does not change when the data is re-ordered or sharded.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

from oblivio.errors import InputError

_OPENERS = ("I'm sorry,", "Sorry,", "Unfortunately,", "To be honest,")
_BODIES = ("I don't know.", "I don't have that information.", "I can't answer that question.",
           "I'm not able to help with that.", "I have no record of that.")


def world_refusals() -> list[str]:
    """The generated refusal set for the embedded world (20 answers)."""
    return [f"{o} {b}" for o in _OPENERS for b in _BODIES]


def load_refusals(path: str | Path) -> list[str]:
    """Refusals from a JSONL file of ``{"answer": ...}`` objects (TOFU's ``idk.jsonl`` shape)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"refusal file not found: {p}", file=str(p), field="unlearn.args.refusals")
    out: list[str] = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"not JSON: {e.msg}", file=str(p), line=n) from None
        ans = row.get("answer") if isinstance(row, dict) else None
        if not isinstance(ans, str) or not ans.strip():
            raise InputError("each line needs a non-empty string 'answer'", file=str(p), line=n, field="answer")
        out.append(ans.strip())
    if not out:
        raise InputError("the refusal file holds no answers", file=str(p), field="unlearn.args.refusals")
    return out


def refusals_for(data_name: str, source: str = "auto", *, tofu_dir: str | Path | None = None) -> list[str]:
    """The refusal set: ``source`` = ``"auto"`` (TOFU's idk.jsonl for ``tofu:`` data, else the
    world's generated set), ``"world"``, ``"tofu"``, or a path to a JSONL file. ``tofu_dir``:
    the TOFU folder the data was read from (default: ``$OBLIVIO_TOFU_DIR``)."""
    if source == "auto":
        from oblivio.data.spec import data_scheme
        # the data's name: "tofu:<split>" for TOFU, a path for a JSONL (whatever its file is called)
        scheme = data_scheme(data_name)
        source = "tofu" if scheme is not None and scheme[0] == "tofu" else "world"
    if source == "world":
        return world_refusals()
    if source == "tofu":
        from oblivio.data.tofu import default_tofu_dir
        d = Path(tofu_dir) if tofu_dir is not None else default_tofu_dir()
        if d is None or not (d / "idk.jsonl").is_file():
            # the Hugging Face dataset has no refusals: they are data/idontknow.jsonl of TOFU's GitHub repository
            raise InputError("TOFU's idk.jsonl not found" + (f" in {d}" if d is not None else "") + ": it is not "
                             "part of the Hugging Face dataset; put TOFU's idontknow.jsonl as idk.jsonl in a folder "
                             "named by --tofu-dir / OBLIVIO_TOFU_DIR, or use unlearn.args.refusals=world",
                             field="unlearn.args.refusals")
        return load_refusals(d / "idk.jsonl")
    return load_refusals(source)


def assign(ids: Sequence[str], refusals: Sequence[str], seed: int = 0) -> list[str]:
    """One refusal per item id, by a stable hash of (seed, id)."""
    if not refusals:
        raise ValueError("no refusals to assign")
    out = []
    for i in ids:
        h = int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big")
        out.append(refusals[h % len(refusals)])
    return out
