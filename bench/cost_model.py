"""What unlearning would cost on one GPU, from what was measured on this CPU: an estimate.

Everything this script prints is an **estimate** from the formulas below, not a measurement on
a GPU (none was used). Its inputs are measurements on the shared 2-core CPU machine:

* step times of SmolLM2-135M-Instruct on ``--data real`` (``bench/results/real/tune.json``: NPO,
  LoRA r 8 and full, 55 steps; ``bench/results/real/loop_overhead.txt``: GradDiff, full, oblivio's
  loop and a bare PyTorch loop), and of the tiny model (``bench/results/loop_overhead_tiny.txt``);
* token counts of the real set and the evaluation's speed (``bench/results/real/eval_speed.json``,
  ``bench/eval_speed.py``): tokens per trained row, teacher-forced and prompt tokens of one
  evaluation, answer tokens per generated answer;

and published architectures: SmolLM2-135M (the measured model, as a check), Llama-3.2-1B
(1.24 B parameters) and Llama-2-7B (6.74 B).

**FLOPs** (Kaplan et al. 2020, "Scaling laws for neural language models", arXiv 2001.08361,
§2.1 — the "6·N·D" rule; ``oblivio.engine.efficiency`` uses the same convention): a forward pass
costs 2·N FLOPs a token (N parameters, embeddings included), the backward pass twice that —
2·N for the gradients with respect to the activations and 2·N for those with respect to the
weights — so full fine-tuning costs 6·N·T a step of T tokens. A LoRA step computes the
activation gradients through every frozen layer but no weight gradients for the frozen weights:
≈ 4·N·T (the adapter's own FLOPs, under 1% of N at rank 8, are left out). Attention's quadratic
term is left out (rows of ~50 tokens), as are NPO's reference passes (cached once per forget row).
T counts non-padding tokens; a CPU also computes the padding, so the achieved FLOP/s below is the
useful rate.

**Time on one GPU**: FLOPs / (peak × MFU), with an H100 SXM's dense BF16 peak (989 TFLOP/s) and
a model-FLOPs utilisation of 30–50% (a stated range, not measured: small batches of short rows
sit at its low end, and a 135M model's step is bound by kernel launches, not FLOPs).
**Generation** is bound by memory bandwidth: each decoding step reads every weight once from
HBM (3.35 TB/s). Two bounds: batch 1 (each answer token its own read: the upper bound) and
oblivio's evaluation batches (64 prompts share a read; a batch decodes to the token limit when
one of its answers does); the larger of that and the compute time counts.

**Memory** of a training step (bytes a parameter; activations from Korthikanti et al. 2022,
"Reducing activation recomputation in large transformer models", arXiv 2205.05198: 34·s·b·h bytes
a layer in 16-bit without recomputation, attention scores not stored, ×2 in fp32; the logits and
their gradient in fp32, 8·T·V bytes):

* full, fp32 AdamW: 16 (weights 4 + gradients 4 + Adam's two moments 8);
* full, bf16 weights and gradients, fp32 Adam moments (no fp32 master copy): 12;
* LoRA r 8 on the 7 projections of every layer (oblivio's default), frozen bf16 weights: 2, plus
  16 bytes for each adapter parameter (fp32 weight, gradient, two moments);
* a method with a reference model (NPO, KL, DPO …) keeps a frozen copy of the weights when it
  trains the full model (+4 or +2); with LoRA the reference is the base with the adapter off.

    python bench/cost_model.py [--mfu 0.3,0.5] [--out bench/results/cost_model]
"""
from __future__ import annotations

import argparse
import json
import math
import re
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

H100_BF16_FLOPS = 989e12          # H100 SXM, dense BF16 tensor cores (no sparsity)
H100_HBM_BYTES_S = 3.35e12        # H100 SXM, HBM3
H100_MEMORY_GB = 80.0
GB = 1e9
# TOFU (Maini et al. 2024): fine-tune on all 4,000 QA rows for 5 epochs. Tokens a row: 58.0, the
# mean over the 4,000 rows of "Question: {q}\nAnswer: {a}" with BOS and EOS, counted with
# SmolLM2's tokenizer (a stand-in: Llama's tokenizers were not available; Llama-2's smaller
# vocabulary gives somewhat more tokens, Llama-3's larger one fewer)
TOFU_ROWS, TOFU_EPOCHS, TOFU_TOKENS_PER_ROW = 4000, 5, 58.0
ACT_BYTES_PER_TOKEN_HIDDEN_LAYER = 34      # Korthikanti et al. 2022, 16-bit activations


