"""The command line's flags across subcommands: one name per concept, words as placeholders,
examples and defaults in every --help (issue #25 item 3).

Builds the real parser (no model is loaded) and prints:

* a table, concept × subcommand, of the visible flag that carries the concept there
  (``·``: the subcommand does not take it; a concept is a config key, a flag that is not one,
  or one of :data:`CONCEPTS`, which groups keys that hold the same thing at two places);
* (a) flags whose placeholder is a config key (a dotted path, or a snake_case key name)
  instead of a word;
* (b) subcommands without an ``examples:`` block, or with a value-taking config flag whose
  help does not show its default;
* (c) concepts with more than one visible name across subcommands (or within one);
* (d) subcommands that read a dataset (``--data``) but lack ``--neighbour-map`` or ``--targets``;
* (e) the subcommands that take ``--log-with``, and those that run something but do not;
* (f) the subcommands that take ``--limit``.

Hidden aliases (``help=SUPPRESS``: old spellings that keep working) are not names a reader sees,
so they count for nothing here. tests/test_cli_flags.py asserts (a)–(d) are empty.
Usage: ``python bench/cli_flags.py [--json FILE]``
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

#: keys (or non-config dests) that hold one concept at different places: a reader sees them as one
#: thing, so they must carry one name. The calibration target τ is calibrate's and compare's (a
#: compare cell is calibrated as `oblivio calibrate` would); the early stop's floor
#: (control.stop_utility_tau, ``--stop-utility TAU``) is another concept on purpose: a compare cell
#: is an unlearn run, and ``--tau`` there calibrates it after training instead of stopping it.
CONCEPTS: dict[str, set[str]] = {
    "method": {"unlearn.method", "compare.methods"},
    "sampler": {"unlearn.sampler", "compare.samplers"},
    "calibration τ": {"calibrate.tau", "compare.calibrate"},
    "run folder": {"run", "runs"},
}
#: subcommands that run something (load a model and compute): candidates for --log-with and --limit
RUNS = ("demo", "unlearn", "reveal", "eval", "calibrate", "compare", "audit")
#: subcommands whose evaluation --limit shortens (reveal and calibrate: see docs/reference/cli.md)
LIMITED = ("demo", "unlearn", "eval", "compare", "audit")


def subparsers(ap: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for a in ap._actions:
        if isinstance(a, argparse._SubParsersAction):
            return dict(a.choices)
    raise RuntimeError("no subcommands")


def concept_of(dest: str) -> str:
    return next((c for c, keys in CONCEPTS.items() if dest in keys), dest)


def visible(a: argparse.Action) -> bool:
    return a.help is not argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)


def shown_name(a: argparse.Action) -> str:
    return ", ".join(a.option_strings) if a.option_strings else "<positional>"


def key_like(metavar: Any) -> bool:
    """A placeholder that is a config key: a dotted path or a snake_case key name (FOO_BAR)."""
    if not isinstance(metavar, str):
        return False
    return "." in metavar or bool(re.fullmatch(r"[A-Z]+(_[A-Z]+)+", metavar))


def measure() -> dict[str, Any]:
    from oblivio.cli_args import CONFIG_DESTS, build_parser
    subs = subparsers(build_parser())
    table: dict[str, dict[str, str]] = {}
    names: dict[str, set[str]] = {}
    bad_metavar, no_default, no_example = [], [], []
    for cmd, p in subs.items():
        if not (p.epilog or "").startswith("examples:"):
            no_example.append(cmd)
        for a in p._actions:
            if not visible(a):
                continue
            c = concept_of(a.dest)
            table.setdefault(c, {})[cmd] = shown_name(a)
            names.setdefault(c, set()).update(a.option_strings or ["<positional>"])
            shown = a.metavar or a.dest.upper()      # argparse's placeholder when none is given
            if a.option_strings and a.nargs != 0 and a.choices is None and key_like(shown):
                bad_metavar.append(f"{cmd} {a.option_strings[0]} {shown}")
            if a.dest in CONFIG_DESTS and a.nargs != 0 and "default" not in (a.help or ""):
                no_default.append(f"{cmd} {a.option_strings[0]}")
    flags = {cmd: {o for a in p._actions for o in a.option_strings} for cmd, p in subs.items()}
    return {
        "table": table,
        "metavar_is_key": sorted(set(bad_metavar)),
        "no_example": no_example,
        "no_default_shown": sorted(set(no_default)),
        "two_names": {c: sorted(n) for c, n in names.items() if len(n) > 1},
        "data_without_neighbour_map_or_targets": sorted(
            f"{cmd}: lacks {', '.join(f for f in ('--neighbour-map', '--targets') if f not in fl)}"
            for cmd, fl in flags.items() if "--data" in fl and not {"--neighbour-map", "--targets"} <= fl),
        "log_with": [c for c in subs if "--log-with" in flags[c]],
        "runs_without_log_with": [c for c in RUNS if c in subs and "--log-with" not in flags[c]],
        "limit": [c for c in subs if "--limit" in flags[c]],
        "evaluates_without_limit": [c for c in LIMITED if c in subs and "--limit" not in flags[c]],
    }


def render(m: dict[str, Any]) -> str:
    from oblivio.cli_args import build_parser
    cmds = list(subparsers(build_parser()))
    shared = {c: row for c, row in m["table"].items() if len(row) > 1 or c in CONCEPTS}
    width = max(len(c) for c in shared) + 1
    lines = ["concept × subcommand (concepts taken by two or more subcommands; · = not taken)",
             " " * width + " | ".join(cmds)]
    for c, row in sorted(shared.items()):
        lines.append(f"{c:<{width}}" + " | ".join(row.get(cmd, "·") for cmd in cmds))
    for title, k in (("(a) placeholder is a config key", "metavar_is_key"),
                     ("(b) no example", "no_example"), ("(b) default not shown", "no_default_shown"),
                     ("(d) reads --data but lacks a data flag", "data_without_neighbour_map_or_targets"),
                     ("(e) --log-with on", "log_with"), ("(e) runs something, no --log-with", "runs_without_log_with"),
                     ("(f) --limit on", "limit"), ("(f) evaluates, no --limit", "evaluates_without_limit")):
        lines.append(f"{title}: {len(m[k])}" + "".join(f"\n  {x}" for x in m[k]))
    lines.append(f"(c) one concept, several visible names: {len(m['two_names'])}"
                 + "".join(f"\n  {c}: {' / '.join(n)}" for c, n in m["two_names"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="also write the measurement as JSON to this file")
    args = ap.parse_args(argv)
    m = measure()
    print(render(m))
    if args.json:
        from oblivio.atomic import write_text
        write_text(args.json, json.dumps(m, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
