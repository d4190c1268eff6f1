"""Shared fixtures: one cached tiny world (base + gold models) for the whole session.

The cache lives in a session temp dir (``OBLIVIO_CACHE``), so tests never touch the
user's cache, and subprocess CLI tests reuse the same trained models.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# unlearn: the tests' fast recipe, GradDiff with 1:1 random pairing, named (the expectations of
# the tests that use tiny_cfg were computed with it); the default recipe (npo_swap, MELU) is
# tested in test_default_recipe.py, test_e2e.py and test_userdata.py
TINY_OVERRIDES = {
    "world": {"preset": "tiny"},
    "learn": {"epochs": 15, "batch_size": 16, "lr": 3e-3, "warmup": 0.05, "schedule": "cosine", "progress": False},
    "unlearn": {"method": "graddiff", "sampler": "one_to_one_random",
                "train": {"max_steps": 6, "batch_size": 8, "lr": 1e-3, "progress": False}},
    "eval": {"batch_size": 64, "max_new_tokens": 16},
}


def pytest_configure(config) -> None:
    if "OBLIVIO_CACHE" not in os.environ:
        import tempfile
        os.environ["OBLIVIO_CACHE"] = tempfile.mkdtemp(prefix="oblivio-test-cache-")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # TOFU's JSONL copy beside the repository, when there is one (oblivio itself never searches
    # for it: data/tofu_source.py); tests that need TOFU skip with their reason otherwise
    tofu = Path(__file__).resolve().parents[2] / "shared" / "data" / "tofu"
    if "OBLIVIO_TOFU_DIR" not in os.environ and (tofu / "forget.jsonl").is_file():
        os.environ["OBLIVIO_TOFU_DIR"] = str(tofu)


@pytest.fixture(scope="session")
def tiny_cfg():
    from oblivio.config import load_config
    return load_config(overrides=TINY_OVERRIDES)


@pytest.fixture(scope="session")
def tiny_world(tiny_cfg):
    """(data, WorldModels) of the tiny world; trained once per session, then cached."""
    from oblivio import api
    data = api.load_data(None, tiny_cfg)
    wm = api.learn(data, config=tiny_cfg, progress=False, log=lambda m: None)
    return data, wm


@pytest.fixture()
def fresh_base(tiny_world):
    """A freshly loaded copy of the tiny base model (unlearning modifies models in place)."""
    from oblivio.models.io import load_model
    _, wm = tiny_world
    return load_model(wm.base_dir)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
