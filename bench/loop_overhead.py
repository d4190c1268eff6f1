"""Step time and peak memory of oblivio's training loop vs a bare PyTorch loop.

Both variants train the same freshly initialised tiny Llama (``models/tiny.py``, "tiny"
size, fp32) with GradDiff on the default embedded world, batch 8 forget + 8 retain, on
identical batches (the same sampler pairs through the same collate function):

* **ours** — ``oblivio.engine.loop.train`` (Accelerate, NaN guard, progress bar with the
  loss parts, loss history, callbacks, grad accumulation machinery, linear schedule);
* **bare** — ``torch.optim.AdamW`` + the GradDiff loss written inline +
  ``clip_grad_norm_`` + a linear ``LambdaLR``, over pre-collated batches.

Step time is measured **paired**: in one process, a step of ours (on one copy of the model)
then a step of bare (on an identical copy), alternating, so both see the same machine load
at the same moment (this machine is shared; unpaired timings drift by ±20 %). Ours' step is
timed from the end of the previous bare step to the loop's callback, so it includes the
data loading, loss, NaN guard, logging and progress bar; bare's batches are pre-collated.
The per-step time is the median step after ``--warmup`` steps; ``--repeats`` such
processes, median reported. Peak RSS (and an unpaired step time) come from each variant run
alone in its own subprocess, interleaved with the others. Both runs must end with the same
loss (printed): they do the same training.

    python bench/loop_overhead.py [--steps 100] [--warmup 10] [--repeats 3] [--threads 1]

A real model instead (``--model``: a folder, a ``.gguf`` file or ``smollm2-135m-instruct``;
``--data``: any data spec, e.g. the shipped ``real``), through its chat template, at a rate
suited to it (``--lr``, default 1e-5 with ``--model``):

    python bench/loop_overhead.py --model smollm2-135m-instruct --data real --steps 20 --warmup 4 \
        --repeats 2 --threads 0
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time


def setup(n_batches: int, batch: int = 8, model_spec: str | None = None, data_spec: str | None = None):
    """World (or ``data_spec``), tokenizer, model (or ``model_spec``), pair list and the collate
    function shared by both variants."""
    from oblivio.data.collate import encode_items, make_collate
    from oblivio.data.samplers import get_sampler
    from oblivio.engine.learning import world_texts
    from oblivio.models.format import PromptFormat
    from oblivio.models.tiny import tiny_llama
    from oblivio.models.tokenizer import train_tokenizer
    from oblivio.world import build_world, world_config

    if model_spec is not None:
        from oblivio.config import Config
        from oblivio.resolve import load_data, resolve_model
        model, tok = resolve_model(model_spec, None, Config())     # the chat template, bound
        data = load_data(data_spec)
    else:
        data = build_world(world_config("default"))
        tok = train_tokenizer(world_texts(data))
        model = None
    forget, retain = data.forget, data.unlearning_retain()
    fmt = None if model_spec is not None else PromptFormat()
    f_enc, r_enc = encode_items(tok, fmt, forget), encode_items(tok, fmt, retain)
    smp = get_sampler("one_to_one_random")
    pairs: list[tuple[int, int]] = []
    epoch = 0
    while len(pairs) < n_batches * batch:
        ep = smp.epoch_pairs(forget, retain, epoch=epoch, seed=0)
        pairs += ep[: len(ep) // batch * batch]       # whole batches only, as both loops see them
        epoch += 1
    pairs = pairs[: n_batches * batch]
    collate_fn = make_collate(f_enc, r_enc, tok.pad_token_id, use_forget=True, use_retain=True)
    if model is None:
        model = tiny_llama(len(tok), "tiny", seed=0, bos_token_id=tok.bos_token_id,
                           eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    return model, pairs, collate_fn


LR, MAX_NORM = 1e-3, 1.0      # LR: the tiny model's; main() sets --lr


def run_ours(model, pairs, collate_fn, steps: int, batch: int, after_step=None) -> float:
    """oblivio's loop; ``after_step(step)`` is called from a loop callback. Returns the final loss."""
    from oblivio.engine.loop import PairSource, TrainConfig, train
    from oblivio.methods.grad_diff import GradDiff

    cfg = TrainConfig(lr=LR, max_steps=steps, batch_size=batch, schedule="linear", max_grad_norm=MAX_NORM,
                      progress=True)
    cbs = [lambda step, _m: after_step(step)] if after_step else []
    res = train(model, GradDiff(), PairSource(lambda e: pairs), collate_fn, cfg, callbacks=cbs)
    return res.history[-1]["loss"]


