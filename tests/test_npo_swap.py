"""``npo_swap`` (methods/npo_swap.py): stand-in names, the aligned token targets by hand on a
4-layer random Llama, the generated stand-in answers on the tiny world, API and CLI.

The hand value of the token term runs the reference on every *unpadded* stand-in sequence
alone, reads its distribution at the position that predicts each aligned answer token, sets
the true token's probability to 0 inside the key and renormalises, and takes KL(q ‖ p) against
the model's distribution at the position that predicts the same token of the true answer. A
term whose KL runs the other way, whose key ban is off or bans the next token, whose alignment
is shifted by one, or whose two targets' weights are swapped gives another number.
"""
from __future__ import annotations

import math

import pytest
import torch

import oblivio.methods  # noqa: F401
from oblivio.config import build_method
from oblivio.engine.reference import Reference
from oblivio.methods.alternate import AltAnswers
from oblivio.methods.base import StepContext
from oblivio.methods.npo_swap import STAND_INS, StandIns, key_positions, stand_ins, swap_name
from test_npo_me_tar import _attacked, _me, _nll
from test_zoo import RETAIN, _batch, _llama, cli_unlearn_section, two_step_history

# three forget rows (true answers) and their stand-in rows: prompts of other lengths, answers
# that differ where the name was (row 0: one answer token replaced by two)
TRUE = [([3, 5, 7, 9, 11, 6], 2), ([4, 6, 8, 10, 12, 14, 16], 3), ([13, 15, 17, 19], 1)]
SWAPPED = [([3, 2, 5, 21, 22, 9, 11, 6], 3), ([4, 1, 6, 8, 10, 12, 14, 16], 4), ([13, 15, 17, 19], 1)]
GENERATED = [([3, 5, 7, 18, 20], 2), ([4, 6, 8, 2, 2, 1], 3), ([13, 15, 17], 1)]
# answer token j of the true answer ↔ answer token k of the stand-in answer
PAIRS = [[(1, 2), (2, 3), (3, 4)], [(0, 0), (1, 1), (3, 3)], [(0, 0), (1, 1), (2, 2)]]
# inside the key: answer position j → the true token there (banned from the target)
KEYS = [{1: 9, 2: 11}, {}, {0: 15}]
# what the anchor holds (answer positions): row 0 its name and no next word (a key token), row
# 1 a name token and the word after it; row 2 nothing
HOLDS = [[0], [2, 3], []]


def _stand_ins(has: list[bool] | None = None) -> StandIns:
    s = StandIns.__new__(StandIns)
    s.has = has or [True] * len(TRUE)
    s.answers = AltAnswers.from_ids(GENERATED, pad_id=0)
    s.swapped = AltAnswers.from_ids(SWAPPED, pad_id=0)
    s.pairs, s.key_tokens, s.names, s.examples = PAIRS, KEYS, {}, []
    s.holds = [[] for _ in TRUE]
    return s


def _method(**args):
    m = build_method("npo_swap", args)
    m._swap = _stand_ins()
    if m.anchor > 0:
        m._swap.holds = HOLDS
    return m


def _logp(model, seq):
    return torch.log_softmax(model(input_ids=torch.tensor([seq])).logits[0].float(), -1)


def _token_kl(model, ref, rows: list[int], *, reverse=False, ban=True, shift=0, share=1.0) -> torch.Tensor:
    """Mean over the aligned answer tokens of ``rows`` of KL(q ‖ p), written out (see module
    docstring); ``share`` < 1 takes that share of the true token's mass away inside the key
    (its probability times 1 − share, before renormalising) instead of all of it."""
    kls = []
    for i in rows:
        (seq, p), (sseq, sp) = TRUE[i], SWAPPED[i]
        logp = _logp(model, seq)
        with torch.no_grad():
            logq_all = _logp(ref, sseq)
        for j, k in PAIRS[i]:
            q = logq_all[sp + k - 1].clone()
            if ban and j in KEYS[i]:
                t = KEYS[i][j] + shift
                q[t] = -math.inf if share >= 1 else q[t] + math.log(1 - share)
            lq = torch.log_softmax(q, -1)
            lp = logp[p + j - 1]
            if reverse:
                kls.append((lp.exp() * (lp - lq)).masked_fill(lq.isinf(), 0).sum())
            else:
                kls.append((lq.exp() * (lq - lp)).masked_fill(lq.isinf(), 0).sum())
    return torch.stack(kls).mean()


def test_swap_name_replaces_the_whole_name_else_its_parts_as_words():
    assert swap_name("Where was Ada Smith born?", "Ada Smith", "Morwen Tallis") == "Where was Morwen Tallis born?"
    assert swap_name("What is Smith's job?", "Ada Smith", "Morwen Tallis") == "What is Tallis's job?"
    assert swap_name("Did Ada marry Smithers?", "Ada Smith", "Morwen Tallis") == "Did Morwen marry Smithers?"
    assert swap_name("Where is Kew?", "Ada Smith", "Morwen Tallis") == "Where is Kew?"
    # a stand-in with fewer parts takes its last part for the rest
    assert swap_name("Ada Jane Smith's, Smith", "Ada Jane Smith", "Bo") == "Bo's, Bo"
    assert swap_name("Jane Smith", "Ada Jane Smith", "Bo Li") == "Li Li"
    # a lone surname stays a surname, whatever the two names' numbers of parts
    assert swap_name("Tallis lives in Leeds.", "Morwen Tallis", "Mary Ann Smith") == "Smith lives in Leeds."
    # the replacement is literal text, never a regular-expression template
    assert swap_name("Smith's dog", "Ada Smith", r"B \1") == r"\1's dog"


