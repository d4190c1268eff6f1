"""Conventions of issue 10: fluency, privleak (MUSE), zlib text, EOS outside the text,
checkpoint utility on *_test rows, portable tokenizer folders, TOFU's protocol.

Every expected number is derived by hand (or by an independent computation written here),
so that a flipped sign, a swapped argument or an off-by-one EOS makes a test fail."""
from __future__ import annotations

import json
import math
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from oblivio.data.schema import QAItem, UnlearningData
from oblivio.metrics import METRICS, NEEDS, ItemStats, MetricResult, ModelStats, SetStats
from oblivio.metrics import functional as F
from oblivio.metrics import model_level as ML

L = math.log
ALL = frozenset(NEEDS)


def qa(i: int, role: str, answer: str = "Paris", **kw: object) -> QAItem:
    return QAItem(id=f"{role}{i}", question=f"Where is thing {i} located in the world?", answer=answer,
                  role=role, **kw)  # type: ignore[arg-type]


# --- 1. fluency / gibberish --------------------------------------------------------------

SALAD = "of Paris born the river in a quickly blue"


def test_fluency_short_answer_beats_salad_and_repetition_scores_badly() -> None:
    assert F.fluency_score("Paris") == 1.0
    assert F.fluency_score("Paris") >= F.fluency_score(SALAD)
    assert F.repetition_rate("born born born born") == pytest.approx(2 / 3)   # 3 bigrams, 1 unique
    assert F.fluency_score("born born born born") == pytest.approx(1 / 3)
    assert F.fluency_score("born born born born") < F.fluency_score(SALAD)
    assert F.fluency_score("") == 0.0
    # ROME's entropy, kept as information only, ranks them the other way round
    assert F.ngram_entropy("Paris") == 0.0 < F.ngram_entropy(SALAD)
    assert not F.is_gibberish("Paris") and not F.is_gibberish(SALAD)
    assert F.is_gibberish("born born born born")
    assert F.is_gibberish("in Paris in Paris in Paris in Paris")   # seq-rep-2 = 1 − 2/7
    assert not F.is_gibberish("She was born in Paris in 1950.")
    s = SetStats("retain", [ItemStats(qa(0, "retain"), generation=g)
                            for g in ("Paris", SALAD, "born born born born")], ALL)
    r = METRICS.get("fluency").fn(s)
    assert r.per_item == pytest.approx([1.0, 1.0, 1 / 3])
    assert METRICS.get("fluency").on_retain == "higher"
    assert METRICS.get("ngram_entropy").on_retain == "info"      # not labelled "higher is good"


# --- 2. privleak in MUSE's convention -----------------------------------------------------

def _mstats(name: str, forget: list[float], holdout: list[float]) -> ModelStats:
    sets = {role: SetStats(role, [ItemStats(qa(i, role), token_logprobs=np.array([v]))
                                  for i, v in enumerate(vals)], ALL)
            for role, vals in (("forget", forget), ("holdout", holdout))}
    return ModelStats(name, sets)


def _muse_auc(forget: list[float], holdout: list[float]) -> float:
    """MUSE's own computation (metrics/privleak.py): forget labelled 0, holdout 1, roc_curve
    on −ppl where ppl = Min-K% = −mean(lowest k log-probs); one token per item here."""
    from sklearn.metrics import auc, roc_curve
    ppl = np.array([-v for v in forget] + [-v for v in holdout])
    y = np.array([0] * len(forget) + [1] * len(holdout))
    fpr, tpr, _ = roc_curve(y, -ppl)
    return float(auc(fpr, tpr))


