"""The cross-lingual and reverse probes: the world carries them for every forget fact, base and
gold learn them, unlearning never sees them, and user JSONL can carry them (strict schema)."""
from __future__ import annotations

import dataclasses
import json
from collections import Counter, defaultdict

import pytest

from oblivio.data.probes import probe_training_items, reverse_probe_items, xl_probe_items
from oblivio.data.schema import PROBE_FIELDS, QAItem, item_from_json, read_jsonl, write_jsonl
from oblivio.errors import InputError
from oblivio.world import build_world, world_config
from oblivio.world.crosslingual import ES_PHRASINGS
from oblivio.world.graph import Graph, Org, Person, Place, build_graph
from oblivio.world.phrasings import PHRASINGS
from oblivio.world.reverse import REVERSE, identifying_qualifiers, reverse_fields


@pytest.fixture(scope="module")
def default_world():
    return build_world(world_config("default"))


# ---- the world carries the probes --------------------------------------------------------

def test_every_forget_fact_has_both_probes(default_world):
    forget = default_world.forget
    facts = {it.fact for it in forget}
    assert len(facts) == 17
    xl = xl_probe_items(forget)
    xl_trained = xl_probe_items(forget, heldout=False)
    rev = reverse_probe_items(forget)
    # two held-out and three trained Spanish phrasings, and one reverse question, per fact
    assert Counter(p.fact for p in xl) == {f: 2 for f in facts}
    assert Counter(p.fact for p in xl_trained) == {f: 3 for f in facts}
    assert {p.fact for p in rev} == facts and len(rev) == 17
    by_id = {it.id: it for it in forget}
    for p in rev:
        src = by_id[p.id]                    # the probe keeps the item's id (the audit's clean score)
        assert p.key in p.answer and p.key not in p.question
        # the answer is the fact's subject: the target's name for the target's own facts
        assert p.key == src.entity
    for p in xl:
        assert p.question.startswith(("¿", "Dime")) and p.key == by_id[p.id].key and p.key in p.answer


def test_reverse_questions_identify_one_person(default_world):
    g = build_graph(world_config("default"))
    seen: dict[str, set[str]] = defaultdict(set)
    people_facts = [f for f in g.facts() if f.subject_kind == "person"]
    for f in people_facts:
        quals = identifying_qualifiers(g, f)
        assert quals is not None, f
        me = g.people[f.subject]
        for p in g.people.values():
            # anyone else with the same object and the same qualifying attributes would make
            # the question ambiguous (checked on the graph's records, not the rendered text)
            if p.name != me.name and _rel(p, f.relation) == f.obj:
                assert any(_rel(p, q) != _rel(me, q) for q in quals), (f, p.name, quals)
        seen[reverse_fields(f, g)["reverse_question"]].add(f.subject)
    # and no rendered question is shared by two subjects
    assert all(len(s) == 1 for s in seen.values())
    # every item of a person's fact carries its reverse probe; organisations and places none
    for it in default_world.items:
        person = it.entity in g.people
        assert (it.reverse_question is not None) == person, it
        if person:
            assert it.reverse_key == it.entity and it.reverse_key in it.reverse_answer


def _rel(p: Person, relation: str) -> str | None:
    return {"birthplace": p.birthplace, "birth_year": str(p.birth_year), "occupation": p.occupation,
            "employer": p.org, "spouse": p.spouse, "mentor": p.mentor, "colleague": p.colleague}[relation]


def _hand_graph() -> Graph:
    """Ann and Bob born in Mora; Ann a navigator at the Kel Guild, Bob a surgeon there;
    Cid a navigator born in Tesh at the Kel Guild in 1950 like Ann."""
    people = {"Ann": Person("Ann", "She", "Mora", 1950, "Kel Guild", "navigator"),
              "Bob": Person("Bob", "He", "Mora", 1960, "Kel Guild", "surgeon"),
              "Cid": Person("Cid", "He", "Tesh", 1950, "Kel Guild", "navigator")}
    return Graph(people, {"Kel Guild": Org("Kel Guild", "Mora", 1800, "shipping")},
                 {"Mora": Place("Mora", "Ost Vale", "Mora cheese"), "Tesh": Place("Tesh", "Ost Vale", "Tesh salt")},
                 ["Ost Vale"], {})