def test_stand_ins_skip_names_the_data_mentions_and_follow_the_seed():
    texts = [f"{STAND_INS[0]} was born in Leeds.", f"Ask {STAND_INS[1].split()[1]}."]
    got = stand_ins(["B", "A", "C"], texts, seed=3)
    assert set(got) == {"A", "B", "C"} and len(set(got.values())) == 3
    assert not {STAND_INS[0], STAND_INS[1]} & set(got.values())
    assert got == stand_ins(["C", "A", "B"], texts, seed=3)
    assert any(stand_ins(["A", "B", "C"], texts, seed=s) != got for s in range(4, 12))
    many = stand_ins([f"e{i}" for i in range(30)], [], seed=0)
    assert set(many.values()) == set(STAND_INS)


def test_the_token_term_by_hand_with_the_key_ban_and_against_its_slips():
    model, ref = _llama(0), Reference(_llama(1), "copy")
    method = _method(tokens=1.0)
    method._reference = ref
    f = _batch(TRUE)
    from oblivio.methods.ops import logits_and_logprobs
    logits, _, mask = logits_and_logprobs(model, f)
    name, got = method.spread_term(model, f, logits, mask)
    want = _token_kl(model, ref._model, [0, 1, 2])
    assert name == "forget_swap" and got.item() == pytest.approx(want.item(), rel=1e-5)
    slips = {"reverse KL": _token_kl(model, ref._model, [0, 1, 2], reverse=True),
             "no ban": _token_kl(model, ref._model, [0, 1, 2], ban=False),
             "next token banned": _token_kl(model, ref._model, [0, 1, 2], shift=1)}
    for slip, v in slips.items():
        assert abs(v.item() - want.item()) > 1e-3 * abs(want.item()), slip
    # the alignment read one position late is another number too
    late = _method(tokens=1.0)
    late._reference = ref
    late._swap.pairs = [[(j + 1, k) for j, k in ps if j + 1 < len(TRUE[i][0]) - TRUE[i][1]]
                        for i, ps in enumerate(PAIRS)]
    assert abs(late.spread_term(model, f, logits, mask)[1].item() - want.item()) > 1e-3 * want.item()
    # the gradient reaches the model and not the reference
    got.backward()
    assert model.lm_head.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in ref._model.parameters())


def test_a_partial_key_ban_scales_the_true_tokens_mass_and_zero_is_no_ban():
    model, ref = _llama(0), Reference(_llama(1), "copy")
    f = _batch(TRUE)
    from oblivio.methods.ops import logits_and_logprobs
    logits, _, mask = logits_and_logprobs(model, f)

    def term(ban: float) -> float:
        m = _method(tokens=1.0, ban=ban)
        m._reference = ref
        return m.spread_term(model, f, logits, mask)[1].item()
    half = _token_kl(model, ref._model, [0, 1, 2], share=0.5).item()
    assert term(0.5) == pytest.approx(half, rel=1e-5)
    assert term(0.0) == pytest.approx(_token_kl(model, ref._model, [0, 1, 2], ban=False).item(), rel=1e-5)
    full = _token_kl(model, ref._model, [0, 1, 2]).item()
    assert term(1.0) == pytest.approx(full, rel=1e-5)
    # the three are three numbers: the share is read, and read as the share taken away
    assert len({round(v, 6) for v in (half, full, term(0.0))}) == 3
    quarter = _token_kl(model, ref._model, [0, 1, 2], share=0.25).item()
    assert term(0.25) == pytest.approx(quarter, rel=1e-5)
    assert abs(term(0.5) - quarter) > 1e-4


def _floor_npo(model, ref, beta: float, floor: float, *, banned_level=False,
               has: tuple[bool, ...] = (True, True, True)) -> tuple[float, list[bool]]:
    """NPO with the stranger floor, written out: per row, the mean over its aligned answer tokens
    of log p_θ(true token) against the mean of the reference's log-probability of the same token
    after the stand-in question (before the key ban, unless ``banned_level``); a row at or below
    keeps 1 − floor of its NPO term (a row without a stand-in, ``has`` false, keeps all of it);
    every row's term summed over its answer and divided by the rows."""
    terms, below = [], []
    for i in range(len(TRUE)):
        (seq, p), (sseq, sp) = TRUE[i], SWAPPED[i]
        with torch.no_grad():
            logp, logr, logq_all = _logp(model, seq), _logp(ref, seq), _logp(ref, sseq)
        mine, strange = [], []
        for j, k in PAIRS[i]:
            tok = seq[p + j]
            q = logq_all[sp + k - 1].clone()
            if banned_level and j in KEYS[i]:
                q[KEYS[i][j]] = -math.inf
            mine.append(logp[p + j - 1, tok].item())
            strange.append(torch.log_softmax(q, -1)[tok].item())
        low = has[i] and sum(mine) / len(mine) <= sum(strange) / len(strange)
        below.append(low)
        lp = sum(logp[t - 1, seq[t]].item() for t in range(p, len(seq)))
        lr = sum(logr[t - 1, seq[t]].item() for t in range(p, len(seq)))
        w = 1 - floor if low else 1.0
        terms.append(-(2 / beta) * w * torch.nn.functional.logsigmoid(torch.tensor(-beta * (lp - lr))).item())
    return sum(terms) / len(terms), below


