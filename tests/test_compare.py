"""`compare`: a tiny methods × samplers grid, its files, reproducibility, budgets; retain roles
for user JSONL and the error when a sampler's roles are missing."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from oblivio.errors import InputError

# few items per set, short generations: the grid's evaluation stays cheap
FAST_EVAL = {"metrics": ["mean_token_prob", "rouge_recall", "s0_forget_efficacy", "s0_utility", "accuracy",
                         "answer_prob", "truth_ratio", "model_utility", "forget_quality"],
             "max_items_per_role": 6, "max_new_tokens": 12}
GRID = dict(methods="graddiff,npo", samplers=["cyclic", "melu"], steps=2)


@pytest.fixture(scope="module")
def fast_cfg(tiny_cfg):
    from oblivio.config import load_config, to_dict
    return load_config(overrides={"eval": FAST_EVAL}, base=to_dict(tiny_cfg))


@pytest.fixture(scope="module")
def grid(tiny_world, fast_cfg, tmp_path_factory):
    from oblivio import api
    data, wm = tiny_world
    out = tmp_path_factory.mktemp("cmp") / "grid"
    res = api.compare(data, config=fast_cfg, model=wm.base_dir, gold=wm.gold_dir, run_dir=out,
                      progress=False, log=lambda m: None, **GRID)
    return data, res, out


def test_grid_files_and_table(grid) -> None:
    data, res, out = grid
    for name in ("compare.json", "compare.md", "compare.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    assert not out.with_name(out.name + ".partial").exists()
    assert [(c.method, c.sampler) for c in res.cells] == [("graddiff", "cyclic"), ("graddiff", "melu"),
                                                          ("npo", "cyclic"), ("npo", "melu")]
    md = (out / "compare.md").read_text()
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| method")]
    assert len(rows) == 4 + 2                                    # the cells, plus (base) and (gold)
    header = next(ln for ln in md.splitlines() if ln.startswith("| method"))
    for role in ("direct_test", "indirect_test", "general_test"):
        assert f"utility {role}" in header
    rec = json.loads((out / "compare.json").read_text())
    assert rec["complete"] is True and rec["budget"] == {"kind": "steps", "steps": 2}
    assert rec["test_roles"] == ["direct_test", "indirect_test", "general_test"]
    assert len(rec["cells"]) == 4
    for c in rec["cells"]:
        assert c["steps"] == 2
        util = c["values"]["utility"]
        # utility per held-out role, on the test portion: what a comparison reports (oblivio.roles)
        assert set(util) == {"direct_test", "indirect_test", "general_test"}
        assert all(0.0 <= v <= 1.0 for v in util.values())
        assert 0.0 <= c["values"]["forget_efficacy"] <= 1.0
        assert c["values"]["forget_quality"] is not None     # the gold model was given
    assert set(rec["reference"]) == {"base", "gold"}


def test_same_seed_same_numbers(grid, tiny_world, fast_cfg, tmp_path) -> None:
    """A cell re-run alone (fresh reference model, same seed) reproduces the grid's numbers;
    so each cell is independent of the cells run before it."""
    from oblivio import api
    data, res, _ = grid
    _, wm = tiny_world
    again = api.compare(data, config=fast_cfg, model=wm.base_dir, methods=["npo"], samplers="melu", steps=2,
                        run_dir=None, progress=False, log=lambda m: None)
    a, b = res.cell("npo", "melu").values, again.cells[0].values
    assert again.run_dir is None and again.files == {}
    assert b["forget_efficacy"] == pytest.approx(a["forget_efficacy"], abs=1e-6)
    for role, v in a["utility"].items():
        assert b["utility"][role] == pytest.approx(v, abs=1e-6)


def test_epoch_budget_records_steps(tiny_world, fast_cfg) -> None:
    """Equal epochs: the samplers' epochs differ in length, so the steps taken differ."""
    from oblivio import api
    data, wm = tiny_world
    res = api.compare(data, config=fast_cfg, model=wm.base_dir, methods="graddiff",
                      samplers="one_to_one_random,cyclic", epochs=0.1, progress=False, log=lambda m: None)
    assert res.budget == {"kind": "epochs", "epochs": 0.1}
    one, cyc = res.cells
    bs = fast_cfg.unlearn.train.batch_size
    assert one.pairs_per_epoch == len(data.forget)                               # 1:1: |D_f| pairs
    assert cyc.pairs_per_epoch == max(len(data.forget), len(data.unlearning_retain()))
    for c in (one, cyc):
        assert c.steps_per_epoch == math.ceil(c.pairs_per_epoch / bs)
        assert c.steps == math.ceil(0.1 * c.steps_per_epoch)
    assert cyc.steps > one.steps


