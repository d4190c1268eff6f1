"""`accelerate launch --cpu --num_processes 2` of an unlearning run: DDP without our own
distributed code. Each process trains on its shard; only the main process writes."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest


def test_two_process_unlearning_run(tmp_path):
    # accelerate's torchrun-based launcher; on a CPU-only machine oblivio selects the gloo
    # multi-CPU backend (engine/dist.py), so this is real data-parallel training
    # with MELU: a neighbour-aware sampler's epoch is sharded the same way
    _run_two_processes(tmp_path, ["--multi_gpu"], sampler="melu")


def tiny_jsonl_and_model(tmp_path):
    """16 rows (4 forget, 3 direct neighbours, 7 general, 2 holdout) and a nano model on them."""
    from oblivio.models.tiny import tiny_llama
    from oblivio.models.tokenizer import train_tokenizer
    rows = []
    for i in range(16):
        # forget: 4 targets; direct neighbours of targets 0-2; general rows; 2 holdout
        role = "forget" if i < 4 else "direct" if i < 7 else "general" if i < 14 else "holdout"
        row = {"id": f"r{i}", "question": f"What is person {i}'s job?", "answer": f"Person {i} is a job{i}.",
               "set": role, "key": f"job{i}", "entity": f"person {i}"}
        if role == "direct":
            row["targets"] = [f"person {i - 4}"]
        rows.append(row)
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    tok = train_tokenizer([r["question"] + " " + r["answer"] for r in rows] * 3, vocab_size=300)
    model = tiny_llama(len(tok), "nano", bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                       pad_token_id=tok.pad_token_id)
    model.save_pretrained(tmp_path / "model")
    tok.save_pretrained(tmp_path / "model")
    return data, tmp_path / "model"


def _run_two_processes(tmp_path, LAUNCH, sampler: str = "one_to_one_random"):
    data, _ = tiny_jsonl_and_model(tmp_path)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", *LAUNCH, "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "-m", "oblivio", "unlearn", "--model", str(tmp_path / "model"), "--data", str(data),
           "--steps", "3", "--sampler", sampler, "--out", str(out), "--quiet", "--set", "unlearn.train.batch_size=2",
           "--set", "eval.metrics=[accuracy,answer_prob]"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rec = json.loads((out / "results.json").read_text())
    assert rec["training"]["processes"] == 2 and rec["training"]["steps"] == 3
    assert rec["config"]["unlearn"]["sampler"] == sampler
    # 4 forget rows, batch 2 per process → each process sees 2 of every 4 pairs: 3 steps × 2 = 6
    assert rec["training"]["examples_per_process"] == 6
    assert (out / "model" / "model.safetensors").is_file()
    assert not (tmp_path / "run.partial").exists()


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="accelerate launch --cpu with N>1 processes needs "
                    "mpirun (Debian: openmpi-bin; .ci/run installs it)")
def test_two_process_cpu_launch_with_mpi(tmp_path, monkeypatch):
    # `accelerate launch --cpu --num_processes 2` starts its processes through mpirun
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("localhost slots=2\n")
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT", "1")
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    _run_two_processes(tmp_path, ["--cpu", "--mpirun_hostfile", str(hostfile)])


def test_scale_out_configs_parse(repo_root):
    """docs/scale-out.md's FSDP and DeepSpeed ZeRO-3 configs are valid Accelerate configs with
    the engine, sharding and state-dict settings the page describes (the runs need GPUs)."""
    from accelerate.commands.config.config_args import load_config_from_file
    docs = repo_root / "docs" / "scale-out"
    fsdp = load_config_from_file(str(docs / "fsdp.yaml"))
    assert str(fsdp.distributed_type).endswith("FSDP") and fsdp.num_processes == 2
    assert fsdp.fsdp_config["fsdp_version"] == 2 and fsdp.fsdp_config["fsdp_state_dict_type"] == "FULL_STATE_DICT"
    ds = load_config_from_file(str(docs / "deepspeed_zero3.yaml"))
    assert str(ds.distributed_type).endswith("DEEPSPEED")
    ds_file = repo_root / ds.deepspeed_config["deepspeed_config_file"]
    z = json.loads(ds_file.read_text())
    assert z["zero_optimization"]["stage"] == 3 and z["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"]
    assert "optimizer" not in z and "scheduler" not in z      # oblivio's own AdamW and schedule
