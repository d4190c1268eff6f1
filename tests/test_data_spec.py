"""``--data`` names built-in data only by an explicit scheme (issue 21, item 4): ``world``,
``world:<preset>``, ``tofu``, ``tofu:<split>``; every other string is a file whatever it is
called (``world_custom.jsonl`` was the embedded world, ``tofu_subset.jsonl`` TOFU), and a
missing one is named with a did-you-mean for a mistyped scheme (oblivio/data/spec.py)."""
from __future__ import annotations

import json

import pytest

from oblivio.errors import InputError

ROWS = [{"question": "Who is Ada Vell?", "answer": "Ada Vell is a baker.", "set": "forget", "entity": "Ada Vell"},
        {"question": "Who is Bo Rinn?", "answer": "Bo Rinn is a pilot.", "set": "retain", "entity": "Bo Rinn"}]


@pytest.mark.parametrize("name", ["world_custom.jsonl", "tofu_subset.jsonl", "world", "tofu"])
def test_a_file_is_a_file_whatever_its_name(tmp_path, monkeypatch, name):
    """`world_custom.jsonl` was the embedded world, `tofu_subset.jsonl` TOFU (a prefix test);
    a file called exactly `world` is reached as ./world (the bare word is the scheme)."""
    from oblivio import api
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    spec = name if name not in ("world", "tofu") else f"./{name}"
    for given in (spec, str(tmp_path / name), tmp_path / name):
        d = api.load_data(given)
        assert [it.question for it in d.items] == [r["question"] for r in ROWS], given


def test_the_resolved_config_keeps_a_file_as_its_absolute_path(tmp_path, monkeypatch):
    from oblivio.config import Config
    from oblivio.pipeline.resume import run_config
    monkeypatch.chdir(tmp_path)
    kw = dict(model=None, gold=None, evaluate_models=None, method=None, method_args=None, sampler=None)
    assert run_config(Config(), data="tofu_subset.jsonl", **kw).data.path == str(tmp_path / "tofu_subset.jsonl")
    assert run_config(Config(), data="world:tiny", **kw).data.path == "world:tiny"
    assert run_config(Config(), data="tofu:forget05", **kw).data.path == "tofu:forget05"


def test_refusals_follow_the_scheme_not_the_file_name():
    from oblivio.data.refusals import refusals_for, world_refusals
    assert refusals_for("tofu_subset.jsonl") == world_refusals()      # not TOFU's idk.jsonl


def test_world_schemes_still_name_the_world():
    from oblivio import api
    from oblivio.config import load_config
    cfg = load_config(overrides={"world": {"preset": "tiny"}})
    a, b = api.load_data("world", cfg), api.load_data("world:tiny", load_config())
    assert a.source == b.source and len(a.items) == len(b.items) > 0


def test_tofu_scheme_still_names_tofu():
    from oblivio import api
    from oblivio.data.tofu import default_tofu_dir
    root = default_tofu_dir()
    if root is None or not (root / "forget.jsonl").is_file():
        pytest.skip("TOFU JSONL files not found (set OBLIVIO_TOFU_DIR)")
    from oblivio.config import load_config
    cfg = load_config(overrides={"data": {"tofu_general": False}})
    assert api.load_data("tofu:forget01", cfg).name == "tofu:forget01"


@pytest.mark.parametrize("spec, expect", [
    ("word:default", "did you mean 'world:default'"),
    ("tofu-forget01", "did you mean 'tofu:forget01'"),
    ("forget05", "did you mean 'tofu:forget05'"),
    ("missing.jsonl", "data file not found"),
    ("world:", "needs a name after the colon"),
])
def test_a_missing_path_is_named_with_a_did_you_mean(tmp_path, monkeypatch, spec, expect):
    from oblivio import api
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=expect.replace("(", r"\(")) as ei:
        api.load_data(spec)
    assert ei.value.field == "data.path"
    if spec.endswith(".jsonl"):
        assert ei.value.file == spec and "did you mean" not in str(ei.value)


def test_saved_config_paths_are_absolute_and_names_stay(tmp_path, monkeypatch):
    """config.yaml reproduces a run from any folder: data, neighbour map, model and gold paths
    become absolute; a scheme and a registered model name stay as given."""
    from oblivio.config import load_config
    from oblivio.pipeline.resume import run_config
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "my.jsonl").write_text("{}\n")
    (tmp_path / "data" / "map.json").write_text("{}")
    (tmp_path / "models" / "base").mkdir(parents=True)
    cfg = load_config(overrides={"data": {"neighbour_map": "data/map.json"}})
    out = run_config(cfg, model="models/base", data="data/my.jsonl", gold=None, evaluate_models=None,
                     method=None, method_args=None, sampler=None)
    assert out.data.neighbour_map == str(tmp_path / "data" / "map.json")
    assert out.data.path == str(tmp_path / "data" / "my.jsonl")
    assert out.model.path == str(tmp_path / "models" / "base")
    out = run_config(cfg, model="smollm2-135m-instruct", data="world:tiny", gold=None, evaluate_models=None,
                     method=None, method_args=None, sampler=None)
    assert out.model.path == "smollm2-135m-instruct" and out.data.path == "world:tiny"


def test_real_scheme_names_the_shipped_real_knowledge_set():
    from oblivio.data.spec import data_scheme, real_set
    from oblivio.resolve import load_data
    assert data_scheme("real") == ("real", "") and data_scheme("real:smollm2") == ("real", "smollm2")
    d = load_data("real")
    assert d.name == "real:smollm2" and set(d.targets) == {"Albert Einstein", "William Shakespeare"}
    from oblivio.roles import base_role, eval_name
    sets = {eval_name(it.role, it.portion) for it in d.items}
    assert {"forget_val", "forget_test", "direct", "direct_val", "direct_test", "indirect", "indirect_val",
            "indirect_test", "general", "general_val", "general_test", "holdout_val", "holdout_test"} == sets
    # validation and test portions, disjoint by fact, in every evaluated role; the portion is the
    # one the set's builder recorded in meta.split (bench/real/build_real_data.py)
    for base in ("forget", "direct", "indirect", "general", "holdout"):
        facts: dict[str, set[str | None]] = {}
        for it in d.items:
            name = eval_name(it.role, it.portion)
            if base_role(name) == base and it.portion is not None:
                assert it.portion == it.meta["split"], it.id
                facts.setdefault(it.portion, set()).add(it.fact)
        assert set(facts) == {"val", "test"} and not facts["val"] & facts["test"], base
    assert all(it.key and it.key.lower() in it.answer.lower() for it in d.items)
    assert all(it.paraphrased_question for it in d.forget)
    with pytest.raises(InputError, match="no real-knowledge set 'nope'; shipped: smollm2"):
        real_set("nope")
