"""The documentation against the code: the README stays short, its test command is the one CI
runs, every relative link in README.md and docs/ reaches a file, no page points outside the
repository, and every `oblivio ...` command the README and docs/ write still parses with the
real parser and resolves to a valid config (a renamed flag, method or sampler fails here).
No model is loaded: the whole file runs in a few seconds."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from oblivio import cli
from oblivio.cli import build_parser
from oblivio.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]

FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
# a command with a placeholder or an optional part is an illustration, not a command line
PLACEHOLDER = re.compile(r"<[^>]*>|…|\.\.\.|\[--|\bRUN\b \[RUN")


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _rel(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _code_blocks(text: str, langs: tuple[str, ...] | None = None) -> list[str]:
    return [body for lang, body in FENCE.findall(text) if langs is None or lang in langs]


def _prose(text: str) -> str:
    """The page without its fenced code blocks and inline code (links live in prose)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


# ---------------------------------------------------------------- the README


def test_readme_is_at_most_250_lines():
    n = len(_text(README).splitlines())
    assert n <= 250, f"README.md has {n} lines; move detail into docs/ (docs/index.md lists the pages)"


def _ci_test_command() -> str:
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
             if ln.strip().startswith("python3 -m venv")]
    assert len(lines) == 1, f".ci/run should hold one install-and-test line, found {lines}"
    return lines[0]


def _readme_command_lines() -> list[str]:
    return [ln.strip() for body in _code_blocks(_text(README), ("bash", "sh", ""))
            for ln in body.splitlines() if ln.strip().startswith("python3 -m venv")]


def test_readme_test_command_is_the_one_ci_runs():
    ci = _ci_test_command()
    tests = [ln for ln in _readme_command_lines() if "pytest" in ln]
    assert tests == [ci], f"README's test command {tests} differs from .ci/run's {ci!r}"


def test_readme_main_job_installs_as_the_test_command_does():
    """The two commands share their install steps (venv, the torch pin, the constraints), so a
    version bumped in one and not the other fails here."""
    ci = _ci_test_command()
    expected = ci.replace('-e ".[test]" && python -m pytest -q', "-e . && oblivio demo")
    assert expected != ci, "the test command's tail changed: update this test with the README"
    demo = [ln for ln in _readme_command_lines() if "oblivio demo" in ln]
    assert demo == [expected], f"README's main-job command {demo} should be {expected!r}"


def test_readme_jsonl_example_is_valid_and_runs_the_recipe_sampler(tmp_path):
    """The README's example rows pass the strict reader, and the recipe its own-data command
    runs pairs them with MELU (not the fallback for rows without neighbours): a renamed field
    or a role the sampler cannot use fails here."""
    from oblivio.data.neighbours import check_sampler, choose_sampler, load_jsonl_data
    from oblivio.presets import DEFAULT_RECIPE
    blocks = _code_blocks(_text(README), ("jsonl",))
    assert len(blocks) == 1, "README should show one ```jsonl example"
    f = tmp_path / "my.jsonl"
    f.write_text(blocks[0], encoding="utf-8")
    data = load_jsonl_data(str(f))
    assert {"forget", "holdout"} <= set(data.present_roles())
    sampler, _ = choose_sampler(data, _readme_own_data()["unlearn.sampler"])
    assert sampler == DEFAULT_RECIPE["sampler"] == "melu"
    check_sampler(data, sampler)


def _readme_own_data_argv() -> list[str]:
    """The README's own-data `oblivio unlearn` (the first with --data and --gold)."""
    for argv in _commands(README):
        if argv[:1] == ["unlearn"] and "--gold" in argv and "--data" in argv:
            return argv
    raise AssertionError("README has no `oblivio unlearn --gold ... --data ...` command")


def _readme_own_data() -> dict:
    return vars(build_parser().parse_args(_readme_own_data_argv()))


def test_readme_own_data_runs_the_default_recipe():
    """"Your own data" sets no recipe flag, so it runs the config's defaults, the default recipe
    (presets.DEFAULT_RECIPE): a README that spells out another method, sampler, rate or budget
    fails here."""
    args = _readme_own_data()
    recipe_keys = ("unlearn.method", "unlearn.sampler", "unlearn.train.lr", "unlearn.train.max_steps")
    assert {k: args[k] for k in recipe_keys} == dict.fromkeys(recipe_keys)
    from oblivio.config import load_config, to_dict
    cfg = cli._config(build_parser().parse_args(_readme_own_data_argv()))
    assert to_dict(cfg.unlearn) == to_dict(load_config().unlearn)


