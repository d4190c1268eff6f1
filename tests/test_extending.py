"""docs/extending.md's worked examples run as written, from outside the package: a method
(SimNPO), a metric and a sampler by dotted path, and a method and a metric by entry point
(a fake installed distribution). Zero edits to the package."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from oblivio.cli import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
FAST_EVAL = ["--set", "eval.metrics=[answer_prob,accuracy,mymetrics:exact_answer]"]


def doc_files() -> dict[str, str]:
    """The ```python blocks of docs/extending.md that start with ``# file: NAME``."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    out = {}
    for b in blocks:
        m = re.match(r"# file: (\S+)\n", b)
        if m:
            out[m.group(1)] = b[m.end():]
    return out


@pytest.fixture()
def plugin_dir(tmp_path, monkeypatch):
    """The doc's example files written to a folder on sys.path (as a user's PYTHONPATH)."""
    d = tmp_path / "plugins"
    d.mkdir()
    for name, text in doc_files().items():
        (d / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(d))
    for mod in ("mylosses", "mymetrics", "mysamplers"):
        sys.modules.pop(mod, None)
    from oblivio.registry import METHODS, METRICS, SAMPLERS
    for reg in (METHODS, METRICS, SAMPLERS):   # whatever a test adds is gone afterwards
        reg.discover()
        monkeypatch.setattr(reg, "_items", dict(reg._items))
        monkeypatch.setattr(reg, "_entry_points", dict(reg._entry_points))
    return d


def world_config(tmp_path, tiny_cfg) -> str:
    """The session's tiny-world config as a file (the CLI then reuses the cached models)."""
    import yaml

    from oblivio.config import to_dict
    p = tmp_path / "tiny.yaml"
    p.write_text(yaml.safe_dump(to_dict(tiny_cfg)))
    return str(p)


def cli(args, capsys) -> tuple[int, str]:
    """Exit code and stderr (stdout for `ls`)."""
    with pytest.raises(SystemExit) as ei:
        main([*args, "--quiet"] if args[0] != "ls" else args)
    cap = capsys.readouterr()
    return ei.value.code, cap.out if args[0] == "ls" else cap.err


def test_doc_has_the_examples() -> None:
    assert {"mylosses.py", "mymetrics.py", "mysamplers.py"} <= set(doc_files())


def test_simnpo_metric_and_sampler_by_dotted_path(plugin_dir, tmp_path, tiny_world, tiny_cfg, capsys):
    data, _ = tiny_world
    out = tmp_path / "run"
    code, err = cli(["unlearn", "--config", world_config(tmp_path, tiny_cfg), "--method", "mylosses:SimNPO",
                     "--sampler", "mysamplers:Reversed", "--set", "unlearn.args.beta=3.0", "--steps", "8",
                     "--lr", "3e-3", *FAST_EVAL, "--out", str(out)], capsys)
    assert code == 0, err
    rec = json.loads((out / "results.json").read_text())
    assert rec["config"]["unlearn"]["method"] == "mylosses:SimNPO"
    assert rec["config"]["unlearn"]["args"] == {"beta": 3.0}
    hist = rec["training"]["history"]
    assert len(hist) == 8 and {"forget", "retain"} <= set(hist[0])   # SimNPO's own loss parts
    base, unl = rec["models"]["base"]["sets"]["forget_test"], rec["models"]["unlearned"]["sets"]["forget_test"]
    # the external loss did unlearn: the forget answers became less likely
    assert unl["answer_prob"]["value"] < base["answer_prob"]["value"]
    # the external metric: hand-checked against the saved generations and the data's answers
    answers = {it.id: it.answer for it in data.role("forget")}
    for name in ("base", "unlearned"):
        m = rec["models"][name]
        ids, gens = m["item_ids"]["forget_test"], m["generations"]["forget_test"]
        want = sum(g.strip().lower() == answers[i].strip().lower() for i, g in zip(ids, gens)) / len(ids)
        assert m["sets"]["forget_test"]["exact_answer"]["value"] == pytest.approx(want)
    assert rec["models"]["base"]["sets"]["forget_test"]["exact_answer"]["value"] > 0   # the base model knows some


def test_reversed_sampler_pairs(plugin_dir) -> None:
    from oblivio.data.samplers import get_sampler
    pairs = get_sampler("mysamplers:Reversed").epoch_pairs(list("abcde"), list("xyz"), epoch=0, seed=0)
    assert pairs == [(0, 2), (1, 1), (2, 0), (3, 2), (4, 1)]


def test_simnpo_matches_a_hand_computation(plugin_dir) -> None:
    """SimNPO's forget term on a random (non-degenerate) model, padded batch of unequal
    lengths, against an independent computation: −(2/β)·log σ(−β·mean_t log p − γ)."""
    import math

    import torch

    from oblivio.config import build_method
    from oblivio.methods import StepContext
    torch.manual_seed(0)
    emb = torch.nn.Embedding(11, 11)

    class M(torch.nn.Module):
        def forward(self, input_ids, attention_mask):
            return type("O", (), {"logits": emb(input_ids)})()

    ids = torch.tensor([[1, 2, 3, 4, 0], [5, 6, 7, 0, 0]])
    labels = torch.tensor([[-100, -100, 3, 4, -100], [-100, 6, 7, -100, -100]])
    mask = (ids != 0).long()
    batch = {"forget": {"input_ids": ids, "attention_mask": mask, "labels": labels, "index": torch.arange(2)}}
    meth = build_method("mylosses:SimNPO", {"beta": 2.0, "gamma": 0.5})
    got = meth.loss(StepContext(M(), None, 0, 1), batch).total.item()
    logp = torch.log_softmax(emb(ids), -1)
    terms = []
    for b in range(2):
        lps = [logp[b, t - 1, ids[b, t]].item() for t in range(1, 5) if labels[b, t] != -100]
        avg = sum(lps) / len(lps)
        terms.append(-(2.0 / 2.0) * math.log(1 / (1 + math.exp(-(-2.0 * avg - 0.5)))))
    assert got == pytest.approx(sum(terms) / 2, rel=1e-5)


def fake_distribution(root: Path) -> None:
    """An installed distribution as importlib.metadata sees it: a .dist-info folder with
    METADATA and entry_points.txt next to the plugin modules."""
    info = root / "oblivio_example_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: oblivio-example-plugins\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[oblivio.methods]\nsimnpo_ep = mylosses:SimNPO\n\n"
                                           "[oblivio.metrics]\nexact_answer_ep = mymetrics:exact_answer\n\n"
                                           "[oblivio.samplers]\nbroken_ep = no_such_module:Nothing\n")


def test_entry_points(plugin_dir, tmp_path, tiny_cfg, capsys):
    from oblivio.registry import METHODS, METRICS, SAMPLERS
    fake_distribution(plugin_dir)
    for reg in (METHODS, METRICS, SAMPLERS):
        reg.discover(force=True)
    assert "simnpo_ep" in METHODS.names() and "exact_answer_ep" in METRICS.names()
    assert METHODS.get("simnpo_ep").__name__ == "SimNPO"
    assert METRICS.get("exact_answer_ep").name == "exact_answer"
    # a broken plugin: an error naming it when used (exit 2), not a crash of every run
    code, err = cli(["unlearn", "--config", world_config(tmp_path, tiny_cfg), "--sampler", "broken_ep",
                     "--out", str(tmp_path / "bad")], capsys)
    assert code == 2 and "broken_ep" in err and "no_such_module" in err
    assert not (tmp_path / "bad").exists()
    # `oblivio ls` lists entry points (and skips the broken one with a warning)
    with pytest.warns(UserWarning, match="broken_ep"):
        code, listing = cli(["ls"], capsys)
    assert code == 0 and "simnpo_ep" in listing
    # the entry-point method runs through the CLI under its entry-point name
    out = tmp_path / "run"
    code, err = cli(["unlearn", "--config", world_config(tmp_path, tiny_cfg), "--method", "simnpo_ep",
                     "--steps", "2", "--no-eval", "--out", str(out)], capsys)
    assert code == 0, err
    assert json.loads((out / "results.json").read_text())["config"]["unlearn"]["method"] == "simnpo_ep"


@pytest.mark.parametrize("spec, expect", [
    ("nosuchmod_xyz:Loss", "cannot import module 'nosuchmod_xyz'"),
    ("mylosses:NoSuchClass", "has no attribute 'NoSuchClass'"),
    ("mymetrics:exact_answer", "expected a class"),
])
def test_bad_dotted_paths(plugin_dir, tmp_path, capsys, spec, expect):
    code, err = cli(["demo", "--method", spec, "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and expect in err and "unlearn.method" in err
    assert not (tmp_path / "r").exists()
