"""The embedded world: determinism, role invariants, phrasings, wrong answers, config errors."""
from __future__ import annotations

import dataclasses
import json
from collections import defaultdict

import pytest

from oblivio.data.schema import ROLES, QAItem
from oblivio.errors import InputError
from oblivio.world import PRESETS, WorldConfig, build_world, world_config
from oblivio.world.graph import build_graph
from oblivio.world.overlap import fact_overlaps, frame_trigrams, jaccard, lcs_ratio, shared_frames, summary
from oblivio.world.phrasings import PHRASINGS

TRAINED_ROLES = {"forget", "direct", "indirect", "general", "direct_test", "indirect_test",
                 "general_test"}


@pytest.fixture(scope="module")
def tiny():
    return build_world(world_config("tiny"))


def _texts(it: QAItem) -> list[str]:
    return [it.question, it.answer, it.paraphrased_question or "", *it.perturbed_answers]


def test_deterministic_for_a_seed_and_different_across_seeds():
    a = build_world(world_config("tiny", seed=1))
    b = build_world(world_config("tiny", seed=1))
    c = build_world(world_config("tiny", seed=2))
    assert [it.to_json() for it in a.items] == [it.to_json() for it in b.items]
    assert a.targets == b.targets
    assert {it.question for it in a.items} != {it.question for it in c.items}


def test_config_is_json_serialisable_and_defaults_match_preset():
    cfg = world_config("small", targets=["X Y"])
    json.dumps(dataclasses.asdict(cfg))
    assert cfg.targets == ("X Y",)
    default = WorldConfig()
    assert {k: getattr(default, k) for k in PRESETS["default"]} == PRESETS["default"]


def test_roles_are_known_and_facts_never_split_across_roles(tiny):
    role_of_fact: dict[str, str] = {}
    ids = set()
    for it in tiny.items:
        assert it.role in ROLES
        assert it.id not in ids
        ids.add(it.id)
        assert role_of_fact.setdefault(it.fact, it.role) == it.role, it.fact
    # one item per training phrasing of its relation
    per_fact = defaultdict(int)
    for it in tiny.items:
        per_fact[it.fact] += 1
    assert set(per_fact.values()) == {6}


@pytest.mark.parametrize("preset", ["tiny", "small", "default"])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_forget_mentions_targets_and_nothing_else_does(preset, seed):
    w = build_world(world_config(preset, seed=seed))
    targets = set(w.targets)
    assert len(targets) == PRESETS[preset]["n_targets"]
    for it in w.items:
        mentioned = targets & set(it.mentions)
        if it.role == "forget":
            assert mentioned and set(it.targets) == mentioned
        else:
            assert not mentioned
            # also by text: no retain or holdout item carries a target's name anywhere,
            # not even in a wrong answer
            assert not any(t in s for t in targets for s in _texts(it)), it
    for role in ("direct", "indirect", "direct_test", "indirect_test"):
        for it in w.role(role):
            assert it.targets and set(it.targets) <= targets
    for role in ("forget", "direct", "indirect", "general", "direct_test", "indirect_test",
                 "general_test", "holdout"):
        assert w.role(role), f"{preset}/{seed}: role {role} is empty"


def test_direct_items_are_about_a_neighbour_of_their_target():
    cfg = world_config("default")
    g, w = build_graph(cfg), build_world(cfg)
    for it in w.role("direct") + w.role("direct_test"):
        for t in it.targets:
            p = g.people[t]
            assert it.entity in g.person_links(t) | {p.org, p.birthplace}
    for it in w.role("indirect") + w.role("indirect_test"):
        for t in it.targets:
            assert it.entity not in g.person_links(t)
            assert g.domain_of(it.entity) == g.domain_of(t)


def test_no_trained_item_mentions_a_holdout_person(tiny):
    holdout = {it.entity for it in tiny.role("holdout")}
    assert holdout
    for it in tiny.items:
        if it.role in TRAINED_ROLES:
            assert not holdout & set(it.mentions)
            assert not any(h in s for h in holdout for s in _texts(it)), it
    # holdout people only have attribute relations
    assert {it.relation for it in tiny.role("holdout")} <= {"birthplace", "birth_year",
                                                           "occupation", "employer"}


