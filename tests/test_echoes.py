"""Neighbour echoes (methods/echoes.py) and ``npo_swap``'s ``echo`` term: which questions are
asked (each forget question about each of its target's neighbours, once), which answers are
dropped (empty, or holding a forget key), the rows of a step (a rotation by step), and the term
by hand: ε times the mean NLL of the step's echo rows, written out token by token."""
from __future__ import annotations

import pytest
import torch

import oblivio.methods  # noqa: F401
from oblivio.config import build_method
from oblivio.engine.contract import RunInputs
from oblivio.engine.reference import Reference
from oblivio.errors import InputError
from oblivio.methods.alternate import AltAnswers
from oblivio.methods.base import StepContext
from oblivio.methods.echoes import Echoes, echo_questions, leaks, neighbours_of
from oblivio.methods.npo_swap import swap_name
from test_npo_me_tar import _nll
from test_npo_swap import TRUE, _method
from test_zoo import RETAIN, _batch, _llama

# three echo rows of other lengths (token ids, prompt length)
ECHO = [([3, 4, 9, 10], 2), ([5, 6, 7, 11, 12, 13], 3), ([8, 2, 14], 1)]


def _inputs(data, forget, retain, tok=None, fmt=None) -> RunInputs:
    return RunInputs(tokenizer=tok, fmt=fmt, data=data, forget=forget, retain=retain, seed=0)


def test_neighbours_and_questions_on_the_tiny_world(tiny_world):
    """A target's neighbours are the entities of the neighbour-role rows that name it (never
    the target itself, never a general row's entity); every forget question naming its
    target is asked about each of them, each question once, and names the neighbour."""
    data, _ = tiny_world
    retain = data.unlearning_retain()
    forget = data.forget
    nbrs = neighbours_of(_inputs(data, forget, retain))
    targets = {it.entity for it in forget if it.entity}
    # the world has a target in another target's neighbour rows (a spouse): left out
    assert any(it.entity in targets for it in retain if it.role in ("direct", "indirect"))
    assert nbrs and set(nbrs) <= targets
    for target, names in nbrs.items():
        assert not targets & set(names) and names == sorted(names)
        for n in names:
            assert any(it.entity == n and target in it.targets and it.role in ("direct", "indirect") for it in retain)
    in_neighbour_rows = {it.entity for it in retain if it.role in ("direct", "indirect")}
    general_only = {it.entity for it in retain if it.role == "general"} - in_neighbour_rows
    assert general_only and not general_only & {n for names in nbrs.values() for n in names}
    asked = echo_questions(_inputs(data, forget, retain))
    questions = [q for q, _ in asked]
    assert len(questions) == len(set(questions)) > 0
    for q, i in asked:
        it = forget[i]
        assert q != it.question and any(q == swap_name(it.question, it.entity, n) for n in nbrs[it.entity])
        assert any(n in q for n in nbrs[it.entity]) and it.entity not in q
    # every (forget question, neighbour) pair is asked unless its question repeats an earlier one
    pairs = {swap_name(it.question, it.entity, n) for it in forget for n in nbrs.get(it.entity, [])}
    assert set(questions) == pairs - {it.question for it in forget}


def test_no_neighbour_rows_no_echoes(tiny_world):
    data, _ = tiny_world
    general = [it for it in data.unlearning_retain() if it.role == "general"]
    assert echo_questions(_inputs(data, data.forget, general)) == []


def test_leaks_is_a_case_blind_substring_test():
    assert leaks("She was born in PELLING CROSS.", ["Pelling Cross"])
    assert not leaks("She was born in Pelling.", ["Pelling Cross", "1994"])
    assert not leaks("anything", [])


def test_empty_and_leaking_answers_are_dropped_and_the_rest_encoded(monkeypatch, tiny_world, fresh_base):
    import oblivio.eval.generate as G
    from oblivio.models.format import cached_answer, cached_prompt, resolve_format
    data, _ = tiny_world
    model, tok = fresh_base
    fmt = resolve_format(tok, None)
    inputs = _inputs(data, data.forget, data.unlearning_retain(), tok, fmt)
    asked = echo_questions(inputs)
    assert len(asked) >= 4
    key = next(it.key for it in data.forget if it.key)
    said = ["  ", f"Someone met {key.upper()} once."] + [f"Answer number {k}." for k in range(len(asked) - 2)]
    seen: dict = {}

    def fake(_model, _tok, prompts, max_new_tokens, fmt):
        seen["prompts"], seen["limits"] = prompts, max_new_tokens
        return [G.Generation(t) for t in said]
    monkeypatch.setattr(G, "greedy_generate", fake)
    e = Echoes(model, inputs)
    assert e.counts == {"asked": len(asked), "empty": 1, "leaking_a_forget_key": 1, "kept": len(asked) - 2}
    assert seen["prompts"][0] == cached_prompt(tok, fmt, asked[0][0])
    assert seen["limits"][0] == len(cached_answer(tok, fmt, data.forget[asked[0][1]].answer)) + 8
    # kept row k is asked question k + 2 with answer k
    for k in (0, len(e) - 1):
        seq, start = e.rows.rows.seqs[k], e.rows.rows.starts[k]
        assert seq[start:] == cached_answer(tok, fmt, f"Answer number {k}.")
        assert tok.decode(seq[:start]) == tok.decode(cached_prompt(tok, fmt, asked[k + 2][0]))
    assert e.report()["examples"][0] == {"question": asked[2][0], "answer": "Answer number 0."}