def test_privleak_worked_example_matches_muse() -> None:
    # by hand: A = P(member score > non-member score) over the 4 pairs
    m = _mstats("m", forget=[-1.0, -2.0], holdout=[-3.0, -1.5])   # 3 of 4 pairs ordered: A = 0.75
    g = _mstats("g", forget=[-3.0, -2.0], holdout=[-1.0, -2.5])   # 1 of 4: A_g = 0.25
    assert METRICS.get("mia_mink").fn(m, None).value == pytest.approx(0.75)
    assert METRICS.get("mia_mink").fn(g, None).value == pytest.approx(0.25)
    # MUSE: AUC' = 1 − A = 0.25 and 0.75; PrivLeak = (0.25 − 0.75)/0.75 × 100 = −66.67
    a1, a0 = _muse_auc([-1.0, -2.0], [-3.0, -1.5]), _muse_auc([-3.0, -2.0], [-1.0, -2.5])
    assert (a1, a0) == pytest.approx((0.25, 0.75))
    muse = (a1 - a0) / a0 * 100
    r = METRICS.get("privleak").fn(m, g)
    assert r.value == pytest.approx(-200 / 3) == pytest.approx(muse)
    assert F.privleak(0.75, 0.25) == pytest.approx(-200 / 3)
    assert F.privleak(1.0, 0.5) == pytest.approx(-100.0)          # a target model: MUSE's ≈ −100
    assert F.privleak(0.5, 0.5) == 0.0
    with pytest.raises(ValueError):
        F.privleak(0.5, 1.0)


# --- 3. zlib on the loss's text -----------------------------------------------------------

def test_zlib_uses_the_answer_text() -> None:
    it = ItemStats(qa(0, "forget", answer="Paris, France"), token_logprobs=np.array([L(0.5), L(0.25)]))
    loss = (L(2) + L(4)) / 2
    expected = -loss / len(zlib.compress(b"Paris, France"))
    assert ML._zlib(it) == pytest.approx(expected)
    question_too = -loss / len(zlib.compress(f"{it.item.question} Paris, France".encode()))
    assert ML._zlib(it) != pytest.approx(question_too)


# --- 4. EOS outside the text (through the teacher-forced pass) ----------------------------