def test_heldout_phrasings_are_never_training_questions():
    w = build_world(world_config("default"))
    questions = {it.question for it in w.items}
    paraphrases = {it.paraphrased_question for it in w.items}
    assert None not in paraphrases
    assert not questions & paraphrases
    # every held-out phrasing of a fact is probed by some item of that fact
    by_fact: dict[str, set[str]] = defaultdict(set)
    for it in w.items:
        by_fact[it.fact].add(it.paraphrased_question)
    assert {len(v) for v in by_fact.values()} == {2}
    # every relation in the graph has phrasings, and every relation is used
    assert {it.relation for it in w.items} == set(PHRASINGS)


def _words(template: str) -> list[str]:
    return template.lower().rstrip("?.").replace("'s", " 's").split()


def _one_word_apart(a: list[str], b: list[str]) -> bool:
    """Equal, or equal after deleting one word from one of them, or after swapping one word."""
    if a == b:
        return True
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long_ = sorted((a, b), key=len)
    return len(long_) - len(short) == 1 and any(long_[:i] + long_[i + 1:] == short
                                                for i in range(len(long_)))


def test_one_word_apart_detects_word_swaps_and_deletions():
    w = _words
    assert _one_word_apart(w("Where was {s} born?"), w("Where was {s} raised?"))
    assert _one_word_apart(w("Who is {s} married to?"), w("Who is {s} married?"))
    assert not _one_word_apart(w("Where was {s} born?"), w("{s} was born in which town?"))


@pytest.mark.parametrize("relation", sorted(PHRASINGS))
def test_phrasings_per_relation_differ_in_syntax(relation):
    ph = PHRASINGS[relation]
    assert len(set(ph.train)) == len(ph.train) >= 6
    assert len(set(ph.heldout)) == len(ph.heldout) >= 2
    assert not set(ph.train) & set(ph.heldout)
    # one answer sentence per held-out question, all different and none the trained one
    assert len(set(ph.heldout_answers)) == len(ph.heldout_answers) == len(ph.heldout)
    assert ph.answer not in ph.heldout_answers
    for h in ph.heldout:
        assert h.count("{s}") == 1
        # not a word swap or a dropped word of a trained phrasing: another sentence shape
        for t in ph.train:
            assert not _one_word_apart(_words(h), _words(t)), (h, t)
    # the trained phrasings themselves use several shapes: at least 4 different first words
    assert len({_words(t)[0] for t in ph.train}) >= 4


def test_frame_trigrams_and_shared_frames_by_hand():
    assert frame_trigrams("Who is {s}'s spouse?") == {("who", "is", "{s}"), ("is", "{s}", "s"),
                                                      ("{s}", "s", "spouse")}
    assert frame_trigrams("Spouse of {s}?") == {("spouse", "of", "{s}")}
    # the construction this replaced: a held-out shape trained with another relation
    assert shared_frames(["What is {s}'s birthplace?"], PHRASINGS["birth_year"].train) == [
        ("What is {s}'s birthplace?", "What is {s}'s birth year?", ("is", "{s}", "s")),
        ("What is {s}'s birthplace?", "What is {s}'s birth year?", ("what", "is", "{s}"))]
    assert shared_frames(["The birthplace of {s} is which town?"], PHRASINGS["birthplace"].train)
    assert not shared_frames(["Regarding {s}: born where?"], ["Where was {s} born?"])


def test_no_heldout_frame_is_trained_for_any_relation():
    # a held-out question shares no three-word sequence ({s} one word) with any trained
    # question of any relation: its sentence shape is new to the model, not another
    # relation's trained shape
    trained = [t for ph in PHRASINGS.values() for t in ph.train]
    heldout = [h for ph in PHRASINGS.values() for h in ph.heldout]
    assert shared_frames(heldout, trained) == []


