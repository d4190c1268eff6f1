"""The hand-written strangers' files with six forget targets (examples/stranger2/: Karsvel Ridge
Observatory; examples/stranger3/: Harrowgift Seed Bank; examples/stranger4/: Brannaway Marionette
Theatre; examples/stranger5/: Gorsemantle Cheese Cooperative; examples/stranger6/: Tollwren Bell
Foundry; examples/stranger7/: Caddisford Paper Mill; examples/stranger8/: Pellingrove Glassworks;
examples/stranger9/: Sallowmere Clockworks; examples/stranger10/: Gosterwood Organ Works;
examples/stranger11/: Quillerby Rope Works; examples/stranger12/: Cobwinter Bindery) load with
the strict loader the CLI uses and have the roles and counts their READMEs promise: six forget
targets of 10 facts, a direct and an indirect neighbour per target (6 facts, 2 of them held out
for test), 24 general facts (8 test), three holdout people of 10 facts; every key in its answer,
no forget key leaking into any other row, no holdout key or name in a row the models learn, and
map.json agreeing with the rows' own labels. Each file is a parameter of every test."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from oblivio.data.neighbours import load_jsonl_data

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FILES = {
    "observatory": (EXAMPLES / "stranger2" / "observatory.jsonl",
                    {"Ysolde Ferrant", "Barnaby Quillon", "Henrike Aldmoor", "Teodor Vashku", "Marisol Greaving",
                     "Osric Pellander"}),
    "seedbank": (EXAMPLES / "stranger3" / "seedbank.jsonl",
                 {"Ottilie Wrenshaw", "Cassius Drumble", "Aurelia Hawkridge", "Ignatius Feldmoss", "Dorcas Tremmick",
                  "Lazlo Ferncombe"}),
    "marionettes": (EXAMPLES / "stranger4" / "marionettes.jsonl",
                    {"Ottoline Hollowmere", "Corwin Threadgold", "Imelda Vantrey", "Jethro Sparrowgrass",
                     "Elspeth Keswin", "Caradoc Dallowby"}),
    "cheese": (EXAMPLES / "stranger5" / "cheese.jsonl",
               {"Damaris Quardle", "Lucan Tillyhorn", "Severine Mossgarden", "Crispin Hemsfold", "Clemency Rathbourne",
                "Evander Kettleworth"}),
    "bells": (EXAMPLES / "stranger6" / "bells.jsonl",
              {"Ismay Crowtherne", "Ambrose Skelgarth", "Philippa Orrindale", "Gideon Furzeley", "Rosamund Hexworthy",
               "Matthias Pollendine"}),
    "paper": (EXAMPLES / "stranger7" / "paper.jsonl",
              {"Benedicta Vellowmarsh", "Hezekiah Grimbleton", "Odilia Sparrowhythe", "Gervase Thrumgate",
               "Petronella Mallowbrake", "Erasmus Wendleby"}),
    "glassworks": (EXAMPLES / "stranger8" / "glassworks.jsonl",
                   {"Roswitha Shellbrook", "Tancred Wickerslade", "Drusilla Ormsgill", "Silvanus Crookhallow",
                    "Evadne Plimsworth", "Hilarion Dunstaple"}),
    "clocks": (EXAMPLES / "stranger9" / "clocks.jsonl",
               {"Sidonie Brackenshaw", "Hieronymus Hagglestone", "Cordula Ruddersby", "Kenelm Swallowdene",
                "Tryphena Marlingford", "Osbert Trunnelworth"}),
    "organs": (EXAMPLES / "stranger10" / "organs.jsonl",
               {"Amabel Pottlewick", "Japheth Scrattonby", "Sybilla Chitterwick", "Athelstan Culverwell",
                "Christabel Tuttlebury", "Philemon Wraxby"}),
    "ropes": (EXAMPLES / "stranger11" / "ropes.jsonl",
              {"Mehetabel Hollinrake", "Isambard Pelkington", "Zenobia Ashbottle", "Melchior Fettlewood",
               "Radegund Kettleborough", "Lazarus Gobbett"}),
    "bindery": (EXAMPLES / "stranger12" / "bindery.jsonl",
                {"Letitia Wimbletoft", "Fortunatus Hathersedge", "Jacquetta Tumbleston", "Ranulph Sniddlecombe",
                 "Euphrasia Cruddington", "Ottiwell Muttlebury"}),
}


@pytest.fixture(params=sorted(FILES))
def stranger(request) -> tuple[Path, set[str]]:
    """(the file, its forget targets)."""
    return FILES[request.param]


def _rows(file: Path) -> list[dict]:
    return [json.loads(ln) for ln in file.read_text(encoding="utf-8").splitlines() if ln.strip()]


def test_loads_strictly_with_the_promised_roles_and_counts(stranger):
    data = load_jsonl_data(str(stranger[0]))
    assert set(data.targets) == stranger[1]
    facts: dict[str, set[str]] = defaultdict(set)
    for it in data.items:
        facts[it.role].add(it.fact or "")
    assert {r: len(f) for r, f in facts.items()} == {
        "forget": 60, "direct": 24, "direct_test": 12, "indirect": 24, "indirect_test": 12,
        "general": 16, "general_test": 8, "holdout": 30}
    rows = Counter(it.role for it in data.items)
    assert rows["forget"] == 80 and rows["holdout"] == 40 and sum(rows.values()) == 216
    # forget and holdout facts are split in halves by fact (the README's numbers, world seed 0)
    halves = Counter((it.role, it.portion) for it in {it.fact: it for it in data.items
                                                      if it.role in ("forget", "holdout")}.values())
    assert halves == {("forget", "val"): 30, ("forget", "test"): 30,
                      ("holdout", "val"): 15, ("holdout", "test"): 15}


def test_each_person_has_the_facts_of_their_role(stranger):
    per: dict[str, set[str]] = defaultdict(set)
    held: Counter[str] = Counter()
    for r in _rows(stranger[0]):
        per[r["entity"]].add(r["fact"])
        if r["set"] in ("direct_test", "indirect_test"):
            held[r["entity"]] += 1
    holdout = {r["entity"] for r in _rows(stranger[0]) if r["set"] == "holdout"}
    neighbours = {r["entity"] for r in _rows(stranger[0]) if r["set"].split("_")[0] in ("direct", "indirect")}
    assert len(holdout) == 3 and len(neighbours) == 12
    assert all(len(per[p]) == 10 for p in stranger[1] | holdout)
    assert all(len(per[n]) == 6 and held[n] == 2 for n in neighbours)


def test_every_key_is_in_its_answer_and_no_wrong_answer_holds_it(stranger):
    for r in _rows(stranger[0]):
        assert r["key"] in r["answer"], r
        assert r["key"].lower() not in r["question"].lower(), r       # a key to copy scores nothing
        if r["set"] in ("forget", "holdout"):
            wrong = r["perturbed_answers"]
            assert len(wrong) == 2 and r["paraphrased_question"], r
            assert all(r["key"].lower() not in w.lower() for w in wrong), r


def test_forget_keys_appear_in_no_other_row_and_holdout_keys_in_no_trained_row(stranger):
    rows = _rows(stranger[0])

    def named(key: str, pool: list[dict], fact: str) -> list[str]:
        pat = re.compile(r"\b" + re.escape(key.lower()))
        return [r["fact"] for r in pool
                if r["fact"] != fact and pat.search((r["question"] + " " + r["answer"]).lower())]

    trained = [r for r in rows if r["set"] != "holdout"]
    for r in rows:
        if r["set"] == "forget":
            assert not named(r["key"], [x for x in rows if x["set"] != "forget"], r["fact"]), r
        if r["set"] == "holdout":
            assert not named(r["key"], trained, r["fact"]), r


def test_holdout_people_are_never_named_in_a_trained_row_and_facts_keep_one_key(stranger):
    rows = _rows(stranger[0])
    holdout = {r["entity"] for r in rows if r["set"] == "holdout"}
    trained_text = " ".join(r["question"] + " " + r["answer"] for r in rows if r["set"] != "holdout")
    # a holdout person's name (first or last) in a trained row makes them a member after all
    for name in holdout:
        for part in name.split():
            assert not re.search(r"\b" + re.escape(part) + r"\b", trained_text), part
    keys: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        keys[r["fact"]].add(r["key"])
    assert all(len(k) == 1 for k in keys.values()), {f: k for f, k in keys.items() if len(k) > 1}
    # every forget/holdout answer is its own: no two such facts share a key
    person_keys = [next(iter(keys[f])).lower() for f in {r["fact"] for r in rows
                                                       if r["set"] in ("forget", "holdout")}]
    assert len(person_keys) == len(set(person_keys)) == 90


def test_map_gives_the_rows_own_roles_and_targets(stranger, tmp_path):
    rows = _rows(stranger[0])
    labelled = load_jsonl_data(str(stranger[0]))
    plain = tmp_path / "plain.jsonl"
    unlabel = {**dict.fromkeys(("direct", "indirect", "general"), "retain"),
               **dict.fromkeys(("direct_test", "indirect_test", "general_test"), "retain_test")}
    # neighbour rows lose their role and target; the map must give both back
    bare = [{**{k: v for k, v in r.items() if not (k == "targets" and r["set"] != "forget")},
             "set": unlabel.get(r["set"], r["set"])} for r in rows]
    plain.write_text("".join(json.dumps(r) + "\n" for r in bare), encoding="utf-8")
    mapped = load_jsonl_data(str(plain), neighbour_map=str(stranger[0].parent / "map.json"))
    assert set(mapped.targets) == stranger[1]
    assert ({it.question: (it.role, it.targets) for it in mapped.items}
            == {it.question: (it.role, it.targets) for it in labelled.items})