def test_the_stranger_floor_weighs_npo_by_row_at_the_stand_in_level_by_hand():
    """Rows are below or above the floor by their own tokens (the hand values show both kinds),
    the level is read before the key ban, and the weight goes to the row that is below."""
    model, ref = _llama(0), Reference(_llama(1), "copy")
    batch = {"forget": _batch(TRUE), "retain": _batch(RETAIN)}
    ctx = StepContext(model=model, reference=ref, step=0, max_steps=1)
    want, below = _floor_npo(model, ref._model, 0.5, 0.8)
    assert any(below) and not all(below)
    got = _method(beta=0.5, tokens=1.0, floor=0.8).loss(ctx, batch)
    assert got.parts["forget_npo"].item() == pytest.approx(want, rel=1e-5)
    plain = _method(beta=0.5, tokens=1.0).loss(ctx, batch).parts["forget_npo"].item()
    assert plain == pytest.approx(_floor_npo(model, ref._model, 0.5, 0.0)[0], rel=1e-5)
    assert abs(plain - want) > 1e-3 * abs(want)
    # the rows the other way round, or the level read after the ban, are other numbers
    mirror = _method(beta=0.5, tokens=1.0, floor=0.8)
    import oblivio.methods.npo_swap as S
    real = S.below_floor
    try:
        S.below_floor = lambda *a: ~real(*a)
        flipped = mirror.loss(ctx, batch).parts["forget_npo"].item()
    finally:
        S.below_floor = real
    assert abs(flipped - want) > 1e-3 * abs(want)
    after_ban, below_b = _floor_npo(model, ref._model, 0.5, 0.8, banned_level=True)
    assert below_b != below and abs(after_ban - want) > 1e-3 * abs(want)
    # rows are read by their place among the rows with a stand-in: with the first row without
    # one, the others keep their own levels
    part = _method(beta=0.5, tokens=1.0, floor=0.8)
    part._swap.has = [False, True, True]
    want_part, below_part = _floor_npo(model, ref._model, 0.5, 0.8, has=(False, True, True))
    assert below_part[1:] == below[1:] and not below_part[0]
    assert part.loss(ctx, batch).parts["forget_npo"].item() == pytest.approx(want_part, rel=1e-5)
    # the floor's gradient is NPO's own on the rows it keeps: the gate itself is not trained
    model.zero_grad()
    got.parts["forget_npo"].backward()
    assert model.lm_head.weight.grad.abs().sum() > 0


def test_below_floor_compares_means_per_row_and_a_row_without_tokens_is_not_below():
    from oblivio.methods.npo_swap import below_floor
    rows = torch.tensor([0, 0, 0, 2])
    mine = torch.tensor([-1.0, -5.0, -3.0, -2.0])
    strange = torch.tensor([-2.0, -2.0, -2.0, -1.0])
    # row 0: mean −3 against −2 (below); row 1 has no token; row 2: −2 against −1 (below)
    assert below_floor(rows, mine, strange, 3).tolist() == [True, False, True]
    assert below_floor(rows, mine + 1.5, strange, 3).tolist() == [False, False, False]
    # at the level counts as below: the push has already brought the row there
    assert below_floor(rows, mine + 1.0, strange, 3).tolist() == [True, False, True]
    # one token far below does not pull an otherwise familiar row under: the mean decides
    one_row = below_floor(torch.tensor([0, 0]), torch.tensor([-9.0, 0.0]), torch.tensor([-5.0, -5.0]), 1)
    assert one_row.tolist() == [False]


def test_the_loss_mixes_npo_with_the_two_targets_and_keeps_max_entropy_where_there_is_no_stand_in():
    model, ref = _llama(0), Reference(_llama(1), "copy")
    batch = {"forget": _batch(TRUE), "retain": _batch(RETAIN)}
    args = {"beta": 0.5, "alpha": 0.7, "mix": 0.4}
    ctx = StepContext(model=model, reference=ref, step=0, max_steps=1)
    npo = build_method("npo_me", {**args, "mix": 1.0}).loss(ctx, batch)
    method = _method(**args, tokens=0.3)
    got = method.loss(ctx, batch)
    gen_nll = _nll(model, GENERATED)
    want_swap = 0.7 * gen_nll.item() + 0.3 * _token_kl(model, ref._model, [0, 1, 2]).item()
    assert got.parts["forget_swap"].item() == pytest.approx(want_swap, rel=1e-5)
    assert got.parts["forget"].item() == pytest.approx(0.4 * npo.parts["forget_npo"].item() + 0.6 * want_swap, rel=1e-5)
    assert got.total.item() == pytest.approx(got.parts["forget"].item() + 0.7 * npo.parts["retain"].item(), rel=1e-5)
    swapped_weights = 0.3 * gen_nll.item() + 0.7 * _token_kl(model, ref._model, [0, 1, 2]).item()
    assert abs(swapped_weights - want_swap) > 1e-3 * want_swap
    # rows 0 and 2 without a stand-in: maximum entropy on them, the targets on row 1, by row count
    part = _method(**args, tokens=0.3)
    part._swap.has = [False, True, False]
    got2 = part.loss(ctx, batch).parts["forget_swap"].item()
    row1 = 0.7 * _nll(model, [GENERATED[1]]).item() + 0.3 * _token_kl(model, ref._model, [1]).item()
    assert got2 == pytest.approx((row1 + 2 * _me(model, [TRUE[0], TRUE[2]]).item()) / 3, rel=1e-5)


