"""TOFU loader: the fictitious-author QA benchmark as :class:`UnlearningData`.

Maini, Feng, Schwarzschild, Lipton, Kolter 2024, "TOFU: A Task of Fictitious Unlearning for
LLMs" (arXiv 2401.06121). Reads TOFU re-serialised as JSONL, one folder:
``forget.jsonl`` (forget10, authors 180–199), ``retain.jsonl`` (retain90, authors 0–179),
``real_authors.jsonl`` and ``world_facts.jsonl``; every fictitious row lists in ``splits``
the official configurations that contain it. Where that folder comes from — a folder the user
names, or the Hugging Face dataset ``locuslab/TOFU`` converted — is
:mod:`oblivio.data.tofu_source`'s; the data records it (``provenance``).

Mapping (schema in :mod:`oblivio.data.schema`):

* ``forgetNN`` → the rows whose ``splits`` holds it; the retain set is its complement in
  ``full`` (``retain99/95/90``), role ``retain``;
* fictitious rows: entity = author, mentions = (author,), fact = row id, forget rows get
  targets = (author,). ``key`` is None: TOFU answers are whole sentences, so the
  key-span accuracy metric is skipped for them (probability, ROUGE and truth ratio apply);
* real_authors / world_facts → by default their own **evaluation-only** roles
  ``real_authors`` / ``world_facts``, as in TOFU: they measure what the pretrained model
  knew, are never fine-tuned on nor used as retain data, and are scored with TOFU's
  option-normalised probability (``option_prob``) in TOFU's model utility.
  ``general_trained=True`` keeps the older mapping (role ``general``, a ``general_test``
  share held out: trained as retain data — not TOFU's protocol). key = answer either way,
  since their answers are short spans ("Paris").

**TOFU has no entity graph.** Its authors are independent, so there are no direct/indirect
neighbours out of the box: retain is one undifferentiated role and ``neighbour_roles`` is
False. The neighbour-aware samplers of Bushipaka et al. 2025 (arXiv 2509.05316) need a
neighbour map (:func:`apply_neighbour_map`) that says which retain authors count as direct
or indirect neighbours of each target.

**Validation and test.** As many retain authors as ``retain_test`` holds become ``retain_val``
(fewer when unlearning would keep none), and forget, holdout, real_authors and world_facts rows
are split into validation and test portions by the rule of :mod:`oblivio.data.portions`
(TOFU's fact is the row): selections read ``*_val``, reported numbers ``*_test`` — so TOFU's
model utility here is over the test portions of its three sets, not the whole sets.

**Holdout.** ``holdout_authors`` removes retain authors from training (role ``holdout``):
true non-members for membership inference only for a model trained *from scratch* on this
configuration. A model fine-tuned on the full TOFU (the usual public checkpoints) has seen
every author, so for it there is no true holdout and MIA numbers against these rows are
not meaningful.
"""
from __future__ import annotations

import dataclasses
import math
import random
from pathlib import Path
from typing import Any

# the neighbour map applies to any data (JSONL too), so it lives in oblivio.data.neighbours
from oblivio.data.neighbours import apply_neighbour_map
from oblivio.data.schema import (
    EVAL_ROLES,
    QAItem,
    UnlearningData,
    item_from_json,
    jsonl_rows,
)
from oblivio.data.tofu_source import TofuSource, local_tofu_dir, tofu_folder
from oblivio.errors import InputError

SPLITS: dict[str, str] = {"forget01": "retain99", "forget05": "retain95", "forget10": "retain90"}
_FILES = ("forget.jsonl", "retain.jsonl")
_GENERAL_FILES = ("real_authors.jsonl", "world_facts.jsonl")
_TOFU_FIELDS = ("author", "author_index", "splits")   # TOFU's own columns, mapped in _item


def default_tofu_dir() -> Path | None:
    """The TOFU folder the user named with ``$OBLIVIO_TOFU_DIR`` (None when unset); nothing is
    searched for (see :mod:`oblivio.data.tofu_source` for the Hugging Face dataset)."""
    return local_tofu_dir()


def _item(obj: dict[str, Any], *, file: Path, line: int, role: str, **extra: Any) -> QAItem:
    # item_from_json validates question/answer/paraphrase fields with file:line messages;
    # TOFU's own metadata (author, splits) is mapped onto the schema here
    it = item_from_json(obj, file=str(file), line=line, default_role=role, extra_fields=_TOFU_FIELDS)
    return dataclasses.replace(it, fact=it.id, **extra)


