"""Where TOFU's data comes from on a user's machine: a local folder, or the Hugging Face Hub.

TOFU (Maini et al. 2024, "TOFU: A Task of Fictitious Unlearning for LLMs", arXiv 2401.06121)
is published as the Hub dataset ``locuslab/TOFU``. oblivio reads it in its own JSONL layout,
one folder (:mod:`oblivio.data.tofu` says which file holds which rows). The folder is found
in this order (:func:`tofu_folder`):

1. ``data.tofu_dir`` (``--tofu-dir``), then the environment variable ``OBLIVIO_TOFU_DIR``: a
   folder in oblivio's layout, used as it is;
2. the Hub dataset at the pinned revision :data:`HUB_REVISION`, read from the local Hugging
   Face cache (``huggingface_hub``'s, ``HF_HUB_CACHE``) when its files are there, and
   downloaded into that cache only when the command line allows it (``--allow-download``,
   ``data.tofu_allow_download``, which a config file never sets: a config received from
   someone else must never make oblivio contact a network endpoint). The Hub's files are
   converted once into oblivio's layout under the model cache (``<cache>/tofu-hub/<revision>``);
3. else an :class:`InputError` that names both ways.

The folder or the Hub repository and revision used is recorded with the data
(``UnlearningData.provenance``, results.json ``data.provenance``).

**The Hub's files.** The dataset has one JSON Lines file per configuration at its root
(``full.json``, ``forget10.json``, ``forget10_perturbed.json``, ``retain90.json``,
``retain_perturbed.json``, ``real_authors_perturbed.json``, ``world_facts_perturbed.json``, …)
with the fields ``question``, ``answer`` and, in the ``*_perturbed`` ones,
``paraphrased_question``, ``paraphrased_answer`` and ``perturbed_answer`` (a list). These names
were taken from the dataset card, TOFU's and OpenUnlearning's loaders and published download
scripts; the conversion was tested on files written in that form, **not against the live
Hub**, which could not be reached where it was written. TOFU's ``idontknow.jsonl`` (the IDK
method's refusals) is not part of the Hub dataset: it lives in TOFU's GitHub repository, so a
Hub-converted folder has no ``idk.jsonl``.
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from oblivio.errors import InputError
from oblivio.progress import say

Log = Callable[[str], None]

HUB_REPO = "locuslab/TOFU"
#: the Hub revision read (a commit whose data files are those of December 2023, unchanged since,
#: as the Hub's public file history shows; not checked online from here)
HUB_REVISION = "e7f31f0dbdab86d7b27dc2582914952bb3a69096"
#: the Hub files the conversion reads, and their row counts
HUB_FILES = {"retain90.json": 3600, "forget10.json": 400, "forget10_perturbed.json": 400,
             "retain_perturbed.json": 400, "real_authors_perturbed.json": 100, "world_facts_perturbed.json": 117}
ENV = "OBLIVIO_TOFU_DIR"
CONVERSION_FORMAT = 1
_AUTHORS = Path(__file__).resolve().parent / "tofu_authors.json"
# the official configurations a fictitious row can be in, in the order the JSONL layout lists them
_SPLIT_ORDER = ("full", "forget10", "forget10_perturbed", "forget05", "forget05_perturbed", "forget01",
                "forget01_perturbed", "retain90", "retain95", "retain99", "retain_perturbed")


@dataclass(frozen=True)
class TofuSource:
    """The folder to read (oblivio's layout) and where it came from (results.json's record)."""
    folder: Path
    record: dict[str, Any] = field(default_factory=dict)


def local_tofu_dir(option: str | Path | None = None) -> Path | None:
    """The folder the user named: ``option`` (``data.tofu_dir``), else ``$OBLIVIO_TOFU_DIR``;
    None when neither is set. Returned even when it does not exist, so the loader's error
    names the path the user asked for."""
    if option is not None and str(option).strip():
        return Path(option).expanduser()
    env = os.environ.get(ENV, "").strip()
    return Path(env).expanduser() if env else None


def tofu_folder(option: str | Path | None = None, *, allow_download: bool = False, cache_dir: Path | None = None,
                log: Log = say) -> TofuSource:
    """The TOFU folder to read, in the order of the module docstring. ``cache_dir``: the
    Hugging Face cache to look in (default: ``huggingface_hub``'s)."""
    local = local_tofu_dir(option)
    if local is not None:
        if not local.is_dir():
            raise InputError("TOFU data directory does not exist", file=str(local),
                             field="data.tofu_dir" if option else ENV)
        return TofuSource(local, {"kind": "folder", "path": str(local.resolve())})
    files = hub_files(allow_download=allow_download, cache_dir=cache_dir)
    if files is None:
        raise InputError(
            f"TOFU's data was not found. Either name a folder of its JSONL files (--tofu-dir DIR, data.tofu_dir, "
            f"or the environment variable {ENV}; docs/how-to/use-tofu.md), or let oblivio read the Hugging Face "
            f"dataset {HUB_REPO} (revision {HUB_REVISION[:12]}): it is read from the local Hugging Face cache when "
            "there, and downloaded only with --allow-download", field="data.path")
    return converted(files, log=log)


def hub_files(*, allow_download: bool, cache_dir: Path | None = None) -> dict[str, Path] | None:
    """The local paths of :data:`HUB_FILES` at :data:`HUB_REVISION`: from the Hugging Face
    cache, or downloaded into it when ``allow_download``; None when one is missing and may
    not be downloaded."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError
    out: dict[str, Path] = {}
    for name in HUB_FILES:
        kw: dict[str, Any] = {"repo_type": "dataset", "revision": HUB_REVISION, "cache_dir": cache_dir}
        try:
            out[name] = Path(hf_hub_download(HUB_REPO, name, local_files_only=True, **kw))
            continue
        except LocalEntryNotFoundError:
            if not allow_download:
                return None
        try:
            with _online():
                out[name] = Path(hf_hub_download(HUB_REPO, name, **kw))
        except Exception as e:  # noqa: BLE001 -- offline, a proxy, a moved file: all say the same to the user
            from oblivio.errors import first_line
            raise InputError(f"could not download {name} of {HUB_REPO} at revision {HUB_REVISION[:12]}: "
                             f"{first_line(e)}", field="--allow-download") from None
    return out


@contextlib.contextmanager
def _online() -> Iterator[None]:
    """The Hub reachable for one download the user allowed (--allow-download): oblivio's command
    line turns ``huggingface_hub``'s offline mode on by default so that nothing else reaches out."""
    from huggingface_hub import constants
    was = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = was


def converted(files: dict[str, Path], *, log: Log = say) -> TofuSource:
    """The Hub files converted to oblivio's layout, once, in ``<cache>/tofu-hub/<revision>``."""
    from oblivio.atomic import exclusive_lock, replace_dir
    from oblivio.models.cache import cache_root
    dest = cache_root() / "tofu-hub" / HUB_REVISION
    record = {"kind": "hub", "repo": HUB_REPO, "revision": HUB_REVISION, "files": sorted(files),
              "converted_to": str(dest)}
    if _complete(dest):
        return TofuSource(dest, record)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(dest.parent / f"{dest.name}.lock"):
        if not _complete(dest):        # converted by another process while we waited
            log(f"converting TOFU ({HUB_REPO} at {HUB_REVISION[:12]}) into oblivio's JSONL layout ({dest})")
            rows = hub_rows(files)
            with replace_dir(dest) as tmp:
                for name, lines in rows.items():
                    (tmp / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines),
                                            encoding="utf-8")
                (tmp / "conversion.json").write_text(json.dumps(
                    {"format": CONVERSION_FORMAT, **record}, indent=1) + "\n", encoding="utf-8")
    return TofuSource(dest, record)