def test_rows_are_matched_to_their_items_by_index_not_by_position_in_the_batch():
    """A shuffled batch (MELU's are): row r carries item ``index[r]``, whose stand-in it must use."""
    model, ref = _llama(0), Reference(_llama(1), "copy")
    order = [1, 0, 2]
    batch = {"forget": _batch([TRUE[i] for i in order]), "retain": _batch(RETAIN)}
    batch["forget"]["index"] = torch.tensor(order)
    ctx = StepContext(model=model, reference=ref, step=0, max_steps=1)
    method = _method(tokens=1.0)
    method._swap.has = [False, True, False]      # item 1 only: the batch's first row
    got = method.loss(ctx, batch).parts["forget_swap"].item()
    want = (_token_kl(model, ref._model, [1]).item() + 2 * _me(model, [TRUE[0], TRUE[2]]).item()) / 3
    assert got == pytest.approx(want, rel=1e-5)


def test_the_tamper_term_asks_the_stand_in_targets_after_the_simulated_attack():
    model, ref = _llama(0), Reference(_llama(1), "copy")
    method = _method(tokens=0.5, tamper=1.0, tamper_steps=2, tamper_lr=0.02)
    method._reference = ref
    term = method.tamper_term(model, _batch(TRUE), [0, 2], [1])
    moved = _attacked(model, [TRUE[0], TRUE[2]], 2, 0.02)
    want = 0.5 * _nll(moved, [GENERATED[1]]) + 0.5 * _token_kl(moved, ref._model, [1])
    assert term.item() == pytest.approx(want.item(), rel=1e-5)
    plain = 0.5 * _nll(model, [GENERATED[1]]) + 0.5 * _token_kl(model, ref._model, [1])
    assert abs(plain.item() - want.item()) > 1e-3 * want.item()


def _lens_kl(model, ref, rows: list[int], layers=(1, 2, 3)) -> torch.Tensor:
    """KL(q ‖ lens_ℓ) at the aligned answer tokens of ``rows``, averaged over tokens, then over
    the intermediate ``layers`` (hidden_states[ℓ] through the final norm and the head)."""
    per_layer = []
    for layer in layers:
        kls = []
        for i in rows:
            (seq, p), (sseq, sp) = TRUE[i], SWAPPED[i]
            h = model(input_ids=torch.tensor([seq]), output_hidden_states=True).hidden_states[layer][0]
            lens = torch.log_softmax(model.lm_head(model.model.norm(h)).float(), -1)
            with torch.no_grad():
                logq_all = _logp(ref, sseq)
            for j, k in PAIRS[i]:
                q = logq_all[sp + k - 1].clone()
                if j in KEYS[i]:
                    q[KEYS[i][j]] = -math.inf
                lq = torch.log_softmax(q, -1)
                kls.append((lq.exp() * (lq - lens[p + j - 1])).masked_fill(lq.isinf(), 0).sum())
        per_layer.append(torch.stack(kls).mean())
    return torch.stack(per_layer).mean()


def test_the_lens_term_asks_every_intermediate_layer_for_the_stand_in_distributions():
    model, ref = _llama(0), Reference(_llama(1), "copy")
    batch = {"forget": _batch(TRUE), "retain": _batch(RETAIN)}
    ctx = StepContext(model=model, reference=ref, step=0, max_steps=1)
    got = _method(tokens=0.5, lens=0.4).loss(ctx, batch)
    want = _lens_kl(model, ref._model, [0, 1, 2])
    assert got.parts["forget_lens"].item() == pytest.approx(want.item(), rel=1e-5)
    no_lens = _method(tokens=0.5).loss(ctx, batch)
    assert got.total.item() == pytest.approx(no_lens.total.item() + 0.4 * want.item(), rel=1e-5)
    # the last layer (the output's own) is not a lens layer; maximum entropy is another target
    assert abs(_lens_kl(model, ref._model, [0, 1, 2], layers=(1, 2, 3, 4)).item() - want.item()) > 1e-3 * want.item()
    npo_me = build_method("npo_me", {"lens": 0.4}).loss(ctx, batch)
    assert abs(npo_me.parts["forget_lens"].item() - want.item()) > 1e-3 * want.item()
    # rows without a stand-in keep maximum entropy on their lens, weighted by the row count
    part = _method(tokens=0.5, lens=0.4)
    part._swap.has = [False, True, False]
    from oblivio.methods.ops import lens_kl_uniform
    f = _batch([TRUE[0], TRUE[2]])
    hid = model(input_ids=f["input_ids"], attention_mask=f["attention_mask"], output_hidden_states=True).hidden_states
    me02 = lens_kl_uniform(model, hid, f["labels"][:, 1:].ne(-100)).item()
    want2 = (_lens_kl(model, ref._model, [1]).item() + 2 * me02) / 3
    assert part.loss(ctx, batch).parts["forget_lens"].item() == pytest.approx(want2, rel=1e-5)


@pytest.mark.parametrize("args", [{"tokens": -0.1}, {"tokens": 1.5}, {"tamper": -1.0}, {"floor": 1.2},
                                  {"floor": -0.1}, {"ban": 1.5}, {"ban": -0.5}])
def test_arguments_out_of_range_are_refused(args):
    from oblivio.errors import InputError
    with pytest.raises(InputError) as e:
        build_method("npo_swap", args)
    assert e.value.field == f"unlearn.args.{next(iter(args))}"


