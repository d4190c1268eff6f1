"""A whole (small) TOFU run: tiny model trained from scratch on forget01, unlearned with
GradDiff and NPO, evaluated (bench/tofu_small.py). Slow: run with ``pytest -m slow``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmod import load_bench
from oblivio.data.tofu import default_tofu_dir

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(default_tofu_dir() is None,
                                 reason="TOFU JSONL files not found (set OBLIVIO_TOFU_DIR)")]


def _bench(repo_root: Path):
    return load_bench("tofu_small", repo_root / "bench")


def test_tofu_small_run(repo_root: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "tofu"
    res = _bench(repo_root).main(["--retain-authors", "2", "--learn-epochs", "8", "--epochs", "1",
                                  "--max-items-per-role", "10", "--max-new-tokens", "24", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "| graddiff | one_to_one_random |" in printed and "| npo | cyclic |" in printed
    rec = json.loads((out / "compare.json").read_text())
    assert rec["data"]["name"] == "tofu:forget01" and rec["data"]["neighbour_roles"] is False
    assert rec["test_roles"] == ["retain_test"]
    assert len(rec["cells"]) == 4
    for c in rec["cells"]:
        assert set(c["values"]["utility"]) == {"retain", "retain_test", "real_authors", "world_facts"}
        assert c["values"]["forget_efficacy"] is not None
        assert c["values"]["forget_quality"] is not None         # gold = trained without forget01
    assert "no entity graph" in (out / "compare.md").read_text()
    assert len(res.cells) == 4