@dataclass(frozen=True)
class Arch:
    """A Llama-style decoder: what its parameter count and memory depend on."""

    name: str
    hidden: int
    layers: int
    intermediate: int
    kv_dim: int              # key/value width: KV heads × head size (= hidden without GQA)
    vocab: int
    tied: bool               # input and output embeddings one matrix


# the published configs (config.json of each model)
SMOLLM2_135M = Arch("SmolLM2-135M", 576, 30, 1536, 192, 49152, True)
LLAMA_32_1B = Arch("Llama-3.2-1B", 2048, 16, 8192, 512, 128256, True)
LLAMA_2_7B = Arch("Llama-2-7B", 4096, 32, 11008, 4096, 32000, False)
ARCHS = (SMOLLM2_135M, LLAMA_32_1B, LLAMA_2_7B)


# --- the formulas (tests/test_cost_model.py checks each by hand) ---------------------------

def n_params(a: Arch) -> int:
    """Parameters: embeddings (twice when untied), per layer q, k, v, o, gate, up, down and two
    RMSNorms, the final norm."""
    per_layer = 2 * a.hidden * a.hidden + 2 * a.hidden * a.kv_dim + 3 * a.hidden * a.intermediate + 2 * a.hidden
    return a.vocab * a.hidden * (1 if a.tied else 2) + a.layers * per_layer + a.hidden


def lora_params(a: Arch, r: int) -> int:
    """LoRA adapter parameters, rank ``r`` on q, k, v, o, gate, up, down: r·(d_in + d_out) each."""
    h, kv, i = a.hidden, a.kv_dim, a.intermediate
    per_layer = (h + h) + 2 * (h + kv) + (h + h) + 2 * (h + i) + (i + h)
    return r * a.layers * per_layer


def train_flops(n: float, tokens: float, *, lora: bool) -> float:
    """One training step's FLOPs: 6·N·T full (forward 2, backward 4), 4·N·T LoRA (no weight gradients)."""
    return (4.0 if lora else 6.0) * n * tokens


def forward_flops(n: float, tokens: float) -> float:
    return 2.0 * n * tokens


def gpu_seconds(flops: float, mfu: float, peak: float = H100_BF16_FLOPS) -> float:
    return flops / (peak * mfu)


def decode_seconds(weight_bytes: float, steps: float, bandwidth: float = H100_HBM_BYTES_S) -> float:
    """Memory-bound decoding: every step reads all the weights once."""
    return steps * weight_bytes / bandwidth


BYTES_PER_PARAM = {           # mode -> (weights, gradients, optimiser) bytes a parameter
    "full_fp32": (4, 4, 8),
    "full_bf16_adam32": (2, 2, 8),
    "lora_bf16": (2, 0, 0),
}


def train_memory(a: Arch, mode: str, tokens: float, *, reference: bool = False, lora_r: int = 8) -> dict[str, float]:
    """Bytes of one training step of ``tokens`` tokens, by part (module docstring)."""
    n = n_params(a)
    w, g, o = BYTES_PER_PARAM[mode]
    act_bytes = 2 if mode == "full_fp32" else 1         # fp32 activations: twice the 16-bit ones
    parts = {"weights": float(w * n), "gradients": float(g * n), "optimizer": float(o * n),
             "adapter": float(16 * lora_params(a, lora_r)) if mode.startswith("lora") else 0.0,
             "reference": float(w * n) if reference and not mode.startswith("lora") else 0.0,
             "activations": float(act_bytes * ACT_BYTES_PER_TOKEN_HIDDEN_LAYER * tokens * a.hidden * a.layers),
             "logits": float(8 * tokens * a.vocab)}
    parts["total"] = sum(parts.values())
    return parts


