"""oblivio's evaluator vs a straightforward per-metric implementation, same metrics, same numbers.

Metrics (per set): answer_prob, mean_token_prob (P̄), exact_mem, rouge_recall, accuracy,
para_accuracy, fluency; (model level) mia_loss and mia_minkpp. On the cached base model of
the embedded world (``--preset``, default tiny) and every set of that world.

* **ours** — ``oblivio.eval.evaluate.evaluate_model`` with ``eval.metrics`` = the list above:
  one shared teacher-forced pass, one generation pass for questions and paraphrased
  questions, length-sorted batches, stop at end of answer;
* **naive** — written below the way evaluation code is often written: every metric does its
  own work on every set. Each teacher-forced metric (answer prob, P̄, exact mem, each MIA)
  runs its own pass over its items, batched in item order (no length sorting); each
  generation metric (rouge, accuracy, paraphrase accuracy, fluency) calls HF
  ``model.generate`` on its own prompts, always to ``max_new_tokens`` (no stop at EOS), and
  cuts the text at the first end-of-answer token afterwards. The per-item formulas are
  oblivio's (``oblivio.metrics.functional``), so both must give the same numbers; the script
  prints that check.

Timed alternately (ours, naive, ours, …) ``--repeats`` times in one process on the same
loaded model; medians reported.

    python bench/eval_speed.py [--preset tiny] [--repeats 3] [--threads 1]

**Tokens per second of the two shared passes** (printed first, for either model): the
teacher-forced pass (oblivio's ``eval.passes.teacher_forced``, length-sorted batches, vs
the naive per-metric pass in item order) in prompt + answer tokens per second (non-padding
tokens; the padded positions computed are printed too), and greedy generation (oblivio's
``eval.generate.greedy_generate_ex``: KV cache, a batch stops when every answer has ended
its turn, vs ``model.generate`` always to the limit) in answer tokens per second: the new
tokens up to and including the end-of-answer token, the prefill of the prompts included in
the time. Both on the same prompts (every question and paraphrased question), with a check
that they give the same log-probabilities and the same answers.

A real model instead of the world's (``--model``: a folder, a ``.gguf`` file or
``smollm2-135m-instruct``; ``--data``: e.g. the shipped ``real``), asked through its chat
template; ``--limit N`` evaluates the first N facts of every set (``eval.limit``), so that
a run fits a few minutes on a CPU; ``--json`` also writes the numbers, with the token counts
of one evaluation of the whole data set (bench/cost_model.py reads them):

    python bench/eval_speed.py --model smollm2-135m-instruct --data real --limit 2 --repeats 2 \
        --whole-repeats 1 --json bench/results/real/eval_speed.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

SET_METRICS = ["answer_prob", "mean_token_prob", "exact_mem", "rouge_recall", "accuracy", "para_accuracy",
               "fluency"]
MODEL_METRICS = ["mia_loss", "mia_minkpp"]


# --- the naive evaluator ------------------------------------------------------------------

def naive_tf(model, tok, fmt, items, batch_size, what: str):
    """One teacher-forced pass over ``items`` in their order; per item the token values of ``what``."""
    import torch
    import torch.nn.functional as F

    from oblivio.data.collate import collate, encode_items
    encs = encode_items(tok, fmt, items)
    out = []
    with torch.inference_mode():
        for s in range(0, len(encs), batch_size):
            b = collate(encs[s:s + batch_size], tok.pad_token_id)
            logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits[:, :-1].float()
            tgt = b["labels"][:, 1:]
            for i in range(len(tgt)):
                m = tgt[i].ne(-100)
                lg, y = logits[i][m], tgt[i][m]
                logp = F.log_softmax(lg, -1)
                lp = logp.gather(-1, y[:, None]).squeeze(-1)
                if what == "logprobs":
                    out.append(lp.numpy())
                    continue
                # exact memorisation and Min-K%++ read the answer's text tokens: an end-of-answer EOS is not text
                text = slice(0, -1 if len(y) and int(y[-1]) == tok.eos_token_id else None)
                if what == "correct":
                    out.append(lg.argmax(-1).eq(y)[text].numpy())
                else:   # Min-K%++ token scores
                    p = logp.exp()
                    mu = (p * logp).sum(-1)
                    var = (p * logp.square()).sum(-1) - mu.square()
                    out.append(((lp - mu) / var.clamp_min(1e-12).sqrt())[text].numpy())
    return out


def naive_generate(model, tok, fmt, prompts, batch_size, max_new_tokens):
    """HF generate on the tokenised prompts in their order, always to max_new_tokens; cut afterwards."""
    import torch
    from transformers import GenerationConfig

    from oblivio.eval.generate import stop_token_ids
    from oblivio.models.format import resolve_format
    stops = set(stop_token_ids(tok, fmt))
    one_line = resolve_format(tok, fmt).style == "plain"    # a chat answer may span lines
    pad = tok.pad_token_id
    gcfg = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad)
    saved = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = None      # no stop: every sequence runs to the maximum length
    out = []
    try:
        with torch.inference_mode():
            for s in range(0, len(prompts), batch_size):
                batch = prompts[s:s + batch_size]
                w = max(len(p) for p in batch)
                ids = torch.tensor([[pad] * (w - len(p)) + p for p in batch])
                mask = torch.tensor([[0] * (w - len(p)) + [1] * len(p) for p in batch])
                gen = model.generate(input_ids=ids, attention_mask=mask, generation_config=gcfg)
                for toks in gen[:, w:].tolist():
                    cut = next((k for k, t in enumerate(toks) if t in stops), len(toks))
                    text = tok.decode(toks[:cut], skip_special_tokens=True)
                    out.append((text.split("\n")[0] if one_line else text).strip())
    finally:
        model.generation_config.eos_token_id = saved
    return out


def naive_prompts(tok, fmt, questions) -> list[list[int]]:
    from oblivio.models.format import encode_prompt
    return [encode_prompt(tok, fmt, q) for q in questions]


def naive_evaluate(model, tok, by_role, fmt, batch_size, max_new_tokens):
    """Every metric on every set of ``by_role`` (set name -> items), each doing its own work."""
    import numpy as np

    from oblivio.metrics import functional as F
    model.eval()
    res: dict[str, dict[str, float]] = {}
    roles = list(by_role)
    for role in roles:
        items = by_role[role]
        r: dict[str, float] = {}
        r["answer_prob"] = float(np.mean([F.answer_prob(lp) for lp in naive_tf(model, tok, fmt, items, batch_size,
                                                                              "logprobs") if len(lp)]))
        r["mean_token_prob"] = float(np.mean([F.mean_token_prob(lp) for lp in naive_tf(
            model, tok, fmt, items, batch_size, "logprobs") if len(lp)]))
        r["exact_mem"] = float(np.mean([F.exact_memorisation(c) for c in naive_tf(
            model, tok, fmt, items, batch_size, "correct") if len(c)]))
        qs = naive_prompts(tok, fmt, [it.question for it in items])
        gens = naive_generate(model, tok, fmt, qs, batch_size, max_new_tokens)
        r["rouge_recall"] = float(np.mean([F.rouge_l_recall(g, it.answer) for g, it in zip(gens, items)]))
        gens = naive_generate(model, tok, fmt, qs, batch_size, max_new_tokens)
        acc = [float(F.answer_contains(g, it.key)) for g, it in zip(gens, items) if it.key]
        if acc:
            r["accuracy"] = float(np.mean(acc))
        pitems = [it for it in items if it.paraphrased_question and it.key]
        if pitems:
            gens = naive_generate(model, tok, fmt, naive_prompts(tok, fmt, [it.paraphrased_question for it in pitems]),
                                  batch_size, max_new_tokens)
            r["para_accuracy"] = float(np.mean([float(F.answer_contains(g, it.key)) for g, it in zip(gens, pitems)]))
        gens = naive_generate(model, tok, fmt, qs, batch_size, max_new_tokens)
        r["fluency"] = float(np.mean([F.fluency_score(g) for g in gens]))
        res[role] = r
    if "holdout" in roles and "forget" in roles:
        sc = {}
        for role in ("forget", "holdout"):
            lps = naive_tf(model, tok, fmt, by_role[role], batch_size, "logprobs")
            sc[role] = [-F.loss_score(lp) for lp in lps if len(lp)]
        res["model"] = {"mia_loss": F.mia_auc(sc["forget"], sc["holdout"])}
        for role in ("forget", "holdout"):
            mk = naive_tf(model, tok, fmt, by_role[role], batch_size, "minkpp")
            sc[role] = [F.minkpp_score(v, 0.4) for v in mk if len(v)]
        res["model"]["mia_minkpp"] = F.mia_auc(sc["forget"], sc["holdout"])
    return res


# --- the shared passes, in tokens per second -------------------------------------------------

def padded_positions(lengths: list[int], batch_size: int, *, sort: bool) -> int:
    """Positions a right-padded batched pass computes: per batch, its rows × its longest row."""
    order = sorted(lengths) if sort else list(lengths)
    return sum(len(b) * max(b) for b in (order[s:s + batch_size] for s in range(0, len(order), batch_size)))


class GenerateShapes:
    """Records (rows, new positions) of every ``model.generate`` call while the block runs: the
    decoding positions computed, finished rows included (an instance attribute shadows the
    method; removing it restores the class's)."""

    def __init__(self, model) -> None:
        self.model, self.shapes = model, []

    def __enter__(self) -> GenerateShapes:
        orig = self.model.generate

        def gen(*args, **kw):
            out = orig(*args, **kw)
            self.shapes.append((int(out.shape[0]), int(out.shape[1] - kw["input_ids"].shape[1])))
            return out
        self.model.generate = gen
        return self

    def __exit__(self, *exc) -> None:
        del self.model.generate

    @property
    def positions(self) -> int:
        return sum(r * n for r, n in self.shapes)


def pass_inputs(tok, fmt, by_role) -> tuple[list, list, list[list[int]]]:
    """(items, their teacher-forcing encodings, the generation prompts: every question and
    paraphrased question, as oblivio's evaluation asks them)."""
    from oblivio.data.collate import encode_items
    from oblivio.models.format import cached_prompt
    items = [it for v in by_role.values() for it in v]
    prompts = [cached_prompt(tok, fmt, q) for it in items for q in (it.question, it.paraphrased_question) if q]
    return items, encode_items(tok, fmt, items), prompts


def time_passes(model, tok, fmt, by_role, batch_size: int, max_new: int, repeats: int) -> dict[str, Any]:
    """Both teacher-forced passes and both generations on the same inputs, alternating ours and
    naive ``repeats`` times; medians, token counts and the same-output check."""
    import numpy as np

    from oblivio.eval.generate import greedy_generate_ex
    from oblivio.eval.passes import teacher_forced
    items, encs, prompts = pass_inputs(tok, fmt, by_role)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    t: dict[str, list[float]] = {"tf_ours": [], "tf_naive": [], "gen_ours": [], "gen_naive": []}
    out: dict[str, Any] = {}

    def run(name: str) -> None:
        s = time.perf_counter()
        if name == "tf_ours":
            out[name] = [o.logprobs for o in teacher_forced(model, encs, pad, batch_size=batch_size, full=True)]
        elif name == "tf_naive":
            out[name] = naive_tf(model, tok, fmt, items, batch_size, "logprobs")
        elif name == "gen_ours":
            with GenerateShapes(model) as rec:
                out[name] = greedy_generate_ex(model, tok, prompts, max_new_tokens=max_new, batch_size=batch_size,
                                               fmt=fmt)
            out["gen_ours_positions"] = rec.positions
        else:
            with GenerateShapes(model) as rec:
                out[name] = naive_generate(model, tok, fmt, prompts, batch_size, max_new)
            out["gen_naive_positions"] = rec.positions
        t[name].append(time.perf_counter() - s)
    for r in range(repeats):
        for kind in ("tf", "gen"):
            for who in (("ours", "naive") if r % 2 == 0 else ("naive", "ours")):
                run(f"{kind}_{who}")
    gens, cut = out["gen_ours"]
    lengths = [len(e.prompt) + len(e.answer) for e in encs]
    return {
        "items": len(items), "tf_tokens": sum(lengths),
        "tf_padded": {"ours": padded_positions(lengths, batch_size, sort=True),
                      "naive": padded_positions(lengths, batch_size, sort=False)},
        "prompts": len(prompts), "prefill_tokens": sum(len(p) for p in prompts),
        # an answer's new tokens: its text's tokens and the end-of-answer token, unless cut at the limit
        "answer_tokens": sum(len(g.ids) + (0 if c else 1) for g, c in zip(gens, cut)),
        "truncated": sum(cut), "max_new_tokens": max_new,
        "decode_positions": {"ours": out["gen_ours_positions"], "naive": out["gen_naive_positions"]},
        "seconds": {k: statistics.median(v) for k, v in t.items()}, "runs": t,
        "tf_max_abs_diff": max(float(np.abs(a - b).max()) for a, b in zip(out["tf_ours"], out["tf_naive"]) if len(a)),
        "same_answers": sum(str(g) == n for g, n in zip(gens, out["gen_naive"])),
    }



def print_passes(p: dict[str, Any]) -> None:
    s = p["seconds"]
    print(f"shared passes, tokens per second (median of {len(p['runs']['tf_ours'])} alternating runs each):")
    print(f"  teacher-forced: {p['items']} items, {p['tf_tokens']} prompt + answer tokens "
          f"(padded positions computed: ours {p['tf_padded']['ours']}, naive {p['tf_padded']['naive']})")
    for who in ("ours", "naive"):
        print(f"    {who:5s} {s['tf_' + who]:7.2f} s  {p['tf_tokens'] / s['tf_' + who]:8.1f} tokens/s")
    print(f"  generation: {p['prompts']} prompts ({p['prefill_tokens']} prompt tokens, prefill in the time), "
          f"limit {p['max_new_tokens']} new tokens, {p['answer_tokens']} answer tokens up to and including the "
          f"end of answer ({p['answer_tokens'] / p['prompts']:.1f} a prompt; {p['truncated']} cut at the limit); "
          f"decoding positions computed: ours {p['decode_positions']['ours']}, naive "
          f"{p['decode_positions']['naive']}")
    for who in ("ours", "naive"):
        print(f"    {who:5s} {s['gen_' + who]:7.2f} s  {p['answer_tokens'] / s['gen_' + who]:8.1f} answer tokens/s  "
              f"({p['decode_positions'][who] / s['gen_' + who]:.1f} positions/s)")
    print(f"  same outputs: max |log p ours − naive| {p['tf_max_abs_diff']:.1e}; identical answers "
          f"{p['same_answers']}/{p['prompts']}")


def ours_evaluate(model, tok, data, fmt, batch_size, max_new_tokens, limit=None):
    from oblivio.eval.evaluate import EvalConfig, evaluate_model
    cfg = EvalConfig(batch_size=batch_size, max_new_tokens=max_new_tokens, metrics=SET_METRICS + MODEL_METRICS,
                     limit=limit)
    rep = evaluate_model(model, tok, data, cfg=cfg, fmt=fmt)
    res = {role: {m: r.value for m, r in ms.items() if r.value is not None} for role, ms in rep.sets.items()}
    res["model"] = {m: r.value for m, r in rep.model.items() if r.value is not None}
    return res


def load(a: argparse.Namespace) -> tuple[Any, Any, Any, Any, str]:
    """(model, tokenizer, data, prompt format, what it is in words)."""
    from oblivio.config import Config, load_config
    from oblivio.models.format import PromptFormat, resolve_format
    if a.model:
        from oblivio.resolve import load_data, resolve_model
        model, tok = resolve_model(a.model, None, Config())      # the chat template, bound
        return model, tok, load_data(a.data), resolve_format(tok, None), f"{a.model} on {a.data}"
    from oblivio import api
    cfg = load_config(overrides={"world": {"preset": a.preset}})
    data = api.load_data(None, cfg)
    # the base model `oblivio unlearn` uses for this world (api.unlearn passes the loaded data)
    wm = api.learn(data, config=cfg, progress=False, log=lambda m: None)
    return wm.base, wm.tokenizer, data, resolve_format(wm.tokenizer, PromptFormat()), f"'{a.preset}' world base model"


def whole_set(tok, data, fmt) -> dict[str, Any]:
    """Token counts of one evaluation of every row (no limit), and of the rows unlearning trains
    on (prompt + answer, what the loop's batches hold without padding): what
    bench/cost_model.py scales."""
    from oblivio.config import EvalConfig
    from oblivio.data.collate import encode_items
    from oblivio.eval.evaluate import select_items
    items, encs, prompts = pass_inputs(tok, fmt, select_items(data, EvalConfig(), None))
    train = {side: [len(e.prompt) + len(e.answer) for e in encode_items(tok, fmt, rows)]
             for side, rows in (("forget", data.forget), ("retain", data.unlearning_retain()))}
    return {"items": len(items), "tf_tokens": sum(len(e.prompt) + len(e.answer) for e in encs),
            "prompts": len(prompts), "prefill_tokens": sum(len(p) for p in prompts),
            "train_rows": {k: len(v) for k, v in train.items()},
            "train_tokens_per_row": {k: statistics.mean(v) for k, v in train.items()}}


def time_whole(args: tuple, by_role: dict, limit: int | None, repeats: int) -> tuple[dict, dict]:
    """Both whole evaluators, alternating; (times, results)."""
    model, tok, data, fmt, bs, mx = args
    fns = {"ours": lambda: ours_evaluate(model, tok, data, fmt, bs, mx, limit),
           "naive": lambda: naive_evaluate(model, tok, by_role, fmt, bs, mx)}
    times: dict[str, list[float]] = {"ours": [], "naive": []}
    results: dict[str, Any] = {}
    for r in range(repeats):
        for name in (("ours", "naive") if r % 2 == 0 else ("naive", "ours")):
            t = time.perf_counter()
            results[name] = fns[name]()
            times[name].append(time.perf_counter() - t)
    return times, results


def compare(results: dict[str, Any]) -> tuple[dict[str, float], list[str]]:
    """Per metric the largest |ours − naive| over sets, and the values ours lacks."""
    worst: dict[str, float] = {}
    missing = []
    for role, ms in results["naive"].items():
        for m, v in ms.items():
            ov = results["ours"].get(role, {}).get(m)
            if ov is None:
                missing.append(f"{role}/{m}")
                continue
            worst[m] = max(worst.get(m, 0.0), abs(ov - v))
    return worst, missing


def print_whole(times: dict, results: dict, head: str) -> dict[str, Any]:
    o, n = statistics.median(times["ours"]), statistics.median(times["naive"])
    print(head)
    print(f"  ours  {o:7.2f} s   runs: " + ", ".join(f"{x:.2f}" for x in times["ours"]))
    print(f"  naive {n:7.2f} s   runs: " + ", ".join(f"{x:.2f}" for x in times["naive"]))
    print(f"  ratio ours/naive: {o / n:.3f} (target <= 0.5)")
    worst, missing = compare(results)
    print("  same numbers (max |ours − naive| over sets): "
          + ", ".join(f"{m} {d:.1e}" for m, d in worst.items())
          + (f"; missing in ours: {missing}" if missing else ""))
    for role in ("forget", "retain"):
        if role in results["ours"]:
            ro, rn = results["ours"][role], results["naive"][role]
            print(f"    {role}: answer_prob ours {ro['answer_prob']:.6f} naive {rn['answer_prob']:.6f}; "
                  f"accuracy ours {ro.get('accuracy', float('nan')):.4f} naive {rn.get('accuracy', float('nan')):.4f}")
    ok = not missing and all(d <= 1e-4 for d in worst.values())
    print(f"  check: {'identical within 1e-4' if ok else 'DIFFERENT'}")
    return {"seconds": {"ours": o, "naive": n}, "ratio": o / n, "max_abs_diff": worst, "identical": ok}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="tiny", help="world preset whose cached base model is evaluated")
    ap.add_argument("--model", help="a real model (folder, .gguf, smollm2-135m-instruct) instead of the world's")
    ap.add_argument("--data", default="real", help="with --model: the data spec (default: the shipped real set)")
    ap.add_argument("--limit", type=int, help="evaluate the first N facts of every set (eval.limit)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch's default)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, help="generation limit for both (default: 32 on the world; "
                    "with --model, the largest of oblivio's per-set limits, the chat floor 48 included)")
    ap.add_argument("--whole-repeats", type=int, help="runs of each whole evaluator (default --repeats; 0: none)")
    ap.add_argument("--json", help="also write the numbers here")
    a = ap.parse_args()
    import torch
    from transformers.utils import logging as hf_logging

    from oblivio.config import EvalConfig
    from oblivio.eval.evaluate import generation_limits, select_items
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if a.threads:
        torch.set_num_threads(a.threads)
    model, tok, data, fmt, what = load(a)
    model.eval()
    by_role = select_items(data, EvalConfig(limit=a.limit), None)
    mx = a.max_new_tokens or (max(generation_limits(tok, by_role, EvalConfig(), fmt).values()) if a.model else 32)
    args = (model, tok, data, fmt, a.batch_size, mx)
    ours_evaluate(model, tok, data, fmt, a.batch_size, 2, a.limit)   # warm-up (first-call allocations, lazy imports)
    naive_generate(model, tok, fmt, naive_prompts(tok, fmt, [data.items[0].question]), 1, 2)
    n_items = sum(len(v) for v in by_role.values())
    n_para = sum(1 for v in by_role.values() for it in v if it.paraphrased_question)
    print(f"evaluation speed: {what} ({n_items} items{f', the first {a.limit} facts of every set' if a.limit else ''}, "
          f"{n_para} paraphrased questions, {len(by_role)} sets), {fmt.style} prompts; batch {a.batch_size}, "
          f"max_new_tokens {mx}, torch threads {a.threads or 'default'}")
    rec: dict[str, Any] = {"model": what, "threads": a.threads, "batch_size": a.batch_size, "limit": a.limit,
                           "passes": time_passes(model, tok, fmt, by_role, a.batch_size, mx, a.repeats)}
    print_passes(rec["passes"])
    whole = a.repeats if a.whole_repeats is None else a.whole_repeats
    if whole:
        times, results = time_whole(args, by_role, a.limit, whole)
        rec["whole"] = print_whole(times, results, "whole evaluators, metrics "
                                   f"{', '.join(SET_METRICS + MODEL_METRICS)}; median of {whole} alternating runs:")
    if a.model:
        rec["whole_set"] = whole_set(tok, data, fmt)
        w = rec["whole_set"]
        print(f"one evaluation of the whole set (no limit): {w['items']} items, {w['tf_tokens']} teacher-forced "
              f"tokens, {w['prompts']} prompts, {w['prefill_tokens']} prompt tokens; the rows unlearning trains on: "
              + ", ".join(f"{k} {w['train_rows'][k]} rows, {w['train_tokens_per_row'][k]:.1f} tokens a row"
                          for k in w["train_rows"]))
    if a.json:
        from oblivio.atomic import write_text
        write_text(a.json, json.dumps(rec, indent=1) + "\n")


if __name__ == "__main__":
    main()