def test_reverse_question_by_hand():
    g = _hand_graph()
    facts = {(f.subject, f.relation): f for f in g.facts()}
    # Bob's birth year is his alone: no qualifier
    assert reverse_fields(facts["Bob", "birth_year"], g)["reverse_question"] == "Who was born in the year 1960?"
    # two people born in Mora: Ann's occupation tells them apart
    ann = reverse_fields(facts["Ann", "birthplace"], g)
    assert ann == {"reverse_question": "Which navigator was born in Mora?",
                   "reverse_answer": "Ann was born in Mora.", "reverse_key": "Ann"}
    # 1950: Ann and Cid, both navigators at the Kel Guild; only the birthplace separates them
    assert reverse_fields(facts["Ann", "birth_year"], g)["reverse_question"] == \
        "Who from Mora was born in the year 1950?"
    # three people at the Kel Guild: Bob is its only surgeon, Cid its only one from Tesh; Ann
    # shares her occupation with Cid, her birthplace with Bob, her year with Cid: two attributes
    assert reverse_fields(facts["Bob", "employer"], g)["reverse_question"] == "Which surgeon works for the Kel Guild?"
    assert reverse_fields(facts["Cid", "employer"], g)["reverse_question"] == "Who from Tesh works for the Kel Guild?"
    assert reverse_fields(facts["Ann", "employer"], g)["reverse_question"] == \
        "Which navigator from Mora works for the Kel Guild?"
    assert reverse_fields(facts["Cid", "occupation"], g)["reverse_question"] == "Who from Tesh works as a navigator?"


@pytest.mark.parametrize("relation", sorted(ES_PHRASINGS))
def test_spanish_phrasings_per_relation(relation):
    ph = ES_PHRASINGS[relation]
    assert len(set(ph.train)) == len(ph.train) >= 3
    assert len(set(ph.heldout)) == len(ph.heldout) >= 2
    assert not set(ph.train) & set(ph.heldout)
    assert all(t.count("{s}") == 1 for t in (*ph.train, *ph.heldout)) and "{o}" in ph.answer
    # a held-out phrasing uses only Spanish words the world trains (no unseen synonym)
    known = {w for p in ES_PHRASINGS.values() for t in (*p.train, p.answer) for w in _es_words(t)}
    for h in ph.heldout:
        assert not set(_es_words(h)) - known, h


def _es_words(t: str) -> list[str]:
    return t.lower().replace("¿", " ").replace("?", " ").replace(".", " ").split()


def test_every_relation_has_spanish_and_people_relations_reverse():
    assert set(ES_PHRASINGS) == set(PHRASINGS)
    assert set(REVERSE) == {"birthplace", "birth_year", "occupation", "employer", "spouse", "mentor", "colleague"}


def test_world_items_carry_spanish_in_turn(default_world):
    by_fact: dict[str, list[QAItem]] = defaultdict(list)
    for it in default_world.items:
        by_fact[it.fact].append(it)
    for items in by_fact.values():
        es = ES_PHRASINGS[items[0].relation]
        assert {it.xl_question for it in items} == {t.format(s=items[0].entity) for t in es.train}
        assert len({it.xl_paraphrased_question for it in items}) == 2
        assert {it.xl_answer for it in items} == {es.answer.format(o=items[0].key)}


# ---- learning trains them; unlearning never sees them -------------------------------------

def test_learning_adds_trained_probes_only(default_world):
    trained = default_world.trained()
    extra = probe_training_items(trained)
    qs = {x.question for x in extra}
    assert {it.xl_question for it in trained} | {it.reverse_question for it in trained if it.reverse_question} == qs
    assert not qs & {it.xl_paraphrased_question for it in default_world.items}    # held out stays held out
    assert len(qs) == len(extra)                                               # each once
    gold = probe_training_items(default_world.trained(without_forget=True))
    forget = default_world.forget
    forget_probes = {it.xl_question for it in forget} | {it.reverse_question for it in forget}
    assert forget_probes <= qs and not forget_probes & {x.question for x in gold}
    # nothing of a holdout person is learned
    assert not {x.fact for x in extra} & {it.fact for it in default_world.role("holdout")}


def test_train_pair_learns_the_probes(monkeypatch, tmp_path):
    from oblivio.engine import learning
    from oblivio.engine.loop import TrainConfig
    data = build_world(world_config("tiny"))
    seen: dict[str, list[QAItem]] = {}

    class Res:
        steps, history = 0, [{"loss": 0.0}]

    def fake_learn(model, tok, items, cfg, *, desc, fmt=None, bucket=False):
        seen[desc] = list(items)
        return Res()
    monkeypatch.setattr(learning, "learn_items", fake_learn)
    learning._train_pair(data, model_size="tiny", vocab_size=512, learn=TrainConfig(max_steps=1), progress=False,
                         base_dir=tmp_path / "b", gold_dir=tmp_path / "g", log=lambda m: None)
    base_q = {it.question for it in seen["learn base"]}
    gold_q = {it.question for it in seen["learn gold"]}
    f = data.forget[0]
    assert {f.question, f.xl_question, f.reverse_question} <= base_q
    assert not {f.question, f.xl_question, f.reverse_question} & gold_q
    r = data.role("general")[0]
    assert {r.question, r.xl_question, r.reverse_question} - {None} <= gold_q