# --- the measurements ----------------------------------------------------------------------

def read_loop_overhead(path: Path) -> dict[str, float]:
    """The paired step times (ms → s) and, when printed, parameters and tokens a step."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r"^\s*ours\s+([\d.]+) ms\s+bare\s+([\d.]+) ms\s+\(ratio", text, re.M)
    if m is None:
        raise ValueError(f"{path}: no paired 'ours … ms bare … ms' line")
    out = {"ours_s": float(m.group(1)) / 1000, "bare_s": float(m.group(2)) / 1000}
    r = re.search(r"ratio ours/bare: ([\d.]+)", text)
    if r:
        out["paired_ratio"] = float(r.group(1))
    p = re.search(r"model: (\d+) parameters; ([\d.]+) non-padding tokens a step", text)
    if p:
        out["parameters"], out["tokens_per_step"] = float(p.group(1)), float(p.group(2))
    return out


def tune_step_seconds(path: Path) -> dict[str, float]:
    """Seconds a step per mode (lora, full), mean over the sweep's runs of train_seconds / steps."""
    rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
    by: dict[str, list[float]] = {}
    for r in rows:
        by.setdefault(r["mode"], []).append(r["train_seconds"] / r["steps"])
    return {k: statistics.mean(v) for k, v in by.items()}


@dataclass(frozen=True)
class RealSet:
    """What one default unlearning run and one evaluation of ``--data real`` process."""

    forget_rows: int
    tokens_forget_row: float
    tokens_retain_row: float
    eval_tf_tokens: int            # teacher-forced pass: prompt + answer of every row
    eval_prompts: int              # questions and paraphrased questions
    eval_prefill_tokens: int
    answer_tokens_per_prompt: float   # measured on the --limit subset
    gen_limit: int
    eval_batch: int
    epochs: int = 5                # the unlearning default
    batch: int = 8                 # rows a side a step

    @property
    def step_tokens(self) -> float:
        return self.batch * (self.tokens_forget_row + self.tokens_retain_row)

    @property
    def run_steps(self) -> int:
        return self.epochs * math.ceil(self.forget_rows / self.batch)

    @property
    def run_tokens(self) -> float:      # 1:1 pairing: as many retain rows as forget rows
        return self.epochs * self.forget_rows * (self.tokens_forget_row + self.tokens_retain_row)


def read_real_set(path: Path) -> RealSet:
    d = json.loads(path.read_text(encoding="utf-8"))
    w, p = d["whole_set"], d["passes"]
    return RealSet(forget_rows=w["train_rows"]["forget"], tokens_forget_row=w["train_tokens_per_row"]["forget"],
                   tokens_retain_row=w["train_tokens_per_row"]["retain"], eval_tf_tokens=w["tf_tokens"],
                   eval_prompts=w["prompts"], eval_prefill_tokens=w["prefill_tokens"],
                   answer_tokens_per_prompt=p["answer_tokens"] / p["prompts"], gen_limit=p["max_new_tokens"],
                   eval_batch=d["batch_size"])


MEMORY_CASES = (("full, fp32 AdamW", "full_fp32", False),
                ("full, fp32 AdamW, with a reference copy (NPO)", "full_fp32", True),
                ("full, bf16 + fp32 Adam", "full_bf16_adam32", False),
                ("full, bf16 + fp32 Adam, with a reference copy (NPO)", "full_bf16_adam32", True),
                ("LoRA r 8, frozen bf16 weights", "lora_bf16", False))


def memories(a: Arch, tokens: float) -> dict[str, dict[str, Any]]:
    """Every case of :data:`MEMORY_CASES`: GB in all, by part, and whether it fits one 80 GB H100."""
    out = {}
    for label, mode, ref in MEMORY_CASES:
        parts = train_memory(a, mode, tokens, reference=ref)
        out[label] = {"gb": parts["total"] / GB, "fits_80gb": parts["total"] <= H100_MEMORY_GB * GB,
                      "parts_gb": {k: v / GB for k, v in parts.items() if k != "total"}}
    return out