def test_heldout_phrasings_name_the_relation_with_a_trained_cue_word():
    # a model learned from scratch cannot know a synonym it never saw: every held-out question
    # keeps a cue word of its relation (by its first four letters: "employed" after "employs"),
    # a word that the trained questions of at most two relations use ("born", not "works")
    used_by: dict[str, set[str]] = defaultdict(set)
    for rel, ph in PHRASINGS.items():
        for t in ph.train:
            for w in _words(t):
                used_by[w].add(rel)
    for rel, ph in PHRASINGS.items():
        cues = {w[:4] for t in ph.train for w in _words(t) if len(w) >= 4 and len(used_by[w]) <= 2}
        for h in ph.heldout:
            assert {w[:4] for w in _words(h) if len(w) >= 4} & cues, (rel, h)


def test_overlap_statistics_by_hand():
    assert jaccard("Where was Ann born?", "Ann was born where?") == 1.0
    assert jaccard("alpha beta gamma", "beta gamma delta") == pytest.approx(2 / 4)
    # LCS "beta delta" (2 words) of 4 + 3 words: 2·2 / 7, symmetric
    assert lcs_ratio("alpha beta gamma delta", "beta delta omega") == pytest.approx(4 / 7)
    assert lcs_ratio("beta delta omega", "alpha beta gamma delta") == pytest.approx(4 / 7)
    assert lcs_ratio("delta beta", "beta delta") == pytest.approx(2 / 4)   # order matters, Jaccard's 1.0


# The bound (docs/explanation/world.md): with the names left out, a held-out question shares
# at most its relation's cue word and a function word or two ("the", "what", "in") with the
# nearest trained question; 2 of ~9 distinct words is a Jaccard of about 0.2-0.3, and only a
# three-word trained fragment ("Field of the X?") reaches 0.5. The phrasings this replaced:
# median 0.54, max 0.86, answers 1.0 (bench/paraphrase_overlap.py).
@pytest.mark.parametrize("preset", ["tiny", "default"])
def test_overlap_with_the_nearest_trained_phrasing_is_bounded(preset):
    facts = build_graph(world_config(preset)).facts()
    rows = fact_overlaps(PHRASINGS, facts, names=False)
    assert len(rows) == 2 * len(facts)
    s = summary(rows)
    for stat in ("q_jaccard_fact", "q_jaccard_any", "a_jaccard_fact", "a_jaccard_any"):
        assert s[stat]["median"] <= 0.3 and s[stat]["max"] <= 0.5, (stat, s[stat])
    for stat in ("q_lcs_fact", "q_lcs_any", "a_lcs_fact", "a_lcs_any"):
        assert s[stat]["max"] <= 0.6, (stat, s[stat])


def test_heldout_answer_is_another_wording_with_the_key(tiny):
    by_fact: dict[str, set[str]] = defaultdict(set)
    for it in tiny.items:
        a = it.paraphrased_question_answer
        assert a and a != it.answer and it.key and it.key in a, it
        assert jaccard(a, it.answer) < 0.6, (a, it.answer)
        by_fact[it.fact].add(a)
    # the two held-out questions of a fact have two answer wordings
    assert {len(v) for v in by_fact.values()} == {2}


def test_perturbed_answers_and_key():
    w = build_world(world_config("default"))
    for it in w.items:
        assert len(set(it.perturbed_answers)) >= 3, it
        assert it.answer not in it.perturbed_answers
        assert it.key and it.key in it.answer
        assert len(it.answer.split()) <= 9, it.answer
        # a wrong answer keeps the answer's sentence and swaps the object
        for p in it.perturbed_answers:
            assert it.key not in p and p.split()[:2] == it.answer.split()[:2], (it.answer, p)


def test_test_split_fraction_by_fact():
    w = build_world(world_config("default", test_fraction=0.25))
    for role in ("direct", "indirect", "general"):
        train = {it.fact for it in w.role(role)}
        test = {it.fact for it in w.role(role + "_test")}
        assert train and test and not train & test
        assert abs(len(test) / (len(train) + len(test)) - 0.25) < 0.15
    none = build_world(world_config("tiny", test_fraction=0.0))
    assert not any(it.role.endswith("_test") for it in none.items)