def _echoes(rows=ECHO) -> Echoes:
    e = Echoes.__new__(Echoes)
    e.rows = AltAnswers.from_ids(rows, pad_id=0)
    e.counts = {"asked": len(rows), "empty": 0, "leaking_a_forget_key": 0, "kept": len(rows)}
    e.examples = []
    return e


def _rows_of(batch) -> list[list[int]]:
    """The unpadded token ids of each row of an echo batch."""
    return [ids[m.bool()].tolist() for ids, m in zip(batch["input_ids"], batch["attention_mask"])]


def test_a_step_reads_a_rotation_of_the_rows():
    e = _echoes()
    seqs = [s for s, _ in ECHO]
    dev = torch.device("cpu")
    assert _rows_of(e.batch(0, 2, dev)) == [seqs[0], seqs[1]]
    assert _rows_of(e.batch(1, 2, dev)) == [seqs[2], seqs[0]]
    assert _rows_of(e.batch(1, 2, dev)) == _rows_of(e.batch(1, 2, dev))
    # never more rows than there are: step 5 of 8 starts at row 40 mod 3 = 1
    assert _rows_of(e.batch(5, 8, dev)) == [seqs[1], seqs[2], seqs[0]]
    empty = Echoes.__new__(Echoes)
    empty.rows, empty.counts = None, {"kept": 0}
    assert empty.batch(3, 2, dev) is None


def test_the_echo_term_is_epsilon_times_the_nll_of_the_steps_rows():
    model, ref = _llama(0), Reference(_llama(1), "copy")
    batch = {"forget": _batch(TRUE), "retain": _batch(RETAIN)}
    args = {"beta": 0.5, "alpha": 0.7, "mix": 0.4, "tokens": 0.3}
    ctx = StepContext(model=model, reference=ref, step=1, max_steps=2)
    plain = _method(**args).loss(ctx, batch)
    m = _method(**args, echo=2.5)
    m._echoes = _echoes()
    got = m.loss(ctx, batch)
    # step 1, three forget rows: rows 3, 4, 5 of the rotation = 0, 1, 2
    hand = _nll(model, ECHO)
    assert hand.item() > 0.5
    assert got.parts["retain_echo"].item() == pytest.approx(hand.item(), rel=1e-5)
    assert got.total.item() == pytest.approx(plain.total.item() + 2.5 * hand.item(), rel=1e-5)
    # another step reads other rows (2 forget rows: step 1 → rows 2 and 0)
    two = {"forget": _batch(TRUE[:2]), "retain": _batch(RETAIN)}
    got2 = m.loss(ctx, two).parts["retain_echo"].item()
    assert got2 == pytest.approx(_nll(model, [ECHO[2], ECHO[0]]).item(), rel=1e-5)
    assert abs(got2 - _nll(model, ECHO[:2]).item()) > 1e-4


def test_the_echo_term_is_off_by_default_and_never_negative():
    assert build_method("npo_swap", {}).echo == 0.0
    with pytest.raises(InputError) as e:
        build_method("npo_swap", {"echo": -1.0})
    assert e.value.field == "unlearn.args.echo"


def test_echoes_train_from_the_api_and_are_recorded(tiny_cfg, tmp_path):
    import json

    from test_zoo import two_step_history
    hist = two_step_history(tiny_cfg, tmp_path / "run", "npo_swap", {"echo": 1.0, "tokens": 1.0})
    for h in hist:
        assert h["retain_echo"] > 0
        # npo_swap's own α 1, echo weight 1
        assert h["loss"] == pytest.approx(h["forget"] + h["retain"] + h["retain_echo"], rel=1e-5)
    rec = json.loads((tmp_path / "run" / "results.json").read_text())["training"]["stand_ins"]["echoes"]
    assert rec["asked"] == rec["empty"] + rec["leaking_a_forget_key"] + rec["kept"] and rec["kept"] > 0


def test_the_echo_weight_is_set_from_the_cli():
    from test_zoo import cli_unlearn_section
    u = cli_unlearn_section("--method", "npo_swap", "--set", "unlearn.args.echo=2")
    assert build_method(u.method, u.args).echo == 2.0
    # the default recipe's own weight, when no method is named
    assert build_method(*(lambda s: (s.method, s.args))(cli_unlearn_section())).echo == 3.0
