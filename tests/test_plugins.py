"""Registries, `uses`, the import layering, the per-run encoding cache and generation ids."""
from __future__ import annotations

import ast
import pickle
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from oblivio.errors import InputError
from oblivio.registry import METHODS, Registry

SRC = Path(__file__).resolve().parents[1] / "src"


# -- discovery --------------------------------------------------------------------------------
def test_a_new_module_in_the_package_is_discovered_without_edits(tmp_path, monkeypatch) -> None:
    """A file dropped into the methods package registers on first lookup: no import list."""
    import oblivio.methods as pkg
    (tmp_path / "zz_new_method.py").write_text(
        "from dataclasses import dataclass\nfrom typing import ClassVar\n"
        "from oblivio.methods import METHODS\n\n"
        "@METHODS.register('zz_new')\n@dataclass\nclass ZZ:\n"
        "    uses: ClassVar[frozenset[str]] = frozenset({'forget'})\n")
    METHODS.discover()                 # the package's own first, so that restoring _items keeps them
    monkeypatch.setattr(pkg, "__path__", [*pkg.__path__, str(tmp_path)])
    monkeypatch.setattr(METHODS, "_items", dict(METHODS._items))
    monkeypatch.delitem(sys.modules, "oblivio.methods.zz_new_method", raising=False)
    METHODS.discover(force=True)
    assert "zz_new" in METHODS.names() and METHODS.get("zz_new").__name__ == "ZZ"
    sys.modules.pop("oblivio.methods.zz_new_method", None)


def test_every_package_kind_is_found() -> None:
    from oblivio.registry import ATTACKS, METRICS, SAMPLERS
    assert {"ga", "graddiff", "kl", "npo", "finetune"} <= set(METHODS.names())
    assert {"cyclic", "melu", "balanced", "direct_only"} <= set(SAMPLERS.names())   # both sampler modules
    assert {"answer_prob", "forget_quality", "ps_exact"} <= set(METRICS.names())    # qa, model_level, extraction
    assert isinstance(ATTACKS.names(), list)          # ready, and no package yet is not an error


