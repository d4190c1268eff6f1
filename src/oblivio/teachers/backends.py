"""Text generators shared by the model teachers and the LLM judge, and their on-disk cache.

* :class:`HFBackend` — a local Hugging Face model directory: the tokenizer's chat template
  when it has one (else a plain "System/User/Assistant" transcript), batched greedy
  generation with left padding;
* :class:`EndpointBackend` — an OpenAI-compatible ``/chat/completions`` server given by URL
  (httpx): every request has a timeout, failed requests are retried with exponential
  backoff, at most ``concurrency`` are in flight.

Endpoint policy (:func:`check_endpoint_url`, also run by config validation): the URL is on
this machine (``localhost``, 127.0.0.0/8, ``::1``) unless remote endpoints are allowed
(``--allow-remote-endpoints``), and carries no ``user:password@``, query or fragment. A
bearer key is sent only when ``api_key_env`` names an environment variable — a name that
comes from the command line (``--teacher-key-env`` / ``--judge-key-env``) or the Python
API, never from a config file — and a named variable that is unset is an error, not a
silent request without a key. The key's value is read when requests are sent and is never
stored: not in the backend's identity, the cache or an error message.

:func:`complete` answers from the cache first: one JSON file per (backend identity,
messages, token limit) under ``$OBLIVIO_CACHE/texts``. Only successful completions are
cached; a failed one is ``None`` and is asked again next time. Generation that lasts shows a
bar on stderr (oblivio/progress.py).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, Sequence

from oblivio.atomic import write_text
from oblivio.endpoints import REMOTE_FLAG, check_endpoint_url, is_loopback  # noqa: F401 (re-exported)
from oblivio.errors import InputError
from oblivio.progress import bar

Messages = list[dict[str, str]]


class Backend(Protocol):
    max_new_tokens: int

    def identity(self) -> dict[str, Any]: ...

    def generate(self, batch: Sequence[Messages]) -> list[str | None]: ...


def cache_dir() -> Path:
    from oblivio.models.cache import cache_root
    return cache_root() / "texts"


def _key(backend: Backend, msgs: Messages) -> str:
    blob = json.dumps({"backend": backend.identity(), "messages": msgs, "max_new_tokens": backend.max_new_tokens},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def complete(backend: Backend, batch: Sequence[Messages], *, use_cache: bool = True,
             counts: dict[str, int] | None = None) -> list[str | None]:
    """Completions of ``batch``, cached on disk; ``counts`` gets ``cached`` / ``generated`` / ``failed``."""
    counts = counts if counts is not None else {}
    out: list[str | None] = [None] * len(batch)
    todo: list[int] = []
    root = cache_dir()
    for i, m in enumerate(batch):
        f = root / (k := _key(backend, m))[:2] / f"{k}.json"
        if use_cache and f.is_file():
            try:
                out[i] = json.loads(f.read_text(encoding="utf-8"))["text"]
                counts["cached"] = counts.get("cached", 0) + 1
                continue
            except (ValueError, KeyError, OSError):
                pass              # a damaged entry is generated again
        todo.append(i)
    if todo:
        got = backend.generate([batch[i] for i in todo])
        for i, text in zip(todo, got):
            out[i] = text
            counts["generated" if text is not None else "failed"] = \
                counts.get("generated" if text is not None else "failed", 0) + 1
            if text is not None and use_cache:
                k = _key(backend, batch[i])
                f = root / k[:2] / f"{k}.json"
                f.parent.mkdir(parents=True, exist_ok=True)
                # atomic, unique temporary name: a reader or a second writer never sees half a file
                write_text(f, json.dumps({"text": text, "backend": backend.identity()}))
    return out


class HFBackend:
    """Greedy generation from a local model directory (models/io.py checks the folder)."""

    @classmethod
    def from_config(cls, cfg: Any) -> HFBackend:
        """From a config.GenConfig of kind hf (a teacher's or a judge's: one construction for both)."""
        return cls(cfg.model, batch_size=cfg.batch_size, max_new_tokens=cfg.max_new_tokens)

    def __init__(self, path: str, *, batch_size: int = 8, max_new_tokens: int = 160,
                 trust_remote_code: bool = False) -> None:
        self.path, self.batch_size, self.max_new_tokens = str(path), batch_size, max_new_tokens
        self.trust_remote_code = trust_remote_code
        self._loaded: Any = None

    def identity(self) -> dict[str, Any]:
        p = Path(self.path)
        weights = sorted(p.glob("*.safetensors"))
        # the weights' size and mtime stand for their content (hashing GBs per run is too slow)
        sig = [(w.name, w.stat().st_size, int(w.stat().st_mtime)) for w in weights]
        return {"kind": "hf", "path": str(p.resolve()), "weights": sig}

    def _model(self):
        if self._loaded is None:
            from oblivio.models.io import load_model
            self._loaded = load_model(self.path, trust_remote_code=self.trust_remote_code)
        return self._loaded

    def render(self, msgs: Messages) -> str:
        _, tok = self._model()
        if getattr(tok, "chat_template", None):
            return str(tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True))
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in msgs]
        return "\n".join(lines) + "\nAssistant:"

    def generate(self, batch: Sequence[Messages]) -> list[str | None]:
        import torch
        model, tok = self._model()
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        out: list[str | None] = []
        model.eval()
        for s in bar(range(0, len(batch), self.batch_size), desc=f"{Path(self.path).name}: completions",
                     unit="batch"):
            texts = [self.render(m) for m in batch[s:s + self.batch_size]]
            enc = [tok(t, add_special_tokens=not getattr(tok, "chat_template", None))["input_ids"] for t in texts]
            width = max(len(e) for e in enc)
            ids = torch.tensor([[pad] * (width - len(e)) + e for e in enc])
            att = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in enc])
            with torch.inference_mode():
                gen = model.generate(input_ids=ids, attention_mask=att, max_new_tokens=self.max_new_tokens,
                                     do_sample=False, pad_token_id=pad)
            out += [tok.decode(g[width:], skip_special_tokens=True).strip() for g in gen]
        return out


class EndpointBackend:
    """An OpenAI-compatible chat-completions endpoint (``{url}/chat/completions``); the URL and
    the key variable are checked here too (module docstring), whoever builds the backend."""

    @classmethod
    def from_config(cls, cfg: Any) -> EndpointBackend:
        """From a config.GenConfig of kind endpoint (a teacher's or a judge's)."""
        return cls(cfg.url, model=cfg.endpoint_model, api_key_env=cfg.api_key_env, timeout=cfg.timeout,
                   retries=cfg.retries, concurrency=cfg.concurrency, max_new_tokens=cfg.max_new_tokens,
                   allow_remote=bool(getattr(cfg, "allow_remote", False)))

    def __init__(self, url: str, *, model: str = "default", api_key_env: str | None = None,
                 timeout: float = 60.0, retries: int = 2, concurrency: int = 4, max_new_tokens: int = 160,
                 backoff: float = 0.5, allow_remote: bool = False) -> None:
        host = check_endpoint_url(url, allow_remote=allow_remote)
        self.url = url.rstrip("/")
        self.allow_remote = allow_remote
        # no proxy or ~/.netrc for this machine: a loopback request goes straight to it, with no
        # credential but the one named on the command line
        self.trust_env = not is_loopback(host)
        if api_key_env is not None and not os.environ.get(api_key_env):
            raise InputError(f"the environment variable {api_key_env!r} named for the endpoint's key "
                             "(--teacher-key-env / --judge-key-env) is not set or empty", field="api_key_env")
        self.model, self.api_key_env, self.timeout = model, api_key_env, timeout
        self.retries, self.concurrency, self.backoff = retries, concurrency, backoff
        self.max_new_tokens = max_new_tokens
        self.errors: list[str] = []          # the last error of each request that failed

    def identity(self) -> dict[str, Any]:
        # what the cache is keyed and labelled by: never the key, nor the name of its variable
        return {"kind": "endpoint", "url": self.url, "model": self.model}

    def _one(self, client: Any, msgs: Messages) -> str | None:
        body = {"model": self.model, "messages": msgs, "max_tokens": self.max_new_tokens, "temperature": 0}
        err = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                r = client.post(f"{self.url}/chat/completions", json=body)
            except Exception as e:  # noqa: BLE001 -- httpx transport errors: connect, read timeout, …
                err = f"{type(e).__name__}: {e}"
                continue
            if r.status_code == 429 or r.status_code >= 500:
                err = f"HTTP {r.status_code}"
                continue
            if r.status_code != 200:
                self.errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
                return None           # a client error does not get better by retrying
            try:
                return str(r.json()["choices"][0]["message"]["content"])
            except (ValueError, KeyError, IndexError, TypeError):
                self.errors.append(f"not a chat-completions response: {r.text[:200]}")
                return None
        self.errors.append(err)
        return None

    def _headers(self) -> dict[str, str]:
        """The bearer key, only when the command line named its variable (checked set in __init__)."""
        if self.api_key_env is None:
            return {}
        key = os.environ.get(self.api_key_env)
        if not key:
            raise InputError(f"the environment variable {self.api_key_env!r} named for the endpoint's key "
                             "is no longer set", field="api_key_env")
        return {"Authorization": f"Bearer {key}"}

    def generate(self, batch: Sequence[Messages]) -> list[str | None]:
        import httpx
        target = httpx.URL(f"{self.url}/chat/completions")
        # httpx's reading of the URL must agree with the check's: no request leaves on a disagreement
        if not self.allow_remote and not is_loopback(target.host):
            raise InputError(f"{target.host} is not this machine; pass {REMOTE_FLAG} to allow it", field="url")
        headers = self._headers()
        n_err = len(self.errors)
        with httpx.Client(timeout=self.timeout, headers=headers, follow_redirects=False,
                          trust_env=self.trust_env) as client, \
                ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            out = list(bar(pool.map(lambda m: self._one(client, m), batch), total=len(batch),
                           desc=f"{self.model}: completions", unit="request"))
        if headers:     # a server may echo what it got: its answers never carry the key into a message
            key = headers["Authorization"].removeprefix("Bearer ")
            self.errors[n_err:] = [e.replace(key, "***") for e in self.errors[n_err:]]
        if batch and all(o is None for o in out):
            raise InputError(f"the endpoint {self.url} answered none of {len(batch)} requests (last error: "
                             f"{self.errors[-1] if self.errors else '?'})", field="url")
        return out