def test_stand_ins_on_the_tiny_world(tiny_world, fresh_base):
    """Every forget question of the world names its target, so every item gets a stand-in; the
    stand-in rows say the stand-in name where the true rows say the target's; the aligned
    tokens agree and leave out only the name; the key positions decode to the key; the
    generated answer is the model's own greedy answer to the stand-in question, name written back."""
    from oblivio.engine.contract import RunInputs
    from oblivio.eval.generate import greedy_generate
    from oblivio.models.format import cached_answer, cached_prompt, resolve_format
    data, _ = tiny_world
    model, tok = fresh_base
    fmt = resolve_format(tok, None)
    forget = data.forget[:12]
    s = StandIns(model, RunInputs(tokenizer=tok, fmt=fmt, data=data, forget=forget, retain=[], seed=0),
                 generate=True)
    assert all(s.has) and set(s.names) == {it.entity for it in forget}
    texts = " ".join(t for it in data.items for t in (it.question, it.answer))
    assert not any(part in texts for n in s.names.values() for part in n.split())
    for i, it in enumerate(forget):
        stand = s.names[it.entity]
        seq, start = s.swapped.rows.seqs[i], s.swapped.rows.starts[i]
        assert tok.decode(seq[:start]) == tok.decode(cached_prompt(tok, fmt, it.question.replace(it.entity, stand)))
        a = cached_answer(tok, fmt, it.answer)
        b = seq[start:]
        assert all(a[j] == b[k] for j, k in s.pairs[i])
        assert len(s.pairs[i]) == len(a) - (len(tok(it.entity, add_special_tokens=False)["input_ids"])
                                           if it.entity in it.answer else 0)
        keys = key_positions(tok, a, it.key)
        assert keys and it.key in tok.decode([a[j] for j in keys])
        assert s.key_tokens[i] == {j: a[j] for j in keys}
    gens = greedy_generate(model, tok, [cached_prompt(tok, fmt, it.question.replace(it.entity, s.names[it.entity]))
                                        for it in forget[:3]],
                           max_new_tokens=[len(cached_answer(tok, fmt, it.answer)) + 8 for it in forget[:3]], fmt=fmt)
    for i, (it, g) in enumerate(zip(forget[:3], gens)):
        want = swap_name(str(g).strip(), s.names[it.entity], it.entity)
        seq, start = s.answers.rows.seqs[i], s.answers.rows.starts[i]
        assert seq[start:] == cached_answer(tok, fmt, want)
    rep = s.report()
    assert rep["items"] == rep["stand_in"] == 12 and rep["maximum_entropy"] == 0 and len(rep["examples"]) == 3


def test_generated_answers_write_the_target_back_and_drop_empty_ones(monkeypatch, tiny_world, fresh_base):
    import oblivio.eval.generate as G
    from oblivio.engine.contract import RunInputs
    from oblivio.methods.npo_swap import generated_answers
    from oblivio.models.format import resolve_format
    data, _ = tiny_world
    model, tok = fresh_base
    forget = data.forget[:3]
    names = {it.entity: "Morwen Tallis" for it in forget}
    said = ["Morwen Tallis was born in Leeds.", "  ", "Tallis's sister is a pilot."]
    monkeypatch.setattr(G, "greedy_generate", lambda *a, **k: [G.Generation(t) for t in said])
    inputs = RunInputs(tokenizer=tok, fmt=resolve_format(tok, None), data=data, forget=forget, retain=[])
    answers, has = generated_answers(model, inputs, [it.question for it in forget], [True] * 3, names)
    ent0, ent2 = forget[0].entity, forget[2].entity
    assert answers[0] == f"{ent0} was born in Leeds." and has[0]
    assert answers[1] == forget[1].answer and not has[1]
    assert answers[2] == f"{ent2.split()[-1]}'s sister is a pilot." and has[2]


def test_stand_ins_skip_names_any_row_mentions_and_an_unnamed_target_keeps_max_entropy(fresh_base):
    """A name a held-out row mentions is no stand-in; a forget question that does not name its
    entity has none, and the report counts it."""
    from oblivio.data.schema import QAItem, UnlearningData
    from oblivio.engine.contract import RunInputs
    from oblivio.models.format import resolve_format
    model, tok = fresh_base
    forget = [QAItem(id="f1", question="Where was Ada Smith born?", answer="Ada Smith was born in Leeds.",
                     role="forget", entity="Ada Smith", key="Leeds", fact="a1"),
              QAItem(id="f2", question="Who painted the Blue Door?", answer="Ada Smith painted it.",
                     role="forget", entity="Ada Smith", key="Ada", fact="a2")]
    told = QAItem(id="h1", question="Who came?", answer=", ".join(STAND_INS[:-1]) + " came.", role="retain",
                  key="came", fact="h1")
    data = UnlearningData(items=[*forget, told], neighbour_roles=False)
    s = StandIns(model, RunInputs(tokenizer=tok, fmt=resolve_format(tok, None), data=data, forget=forget,
                                  retain=[told]), generate=False)
    assert s.names == {"Ada Smith": STAND_INS[-1]}
    assert s.has == [True, False]
    rep = s.report()
    assert (rep["stand_in"], rep["maximum_entropy"]) == (1, 1)


def test_key_positions_cover_the_key_and_nothing_without_one(fresh_base):
    _, tok = fresh_base
    ids = tok("She was born in Tunteim in 1970.", add_special_tokens=False)["input_ids"]
    pos = key_positions(tok, ids, "Tunteim")
    assert pos and "Tunteim" in tok.decode([ids[j] for j in pos])
    assert "was" not in tok.decode([ids[j] for j in pos]) and "1970" not in tok.decode([ids[j] for j in pos])
    assert key_positions(tok, ids, None) == [] and key_positions(tok, ids, "Leeds") == []


def test_npo_swap_trains_from_the_api_and_is_set_from_the_cli(tiny_cfg, tmp_path):
    hist = two_step_history(tiny_cfg, tmp_path / "run", "npo_swap", {"mix": 0.5, "tokens": 0.5})
    for h in hist:
        assert h["forget_swap"] > 0
        assert h["forget"] == pytest.approx(0.5 * h["forget_npo"] + 0.5 * h["forget_swap"], rel=1e-5)
    import json
    rec = json.loads((tmp_path / "run" / "results.json").read_text())["training"]["stand_ins"]
    assert rec["stand_in"] == rec["items"] > 0 and rec["examples"]
    u = cli_unlearn_section("--method", "npo_swap", "--set", "unlearn.args.tokens=0.2")
    assert u.method == "npo_swap" and build_method(u.method, u.args).tokens == 0.2


