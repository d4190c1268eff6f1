"""Learning a QA set from scratch (the world's base and gold models), with a cache.

Base = a tiny Llama trained on every trained item (with the items' second-language and
reverse questions, data/probes.py); gold = the same recipe without the forget items (the
retrained model that TOFU's forget quality needs). Both use the one training loop with
the ``finetune`` method. Models are cached under a hash of the world, the tokenizer, the
model shape and the training config; a hit is reported, never silent.
Data that is not a generated world (a user's JSONL, TOFU) is keyed by
:func:`data_fingerprint` — the content of its items, so an edited file with the same ids is
a new entry.

After learning, the base model is asked the rows it was trained on (:func:`base_recall`: the
evaluator's greedy answer accuracy on up to :data:`RECALL_ITEMS` of them, about 0.3 s on the
tiny model) and the cache entry keeps the answer (``done.json``'s ``base_recall``). Below
:data:`RECALL_MIN` a warning says so and how to fix it: ``learn.epochs`` suits the embedded
world, which phrases each fact six times; a file with one phrasing per fact gets a sixth of the
passes per fact and may end with a base that knows nothing, and every verdict on it would then
be about a model that never knew the facts.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from oblivio.data.collate import encode_items, make_collate_learn
from oblivio.data.schema import QAItem, UnlearningData
from oblivio.engine.loop import LoopResult, PairSource, TrainConfig, train
from oblivio.models.format import PromptFormat, resolve_format
from oblivio.registry import METHODS


def world_texts(data: UnlearningData) -> list[str]:
    """The text a from-scratch tokenizer learns: every item's text but its paraphrased question
    and that question's answer. Those are paraphrases in words the models never train; learned
    by the tokenizer, such a word would be a token of its own whose embedding no step trains
    (noise in the probe) and would take vocabulary from the trained text. Left out, it is
    written with pieces the models did train ("Regarding": "Reg" "ar" "d" "ing")."""
    out: list[str] = ["Question:", "Answer:"]
    for it in data.items:
        out += [it.question, it.answer, *(x for x in (it.paraphrased_answer,) if x),
                *it.perturbed_answers, *(x for x in _probe_texts(it) if x)]
    return out


def _probe_texts(it: QAItem) -> list[str | None]:
    """The probe fields (second language, reverse query): learned, so part of every cache key
    — as a list only when the item has one, so keys of data without probes stay as they were."""
    from oblivio.data.schema import PROBE_FIELDS
    vals = [getattr(it, f) for f in PROBE_FIELDS]
    return vals if any(vals) else []


def data_fingerprint(data: UnlearningData) -> str:
    """SHA-256 of everything in ``data`` that learning reads: per item, in order, whether base
    and gold learn it (holdout: neither; forget: base only) and all its text (the tokenizer's,
    :func:`world_texts`, and the paraphrased question, which at worst costs a retrain). Roles
    among the trained retain rows, targets and ids do not change the models, so they are not
    part of it."""
    import hashlib

    def member(role: str) -> str:
        return role if role in ("holdout", "forget") else "trained"
    rows = [[member(it.role), it.question, it.answer, it.paraphrased_question, it.paraphrased_answer,
             list(it.perturbed_answers), *_probe_texts(it)] for it in data.items]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def learn_items(model, tokenizer, items: Sequence[QAItem], cfg: TrainConfig, *, fmt: PromptFormat | None = None,
                desc: str = "learn", bucket: bool = False) -> LoopResult:
    """Fine-tune ``model`` on ``items`` (answer-only NLL), shuffled each epoch.

    ``bucket``: batches of similar length (the shuffled epoch is cut into chunks of 8
    batches, each sorted by length, and the batches are shuffled again), so a few long rows
    (the world's multi-fact instruction answers) do not pad every batch to their length."""
    import random

    finetune = METHODS.get("finetune")()      # by name: the engine does not import the methods package
    fmt = resolve_format(tokenizer, fmt)
    encs = encode_items(tokenizer, fmt, items)

    def pairs(epoch: int) -> list[tuple[int, int]]:
        order = list(range(len(encs)))
        rng = random.Random(cfg.seed * 7919 + epoch)
        rng.shuffle(order)
        if bucket and order:
            bs, size = cfg.batch_size, 8 * cfg.batch_size
            length = [len(e.prompt) + len(e.answer) for e in encs]
            order = [i for c in range(0, len(order), size) for i in sorted(order[c:c + size], key=length.__getitem__)]
            batches = [order[b:b + bs] for b in range(0, len(order), bs)]
            tail = batches.pop() if len(batches[-1]) < bs else []   # stays last: the loader cuts every bs rows
            rng.shuffle(batches)
            order = [i for b in batches for i in b] + tail
        return [(-1, i) for i in order]

    return train(model, finetune, PairSource(pairs), make_collate_learn(encs, tokenizer.pad_token_id), cfg,
                 desc=desc)


RECALL_ITEMS = 200   # trained rows the base is asked after learning (whole rows, drawn by the seed)
RECALL_MIN = 0.9     # below this share of its own training rows answered, learning warns


def base_recall(model: Any, tokenizer: Any, data: UnlearningData, *, seed: int = 0,
                n: int = RECALL_ITEMS) -> dict[str, Any]:
    """The base model's greedy answer ``accuracy`` (the evaluator's: the row's key in its
    answer) on up to ``n`` of the rows it was trained on that have a key (``data.trained()``,
    drawn by ``seed``; one batched generation): ``{"accuracy", "n_items", "trained_rows"}``,
    ``accuracy`` None when no trained row has a key (nothing to score)."""
    import random

    from oblivio.eval.evaluate import EvalConfig, evaluate_model
    trained = data.trained()
    rows = [it for it in trained if it.key]
    drawn = random.Random(f"base-recall:{seed}").sample(rows, min(n, len(rows)))
    out: dict[str, Any] = {"accuracy": None, "n_items": len(drawn), "trained_rows": len(trained)}
    if not drawn:
        return out
    # one set of the drawn rows as they are (their roles mean nothing here), every item scored
    asked = UnlearningData([dataclasses.replace(it, role="forget", portion=None) for it in drawn],
                           name=f"{data.name} (trained rows)")
    cfg = EvalConfig(metrics=["accuracy"], max_items_per_role=None, extraction=False, bootstrap=0)
    acc = evaluate_model(model, tokenizer, asked, cfg=cfg, name="base").value("accuracy", "forget")
    return {**out, "accuracy": None if acc is None else round(float(acc), 6)}


def recall_warning(recall: dict[str, Any] | None, learn: TrainConfig) -> str | None:
    """The warning for a base that answers fewer than :data:`RECALL_MIN` of its training rows,
    naming the fix (more epochs, or more steps when ``max_steps`` sets the length); None when
    it answers enough or nothing was measured."""
    r = recall or {}
    acc = r.get("accuracy")
    if not isinstance(acc, (int, float)) or acc >= RECALL_MIN:
        return None
    if learn.max_steps is not None:
        fix = f"--set learn.max_steps={max(5 * learn.max_steps, 500)} (now {learn.max_steps})"
    else:
        now = learn.epochs or 1
        fix = f"--epochs {max(100, round(2 * now))} (now {now:g})"
    return (f"the base model answers {acc:.0%} of {r.get('n_items')} rows it was trained on (greedy answer "
            f"accuracy {acc:.3f} < {RECALL_MIN}): it has not learned the data, and every verdict on it would be "
            f"about a model that never knew the facts. Train longer: {fix}. The default epochs suit the "
            "embedded world, which phrases each fact six times; a file with one phrasing per fact needs about "
            "100 (docs/how-to/own-data.md)")


@dataclass
class WorldModels:
    base: Any
    tokenizer: Any
    base_dir: Path
    gold_dir: Path
    cached: bool
    seconds: dict[str, float]
    key: str
    _gold: Any = None
    recall: dict[str, Any] | None = None   # :func:`base_recall` of the base (None: not measured)

    @property
    def gold(self) -> Any:
        """The gold model, loaded on first use (a run that does not evaluate never needs it)."""
        if self._gold is None:
            from oblivio.models.io import load_model
            self._gold = load_model(self.gold_dir)[0]
        return self._gold


def world_models(data: UnlearningData, *, model_size: str, vocab_size: int, learn: TrainConfig,
                 world_spec: dict[str, Any], progress: bool = True, log=print) -> WorldModels:
    """Base and gold tiny models for ``data``, trained once and cached (see module docstring)."""

    from oblivio.models.cache import cache_key, cache_root
    from oblivio.models.io import load_model

    spec = {"world": world_spec, "size": model_size, "vocab": vocab_size,
            "learn": {k: v for k, v in dataclasses.asdict(learn).items() if k != "progress"},
            "n_items": len(data.items), "items": _items_digest(data)}
    # a generated world's base also learns open instructions and arithmetic (world/extras.py)
    from oblivio.world.extras import learned_extras
    extras = learned_extras(data.source)
    if extras is not None:
        spec["extras"] = extras.digest()
    key = cache_key(spec)
    root = cache_root() / "world-models" / key
    base_dir, gold_dir = root / "base", root / "gold"
    from oblivio.engine.dist import state as _state
    state = _state()
    secs: dict[str, float] = {}
    cached = (root / "done.json").is_file()
    if not cached and state.is_main_process:
        root.mkdir(parents=True, exist_ok=True)
        with _entry_lock(root / ".lock", log):
            # another process may have trained this entry while we waited for the lock
            cached = (root / "done.json").is_file()
            if not cached:
                secs, measured = _train_pair(data, model_size=model_size, vocab_size=vocab_size, learn=learn,
                                             progress=progress, base_dir=base_dir, gold_dir=gold_dir, log=log,
                                             extras=extras)
                import torch

                # float reductions differ with the thread count, so the same spec trained with
                # another number of CPU threads gives slightly different weights: say which
                from oblivio.atomic import write_text
                write_text(root / "done.json", json.dumps({"spec": spec, "seconds": secs,
                                                           "torch_threads": torch.get_num_threads(),
                                                           "base_recall": measured}, indent=1, default=str))
    state.wait_for_everyone()
    if cached:
        log(f"reusing cached base and gold models ({root}; key {key} = hash of world, tokenizer, "
            "model size and training config)")
    base, tok = load_model(base_dir)
    recall = _entry_recall(root / "done.json", base, tok, data, learn.seed, main=state.is_main_process)
    if (msg := recall_warning(recall, learn)) is not None:
        from oblivio.progress import warn
        warn(msg)
    return WorldModels(base, tok, base_dir, gold_dir, cached, secs, key, recall=recall)


def _entry_recall(done: Path, base: Any, tok: Any, data: UnlearningData, seed: int, *,
                  main: bool) -> dict[str, Any] | None:
    """The base's recall kept in the cache entry's ``done.json``; an entry written before it was
    kept gets it now (the main process measures it and adds it to the file, atomically)."""
    try:
        rec = json.loads(done.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(rec, dict) and "base_recall" in rec:
        return rec["base_recall"] if isinstance(rec["base_recall"], dict) else None
    if not main or not isinstance(rec, dict):
        return None
    from oblivio.atomic import write_text
    from oblivio.data.context import fit_for_model
    # the rows as learning cut them to the tiny model's context (:func:`_train_pair`)
    rec["base_recall"] = base_recall(base, tok, fit_for_model(data, base, tok)[0], seed=seed)
    write_text(done, json.dumps(rec, indent=1, default=str))
    return rec["base_recall"]


def _items_digest(data: UnlearningData) -> str:
    """Hash of every item's text and role: a changed phrasing template (same world config,
    same item count) must not reuse models trained on the old text."""
    import hashlib
    h = hashlib.sha256()
    for it in data.items:
        h.update(json.dumps([it.role, it.question, it.answer, it.paraphrased_question, *_probe_texts(it)]).encode())
    return h.hexdigest()[:16]


def _entry_lock(path: Path, log) -> contextlib.AbstractContextManager[None]:
    """Exclusive lock on one cache entry: two runs that need the same world's models at the
    same time train them once (the second waits, then reuses; oblivio.atomic.exclusive_lock)."""
    from oblivio.atomic import exclusive_lock
    return exclusive_lock(path, on_wait=lambda: log(f"waiting for another process that is training these "
                                                      f"models ({path.parent})"))


def _train_pair(data: UnlearningData, *, model_size: str, vocab_size: int, learn: TrainConfig, progress: bool,
                base_dir: Path, gold_dir: Path, log, extras: Any = None) -> tuple[dict[str, float], dict[str, Any]]:
    """Train the tokenizer, then base (all trained items) and gold (without the forget set);
    ``extras`` (world/extras.py): rows base and gold learn beyond ``data``'s items. Returns the
    seconds of each, and the base's :func:`base_recall` of ``data``'s trained rows."""
    from oblivio.data.probes import probe_training_items
    from oblivio.models.io import save_model
    from oblivio.models.tiny import tiny_llama
    from oblivio.models.tokenizer import train_tokenizer
    secs: dict[str, float] = {}
    t0 = time.perf_counter()
    tok = train_tokenizer(world_texts(data) + (extras.texts() if extras else []), vocab_size=vocab_size)
    secs["tokenizer"] = time.perf_counter() - t0
    # a user's over-long rows are cut to the tiny model's context, as evaluation cuts them
    # (data/context.py), instead of failing (or exhausting memory) in the middle of training
    from oblivio.data.context import fit_to_context
    from oblivio.models.tiny import tiny_llama_config
    context = tiny_llama_config(len(tok), model_size).max_position_embeddings
    data, cut = fit_to_context(data, tok, context)
    if cut:     # a warning, not progress: shown under --quiet too (it changes what is learned)
        from oblivio.progress import warn
        warn(f"{cut['items']} over-long items cut to the tiny model's context of {context} tokens for learning "
            f"(fields: {', '.join(f'{k} {v}' for k, v in cut['fields'].items())})")
    cfg = dataclasses.replace(learn, progress=progress)
    more_b, more_g = (list(extras.base), list(extras.gold)) if extras else ([], [])
    recall: dict[str, Any] = {}
    for name, items, path, more in (("base", data.trained(), base_dir, more_b),
                                    ("gold", data.trained(without_forget=True), gold_dir, more_g)):
        # each model also learns the second-language and reverse questions of what it learns
        # (never the held-out ones), and the world's extra rows; unlearning later sees only
        # the items themselves
        items = [*items, *probe_training_items(items), *more]
        t0 = time.perf_counter()
        model = tiny_llama(len(tok), model_size, seed=learn.seed, bos_token_id=tok.bos_token_id,
                           eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        res = learn_items(model, tok, items, cfg, desc=f"learn {name}", bucket=extras is not None)
        secs[name] = time.perf_counter() - t0
        log(f"trained {name} model on {len(items)} items: {res.steps} steps, {secs[name]:.1f}s, "
            f"final loss {res.history[-1]['loss']:.4f}")
        if name == "base":       # does it know what it was taught? (the module docstring)
            recall = base_recall(model, tok, data, seed=learn.seed)
            log(f"base model recall: {_recall_text(recall)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, tok, path)
    return secs, recall


def _recall_text(recall: dict[str, Any]) -> str:
    acc = recall.get("accuracy")
    return ("not measured (no trained row has a key)" if acc is None else
            f"greedy answer accuracy {acc:.3f} on {recall['n_items']} of its {recall['trained_rows']} trained rows")