# --- the estimates -------------------------------------------------------------------------

def calibration(rs: RealSet, tune: dict[str, float], loop_real: dict[str, float], loop_tiny: dict[str, float] | None,
                eval_tf_tokens_s: float) -> list[dict[str, Any]]:
    """The FLOP/s each measurement on this CPU achieved (useful FLOPs: non-padding tokens)."""
    n = n_params(SMOLLM2_135M)
    mean_step = rs.run_tokens / rs.run_steps          # the default run's mean step (last batches are short)
    rows = [("NPO, LoRA r 8, 55 steps (tune.json)", "python bench/real/tune.py --methods npo --modes lora,full",
             tune.get("lora"), mean_step, n, True),
            ("NPO, full, 55 steps (tune.json)", "python bench/real/tune.py --methods npo --modes lora,full",
             tune.get("full"), mean_step, n, False),
            ("GradDiff, full, oblivio's loop (loop_overhead.txt)", "python bench/loop_overhead.py --model "
             "smollm2-135m-instruct --data real --steps 8 --warmup 2 --repeats 1 --threads 0",
             loop_real["ours_s"], rs.step_tokens, n, False),
            ("GradDiff, full, bare PyTorch loop (loop_overhead.txt)", "(same command)",
             loop_real["bare_s"], rs.step_tokens, n, False)]
    if loop_tiny and "parameters" in loop_tiny:
        rows.append(("GradDiff, full, the tiny model, oblivio's loop (loop_overhead_tiny.txt)",
                     "python bench/loop_overhead.py", loop_tiny["ours_s"], loop_tiny["tokens_per_step"],
                     loop_tiny["parameters"], False))
    out = []
    for what, cmd, sec, tok, params, lora in rows:
        if sec is None:
            continue
        f = train_flops(params, tok, lora=lora)
        out.append({"what": what, "command": cmd, "seconds_per_step": sec, "tokens_per_step": tok,
                    "parameters": params, "flops_per_step": f, "gflop_s": f / sec / 1e9})
    out.append({"what": "evaluation, teacher-forced pass, 1 thread (eval_speed.json)",
                "command": "python bench/eval_speed.py --model smollm2-135m-instruct --data real ...",
                "tokens_per_s": eval_tf_tokens_s, "parameters": n,
                "gflop_s": forward_flops(n, eval_tf_tokens_s) / 1e9})
    return out


def estimate(a: Arch, rs: RealSet, mfus: tuple[float, float]) -> dict[str, Any]:
    """Seconds (at the high and the low MFU: fast, slow) and bytes for one model on one H100."""
    n = n_params(a)

    def t(flops: float) -> list[float]:
        return [gpu_seconds(flops, m) for m in sorted(mfus, reverse=True)]
    wbytes = 2.0 * n                                  # bf16 weights, read once a decoding step
    answers = rs.eval_prompts * rs.answer_tokens_per_prompt
    steps_batched = math.ceil(rs.eval_prompts / rs.eval_batch) * rs.gen_limit
    fwd = t(forward_flops(n, rs.eval_tf_tokens + rs.eval_prefill_tokens))
    dec_compute = t(forward_flops(n, rs.eval_prompts * rs.gen_limit))   # rows × steps, finished rows too
    batched = [f + max(decode_seconds(wbytes, steps_batched), c) for f, c in zip(fwd, dec_compute)]
    batch1 = [f + decode_seconds(wbytes, answers) for f in fwd]
    return {"model": a.name, "parameters": n, "lora_r8_parameters": lora_params(a, 8),
            "step_s": {"full": t(train_flops(n, rs.step_tokens, lora=False)),
                       "lora": t(train_flops(n, rs.step_tokens, lora=True))},
            "run_s": {"full": t(train_flops(n, rs.run_tokens, lora=False)),
                      "lora": t(train_flops(n, rs.run_tokens, lora=True))},
            "eval_s": {"batched": batched, "batch1_bound": batch1, "forward_only": fwd,
                       "decode_memory_batched": decode_seconds(wbytes, steps_batched),
                       "decode_memory_batch1": decode_seconds(wbytes, answers)},
            "tofu_finetune_s": t(train_flops(n, TOFU_ROWS * TOFU_EPOCHS * TOFU_TOKENS_PER_ROW, lora=False)),
            "memory": memories(a, rs.step_tokens)}