def _check_fraction(name: str, v: float) -> None:
    if not 0.0 <= v <= 1.0:
        raise InputError(f"must be between 0 and 1, got {v}", field=name)


def _n_test(fraction: float, n: int) -> int:
    k = math.floor(fraction * n + 0.5)      # round half up, unlike banker's round()
    if fraction > 0 and n >= 2:
        # a held-out test portion whenever there are two authors to split: a CPU-sized
        # configuration with few retain authors still reports held-out utility
        k = max(1, k)
    return min(n, k)


def load_tofu(split: str = "forget01", *, root: str | Path | None = None,
              n_retain_authors: int | None = None, include_general: bool = True,
              holdout_authors: int = 0, test_fraction: float = 0.2, seed: int = 0,
              neighbour_map: str | Path | None = None, general_trained: bool = False,
              allow_download: bool = False, log=print) -> UnlearningData:
    """Load one TOFU forget split with its retain complement.

    ``root``: the folder of TOFU's JSONL files (default: ``$OBLIVIO_TOFU_DIR``, else the
    Hugging Face dataset, downloaded only with ``allow_download``: :mod:`oblivio.data.tofu_source`).
    ``n_retain_authors`` keeps only the first that many retain authors by author index (a
    CPU-sized configuration). From the kept authors, ``holdout_authors`` (seeded choice)
    become role ``holdout`` (never trained), then a ``test_fraction`` of the remaining
    retain *authors* (not rows, so no author is half-trained) become ``retain_test``, and as
    many (while one retain author is left for unlearning) ``retain_val``.
    ``include_general`` adds real_authors + world_facts: evaluation-only roles
    ``real_authors`` / ``world_facts`` (TOFU), or with ``general_trained`` role ``general``
    with a ``test_fraction`` of those *rows* as ``general_test`` and as many as ``general_val``.
    ``neighbour_map``: see :func:`apply_neighbour_map`. ``seed``: the world seed (which authors
    and rows are held out, and the validation/test split).
    """
    src = _tofu_dir(split, root, n_retain_authors=n_retain_authors, holdout_authors=holdout_authors,
                    test_fraction=test_fraction, allow_download=allow_download, log=log)
    d = src.folder
    forget, retain_rows = _read_fictitious(d, split)
    retain = _retain_items(retain_rows, n_retain_authors, holdout_authors, test_fraction, seed, split=split)
    general = _general_items(d, general_trained, test_fraction, seed) if include_general else []
    targets = tuple(dict.fromkeys(t for it in forget for t in it.targets))
    data = UnlearningData(forget + retain + general, name=f"tofu:{split}", targets=targets,
                          neighbour_roles=False, provenance=dict(src.record))
    if neighbour_map is not None:
        data = apply_neighbour_map(data, neighbour_map)
    from oblivio.data.portions import assign_portions
    return assign_portions(data, seed)


#: TOFU's data for ``oblivio learn``: the whole of it (the base model's), or one retain split
#: (the gold model of the matching forget split)
LEARN_SPLITS = ("full", "retain99", "retain95", "retain90")
FORGET_OF = {retain: forget for forget, retain in SPLITS.items()}


@dataclasses.dataclass
class LearningSets:
    """What ``oblivio learn`` fine-tunes on TOFU: ``sets`` maps ``base`` (the full split, or the
    subset) and/or ``gold`` (its retain split) to their items in TOFU's row order; ``record`` is
    the scale that results.json reports (data, split, authors and items per model)."""
    sets: dict[str, list[QAItem]]
    record: dict[str, Any]


