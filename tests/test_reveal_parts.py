"""Reveal and Release parts on hand cases: Vendi score, NeuralUCB vs random search, the O-LoRA
orthogonality loss, PEM negation, relevance scorers and the candidate pools."""
from __future__ import annotations

import math

import pytest
import torch

from oblivio.reveal.neural_ucb import NeuralUCB, random_order, run_bandit
from oblivio.reveal.olora import add_delta, lora_factors, orthogonality_loss
from oblivio.reveal.relevance import (
    Correctness,
    EntityRelevance,
    KeywordRelevance,
    TypeRelevance,
    ValueType,
    harmonic,
    load_callable,
)
from oblivio.reveal.vendi import vendi_score


def test_vendi_identical_is_one_and_orthogonal_is_k():
    x = torch.tensor([[0.3, -1.2, 2.0]])
    assert vendi_score(x.repeat(5, 1)) == pytest.approx(1.0, abs=1e-9)
    assert vendi_score(5.0 * x.repeat(3, 1)) == pytest.approx(1.0, abs=1e-9)   # scale-free: cosine
    for k in (2, 4, 7):
        q, _ = torch.linalg.qr(torch.randn(9, 9, generator=torch.Generator().manual_seed(k)))
        assert vendi_score(q[:k] * torch.arange(1, k + 1)[:, None]) == pytest.approx(k, rel=1e-9)


def test_vendi_mixed_case_by_hand():
    # two identical + one orthogonal: eigenvalues of K/3 are 2/3, 1/3, 0
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    want = math.exp(-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)))
    assert vendi_score(x) == pytest.approx(want, rel=1e-9)
    with pytest.raises(ValueError):
        vendi_score(torch.zeros(0, 3))


def _bandit_hits(trials: int = 10, n_arms: int = 30, budget: int = 8) -> tuple[int, int]:
    hits_ucb = hits_rand = 0
    for t in range(trials):
        g = torch.Generator().manual_seed(1000 + t)
        x = torch.randn(n_arms, 3, generator=g)    # few feature directions, as instruction families
        w = torch.randn(3, generator=g)
        reward = torch.sigmoid(2 * x @ w)          # a smooth function of the features
        best = int(reward.argmax())
        b = NeuralUCB(x, seed=t, fit_steps=40, hidden=16)
        got = run_bandit(b.select, b.update, lambda a, r=reward: float(r[a]), budget)
        assert len({a for a, _ in got}) == budget              # no arm asked twice
        hits_ucb += any(a == best for a, _ in got)
        hits_rand += best in list(random_order(n_arms, t))[:budget]
    return hits_ucb, hits_rand


def test_neural_ucb_finds_the_best_arm_more_often_than_random():
    ucb, rand = _bandit_hits()
    # random search finds it with probability budget/arms = 0.27 per trial
    assert ucb >= rand + 3 and ucb >= 6, (ucb, rand)


def test_neural_ucb_gradient_features_are_the_networks_gradient():
    b = NeuralUCB(torch.randn(5, 3, generator=torch.Generator().manual_seed(0)), hidden=4)
    f, g = b.predict()
    theta = b._flat().clone().requires_grad_(True)
    out = b._f(theta, b.x)
    for i in range(5):
        assert torch.allclose(torch.autograd.grad(out[i], theta, retain_graph=True)[0], g[i])
    assert torch.allclose(out.detach(), f)
    # Z⁻¹ after one update is (λI + g gᵀ/m)⁻¹ (Sherman–Morrison against a direct inverse)
    gi = g[2].clone()
    b.update(2, 0.5)
    direct = torch.linalg.inv(torch.eye(b.p, dtype=torch.double) * b.lam + torch.outer(gi, gi) / b.m)
    assert torch.allclose(b.z_inv, direct, atol=1e-8)


def test_orthogonality_loss_by_hand():
    a_r = {"m": torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])}
    assert orthogonality_loss({"m": torch.tensor([[1.0, -1.0, 0.0]])}, a_r).item() == 0.0
    # A_r A_fᵀ = [[3], [6]] → 9 + 36
    assert orthogonality_loss({"m": torch.tensor([[1.0, 2.0, 3.0]])}, a_r).item() == pytest.approx(45.0)
    # summed over modules; a module only one adapter has does not count
    two = orthogonality_loss({"m": torch.tensor([[1.0, 2.0, 3.0]]), "n": torch.tensor([[2.0]]),
                              "x": torch.tensor([[9.0]])}, {**a_r, "n": torch.tensor([[1.5]])})
    assert two.item() == pytest.approx(45.0 + 9.0)


def _tiny(seed: int = 0):
    from oblivio.models.tiny import tiny_llama
    return tiny_llama(40, "tiny", seed=seed)


