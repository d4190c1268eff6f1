"""Apply deliberate bugs one at a time, run the fast formula tests, report which test catches each.

Complements mutmut (docs/mutation.md): the five bugs named in issue #10 (NPO sign, NPO on the
token mean, KL direction, logits shifted by one, KL counting prompt tokens) and hand-written
mutants of ``eval/passes.teacher_forced``, which mutmut 3 skips (it does not mutate decorated
functions). Every file is restored after each mutant, also on Ctrl-C.

    OMP_NUM_THREADS=1 PYTHONPATH=src python bench/named_mutants.py [--only NAME ...] [--tests FILE ...]
"""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/test_losses_hand.py", "tests/test_unlearning_step.py", "tests/test_passes_numeric.py",
         "tests/test_methods.py", "-k", "not test_every_method_changes_the_model"]
NPO = "src/oblivio/methods/npo.py"
OPS = "src/oblivio/methods/ops.py"
PASSES = "src/oblivio/eval/passes.py"

# name -> (file, original text, mutated text)
MUTANTS: dict[str, tuple[str, str, str]] = {
    "npo_sign_flipped": (NPO, "F.logsigmoid(-self.beta * (logp - ref))", "F.logsigmoid(self.beta * (logp - ref))"),
    "npo_token_mean": (NPO, "        ref = ctx.reference.seq_logprob(f)\n",
                       ("        ref = ctx.reference.seq_logprob(f)\n"
                        "        n = f['labels'][:, 1:].ne(-100).sum(-1)\n"
                        "        logp, ref = logp / n, ref / n\n")),
    "kl_reversed": (OPS, "kl = (logp.exp() * (logp - logq)).sum(-1)", "kl = (logq.exp() * (logq - logp)).sum(-1)"),
    "logits_shifted": (OPS, "    logits = logits[:, :-1, :]", "    logits = logits[:, 1:, :]"),
    "kl_counts_prompt": (OPS, 'mask = sub["labels"][:, 1:].ne(-100)', 'mask = sub["attention_mask"][:, 1:].bool()'),
    "kl_logits_shifted": (OPS, "logq = F.log_softmax(out.logits[:, :-1].float(), -1)",
                          "logq = F.log_softmax(out.logits[:, 1:].float(), -1)"),
    "passes_logits_shifted": (PASSES, ".logits[:, :-1].float()", ".logits[:, 1:].float()"),
    "passes_labels_unshifted": (PASSES, "tgt = labels[:, 1:]", "tgt = labels[:, :-1]"),
    "passes_softmax_wrong_dim": (PASSES, "logp_all = F.log_softmax(lg, -1)", "logp_all = F.log_softmax(lg, 0)"),
    "minkpp_mu_unweighted": (PASSES, "mu = (p * logp_all).sum(-1)", "mu = logp_all.mean(-1)"),
    "minkpp_var_sign": (PASSES, "- mu.square()", "+ mu.square()"),
    "minkpp_no_sqrt": (PASSES, "var.clamp_min(1e-12).sqrt()", "var.clamp_min(1e-12)"),
    "minkpp_numerator": (PASSES, "mkpp = (lp - mu)", "mkpp = (lp + mu)"),
    "minkpp_clamp_large": (PASSES, "var.clamp_min(1e-12)", "var.clamp_min(1.0)"),
    "exact_mem_argmin": (PASSES, "corr = lg.argmax(-1).eq(y)", "corr = lg.argmin(-1).eq(y)"),
    "passes_slices_not_advanced": (PASSES, "            s += n\n", ""),
    "passes_answer_mask_off": (PASSES, "amask = tgt.ne(-100)", "amask = tgt.ne(-100) | True"),
}


def run(name: str, tests: list[str]) -> tuple[str, list[str]]:
    path, old, new = MUTANTS[name]
    f = ROOT / path
    src = f.read_text()
    if src.count(old) != 1:
        return "NOT APPLIED (text not found once)", []
    try:
        f.write_text(src.replace(old, new))
        p = subprocess.run([sys.executable, "-m", "pytest", "-q", *tests],
                           check=False, cwd=ROOT, capture_output=True, text=True)
    finally:
        f.write_text(src)
    failed = [ln.split(" ")[1] for ln in p.stdout.splitlines() if ln.startswith("FAILED ")]
    return ("killed" if p.returncode else "SURVIVED"), failed


def main() -> None:
    # a SIGTERM (e.g. `timeout`) must still restore the mutated file: turn it into an exception
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="mutant names, or prefixes of them")
    ap.add_argument("--tests", nargs="*", default=None, help="test files to run (default: the formula tests)")
    a = ap.parse_args()
    names = [n for n in MUTANTS if a.only is None or any(n.startswith(o) for o in a.only)]
    for name in names:
        status, failed = run(name, a.tests or TESTS)
        print(f"{name:28s} {status:8s} {len(failed)} failing; first: {failed[0] if failed else '-'}", flush=True)


if __name__ == "__main__":
    main()