def test_budget_and_name_errors(tiny_world, fast_cfg) -> None:
    from oblivio import api
    data, wm = tiny_world
    with pytest.raises(InputError, match="sampler"):
        api.compare(data, config=fast_cfg, model=wm.base_dir, samplers="cyclik", steps=1)
    with pytest.raises(InputError, match="not both"):
        api.compare(data, config=fast_cfg, model=wm.base_dir, samplers="cyclic", steps=1, epochs=1)
    with pytest.raises(InputError, match="method"):
        api.compare(data, config=fast_cfg, model=wm.base_dir, methods="nop", samplers="cyclic", steps=1)


def test_all_samplers_in_spec_order() -> None:
    from oblivio.experiments.compare import SAMPLER_ORDER, _names
    names = _names("all", "sampler")
    assert names[:7] == list(SAMPLER_ORDER)


# --- user JSONL: retain roles -------------------------------------------------------------

def _rows() -> list[dict]:
    rows = []
    for who, role in (("Ana", "forget"), ("Ben", "retain"), ("Cara", "retain"), ("Dov", "retain"),
                      ("Eli", "retain_test")):
        for k in range(2):
            rows.append({"question": f"What is fact {k} of {who}?", "answer": f"{who} fact {k}.",
                         "set": role, "entity": who})
    return rows


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_jsonl_set_roles_and_neighbour_map(tmp_path) -> None:
    from oblivio import api
    from oblivio.config import load_config
    from oblivio.data.neighbours import check_sampler
    f = _write(tmp_path / "d.jsonl", _rows())
    plain = api.load_data(str(f))
    assert plain.targets == ("Ana",)                                # forget targets default to the entity
    assert all(it.targets == ("Ana",) for it in plain.forget)
    assert plain.neighbour_roles is False
    with pytest.raises(InputError, match="--neighbour-map"):
        check_sampler(plain, "melu")
    check_sampler(plain, "cyclic")                                  # role-free samplers just work
    m = tmp_path / "map.json"
    m.write_text(json.dumps({"Ana": {"direct": ["Ben", "Eli"], "indirect": ["Cara"]}}))
    mapped = api.load_data(str(f), load_config(overrides={"data": {"neighbour_map": str(m)}}))
    roles = {it.entity: it.role for it in mapped.items}
    assert roles == {"Ana": "forget", "Ben": "direct", "Cara": "indirect", "Dov": "general", "Eli": "direct_test"}
    assert mapped.neighbour_roles is True
    for s in ("direct_only", "indirect_only", "balanced", "melu"):
        check_sampler(mapped, s)
    # the same roles given per row with "set" (and "targets")
    rows = _rows()
    for r in rows:
        r["set"] = {"Ben": "direct", "Cara": "indirect", "Dov": "general", "Eli": "direct_test"}.get(r["entity"],
                                                                                                  r["set"])
        if r["entity"] in ("Ben", "Cara", "Eli"):
            r["targets"] = ["Ana"]
    d = api.load_data(str(_write(tmp_path / "roles.jsonl", rows)))
    assert d.neighbour_roles is True
    check_sampler(d, "melu")


def test_jsonl_roles_without_targets_say_what_is_missing(tmp_path) -> None:
    from oblivio import api
    from oblivio.data.neighbours import check_sampler
    rows = _rows()
    for r in rows:
        if r["entity"] in ("Ben", "Cara"):
            r["set"] = "direct" if r["entity"] == "Ben" else "indirect"   # roles but no "targets"
    d = api.load_data(str(_write(tmp_path / "d.jsonl", rows)))
    with pytest.raises(InputError) as e:
        check_sampler(d, "balanced")
    assert "targets" in str(e.value) and "--neighbour-map" in str(e.value)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oblivio", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("cmd", [["compare", "--samplers", "cyclic,melu", "--steps", "1"],
                                 ["unlearn", "--sampler", "melu", "--steps", "1"]])
