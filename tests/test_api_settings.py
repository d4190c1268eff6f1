"""The Python API's keyword settings (config.setting_keys): generated from the config's flags,
so `unlearn(lr=…, steps=…, neighbour_map=…, targets=…, audit=True)` sets the same keys as the
command line's flags; a misspelt name is refused with the closest one; the run records them."""
from __future__ import annotations

import json

import pytest

from oblivio.errors import InputError


@pytest.mark.parametrize("argv, settings", [
    (["--lr", "0.0003"], {"lr": 3e-4}),
    (["--steps", "7"], {"steps": 7}),
    (["--neighbour-map", "m.json"], {"neighbour_map": "m.json"}),
    (["--targets", "Ada Lovelace"], {"targets": "Ada Lovelace"}),
    (["--audit"], {"audit": True}),
    (["--lora-r", "8"], {"lora_r": 8}),
    (["--system-prompt", "Be brief."], {"system_prompt": "Be brief."}),
])
def test_a_setting_sets_what_its_flag_sets(argv, settings) -> None:
    from oblivio.cli import build_parser, cli_overrides
    from oblivio.config import settings_overrides
    assert settings_overrides(settings) == cli_overrides(build_parser().parse_args(["unlearn", *argv]))


def test_a_list_setting_as_text_is_split_as_its_flag_splits() -> None:
    from oblivio.cli import build_parser, cli_overrides
    from oblivio.config import settings_overrides
    given = cli_overrides(build_parser().parse_args(["compare", "--attacks", "relearn,paraphrase"]))
    assert settings_overrides({"attacks": "relearn, paraphrase"}) == given


def test_an_unknown_setting_names_the_closest() -> None:
    from oblivio.config import settings_overrides
    with pytest.raises(InputError, match="did you mean neighbour_map") as ei:
        settings_overrides({"neighbor_map": "m.json"})
    assert ei.value.field == "neighbor_map"


def test_unlearn_takes_settings_and_saves_them(tiny_cfg, tmp_path) -> None:
    from oblivio import api
    from oblivio.config import load_config, to_dict
    cfg = load_config(overrides={"eval": {"enabled": False}}, base=to_dict(tiny_cfg))
    res = api.unlearn(None, None, config=cfg, run_dir=tmp_path / "r", progress=False, log=lambda m: None,
                      method="npo", lr=2e-4, steps=2)
    saved = json.loads((tmp_path / "r" / "results.json").read_text())
    assert res.training["steps"] == saved["training"]["steps"] == 2
    assert saved["training"]["lr"] == saved["config"]["unlearn"]["train"]["lr"] == 2e-4
    assert load_config(tmp_path / "r" / "config.yaml").unlearn.train.max_steps == 2   # config.yaml reruns it
    with pytest.raises(InputError, match="unknown setting"):
        api.unlearn(None, None, config=cfg, progress=False, log=lambda m: None, step=2)


@pytest.mark.parametrize("cmd, argv, key", [
    ("eval", ["--model", "m", "--neighbour-map", "map.json"], ("data", "neighbour_map")),
    ("eval", ["--model", "m", "--targets", "Ada"], ("data", "targets")),
    ("unlearn", ["--attacks", "relearn,paraphrase"], ("audit", "attacks")),
])
def test_commands_share_the_data_and_audit_flags(cmd, argv, key) -> None:
    """eval reads data like unlearn (its roles need the neighbour map); unlearn --audit names its attacks."""
    from oblivio.cli import build_parser, cli_overrides
    from oblivio.config import settings_overrides
    over = cli_overrides(build_parser().parse_args([cmd, *argv]))
    value = over[key[0]][key[1]]
    assert value == settings_overrides({key[1]: value})[key[0]][key[1]]
    assert value in ("map.json", ["Ada"], ["relearn", "paraphrase"])