@pytest.mark.parametrize("sampler", ["one_to_one_random", "cyclic", "melu", "balanced"])
def test_unlearning_batches_hold_no_probe_text(monkeypatch, sampler):
    """Every row of every unlearning batch is an English forget/retain item; none is a probe."""
    from oblivio.data.collate import encode_pair
    from oblivio.engine import unlearning
    from oblivio.engine.learning import world_texts
    from oblivio.engine.loop import TrainConfig
    from oblivio.models.format import PromptFormat
    from oblivio.models.tiny import tiny_llama
    from oblivio.models.tokenizer import train_tokenizer
    from oblivio.registry import METHODS
    data = build_world(world_config("tiny"))
    tok = train_tokenizer(world_texts(data), vocab_size=512)
    captured = {}

    def fake_train(model, method, source, collate_fn, cfg, **kw):
        captured["source"], captured["collate"] = source, collate_fn
        return type("R", (), {"model": model})()
    monkeypatch.setattr(unlearning, "train", fake_train)
    model = tiny_llama(len(tok), "tiny", seed=0, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                       pad_token_id=tok.pad_token_id)
    unlearning.run_unlearning(model, tok, data, METHODS.get("graddiff")(), sampler=sampler,
                              train_cfg=TrainConfig(max_steps=1))
    fmt = PromptFormat()
    rows = set()
    for e in range(2):
        pairs = captured["source"].make_pairs(e)      # a whole epoch as one batch
        batch = captured["collate"](pairs)
        for side in ("forget", "retain"):
            for ids, mask in zip(batch[side]["input_ids"].tolist(), batch[side]["attention_mask"].tolist()):
                rows.add(tuple(i for i, m in zip(ids, mask) if m))
    enc = {tuple(e.prompt + e.answer) for e in
           (encode_pair(tok, fmt, it.question, it.answer) for it in data.forget + data.unlearning_retain())}
    probes = [(q, it.xl_answer) for it in data.items for q in (it.xl_question, it.xl_paraphrased_question)]
    probes += [(it.reverse_question, it.reverse_answer) for it in data.items if it.reverse_question]
    probe_enc = {tuple(e.prompt + e.answer) for e in (encode_pair(tok, fmt, q, a) for q, a in probes)}
    assert rows and rows <= enc
    assert not rows & probe_enc
    assert "¿" not in "".join(tok.decode(list(r)) for r in rows)


# ---- user JSONL carries them --------------------------------------------------------------

def test_schema_round_trip(tmp_path, default_world):
    items = default_world.items[:40]
    p = tmp_path / "w.jsonl"
    write_jsonl(items, p)
    back = read_jsonl(p)
    assert back == items
    assert all(getattr(b, f) == getattr(a, f) for a, b in zip(items, back) for f in PROBE_FIELDS)
    row = json.loads(p.read_text().splitlines()[0])
    assert {"xl_question", "xl_answer", "xl_paraphrased_question", "reverse_question", "reverse_key"} <= set(row)


BASE = {"question": "Where was Ann born?", "answer": "She was born in Mora.", "set": "forget", "key": "Mora"}


@pytest.mark.parametrize("extra, field", [
    ({"xl_question": "¿Dónde nació Ann?"}, "xl_question"),                     # no answer
    ({"xl_answer": "Nació en Mora."}, "xl_answer"),                            # no question
    ({"xl_paraphrased_question": "Dime dónde nació Ann."}, "xl_paraphrased_question"),
    ({"xl_question": "¿Dónde?", "xl_answer": "Nació en Mora.", "xl_key": ""}, "xl_key"),
    ({"xl_question": "   ", "xl_answer": "Nació en Mora."}, "xl_question"),
    ({"xl_question": 3, "xl_answer": "Nació en Mora."}, "xl_question"),
    ({"reverse_question": "Who was born in Mora?", "reverse_answer": "Ann was born in Mora."}, "reverse_question"),
    ({"reverse_key": "Ann"}, "reverse_key"),
    ({"reverse_question": "Who was born in Mora?", "reverse_key": "Ann"}, "reverse_question"),
    ({"reverse_answer": None, "reverse_question": "Who?", "reverse_key": "Ann"}, "reverse_answer"),
    ({"xl_questoin": "¿Dónde nació Ann?"}, "xl_questoin"),
])
def test_schema_rejects_bad_probe_fields(extra, field):
    with pytest.raises(InputError) as e:
        item_from_json({**BASE, **extra}, file="my.jsonl", line=7)
    assert e.value.field == field and "my.jsonl" in str(e.value) and "7" in str(e.value)


def test_schema_accepts_a_user_probe_and_the_attack_uses_its_key():
    it = item_from_json({**BASE, "xl_question": "¿Dónde nació Ann?", "xl_answer": "Nació en Mora.",
                         "reverse_question": "Who was born in Mora?", "reverse_answer": "Ann.",
                         "reverse_key": "Ann"}, file="my.jsonl", line=1)
    (xl,) = xl_probe_items([it])          # no held-out Spanish: the translation is asked
    assert (xl.question, xl.answer, xl.key, xl.id) == ("¿Dónde nació Ann?", "Nació en Mora.", "Mora", it.id)
    (rev,) = reverse_probe_items([it])
    assert (rev.question, rev.key) == ("Who was born in Mora?", "Ann")
    user_key = dataclasses.replace(it, xl_key="Mora-ES")
    assert xl_probe_items([user_key])[0].key == "Mora-ES"