def learning_sets(spec: str, *, gold_split: str | None = None, n_retain_authors: int | None = None,
                  holdout_authors: int = 0, seed: int = 0, root: str | Path | None = None,
                  allow_download: bool = False, log=print) -> LearningSets:
    """The items of ``tofu:<spec>`` to fine-tune on: ``full`` gives the base model's (and, with
    ``gold_split`` retain99|95|90, that split's gold model's); ``retain99|95|90`` the gold model's
    alone; ``forget01|05|10`` base and gold of that split. ``n_retain_authors`` (``--subset``):
    a CPU-sized subset, a declared list of authors that always holds the forget split's
    authors — the forget split's, then retain authors 0..N−1 (minus ``holdout_authors``,
    never trained) — the same rows ``oblivio unlearn`` loads with ``data.tofu_retain_authors: N``."""
    forget_split, names = _learning_plan(spec, gold_split, n_retain_authors)
    d = load_tofu(forget_split, root=root, n_retain_authors=n_retain_authors, include_general=False,
                  holdout_authors=holdout_authors, test_fraction=0.0, seed=seed, allow_download=allow_download,
                  log=log)
    every = {"base": d.trained(), "gold": d.trained(without_forget=True)}
    sets = {n: sorted(every[n], key=lambda it: it.id) for n in names}     # ids are tofu_full_NNNN

    def authors(items: list[QAItem]) -> list[Any]:
        # TOFU's author index (= row // 20 of `full`, from the id tofu_full_NNNN); a folder of
        # other ids: the author names
        tails = [it.id.rsplit("_", 1)[-1] for it in items]
        if all(t.isdigit() for t in tails):
            return sorted({int(t) // 20 for t in tails})
        return sorted({str(it.entity) for it in items})
    record = {"data": f"tofu:{spec}", "forget_split": forget_split if (gold_split or spec != "full") else None,
              "gold_split": SPLITS[forget_split] if "gold" in names else None,
              "subset": None if n_retain_authors is None else {
                  "retain_authors": n_retain_authors, "holdout_authors": holdout_authors, "seed": seed,
                  "rule": f"the authors of {forget_split}, then retain authors 0..{n_retain_authors - 1} "
                          "by author index, minus the holdout authors"},
              "models": {n: {"data": "tofu:full" if n == "base" else f"tofu:{SPLITS[forget_split]}",
                             "items": len(items), "authors": len(authors(items)), "author_indices": authors(items)}
                         for n, items in sets.items()},
              "provenance": d.provenance}
    return LearningSets(sets, record)


def _learning_plan(spec: str, gold_split: str | None, n_retain_authors: int | None) -> tuple[str, list[str]]:
    """(the forget split whose complement is learned, the models to learn) for ``tofu:<spec>``."""
    if gold_split is not None and gold_split not in FORGET_OF:
        raise InputError(f"unknown gold split {gold_split!r} (known: {', '.join(FORGET_OF)})",
                         field="data.tofu_gold_split")
    if spec == "full":
        if gold_split is None and n_retain_authors is not None:
            raise InputError("a subset always holds the forget split's authors: name the split with --gold-split "
                             f"{'|'.join(FORGET_OF)}", field="data.tofu_gold_split")
        # without a gold split nor a subset every row is learned: the forget split does not matter
        return (FORGET_OF[gold_split] if gold_split else "forget01"), ["base", *(["gold"] if gold_split else [])]
    if spec in FORGET_OF:
        if gold_split is not None and gold_split != spec:
            raise InputError(f"tofu:{spec} is a gold model's data itself; --gold-split goes with tofu:full",
                             field="data.tofu_gold_split")
        return FORGET_OF[spec], ["gold"]
    if spec in SPLITS:
        if gold_split is not None and gold_split != SPLITS[spec]:
            raise InputError(f"tofu:{spec}'s gold split is {SPLITS[spec]}, not {gold_split}",
                             field="data.tofu_gold_split")
        return spec, ["base", "gold"]
    raise InputError(f"unknown TOFU data {spec!r} for learning (known: {', '.join((*LEARN_SPLITS, *SPLITS))})",
                     field="data.path")


_Row = tuple[Path, int, dict[str, Any]]     # file, line, the parsed row


def _tofu_dir(split: str, root: str | Path | None, *, n_retain_authors: int | None, holdout_authors: int,
              test_fraction: float, allow_download: bool, log) -> TofuSource:
    """The TOFU folder, once the options are checked."""
    if split not in SPLITS:
        raise InputError(f"unknown TOFU split {split!r} (known: {', '.join(SPLITS)})", field="split")
    _check_fraction("test_fraction", test_fraction)
    if n_retain_authors is not None and n_retain_authors < 0:
        raise InputError(f"must be >= 0, got {n_retain_authors}", field="n_retain_authors")
    if holdout_authors < 0:
        raise InputError(f"must be >= 0, got {holdout_authors}", field="holdout_authors")
    return tofu_folder(root, allow_download=allow_download, log=log)


def _read_fictitious(d: Path, split: str) -> tuple[list[QAItem], dict[int, list[_Row]]]:
    """The forget items of ``split``, and the raw rows of its retain complement by author index
    (their items are built once each author's role is known)."""
    retain_split = SPLITS[split]
    forget: list[QAItem] = []
    retain_rows: dict[int, list[_Row]] = {}
    for fname in _FILES:
        path = d / fname
        for line, obj in jsonl_rows(path, what="TOFU data file"):
            splits = obj.get("splits")
            idx = obj.get("author_index")
            if not isinstance(splits, list) or not isinstance(idx, int):
                raise InputError("TOFU row needs 'splits' (list) and 'author_index' (int)",
                                 file=str(path), line=line, field="splits")
            if split in splits:
                author = obj.get("author")
                # the one author whose name is unknown (88) would still need a target name
                target = author or f"tofu_author_{idx}"
                forget.append(_item(obj, file=path, line=line, role="forget", entity=author,
                                    mentions=(author,) if author else (), key=None,
                                    targets=(target,)))
            elif retain_split in splits:
                retain_rows.setdefault(idx, []).append((path, line, obj))
            elif "full" in splits:
                # TOFU's README guarantees full = forgetNN + retainNN; a row in neither is corrupt
                raise InputError(f"row is in 'full' but in neither {split} nor {retain_split}",
                                 file=str(path), line=line, field="splits")
    return forget, retain_rows


def _retain_items(retain_rows: dict[int, list[_Row]], n_retain_authors: int | None, holdout_authors: int,
                  test_fraction: float, seed: int, *, split: str) -> list[QAItem]:
    """The kept retain authors' items, each author as a whole ``holdout``, ``retain_test``,
    ``retain_val`` or ``retain``."""
    authors = sorted(retain_rows)
    if n_retain_authors is not None:
        if n_retain_authors > len(authors):
            raise InputError(f"asks for {n_retain_authors} retain authors; {split}'s retain set "
                             f"({SPLITS[split]}) has {len(authors)}", field="n_retain_authors")
        authors = authors[:n_retain_authors]
    rng = random.Random(f"oblivio.tofu:{seed}")
    shuffled = authors[:]
    rng.shuffle(shuffled)
    if holdout_authors > len(shuffled):
        raise InputError(f"asks for {holdout_authors} holdout authors but only {len(shuffled)} "
                         "retain authors are kept", field="holdout_authors")
    holdout = set(shuffled[:holdout_authors])
    rest = shuffled[holdout_authors:]
    n_test = _n_test(test_fraction, len(rest))
    test = set(rest[:n_test])
    val = set(rest[n_test:n_test + max(0, min(n_test, len(rest) - n_test - 1))])
    retain: list[QAItem] = []
    for a in authors:   # author order, so the item order is stable and readable
        role = ("holdout" if a in holdout else "retain_test" if a in test else "retain_val" if a in val
                else "retain")
        for path, line, obj in retain_rows[a]:
            author = obj.get("author")
            retain.append(_item(obj, file=path, line=line, role=role, entity=author,
                                mentions=(author,) if author else (), key=None))
    return retain


def _general_items(d: Path, general_trained: bool, test_fraction: float, seed: int) -> list[QAItem]:
    """real_authors + world_facts: evaluation-only roles, or ``general`` / ``general_test``."""
    general: list[QAItem] = []
    for fname, eval_role in zip(_GENERAL_FILES, EVAL_ROLES):
        path = d / fname
        for line, obj in jsonl_rows(path, what="TOFU data file"):
            author = obj.get("author")
            general.append(_item(obj, file=path, line=line,
                                 role="general" if general_trained else eval_role, entity=author,
                                 mentions=(author,) if author else (),
                                 key=obj.get("answer")))   # short answer spans
    if general_trained:
        # its own stream, so the general split does not move when the retain options change
        grng = random.Random(f"oblivio.tofu.general:{seed}")
        k = _n_test(test_fraction, len(general))
        order = grng.sample(range(len(general)), len(general))
        picks = set(order[:k])
        vals = set(order[k:k + max(0, min(k, len(general) - k - 1))])
        general = [dataclasses.replace(it, role="general_test") if j in picks else
                   dataclasses.replace(it, role="general_val") if j in vals else it
                   for j, it in enumerate(general)]
    return general
