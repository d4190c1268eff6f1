"""The grid runner (pipeline/grid.py): every cell a run folder, an index with roles, a second
run of the same grid keeps finished cells, a changed cell under an old name is refused, bad
names are refused before any work."""
from __future__ import annotations

import json

import pytest

from oblivio.errors import InputError


@pytest.fixture(scope="module")
def cells(tiny_cfg):
    from oblivio.config import load_config, to_dict
    from oblivio.pipeline.grid import Cell
    base = to_dict(tiny_cfg)

    def cfg(method: str, steps: int):
        return load_config(overrides={"unlearn": {"method": method, "train": {"max_steps": steps}},
                                      "eval": {"metrics": ["accuracy"], "bootstrap": 0, "max_items_per_role": 4,
                                               "max_new_tokens": 8}}, base=base)
    return [Cell("ga-1", cfg("ga", 1), role="tune", tags={"method": "ga"}),
            Cell("npo-2", cfg("npo", 2), tags={"method": "npo"})], cfg


def test_grid_runs_cells_into_run_folders_and_resumes(cells, tmp_path) -> None:
    from oblivio.pipeline.grid import Cell, run_grid
    grid, cfg = cells
    said: list[str] = []
    runs_said: list[str] = []
    out = run_grid(grid, tmp_path / "g", progress=False, log=said.append, run_log=runs_said.append)
    # the grid's own line per cell to log, the runs' messages to run_log
    assert [m.split()[0] for m in said] == ["[1/2]", "[2/2]"] and any("forget targets" in m for m in runs_said)
    assert set(out) == {"ga-1", "npo-2"} and out["npo-2"]["training"]["steps"] == 2
    index = json.loads((tmp_path / "g" / "grid.json").read_text())
    assert {n: (c["role"], c["steps"]) for n, c in index["cells"].items()} == {"ga-1": ("tune", 1),
                                                                               "npo-2": ("report", 2)}
    assert index["cells"]["npo-2"]["forget_accuracy"] == \
        out["npo-2"]["models"]["unlearned"]["sets"]["forget_test"]["accuracy"]["value"]
    weights = next((tmp_path / "g" / "npo-2" / "model").glob("*.safetensors"))
    inode = weights.stat().st_ino
    # a second run keeps what finished (no retraining: the same files)
    said.clear()
    again = run_grid(grid, tmp_path / "g", progress=False, log=said.append)
    assert again["npo-2"]["training"] == out["npo-2"]["training"] and weights.stat().st_ino == inode
    assert sum("finished before, kept" in m for m in said) == 2
    # a changed cell under an old name is refused; under a new name it runs
    with pytest.raises(InputError, match="another config"):
        run_grid([Cell("npo-2", cfg("npo", 3))], tmp_path / "g", progress=False, log=lambda m: None)
    assert weights.stat().st_ino == inode


def test_an_interrupted_cell_is_rerun(cells, tmp_path) -> None:
    from oblivio.pipeline.grid import run_grid
    grid, _ = cells
    failed = tmp_path / "g" / "ga-1.failed"
    failed.mkdir(parents=True)
    (failed / ".oblivio-run").write_text("{}")
    out = run_grid(grid[:1], tmp_path / "g", progress=False, log=lambda m: None)
    assert out["ga-1"]["training"]["steps"] == 1 and not failed.exists()


@pytest.mark.parametrize("name, role, match", [("../x", "report", "plain folder name"),
                                               ("a b", "report", "plain folder name"),
                                               ("ok", "select", "unknown role")])
def test_bad_cells_are_refused_before_any_work(cells, tmp_path, name, role, match) -> None:
    from oblivio.pipeline.grid import Cell, run_grid
    grid, cfg = cells
    with pytest.raises(InputError, match=match):
        run_grid([*grid, Cell(name, cfg("ga", 1), role=role)], tmp_path / "g", progress=False, log=lambda m: None)
    assert not any((tmp_path / "g").iterdir()) if (tmp_path / "g").exists() else True


def test_a_name_used_twice_is_refused(cells, tmp_path) -> None:
    from oblivio.pipeline.grid import run_grid
    grid, _ = cells
    with pytest.raises(InputError, match="used twice"):
        run_grid([grid[0], grid[0]], tmp_path / "g", progress=False, log=lambda m: None)
