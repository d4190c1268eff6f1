"""bench/cost_model.py's formulas, by hand on a made-up model: parameter and LoRA-adapter counts
(also against a real transformers/peft model of the same shape and the published counts), the
6/4/2·N·T FLOP factors, bytes a parameter per training mode, the GPU time conversions, the
default run's steps and tokens, and the reading of the committed measurements."""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmod import load_bench

ROOT = Path(__file__).resolve().parents[1]


def _load():
    return load_bench("cost_model")


cm = _load()
# hidden 4, 2 layers, MLP 8, key/value width 2 (GQA), vocabulary 10
TOY = cm.Arch("toy", hidden=4, layers=2, intermediate=8, kv_dim=2, vocab=10, tied=False)
TOY_TIED = cm.Arch("toy-tied", hidden=4, layers=2, intermediate=8, kv_dim=2, vocab=10, tied=True)


def test_parameter_count_by_hand_and_the_published_counts():
    # a layer: q, o 2·4·4 = 32; k, v 2·4·2 = 16; gate, up, down 3·4·8 = 96; two norms 8 → 152
    # untied: 2·10·4 = 80 embeddings + 2·152 + final norm 4 = 388; tied: 40 + 304 + 4 = 348
    assert cm.n_params(TOY) == 388
    assert cm.n_params(TOY_TIED) == 348
    # each model's config.json parameter count (SmolLM2's: the converted folder's conversion.json)
    assert cm.n_params(cm.SMOLLM2_135M) == 134_515_008
    assert cm.n_params(cm.LLAMA_32_1B) == 1_235_814_400
    assert cm.n_params(cm.LLAMA_2_7B) == 6_738_415_616


def test_lora_adapter_count_by_hand():
    # r·(d_in + d_out): q, o (4+4) each, k, v (4+2) each, gate, up (4+8) each, down (8+4) → 64 a layer
    assert cm.lora_params(TOY, 2) == 2 * 2 * 64
    assert cm.lora_params(TOY, 8) == 4 * cm.lora_params(TOY, 2)


def test_counts_equal_a_real_model_of_that_shape():
    """The formulas count what transformers builds and peft adapts (oblivio's LoRA targets)."""
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from oblivio.config import ModelConfig
    cfg = LlamaConfig(hidden_size=8, num_hidden_layers=3, intermediate_size=12, num_attention_heads=4,
                      num_key_value_heads=2, vocab_size=20, tie_word_embeddings=False)
    arch = cm.Arch("made-up", hidden=8, layers=3, intermediate=12, kv_dim=2 * 8 // 4, vocab=20, tied=False)
    model = LlamaForCausalLM(cfg)
    assert sum(p.numel() for p in model.parameters()) == cm.n_params(arch)
    lora = get_peft_model(model, LoraConfig(r=3, lora_alpha=16, target_modules=ModelConfig().lora_targets))
    n_adapter = sum(p.numel() for n, p in lora.named_parameters() if "lora_" in n)
    assert n_adapter == cm.lora_params(arch, 3)


def test_flop_factors():
    assert cm.train_flops(1000, 10, lora=False) == 60_000        # 6·N·T
    assert cm.train_flops(1000, 10, lora=True) == 40_000         # 4·N·T: no weight gradients
    assert cm.forward_flops(1000, 10) == 20_000                  # 2·N·T
    assert cm.gpu_seconds(3e12, 0.5, peak=1e12) == pytest.approx(6.0)
    assert cm.decode_seconds(2e9, 10, bandwidth=1e12) == pytest.approx(0.02)   # 10 reads of 2 GB at 1 TB/s


def test_memory_bytes_per_parameter_and_activations():
    n, t = 388, 5
    act16 = 34 * t * 4 * 2                                        # 34·T·h·L bytes in 16-bit
    logits = 8 * t * 10
    full = cm.train_memory(TOY, "full_fp32", t)
    assert (full["weights"], full["gradients"], full["optimizer"]) == (4 * n, 4 * n, 8 * n)
    assert full["activations"] == 2 * act16 and full["logits"] == logits
    assert full["total"] == 16 * n + 2 * act16 + logits
    assert cm.train_memory(TOY, "full_fp32", t, reference=True)["total"] == 20 * n + 2 * act16 + logits
    bf16 = cm.train_memory(TOY, "full_bf16_adam32", t, reference=True)
    assert bf16["total"] == 12 * n + 2 * n + act16 + logits
    lora = cm.train_memory(TOY, "lora_bf16", t, reference=True, lora_r=2)
    # frozen bf16 weights, no gradients or moments for them, 16 bytes an adapter parameter, no copy
    assert lora["total"] == 2 * n + 16 * 256 + act16 + logits


def test_the_default_run_and_the_estimate_chain():
    rs = cm.RealSet(forget_rows=84, tokens_forget_row=50.0, tokens_retain_row=60.0, eval_tf_tokens=1000,
                    eval_prompts=130, eval_prefill_tokens=2000, answer_tokens_per_prompt=20.0, gen_limit=48,
                    eval_batch=64)
    assert rs.step_tokens == 8 * 110
    assert rs.run_steps == 5 * 11                      # ⌈84/8⌉ = 11 steps an epoch (the last one short)
    assert rs.run_tokens == 5 * 84 * 110
    e = cm.estimate(TOY, rs, (0.3, 0.5))
    n, peak = 388, cm.H100_BF16_FLOPS
    assert e["step_s"]["full"] == pytest.approx([6 * n * 880 / (peak * 0.5), 6 * n * 880 / (peak * 0.3)])
    assert e["step_s"]["lora"][0] == pytest.approx(4 * n * 880 / (peak * 0.5))
    assert e["run_s"]["full"][1] == pytest.approx(6 * n * 5 * 84 * 110 / (peak * 0.3))
    # ⌈130/64⌉ = 3 batches × 48 steps, each reading 2·N bytes; batch 1: 130·20 reads
    assert e["eval_s"]["decode_memory_batched"] == pytest.approx(3 * 48 * 2 * n / cm.H100_HBM_BYTES_S)
    assert e["eval_s"]["decode_memory_batch1"] == pytest.approx(130 * 20 * 2 * n / cm.H100_HBM_BYTES_S)
    assert e["tofu_finetune_s"][0] == pytest.approx(6 * n * 4000 * 5 * cm.TOFU_TOKENS_PER_ROW / (peak * 0.5))


def test_what_fits_one_h100():
    t = 16 * 53
    seven = cm.memories(cm.LLAMA_2_7B, t)
    assert not seven["full, fp32 AdamW"]["fits_80gb"]             # 16 · 6.74 B = 108 GB
    assert not seven["full, bf16 + fp32 Adam"]["fits_80gb"]       # 12 · 6.74 B = 81 GB, before activations
    assert seven["LoRA r 8, frozen bf16 weights"]["fits_80gb"]
    assert cm.memories(cm.LLAMA_32_1B, t)["full, fp32 AdamW, with a reference copy (NPO)"]["fits_80gb"]


def test_reads_the_committed_measurements():
    lo = cm.read_loop_overhead(ROOT / "bench" / "results" / "real" / "loop_overhead.txt")
    assert lo["ours_s"] == pytest.approx(8.48003) and lo["bare_s"] == pytest.approx(9.01308)
    assert lo["paired_ratio"] == pytest.approx(1.005)
    steps = cm.tune_step_seconds(ROOT / "bench" / "results" / "real" / "tune.json")
    assert 5.8 < steps["lora"] < 6.1 and 7.0 < steps["full"] < 7.4     # tune.md: 5.9–6.0 and 7.2 s a step
