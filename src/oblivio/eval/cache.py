"""Reference evaluations (base, gold) cached on disk, so a second run does not redo them.

A warm ``oblivio demo``, a ``compare`` grid with several seeds or a ``calibrate`` after an
``unlearn`` all evaluate the same base and gold models on the same data with the same
evaluation config; each such evaluation is stored once under the model cache
(``<cache>/reference-evals/<key>.pkl``) and loaded afterwards. The key is a hash of
everything the report depends on:

* the model: every parameter and buffer (name, dtype, shape, bytes) and the tokenizer
  (its serialised vocabulary and merges), so a retrained or edited model never hits;
* the data: every evaluated item's fields, in order (after truncation to the context);
* the evaluation config (``eval.*`` but the display-only ``show_ci``, the verdicts' ``margin``
  and the switch itself), the embedder used for cosine C (or none), and the gold report's key
  (forget quality of the base is measured against it);
* the evaluator's own source (``eval/``, ``metrics/``, collation, prompt format) and the
  torch/numpy versions, so an edited metric never returns a stale value.

Metrics registered from outside the package (dotted paths, entry points) are keyed by name
only: turn the cache off (``eval.reference_cache: false``) while editing such a metric.
Entries are pickles written by oblivio itself; they are loaded with an unpickler that
accepts only oblivio's, numpy's and a few builtin types, so a planted file cannot run code.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import pickle
from pathlib import Path
from typing import Any, Callable

from oblivio.config import EvalConfig
from oblivio.data.schema import UnlearningData

Log = Callable[[str], None]
CACHE_FORMAT = 1
#: eval config keys that do not change a report
NOT_KEYED = ("show_ci", "reference_cache", "enabled", "portion", "margin")    # the portion is keyed on its own
_CODE: list[str] = []


def cache_dir() -> Path:
    from oblivio.models.cache import cache_root
    return cache_root() / "reference-evals"


def model_fingerprint(model: Any, tokenizer: Any) -> str:
    """SHA-256 of a model's parameters and buffers and of its tokenizer."""
    import torch
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        t = t.detach()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        if t.dtype == torch.bfloat16:    # numpy has no bfloat16: hash its bits
            t = t.view(torch.int16)
        h.update(t.cpu().contiguous().numpy().tobytes())
    h.update(_tokenizer_text(tokenizer).encode())
    return h.hexdigest()


def _tokenizer_text(tokenizer: Any) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:                # fast tokenizers: vocabulary, merges, normaliser, …
        text = backend.to_str()
    else:
        text = json.dumps(sorted(tokenizer.get_vocab().items()))
    special = {k: str(v) for k, v in sorted(getattr(tokenizer, "special_tokens_map", {}).items())}
    return text + json.dumps(special) + str(getattr(tokenizer, "chat_template", None))


def data_fingerprint(data: UnlearningData) -> str:
    rows = [dataclasses.asdict(it) for it in data.items]
    for r in rows:
        r.pop("origin", None)
        r.pop("meta", None)
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def code_fingerprint() -> str:
    """Hash of the evaluator's source files and of the numeric libraries' versions."""
    if not _CODE:
        import numpy
        import torch
        root = Path(__file__).resolve().parents[1]
        files = sorted([*root.glob("eval/*.py"), *root.glob("metrics/*.py"), *root.glob("judges/*.py"),
                        root / "teachers" / "base.py",     # the judges' leak check
                        root / "data" / "collate.py", root / "models" / "format.py"])
        h = hashlib.sha256(f"{torch.__version__}|{numpy.__version__}".encode())
        for f in files:
            h.update(f.name.encode())
            h.update(f.read_bytes())
        _CODE.append(h.hexdigest())
    return _CODE[0]


def eval_key(model: Any, tokenizer: Any, data: UnlearningData, cfg: EvalConfig, *, gold_key: str | None,
             embedder: Any, portion: str | None = "test") -> str:
    """The cache key of one evaluation (see the module docstring)."""
    # hashed every time: models are trained in place, so an object's identity says nothing
    ecfg = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in NOT_KEYED}
    spec = {"format": CACHE_FORMAT, "model": model_fingerprint(model, tokenizer), "data": data_fingerprint(data),
            "eval": ecfg,
            "gold": gold_key, "embedder": None if embedder is None else str(getattr(embedder, "path", "yes")),
            "portion": portion,
            "code": code_fingerprint()}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:24]


class _SafeUnpickler(pickle.Unpickler):
    ALLOWED_ROOTS = ("oblivio", "numpy")
    BUILTINS = {"dict", "list", "tuple", "set", "frozenset", "float", "int", "str", "bool", "complex",
                "bytes", "bytearray", "slice", "range"}

    def find_class(self, module: str, name: str) -> Any:
        root = module.split(".", 1)[0]
        if root in self.ALLOWED_ROOTS or (module in ("builtins", "copyreg", "collections")
                                          and (name in self.BUILTINS or name in ("_reconstructor",
                                                                                 "OrderedDict"))):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cached evaluation")


def load(key: str) -> Any | None:
    """The cached report under ``key``, or None (missing or unreadable: it is recomputed)."""
    path = cache_dir() / f"{key}.pkl"
    try:
        with path.open("rb") as fh:
            return _SafeUnpickler(io.BytesIO(fh.read())).load()
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None


def store(key: str, report: Any) -> None:
    """Written to a temporary file, then renamed: a reader never sees half an entry."""
    from oblivio.atomic import open_atomic
    from oblivio.errors import InputError, OutputProblem
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        with open_atomic(d / f"{key}.pkl", "wb", encoding=None) as fh:
            pickle.dump(report, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except (OSError, OutputProblem, InputError):    # an unwritable cache only costs the re-evaluation next time
        pass


@dataclasses.dataclass
class ReferenceEval:
    """One reference evaluation and whether it came from the cache."""

    report: Any
    key: str | None
    hit: bool


def evaluate_reference(model: Any, tokenizer: Any, data: UnlearningData, *, cfg: EvalConfig, name: str,
                       gold: ReferenceEval | None = None, embedder: Any = None,
                       log: Log | None = None, portion: str = "test") -> ReferenceEval:
    """``evaluate_model`` of a reference model (base, gold) on ``portion`` (the test portion a
    run reports; ``"val"`` for a selection's reference), through the cache when
    ``cfg.reference_cache`` is on."""
    from oblivio.eval import evaluate as E
    from oblivio.roles import check_selection
    check_selection(portion, ())       # inside a selection only the validation portion, cache hit or not
    gold_report = gold.report if gold is not None else None
    if not cfg.reference_cache:
        return ReferenceEval(E.evaluate_model(model, tokenizer, data, cfg=cfg, gold=gold_report, name=name,
                                              embedder=embedder, portion=portion, log=log), None, False)
    key = eval_key(model, tokenizer, data, cfg, gold_key=None if gold is None else (gold.key or "uncached"),
                   embedder=embedder, portion=portion)
    rep = load(key)
    if rep is not None:
        rep.name = name
        if rep.stats is not None:
            rep.stats.name = name
        if log is not None:
            log(f"{name}: evaluation reused from the reference cache ({cache_dir() / key}.pkl; key = hash of "
                "model, data, eval config and evaluator code)")
        return ReferenceEval(rep, key, True)
    rep = E.evaluate_model(model, tokenizer, data, cfg=cfg, gold=gold_report, name=name, embedder=embedder,
                           portion=portion, log=log)
    store(key, rep)
    return ReferenceEval(rep, key, False)