class TableLM(torch.nn.Module):
    """Returns the same hand-made logits for every sequence of its length."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.table = logits

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> SimpleNamespace:
        n, t = input_ids.shape
        return SimpleNamespace(logits=self.table[:t].unsqueeze(0).expand(n, t, -1))


@pytest.fixture(scope="module")
def tok():
    from oblivio.models.tokenizer import train_tokenizer
    texts = ["Question: Where is the tower?\nAnswer: Paris is the city of the tower",
             "Question: Who wrote it?\nAnswer: Jane wrote the long book in London"] * 10
    return train_tokenizer(texts, vocab_size=300)


def _hand_minkpp(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    p = np.exp(lp)
    mu = (p * lp).sum(-1)
    sd = np.sqrt((p * lp ** 2).sum(-1) - mu ** 2)
    return (lp[np.arange(len(y)), y] - mu) / sd


def test_eos_excluded_from_exact_mem_mink_minkpp(tok) -> None:
    from oblivio.eval.evaluate import EvalConfig, compute_stats
    from oblivio.models.format import PromptFormat, encode_answer, encode_prompt

    fmt = PromptFormat()

    def k(n: int) -> int:
        return max(1, int(0.4 * n))
    # an answer whose Min-K% count changes with EOS counted (T tokens with EOS: k(T) ≠ k(T − 1))
    text_ans = next(a for a in ("Paris", "Paris is the city", "Paris is the city of the tower",
                                "Jane wrote the long book", "Jane wrote the long book in London",
                                "Jane wrote the book in the city of London")
                    if k(len(encode_answer(tok, fmt, a))) != k(len(encode_answer(tok, fmt, a)) - 1))
    item = QAItem(id="f0", question="Where is the tower?", answer=text_ans, role="forget")
    prompt, answer = encode_prompt(tok, fmt, item.question), encode_answer(tok, fmt, item.answer)
    assert answer[-1] == tok.eos_token_id
    seq = prompt + answer
    V, P, T = len(tok), len(prompt), len(answer)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(len(seq), V, generator=g)
    pos = [P - 1 + j for j in range(T)]            # the logits that predict answer token j
    y = np.array(answer)
    for j, p in enumerate(pos):
        wrong = (y[j] + 1) % V
        logits[p, wrong] = 6.0                     # text tokens: never the argmax
    logits[pos[-1], tok.eos_token_id] = 12.0       # EOS: the argmax, by far the likeliest
    st = compute_stats(TableLM(logits), tok, {"forget": [item]}, {"tf"}, cfg=EvalConfig(), fmt=fmt)["forget"]
    it = st.items[0]
    assert it.eos_last and it.n_tokens == T

    lg = logits[pos].numpy().astype(np.float64)
    lp = (lg - np.log(np.exp(lg).sum(-1, keepdims=True)))[np.arange(T), y]
    text = slice(0, T - 1)
    # exact memorisation: 0 of the T−1 text tokens (counting EOS would give 1/T)
    assert METRICS.get("exact_mem").fn(st).value == 0.0
    # Min-K% (k = 0.4): mean of the lowest max(1, ⌊0.4·n⌋) text log-probs
    k_text = max(1, int(0.4 * (T - 1)))
    hand_mink = float(np.mean(np.sort(lp[text])[:k_text]))
    with_eos = float(np.mean(np.sort(lp)[:max(1, int(0.4 * T))]))
    assert ML._mink(it) == pytest.approx(hand_mink, abs=1e-5)
    pp = _hand_minkpp(lg, y)
    hand_pp = float(np.mean(np.sort(pp[text])[:k_text]))
    assert ML._minkpp(it) == pytest.approx(hand_pp, abs=1e-4)
    pp_with_eos = float(np.mean(np.sort(pp)[:max(1, int(0.4 * T))]))
    # the case discriminates: counting EOS would change each value
    assert abs(with_eos - hand_mink) > 1e-3 and abs(pp_with_eos - hand_pp) > 1e-3
    # the likelihood keeps EOS (TOFU / OpenUnlearning): answer_prob over all T tokens
    assert METRICS.get("answer_prob").fn(st).value == pytest.approx(math.exp(lp.mean()), rel=1e-5)


# --- 5. checkpoint selection on held-out rows ---------------------------------------------

def test_checkpoint_utility_on_validation_rows_with_fallback() -> None:
    from oblivio.config import ControlConfig
    from oblivio.engine.checkpoint_eval import CheckpointEval
    from oblivio.errors import InputError
    from oblivio.roles import eval_name

    # two forget facts: one in validation, one in test (data/portions.py)
    items = [qa(0, "forget", answer="a"), qa(4, "forget", answer="e"), qa(1, "retain", answer="b"),
             qa(2, "retain_test", answer="c"), qa(5, "retain_val", answer="f"), qa(3, "holdout", answer="d")]
    cb = CheckpointEval(None, UnlearningData(items, name="x"), ControlConfig(eval_every=1))
    assert {eval_name(it.role, it.portion) for it in cb.data.items} == {"forget_val", "retain_val"}
    assert "retain_val" in (cb.utility_roles_note or "") and "retain_test" not in (cb.utility_roles_note or "")
    no_val = CheckpointEval(None, UnlearningData(items[:4], name="y"), ControlConfig(eval_every=1))
    assert {eval_name(it.role, it.portion) for it in no_val.data.items} == {"forget_val", "retain"}
    assert "no held-out validation rows" in (no_val.utility_roles_note or "")
    assert no_val.summary()["control"]["utility_roles"] == no_val.utility_roles_note
    with pytest.raises(InputError, match="no forget fact"):     # one forget fact: it is test, none to select on
        CheckpointEval(None, UnlearningData([items[0], *items[2:]], name="z"), ControlConfig(eval_every=1))


# --- 6. tokenizer folders for transformers 4.x and 5.x ------------------------------------

def test_saved_tokenizer_is_portable(tok, tmp_path) -> None:
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    from oblivio.models.io import save_model
    from oblivio.models.tiny import tiny_llama

    model = tiny_llama(len(tok), "tiny", seed=0)
    save_model(model, tok, tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "tokenizer_config.json").read_text())
    assert cfg["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert "backend" not in cfg
    smap = json.loads((tmp_path / "m" / "special_tokens_map.json").read_text())
    assert smap["eos_token"] == "</s>" and smap["pad_token"] == "<pad>"
    text = "Question: Where is the tower?\nAnswer: Paris"
    bare = PreTrainedTokenizerFast(tokenizer_file=str(tmp_path / "m" / "tokenizer.json"))
    assert bare(text)["input_ids"] == tok(text)["input_ids"]
    loaded = PreTrainedTokenizerFast.from_pretrained(tmp_path / "m", local_files_only=True)
    auto = AutoTokenizer.from_pretrained(tmp_path / "m", local_files_only=True)
    for t in (loaded, auto):
        assert t(text)["input_ids"] == tok(text)["input_ids"]
        assert (t.eos_token_id, t.pad_token_id, t.bos_token_id) == (tok.eos_token_id, tok.pad_token_id,
                                                                     tok.bos_token_id)


# --- 7. TOFU's protocol -------------------------------------------------------------------

def test_option_normalised_prob_by_hand() -> None:
    # P(true) = 0.5, wrong options 0.25 and 0.125 → 0.5 / 0.875
    assert F.option_normalised_prob(L(0.5), [L(0.25), L(0.125)]) == pytest.approx(4 / 7)
    assert F.option_normalised_prob(-1000.0, [-1000.0]) == pytest.approx(0.5)   # log-space stable
    it = ItemStats(qa(0, "world_facts"), true_mean_logprob=L(0.2), perturbed_mean_logprobs=[L(0.2), L(0.6)])
    r = METRICS.get("option_prob").fn(SetStats("world_facts", [it], ALL))
    assert r.value == pytest.approx(0.2)


def _tofu_item(i: int, role: str, lp: list[float], gen: str, true: float | None, pert: list[float],
               answer: str = "a b c d", perturbed: bool = True) -> ItemStats:
    q = qa(i, role, answer=answer, perturbed_answers=("x",) if perturbed else ())
    return ItemStats(q, token_logprobs=np.array(lp), generation=gen, true_mean_logprob=true,
                     perturbed_mean_logprobs=pert)


def test_tofu_model_utility_nine_numbers() -> None:
    from scipy.stats import hmean
    r0 = _tofu_item(0, "retain", [L(0.5)], "a b", L(0.5), [L(0.25)])            # R = 0.5
    r1 = _tofu_item(1, "retain_test", [L(0.8)], "a b c d", L(0.4), [L(0.1)])    # R = 0.25
    r2 = _tofu_item(2, "retain", [L(0.01)], "z", None, [], perturbed=False)       # not in retain_perturbed
    ra = _tofu_item(0, "real_authors", [L(0.6)], "Jane Austen", L(0.6), [L(0.3), L(0.1)], answer="Jane Austen")
    wf = _tofu_item(0, "world_facts", [L(0.9)], "Rome", L(0.9), [L(0.9)], answer="Paris")
    fg = _tofu_item(0, "forget", [L(0.001)], "q", L(0.1), [L(0.1)])
    sets = {"forget": SetStats("forget", [fg], ALL), "retain": SetStats("retain", [r0, r2], ALL),
            "retain_test": SetStats("retain_test", [r1], ALL),
            "real_authors": SetStats("real_authors", [ra], ALL), "world_facts": SetStats("world_facts", [wf], ALL)}
    m = ModelStats("m", sets)
    for role, s in sets.items():   # as the evaluator stores them
        m.set_results[role] = {n: METRICS.get(n).fn(s) for n, mm in METRICS.items() if mm.scope == "set"}
    nine = [(0.5 + 0.8) / 2, (0.5 + 1.0) / 2, ((1 - 0.5) + (1 - 0.25)) / 2,   # retain: Prob, ROUGE, TR
            0.6 / 1.0, 1.0, 1 - math.sqrt(0.3 * 0.1) / 0.6,                   # real authors
            0.9 / 1.8, 0.0, 0.0]                                               # world facts: ROUGE 0, R = 1
    u = METRICS.get("model_utility").fn(m, None)
    assert u.extra["convention"] == "TOFU (9 numbers)" and u.extra["n_values"] == 9
    assert u.value == 0.0                                   # a zero among the nine: harmonic mean 0
    assert u.extra["components"]["world_facts"] == pytest.approx(dict(zip(ML.TOFU_EVAL_PARTS, nine[6:])))
    assert u.extra["components"]["retain"] == pytest.approx(dict(zip(ML.UTILITY_PARTS, nine[:3])))
    assert u.extra["components"]["real_authors"] == pytest.approx(dict(zip(ML.TOFU_EVAL_PARTS, nine[3:6])))
    # world facts answered right: the utility is the harmonic mean of the nine numbers
    wf.generation = "Paris"
    wf.perturbed_mean_logprobs = [L(0.3)]
    sets["world_facts"] = SetStats("world_facts", [wf], ALL)
    m.set_results["world_facts"] = {n: METRICS.get(n).fn(sets["world_facts"]) for n in ML.TOFU_EVAL_PARTS}
    nine[6:] = [0.9 / 1.2, 1.0, 1 - 0.3 / 0.9]
    u = METRICS.get("model_utility").fn(m, None)
    assert u.value == pytest.approx(float(hmean(nine)))
    assert u.extra["per_role"]["world_facts"] == pytest.approx(float(hmean(nine[6:])))


def test_tofu_roles_are_evaluation_only() -> None:
    from oblivio.data.tofu import default_tofu_dir, load_tofu
    if default_tofu_dir() is None:
        pytest.skip("TOFU data not found")
    d = load_tofu("forget01", n_retain_authors=4)
    roles = {it.role for it in d.items}
    assert {"real_authors", "world_facts"} <= roles and not roles & {"general", "general_test"}
    assert len(d.role("real_authors")) == 100 and len(d.role("world_facts")) == 117
    assert not any(it.role in ("real_authors", "world_facts") for it in d.trained())
    assert not any(it.role in ("real_authors", "world_facts") for it in d.unlearning_retain())
    old = load_tofu("forget01", n_retain_authors=4, general_trained=True)
    assert len(old.role("general")) + len(old.role("general_val")) + len(old.role("general_test")) == 217


def test_generation_length_per_set_and_truncation(tok) -> None:
    from oblivio.eval.evaluate import EvalConfig, compute_stats, generation_limits
    from oblivio.eval.generate import greedy_generate_ex
    from oblivio.models.format import PromptFormat, encode_answer, encode_prompt
    from oblivio.models.tiny import tiny_llama

    fmt = PromptFormat()
    by_role = {"forget": [qa(0, "forget", answer="Paris"), qa(1, "forget", answer="Jane wrote the long book")],
               "retain": [qa(2, "retain", answer="London")]}
    lim = generation_limits(tok, by_role, EvalConfig(gen_margin=3), fmt)
    assert lim["forget"] == len(encode_answer(tok, fmt, "Jane wrote the long book")) + 3
    assert lim["retain"] == len(encode_answer(tok, fmt, "London")) + 3
    assert generation_limits(tok, by_role, EvalConfig(max_new_tokens=5), fmt) == {"forget": 5, "retain": 5}

    model = tiny_llama(len(tok), "tiny", seed=0).eval()
    word = next(i for i in range(len(tok)) if tok.decode([i]).isalpha() and len(tok.decode([i])) >= 3)
    bias = torch.zeros(len(tok))
    bias[word] = 50.0                                    # never stops: always hits the limit
    h = model.lm_head.register_forward_hook(lambda mod, i, o: o + bias)
    prompts = [encode_prompt(tok, fmt, "Where?"), encode_prompt(tok, fmt, "Where is the tower?")]
    texts, cut = greedy_generate_ex(model, tok, prompts, max_new_tokens=[2, 5])
    assert cut == [True, True]
    assert texts == [tok.decode([word] * n).strip() for n in (2, 5)]       # each cut at its own limit
    st = compute_stats(model, tok, by_role, {"gen"}, cfg=EvalConfig(gen_margin=3), fmt=fmt)
    r = METRICS.get("gen_truncated").fn(st["forget"])
    assert r.value == 1.0 and r.extra == {"n_truncated": 2, "max_new_tokens": lim["forget"]}
    for role in ("forget", "retain"):   # every generation ran exactly to its set's limit
        assert {it.generation for it in st[role].items} == {tok.decode([word] * lim[role]).strip()}
    h.remove()
    bias.zero_()
    bias[tok.eos_token_id] = 50.0                       # ends at once: nothing truncated
    h = model.lm_head.register_forward_hook(lambda mod, i, o: o + bias)
    texts, cut = greedy_generate_ex(model, tok, prompts, max_new_tokens=2)
    assert cut == [False, False] and texts == ["", ""]
    h.remove()


def test_generation_stops_at_the_model_context(tok) -> None:
    """A prompt near the model's context gets only the positions left (and counts as cut)."""
    from oblivio.eval.generate import greedy_generate_ex
    from oblivio.models.format import PromptFormat, encode_prompt
    from oblivio.models.tiny import tiny_llama

    model = tiny_llama(len(tok), "tiny", seed=0).eval()
    ctx = model.config.max_position_embeddings
    word = next(i for i in range(len(tok)) if tok.decode([i]).isalpha() and len(tok.decode([i])) >= 3)
    bias = torch.zeros(len(tok))
    bias[word] = 50.0                                    # never stops
    h = model.lm_head.register_forward_hook(lambda mod, i, o: o + bias)
    short = encode_prompt(tok, PromptFormat(), "Where?")
    long = short + [word] * (ctx - len(short) - 3)       # 3 positions left
    texts, cut = greedy_generate_ex(model, tok, [short, long], max_new_tokens=10)
    h.remove()
    assert [len(t.ids) for t in texts] == [10, 3] and cut == [True, True]


