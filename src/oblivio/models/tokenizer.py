"""A byte-level BPE tokenizer trained with `tokenizers` on the embedded world's text.

Wrapped as a `transformers.PreTrainedTokenizerFast`, so it saves with ``save_pretrained``
and loads with ``AutoTokenizer`` like any Hugging Face tokenizer.
"""
from __future__ import annotations

from typing import Iterable

RESERVED_TOKENS = {"pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024):
    """Train a byte-level BPE on ``texts``; returns a ``PreTrainedTokenizerFast``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    # ByteLevel without prefix space: " Tarsk" and "Tarsk" differ, and the prompt/answer
    # boundary always carries the space on the answer side (see models/format.py).
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(RESERVED_TOKENS.values()),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **RESERVED_TOKENS)
    return fast