def bare_steps(model, batches):
    """The bare PyTorch loop as a generator: yields the loss after each optimiser step."""
    import torch
    import torch.nn.functional as F

    def logprobs(sub):
        logits = model(input_ids=sub["input_ids"], attention_mask=sub["attention_mask"]).logits[:, :-1]
        tgt = sub["labels"][:, 1:]
        mask = tgt.ne(-100)
        lp = -F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), tgt.clamp_min(0).reshape(-1),
                              reduction="none").view(tgt.shape)
        return lp * mask, mask

    steps = len(batches)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, (steps - s) / steps))
    model.train()
    for b in batches:
        lp, m = logprobs(b["forget"])
        forget = lp.sum() / m.sum().clamp_min(1)          # −NLL_f
        lp, m = logprobs(b["retain"])
        retain = -lp.sum() / m.sum().clamp_min(1)         # NLL_r
        loss = forget + 1.0 * retain
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, MAX_NORM)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        yield float(loss.detach())


def child(variant: str, steps: int, warmup: int, batch: int, threads: int, model_spec: str | None = None,
          data_spec: str | None = None) -> dict:
    """One subprocess: ``ours`` or ``bare`` alone (peak memory, unpaired step time), or ``paired``."""
    import resource

    import torch
    if threads:
        torch.set_num_threads(threads)
    model, pairs, collate_fn = setup(steps, batch, model_spec, data_spec)
    batches = [collate_fn(pairs[i:i + batch]) for i in range(0, steps * batch, batch)]
    # what bench/cost_model.py needs: non-padding tokens a step (forget + retain) and parameters
    out: dict = {"variant": variant, "parameters": sum(p.numel() for p in model.parameters()),
                 "tokens_per_step": statistics.mean(float(sum(b[k]["attention_mask"].sum() for k in b))
                                                    for b in batches[warmup:])}
    if variant == "bare":
        t, dts = time.perf_counter(), []
        for loss in bare_steps(model, batches):  # noqa: B007  (the last loss is reported)
            dts.append(time.perf_counter() - t)
            t = time.perf_counter()
        out.update(step_ms=1000 * statistics.median(dts[warmup:]), final_loss=loss)
    elif variant == "ours":
        dts, last = [], [0.0]

        def tick(step):
            now = time.perf_counter()
            if step > 1:
                dts.append(now - last[0])
            last[0] = now
        out["final_loss"] = run_ours(model, pairs, collate_fn, steps, batch, tick)
        out["step_ms"] = 1000 * statistics.median(dts[warmup - 1:])
    else:
        # one step of ours, then one step of bare (on an identical second model), alternating:
        # both see the same machine load at the same moment.
        model_b = copy.deepcopy(model)
        gen = bare_steps(model_b, batches)
        ours_dt, bare_dt, bare_loss, mark = [], [], [], [0.0]

        def tick(step):
            now = time.perf_counter()
            if step > 1:
                ours_dt.append(now - mark[0])          # from the end of the last bare step
            t = time.perf_counter()
            bare_loss.append(next(gen))
            bare_dt.append(time.perf_counter() - t)
            mark[0] = time.perf_counter()
        ours_loss = run_ours(model, pairs, collate_fn, steps, batch, tick)
        o, b = ours_dt[warmup - 1:], bare_dt[warmup:]          # o[i] and b[i]: the same step number
        out.update(ours_ms=1000 * statistics.median(o), bare_ms=1000 * statistics.median(b),
                   paired_ratio=statistics.median(x / y for x, y in zip(o, b)),
                   mean_ratio=statistics.mean(o) / statistics.mean(b),
                   ours_loss=ours_loss, bare_loss=bare_loss[-1])
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10, help="steps not timed at the start of a run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch's default)")
    ap.add_argument("--model", help="a real model (folder, .gguf, smollm2-135m-instruct) instead of the tiny one")
    ap.add_argument("--data", help="with --model: the data spec (e.g. real)")
    ap.add_argument("--lr", type=float, help="learning rate (default 1e-3; 1e-5 with --model)")
    ap.add_argument("--child", choices=["ours", "bare", "paired"])
    a = ap.parse_args()
    global LR
    LR = a.lr if a.lr is not None else (1e-5 if a.model else LR)
    if a.child:
        print(json.dumps(child(a.child, a.steps, a.warmup, a.batch, a.threads, a.model, a.data)))
        return
    extra = [*(["--model", a.model] if a.model else []), *(["--data", a.data] if a.data else []),
             "--lr", str(LR)]
    runs: dict[str, list[dict]] = {"ours": [], "bare": [], "paired": []}
    for r in range(a.repeats):
        order = ("paired", "ours", "bare") if r % 2 == 0 else ("paired", "bare", "ours")
        for v in order:
            # the child's stderr (its progress bar) goes to a file, not a pipe: on a loaded machine
            # every bar redraw into a pipe wakes this process, which can preempt the child
            with tempfile.TemporaryFile(mode="w+") as err:
                res = subprocess.run([sys.executable, __file__, "--child", v, "--steps", str(a.steps),
                                      "--warmup", str(a.warmup), "--batch", str(a.batch), "--threads",
                                      str(a.threads), *extra], stdout=subprocess.PIPE, stderr=err, text=True)
                if res.returncode:
                    err.seek(0)
                    sys.exit(f"{v} run failed:\n{err.read()[-3000:]}")
            runs[v].append(json.loads(res.stdout.strip().splitlines()[-1]))
    med = lambda rs, k: statistics.median(x[k] for x in rs)   # noqa: E731
    pr = runs["paired"]
    ours_ms, bare_ms = med(pr, "ours_ms"), med(pr, "bare_ms")
    ratio = med(pr, "paired_ratio")
    print(f"loop overhead: {a.model or 'tiny Llama'}{' on ' + a.data if a.data else ''}, GradDiff, lr {LR:g}, "
          f"batch {a.batch}+{a.batch}, fp32, {a.steps} steps "
          f"(first {a.warmup} not timed), torch threads {a.threads or 'default'}, {a.repeats} repeats")
    print("step time, paired (one step of ours, then one of bare, alternating in one process; "
          "medians over steps, then over repeats):")
    print(f"  ours {ours_ms:7.2f} ms   bare {bare_ms:7.2f} ms   (ratio of these medians "
          f"{ours_ms / bare_ms:.3f}; of means {med(pr, 'mean_ratio'):.3f})")
    print(f"  ratio ours/bare: {ratio:.3f} (target <= 1.05; median over steps of ours_i / bare_i, the same "
          "step i of both, adjacent in time)   per repeat: " + ", ".join(f"{x['paired_ratio']:.3f}" for x in pr))
    u_ours, u_bare = med(runs["ours"], "step_ms"), med(runs["bare"], "step_ms")
    print(f"step time, each variant alone in its own process (noisier on a shared machine):\n"
          f"  ours {u_ours:7.2f} ms   bare {u_bare:7.2f} ms   ratio {u_ours / u_bare:.3f}")
    m_ours, m_bare = med(runs["ours"], "peak_rss_mb"), med(runs["bare"], "peak_rss_mb")
    print(f"peak RSS, each variant alone in its own process (median over repeats):\n"
          f"  ours {m_ours:7.1f} MB   bare {m_bare:7.1f} MB   ratio {m_ours / m_bare:.3f}")
    print(f"model: {pr[0]['parameters']} parameters; {pr[0]['tokens_per_step']:.1f} non-padding tokens a step "
          "(forget + retain, mean over the timed steps)")
    same = all(abs(x["ours_loss"] - x["bare_loss"]) <= 1e-4 * max(1.0, abs(x["bare_loss"])) for x in pr)
    print(f"same training: final loss ours {pr[0]['ours_loss']:.6f}, bare {pr[0]['bare_loss']:.6f} -> "
          f"{'identical' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