def test_explicit_targets(tiny):
    name = next(it.entity for it in tiny.role("general") if it.relation == "birth_year")
    w = build_world(world_config("tiny", targets=[name]))
    assert w.targets == (name,)
    assert all(name in it.mentions for it in w.forget)
    assert {it.entity for it in w.forget if it.relation == "birth_year"} == {name}
    with pytest.raises(InputError) as e:
        build_world(world_config("tiny", targets=["Nobody Atall"]))
    assert e.value.field == "targets" and "Nobody Atall" in str(e.value)
    holdout = tiny.role("holdout")[0].entity
    with pytest.raises(InputError, match="holdout"):
        build_world(world_config("tiny", targets=[holdout]))


@pytest.mark.parametrize("kw,field", [
    (dict(n_peple=3), "n_peple"),
    (dict(n_people=2), "n_people"),
    (dict(test_fraction=1.5), "test_fraction"),
    (dict(n_targets=0), "n_targets"),
])
def test_bad_config_names_the_field(kw, field):
    with pytest.raises(InputError) as e:
        world_config("tiny", **kw)
    assert e.value.field == field


def test_unknown_preset_and_too_many_targets():
    with pytest.raises(InputError) as e:
        world_config("huge")
    assert e.value.field == "preset"
    with pytest.raises(InputError) as e:
        build_world(world_config("tiny", n_targets=8))
    assert e.value.field == "n_targets"


def test_names_are_unique_and_not_nested():
    g = build_graph(world_config("default"))
    names = [*g.people, *g.orgs, *g.places]
    assert len(set(names)) == len(names)
    low = [n.lower() for n in names]
    assert not [(a, b) for a in low for b in low if a != b and a in b]


def test_default_world_size():
    w = build_world(world_config("default"))
    assert len({it.fact for it in w.trained()}) == len(w.trained()) // 6
    assert 1200 <= len(w.trained()) <= 1500


def test_world_data_carries_its_config_for_the_model_cache() -> None:
    # every path to the same world (None, "world", "world:<preset>", a data object) must give
    # the same model-cache key: the key is the world's config, carried by the data
    from oblivio import api
    from oblivio.config import load_config
    cfg = load_config(overrides={"world": {"preset": "tiny"}})
    a, b = api.load_data(None, cfg), api.load_data("world:tiny", load_config())
    assert a.source == b.source and a.source["preset"] == "tiny" and a.source["seed"] == 0
    assert api.load_data(a, cfg).source == a.source
    assert api.load_data("world:small", cfg).source != a.source


def test_model_cache_entry_lock_serialises_two_trainers(tmp_path) -> None:
    # two runs needing the same world's models: the second waits for the first (then reuses)
    import threading
    import time

    from oblivio.engine.learning import _entry_lock
    order: list[str] = []
    logs: list[str] = []
    held = threading.Event()

    def first() -> None:
        with _entry_lock(tmp_path / ".lock", logs.append):
            held.set()
            time.sleep(0.3)
            order.append("first done")

    t = threading.Thread(target=first)
    t.start()
    held.wait(5)
    with _entry_lock(tmp_path / ".lock", logs.append):
        order.append("second in")
    t.join()
    assert order == ["first done", "second in"]
    assert logs and "waiting for another process" in logs[0]


def test_model_cache_key_covers_the_item_text(tiny) -> None:
    # a changed phrasing template keeps the world config and the item count: the cache key
    # must still change, or models trained on the old text would be reused
    from oblivio.data.schema import UnlearningData
    from oblivio.engine.learning import _items_digest

    def copy(items):
        return UnlearningData(items, name=tiny.name, targets=tiny.targets, neighbour_roles=True,
                              source=tiny.source)
    same = copy(list(tiny.items))
    reworded = copy([dataclasses.replace(tiny.items[0], question=tiny.items[0].question + " ")]
                    + list(tiny.items[1:]))
    f0 = tiny.items[0].fact      # every row of the fact, so that its rows stay in one portion
    recast = copy([dataclasses.replace(it, role="general", portion=None) if it.fact == f0 else it
                   for it in tiny.items])
    assert _items_digest(same) == _items_digest(tiny)
    assert len({_items_digest(tiny), _items_digest(reworded), _items_digest(recast)}) == 3