def test_listing_does_not_import_torch() -> None:
    code = ("import sys; from oblivio.registry import METHODS, SAMPLERS; METHODS.names(); SAMPLERS.names(); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "False"


def test_unknown_name_suggests_and_mentions_dotted_paths() -> None:
    with pytest.raises(InputError) as ei:
        METHODS.get("gradiff", field="unlearn.method")
    assert "did you mean 'graddiff'" in str(ei.value) and "module:" in str(ei.value)


def test_duplicate_registration_is_an_error() -> None:
    r: Registry[type] = Registry("thing")
    r.add("a", int)
    r.add("a", int)                    # the same object again (a re-import) is fine
    with pytest.raises(ValueError, match="registered twice"):
        r.add("a", str)


# -- uses ---------------------------------------------------------------------------------------
class Recorder:
    """Records which sides each batch had; a tiny real loss so the loop can step."""

    uses: ClassVar[frozenset[str]] = frozenset({"forget"})
    seen: list[frozenset[str]] = []

    def loss(self, ctx, batch):
        from oblivio.methods import LossParts
        from oblivio.methods.ops import mean_nll
        type(self).seen.append(frozenset(batch))
        side = "forget" if "forget" in batch else "retain"
        nll = mean_nll(ctx.model, batch[side])
        return LossParts(nll, {"nll": nll})


@pytest.mark.parametrize("uses, sides, reference", [
    ({"forget"}, {"forget"}, False),
    ({"forget", "retain"}, {"forget", "retain"}, False),
    ({"retain", "reference"}, {"retain"}, True),
])
def test_batches_and_reference_follow_uses(tiny_world, fresh_base, monkeypatch, uses, sides, reference) -> None:
    """A retain batch is built iff "retain" ∈ uses (whatever the method's fields are called),
    and a reference exists iff "reference" ∈ uses."""
    import dataclasses

    from oblivio.config import TrainConfig
    from oblivio.engine import unlearning
    data, _ = tiny_world
    model, tok = fresh_base
    made = []
    real = unlearning.Reference
    monkeypatch.setattr(unlearning, "Reference", lambda *a, **k: made.append(1) or real(*a, **k))
    meth = type("M", (Recorder,), {"uses": frozenset(uses), "seen": [], "alpha": 0.0})()
    cfg = dataclasses.replace(TrainConfig(), max_steps=2, batch_size=4, progress=False)
    unlearning.run_unlearning(model, tok, data, meth, sampler="one_to_one_random", train_cfg=cfg)
    assert meth.seen and all(s == frozenset(sides) for s in meth.seen)
    assert bool(made) == reference


@pytest.mark.parametrize("uses", [None, frozenset(), frozenset({"forget", "gold"}), ["forget"]])
def test_a_method_must_declare_valid_uses(uses) -> None:
    from oblivio.registry import uses_of
    cls = type("Bad", (), {} if uses is None else {"uses": uses})
    with pytest.raises(InputError, match="uses"):
        uses_of(cls)


# -- layering -----------------------------------------------------------------------------------
def _module_graph() -> dict[str, set[str]]:
    """oblivio module → the oblivio modules it imports anywhere (also inside functions;
    not under ``if TYPE_CHECKING``)."""
    mods: dict[str, Path] = {}
    for p in (SRC / "oblivio").rglob("*.py"):
        parts = list(p.relative_to(SRC).with_suffix("").parts)
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    graph: dict[str, set[str]] = {}
    for name, p in mods.items():
        tree = ast.parse(p.read_text(encoding="utf-8"))
        skip = {id(n) for node in ast.walk(tree)
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        out: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                out |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                out |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in mods else node.module
                        for a in node.names}
        graph[name] = {m for m in out if m in mods and m != name}
    return graph


def test_no_import_cycles() -> None:
    graph = _module_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == 1:
                raise AssertionError("import cycle: " + " → ".join(stack[stack.index(w):] + [w]))
            if w not in state:
                visit(w)
        stack.pop()
        state[v] = 2
    for v in sorted(graph):
        if v not in state:
            visit(v)


def test_no_package_cycle_through_the_engine_methods_reveal_judges_or_metrics() -> None:
    """The engine owns the method contract and gets methods by name through the registry, so
    it never imports the methods package (nor, through reveal_release, reveal); the judges
    use the metrics and not the reverse. No package-level cycle at all: tests/test_import_cycles.py."""
    def pkg(module: str) -> str:
        return ".".join(module.split(".")[:2])
    deps: dict[str, set[str]] = {}
    for module, imported in _module_graph().items():
        deps.setdefault(pkg(module), set()).update(pkg(m) for m in imported if pkg(m) not in (pkg(module), "oblivio"))
    for start in ("oblivio.engine", "oblivio.methods", "oblivio.reveal", "oblivio.judges", "oblivio.metrics"):
        seen, todo = set(), list(deps.get(start, ()))
        while todo:
            p = todo.pop()
            if p not in seen:
                seen.add(p)
                todo += deps.get(p, ())
        assert start not in seen, f"{start} imports itself through {sorted(seen)}"


def test_config_imports_nothing_above_it() -> None:
    bottom = {"oblivio.errors", "oblivio.registry", "oblivio.textio", "oblivio.roles", "oblivio.presets",
              "oblivio.endpoints"}
    graph = _module_graph()
    # config_checks (the field constraints and their validator, which config.py declares its
    # fields with) stands on the same floor, and knows no config class
    assert graph["oblivio.config"] <= bottom | {"oblivio.config_checks"}
    assert graph["oblivio.config_checks"] <= bottom
    for leaf in bottom - {"oblivio.registry"}:     # the bottom modules import nothing but errors
        assert graph.get(leaf, set()) <= {"oblivio.errors"}, leaf
    code = "import sys, oblivio.config; print(sorted(m for m in sys.modules if m.startswith('oblivio')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == str(["oblivio", "oblivio.config", "oblivio.config_checks", "oblivio.errors",
                                      "oblivio.presets", "oblivio.registry"])