# ---------------------------------------------------------------- links and references


def _links(page: Path) -> list[str]:
    return [t for t in LINK.findall(_prose(_text(page)))
            if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]      # http:, https:, mailto:


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_relative_links_reach_files_without_anchors(page):
    bad = []
    for target in _links(page):
        if "#" in target:
            bad.append(f"{target} (anchor: link the page, headings get renamed)")
            continue
        dest = (page.parent / target).resolve()
        if not dest.is_relative_to(ROOT):
            bad.append(f"{target} (outside the repository)")
        elif not dest.exists():
            bad.append(f"{target} (no such file)")
    assert not bad, f"{_rel(page)}: " + "; ".join(bad)


def test_link_checker_sees_links():
    """The checker is not vacuous: the README links into docs/, and docs/index.md to every page."""
    assert len(_links(README)) >= 10
    indexed = {(DOCS / t).resolve() for t in _links(DOCS / "index.md")}
    missing = [_rel(p) for p in DOCS.rglob("*.md") if p.resolve() not in indexed and p.name != "index.md"]
    assert not missing, f"docs/index.md does not link {missing}"


FORBIDDEN = [
    (re.compile(r"SPEC\s*§"), "a section of a spec that is not in the repository"),
    (re.compile(r"\.\./shared"), "a path outside the repository"),
    (re.compile(r"\bsession \d+|\bSession \d+", ), "a working session: say what changed, not when"),
    (re.compile(r"\bissue #\d+", re.I), "an issue number: say the thing itself"),
]


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_no_references_outside_the_repository(page):
    text = _text(page)
    found = [f"{m.group(0)!r} ({why})" for rx, why in FORBIDDEN for m in rx.finditer(text)]
    assert not found, f"{_rel(page)}: " + "; ".join(found)


# ---------------------------------------------------------------- commands


def _logical_lines(body: str) -> list[str]:
    return body.replace("\\\n", " ").splitlines()


def _segments(line: str) -> list[list[str]]:
    """The simple commands of one shell line, comments dropped: split at && || ; |."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    try:
        words = list(lex)
    except ValueError:                       # an unbalanced quote: not a command line
        return []
    out: list[list[str]] = [[]]
    for w in words:
        if w in ("&&", "||", ";", "|", "&"):
            out.append([])
        else:
            out[-1].append(w)
    return [seg for seg in out if seg]


def _argv_of(words: list[str]) -> list[str] | None:
    """The oblivio argv of one simple command (`oblivio X ...`, `python -m oblivio X ...`,
    `accelerate launch ... -m oblivio X ...`, after VAR=value prefixes), else None."""
    if PLACEHOLDER.search(" ".join(words)):
        return None
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words = words[1:]
    if words[:1] == ["oblivio"]:
        return words[1:]
    for i in range(len(words) - 1):
        if words[i] == "-m" and words[i + 1] == "oblivio":
            return words[i + 2:]
    return None


def _commands(page: Path) -> list[list[str]]:
    """Every oblivio command of a page: in its shell code blocks, and (README) in inline code."""
    text = _text(page)
    lines = [ln for body in _code_blocks(text, ("bash", "sh", "shell", "")) for ln in _logical_lines(body)]
    if page == README:
        lines += [c for c in INLINE_CODE.findall(FENCE.sub("", text)) if c.startswith("oblivio ")]
    out = []
    for line in lines:
        for words in _segments(line):
            argv = _argv_of(words)
            if argv and "--help" not in argv and argv != ["--version"]:
                out.append(argv)
    return out


def _known(registry: str) -> set[str]:
    from oblivio import registry as reg
    r = getattr(reg, registry)
    r.discover()
    return set(r.names())


def _check(argv: list[str], monkeypatch: pytest.MonkeyPatch | None = None) -> str | None:
    """None when the command parses and resolves to a valid config; else why not. A plugin
    named by dotted path (`mylosses:SimNPO`) is the reader's own file: not importable here."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        return "the parser refuses it"
    if hasattr(args, "config") and hasattr(args, "overrides"):
        for flag in ("--teacher-key-env", "--judge-key-env"):    # the reader sets the variable
            if flag in argv and monkeypatch is not None:
                monkeypatch.setenv(argv[argv.index(flag) + 1], "a key")
        try:
            cli._config(args)                 # the CLI's own path: names, keys, ranges checked
        except InputError as e:
            plugin = any(re.search(r"\w:[A-Za-z_]", w) and "://" not in w for w in argv)
            if not (plugin and e.message.startswith("cannot import module")):
                return f"invalid config: {e.message}"
    for flag, registry in (("--methods", "METHODS"), ("--samplers", "SAMPLERS"), ("--attacks", "ATTACKS")):
        if flag in argv:
            names = set(argv[argv.index(flag) + 1].split(",")) - {"all"}
            unknown = names - _known(registry)
            if unknown:
                return f"unknown {flag[2:]} {sorted(unknown)}"
    return None