def test_negating_a_pem_learned_on_the_base_restores_the_base():
    from oblivio.engine.unlearning import LoraSpec, wrap_lora
    base = _tiny()
    ids = torch.randint(3, 40, (2, 9), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = base(input_ids=ids).logits.clone()
    torch.manual_seed(0)
    peft = wrap_lora(base, LoraSpec(r=4, alpha=8))
    opt = torch.optim.SGD([p for p in peft.parameters() if p.requires_grad], lr=0.5)
    for _ in range(3):                  # a PEM learned on the base: B ≠ 0
        opt.zero_grad()
        peft(input_ids=ids, labels=ids).loss.backward()
        opt.step()
    pem = {k: (a.detach().clone(), b.detach().clone(), s) for k, (a, b, s) in lora_factors(peft).items()}
    assert all(s == 2.0 for _, _, s in pem.values()) and any(b.abs().max() > 0 for _, b, _ in pem.values())
    merged = peft.merge_and_unload()
    with torch.no_grad():
        learned = merged(input_ids=ids).logits.clone()
    assert (learned - ref).abs().max() > 1e-3
    add_delta(merged, pem, -1.0)        # W ← W − s·B A
    with torch.no_grad():
        assert torch.allclose(merged(input_ids=ids).logits, ref, atol=1e-5)


def test_relevance_scorers():
    kw = KeywordRelevance(("Tairzousk", "1936", "cooper", "Geintral Society"))
    assert kw(["He was born in tairzousk in 1936."]) == 0.5
    assert kw(["born in Tairzousk in 1936", "a cooper of the Geintral Society"]) == 1.0
    assert kw([]) == 0.0
    ty = TypeRelevance(ValueType.of_values("a town", ("Tairzousk", "Lomba")))
    assert ty(["in Lomba", "no idea", "Tairzousk!", "in Lombardy", ""]) == 0.4      # whole words only
    assert Correctness()(["17 plus 25 is 42.", "It is 41."], ["42", "42"]) == 0.5
    assert harmonic(1.0, 1.0) == 1.0 and harmonic(0.0, 1.0) == 0.0
    assert harmonic(0.5, 1.0, weight=0.5) == pytest.approx(2 / 3)
    assert load_callable("oblivio.reveal.relevance:harmonic") is harmonic
    from oblivio.errors import InputError
    with pytest.raises(InputError, match="reveal.scorer"):
        load_callable("no_such_module_xyz:fn")


# ---------------------------------------------------------------- entity relevance without the answers

TOWN = ValueType.of_values("a town", ("Tairzousk", "Lomba", "Brenth"))
YEAR = ValueType("a year", r"\b1[5-9]\d\d\b")
JOB = ValueType.of_values("an occupation", ("cooper", "lens grinder"))
ENTITY = EntityRelevance("Ada Vell", (TOWN, YEAR, JOB), others=("Bo Kern",))


def test_entity_relevance_counts_types_asserted_about_the_named_entity():
    ask = "Tell me about Ada Vell."
    # two of three types about her (the prompt names her, so "She ..." is about her)
    assert ENTITY(["She was born in Lomba in 1936."], [ask]) == pytest.approx(2 / 3)
    # across responses, each type once: town + year, then an occupation
    assert ENTITY(["Ada Vell was born in Lomba in 1936.", "She works as a lens grinder."], [ask, ask]) == 1.0
    # about someone else: Bo Kern named first, and "He" carries on about him
    assert ENTITY(["Bo Kern was born in Lomba. He works as a cooper."], [ask]) == 0.0
    # a sentence naming her again switches back to her
    assert ENTITY(["Bo Kern was born in Lomba. Ada Vell works as a cooper."], [ask]) == pytest.approx(1 / 3)
    # no prompt naming her (small talk), no name in the response: about nobody
    assert ENTITY(["She was born in Lomba in 1936."], ["Tell me a story."]) == 0.0
    assert ENTITY(["I do not know."], [ask]) == 0.0 and ENTITY([], []) == 0.0
    # a person named inside a sentence is a value, not its subject; one starting it is the subject
    linked = EntityRelevance("Ada Vell", (TOWN, ValueType.of_values("a person", ("Bo Kern",))), others=("Bo Kern",))
    assert linked(["She was mentored by Bo Kern."], [ask]) == 0.5
    assert linked(["The mentor of Ada Vell is Bo Kern."], ["Tell me a story."]) == 0.5
    assert linked(["Bo Kern was born in Lomba. Ada Vell is married to Bo Kern."], [ask]) == 0.5


def test_entity_relevance_cannot_see_the_true_values():
    """Her true values are Tairzousk, 1936, cooper: the scorer holds only the types, so a response
    with other values of the same types scores the same as one with the true values, and a
    response with the true values about someone else scores nothing."""
    ask = ["Tell me about Ada Vell."]
    true = ENTITY(["Ada Vell was born in Tairzousk in 1936. She works as a cooper."], ask)
    other = ENTITY(["Ada Vell was born in Brenth in 1971. She works as a lens grinder."], ask)
    assert true == other == 1.0
    assert ENTITY(["Bo Kern was born in Tairzousk in 1936. He works as a cooper."], ask) == 0.0


def test_truth_recall_is_measured_on_the_rows():
    from oblivio.reveal.truth import truth_recall
    rows = ["Ada Vell was born in tairzousk.", "She works as a cooper.", "I do not know."]
    r = truth_recall(rows, ("Tairzousk", "1936", "cooper", "Tairzousk"))
    assert r["found"] == ["Tairzousk", "cooper"] and r["values"] == 3
    assert r["recall"] == pytest.approx(2 / 3) and r["rows_with_truth"] == pytest.approx(2 / 3)
    assert truth_recall([], ("x",))["rows_with_truth"] is None and truth_recall(rows, ())["recall"] is None


def test_world_entity_task_relevance_ignores_its_truth():
    """The world's entity task carries the target's true values for evaluation only: a task
    with them withheld scores every response the same, and a response with invented values of
    the right types about the target scores as the true one does."""
    import dataclasses

    from oblivio.reveal.tasks import world_task
    from oblivio.world import build_world, world_config
    from oblivio.world.graph import build_graph
    cfg = world_config("tiny")
    data = build_world(cfg)
    target = data.targets[0]
    task = world_task("entity", data.source, target=target)
    g = build_graph(cfg)
    p = g.people[target]
    assert set(task.truth) >= {p.birthplace, str(p.birth_year), p.occupation, p.org}
    other = next(q for q in g.people.values() if q.name != target and q.birthplace != p.birthplace
                 and q.org != p.org and q.occupation != p.occupation)
    prompt = [f"Tell me about {target}."]
    said = (f"{target} was born in {p.birthplace} in the year {p.birth_year}. He works as a {p.occupation} "
            f"for the {p.org}.")
    lied = (f"{target} was born in {other.birthplace} in the year {p.birth_year + 3}. He works as a "
            f"{other.occupation} for the {other.org}.")
    elsewhere = said.replace(target, other.name)
    blind = dataclasses.replace(task, truth=())
    for t in (task, blind):
        assert t.score_responses([said], prompt) == t.score_responses([lied], prompt) == pytest.approx(4 / 5)
        assert t.score_responses([elsewhere], prompt) == 0.0


def test_data_entity_task_builds_types_without_the_targets_rows():
    """Outside a world, the types come from the other entities' rows: the target's own answers
    changed to nonsense give the same relevance; the true values are kept only as ``truth``."""
    import dataclasses

    from oblivio.data.schema import UnlearningData
    from oblivio.reveal.tasks import data_entity_task
    from oblivio.world import build_world, world_config
    data = build_world(world_config("tiny"))
    target = data.targets[0]
    task = data_entity_task(data, target)
    mine = {it.id for it in data.items if it.entity == target or target in it.mentions}
    scrambled = UnlearningData([dataclasses.replace(it, key=f"Zq{k}", answer=f"It is Zq{k}.") if it.id in mine
                                and it.key else it for k, it in enumerate(data.items)], name="s")
    again = data_entity_task(scrambled, target)
    assert again.relevance == task.relevance and set(again.truth) != set(task.truth)
    rel = task.relevance
    assert {t.name for t in rel.types} >= {"birthplace", "birth_year", "occupation", "employer"}
    assert target not in rel.others and len(rel.others) >= 5
    year = next(t for t in rel.types if t.name == "birth_year")
    assert year.find("born in the year 1234.") == ["1234"]          # digits: a pattern, not a list


def test_the_search_default_nu_is_the_one_chosen_on_validation_worlds():
    from oblivio.config import RevealConfig
    from oblivio.methods.reveal_release import RevealRelease
    from oblivio.reveal.neural_ucb import NU
    assert RevealConfig().nu == NU == RevealRelease().nu == 0.1     # bench/reveal_nu.py's choice


def test_the_release_default_lam_neg_is_the_one_chosen_on_validation_worlds():
    # λ_neg = 1 (the paper's) left the embedded world's forget accuracy at 1.0; 5 was chosen on
    # validation worlds 101/102 (docs/results/reveal-release.md, "A re-measurement")
    from oblivio.config import build_method
    from oblivio.methods.reveal_release import RevealRelease
    assert RevealRelease().lam_neg == 5.0
    assert build_method("reveal_release", {}).lam_neg == 5.0