def test_cli_missing_roles_exit_2(tmp_path, cmd) -> None:
    f = _write(tmp_path / "d.jsonl", _rows())
    r = _cli(*cmd, "--data", str(f), "--out", str(tmp_path / "out"), "--quiet", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    err = r.stderr
    assert "melu" in err and "direct" in err and "--neighbour-map" in err and '"set"' in err
    assert "roles: forget 2, retain 6, retain_test 2" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()


def test_cli_compare_runs(tiny_world, tmp_path) -> None:
    """`oblivio compare` end to end on the tiny world's cached base model (one cell)."""
    _, wm = tiny_world
    out = tmp_path / "cmp"
    sets = [f"eval.{k}={json.dumps(v)}" for k, v in FAST_EVAL.items()]
    args = ["compare", "--data", "world:tiny", "--model", str(wm.base_dir), "--methods", "graddiff",
            "--samplers", "direct_only", "--steps", "1", "--out", str(out), "--quiet"]
    for s in sets:
        args += ["--set", s]
    r = _cli(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "| graddiff | direct_only | 1 |" in r.stdout
    assert (out / "compare.png").is_file()


def test_calibrated_grid(tiny_world, fast_cfg, tmp_path) -> None:
    """--calibrate τ: every cell mixed back to utility ≥ τ × original; table and sweep plot."""
    pytest.importorskip("oblivio.engine.calibrate")
    from oblivio import api
    data, wm = tiny_world
    out = tmp_path / "cal"
    res = api.compare(data, config=fast_cfg, model=wm.base_dir, methods="graddiff", samplers="cyclic", steps=4,
                      calibrate=1.0, calibrate_tol=0.34, run_dir=out, progress=False, log=lambda m: None)
    cal = res.cells[0].calibration
    assert cal is not None and 0.0 <= cal["alpha"] <= 1.0
    assert cal["utility"] >= cal["target"] - 1e-9
    assert cal["sweep"] and all("alpha" in r and "utility" in r for r in cal["sweep"])
    assert "Calibrated to equal utility" in (out / "compare.md").read_text()
    assert (out / "compare_calibrated.png").is_file()
    rec = json.loads((out / "compare.json").read_text())
    assert rec["calibration"] == {"tau": 1.0} and rec["cells"][0]["calibration"]["alpha"] == cal["alpha"]


def test_cells_are_run_folders_that_audit_like_any_run(grid) -> None:
    """Every cell is a finished run folder of its own (config.yaml reproducing the cell: its
    method, sampler and budget), listed in compare.json; `audit` takes one like any run."""
    from oblivio import api
    from oblivio.config import load_config
    data, res, out = grid
    rec = json.loads((out / "compare.json").read_text())
    assert [c["runs"] for c in rec["cells"]] == [["runs/graddiff__cyclic"], ["runs/graddiff__melu"],
                                                  ["runs/npo__cyclic"], ["runs/npo__melu"]]
    child = out / "runs" / "npo__melu"
    cfg = load_config(child / "config.yaml")
    assert (cfg.unlearn.method, cfg.unlearn.sampler, cfg.unlearn.train.max_steps) == ("npo", "melu", 2)
    run = json.loads((child / "results.json").read_text())
    cell = res.cell("npo", "melu")
    assert run["training"]["steps"] == cell.steps == 2
    # the cell's summary is the child run's own evaluation
    assert run["models"]["unlearned"]["sets"]["forget_test"]["accuracy"]["value"] == cell.values["forget_accuracy"]
    rec = api.audit(child, attacks="paraphrase", progress=False, log=lambda m: None)
    assert set(rec["attacks"]["paraphrase"]["models"]) >= {"base", "unlearned"}
    again = json.loads((child / "results.json").read_text())
    assert again["audit"] == rec and (child / "audit.json").is_file() and (child / "model").is_dir()


def test_unset_arguments_are_the_configs(fast_cfg) -> None:
    """The config is the one source of defaults: unset compare arguments take compare.* and
    calibrate.*, given ones replace them."""
    from oblivio.config import load_config, to_dict
    from oblivio.experiments.compare import _plan
    cfg = load_config(overrides={"compare": {"methods": ["ga"], "samplers": ["cyclic"], "calibrate": 0.8,
                                             "seeds": [3, 4]},
                                 "calibrate": {"metric": "retain/accuracy", "tol": 0.05}}, base=to_dict(fast_cfg))
    p = _plan(None, None, None, cfg, (None, None, None), None, None, 1, None, None, None, False, False)
    assert (p.methods, p.samplers, p.calibrate, p.calibrate_metric, p.calibrate_tol, p.run_seeds) == \
        (["ga"], ["cyclic"], 0.8, "retain/accuracy", 0.05, [3, 4])
    p = _plan(None, "npo", "melu", cfg, (0.9, "model_utility", 0.01), None, None, 1, None, "0", None, False, False)
    assert (p.methods, p.samplers, p.calibrate, p.calibrate_metric, p.calibrate_tol, p.run_seeds) == \
        (["npo"], ["melu"], 0.9, "model_utility", 0.01, [0])


def test_an_interrupted_comparison_keeps_its_finished_cells(tiny_world, fast_cfg, tmp_path) -> None:
    """Rerun after an interruption: the cell runs the attempt finished with the same config are
    kept (the same files, not retrained) and give the same table; a changed budget is rerun."""
    from oblivio import api
    data, wm = tiny_world
    out = tmp_path / "cmp"
    kw = dict(config=fast_cfg, model=wm.base_dir, methods="npo", samplers="cyclic,melu", progress=False)
    first = api.compare(data, run_dir=out, steps=2, log=lambda m: None, **kw)
    out.rename(out.with_name("cmp.partial"))          # as an interrupted attempt leaves it
    weights = next((tmp_path / "cmp.partial" / "runs" / "npo__melu" / "model").glob("*.safetensors"))
    inode = weights.stat().st_ino
    said: list[str] = []
    again = api.compare(data, run_dir=out, steps=2, log=said.append, **kw)
    assert sum("finished before, kept" in m for m in said) == 2
    assert next((out / "runs" / "npo__melu" / "model").glob("*.safetensors")).stat().st_ino == inode
    assert [c.values["forget_accuracy"] for c in again.cells] == [c.values["forget_accuracy"] for c in first.cells]
    assert [c.steps for c in again.cells] == [2, 2] and not (tmp_path / "cmp.partial").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".cells")]
    # another budget is another config: nothing is kept
    out.rename(out.with_name("cmp.partial"))
    said.clear()
    third = api.compare(data, run_dir=out, steps=3, log=said.append, **kw)
    assert not any("finished before" in m for m in said) and [c.steps for c in third.cells] == [3, 3]