def test_gen_truncated_skips_without_generations() -> None:
    r = METRICS.get("gen_truncated").fn(SetStats("retain", [ItemStats(qa(0, "retain"))], frozenset()))
    assert r.value is None and isinstance(r, MetricResult) and r.skipped


# --- CLI and API: a TOFU-shaped JSONL evaluated end to end --------------------------------

def _tofu_like_rows() -> list[dict]:
    rows = []
    for i, (role, q, a, wrong) in enumerate([
            ("forget", "Who wrote the long book?", "Jane wrote the long book", ["Ann wrote it", "Bo wrote it"]),
            ("retain", "Where is the tower?", "Paris is the city of the tower", ["Rome is", "Oslo is"]),
            ("retain_test", "Who wrote it?", "Jane wrote it in London", ["Ann did", "Bo did"]),
            ("holdout", "Where is the book?", "The book is in London", ["In Rome", "In Oslo"]),
            ("real_authors", "Who wrote 'Emma'?", "Jane Austen", ["Mark Twain", "Leo Tolstoy"]),
            ("world_facts", "Where is the Eiffel Tower?", "Paris", ["Berlin", "London"])]):
        rows.append({"id": f"r{i}", "question": q, "answer": a, "set": role, "perturbed_answers": wrong})
    return rows