@pytest.mark.parametrize("page", [p for p in PAGES if _commands(p)], ids=_rel)
def test_written_commands_parse_with_the_real_parser(page, capsys, monkeypatch):
    bad = []
    for argv in _commands(page):
        why = _check(argv, monkeypatch)
        if why:
            bad.append(f"oblivio {shlex.join(argv)}: {why}")
    capsys.readouterr()                    # argparse's own message is in the assertion instead
    assert not bad, f"{_rel(page)}:\n" + "\n".join(bad)


def test_the_readme_shows_commands_and_the_checker_catches_a_renamed_flag():
    cmds = _commands(README)
    assert len(cmds) >= 10, cmds
    assert {"demo", "learn", "unlearn", "audit", "compare", "calibrate"} <= {c[0] for c in cmds}
    assert _check(["unlearn", "--method", "me_gd", "--learning-rate", "5e-4"]) is not None
    assert _check(["unlearn", "--method", "me_gdx"]) is not None
    assert _check(["compare", "--methods", "graddiff,npox"]) is not None
    assert _check(["unlearn", "--method", "me_gd", "--sampler", "melu", "--lr", "5e-4"]) is None


# ---------------------------------------------------------------- the site


def _nav_pages(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [p for item in node for p in _nav_pages(item)]
    if isinstance(node, dict):
        return [p for v in node.values() for p in _nav_pages(v)]
    return []


def test_site_navigation_lists_every_page_once():
    """mkdocs.yml's navigation holds every page of docs/ exactly once (plus the README, which a
    hook publishes as readme.md), so a new page cannot be left off the site; CI builds the site
    with --strict, which also fails on a broken link inside docs/."""
    import yaml
    nav = _nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"])
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)
    dupes = sorted({p for p in nav if nav.count(p) > 1})
    assert not dupes, f"listed twice in mkdocs.yml: {dupes}"
    assert sorted(set(nav) - {"readme.md"}) == pages, (
        f"not in mkdocs.yml's nav: {sorted(set(pages) - set(nav))}; "
        f"in the nav but no such page: {sorted(set(nav) - set(pages) - {'readme.md'})}")
    assert "readme.md" in nav


# ---------------------------------------------------------------- --help examples


def test_every_subcommand_help_ends_with_examples_that_parse(capsys, monkeypatch):
    """Each subcommand's --help shows at least one example, and every example is a valid
    command (parsed by the real parser and resolved to a valid config)."""
    from oblivio.cli_examples import EXAMPLES
    sub = next(a for a in build_parser()._actions if isinstance(a, __import__("argparse")._SubParsersAction))
    missing = sorted(set(sub.choices) - set(EXAMPLES))
    assert not missing, f"subcommands without --help examples: {missing}"
    bad = []
    for cmd, rows in EXAMPLES.items():
        assert "examples:" in (sub.choices[cmd].format_help()), cmd
        for _what, line in rows:
            argv = shlex.split(line)
            assert argv[0] == "oblivio" and argv[1] == cmd, line
            why = _check(argv[1:], monkeypatch)
            if why:
                bad.append(f"{line}: {why}")
    capsys.readouterr()
    assert not bad, "\n".join(bad)
    assert _check(["audit", "--run", "runs/x", "--attacks", "relearnx"]) is not None