def test_a_comparison_never_changes_the_callers_model(tiny_world, fast_cfg, fresh_base) -> None:
    """A loaded model given to compare: the cell unlearns a copy (pipeline/models.py ModelSource,
    copy=True), the caller's weights stay bit for bit the same."""
    import torch

    from oblivio import api
    data, _ = tiny_world
    model, tok = fresh_base
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = api.compare(data, config=fast_cfg, model=model, tokenizer=tok, methods="ga", samplers="cyclic", steps=2,
                      progress=False, log=lambda m: None)
    assert res.cells[0].steps == 2
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


# --- many worlds ---------------------------------------------------------------------------------

def _runs(values: list[float]) -> list[dict]:
    """A cell's per-training-seed records (what cell_from_runs aggregates)."""
    return [{"seed": k, "steps": 4, "pairs_per_epoch": 8, "seconds": {"unlearn": 1.0}, "stop_reason": "max_steps",
             "values": {"forget_efficacy": v, "utility": {"direct_test": 1 - v}, "label": "x"}, "report": None,
             "calibration": None} for k, v in enumerate(values)]


def test_worlds_aggregate_by_world_hand_computed() -> None:
    from types import SimpleNamespace

    from oblivio.experiments.compare import Cell
    from oblivio.experiments.seeds import cell_from_runs
    from oblivio.experiments.worlds import world_cell
    tc = SimpleNamespace(batch_size=8, grad_accum=1)
    # world 0 ran two training seeds (0.4, 0.6: mean 0.5), worlds 1 and 2 one each (0.7, 0.9)
    cells = [cell_from_runs(Cell, "graddiff", "melu", _runs(v), tc, multi=True) for v in ([0.4, 0.6], [0.7], [0.9])]
    c = world_cell(Cell, cells, [0, 1, 2])
    # the world is the unit: mean of the world means (0.5 + 0.7 + 0.9) / 3 = 0.7, not the pooled
    # mean over the four runs (0.65)
    assert c.values["forget_efficacy"] == pytest.approx(0.7)
    # sd over worlds 0.2; 95% t-interval with 2 degrees of freedom: t = 4.302653 → 4.302653 · 0.2 / √3
    assert c.sd["forget_efficacy"] == pytest.approx(4.302653 * 0.2 / math.sqrt(3), rel=1e-6)
    assert c.n["forget_efficacy"] == 3
    assert c.values["utility"]["direct_test"] == pytest.approx(0.3)
    assert c.sd["utility"]["direct_test"] == pytest.approx(c.sd["forget_efficacy"])
    assert c.values["label"] == "x" and c.sd["label"] is None      # not a number: kept, no interval
    # the aggregate sums the recorded cost of every run (fake records of 1.0 each: no clock is read)
    recorded_cost = c.seconds
    assert recorded_cost == {"unlearn": 4.0}


