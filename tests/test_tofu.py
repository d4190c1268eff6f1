"""TOFU loader (Maini et al. 2024) against the JSONL copy that OBLIVIO_TOFU_DIR names (conftest points it
at the copy beside the repository when there is one; see that copy's README)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from oblivio.data.samplers import get_sampler
from oblivio.data.schema import summarize
from oblivio.data.tofu import apply_neighbour_map, default_tofu_dir, load_tofu
from oblivio.errors import InputError

TOFU = default_tofu_dir()
pytestmark = pytest.mark.skipif(
    TOFU is None or not (TOFU / "forget.jsonl").is_file(),
    reason="TOFU JSONL files not found (set OBLIVIO_TOFU_DIR)")

# the README: forget10 = authors 180–199, forget05 = 190–199, forget01 = 198–199, 20 QA each
SIZES = {"forget01": (40, 2, 3960), "forget05": (200, 10, 3800), "forget10": (400, 20, 3600)}


@pytest.fixture(scope="module")
def forget01():
    return load_tofu("forget01", include_general=False, test_fraction=0.0)


def _index(item_id: str) -> int:
    return int(item_id.rsplit("_", 1)[1])


@pytest.mark.parametrize("split", list(SIZES))
def test_split_sizes_and_complement(split: str) -> None:
    n_forget, n_authors, n_retain = SIZES[split]
    d = load_tofu(split, root=TOFU, test_fraction=0.0, include_general=False)
    assert d.name == f"tofu:{split}" and d.neighbour_roles is False
    assert len(d.forget) == n_forget
    assert len(d.targets) == n_authors
    # forget rows are the last n_authors authors = the last n_forget rows of `full`
    assert sorted(_index(it.id) for it in d.forget) == list(range(4000 - n_forget, 4000))
    assert {it.targets for it in d.forget} == {(t,) for t in d.targets}
    retain = d.role("retain")
    assert len(retain) == n_retain                          # retain99/95/90 of the README
    assert sorted(_index(it.id) for it in retain) == list(range(0, 4000 - n_forget))
    assert not {it.id for it in d.forget} & {it.id for it in retain}
    assert not {(it.question, it.answer) for it in d.forget} & {(it.question, it.answer) for it in retain}
    assert not {it.entity for it in d.forget} & {it.entity for it in retain}


def test_forget_fields(forget01) -> None:
    for it in forget01.forget:
        assert it.paraphrased_question and it.paraphrased_answer
        assert len(it.perturbed_answers) == 5
        assert it.key is None                   # long sentences: accuracy is skipped
        assert it.entity == it.targets[0] and it.mentions == (it.entity,)
        assert it.fact == it.id
    assert forget01.targets == ("Basil Mahfouz Al-Kuwaiti", "Nikolai Abilov")


def test_general_rows_and_test_fraction() -> None:
    d = load_tofu("forget01", seed=1)
    counts = summarize(d.items)
    # TOFU's protocol: real authors and world facts are evaluation-only sets of their own, each
    # split into validation and test halves by row (TOFU's fact)
    assert (counts["real_authors_val"], counts["real_authors_test"]) == (50, 50)
    assert (counts["world_facts_val"], counts["world_facts_test"]) == (58, 59)
    assert not {"general", "general_test", "general_val"} & set(counts)
    assert all(it.key == it.answer for it in d.role("world_facts"))
    trained = load_tofu("forget01", seed=1, general_trained=True)   # the older mapping, on request
    tcounts = summarize(trained.items)
    assert tcounts["general"] + tcounts["general_test"] + tcounts["general_val"] == 217   # 100 + 117
    assert tcounts["general_test"] == tcounts["general_val"] == round(0.2 * 217)
    assert all(it.key == it.answer for it in trained.role("general"))
    # test_fraction splits retain by AUTHOR: 198 retain authors → 40 test authors and 40
    # validation authors, 20 rows each
    assert counts["retain_test"] == counts["retain_val"] == 40 * 20 and counts["retain"] == 118 * 20
    test_authors = {_index(it.id) // 20 for it in d.role("retain_test")}
    val_authors = {_index(it.id) // 20 for it in d.role("retain_val")}
    train_authors = {_index(it.id) // 20 for it in d.role("retain")}
    assert not test_authors & train_authors and not val_authors & (train_authors | test_authors)
    # the forget rows: all unlearned, half of them (by row) in each portion
    assert (counts["forget_val"], counts["forget_test"]) == (20, 20) and len(d.forget) == 40
    # seeded: same seed same split, another seed another
    assert {it.id for it in load_tofu("forget01", seed=1).role("retain_test")} == \
        {it.id for it in d.role("retain_test")}
    assert {it.id for it in load_tofu("forget01", seed=2).role("retain_test")} != \
        {it.id for it in d.role("retain_test")}
    # the samplers' input never holds a *_test row, nor an evaluation-only one
    assert {it.role for it in d.unlearning_retain()} == {"retain"}
    assert {it.role for it in d.trained()} == {"forget", "retain", "retain_val", "retain_test"}
    assert {it.role for it in trained.unlearning_retain()} == {"retain", "general"}


def test_n_retain_authors_and_holdout() -> None:
    d = load_tofu("forget05", n_retain_authors=6, holdout_authors=2, test_fraction=0.25,
                  include_general=False)
    counts = summarize(d.items)
    # 4 authors left once 2 are holdout: 1 test, 1 validation (one is left to unlearning)
    assert counts == {"forget_val": 100, "forget_test": 100, "retain": 40, "retain_val": 20, "retain_test": 20,
                      "holdout_val": 20, "holdout_test": 20}
    kept = {_index(it.id) // 20 for it in d.items if it.role != "forget"}
    assert kept == set(range(6))                   # the first six authors by index
    assert all(it not in d.trained() for it in d.role("holdout"))
    with pytest.raises(InputError) as e:
        load_tofu("forget01", n_retain_authors=3, holdout_authors=4)
    assert e.value.field == "holdout_authors"


def test_unknown_split_and_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        load_tofu("forget02")
    assert e.value.field == "split" and "forget01" in str(e.value)
    missing = tmp_path / "nowhere"
    with pytest.raises(InputError, match="nowhere"):
        load_tofu("forget01", root=missing)


def test_env_var_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OBLIVIO_TOFU_DIR", str(tmp_path))
    assert default_tofu_dir() == tmp_path
    with pytest.raises(InputError, match="forget.jsonl"):
        load_tofu("forget01")


def _write(tmp_path: Path, obj) -> Path:
    p = tmp_path / "map.json"
    p.write_text(json.dumps(obj) if not isinstance(obj, str) else obj, encoding="utf-8")
    return p


def test_neighbour_map(tmp_path: Path) -> None:
    base = load_tofu("forget01", n_retain_authors=12, test_fraction=0.25, seed=0)
    by_author = {}
    for it in base.items:
        if it.role in ("retain", "retain_test"):
            by_author.setdefault(it.entity, it.role)
    train = [a for a, r in by_author.items() if r == "retain"]
    test = [a for a, r in by_author.items() if r == "retain_test"]
    t1, t2 = base.targets
    m = {t1: {"direct": [train[0], test[0]], "indirect": [train[1]]},
         t2: {"direct": [train[2]], "indirect": [train[1], train[3]]},
         "Someone Not In forget01": {"direct": [train[4]]}}
    d = load_tofu("forget01", n_retain_authors=12, test_fraction=0.25, seed=0,
                  neighbour_map=_write(tmp_path, m))
    assert d.neighbour_roles is True and d.targets == base.targets
    role = {it.entity: (it.role, it.targets) for it in d.items if it.role != "forget"}
    assert role[train[0]] == ("direct", (t1,))
    assert role[test[0]] == ("direct_test", (t1,))
    assert role[train[1]] == ("indirect", (t1, t2))
    assert role[train[2]] == ("direct", (t2,))
    assert role[train[4]] == ("general", ())         # listed only under a non-target
    assert not any(it.role in ("retain", "retain_test", "retain_val") for it in d.items)
    assert len(d.items) == len(base.items)
    # the neighbour-aware samplers now work, and MELU pairs each target with its own rows
    forget, retain = d.forget, d.unlearning_retain()
    for name in ("direct_only", "indirect_only", "balanced", "melu"):
        assert get_sampler(name).epoch_pairs(forget, retain, epoch=0, seed=0)
    for i, j in get_sampler("melu").epoch_pairs(forget, retain, epoch=0, seed=0):
        if retain[j].role in ("direct", "indirect"):
            assert set(forget[i].targets) & set(retain[j].targets)
    # without a map they refuse, pointing at the map
    with pytest.raises(InputError, match="neighbour map"):
        get_sampler("melu").epoch_pairs(base.forget, base.unlearning_retain(), epoch=0, seed=0)


@pytest.mark.parametrize("content,field", [
    ("{not json", None),
    ("[]", None),
    ({"Nikolai Abilov": ["x"]}, "Nikolai Abilov"),
    ({"Nikolai Abilov": {"neighbours": ["x"]}}, "Nikolai Abilov.neighbours"),
    ({"Nikolai Abilov": {"direct": "x"}}, "Nikolai Abilov.direct"),
    ({"Nikolai Abilov": {"direct": [1]}}, "Nikolai Abilov.direct"),
    ({"Nobody": {"direct": ["x"]}}, "Nobody"),
])
def test_neighbour_map_errors(forget01, tmp_path: Path, content, field) -> None:
    p = _write(tmp_path, content)
    with pytest.raises(InputError) as e:
        apply_neighbour_map(forget01, p)
    assert e.value.file == str(p)
    assert e.value.field == field
    with pytest.raises(InputError, match="not found"):
        apply_neighbour_map(forget01, tmp_path / "absent.json")


def test_few_retain_authors_still_get_a_test_author() -> None:
    # 20% of 2 authors rounds to 0; the held-out portion must not vanish (utility per role, always)
    counts = summarize(load_tofu("forget01", n_retain_authors=2).items)
    assert counts["retain"] == 20 and counts["retain_test"] == 20
    assert "retain_test" not in summarize(load_tofu("forget01", n_retain_authors=1).items)
