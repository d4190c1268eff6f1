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
"""
from __future__ import annotations

import argparse
import statistics
import time

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
                elif what == "correct":
                    out.append(lg.argmax(-1).eq(y).numpy())
                else:   # Min-K%++ token scores
                    p = logp.exp()
                    mu = (p * logp).sum(-1)
                    var = (p * logp.square()).sum(-1) - mu.square()
                    out.append(((lp - mu) / var.clamp_min(1e-12).sqrt()).numpy())
    return out


def naive_generate(model, tok, fmt, questions, batch_size, max_new_tokens):
    """HF generate on the prompts in their order, always to max_new_tokens; cut afterwards."""
    import torch
    from transformers import GenerationConfig

    from oblivio.eval.generate import stop_token_ids
    from oblivio.models.format import encode_prompt
    stops = set(stop_token_ids(tok))
    pad = tok.pad_token_id
    gcfg = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad)
    saved = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = None      # no stop: every sequence runs to the maximum length
    out = []
    try:
        with torch.inference_mode():
            prompts = [encode_prompt(tok, fmt, q) for q in questions]
            for s in range(0, len(prompts), batch_size):
                batch = prompts[s:s + batch_size]
                w = max(len(p) for p in batch)
                ids = torch.tensor([[pad] * (w - len(p)) + p for p in batch])
                mask = torch.tensor([[0] * (w - len(p)) + [1] * len(p) for p in batch])
                gen = model.generate(input_ids=ids, attention_mask=mask, generation_config=gcfg)
                for toks in gen[:, w:].tolist():
                    cut = next((k for k, t in enumerate(toks) if t in stops), len(toks))
                    out.append(tok.decode(toks[:cut], skip_special_tokens=True).split("\n")[0].strip())
    finally:
        model.generation_config.eos_token_id = saved
    return out


def naive_evaluate(model, tok, data, fmt, batch_size, max_new_tokens):
    import numpy as np

    from oblivio.metrics import functional as F
    model.eval()
    res: dict[str, dict[str, float]] = {}
    roles = data.present_roles()
    for role in roles:
        items = data.role(role)
        r: dict[str, float] = {}
        r["answer_prob"] = float(np.mean([F.answer_prob(lp) for lp in naive_tf(model, tok, fmt, items, batch_size,
                                                                              "logprobs") if len(lp)]))
        r["mean_token_prob"] = float(np.mean([F.mean_token_prob(lp) for lp in naive_tf(
            model, tok, fmt, items, batch_size, "logprobs") if len(lp)]))
        r["exact_mem"] = float(np.mean([F.exact_memorisation(c) for c in naive_tf(
            model, tok, fmt, items, batch_size, "correct") if len(c)]))
        qs = [it.question for it in items]
        gens = naive_generate(model, tok, fmt, qs, batch_size, max_new_tokens)
        r["rouge_recall"] = float(np.mean([F.rouge_l_recall(g, it.answer) for g, it in zip(gens, items)]))
        gens = naive_generate(model, tok, fmt, qs, batch_size, max_new_tokens)
        acc = [float(F.answer_contains(g, it.key)) for g, it in zip(gens, items) if it.key]
        if acc:
            r["accuracy"] = float(np.mean(acc))
        pitems = [it for it in items if it.paraphrased_question and it.key]
        if pitems:
            gens = naive_generate(model, tok, fmt, [it.paraphrased_question for it in pitems], batch_size,
                                  max_new_tokens)
            r["para_accuracy"] = float(np.mean([float(F.answer_contains(g, it.key)) for g, it in zip(gens, pitems)]))
        gens = naive_generate(model, tok, fmt, qs, batch_size, max_new_tokens)
        r["fluency"] = float(np.mean([F.ngram_entropy(g) for g in gens]))
        res[role] = r
    if "holdout" in roles and "forget" in roles:
        sc = {}
        for role in ("forget", "holdout"):
            lps = naive_tf(model, tok, fmt, data.role(role), batch_size, "logprobs")
            sc[role] = [-F.loss_score(lp) for lp in lps if len(lp)]
        res["model"] = {"mia_loss": F.mia_auc(sc["forget"], sc["holdout"])}
        for role in ("forget", "holdout"):
            mk = naive_tf(model, tok, fmt, data.role(role), batch_size, "minkpp")
            sc[role] = [F.minkpp_score(v, 0.4) for v in mk if len(v)]
        res["model"]["mia_minkpp"] = F.mia_auc(sc["forget"], sc["holdout"])
    return res


# --- driver ---------------------------------------------------------------------------------

def ours_evaluate(model, tok, data, fmt, batch_size, max_new_tokens):
    from oblivio.eval.evaluate import EvalConfig, evaluate_model
    cfg = EvalConfig(batch_size=batch_size, max_new_tokens=max_new_tokens, metrics=SET_METRICS + MODEL_METRICS)
    rep = evaluate_model(model, tok, data, cfg=cfg, fmt=fmt)
    res = {role: {m: r.value for m, r in ms.items() if r.value is not None} for role, ms in rep.sets.items()}
    res["model"] = {m: r.value for m, r in rep.model.items() if r.value is not None}
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="tiny", help="world preset whose cached base model is evaluated")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch's default)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    a = ap.parse_args()
    import torch
    from transformers.utils import logging as hf_logging

    from oblivio.api import learn
    from oblivio.config import load_config
    from oblivio.models.format import PromptFormat
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg = load_config(overrides={"world": {"preset": a.preset}})
    from oblivio.api import load_data
    data = load_data(None, cfg)
    # the base model `oblivio unlearn` uses for this world (api.unlearn passes the loaded data)
    wm = learn(data, config=cfg, progress=False, log=lambda m: None)
    model, tok, fmt = wm.base, wm.tokenizer, PromptFormat()
    args = (model, tok, data, fmt, a.batch_size, a.max_new_tokens)
    ours_evaluate(*args)          # warm-up (first-call allocations, lazy imports) for both
    naive_generate(model, tok, fmt, [data.items[0].question], 1, 2)
    times: dict[str, list[float]] = {"ours": [], "naive": []}
    results = {}
    for r in range(a.repeats):
        for name, fn in (("ours", ours_evaluate), ("naive", naive_evaluate)) if r % 2 == 0 else \
                (("naive", naive_evaluate), ("ours", ours_evaluate)):
            t = time.perf_counter()
            results[name] = fn(*args)
            times[name].append(time.perf_counter() - t)
    n_items = len(data.items)
    n_para = sum(1 for it in data.items if it.paraphrased_question)
    o, n = statistics.median(times["ours"]), statistics.median(times["naive"])
    print(f"evaluation speed: '{a.preset}' world base model ({n_items} items, {n_para} paraphrased questions, "
          f"{len(data.present_roles())} sets), metrics {', '.join(SET_METRICS + MODEL_METRICS)}; batch "
          f"{a.batch_size}, max_new_tokens {a.max_new_tokens}, torch threads {a.threads or 'default'}; "
          f"median of {a.repeats} alternating runs")
    print(f"  ours  {o:7.2f} s   runs: " + ", ".join(f"{x:.2f}" for x in times["ours"]))
    print(f"  naive {n:7.2f} s   runs: " + ", ".join(f"{x:.2f}" for x in times["naive"]))
    print(f"  ratio ours/naive: {o / n:.3f} (target <= 0.5)")
    # same numbers?
    worst: dict[str, float] = {}
    missing = []
    for role, ms in results["naive"].items():
        for m, v in ms.items():
            ov = results["ours"].get(role, {}).get(m)
            if ov is None:
                missing.append(f"{role}/{m}")
                continue
            worst[m] = max(worst.get(m, 0.0), abs(ov - v))
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


if __name__ == "__main__":
    main()