def test_world_seeds_need_the_embedded_world(tmp_path, fast_cfg) -> None:
    from oblivio import api
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps({"question": "q", "answer": "a", "set": "forget"}) + "\n")
    with pytest.raises(InputError) as e:
        api.compare(str(p), config=fast_cfg, world_seeds="0,1,2", progress=False, log=lambda m: None, **GRID)
    assert e.value.field == "compare.world_seeds"
    with pytest.raises(InputError) as e:
        api.compare(None, config=fast_cfg, world_seeds=[0], progress=False, log=lambda m: None, **GRID)
    assert "at least 2" in str(e.value)


@pytest.mark.slow
def test_compare_over_worlds_runs_each_world(fast_cfg, tmp_path) -> None:
    from oblivio import api
    out = tmp_path / "w"
    res = api.compare(None, config=fast_cfg, methods="graddiff", samplers="one_to_one_random", steps=2,
                      world_seeds="0,1", run_dir=out, progress=False, log=lambda m: None)
    assert len(res.worlds) == 2
    targets = [json.loads((out / "worlds" / f"world-{w}" / "compare.json").read_text())["data"]["targets"]
               for w in (0, 1)]
    assert targets[0] != targets[1]                                 # two worlds, two forget targets
    (c,) = res.cells
    per = [r.cells[0].values["forget_efficacy"] for r in res.worlds]
    assert c.values["forget_efficacy"] == pytest.approx(sum(per) / 2) and c.n["forget_efficacy"] == 2
    rec = json.loads((out / "compare.json").read_text())
    assert rec["worlds"] == [0, 1] and "Student-t" in rec["aggregate"]
    assert "n = 2" in (out / "compare.md").read_text()
    lines = res.verdicts[c.label]                                   # the four verdicts over the worlds
    assert [ln.split(":")[0] for ln in lines] == ["forgotten", "kept", "private", "robust"]
    assert rec["verdicts"][c.label] == lines and "2 worlds" in lines[0]
    assert "## Verdicts over worlds" in (out / "compare.md").read_text()


# --- the scatter's axes ---------------------------------------------------------------------