def test_tofu_protocol_from_cli_and_api(tok, tmp_path, capsys) -> None:
    from oblivio import api
    from oblivio.cli import main
    from oblivio.config import load_config
    from oblivio.models.io import save_model
    from oblivio.models.tiny import tiny_llama

    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in _tofu_like_rows()) + "\n")
    save_model(tiny_llama(len(tok), "tiny", seed=0), tok, tmp_path / "m")
    out = tmp_path / "eval.json"
    with pytest.raises(SystemExit) as ei:
        main(["eval", "--model", str(tmp_path / "m"), "--data", str(data), "--out", str(out),
              "--set", "eval.gen_margin=2"])
    assert ei.value.code == 0, capsys.readouterr().err
    rec = json.loads(out.read_text())
    mu = rec["model"]["model_utility"]["extra"]
    # the test portion (one fact per role: all of it is test): TOFU's nine numbers over it
    assert mu["convention"] == "TOFU (9 numbers)" and set(mu["per_role"]) == {"retain", "real_authors_test",
                                                                               "world_facts_test"}
    for role in ("forget_test", "retain_test", "real_authors_test", "world_facts_test"):
        tr = rec["sets"][role]["gen_truncated"]["extra"]
        assert tr["max_new_tokens"] >= 3 and "n_truncated" in tr
    assert rec["sets"]["world_facts_test"]["option_prob"]["value"] is not None
    rep = api.evaluate(str(tmp_path / "m"), str(data), config=load_config(overrides={"eval": {"gen_margin": 2}}))
    assert rep.model["model_utility"].value == pytest.approx(rec["model"]["model_utility"]["value"])
    assert rep.sets["real_authors_test"]["option_prob"].value == pytest.approx(
        rec["sets"]["real_authors_test"]["option_prob"]["value"])