def _complete(dest: Path) -> bool:
    # replace_dir installs the folder whole: conversion.json present = every file there
    try:
        info = json.loads((dest / "conversion.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("format") == CONVERSION_FORMAT and info.get("revision") == HUB_REVISION


def read_hub_file(path: Path) -> list[dict[str, Any]]:
    """The rows of one Hub file: JSON Lines (the Hub's form), or one JSON array; every row a
    JSON object with string ``question`` and ``answer``."""
    from oblivio.textio import parse_json_line, read_text_lines
    lines = [(n, t) for n, t in read_text_lines(path, what="TOFU Hub file") if t.strip()]
    if lines and lines[0][1].lstrip().startswith("["):
        rows = parse_json_line("\n".join(t for _, t in lines), file=str(path), line=lines[0][0])
        numbered = list(enumerate(rows if isinstance(rows, list) else [rows], start=1))
    else:
        numbered = [(n, parse_json_line(t, file=str(path), line=n)) for n, t in lines]
    for n, row in numbered:
        if not isinstance(row, dict):
            raise InputError("expected a JSON object", file=str(path), line=n)
        for key in ("question", "answer"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise InputError("missing or empty", file=str(path), line=n, field=key)
    return [row for _, row in numbered]


def hub_rows(files: dict[str, Path]) -> dict[str, list[dict[str, Any]]]:
    """The rows of oblivio's four files (``forget.jsonl``, ``retain.jsonl``,
    ``real_authors.jsonl``, ``world_facts.jsonl``) built from the Hub's files: the same ids,
    authors and splits as a folder in oblivio's layout (tofu_authors.json names the authors)."""
    data = {name: read_hub_file(files[name]) for name in HUB_FILES}
    for name, n in HUB_FILES.items():
        if len(data[name]) != n:
            raise InputError(f"has {len(data[name])} rows; TOFU's has {n}", file=str(files[name]))
    pairs = [(r["question"], r["answer"]) for r in data["forget10_perturbed.json"]]
    if pairs != [(r["question"], r["answer"]) for r in data["forget10.json"]]:
        raise InputError("its rows are not forget10's, in forget10's order", file=str(files["forget10_perturbed.json"]))
    retain = data["retain90.json"]
    for k, r in enumerate(data["retain_perturbed.json"]):
        if (r["question"], r["answer"]) != (retain[k]["question"], retain[k]["answer"]):
            raise InputError(f"row {k + 1} is not retain90's row {k + 1}", file=str(files["retain_perturbed.json"]))
    authors = json.loads(_AUTHORS.read_text(encoding="utf-8"))
    perturbed = {k: r for k, r in enumerate(data["retain_perturbed.json"])}
    rows_r = [_fictitious(k, r, perturbed.get(k), authors["fictitious"]) for k, r in enumerate(retain)]
    rows_f = [_fictitious(3600 + k, r, r, authors["fictitious"]) for k, r in enumerate(data["forget10_perturbed.json"])]
    real = [_general("real_authors", k, r, authors["real_authors"].get(str(k), r["answer"]))
            for k, r in enumerate(data["real_authors_perturbed.json"])]
    facts = [_general("world_facts", k, r, None) for k, r in enumerate(data["world_facts_perturbed.json"])]
    return {"forget.jsonl": rows_f, "retain.jsonl": rows_r, "real_authors.jsonl": real, "world_facts.jsonl": facts}


def splits_of(position: int) -> list[str]:
    """The official configurations that hold row ``position`` of the 4,000-row ``full`` split:
    forget10/05/01 are its last 400/200/40 rows, retain90/95/99 the rest, retain_perturbed its
    first 400 rows."""
    inside = {"full"}
    for pct in (10, 5, 1):
        n = 40 * pct
        if position >= 4000 - n:
            inside |= {f"forget{pct:02d}", f"forget{pct:02d}_perturbed"}
        else:
            inside.add(f"retain{100 - pct}")
    if position < 400:
        inside.add("retain_perturbed")
    return [s for s in _SPLIT_ORDER if s in inside]


def _perturbed(row: dict[str, Any]) -> list[str]:
    v = row.get("perturbed_answer")
    vals = [v] if isinstance(v, str) else v if isinstance(v, list) else []
    return [x for x in vals if isinstance(x, str)]


def _fictitious(position: int, row: dict[str, Any], extra: dict[str, Any] | None, names: list[str | None]
                ) -> dict[str, Any]:
    idx = position // 20
    out: dict[str, Any] = {"id": f"tofu_full_{position:04d}", "author": names[idx], "author_index": idx,
                           "splits": splits_of(position), "question": row["question"], "answer": row["answer"]}
    if extra is not None:
        for key in ("paraphrased_question", "paraphrased_answer"):
            if isinstance(extra.get(key), str):
                out[key] = extra[key]
        if _perturbed(extra):
            out["perturbed_answers"] = _perturbed(extra)
    return out


def _general(name: str, k: int, row: dict[str, Any], author: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f"{name}_{k:03d}", "author": author, "question": row["question"],
                           "answer": row["answer"]}
    if _perturbed(row):
        out["perturbed_answers"] = _perturbed(row)
    return out