# --- the output ----------------------------------------------------------------------------

def fmt_s(x: float) -> str:
    if x < 1:
        return f"{x * 1000:.3g} ms"
    if x < 120:
        return f"{x:.3g} s"
    if x < 7200:
        return f"{x / 60:.3g} min"
    return f"{x / 3600:.3g} h"


def span(v: list[float]) -> str:
    """fast–slow, in the unit of the slower."""
    return fmt_s(v[0]) if fmt_s(v[0]) == fmt_s(v[1]) else f"{fmt_s(v[0])} – {fmt_s(v[1])}"


def assumptions(rs: RealSet, mfus: tuple[float, float]) -> list[str]:
    return [
        f"one H100 SXM: {H100_BF16_FLOPS / 1e12:.0f} TFLOP/s dense BF16, {H100_HBM_BYTES_S / 1e12:.2f} TB/s HBM, "
        f"{H100_MEMORY_GB:.0f} GB; MFU {min(mfus):.0%}–{max(mfus):.0%} (assumed, not measured); bf16 compute",
        "FLOPs: training 6·N·T full, 4·N·T LoRA (no weight gradients), forward 2·N·T (Kaplan et al. 2020, "
        "arXiv 2001.08361, the 6·N·D rule); attention's quadratic term and NPO's cached reference passes left out",
        f"the default unlearning step: {rs.batch} forget + {rs.batch} retain rows of the real set's mean length "
        f"({rs.tokens_forget_row:.1f} and {rs.tokens_retain_row:.1f} tokens through SmolLM2's chat template): "
        f"{rs.step_tokens:.0f} tokens; the default run: {rs.epochs} epochs over {rs.forget_rows} forget rows = "
        f"{rs.run_steps} steps, {rs.run_tokens:.0f} tokens (the same token counts for every model: SmolLM2's "
        "tokenizer stands in for Llama's)",
        f"one evaluation of the real set: {rs.eval_tf_tokens} teacher-forced tokens + {rs.eval_prefill_tokens} "
        f"prompt tokens (forward), {rs.eval_prompts} greedy answers of {rs.answer_tokens_per_prompt:.1f} tokens "
        f"(the mean measured on the --limit subset), limit {rs.gen_limit}; decoding memory-bound (every step "
        f"reads the bf16 weights once): batched = ⌈{rs.eval_prompts}/{rs.eval_batch}⌉ batches × {rs.gen_limit} "
        "steps, the batch-1 bound = one read per answer token",
        f"TOFU full fine-tuning: {TOFU_ROWS} rows × {TOFU_EPOCHS} epochs × {TOFU_TOKENS_PER_ROW:.0f} tokens a row "
        "(SmolLM2's tokenizer on TOFU's question and answer)",
        "memory: weights + gradients + AdamW moments (16, 12 or 2 bytes a parameter, module docstring), LoRA r 8 "
        "adapters on the 7 projections at 16 bytes a parameter, activations 34·T·h·L bytes in 16-bit (×2 fp32; "
        "Korthikanti et al. 2022, arXiv 2205.05198), logits and their gradient in fp32 (8·T·V bytes); no "
        "allocator overhead, no CUDA context (~1 GB)",
        "not modelled: kernel-launch and Python overhead per step and per decoding step, which bound a small "
        "model's time (SmolLM2's GPU times above are floors, not predictions), loading the model, NPO's one "
        "reference pass over the forget rows, the base model's evaluation (cached after its first run)",
    ]