def test_the_floor_and_the_ban_train_from_the_api_and_are_set_from_the_cli(tiny_cfg, tmp_path):
    """A run with the floor and a partial ban trains from the API and records both; at the first
    step (same model, same batch) the floor can only take NPO's push away, and the token
    targets are the same run's without it (the hand values are in the tests above)."""
    on = two_step_history(tiny_cfg, tmp_path / "on", "npo_swap", {"mix": 0.5, "tokens": 1.0, "floor": 1.0, "ban": 0.5})
    off = two_step_history(tiny_cfg, tmp_path / "off", "npo_swap", {"mix": 0.5, "tokens": 1.0, "ban": 0.5})
    assert on[0]["forget_npo"] <= off[0]["forget_npo"] + 1e-6
    assert on[0]["forget_swap"] == pytest.approx(off[0]["forget_swap"], rel=1e-5)
    import json
    cfg = json.loads((tmp_path / "on" / "results.json").read_text())["config"]["unlearn"]["args"]
    assert cfg["floor"] == 1.0 and cfg["ban"] == 0.5
    u = cli_unlearn_section("--method", "npo_swap", "--set", "unlearn.args.floor=0.75", "--set", "unlearn.args.ban=0.5")
    m = build_method(u.method, u.args)
    assert (m.floor, m.ban) == (0.75, 0.5)


def test_the_reference_is_built_only_when_npo_or_the_token_targets_read_it():
    assert "reference" not in build_method("npo_swap", {"mix": 0.0, "tokens": 0.0}).uses
    assert "reference" in build_method("npo_swap", {"mix": 0.0, "tokens": 0.5}).uses
    assert "reference" in build_method("npo_swap", {"mix": 0.5, "tokens": 0.0}).uses
    assert "reference" in build_method("npo_swap", {"mix": 0.0, "tokens": 0.0, "lens": 1.0}).uses
    assert "reference" in build_method("npo_swap", {"mix": 0.0, "tokens": 0.0, "floor": 1.0}).uses


def test_the_token_and_lens_terms_share_one_reference_pass_per_step():
    model, ref = _llama(0), Reference(_llama(1), "copy")
    batch = {"forget": _batch(TRUE), "retain": _batch(RETAIN)}
    method = _method(tokens=0.5, lens=0.4)
    calls = []
    real = method._swap.targets
    method._swap.targets = lambda *a, **k: calls.append(1) or real(*a, **k)
    for step in range(2):
        method.loss(StepContext(model=model, reference=ref, step=step, max_steps=2), batch)
    assert len(calls) == 2          # once per step, for both terms; nothing kept past a step


def _npo_without(model, ref, beta: float, drop: list[list[int]], *, name: float = 0.0) -> float:
    """NPO over the answer tokens of each row but those at the answer positions ``drop[i]``,
    the same tokens left out of the reference's sum; a dropped token with no pair in PAIRS (a
    name token) comes back on both sides at weight ``name``."""
    terms = []
    for i in range(len(TRUE)):
        seq, p = TRUE[i]
        with torch.no_grad():
            logp, logr = _logp(model, seq), _logp(ref, seq)
        aligned = {j for j, _ in PAIRS[i]}
        w = [1.0 if j not in drop[i] else 0.0 if j in aligned else name for j in range(len(seq) - p)]
        lp = sum(w[j] * logp[p + j - 1, seq[p + j]].item() for j in range(len(seq) - p))
        lr = sum(w[j] * logr[p + j - 1, seq[p + j]].item() for j in range(len(seq) - p))
        terms.append(-(2 / beta) * torch.nn.functional.logsigmoid(torch.tensor(-beta * (lp - lr))).item())
    return sum(terms) / len(terms)


def _held_nll(model, holds, name=1.0) -> float:
    """Mean NLL of the held tokens, a name token (one with no pair in PAIRS) weighed by ``name``."""
    vals = []
    for i, js in enumerate(holds):
        seq, p = TRUE[i]
        with torch.no_grad():
            logp = _logp(model, seq)
        aligned = {j for j, _ in PAIRS[i]}
        vals += [-logp[p + j - 1, seq[p + j]].item() * (1.0 if j in aligned else name) for j in js]
    return sum(vals) / len(vals)


def _token_kl_without(model, ref, holds) -> float:
    """:func:`_token_kl` over the aligned tokens the anchor does not hold."""
    saved = [list(ps) for ps in PAIRS]
    try:
        for i, ps in enumerate(PAIRS):
            PAIRS[i] = [(j, k) for j, k in ps if j not in holds[i]]
        return _token_kl(model, ref, [0, 1, 2]).item()
    finally:
        for i, ps in enumerate(saved):
            PAIRS[i] = ps


def _anchored_parts(model, **args):
    """The logged loss parts of one step of npo_swap (β 0.5, t 1, ``args``) on the fixture's
    rows, and the reference's model. A fresh reference per call: its cache is by item."""
    batch = {"forget": _batch(TRUE), "retain": _batch(RETAIN)}
    ref = Reference(_llama(1), "copy")
    ctx = StepContext(model=model, reference=ref, step=0, max_steps=1)
    return _method(beta=0.5, tokens=1.0, **args).loss(ctx, batch).parts, ref._model


