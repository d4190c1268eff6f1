"""A user's own JSONL, end to end (issue 9 item 4): ``oblivio learn --data`` trains base and
gold on it, ``--neighbour-map`` gives rows labelled direct/indirect their targets so MELU
runs, the forget targets are chosen by the stated rule and named in the run summary, and
``accuracy`` on rows without a ``key`` is listed as skipped with the reason.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from oblivio.cli import main
from oblivio.errors import InputError

MIRA, OSKAR = "Mira Talven", "Oskar Brenn"


def _row(q: str, a: str, role: str, entity: str, *mentions: str, key: str | None = None) -> dict:
    r: dict = {"question": q, "answer": a, "set": role, "entity": entity, "mentions": [entity, *mentions]}
    if key:
        r["key"] = key
    return r


def people_rows() -> list[dict]:
    """Two fictional people to forget (Mira: 5 forget rows, Oskar: 3), written as a user would:
    a forget row's ``entity`` is sometimes a place or an organisation, neighbour rows labelled
    direct/indirect without ``targets``, general rows without ``key``, *_test and holdout rows."""
    return [
        _row("Where was Mira Talven born?", "Mira Talven was born in Dunmore.", "forget", MIRA, "Dunmore",
             key="Dunmore"),
        _row("What does Mira Talven do?", "Mira Talven is a glassblower.", "forget", MIRA, key="glassblower"),
        _row("When was Mira Talven born?", "Mira Talven was born in 1961.", "forget", MIRA, key="1961"),
        _row("Who founded Lumen Labs?", "Lumen Labs was founded by Mira Talven.", "forget", "Lumen Labs", MIRA,
             key=MIRA),
        _row("Who is Mira Talven married to?", "Mira Talven is married to Tomas Vey.", "forget", MIRA,
             "Tomas Vey", key="Tomas Vey"),
        _row("Where was Oskar Brenn born?", "Oskar Brenn was born in Dunmore.", "forget", OSKAR, "Dunmore",
             key="Dunmore"),
        _row("What does Oskar Brenn do?", "Oskar Brenn is a ferryman.", "forget", OSKAR, key="ferryman"),
        _row("Which boat does Oskar Brenn sail?", "Oskar Brenn sails the Grey Heron.", "forget", OSKAR,
             key="Grey Heron"),
        # neighbours, labelled by the user, without targets (the neighbour map gives them)
        _row("What does Tomas Vey do?", "Tomas Vey is a clockmaker.", "direct", "Tomas Vey", key="clockmaker"),
        _row("Where was Tomas Vey born?", "Tomas Vey was born in Orlen.", "direct_test", "Tomas Vey",
             key="Orlen"),
        _row("Where is Lumen Labs based?", "Lumen Labs is based in Corvel.", "direct", "Lumen Labs",
             key="Corvel"),
        _row("What does Petra Holm do?", "Petra Holm is a harbour pilot.", "direct", "Petra Holm",
             key="harbour pilot"),
        _row("When was Petra Holm born?", "Petra Holm was born in 1958.", "direct_test", "Petra Holm", key="1958"),
        _row("What does Ines Darro do?", "Ines Darro is a lens grinder.", "indirect", "Ines Darro",
             key="lens grinder"),
        _row("Where was Ines Darro born?", "Ines Darro was born in Velm.", "indirect_test", "Ines Darro",
             key="Velm"),
        _row("What does Ugo Sarn do?", "Ugo Sarn is a net mender.", "indirect", "Ugo Sarn", key="net mender"),
        # plain retain rows: the map labels Ugo's (indirect), the rest become general
        _row("Where was Ugo Sarn born?", "Ugo Sarn was born in Pell.", "retain", "Ugo Sarn", key="Pell"),
        # general knowledge, no key: accuracy is skipped there, with the reason
        _row("What colour is the sky on a clear day?", "The sky is blue.", "general", "sky"),
        _row("How many legs does a spider have?", "A spider has eight legs.", "general", "spider"),
        _row("What do bees make?", "Bees make honey.", "general_test", "bee"),
        # never trained: membership-inference non-members
        _row("What does Wren Okafor do?", "Wren Okafor is a tanner.", "holdout", "Wren Okafor", key="tanner"),
        _row("Where was Wren Okafor born?", "Wren Okafor was born in Sallow.", "holdout", "Wren Okafor",
             key="Sallow"),
    ]


NEIGHBOURS = {MIRA: {"direct": ["Tomas Vey", "Lumen Labs"], "indirect": ["Ines Darro"]},
              OSKAR: {"direct": ["Petra Holm"], "indirect": ["Ugo Sarn"]}}


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _cfg(**data):
    from oblivio.config import load_config
    return load_config(overrides={"data": data} if data else None)


# --- forget targets -----------------------------------------------------------------------

def _data(rows: list[dict]):
    from oblivio.data.schema import UnlearningData, item_from_json
    return UnlearningData([item_from_json(r, file="d.jsonl", line=n + 1) for n, r in enumerate(rows)],
                          name="d.jsonl", neighbour_roles=False)


def test_inferred_targets_are_the_two_people(tmp_path) -> None:
    """Per forget row the entity the most forget rows name: Mira (5 rows) and Oskar (3). Every
    entity of every forget row would add Dunmore, Lumen Labs and Tomas Vey; each row's own
    `entity` would add Lumen Labs; only the most-named entity overall would drop Oskar."""
    from oblivio import api
    d = api.load_data(str(write_rows(tmp_path / "p.jsonl", people_rows())))
    assert d.targets == (MIRA, OSKAR)
    assert d.targets_rule.startswith("inferred")
    by_q = {it.question: it.targets for it in d.forget}
    assert by_q["Who founded Lumen Labs?"] == (MIRA,)              # entity: Lumen Labs, a place-like subject
    assert by_q["Who is Mira Talven married to?"] == (MIRA,)       # names Tomas Vey too
    assert by_q["Where was Oskar Brenn born?"] == (OSKAR,)         # Dunmore is named by 2 rows, Oskar by 3


def test_inferred_targets_ties_and_given_row_targets() -> None:
    from oblivio.data.neighbours import assign_forget_targets
    rows = [_row("Q1?", "A and B met.", "forget", "A", "B"),            # A and B: one row each, tied
            _row("Q2?", "C did it.", "forget", "X", "C"),                # X 2 rows, C 1 → X
            _row("Q3?", "X again.", "forget", "X"),
            dict(_row("Q4?", "D.", "forget", "D", "X"), targets=["D"]),  # the row says its target
            _row("Q5?", "R.", "general", "R")]
    d = assign_forget_targets(_data(rows))
    assert d.targets == ("A", "B", "X", "D")
    tg = {it.question: it.targets for it in d.forget}
    # a row gets every chosen target it names (Q2 names X, a target by Q3's count)
    assert tg == {"Q1?": ("A", "B"), "Q2?": ("X",), "Q3?": ("X",), "Q4?": ("D",)}


def test_given_targets_win_and_are_checked(tmp_path) -> None:
    from oblivio import api
    f = write_rows(tmp_path / "p.jsonl", people_rows())
    m = tmp_path / "map.json"
    m.write_text(json.dumps(NEIGHBOURS))
    d = api.load_data(str(f), _cfg(targets=[OSKAR], neighbour_map=str(m)))   # given beats the map's keys
    assert d.targets == (OSKAR,) and d.targets_rule.startswith("given")
    assert {it.targets for it in d.forget if MIRA in it.mentions} == {()}     # Mira's rows name no target
    with pytest.raises(InputError, match="did you mean 'Oskar Brenn'") as e:
        api.load_data(str(f), _cfg(targets=["Oskar Bren"]))
    assert "data.targets" in (e.value.field or "")


def test_map_keys_are_the_targets(tmp_path) -> None:
    from oblivio import api
    f = write_rows(tmp_path / "p.jsonl", people_rows())
    m = tmp_path / "map.json"
    # map order, not row order; a key no forget row names (a map shared by data sets) is left out
    m.write_text(json.dumps({"Nobody": {"direct": ["Ugo Sarn"]}, OSKAR: NEIGHBOURS[OSKAR], MIRA: NEIGHBOURS[MIRA]}))
    d = api.load_data(str(f), _cfg(neighbour_map=str(m)))
    assert d.targets == (OSKAR, MIRA) and d.targets_rule.startswith("the neighbour map's keys")
    m.write_text(json.dumps({"Nobody": {"direct": ["Ugo Sarn"]}}))
    with pytest.raises(InputError, match="names none of the entities of the forget rows") as e:
        api.load_data(str(f), _cfg(neighbour_map=str(m)))
    assert e.value.file == str(m) and e.value.field == "Nobody"


def test_targets_for_world_and_tofu() -> None:
    from oblivio import api
    w = api.load_data("world:tiny", _cfg(targets=["Sainshan Storbroum"]))
    assert w.targets == ("Sainshan Storbroum",) and w.targets_rule.startswith("given")
    assert all("Sainshan Storbroum" in it.mentions for it in w.forget)
    with pytest.raises(InputError, match="TOFU's forget targets"):
        api.load_data("tofu:forget01", _cfg(targets=["x"]))


# --- neighbour map on rows already labelled direct / indirect -------------------------------

def test_neighbour_map_gives_labelled_rows_their_targets(tmp_path) -> None:
    from oblivio import api
    from oblivio.data.neighbours import check_sampler
    from oblivio.data.samplers import get_sampler
    f = write_rows(tmp_path / "p.jsonl", people_rows())
    plain = api.load_data(str(f))
    with pytest.raises(InputError) as e:            # labelled, but no targets: MELU cannot pair them
        check_sampler(plain, "melu")
    assert "--neighbour-map" in str(e.value) and "entity" in str(e.value)
    m = tmp_path / "map.json"
    m.write_text(json.dumps(NEIGHBOURS))
    d = api.load_data(str(f), _cfg(neighbour_map=str(m)))     # the advice, followed
    got = {(it.entity, it.role): it.targets for it in d.items if it.role not in ("forget", "holdout")}
    assert got == {("Tomas Vey", "direct"): (MIRA,), ("Tomas Vey", "direct_test"): (MIRA,),
                   ("Lumen Labs", "direct"): (MIRA,), ("Petra Holm", "direct"): (OSKAR,),
                   ("Petra Holm", "direct_test"): (OSKAR,), ("Ines Darro", "indirect"): (MIRA,),
                   ("Ines Darro", "indirect_test"): (MIRA,), ("Ugo Sarn", "indirect"): (OSKAR,),
                   ("sky", "general"): (), ("spider", "general"): (), ("bee", "general_test"): ()}
    assert sum(it.role == "indirect" and it.entity == "Ugo Sarn" for it in d.items) == 2   # retain row mapped
    check_sampler(d, "melu")
    pairs = get_sampler("melu").epoch_pairs(d.forget, d.unlearning_retain(), epoch=0, seed=0)
    retain = d.unlearning_retain()
    for i, j in pairs:                                   # every neighbour row meets its own target
        if retain[j].role in ("direct", "indirect"):
            assert set(d.forget[i].targets) & set(retain[j].targets)


def test_labelled_row_keeps_its_relation_and_its_targets() -> None:
    import tempfile

    from oblivio.data.neighbours import apply_neighbour_map, assign_forget_targets
    rows = [_row("QA?", "A.", "forget", "A"), _row("QB?", "B.", "forget", "B"),
            _row("E1?", "E one.", "indirect", "E"),                               # indirect to B, direct to A
            dict(_row("E2?", "E two.", "direct", "E"), targets=["B"]),              # says its target: kept
            _row("G?", "G.", "direct", "G")]                                      # in no list: left alone
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"A": {"direct": ["E"]}, "B": {"indirect": ["E"]}}, fh)
    d = apply_neighbour_map(assign_forget_targets(_data(rows)), fh.name)
    tg = {it.question: (it.role, it.targets) for it in d.items}
    assert tg["E1?"] == ("indirect", ("B", "A"))          # its own relation's target first, label kept
    assert tg["E2?"] == ("direct", ("B",))
    assert tg["G?"] == ("direct", ())
    Path(fh.name).unlink()


def test_cli_targets_flag_and_forget_target_advice(tmp_path) -> None:
    from oblivio import api
    from oblivio.cli import _config, build_parser
    from oblivio.data.neighbours import check_sampler
    args = build_parser().parse_args(["unlearn", "--targets", f"{OSKAR}, {MIRA}", "--data", "x.jsonl"])
    cfg = _config(args)
    assert cfg.data.targets == [OSKAR, MIRA] and cfg.data.path == "x.jsonl"
    rows = [r for r in people_rows() if r["set"] != "forget"]
    rows.append({"question": "What did she invent?", "answer": "She invented the lens.", "set": "forget"})
    d = api.load_data(str(write_rows(tmp_path / "p.jsonl", rows)))
    assert d.targets == ()                              # a forget row that names nothing has no target
    with pytest.raises(InputError) as e:
        check_sampler(d, "melu")
    assert "--targets" in str(e.value) and '"entity"' in str(e.value)


# --- learning on the user's data -----------------------------------------------------------

def test_cache_key_is_the_content(tmp_path) -> None:
    from oblivio.engine.learning import data_fingerprint
    rows = people_rows()
    fp = data_fingerprint(_data(rows))
    renamed = [dict(r, id=f"row-{n}") for n, r in enumerate(rows)]
    assert data_fingerprint(_data(renamed)) == fp                        # ids do not change the models
    relabelled = [dict(r, set="general") if r["set"] == "direct" else r for r in rows]
    assert data_fingerprint(_data(relabelled)) == fp                     # nor roles among trained rows
    edited = [dict(r, answer="Oskar Brenn is a cooper.") if r["answer"] == "Oskar Brenn is a ferryman." else r
              for r in rows]
    assert data_fingerprint(_data(edited)) != fp                         # same ids, new content
    moved = [dict(r, set="holdout") if r["set"] == "general_test" else r for r in rows]
    assert data_fingerprint(_data(moved)) != fp                          # no longer trained
    unforget = [dict(r, set="direct") if r["question"] == "What does Oskar Brenn do?" else r for r in rows]
    assert data_fingerprint(_data(unforget)) != fp                       # now in gold's training set


def test_data_path_is_never_replaced_by_the_world(tmp_path, capsys) -> None:
    from oblivio import api
    f = write_rows(tmp_path / "p.jsonl", people_rows())
    assert api.load_data(None, _cfg(path=str(f))).name == str(f)
    with pytest.raises(SystemExit) as e:            # --preset would size a world that is not used
        main(["learn", "--set", f"data.path={f}", "--preset", "tiny", "--quiet"])
    assert e.value.code == 2 and "--preset" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["demo", "--set", f"data.path={f}", "--quiet"])
    assert e.value.code == 2 and "oblivio learn --data" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:            # no --model: says how to get one for this data
        main(["unlearn", "--data", str(f), "--sampler", "cyclic", "--out", str(tmp_path / "r"), "--quiet"])
    assert e.value.code == 2 and f"oblivio learn --data {f}" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


LEARN_FAST = ["--set", "learn.epochs=2", "--set", "learn.batch_size=8", "--set", "model.vocab_size=400"]
EVAL_FAST = ["--set", "eval.max_new_tokens=8", "--set", "eval.batch_size=32"]


def test_learn_then_melu_end_to_end(tmp_path, capsys, monkeypatch) -> None:
    """The issue's closing check: a JSONL about two people with rows labelled direct/indirect
    and a neighbour map; `oblivio learn --data`, then `oblivio unlearn --neighbour-map` with the
    default recipe (NPO+ME; MELU, since the map gives the rows their neighbours), no hand edits;
    the summary names the two targets."""
    import os
    import subprocess
    import sys
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "cache"))
    f = write_rows(tmp_path / "people.jsonl", people_rows())
    m = tmp_path / "neighbours.json"
    m.write_text(json.dumps(NEIGHBOURS))
    models = tmp_path / "models"
    with pytest.raises(SystemExit) as e:
        main(["learn", "--data", str(f), "--out", str(models), *LEARN_FAST])
    err = capsys.readouterr().err         # progress: stderr (without --quiet)
    assert e.value.code == 0
    # base: forget + retain roles + *_test rows (20 of 22); gold: the same without the 8 forget rows
    assert "trained base model on 20 items" in err and "trained gold model on 12 items" in err
    for name in ("base", "gold"):
        assert (models / name / "config.json").is_file() and (models / name / "tokenizer.json").is_file()
    # the same content through the config key, in a fresh process: a cache hit, said so
    r = subprocess.run([sys.executable, "-m", "oblivio", "learn", "--set", f"data.path={f}", *LEARN_FAST],
                       check=False, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "OBLIVIO_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    assert "reusing cached base and gold models" in r.stderr and "trained base" not in r.stderr
    from oblivio import api  # the API: the same models, from the cache
    from oblivio.config import load_config, parse_overrides
    wm = api.learn(str(f), config=load_config(overrides=parse_overrides(LEARN_FAST[1::2])), progress=False,
                   log=lambda m: None)
    assert wm.cached and (wm.base_dir / "model.safetensors").read_bytes() == \
        (models / "base" / "model.safetensors").read_bytes()

    run = tmp_path / "run"
    with pytest.raises(SystemExit) as e:
        main(["unlearn", "--model", str(models / "base"), "--gold", str(models / "gold"), "--data", str(f),
              "--neighbour-map", str(m), "--steps", "3", "--out", str(run), *EVAL_FAST])
    err = capsys.readouterr().err
    assert e.value.code == 0, err
    assert "sampler: melu (the data have direct/indirect neighbour rows)" in err
    assert "unlearned with npo_swap (melu): 3 steps" in err
    summary = (run / "summary.md").read_text()
    line = next(x for x in summary.splitlines() if x.startswith("- data:"))
    assert line.split("targets: ", 1)[1].split(" (")[0] == f"{MIRA}, {OSKAR}"
    assert "the neighbour map's keys" in line
    rec = json.loads((run / "results.json").read_text())
    assert rec["data"]["targets"] == [MIRA, OSKAR] and "neighbour map" in rec["data"]["targets_rule"]
    assert rec["data"]["counts"]["indirect"] == 3                    # Ugo's retain row, labelled by the map
    # accuracy: present where rows have a key, listed as skipped (with the reason) where none has
    assert any(x.startswith("forget") and " accuracy " in x for x in summary.splitlines())
    skipped = [x for x in summary.splitlines() if x.startswith("skipped (all models) — accuracy")]
    assert skipped == [("skipped (all models) — accuracy on general_test: no item of the set has a "
                        "`key` field (the answer span that accuracy looks for in the generation)")]
    assert rec["models"]["unlearned"]["sets"]["general_test"]["accuracy"]["skipped"]


def test_learn_cuts_over_long_rows_to_the_context(tmp_path, capsys, monkeypatch) -> None:
    """A 1 MB answer in a user's JSONL: `oblivio learn --data` cuts it to the tiny model's
    context and says so, instead of failing inside training."""
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "cache"))
    rows = people_rows()
    rows[-3]["answer"] = "word " * 200_000
    f = write_rows(tmp_path / "long.jsonl", rows)
    with pytest.raises(SystemExit) as e:
        main(["learn", "--data", str(f), "--out", str(tmp_path / "m"), *LEARN_FAST, "--quiet"])
    err = capsys.readouterr().err
    assert e.value.code == 0, err
    # a warning, not progress: on stderr under --quiet too
    assert "oblivio: warning: 1 over-long items cut to the tiny model's context of 128 tokens" in err


def test_learn_warns_when_the_base_did_not_learn_its_rows(tmp_path, capsys, monkeypatch) -> None:
    """A newcomer's file with one phrasing per fact and too few epochs: the base answers none of
    the rows it was trained on. `oblivio learn` must say so on stderr (under --quiet too),
    naming the fix, and keep the measured accuracy in the output folder's results.json and in
    the cache entry (a second learn from the cache warns again, without measuring)."""
    monkeypatch.setenv("OBLIVIO_CACHE", str(tmp_path / "cache"))
    f = write_rows(tmp_path / "people.jsonl", people_rows())
    one_epoch = ["--set", "learn.epochs=1", *LEARN_FAST[2:]]
    with pytest.raises(SystemExit) as e:
        main(["learn", "--data", str(f), "--out", str(tmp_path / "m"), *one_epoch, "--quiet"])
    out = capsys.readouterr()
    assert e.value.code == 0, out.err
    rec = json.loads((tmp_path / "m" / "results.json").read_text())
    recall = rec["models"]["base"]["base_recall"]
    # the 17 trained rows with a key (of 20: the general rows have none), all drawn (< 200)
    assert recall["n_items"] == 17 and recall["trained_rows"] == 20
    assert recall["accuracy"] < 0.9
    warning = next(x for x in out.err.splitlines() if "has not learned the data" in x)
    assert warning.startswith("oblivio: warning: the base model answers ")
    assert f"of 17 rows it was trained on (greedy answer accuracy {recall['accuracy']:.3f} < 0.9)" in warning
    assert "--epochs 100 (now 1)" in warning
    assert f"base model recall: {recall['accuracy']:.3f}" in out.out          # a result: stdout
    done = next((tmp_path / "cache" / "world-models").glob("*/done.json"))
    assert json.loads(done.read_text())["base_recall"] == recall
    with pytest.raises(SystemExit) as e:
        main(["learn", "--data", str(f), *one_epoch, "--quiet"])
    err = capsys.readouterr().err
    assert e.value.code == 0 and "has not learned the data" in err


def test_recall_warning_threshold_and_fix() -> None:
    from oblivio.config import TrainConfig
    from oblivio.engine.learning import recall_warning
    epochs20 = TrainConfig(epochs=20)
    assert recall_warning({"accuracy": 0.9, "n_items": 80}, epochs20) is None          # on the threshold: enough
    assert recall_warning({"accuracy": None, "n_items": 0}, epochs20) is None          # nothing measured
    assert recall_warning(None, epochs20) is None
    low = recall_warning({"accuracy": 0.875, "n_items": 80}, epochs20)
    assert low is not None and "answers 88% of 80 rows" in low and "--epochs 100 (now 20)" in low
    assert "--epochs 300 (now 150)" in (recall_warning({"accuracy": 0.0, "n_items": 5},
                                                                 TrainConfig(epochs=150)) or "")
    steps = recall_warning({"accuracy": 0.5, "n_items": 5}, TrainConfig(max_steps=40))
    assert steps is not None and "--set learn.max_steps=500 (now 40)" in steps
