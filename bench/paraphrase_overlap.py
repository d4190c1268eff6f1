"""How much wording the world's held-out phrasings share with the trained ones, before and
after they became paraphrases in new frames (issue #24 item 4).

For every held-out question of every fact, and for its answer sentence: the word-level LCS
ratio (ROUGE-L F-measure, 2·LCS / (|a| + |b|)) and the word Jaccard similarity to the
nearest trained phrasing of the same fact and to the nearest trained phrasing of any
relation (:mod:`oblivio.world.overlap`); min / median / max over the world's facts, with the
names left out (the fact's subject and object are in every phrasing of it) and as rendered;
and how many held-out templates share a word trigram (a piece of a frame) with a trained
question of any relation. "Before" is the phrasings module of a git revision (default
4a801db, the last with the held-out phrasings that reused trained frames), read with
``git show`` and imported from a temporary file; "after" is this tree's.
Before, a held-out question was scored against the trained answer sentence, so its answer
overlap is 1.

Usage: python bench/paraphrase_overlap.py [--preset default] [--before REV] [--out FILE]
Writes bench/results/paraphrase_overlap/<preset>.json (results on stdout, a table).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping

from oblivio.atomic import write_text
from oblivio.world import world_config
from oblivio.world.graph import build_graph
from oblivio.world.overlap import STATS, fact_overlaps, shared_frames, summary
from oblivio.world.phrasings import PHRASINGS, Phrasing

ROOT = Path(__file__).resolve().parents[1]
MODULE = "src/oblivio/world/phrasings.py"
BEFORE = "4a801db"   # the last commit whose held-out phrasings reused trained frames


def phrasings_at(rev: str) -> dict[str, Phrasing]:
    """The PHRASINGS table of ``rev``'s phrasings module, as this tree's Phrasing; a revision
    without held-out answer sentences answers its held-out questions with the trained one."""
    src = subprocess.run(["git", "show", f"{rev}:{MODULE}"], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "phrasings_before.py"
        path.write_text(src, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("phrasings_before", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod          # dataclasses look their module up while defining
        try:
            spec.loader.exec_module(mod)
        finally:
            del sys.modules[spec.name]
    out = {}
    for rel, p in mod.PHRASINGS.items():
        answers = vars(p).get("heldout_answers") or (p.answer,) * len(p.heldout)
        out[rel] = Phrasing(tuple(p.train), tuple(p.heldout), p.answer, tuple(answers))
    return out


def measure(phrasings: Mapping[str, Phrasing], preset: str) -> dict[str, Any]:
    facts = build_graph(world_config(preset)).facts()
    trained = [t for p in phrasings.values() for t in p.train]
    heldout = [h for p in phrasings.values() for h in p.heldout]
    shared = shared_frames(heldout, trained)
    return {"n_facts": len(facts), "n_heldout_templates": len(heldout),
            "heldout_templates_sharing_a_trained_trigram": len({h for h, _, _ in shared}),
            "shared_trigram_examples": [[h, t, " ".join(g)] for h, t, g in shared[:5]],
            "names_left_out": summary(fact_overlaps(phrasings, facts, names=False)),
            "rendered": summary(fact_overlaps(phrasings, facts, names=True))}


def table(res: dict[str, dict[str, Any]]) -> str:
    lines = [f"{'statistic (min / median / max)':<34}" + "".join(f"{k:>22}" for k in res)]
    for view in ("names_left_out", "rendered"):
        lines.append(f"-- {view.replace('_', ' ')}")
        for s in STATS:
            cells = [res[k][view][s] for k in res]
            lines.append(f"{s:<34}" + "".join(f"{c['min']:>8.2f}{c['median']:>7.2f}{c['max']:>7.2f}"
                                              for c in cells))
    lines.append(f"{'held-out templates sharing a trigram':<34}" + "".join(
        f"{str(res[k]['heldout_templates_sharing_a_trained_trigram']) + ' / ' + str(res[k]['n_heldout_templates']):>22}"
        for k in res))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="default")
    ap.add_argument("--before", default=BEFORE, help="git revision whose phrasings are 'before'")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    res = {f"before ({a.before})": measure(phrasings_at(a.before), a.preset),
           "after (this tree)": measure(PHRASINGS, a.preset)}
    print(f"world preset {a.preset}: {res['after (this tree)']['n_facts']} facts, 2 held-out phrasings each")
    print(table(res))
    out = Path(a.out) if a.out else ROOT / "bench" / "results" / "paraphrase_overlap" / f"{a.preset}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, json.dumps({"preset": a.preset, **res}, indent=1) + "\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