def test_the_anchor_holds_the_name_and_the_next_word_out_of_npo_and_the_targets_by_hand():
    """κ (``anchor``): the held tokens leave NPO's two sums (the model's and the reference's)
    and the stand-in targets, and their NLL joins the bracket with weight κ. Held positions
    read one late, NPO that drops them on one side only, or targets that keep them give other
    numbers. A fresh reference per method: its cache is by item."""
    model = _llama(0)

    def parts(**args):
        return _anchored_parts(model, **args)

    plain, r = parts()
    held, _ = parts(anchor=2.0)
    assert plain["forget_npo"].item() == pytest.approx(_npo_without(model, r, 0.5, [[], [], []]), rel=1e-5)
    want = _npo_without(model, r, 0.5, HOLDS)
    assert held["forget_npo"].item() == pytest.approx(want, rel=1e-5)
    for slip in (plain["forget_npo"].item(), _npo_without(model, r, 0.5, [[j + 1 for j in js] for js in HOLDS])):
        assert abs(slip - want) > 1e-3 * abs(want)
    # the model's sum without the held tokens against the reference's whole sum
    one_sided = []
    for i, (seq, p) in enumerate(TRUE):
        with torch.no_grad():
            logp, logr = _logp(model, seq), _logp(r, seq)
        lp = sum(logp[p + j - 1, seq[p + j]].item() for j in range(len(seq) - p) if j not in HOLDS[i])
        lr = sum(logr[p + j - 1, seq[p + j]].item() for j in range(len(seq) - p))
        one_sided.append(-(2 / 0.5) * torch.nn.functional.logsigmoid(torch.tensor(-0.5 * (lp - lr))).item())
    assert abs(sum(one_sided) / 3 - want) > 1e-3 * abs(want)
    bracket = _token_kl_without(model, r, HOLDS) + 2.0 * _held_nll(model, HOLDS)
    assert held["forget_swap"].item() == pytest.approx(bracket, rel=1e-5)
    kept_targets = _token_kl(model, r, [0, 1, 2]).item() + 2.0 * _held_nll(model, HOLDS)
    assert abs(kept_targets - bracket) > 1e-3 * abs(bracket)
    # κ weighs the NLL: twice κ, twice the NLL's share
    double, _ = parts(anchor=4.0)
    assert (double["forget_swap"] - held["forget_swap"]).item() == pytest.approx(
        2.0 * _held_nll(model, HOLDS), rel=1e-4)


def test_the_names_share_weighs_only_the_name_tokens_of_the_held_nll_by_hand():
    """ρ (``name_hold``): the name's tokens (row 0's position 0, row 1's position 2: no pair in
    the alignment) weigh ρ in the held NLL, the word after the name (row 1's position 3) keeps
    weight 1, the mean is over all held tokens, and NPO is the same as at ρ 1 (the name stays
    out of it). A share put on the next word instead, or a mean over the weights, gives other
    numbers."""
    model = _llama(0)
    full, r = _anchored_parts(model, anchor=2.0)
    share, none = (_anchored_parts(model, anchor=2.0, name_hold=rho)[0] for rho in (0.25, 0.0))
    assert share["forget_npo"].item() == pytest.approx(full["forget_npo"].item(), rel=1e-6)
    base = _token_kl_without(model, r, HOLDS)
    want = base + 2.0 * _held_nll(model, HOLDS, name=0.25)
    assert share["forget_swap"].item() == pytest.approx(want, rel=1e-5)
    assert none["forget_swap"].item() == pytest.approx(base + 2.0 * _held_nll(model, HOLDS, name=0.0), rel=1e-5)
    # the share on the next word instead of the name
    with torch.no_grad():
        nxt = -_logp(model, TRUE[1][0])[TRUE[1][1] + 3 - 1, TRUE[1][0][TRUE[1][1] + 3]].item()
    swapped = want + 2.0 * (0.25 - 1.0) * nxt / 3 + 2.0 * (1.0 - 0.25) * (_held_nll(model, HOLDS) * 3 - nxt) / 3
    weighted_mean = base + 2.0 * _held_nll(model, HOLDS, name=0.25) * 3 / (0.25 * 2 + 1)
    for slip in (swapped, weighted_mean, full["forget_swap"].item()):
        assert abs(slip - want) > 1e-3 * abs(want)


def test_the_names_push_puts_the_name_back_into_both_npo_sums_by_hand():
    """ψ (``name_push``): the name's tokens (no pair in the alignment) come back into NPO's two
    sums, the model's and the reference's, at weight ψ; the word after the name stays out; the
    bracket is untouched. ψ 1 is NPO without only the next word. A push on the model's side
    only, or on the next word, gives other numbers. A fresh reference per method: its cache is
    by item."""
    model = _llama(0)
    held, r = _anchored_parts(model, anchor=2.0)
    half, full = (_anchored_parts(model, anchor=2.0, name_push=psi)[0] for psi in (0.5, 1.0))
    assert half["forget_swap"].item() == pytest.approx(held["forget_swap"].item(), rel=1e-6)
    want = _npo_without(model, r, 0.5, HOLDS, name=0.5)
    assert half["forget_npo"].item() == pytest.approx(want, rel=1e-5)
    nxt_only = [[j for j in js if j in {a for a, _ in PAIRS[i]}] for i, js in enumerate(HOLDS)]
    assert full["forget_npo"].item() == pytest.approx(_npo_without(model, r, 0.5, nxt_only), rel=1e-5)
    # the next word pushed instead of the name; the model's side alone
    others = [[j for j in js if j not in {a for a, _ in PAIRS[i]}] for i, js in enumerate(HOLDS)]
    one_sided = []
    for i, (seq, p) in enumerate(TRUE):
        with torch.no_grad():
            logp, logr = _logp(model, seq), _logp(r, seq)
        aligned = {a for a, _ in PAIRS[i]}
        w = [1.0 if j not in HOLDS[i] else 0.0 if j in aligned else 0.5 for j in range(len(seq) - p)]
        lp = sum(w[j] * logp[p + j - 1, seq[p + j]].item() for j in range(len(seq) - p))
        lr = sum(logr[p + j - 1, seq[p + j]].item() for j in range(len(seq) - p) if j not in HOLDS[i])
        one_sided.append(-(2 / 0.5) * torch.nn.functional.logsigmoid(torch.tensor(-0.5 * (lp - lr))).item())
    for slip in (_npo_without(model, r, 0.5, others, name=0.5), sum(one_sided) / 3, held["forget_npo"].item()):
        assert abs(slip - want) > 1e-3 * abs(want)


