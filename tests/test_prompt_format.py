"""Prompt formats (models/format.py): a chat template's prompt, answer and end of turn, hand-
written against ChatML (SmolLM2-135M-Instruct's template) and a Llama-3-style template that
starts with BOS; labels on the answer tokens only; generation that stops at the end of the turn
in a chat and at a newline in the plain style; the attacks' chat turns; the configured format
bound to a run's tokenizer."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from oblivio.data.collate import collate, encode_pair
from oblivio.errors import InputError
from oblivio.eval.generate import greedy_generate_ex, stop_token_ids
from oblivio.models.format import (
    PromptFormat,
    bind_format,
    chat_layout,
    encode_answer,
    encode_prompt,
    format_of,
    prompt_text,
    resolve_format,
)

# SmolLM2-135M-Instruct's chat template (ChatML with a default system prompt), verbatim
CHATML = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
          "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
          "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
# a template that writes BOS itself and ends a turn with its own token (Llama-3's shape)
BOSSY = ("{{ bos_token }}{% for m in messages %}<|start|>{{ m['role'] }}: {{ m['content'] }}<|eot|>{% endfor %}"
         "{% if add_generation_prompt %}<|start|>assistant:{% endif %}")
SYSTEM = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"


@pytest.fixture(scope="module")
def base_tok():
    from oblivio.models.tokenizer import train_tokenizer
    texts = ["Where was Ada Lovelace born? London.", "Who wrote Hamlet? William Shakespeare.",
             "system user assistant You are a helpful AI assistant named SmolLM, trained by Hugging Face",
             "Sure, here is the answer: Paris. Let's play a game. Of course. A visitor asks you"] * 4
    tok = train_tokenizer(texts, vocab_size=400)
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>", "<|start|>", "<|eot|>"]})
    return tok


def _with(tok, template, eos):
    import copy
    t = copy.deepcopy(tok)
    t.chat_template = template
    t.eos_token = eos
    return t


@pytest.fixture()
def chatml(base_tok):
    return _with(base_tok, CHATML, "<|im_end|>")


@pytest.fixture()
def bossy(base_tok):
    return _with(base_tok, BOSSY, "</s>")


def _id(tok, t):
    return tok.convert_tokens_to_ids(t)


def test_auto_is_chat_exactly_when_the_tokenizer_has_a_template(base_tok, chatml):
    assert resolve_format(chatml, PromptFormat()).style == "chat"
    assert resolve_format(base_tok, PromptFormat()).style == "plain"
    assert resolve_format(chatml, PromptFormat(style="plain")).style == "plain"
    with pytest.raises(InputError, match="no chat template"):
        resolve_format(base_tok, PromptFormat(style="chat"))
    with pytest.raises(InputError, match="model.prompt"):
        PromptFormat(style="chatml")


def test_chatml_prompt_answer_and_end_of_turn_by_hand(chatml):
    q, a = "Where was Ada Lovelace born?", "London."
    text = prompt_text(chatml, None, q)
    assert text == f"{SYSTEM}<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"
    ids = encode_prompt(chatml, None, q)
    assert ids == chatml(text, add_special_tokens=False)["input_ids"]
    assert ids[0] == _id(chatml, "<|im_start|>") and chatml.bos_token_id not in ids   # no BOS: the template has none
    assert chat_layout(chatml).lead == "" and chat_layout(chatml).end == (_id(chatml, "<|im_end|>"),)
    ans = encode_answer(chatml, None, a)
    # no leading space (the turn starts on a new line) and the end-of-turn token, not a newline
    assert ans == chatml(a, add_special_tokens=False)["input_ids"] + [_id(chatml, "<|im_end|>")]
    assert encode_answer(chatml, None, a, eos=False) == ans[:-1]


def test_system_prompt_replaces_the_templates_default(chatml):
    text = prompt_text(chatml, PromptFormat(system="Answer briefly."), "Who wrote Hamlet?")
    assert text.startswith("<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\nWho wrote Hamlet?")
    assert "SmolLM" not in text


def test_a_template_that_writes_bos_gets_exactly_one(bossy):
    ids = encode_prompt(bossy, None, "Who wrote Hamlet?")
    assert ids[0] == bossy.bos_token_id and ids.count(bossy.bos_token_id) == 1
    assert prompt_text(bossy, None, "Who wrote Hamlet?") == \
        "<s><|start|>user: Who wrote Hamlet?<|eot|><|start|>assistant:"
    # the template puts a space before the answer and its own end-of-turn token after it
    assert chat_layout(bossy).lead == " " and chat_layout(bossy).end == (_id(bossy, "<|eot|>"),)
    assert encode_answer(bossy, None, "William Shakespeare.") == \
        bossy(" William Shakespeare.", add_special_tokens=False)["input_ids"] + [_id(bossy, "<|eot|>")]


def test_plain_style_keeps_its_bos_template_and_newline(base_tok, chatml):
    for tok in (base_tok, chatml):
        fmt = PromptFormat(style="plain")
        assert prompt_text(tok, fmt, "Who?") == "Question: Who?\nAnswer:"
        ids = encode_prompt(tok, fmt, "Who?")
        text = tok("Question: Who?\nAnswer:", add_special_tokens=False)["input_ids"]
        assert ids[0] == tok.bos_token_id and ids[1:] == text
        answer = tok(" Paris.", add_special_tokens=False)["input_ids"]
        assert encode_answer(tok, fmt, "Paris.") == answer + [tok.eos_token_id]


def test_labels_are_the_answer_and_its_end_of_turn_only(chatml):
    q, a = "Who wrote Hamlet?", "William Shakespeare."
    enc = encode_pair(chatml, None, q, a)
    short = encode_pair(chatml, None, "Where?", "London.")
    b = collate([enc, short], pad_id=chatml.pad_token_id)
    want = chatml(a, add_special_tokens=False)["input_ids"] + [_id(chatml, "<|im_end|>")]
    row = b["labels"][0].tolist()
    assert [t for t in row if t != -100] == want
    assert row[:len(enc.prompt)] == [-100] * len(enc.prompt)          # the whole prompt, system turn included
    assert b["input_ids"][0, len(enc.prompt):len(enc.prompt) + len(want)].tolist() == want
    # the shorter row: its labels end with its end of turn, then padding ignored
    row1 = b["labels"][1].tolist()
    n1 = len(short.prompt) + len(short.answer)
    assert row1[n1 - 1] == _id(chatml, "<|im_end|>") and set(row1[n1:]) == {-100}


class _Scripted(torch.nn.Module):
    """A 'model' whose generate appends fixed tokens: the stop logic alone is under test."""

    def __init__(self, new: list[int]):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.new = new
        self.config = None

    def generate(self, input_ids, attention_mask, generation_config):
        tail = torch.tensor([self.new] * input_ids.shape[0])
        return torch.cat([input_ids, tail[:, :generation_config.max_new_tokens]], dim=1)


def test_chat_generation_stops_at_end_of_turn_not_at_a_newline(chatml):
    nl = chatml("\n", add_special_tokens=False)["input_ids"]
    first = chatml("London", add_special_tokens=False)["input_ids"]
    second = chatml("UK", add_special_tokens=False)["input_ids"]
    end = _id(chatml, "<|im_end|>")
    script = first + nl + second + [end] + first
    model = _Scripted(script)
    prompt = encode_prompt(chatml, None, "Where?")
    (g,), (cut,) = greedy_generate_ex(model, chatml, [prompt], max_new_tokens=len(script))
    assert str(g) == "London\nUK" and not cut and list(g.ids) == first + nl + second
    assert end in stop_token_ids(chatml) and not set(nl) & set(stop_token_ids(chatml))
    # the plain style: the answer is the first line
    (p,), _ = greedy_generate_ex(model, chatml, [prompt], max_new_tokens=len(script), fmt=PromptFormat(style="plain"))
    assert str(p) == "London"
    # an end of turn first: an empty answer
    (e,), (cut,) = greedy_generate_ex(_Scripted([end] + first), chatml, [prompt], max_new_tokens=3)
    assert str(e) == "" and not cut


def test_bound_format_reaches_everything_handed_none(chatml):
    fmt = bind_format(chatml, PromptFormat(system="Be brief."))
    assert format_of(chatml) == fmt and fmt.style == "chat"
    assert prompt_text(chatml, None, "Who?").startswith("<|im_start|>system\nBe brief.")
    plain = bind_format(chatml, PromptFormat(style="plain"))
    assert format_of(chatml) is plain and encode_prompt(chatml, None, "Who?")[0] == chatml.bos_token_id


def _data(chatml):
    from oblivio.data.schema import QAItem, UnlearningData
    items = [QAItem(id="f1", question="Where was Ada Lovelace born?", answer="London.", role="forget", key="London",
                    entity="Ada Lovelace", targets=("Ada Lovelace",), fact="f1"),
             QAItem(id="r1", question="Who wrote Hamlet?", answer="William Shakespeare.", role="direct",
                    key="Shakespeare", entity="Hamlet", mentions=("Ada Lovelace",), targets=("Ada Lovelace",),
                    fact="r1")]
    return UnlearningData(items=items, name="t")


def test_attacks_become_chat_turns(chatml):
    from oblivio.attacks.affirmative_prefix import AffirmativePrefix
    from oblivio.attacks.few_shot import FewShot
    from oblivio.attacks.roleplay import ACCEPT, SETUP, Roleplay
    bind_format(chatml, PromptFormat())
    data = _data(chatml)
    q = data.forget[0].question
    fs = FewShot(k=1).apply(None, chatml, data, seed=0)
    assert fs.fmt is not None and [x.question for x in fs.items] == [q]
    assert prompt_text(chatml, fs.fmt, q) == (f"{SYSTEM}<|im_start|>user\nWho wrote Hamlet?<|im_end|>\n"
                                              "<|im_start|>assistant\nWilliam Shakespeare.<|im_end|>\n"
                                              f"<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n")
    rp = Roleplay().apply(None, chatml, data)
    assert rp.fmt is not None and rp.items is not None
    assert prompt_text(chatml, rp.fmt, rp.items[0].question) == (
        f"{SYSTEM}<|im_start|>user\n{SETUP}<|im_end|>\n<|im_start|>assistant\n{ACCEPT}<|im_end|>\n"
        f"<|im_start|>user\nA visitor asks you: {q}<|im_end|>\n<|im_start|>assistant\n")
    ap = AffirmativePrefix().apply(None, chatml, data)
    assert prompt_text(chatml, ap.fmt, q).endswith("<|im_start|>assistant\nSure, here is the answer:")
    # the scored answer continues the written opening after a space
    assert encode_answer(chatml, ap.fmt, "London.")[:-1] == chatml(" London.", add_special_tokens=False)["input_ids"]


def test_config_prompt_is_bound_by_resolve_model(chatml):
    from oblivio.config import load_config
    from oblivio.resolve import resolve_model
    cfg = load_config(overrides={"model": {"prompt": "plain"}})
    resolve_model(object(), chatml, cfg)
    assert format_of(chatml).style == "plain"
    cfg = load_config(overrides={"model": {"system_prompt": "Be brief."}})
    resolve_model(object(), chatml, cfg)
    assert dataclasses.astuple(format_of(chatml))[:3] == ("chat", PromptFormat().template, "Be brief.")


def test_config_file_with_an_unknown_prompt_style_is_refused(tmp_path):
    from oblivio.config import load_config
    p = tmp_path / "c.yaml"
    p.write_text("model:\n  prompt: chatml\n")
    with pytest.raises(InputError, match="model.prompt"):
        load_config(p)
