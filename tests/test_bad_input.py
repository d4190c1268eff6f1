"""The bad-input corpus (issue 9, "Strict input"): every case exits 2 before any work.

Each case runs the CLI in-process and asserts: exit code 2; the message names the file /
line / field or the option; no traceback; no file created, changed or removed in the working
folder or in the model folders (a snapshot before and after). Categories: JSONL encoding,
JSON syntax, numbers, nesting, surrogates, fields (null, types, typos → did-you-mean), files,
config ranges (flags, --set, YAML), output paths and model folders. Fixture files are
generated in tmp_path; the model is a tiny random Llama built once per module.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from oblivio.cli import main

ROWS = [{"question": "Who is Ada Vell?", "answer": "Ada Vell is a baker.", "set": "forget", "entity": "Ada Vell"},
        {"question": "Who is Bo Rinn?", "answer": "Bo Rinn is a pilot.", "set": "retain", "entity": "Bo Rinn"}]
ROW = ROWS[1]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """A good tiny model folder plus broken variants (built once; cases copy what they change)."""
    from oblivio.models.io import save_model
    from oblivio.models.tiny import tiny_llama
    from oblivio.models.tokenizer import train_tokenizer
    root = tmp_path_factory.mktemp("models")
    tok = train_tokenizer([r["question"] + " " + r["answer"] for r in ROWS] * 20, vocab_size=300)
    kw = {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id,
          "max_position_embeddings": 64}
    save_model(tiny_llama(len(tok), "nano", **kw), tok, root / "good")
    save_model(tiny_llama(len(tok) - 16, "nano", **kw), tok, root / "small_vocab")
    import torch
    pkl = tiny_llama(len(tok), "nano", **kw)     # pickle weights: pytorch_model.bin, no safetensors
    pkl.config.save_pretrained(root / "pickle")
    torch.save(pkl.state_dict(), root / "pickle" / "pytorch_model.bin")
    tok.save_pretrained(root / "pickle")
    return {"root": root, "good": root / "good", "small_vocab": root / "small_vocab", "pickle": root / "pickle"}


def _snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for r in roots:
        for p in [r, *r.rglob("*")]:
            st = p.lstat()
            out[str(p)] = (st.st_size if p.is_file() else -1, st.st_mtime_ns if p.is_file() else 0)
    return out


def run_bad(argv: list[str], capsys, expect: list[str], *roots: Path) -> str:
    """Run ``oblivio argv``: exit 2, every ``expect`` string in stderr, no traceback, nothing touched."""
    before = _snapshot(*roots)
    with pytest.raises(SystemExit) as ei:
        main(argv)
    out = capsys.readouterr()
    text = out.out + out.err
    assert ei.value.code == 2, text
    assert "Traceback" not in text
    for e in expect:
        assert e in out.err, f"{e!r} not in {out.err!r}"
    assert _snapshot(*roots) == before, "files were created, changed or removed"
    return out.err


def _jsonl(rows: list) -> bytes:
    return ("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n").encode()


def _row(**kw) -> dict:
    return {**ROW, **kw}


def _alias_bomb(levels: int) -> bytes:
    lines = ["lol:", '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return ("\n".join(lines) + "\n").encode()


def _deep(n: int) -> str:
    return json.dumps(ROW)[:-1] + ', "meta": {"x": ' + "[" * n + "]" * n + "}}"


# ---- JSONL data: (id, file bytes or a maker, expected message parts) -------------------------
G = json.dumps(ROWS[0])
DATA_CASES: list[tuple[str, bytes | Callable[[Path], Path], list[str]]] = [
    ("utf16_bom", _jsonl(ROWS).decode().encode("utf-16"), ["UTF-16", "save it as UTF-8"]),
    ("utf16le_no_bom", _jsonl(ROWS).decode().encode("utf-16-le"), ["d.jsonl:1", "NUL byte"]),
    ("utf32_bom", _jsonl(ROWS).decode().encode("utf-32"), ["UTF-32"]),
    ("binary_garbage", bytes(range(256)) * 4, ["d.jsonl:1", "not text"]),
    ("binary_after_good_line", _jsonl([G]) + b"\x89PNG\r\n\x1a\n\x00\x00", ["d.jsonl:2", "UTF-8"]),
    ("latin1", _jsonl([G]) + json.dumps(_row(answer="café"), ensure_ascii=False).encode("latin-1"),
     ["d.jsonl:2", "not valid UTF-8", "0xe9"]),
    ("bad_utf8_line3", _jsonl([G, json.dumps(ROW)]) + b'{"question": "\xc3(", "answer": "x", "set": "retain"}',
     ["d.jsonl:3", "not valid UTF-8"]),
    ("question_null", _jsonl([G, _row(question=None)]), ["d.jsonl:2", "field 'question'", "null"]),
    ("answer_null", _jsonl([G, _row(answer=None)]), ["d.jsonl:2", "field 'answer'", "null"]),
    ("set_null", _jsonl([G, _row(set=None)]), ["d.jsonl:2", "field 'set'"]),
    ("question_number", _jsonl([G, _row(question=3)]), ["d.jsonl:2", "field 'question'", "int"]),
    ("question_float", _jsonl([G, _row(question=1.5)]), ["field 'question'", "float"]),
    ("answer_list", _jsonl([G, _row(answer=["a"])]), ["d.jsonl:2", "field 'answer'", "list"]),
    ("question_object", _jsonl([G, _row(question={"t": "q"})]), ["field 'question'", "dict"]),
    ("answer_bool", _jsonl([G, _row(answer=True)]), ["field 'answer'", "bool"]),
    ("id_int", _jsonl([G, _row(id=7)]), ["d.jsonl:2", "field 'id'"]),
    ("entity_null", _jsonl([G, _row(entity=None)]), ["field 'entity'", "null"]),
    ("key_bool", _jsonl([G, _row(key=False)]), ["field 'key'"]),
    ("paraphrased_question_null", _jsonl([G, _row(paraphrased_question=None)]),
     ["field 'paraphrased_question'"]),
    ("paraphrased_answer_int", _jsonl([G, _row(paraphrased_answer=0)]), ["field 'paraphrased_answer'"]),
    ("paraphrased_question_answer_without_question", _jsonl([G, _row(paraphrased_question_answer="x")]),
     ["d.jsonl:2", "field 'paraphrased_question_answer'", "needs the field 'paraphrased_question'"]),
    ("perturbed_answers_mixed", _jsonl([G, _row(perturbed_answers=["a", 2])]), ["field 'perturbed_answers'"]),
    ("perturbed_answers_null", _jsonl([G, _row(perturbed_answers=None)]), ["field 'perturbed_answers'"]),
    ("mentions_object", _jsonl([G, _row(mentions={"a": 1})]), ["field 'mentions'"]),
    ("targets_null_item", _jsonl([G, _row(targets=[None])]), ["field 'targets'"]),
    ("fact_list", _jsonl([G, _row(fact=["f"])]), ["field 'fact'"]),
    ("relation_int", _jsonl([G, _row(relation=5)]), ["field 'relation'"]),
    ("meta_string", _jsonl([G, _row(meta="notes")]), ["field 'meta'", "JSON object"]),
    ("meta_list", _jsonl([G, _row(meta=[1, 2])]), ["field 'meta'"]),
    ("typo_perturbed_answer", _jsonl([G, _row(perturbed_answer=["x"])]),
     ["d.jsonl:2", "field 'perturbed_answer'", "did you mean 'perturbed_answers'"]),
    ("typo_questoin", _jsonl([_row(questoin="q", set="forget")]), ["field 'questoin'", "did you mean 'question'"]),
    ("typo_Answer", _jsonl([G, _row(Answer="x")]), ["field 'Answer'", "did you mean 'answer'"]),
    ("typo_sets", _jsonl([G, _row(sets="retain")]), ["field 'sets'", "did you mean 'set'"]),
    ("typo_paraphrase_question", _jsonl([G, _row(paraphrase_question="q")]),
     ["did you mean 'paraphrased_question'"]),
    ("typo_target", _jsonl([G, _row(target=["Ada Vell"])]), ["field 'target'", "did you mean 'targets'"]),
    ("typo_entities", _jsonl([G, _row(entities=["Ada Vell"])]), ["field 'entities'", "did you mean 'entity'"]),
    ("unknown_field_foo", _jsonl([G, _row(foo=1)]), ["field 'foo'", "meta"]),
    ("tofu_field_in_user_data", _jsonl([G, _row(author="X")]), ["field 'author'"]),
    ("deep_meta", _jsonl([G, _deep(5000)]), ["d.jsonl:2", "nested"]),
    ("deep_line", _jsonl([G, "[" * 100000]), ["d.jsonl:2", "nested"]),
    ("deep_just_over_limit", _jsonl([G, _deep(40)]), ["d.jsonl:2", "nested"]),
    ("number_1e999", _jsonl([G, json.dumps(ROW)[:-1] + ', "meta": {"x": 1e999}}']), ["d.jsonl:2", "out of range"]),
    ("number_minus_1e999", _jsonl([G, json.dumps(ROW)[:-1] + ', "meta": {"x": -1e999}}']), ["out of range"]),
    ("nan_literal", _jsonl([G, json.dumps(ROW)[:-1] + ', "meta": {"x": NaN}}']), ["d.jsonl:2", "NaN"]),
    ("infinity_literal", _jsonl([G, json.dumps(ROW)[:-1] + ', "meta": {"x": -Infinity}}']), ["Infinity"]),
    ("int_5000_digits", _jsonl([G, json.dumps(ROW)[:-1] + ', "meta": {"x": ' + "9" * 5000 + "}}"]),
     ["d.jsonl:2", "out of range"]),
    ("int_2_pow_70", _jsonl([G, json.dumps(ROW)[:-1] + ', "meta": {"x": ' + str(2 ** 70) + "}}"]),
     ["d.jsonl:2", "field 'meta.x'", "out of range"]),
    ("lone_high_surrogate", _jsonl([G, json.dumps(ROW).replace("Who", "Who\\ud800")]),
     ["d.jsonl:2", "field 'question'", "surrogate"]),
    ("lone_low_surrogate", _jsonl([G, json.dumps(ROW).replace("pilot", "pilot\\udc00")]),
     ["field 'answer'", "surrogate"]),
    ("surrogate_in_list", _jsonl([G, _row(perturbed_answers=["ok", "\ud83d"])]),
     ["field 'perturbed_answers[1]'", "surrogate"]),
    ("surrogate_in_meta_key", _jsonl([G, json.dumps(ROW)[:-1] + ', "meta": {"k\\udfff": 1}}']), ["surrogate"]),
    ("duplicate_key", _jsonl([G, json.dumps(ROW)[:-1] + ', "question": "again"}']),
     ["d.jsonl:2", "'question' appears twice"]),
    ("line_is_array", _jsonl([G, "[1, 2]"]), ["d.jsonl:2", "expected a JSON object"]),
    ("json_array_file", json.dumps(ROWS, indent=1).encode(), ["d.jsonl:1", "JSONL"]),
    ("line_is_string", _jsonl([G, '"just text"']), ["d.jsonl:2", "expected a JSON object"]),
    ("line_is_null", _jsonl([G, "null"]), ["d.jsonl:2", "expected a JSON object"]),
    ("trailing_comma", _jsonl([G, json.dumps(ROW)[:-1] + ",}"]), ["d.jsonl:2", "invalid JSON"]),
    ("truncated_line", _jsonl([G, json.dumps(ROW)[:20]]), ["d.jsonl:2", "invalid JSON"]),
    ("single_quotes", _jsonl([G, "{'question': 'q'}"]), ["d.jsonl:2", "invalid JSON"]),
    ("question_whitespace", _jsonl([G, _row(question=" \t ")]), ["d.jsonl:2", "field 'question'", "empty"]),
    ("answer_empty", _jsonl([G, _row(answer="")]), ["field 'answer'", "empty"]),
    ("unknown_role", _jsonl([G, _row(set="keep")]), ["field 'set'", "unknown set role"]),
    ("role_as_list", _jsonl([G, _row(set=["retain"])]), ["field 'set'"]),
    ("missing_question", _jsonl([G, {"answer": "x", "set": "retain"}]), ["field 'question'", "missing"]),
    ("missing_set", _jsonl([G, {"question": "q", "answer": "x"}]), ["field 'set'", "missing"]),
    ("duplicate_id", _jsonl([_row(id="a", set="forget"), _row(id="a", question="Other?")]), ["duplicate id"]),
    ("no_forget_rows", _jsonl([ROW]), ["forget set is empty"]),
    ("forget_retain_overlap", _jsonl([G, ROW, {**ROWS[0], "set": "retain"}]), ["d.jsonl:3", "must not overlap"]),
    ("empty_file", b"", ["d.jsonl", "no items"]),
    ("whitespace_only_file", b"\n   \n\t\n", ["no items"]),
    ("nul_inside_line", _jsonl([G]) + b'{"question": "a\x00b"}\n', ["d.jsonl:2", "NUL"]),
    ("data_is_directory", lambda tmp: (tmp / "d.jsonl").mkdir() or tmp / "d.jsonl", ["directory, not a file"]),
    ("data_missing", lambda tmp: tmp / "d.jsonl", ["d.jsonl", "not found"]),
]


@pytest.mark.parametrize("make, expect", [c[1:] for c in DATA_CASES], ids=[c[0] for c in DATA_CASES])
def test_bad_data(make, expect, tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    if callable(make):
        data = make(tmp_path)
    else:
        data = tmp_path / "d.jsonl"
        data.write_bytes(make)
    run_bad(["unlearn", "--model", str(models["good"]), "--data", str(data), "--out", "run", "--quiet"],
            capsys, expect, tmp_path, models["root"])


# ---- config ranges: command-line flags, --set and YAML files ---------------------------------
CONFIG_CASES: list[tuple[str, list[str], list[str]]] = [
    ("lr_nan", ["--lr", "nan"], ["unlearn.train.lr", "finite"]),
    ("lr_inf", ["--lr", "inf"], ["unlearn.train.lr", "finite"]),
    ("lr_negative", ["--lr=-0.001"], ["unlearn.train.lr", "> 0"]),
    ("lr_zero", ["--lr", "0"], ["unlearn.train.lr"]),
    ("lr_not_a_number", ["--lr", "fast"], ["--lr", "invalid float"]),
    ("seed_negative", ["--seed", "-1"], ["field 'seed'", "≥ 0"]),
    ("seed_too_large", ["--seed", str(2 ** 40)], ["field 'seed'", "≤"]),
    ("steps_zero", ["--steps", "0"], ["unlearn.train.max_steps", "≥ 1"]),
    ("steps_negative", ["--steps", "-5"], ["unlearn.train.max_steps"]),
    ("steps_not_int", ["--steps", "1.5"], ["--steps", "invalid int"]),
    ("lora_r_negative", ["--lora-r", "-3"], ["model.lora_r", "≥ 0"]),
    ("eval_every_negative", ["--eval-every", "-1"], ["control.eval_every"]),
    ("eval_items_zero", ["--eval-items", "0"], ["control.eval_items"]),
    ("stop_utility_above_one", ["--stop-utility", "1.5"], ["control.stop_utility_tau"]),
    ("stop_utility_nan", ["--stop-utility", "nan"], ["control.stop_utility_tau"]),
    ("stop_utility_zero", ["--stop-utility", "0"], ["control.stop_utility_tau"]),
    *((f"set_{k.replace('.', '_')}_{v.strip('.-')}", ["--set", f"{k}={v}"], [k]) for k, v in (
        ("unlearn.train.batch_size", "0"), ("unlearn.train.grad_accum", "0"), ("unlearn.train.epochs", "0"),
        ("unlearn.train.epochs", "-1"), ("unlearn.train.epochs", ".nan"), ("unlearn.train.warmup", "-0.1"),
        ("unlearn.train.weight_decay", "-1"), ("unlearn.train.checkpoint_every", "-1"),
        ("unlearn.train.max_grad_norm", "0"), ("unlearn.train.seed", "-2"), ("unlearn.train.lr", ".inf"),
        ("unlearn.train.max_steps", "-1"), ("unlearn.train.schedule", "weird"),
        ("unlearn.train.mixed_precision", "fp8"), ("learn.lr", "0"), ("learn.batch_size", "0"),
        ("learn.grad_accum", "0"), ("learn.epochs", "0"), ("learn.warmup", ".nan"), ("eval.batch_size", "0"),
        ("eval.max_new_tokens", "0"), ("eval.max_items_per_role", "0"), ("eval.seed", "-1"),
        ("model.lora_r", "-1"), ("model.lora_alpha", "0"), ("model.vocab_size", "0"), ("model.dtype", "float8"),
        ("model.size", "huge"), ("control.eval_every", "-1"), ("control.gold_margin", ".inf"),
        ("control.gold_margin", "-1"), ("control.select_tau", "2"), ("control.utility_metric", "utilty"),
        ("control.forget_metric", "forgett/accuracy"), ("data.tofu_holdout_authors", "-1"),
        ("data.tofu_retain_authors", "-1"), ("unlearn.train.lr", "nan"), ("seed", "-1"),
        ("unlearn.train.lr", "1e999"), ("unlearn.train.lr", "-1e-4"))),
    ("lora_without_targets", ["--lora-r", "4", "--set", "model.lora_targets=[]"], ["model.lora_targets"]),
    *((f"set_{k.replace('.', '_')}_{v.strip('.-[]')}", ["--set", f"{k}={v}"], [k, why]) for k, v, why in (
        ("calibrate.tau", "0", "(0, 1]"), ("calibrate.tau", "1.5", "(0, 1]"), ("calibrate.tau", ".nan", "(0, 1]"),
        ("calibrate.tol", "1", "(0, 1)"), ("compare.calibrate", "0", "(0, 1]"), ("compare.seeds", "[-1]", "[0, "),
        ("calibrate.metric", "utilty", "did you mean"))),
    # method arguments: every number finite; a method's declared ranges (NPO: β > 0, α ≥ 0)
    ("npo_beta_zero", ["--method", "npo", "--set", "unlearn.args.beta=0"], ["unlearn.args.beta", "> 0"]),
    ("npo_alpha_negative", ["--method", "npo", "--set", "unlearn.args.alpha=-1"], ["unlearn.args.alpha", "≥ 0"]),
    ("simnpo_beta_negative", ["--method", "simnpo", "--set", "unlearn.args.beta=-2"], ["unlearn.args.beta"]),
    ("graddiff_alpha_nan", ["--set", "unlearn.args.alpha=.nan"], ["unlearn.args.alpha", "finite"]),
    ("npo_beta_inf", ["--method", "npo", "--set", "unlearn.args.beta=.inf"], ["unlearn.args.beta", "finite"]),
    # a range bounded on both sides (npo_me's mix ∈ [0, 1]): the side that failed, and the range
    ("npo_me_mix_above_one", ["--method", "npo_me", "--set", "unlearn.args.mix=1.5"],
     ["unlearn.args.mix", "≤ 1", "[0, 1]"]),
]


@pytest.mark.parametrize("flags, expect", [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES])
def test_bad_config_value(flags, expect, tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "d.jsonl"
    data.write_bytes(_jsonl(ROWS))
    run_bad(["unlearn", "--model", str(models["good"]), "--data", str(data), "--out", "run", "--quiet", *flags],
            capsys, expect, tmp_path, models["root"])


YAML_CASES = [
    ("yaml_lr_nan", b"unlearn:\n  train:\n    lr: .nan\n", ["c.yaml", "unlearn.train.lr"]),
    ("yaml_seed_negative", b"seed: -1\n", ["c.yaml", "field 'seed'"]),
    ("yaml_grad_accum_zero", b"learn:\n  grad_accum: 0\n", ["c.yaml", "learn.grad_accum"]),
    ("yaml_eval_batch_zero", b"eval:\n  batch_size: 0\n", ["c.yaml", "eval.batch_size"]),
    ("yaml_checkpoint_every_negative", b"unlearn:\n  train:\n    checkpoint_every: -1\n",
     ["c.yaml", "unlearn.train.checkpoint_every"]),
    ("yaml_utf16", "seed: 1\n".encode("utf-16"), ["c.yaml", "UTF-16"]),
    ("yaml_binary", b"\x00\x01\x02\x03", ["c.yaml", "not text"]),
    ("yaml_deep", b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", ["c.yaml"]),
    # plain YAML keeps the last of two equal keys silently. These cases end with an unknown key,
    # so that a loader letting the duplicate or alias through fails them at once (on that key)
    # instead of running the demo
    ("yaml_duplicate_key", b"unlearn:\n  train:\n    lr: 0.001\n    lr: 0.01\nzz: 1\n",
     ["c.yaml:4", "duplicate key 'lr'", "line 3"]),
    ("yaml_duplicate_top_key", b"seed: 1\nworld:\n  preset: tiny\nseed: 2\nzz: 1\n",
     ["c.yaml:4", "duplicate key 'seed'"]),
    ("yaml_duplicate_flow_key", b"unlearn: {method: npo, method: ga}\nzz: 1\n", ["c.yaml:1", "duplicate key 'method'"]),
    ("yaml_alias", b"learn:\n  lr: &lr 0.001\nunlearn:\n  train:\n    lr: *lr\nzz: 1\n", ["c.yaml:5", "alias", "*lr"]),
    # nine levels of nine aliases (9^9 leaves once expanded); under an unknown key, so that a
    # loader that let aliases through would fail this case on "unknown key", not run out of memory
    ("yaml_alias_bomb", _alias_bomb(9), ["c.yaml:3", "alias", "*l0"]),
]


@pytest.mark.parametrize("text, expect", [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES])
def test_bad_config_file(text, expect, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_bytes(text)
    run_bad(["demo", "--config", "c.yaml", "--out", "run", "--quiet"], capsys, expect, tmp_path)


def test_a_saved_config_and_a_commented_one_with_an_anchor_load(tmp_path):
    """The strict loader refuses duplicates and aliases only: every config.yaml oblivio writes
    (yaml.safe_dump of the resolved config) reads back equal, and an anchor without alias is fine."""
    import yaml

    from oblivio.config import Config, load_config, to_dict
    cfg = load_config(overrides={"unlearn": {"method": "npo", "train": {"lr": 3e-4}},
                                 "eval": {"metrics": ["accuracy"]}})
    f = tmp_path / "config.yaml"
    f.write_text(yaml.safe_dump(to_dict(cfg), sort_keys=False))
    assert load_config(f) == cfg != Config()
    f.write_text("# mine\nunlearn:\n  method: npo   # the loss\n  train: &t\n    lr: 0.0003\n")
    assert load_config(f).unlearn.train.lr == 3e-4


def test_duplicate_key_in_a_set_value(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # zz=1: were the duplicate let through, the case fails on that unknown key, not by running the demo
    run_bad(["demo", "--set", "unlearn.args={alpha: 1, alpha: 2}", "--set", "zz=1", "--out", "run", "--quiet"], capsys,
            ["unlearn.args", "duplicate key 'alpha'"], tmp_path)


def test_config_file_is_a_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").mkdir()
    run_bad(["demo", "--config", "c.yaml", "--quiet"], capsys, ["c.yaml", "directory"], tmp_path)


# ---- output paths: checked before any work ---------------------------------------------------
def _out_cases() -> list[tuple[str, Callable[[Path, Path], list[str]], list[str]]]:
    def unlearn(out: str) -> Callable[[Path, Path], list[str]]:
        return lambda tmp, model: ["unlearn", "--model", str(model), "--data", str(tmp / "d.jsonl"), "--out", out]

    def existing_file(tmp: Path, model: Path) -> list[str]:
        (tmp / "notes.txt").write_text("my thesis")
        return ["world", "--preset", "tiny", "--out", "notes.txt"]

    def existing_dir(cmd: str) -> Callable[[Path, Path], list[str]]:
        def f(tmp: Path, model: Path) -> list[str]:
            (tmp / "folder").mkdir()
            (tmp / "folder" / "keep.txt").write_text("keep")
            base = ["world", "--preset", "tiny"] if cmd == "world" else ["eval", "--model", str(model), "--data",
                                                                           str(tmp / "d.jsonl")]
            return [*base, "--out", "folder"]
        return f

    def under_file(tmp: Path, model: Path) -> list[str]:
        (tmp / "afile").write_text("x")
        return unlearn("afile/run")(tmp, model)

    def existing_run_file(tmp: Path, model: Path) -> list[str]:
        (tmp / "run").write_text("x")
        return unlearn("run")(tmp, model)

    def eval_missing(tmp: Path, model: Path) -> list[str]:
        return ["eval", "--model", str(model), "--data", str(tmp / "d.jsonl"), "--out", "missing/dir/r.json"]

    def eval_existing_json(tmp: Path, model: Path) -> list[str]:
        (tmp / "r.json").write_text("{}")
        return ["eval", "--model", str(model), "--data", str(tmp / "d.jsonl"), "--out", "r.json"]

    return [
        ("unlearn_out_proc", unlearn("/proc/x"), ["--out", "cannot write"]),
        ("unlearn_out_proc_nested", unlearn("/proc/x/y/z"), ["--out", "cannot write"]),
        ("unlearn_out_empty", unlearn(""), ["--out", "must not be empty"]),
        ("unlearn_out_blank", unlearn("   "), ["--out", "must not be empty"]),
        ("unlearn_out_under_a_file", under_file, ["--out", "is a file"]),
        ("unlearn_out_is_a_file", existing_run_file, ["--out", "existing file"]),
        ("demo_out_proc", lambda tmp, model: ["demo", "--out", "/proc/x"], ["--out", "cannot write"]),
        ("demo_out_empty", lambda tmp, model: ["demo", "--out", ""], ["--out", "must not be empty"]),
        ("learn_out_proc", lambda tmp, model: ["learn", "--out", "/proc/x"], ["--out", "cannot write"]),
        ("compare_out_proc", lambda tmp, model: ["compare", "--out", "/proc/x"], ["--out", "cannot write"]),
        ("world_out_existing_file", existing_file, ["notes.txt", "already exists", "--overwrite"]),
        ("world_out_existing_folder", existing_dir("world"), ["folder", "existing directory"]),
        ("world_out_proc", lambda tmp, model: ["world", "--out", "/proc/x.jsonl"], ["--out", "cannot write"]),
        ("world_out_empty", lambda tmp, model: ["world", "--out", ""], ["--out", "must not be empty"]),
        ("eval_out_missing_folder", eval_missing, ["--out", "does not exist"]),
        ("eval_out_existing_folder", existing_dir("eval"), ["--out", "existing directory"]),
        ("eval_out_existing_file", eval_existing_json, ["r.json", "already exists"]),
        ("eval_out_proc", lambda tmp, model: ["eval", "--model", str(model), "--out", "/proc/r.json"],
         ["--out", "cannot write"]),
    ]


OUT_CASES = _out_cases()


@pytest.mark.parametrize("make, expect", [c[1:] for c in OUT_CASES], ids=[c[0] for c in OUT_CASES])
def test_bad_output_path(make, expect, tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.jsonl").write_bytes(_jsonl(ROWS))
    argv = make(tmp_path, models["good"])
    run_bad([*argv, "--quiet"], capsys, expect, tmp_path, models["root"])


# ---- model folders ---------------------------------------------------------------------------
def _copy(models: dict[str, Path], tmp: Path, name: str = "good") -> Path:
    dst = tmp / "m"
    shutil.copytree(models[name], dst)
    return dst


def _edit_config(m: Path, **kw) -> Path:
    cfg = json.loads((m / "config.json").read_text())
    cfg.update(kw)
    (m / "config.json").write_text(json.dumps(cfg))
    return m


def _truncate(m: Path, keep: float) -> Path:
    f = m / "model.safetensors"
    data = f.read_bytes()
    f.write_bytes(data[:int(len(data) * keep)])
    return m


def _corrupt_header(m: Path) -> Path:
    f = m / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[8:40] = b"\xff" * 32
    f.write_bytes(bytes(data))
    return m


def _huge_header(m: Path) -> Path:
    f = m / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[:8] = (10 ** 12).to_bytes(8, "little")
    f.write_bytes(bytes(data))
    return m


def _checkpoint(tmp: Path, models) -> Path:
    m = tmp / "m"
    m.mkdir()
    shutil.copy(models["good"] / "model.safetensors", m / "model.safetensors")
    for f in ("optimizer.bin", "scheduler.bin", "random_states_0.pkl"):
        (m / f).write_bytes(b"state")
    return m


def _run_folder(tmp: Path, models) -> Path:
    r = tmp / "m"
    r.mkdir()
    shutil.copytree(models["good"], r / "model")
    (r / "results.json").write_text("{}")
    return r


def _shards(tmp: Path, models) -> Path:
    m = _copy(models, tmp)
    (m / "model.safetensors").unlink()
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors"}}
    (m / "model.safetensors.index.json").write_text(json.dumps(index))
    return m


def _rm(m: Path, *names: str) -> Path:
    for n in names:
        (m / n).unlink()
    return m


MODEL_CASES: list[tuple[str, Callable[[Path, dict], Path], list[str]]] = [
    ("missing_folder", lambda tmp, ms: tmp / "nope", ["nope", "model directory not found"]),
    ("hub_name", lambda tmp, ms: Path("meta-llama/Llama-2-7b-hf"), ["not found", "local"]),
    ("a_file", lambda tmp, ms: (tmp / "m").write_text("x") and tmp / "m", ["expected a model directory"]),
    ("empty_folder", lambda tmp, ms: (tmp / "m").mkdir() or tmp / "m", ["no config.json"]),
    ("run_folder", _run_folder, ["run folder, not a model", "model"]),
    ("training_checkpoint", _checkpoint, ["training checkpoint"]),
    ("checkpoint_subfolders", lambda tmp, ms: (tmp / "m" / "step-10").mkdir(parents=True) or tmp / "m",
     ["training checkpoint"]),
    ("config_not_json", lambda tmp, ms: (_copy(ms, tmp) / "config.json").write_text("{oops") and tmp / "m",
     ["config.json:1", "invalid JSON"]),
    ("config_a_list", lambda tmp, ms: (_copy(ms, tmp) / "config.json").write_text("[1]") and tmp / "m",
     ["config.json", "not a JSON object"]),
    ("config_utf16", lambda tmp, ms: (_copy(ms, tmp) / "config.json").write_bytes("{}".encode("utf-16"))
     and tmp / "m", ["config.json", "UTF-16"]),
    ("config_unknown_model_type", lambda tmp, ms: _edit_config(_copy(ms, tmp), model_type="nosuchmodel"),
     ["cannot load"]),
    ("no_tokenizer", lambda tmp, ms: _rm(_copy(ms, tmp), "tokenizer.json", "tokenizer_config.json"),
     ["no tokenizer"]),
    ("tokenizer_corrupt", lambda tmp, ms: (_copy(ms, tmp) / "tokenizer.json").write_text("{not json")
     and tmp / "m", ["tokenizer"]),
    ("no_weights", lambda tmp, ms: _rm(_copy(ms, tmp), "model.safetensors"), ["no weights"]),
    ("pickle_without_allow", lambda tmp, ms: _copy(ms, tmp, "pickle"), ["pickle", "--allow-pickle"]),
    ("safetensors_truncated_half", lambda tmp, ms: _truncate(_copy(ms, tmp), 0.5), ["truncated"]),
    ("safetensors_truncated_99", lambda tmp, ms: _truncate(_copy(ms, tmp), 0.99), ["truncated"]),
    ("safetensors_4_bytes", lambda tmp, ms: _truncate(_copy(ms, tmp), 0.0000001), ["model.safetensors", "corrupt"]),
    ("safetensors_empty", lambda tmp, ms: (_copy(ms, tmp) / "model.safetensors").write_bytes(b"") or tmp / "m",
     ["corrupt"]),
    ("safetensors_header_garbage", lambda tmp, ms: _corrupt_header(_copy(ms, tmp)), ["corrupt"]),
    ("safetensors_header_huge", lambda tmp, ms: _huge_header(_copy(ms, tmp)), ["corrupt or truncated"]),
    ("missing_shard", _shards, ["model-00001-of-00002.safetensors", "missing"]),
    ("shape_mismatch_hidden", lambda tmp, ms: _edit_config(_copy(ms, tmp), hidden_size=128),
     ["config.json and the weights disagree", "shape"]),
    ("shape_mismatch_vocab", lambda tmp, ms: _edit_config(_copy(ms, tmp), vocab_size=400), ["disagree"]),
    ("more_layers_than_weights", lambda tmp, ms: _edit_config(_copy(ms, tmp), num_hidden_layers=3),
     ["disagree", "missing from the weights"]),
    ("vocab_smaller_than_tokenizer", lambda tmp, ms: _copy(ms, tmp, "small_vocab"),
     ["vocabulary", "smaller than its tokenizer"]),
]


@pytest.mark.parametrize("make, expect", [c[1:] for c in MODEL_CASES], ids=[c[0] for c in MODEL_CASES])
def test_bad_model_folder(make, expect, tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "d.jsonl"
    data.write_bytes(_jsonl(ROWS))
    m = make(tmp_path, models)
    run_bad(["eval", "--model", str(m), "--data", str(data), "--out", "r.json", "--quiet"],
            capsys, [str(m), *expect], tmp_path, models["root"])


def test_bad_gold_folder(tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "d.jsonl"
    data.write_bytes(_jsonl(ROWS))
    gold = _truncate(_copy(models, tmp_path), 0.5)
    run_bad(["unlearn", "--model", str(models["good"]), "--gold", str(gold), "--data", str(data), "--out", "run",
             "--quiet"], capsys, [str(gold), "truncated"], tmp_path, models["root"])


# ---- what is accepted, and how ----------------------------------------------------------------
def test_meta_blank_lines_and_utf8_bom_are_accepted(tmp_path):
    from oblivio.data.schema import read_jsonl, write_jsonl
    f = tmp_path / "d.jsonl"
    rows = [{**ROWS[0], "meta": {"source": "interview 3", "score": [1, 2.5, None]}}, ROW]
    f.write_bytes(b"\xef\xbb\xbf" + _jsonl(rows).replace(b"\n", b"\n  \n\n", 1))
    items = read_jsonl(f)
    assert [it.meta for it in items] == [rows[0]["meta"], None]
    write_jsonl(items, tmp_path / "back.jsonl")     # meta survives a round trip
    assert read_jsonl(tmp_path / "back.jsonl")[0].meta == rows[0]["meta"]


def test_pickle_weights_load_only_when_allowed(models, capsys):
    from oblivio.errors import InputError
    from oblivio.models.io import load_model
    with pytest.raises(InputError, match="--allow-pickle"):
        load_model(models["pickle"])
    model, tok = load_model(models["pickle"], allow_pickle=True)
    assert model.get_input_embeddings().weight.shape[0] == len(tok)


def test_trust_remote_code_and_allow_pickle_never_come_from_a_config_file(tmp_path, capsys):
    from oblivio.config import load_config
    f = tmp_path / "config.yaml"
    f.write_text("model:\n  trust_remote_code: true\n  allow_pickle: true\n")
    cfg = load_config(f)
    assert cfg.model.trust_remote_code is False and cfg.model.allow_pickle is False
    err = capsys.readouterr().err
    assert "model.trust_remote_code: true is ignored" in err and "--trust-remote-code" in err
    assert "model.allow_pickle" in err
    # the command line (here: overrides) does enable them
    cfg = load_config(f, {"model": {"trust_remote_code": True, "allow_pickle": True}})
    assert cfg.model.trust_remote_code and cfg.model.allow_pickle


def test_cli_flags_enable_allow_pickle(tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "d.jsonl"
    data.write_bytes(_jsonl(ROWS))
    with pytest.raises(SystemExit) as ei:
        main(["eval", "--model", str(models["pickle"]), "--data", str(data), "--allow-pickle", "--quiet",
              "--set", "eval.max_new_tokens=4"])
    assert ei.value.code == 0, capsys.readouterr().err


def _long_rows() -> list[dict]:
    long_q = " ".join(f"word{i}" for i in range(10_000)) + "?"    # > 10k tokens
    huge_a = "Bo Rinn is " + "very " * 200_000 + "tall."          # ~1 MB
    return [ROWS[0], {**ROW, "question": long_q}, {"question": "Who is Cy?", "answer": huge_a, "set": "retain",
                                                   "perturbed_answers": [huge_a, "short"]}]


def test_fit_to_context_bounds_every_encoding(models):
    from oblivio.data.collate import encode_pair
    from oblivio.data.context import fit_to_context, model_context
    from oblivio.data.schema import UnlearningData, item_from_json
    from oblivio.models.format import PromptFormat, encode_prompt
    from oblivio.models.io import load_model
    model, tok = load_model(models["good"])
    ctx = model_context(model, tok)
    assert ctx == 64
    data = UnlearningData([item_from_json(r, file="d", line=i) for i, r in enumerate(_long_rows(), 1)])
    fitted, rec = fit_to_context(data, tok, ctx)
    assert rec is not None and rec["items"] == 2 and rec["context"] == 64
    assert rec["fields"] == {"question": 1, "answer": 1, "perturbed_answers": 1}
    assert fitted.items[0] == data.items[0]                       # a short item is untouched
    fmt = PromptFormat()
    for it in fitted.items:
        for a in (it.answer, *it.perturbed_answers):
            e = encode_pair(tok, fmt, it.question, a, max_len=10 ** 9)
            assert len(e.prompt) <= ctx // 2 and len(e.prompt) + len(e.answer) <= ctx
    # the cut keeps the start, and as much as fits (not an over-eager cut)
    q = fitted.items[1].question
    assert _long_rows()[1]["question"].startswith(q) and len(encode_prompt(tok, fmt, q)) >= ctx // 2 - 2
    assert fitted.items[2].perturbed_answers[1] == "short"


def test_long_question_and_huge_answer_are_truncated_and_stated(tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "d.jsonl"
    data.write_bytes(_jsonl(_long_rows()))
    assert data.stat().st_size > 1_000_000
    with pytest.raises(SystemExit) as ei:
        main(["eval", "--model", str(models["good"]), "--data", str(data), "--quiet", "--out", "r.json",
              "--set", "eval.max_new_tokens=4"])
    out = capsys.readouterr()
    assert ei.value.code == 0, out.err
    # a warning (it changes what is evaluated): on stderr, and shown under --quiet too
    assert "oblivio: warning: 2 item(s) longer than the model's context were truncated to it (64 tokens" in out.err


def test_compare_names_a_broken_model_before_any_evaluation(tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "d.jsonl"
    data.write_bytes(_jsonl(ROWS))
    m = _truncate(_copy(models, tmp_path), 0.5)
    run_bad(["compare", "--model", str(models["good"]), "--gold", str(m), "--data", str(data), "--methods", "ga",
             "--samplers", "one_to_one_random", "--steps", "1", "--out", "cmp", "--quiet"],
            capsys, [str(m), "truncated"], tmp_path, models["root"])


def test_unlearn_run_states_the_truncation(tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "d.jsonl"
    data.write_bytes(_jsonl(_long_rows()))
    with pytest.raises(SystemExit) as ei:
        main(["unlearn", "--model", str(models["good"]), "--data", str(data), "--out", "run", "--steps", "1",
              "--no-eval", "--quiet", "--set", "unlearn.train.batch_size=2"])
    assert ei.value.code == 0, capsys.readouterr().err
    rec = json.loads((tmp_path / "run" / "results.json").read_text())
    assert rec["data"]["truncated"]["items"] == 2 and rec["data"]["truncated"]["context"] == 64
    assert "2 item(s) longer than the model's context were truncated" in (tmp_path / "run" / "summary.md").read_text()


@pytest.mark.parametrize("over", [
    {"seed": 0}, {"seed": 2 ** 32 - 1}, {"model": {"lora_r": 0}}, {"unlearn": {"train": {"max_steps": 1}}},
    {"unlearn": {"train": {"warmup": 0, "weight_decay": 0, "checkpoint_every": 0, "grad_accum": 1,
                           "batch_size": 1, "epochs": 0.5, "lr": 1e-9}}},
    {"eval": {"batch_size": 1, "max_new_tokens": 1}}, {"control": {"eval_every": 0, "eval_items": 1}},
    {"control": {"utility_metric": "retain_test/accuracy", "select_tau": 1}},
    {"unlearn": {"train": {"lr": "1e-4"}}},     # `--set unlearn.train.lr=1e-4`: YAML reads a string
    {"calibrate": {"tau": 1.0, "tol": 0.5}}, {"compare": {"calibrate": 1.0, "seeds": [0, 2 ** 32 - 1]}},
    {"unlearn": {"method": "npo", "args": {"beta": 1e-6, "alpha": 0}}},
])
def test_boundary_values_are_accepted(over):
    from oblivio.config import load_config
    load_config(overrides=over)


def test_world_file_reads_back_strictly_and_overwrite_replaces(tmp_path, capsys, monkeypatch):
    from oblivio.data.schema import read_jsonl
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.jsonl").write_text("old")
    with pytest.raises(SystemExit) as ei:
        main(["world", "--preset", "tiny", "--out", "w.jsonl", "--overwrite", "--quiet"])
    assert ei.value.code == 0, capsys.readouterr().err
    items = read_jsonl(tmp_path / "w.jsonl")      # every field the world writes is a known field
    assert len(items) > 10 and {it.role for it in items} >= {"forget", "direct"}


NMAP_CASES = [
    ("nmap_utf16", '{"Ada Vell": {"direct": ["Bo Rinn"]}}'.encode("utf-16"), ["map.json", "UTF-16"]),
    ("nmap_deep", b'{"Ada Vell": ' + b"[" * 3000 + b"]" * 3000 + b"}", ["map.json", "nested"]),
    ("nmap_bad_json", b'{"Ada Vell": {"direct": ["Bo Rinn"]},\n}', ["map.json:2", "invalid JSON"]),
    ("nmap_surrogate", b'{"Ada Vell\\ud800": {"direct": []}}', ["map.json", "surrogate"]),
    ("nmap_empty", b"  \n", ["map.json", "empty"]),
]


@pytest.mark.parametrize("text, expect", [c[1:] for c in NMAP_CASES], ids=[c[0] for c in NMAP_CASES])
def test_bad_neighbour_map(text, expect, tmp_path, capsys, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.jsonl").write_bytes(_jsonl(ROWS))
    (tmp_path / "map.json").write_bytes(text)
    run_bad(["unlearn", "--model", str(models["good"]), "--data", "d.jsonl", "--neighbour-map", "map.json",
             "--out", "run", "--quiet"], capsys, expect, tmp_path, models["root"])