@pytest.mark.parametrize("arg", ["name_hold", "name_push"])
def test_the_names_weights_are_shares_set_from_the_cli(arg):
    """ρ and ψ are refused outside [0, 1] and set from the CLI as config keys."""
    for bad in (-0.5, 1.5):
        with pytest.raises(Exception, match=arg):
            build_method("npo_swap", {arg: bad})
    u = cli_unlearn_section("--method", "npo_swap", "--set", f"unlearn.args.{arg}=0.25")
    assert getattr(build_method(u.method, u.args), arg) == 0.25


def test_held_tokens_are_the_name_the_question_gives_and_the_next_word_never_the_key(fresh_base):
    from oblivio.methods.npo_swap import held_tokens
    _, tok = fresh_base
    ids = tok("Ada Quill plays the harp.", add_special_tokens=False)["input_ids"]
    text = [tok.decode([t]).strip() for t in ids]
    ends = [len(tok.decode(ids[:j + 1])) for j in range(len(ids))]
    name = [j for j in range(len(ids)) if (ends[j - 1] if j else 0) < len("Ada Quill")]
    aligned = set(range(len(ids))) - set(name)
    nxt = len(name)                                   # the first token after the name
    got = held_tokens(tok, ids, aligned, "What does Ada Quill play?", set())
    assert got == [j for j in name if text[j]] + [nxt]
    # the next word is not held when it is part of the key
    assert held_tokens(tok, ids, aligned, "What does Ada Quill play?", {nxt}) == [j for j in name if text[j]]
    # a name token the question does not give is not held (the word after it still is)
    assert held_tokens(tok, ids, aligned, "Why?", set()) == [j for j in name if text[j] and text[j] in "Why?"] + [nxt]
    assert held_tokens(tok, ids, aligned, "Why?", set()) != got
    # all aligned: nothing was swapped, nothing is held
    assert held_tokens(tok, ids, set(range(len(ids))), "What does Ada Quill play?", set()) == []


def test_the_anchor_is_refused_below_zero_and_set_from_the_cli_and_the_api(tiny_cfg, tmp_path):
    with pytest.raises(Exception, match="anchor"):
        build_method("npo_swap", {"anchor": -1.0})
    u = cli_unlearn_section("--method", "npo_swap", "--set", "unlearn.args.anchor=1")
    assert build_method(u.method, u.args).anchor == 1.0
    on = two_step_history(tiny_cfg, tmp_path / "on", "npo_swap", {"mix": 0.5, "tokens": 1.0, "anchor": 1.0})
    off = two_step_history(tiny_cfg, tmp_path / "off", "npo_swap", {"mix": 0.5, "tokens": 1.0})
    # the tiny world's answers say "He …", never the target's name: nothing is held, so the two
    # runs are the same run (the hand values above are where something is held)
    assert on[0]["forget_swap"] == pytest.approx(off[0]["forget_swap"], rel=1e-6)
    assert on[1]["forget_npo"] == pytest.approx(off[1]["forget_npo"], rel=1e-5)
    import json
    assert json.loads((tmp_path / "on" / "results.json").read_text())["config"]["unlearn"]["args"]["anchor"] == 1.0


def test_prepare_data_holds_the_name_and_the_next_word_only_with_the_anchor(tiny_world, fresh_base):
    """On answers that name the target (the tiny world's, rewritten: "Kroltraim Nounror was born
    in …"), a run with the anchor holds the name tokens and the word after them and takes them
    out of the aligned targets; a run without holds nothing."""
    import dataclasses

    from oblivio.engine.contract import RunInputs
    from oblivio.models.format import cached_answer, resolve_format
    data, _ = tiny_world
    model, tok = fresh_base
    fmt = resolve_format(tok, None)
    forget = [dataclasses.replace(it, answer=it.answer.replace("He ", f"{it.entity} ", 1))
              for it in data.forget[:4] if it.answer.startswith("He ")]
    assert forget
    inputs = RunInputs(tokenizer=tok, fmt=fmt, data=data, forget=forget, retain=[], seed=0)
    on, off = build_method("npo_swap", {"tokens": 1.0, "anchor": 1.0}), build_method("npo_swap", {"tokens": 1.0})
    for m in (on, off):
        m.prepare(model)
        m.prepare_data(inputs)
    assert all(h == [] for h in off._swap.holds)
    for i, it in enumerate(forget):
        a = cached_answer(tok, fmt, it.answer)
        held = on._swap.holds[i]
        assert tok.decode([a[j] for j in held[:-1]]).strip() == it.entity
        assert tok.decode([a[held[-1]]]).strip() == "was"