# -- encodings and generations ----------------------------------------------------------------
class CountingTokenizer:
    """Wraps a tokenizer and counts its calls."""

    def __init__(self, tok) -> None:
        self._tok, self.calls = tok, 0

    def __call__(self, *a, **k):
        self.calls += 1
        return self._tok(*a, **k)

    def __len__(self) -> int:
        return len(self._tok)

    def __getattr__(self, name):
        return getattr(self._tok, name)


def test_an_evaluation_run_tokenises_each_text_once(tiny_world) -> None:
    """Issue 8 measured 2,682 tokenizer calls for one evaluation of 210 items; every pass and
    every model evaluated with the same tokenizer now share one encoding per text."""
    from oblivio.config import EvalConfig
    from oblivio.eval.evaluate import evaluate_model
    data, wm = tiny_world
    tok = CountingTokenizer(wm.tokenizer)
    cfg = EvalConfig(metrics=["answer_prob", "truth_ratio", "accuracy", "para_accuracy"], max_new_tokens=8)
    first = evaluate_model(wm.base, tok, data, cfg=cfg)
    texts = {t for it in data.items for t in (it.question, it.answer, it.paraphrased_question,
                                              it.paraphrased_answer, *it.perturbed_answers) if t}
    assert 0 < tok.calls <= len(texts)
    n = tok.calls
    again = evaluate_model(wm.base, tok, data, cfg=cfg)          # the next model of the run
    assert tok.calls == n
    assert again.sets["forget"]["answer_prob"].per_item == first.sets["forget"]["answer_prob"].per_item
    assert again.generations == first.generations


def test_cached_encodings_equal_fresh_ones_and_are_not_shared(tiny_world) -> None:
    from oblivio.models.format import PromptFormat, cached_answer, cached_prompt, encode_answer, encode_prompt
    _, wm = tiny_world
    tok, fmt = wm.tokenizer, PromptFormat()
    q, a = "Where does Ada live?", "Ada lives in Brest."
    assert cached_prompt(tok, fmt, q) == encode_prompt(tok, fmt, q)
    assert cached_answer(tok, fmt, a, eos=False) == encode_answer(tok, fmt, a, eos=False)
    assert cached_answer(tok, fmt, a) == encode_answer(tok, fmt, a)       # eos is part of the key
    got = cached_prompt(tok, fmt, q)
    got.append(-1)                                                       # a caller extends its list
    assert cached_prompt(tok, fmt, q) == encode_prompt(tok, fmt, q)
    other = PromptFormat(template="Q: {question}\nA:")
    assert cached_prompt(tok, other, q) == encode_prompt(tok, other, q) != encode_prompt(tok, fmt, q)


def test_generations_carry_their_token_ids(tiny_world) -> None:
    from oblivio.data.collate import encode_items
    from oblivio.eval.generate import Generation, greedy_generate
    from oblivio.models.format import PromptFormat
    data, wm = tiny_world
    items = data.role("forget")[:6]
    prompts = [e.prompt for e in encode_items(wm.tokenizer, PromptFormat(), items)]
    gens = greedy_generate(wm.base, wm.tokenizer, prompts, max_new_tokens=12, batch_size=4)
    for g in gens:
        assert isinstance(g, Generation) and isinstance(g, str) and g.ids
        assert wm.tokenizer.decode(list(g.ids), skip_special_tokens=True).strip() == g
    g2 = pickle.loads(pickle.dumps(gens[0]))            # multi-process runs pickle results
    assert g2 == gens[0] and g2.ids == gens[0].ids
