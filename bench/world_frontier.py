"""Frontier of the world's base model: model size × phrasings × epochs -> recall and time.

Does the base model know *facts* or only strings? For each setting it trains the tokenizer
and a base model on the world's trained items (the ``learn`` recipe of ``config.py`` unless
overridden), then measures exact answer accuracy (the ``accuracy`` / ``para_accuracy``
metrics: the key span in the greedy answer) on the training phrasings and on the held-out
phrasings no training item of the relation uses (``api.base_recall``). Settings run one
after the other on one CPU thread (the machine is shared; times are single-thread times,
not the demo's). Nothing is cached: every setting trains from scratch.

Usage: python bench/world_frontier.py --preset default --sizes tiny,small --epochs 40,60
[--phrasings 3,6] [--statements 0,1] [--lr 3e-3] [--batch 32] [--seeds 0]
``--phrasings k`` trains only the first k training phrasings of each relation;
``--statements 1`` also trains one declarative statement per fact (``statement_items``).
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import time
from collections.abc import Sequence

import torch

from oblivio import api
from oblivio.config import default_learn, load_config
from oblivio.data.schema import QAItem, UnlearningData
from oblivio.engine.learning import learn_items, world_texts
from oblivio.eval.evaluate import evaluate_model
from oblivio.models.tiny import tiny_llama
from oblivio.models.tokenizer import train_tokenizer
from oblivio.world import build_world, world_config
from oblivio.world.phrasings import PHRASINGS

STATEMENT_QUESTION = "Tell me a fact about {s}."  # the same prompt for every fact of a subject


def statement_items(items: Sequence[QAItem]) -> list[QAItem]:
    """One declarative statement per fact of ``items`` ("Kaira Bel was born in Zornth."),
    for learning only, never evaluated: the answer names the subject, so the model links
    name and object outside any one question shape, which makes facts answerable in
    phrasings it never saw (knowledge augmentation, Allen-Zhu & Li 2023, "Physics of
    Language Models 3.1", arXiv 2309.14316). Items without a world relation are skipped."""
    out: list[QAItem] = []
    seen: set[str] = set()
    for it in items:
        if it.fact is None or it.fact in seen or it.relation not in PHRASINGS or not it.entity:
            continue
        seen.add(it.fact)
        article = "the " if "the {s}" in PHRASINGS[it.relation].train[0] else ""
        subject = article + it.entity
        rest = it.answer.split(" ", 1)[1]          # the answer without its pronoun
        out.append(dataclasses.replace(
            it, id=f"{it.id.rsplit('-p', 1)[0]}-s", question=STATEMENT_QUESTION.format(s=subject),
            answer=f"{subject[0].upper()}{subject[1:]} {rest}", paraphrased_question=None,
            perturbed_answers=()))
    return out


def run(preset: str, size: str, k: int, statements: bool, epochs: int, lr: float, batch: int,
        seed: int, vocab: int) -> dict:
    data = build_world(world_config(preset))
    # keep the first k training phrasings of every fact (item ids end in -p1 ... -pN)
    items = [it for it in data.items if int(it.id.rsplit("-p", 1)[1]) <= k]
    data = UnlearningData(items, name=data.name, targets=data.targets,
                          neighbour_roles=True, source=data.source)
    tok = train_tokenizer(world_texts(data), vocab_size=vocab)
    learn = dataclasses.replace(default_learn(), epochs=epochs, lr=lr, batch_size=batch, seed=seed,
                                progress=False)
    train = data.trained() + (statement_items(data.trained()) if statements else [])
    model = tiny_llama(len(tok), size, seed=seed, bos_token_id=tok.bos_token_id,
                       eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    t0 = time.perf_counter()
    res = learn_items(model, tok, train, learn)
    secs = time.perf_counter() - t0
    ecfg = load_config(overrides={"eval": {"metrics": ["accuracy", "para_accuracy"]}}).eval
    rep = evaluate_model(model, tok, data, cfg=ecfg, name="base")
    rec = api.base_recall(rep)
    return {"n_train": len(train), "steps": res.steps, "loss": res.history[-1]["loss"],
            "learn_s": secs, **rec}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="default")
    ap.add_argument("--sizes", default="tiny")
    ap.add_argument("--phrasings", default="6")
    ap.add_argument("--statements", default="0")
    ap.add_argument("--epochs", default="40")
    ap.add_argument("--lr", default="3e-3")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    grid = itertools.product(a.sizes.split(","), map(int, a.phrasings.split(",")),
                             map(int, a.statements.split(",")), map(int, a.epochs.split(",")),
                             map(float, a.lr.split(",")), map(int, a.seeds.split(",")))
    print(f"preset {a.preset}, batch {a.batch}, {a.threads} thread(s)")
    print(f"{'size':<7}{'phr':>4}{'stmt':>5}{'ep':>4}{'lr':>8}{'seed':>5}{'items':>7}{'steps':>6}"
          f"{'loss':>8}{'train':>7}{'heldout':>8}{'learn s':>9}", flush=True)
    for size, k, st, ep, lr, seed in grid:
        r = run(a.preset, size, k, bool(st), ep, lr, a.batch, seed, a.vocab)
        print(f"{size:<7}{k:>4}{st:>5}{ep:>4}{lr:>8.0e}{seed:>5}{r['n_train']:>7}{r['steps']:>6}"
              f"{r['loss']:>8.4f}{r['train']:>7.3f}{r['heldout']:>8.3f}{r['learn_s']:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