def test_share_axes_span_at_least_a_fifth_within_zero_and_one() -> None:
    from oblivio.report.compare_view import MIN_SPAN, share_limits
    assert MIN_SPAN == 0.2
    # narrow data (0.964–0.974: a one-point gap): padded to 0.9635–0.9745, widened to 0.2 about
    # 0.969 (0.869–1.069), shifted below 1: 0.80–1.00, not the data's own 0.964–0.974
    assert share_limits([0.964, 0.974, 0.970]) == pytest.approx((0.8, 1.0))
    # near the top it is shifted down, not cut: 0.95–0.99 padded to 0.948–0.992, widened to
    # 0.87–1.07, shifted to 0.80–1.00
    assert share_limits([0.95, 0.99]) == pytest.approx((0.8, 1.0))
    # near the bottom shifted up: 0.01–0.03 → widened −0.08–0.12 → 0.00–0.20
    assert share_limits([0.01, 0.03]) == pytest.approx((0.0, 0.2))
    # mid-range: widened about the middle, 0.40–0.44 → 0.32–0.52
    assert share_limits([0.40, 0.44]) == pytest.approx((0.32, 0.52))
    # wide data: 5% of the span each side (0.2–0.8 → 0.17–0.83), clipped at 0 and 1
    assert share_limits([0.2, 0.8]) == pytest.approx((0.17, 0.83))
    assert share_limits([0.0, 1.0]) == pytest.approx((0.0, 1.0))
    assert share_limits([]) == (0.0, 1.0) and share_limits([float("nan")]) == (0.0, 1.0)


def test_panel_limits_take_cells_their_sd_and_the_reference() -> None:
    from oblivio.experiments.compare import Cell
    from oblivio.report.compare_view import panel_limits
    cells = [Cell("npo_me", "melu", 120, 8, 1, {}, "max_steps",
                  values={"forget_efficacy": 0.70, "utility": {"direct_test": 0.964}}),
             Cell("npo", "melu", 120, 8, 1, {}, "max_steps",
                  values={"forget_efficacy": 0.72, "utility": {"direct_test": 0.974}},
                  sd={"forget_efficacy": 0.01, "utility": {"direct_test": 0.002}})]
    ref = {"base": {"forget_efficacy": 0.30, "utility": {"direct_test": 0.98}},
           "gold": {"forget_efficacy": 0.66, "utility": {"direct_test": 0.95}}}
    (x0, x1), (y0, y1) = panel_limits(cells, ref, "direct_test")
    # y: 0.95 (gold) … 0.98 (base) → padded 0.9485–0.9815, widened to 0.2 about 0.965, shifted to 0.8–1.0
    assert (y0, y1) == pytest.approx((0.8, 1.0))
    # x: 0.30 (base) … 0.73 (npo + its sd) → 5% of 0.43 each side
    assert (x0, x1) == pytest.approx((0.30 - 0.0215, 0.73 + 0.0215))
    (x0, x1), (y0, y1) = panel_limits(cells, {}, "direct_test")
    assert y1 - y0 == pytest.approx(0.2) and y0 <= 0.964 and y1 >= 0.976      # 0.974 + its sd


def test_the_compare_plot_uses_the_panel_limits(tmp_path, monkeypatch) -> None:
    """plot_grid sets each panel's axes to panel_limits (read back from the figure matplotlib drew)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from oblivio.experiments.compare import Cell
    from oblivio.report.compare_view import plot_grid
    cells = [Cell("npo_me", "melu", 120, 8, 1, {}, "max_steps",
                  values={"forget_efficacy": 0.70, "utility": {"direct_test": 0.964}}),
             Cell("npo", "cyclic", 120, 8, 1, {}, "max_steps",
                  values={"forget_efficacy": 0.72, "utility": {"direct_test": 0.974}})]
    seen = []
    monkeypatch.setattr(plt, "close", lambda fig: seen.append(fig))      # keep the figure to read it
    plot_grid(cells, {"gold": {"forget_efficacy": 0.66, "utility": {"direct_test": 0.95}}}, ["direct_test"],
              tmp_path / "c.png")
    ax = seen[0].axes[0]
    lo, hi = ax.get_ylim()
    assert (lo, hi) == pytest.approx((0.8, 1.0))
    assert len([t for t in ax.get_yticks() if lo <= t <= hi]) >= 4        # enough ticks to read the scale
    assert any(abs(ln.get_ydata()[0] - 0.95) < 1e-9 for ln in ax.get_lines())     # gold's utility line
    assert (tmp_path / "c.png").stat().st_size > 0
    monkeypatch.undo()
    plt.close(seen[0])