def render(rec: dict[str, Any]) -> str:
    """The Markdown page (also printed)."""
    lo, hi = min(rec["mfu"]), max(rec["mfu"])
    out = ["# Cost model: unlearning on one GPU (an estimate)", "",
           "Written by `python bench/cost_model.py`. Every GPU number here is an **estimate** from FLOP and "
           "byte counts and the assumptions below; none was measured on a GPU.", "",
           "## Measured on this CPU (the shared 2-core machine, under load)", "",
           "SmolLM2-135M-Instruct in fp32. Training: torch's default threads (2 cores), one run at a time; "
           "evaluation: 1 thread. Useful FLOPs: 6·N·T (full) or 4·N·T (LoRA) a step, 2·N·T a forward token; T "
           "the non-padding tokens.", "",
           "| measurement | s a step | tokens a step | achieved GFLOP/s | command |", "|---|---|---|---|---|"]
    for c in rec["calibration"]:
        sec = f"{c['seconds_per_step']:.3g}" if "seconds_per_step" in c else "–"
        tok = f"{c['tokens_per_step']:.0f}" if "tokens_per_step" in c else f"{c['tokens_per_s']:.0f} tokens/s"
        out.append(f"| {c['what']} | {sec} | {tok} | {c['gflop_s']:.1f} | `{c['command']}` |")
    out += ["", f"## One H100, MFU {hi:.0%} – {lo:.0%} (estimate)", "",
            "| model | parameters | step, full | step, LoRA r 8 | default run (full) | default run (LoRA) "
            "| evaluation of the real set (batched; batch-1 bound) | TOFU full fine-tuning |",
            "|---|---|---|---|---|---|---|---|"]
    for e in rec["estimates"]:
        ev = e["eval_s"]
        out.append(f"| {e['model']} | {e['parameters'] / 1e9:.3g} B | {span(e['step_s']['full'])} | "
                   f"{span(e['step_s']['lora'])} | {span(e['run_s']['full'])} | {span(e['run_s']['lora'])} | "
                   f"{span(ev['batched'])}; {span(ev['batch1_bound'])} | {span(e['tofu_finetune_s'])} |")
    cases = [label for label, _, _ in MEMORY_CASES]
    out += ["", "## Memory of one default step (estimate; GB, and whether it fits one 80 GB H100)", "",
            "| model | " + " | ".join(cases) + " |", "|---" * (len(cases) + 1) + "|"]
    for e in rec["estimates"]:
        m = e["memory"]
        out.append(f"| {e['model']} | " + " | ".join(
            f"{m[c]['gb']:.1f} {'fits' if m[c]['fits_80gb'] else '**does not fit**'}" for c in cases) + " |")
    out += ["", "## Assumptions", ""] + [f"- {x}" for x in rec["assumptions"]] + [""]
    return "\n".join(out)


def build(mfus: tuple[float, float]) -> dict[str, Any]:
    rs = read_real_set(RESULTS / "real" / "eval_speed.json")
    ev = json.loads((RESULTS / "real" / "eval_speed.json").read_text(encoding="utf-8"))["passes"]
    tiny_path = RESULTS / "loop_overhead_tiny.txt"
    cal = calibration(rs, tune_step_seconds(RESULTS / "real" / "tune.json"),
                      read_loop_overhead(RESULTS / "real" / "loop_overhead.txt"),
                      read_loop_overhead(tiny_path) if tiny_path.exists() else None,
                      ev["tf_tokens"] / ev["seconds"]["tf_ours"])
    real = {**asdict(rs), "step_tokens": rs.step_tokens, "run_steps": rs.run_steps, "run_tokens": rs.run_tokens}
    return {"estimate": True, "mfu": list(mfus), "assumptions": assumptions(rs, mfus), "real_set": real,
            "calibration": cal, "estimates": [estimate(a, rs, mfus) for a in ARCHS]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mfu", default="0.3,0.5", help="the model-FLOPs utilisation range, low,high")
    ap.add_argument("--out", default=str(RESULTS / "cost_model"), help="writes OUT.json and OUT.md")
    a = ap.parse_args()
    lo, hi = (float(x) for x in a.mfu.split(","))
    rec = build((lo, hi))
    page = render(rec)
    print(page)
    from oblivio.atomic import write_text
    write_text(a.out + ".json", json.dumps(rec, indent=1) + "\n")
    write_text(a.out + ".md", page)


if __name__ == "__main__":
    main()
