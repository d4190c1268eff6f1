"""The four-line verdict of a run: forgotten? kept? private? robust?

Read from ``results.json`` alone (the source of truth), each answer is a plain sentence with
its evidence next to the gold (retrained) model's and the base model's. The rules are ours,
written down so that a reader can check them (docs/reference/report.md):

* **forgotten** — greedy answer accuracy on the forget set (else ROUGE-L recall, else answer
  probability) is at most the gold model's + 0.05 — the margin the robustness audit uses; when
  20% or more of the forget answers are empty (and more than the base's), the sentence says so:
  an empty answer is a degenerate output, not a forgotten fact;
* **kept** — on every retain role (the held-out ``*_test`` portions when the data has them,
  since unlearning never saw them) the same metric is at least 95% of the base model's;
* **private** — the Min-K%++ membership AUC (forget vs never-trained holdout) is within 0.05
  of the gold model's (Liu et al. 2024, arXiv 2402.08787, assessment column "privacy");
* **robust** — every attack of the robustness audit passes (attacked score ≤ gold's
  attacked score + 0.05; without a gold model, ≤ the holdout floor + 0.05); "not available"
  when the run was not audited.

Without a gold model (a real model has none), "forgotten" compares with a measured floor —
the base model's metric on the holdout facts, facts it was never taught — and "private" with
chance (AUC 0.5). Without the base, the holdout facts or the audit the answer is "not
available" with the reason — never a guess.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MARGIN = 0.05
KEEP = 0.95
EMPTY_NOTE = 0.2     # share of empty forget answers (above the base's) that the verdict mentions
FORGET_METRICS = ("accuracy", "rouge_recall", "answer_prob")
MIA = "mia_minkpp"


@dataclass
class Verdict:
    question: str            # "forgotten", "kept", "private", "robust"
    status: str              # "yes", "no", "not available"
    sentence: str
    evidence: list[tuple[str, str]]   # (label, data-key into results.json) of the numbers shown


def _real(rec: dict[str, Any], path: str) -> str:
    """``path`` with a split set named by its role (``sets.forget``, ``sets.holdout``) written as
    the portion the run reported (``sets.forget_test``) when the record has that one instead."""
    node: Any = rec
    parts = path.split(".")
    for k, part in enumerate(parts):
        if isinstance(node, dict) and part not in node and k and parts[k - 1] == "sets" and f"{part}_test" in node:
            parts[k] = part = f"{part}_test"
        node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def _get(rec: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (a split set read in its reported portion, :func:`_real`)."""
    node: Any = rec
    for part in _real(rec, path).split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_value(rec: dict[str, Any], model: str, role: str, metric: str) -> float | None:
    return _get(rec, f"models.{model}.sets.{role}.{metric}.value")


def model_value(rec: dict[str, Any], model: str, metric: str) -> float | None:
    return _get(rec, f"models.{model}.model.{metric}.value")


def _forget_metric(rec: dict[str, Any]) -> str | None:
    for m in FORGET_METRICS:
        if set_value(rec, "unlearned", "forget", m) is not None:
            return m
    return None


def keep_roles(rec: dict[str, Any]) -> list[str]:
    from oblivio.roles import base_role
    roles = [r for r in _get(rec, "models.unlearned.sets") or {} if base_role(r) not in ("forget", "holdout")]
    tests = [r for r in roles if r.endswith("_test")]
    return tests or roles


def verdicts(rec: dict[str, Any]) -> list[Verdict]:
    out = [_forgotten(rec), _kept(rec), _private(rec), _robust(rec)]
    for v in out:           # evidence keys as results.json spells them (forget_test, not forget)
        v.evidence = [(label, _real(rec, key)) for label, key in v.evidence]
    return out


def _key(model: str, role: str, metric: str) -> str:
    return f"models.{model}.sets.{role}.{metric}.value"


def _forgotten(rec: dict[str, Any]) -> Verdict:
    m = _forget_metric(rec)
    if m is None:
        return Verdict("forgotten", "not available", "not available: no forget-set answer metric was computed",
                       [])
    u, g = set_value(rec, "unlearned", "forget", m), set_value(rec, "gold", "forget", m)
    ev = [("unlearned", _key("unlearned", "forget", m)), ("gold", _key("gold", "forget", m)),
          ("base", _key("base", "forget", m))]
    ev = [e for e in ev if _get(rec, e[1]) is not None]
    if g is None:
        return _forgotten_by_floor(rec, m, u, ev)
    ok = u is not None and u <= g + MARGIN
    return Verdict("forgotten", "yes" if ok else "no",
                   f"Forget-set {m} is {'within' if ok else 'above'} the gold model's + {MARGIN:g}."
                   + _empty_note(rec, ev), ev)


def _forgotten_by_floor(rec: dict[str, Any], m: str, u: float | None, ev: list[tuple[str, str]]) -> Verdict:
    """Without a gold model: the forget-set metric against a measured floor, the base model's
    value on the holdout facts (facts it was never taught: a real model's unknown facts, TOFU's
    unseen authors) — what "knows nothing about it" scores, guessing included."""
    floor = set_value(rec, "base", "holdout", m)
    if floor is None:
        return Verdict("forgotten", "not available",
                       f"not available: no gold (retrained) model, and no holdout facts (never taught) whose "
                       f"base {m} would be the floor to compare the forget-set {m} with", ev)
    ev.append(("floor (base, holdout)", _key("base", "holdout", m)))
    ok = u is not None and u <= floor + MARGIN
    n = _get(rec, "models.base.statistics.facts_per_role.holdout")
    return Verdict("forgotten", "yes" if ok else "no",
                   f"Forget-set {m} is {'within' if ok else 'above'} the floor + {MARGIN:g}: the base model's "
                   f"{m} on {n if n is not None else 'the'} holdout facts it was never taught (no gold model)."
                   + _empty_note(rec, ev), ev)


def _empty_note(rec: dict[str, Any], ev: list[tuple[str, str]]) -> str:
    """A sentence when many forget answers are empty (a model that says nothing has not shown it
    forgot), with the number added to the evidence; empty otherwise."""
    key = _key("unlearned", "forget", "empty_answers")
    u, b = _get(rec, key), _get(rec, _key("base", "forget", "empty_answers"))
    if u is None or u < EMPTY_NOTE or (b is not None and u <= b):
        return ""
    ev.append(("empty forget answers", key))
    return (f" But {u:.0%} of the unlearned model's forget answers are empty"
            + (f" (base {b:.0%})" if b is not None else "")
            + ": it says nothing rather than something else, which is not evidence of forgetting.")


def _kept(rec: dict[str, Any]) -> Verdict:
    m = _forget_metric(rec)
    roles = keep_roles(rec)
    if m is None or not roles:
        return Verdict("kept", "not available", "not available: no retain role with an answer metric", [])
    ratios = []
    for r in roles:
        u, b = set_value(rec, "unlearned", r, m), set_value(rec, "base", r, m)
        if u is not None and b:
            ratios.append((u / b, r))
    if not ratios:
        return Verdict("kept", "not available",
                       "not available: the base model was not evaluated, so nothing to keep is known", [])
    worst, role = min(ratios)
    ev = [(f"unlearned ({role})", _key("unlearned", role, m)), (f"base ({role})", _key("base", role, m))]
    if _get(rec, _key("gold", role, m)) is not None:
        ev.append((f"gold ({role})", _key("gold", role, m)))
    ok = worst >= KEEP
    return Verdict("kept", "yes" if ok else "no",
                   f"Worst retain role '{role}' keeps {worst:.0%} of the base model's {m} "
                   f"({'≥' if ok else '<'} {KEEP:.0%}); roles checked: {', '.join(roles)}.", ev)


def _private(rec: dict[str, Any]) -> Verdict:
    u, g = model_value(rec, "unlearned", MIA), model_value(rec, "gold", MIA)
    ev = [(n, f"models.{n}.model.{MIA}.value") for n in ("unlearned", "gold", "base")
          if model_value(rec, n, MIA) is not None]
    if u is None:
        why = _get(rec, f"models.unlearned.model.{MIA}.skipped") or "not computed"
        return Verdict("private", "not available", f"not available: {why}", ev)
    if g is None:
        # without a gold model, MUSE's reference is chance: forget answers that look no more
        # familiar to the model than facts it was never taught
        ok = abs(u - 0.5) <= MARGIN
        return Verdict("private", "yes" if ok else "no",
                       "Membership-inference AUC (Min-K%++, forget vs holdout) is "
                       f"{'within' if ok else 'farther than'} {MARGIN:g} of 0.5, chance (no gold model)"
                       + ("" if ok else "; below 0.5: the forget answers are less familiar than never-taught facts "
                          "(over-unlearned)" if u < 0.5 else "; above 0.5: the forget answers are still familiar")
                       + ".", ev)
    ok = abs(u - g) <= MARGIN
    return Verdict("private", "yes" if ok else "no",
                   f"Membership-inference AUC (Min-K%++, forget vs holdout) is {'within' if ok else 'farther than'} "
                   f"{MARGIN:g} of the gold model's.", ev)


def _robust(rec: dict[str, Any]) -> Verdict:
    audit = rec.get("audit")
    if not audit:
        return Verdict("robust", "not available",
                       "not available: this run was not audited (no attack results in results.json)", [])
    attacks = audit.get("attacks", {})
    skipped = [n for n, a in attacks.items() if a.get("skipped")]
    ran = {n: a for n, a in attacks.items() if not a.get("skipped")}
    ev = [(n, f"audit.attacks.{n}.recovery") for n in ran if ran[n].get("recovery") is not None]
    also = f" Skipped (the data lacks their probes): {', '.join(skipped)}." if skipped else ""
    # an attack the audit could not judge (no gold model scored under it) is judged here against
    # the floor of the forgotten verdict: the base model's accuracy on facts it was never taught
    undecided = [n for n, a in ran.items() if a.get("robust") is None]
    floor = set_value(rec, "base", "holdout", "accuracy")
    if undecided and floor is None:
        return Verdict("robust", "not available",
                       f"not available: no gold model score under {', '.join(undecided)}, and no holdout facts "
                       "whose base accuracy would be the floor." + also, ev)
    failed = [n for n, a in ran.items() if a.get("robust") is False]
    for n in undecided:
        u = ((ran[n].get("models") or {}).get("unlearned") or {}).get("accuracy")
        if u is None or u > (floor or 0.0) + MARGIN:
            failed.append(n)
    ok = not failed and bool(ran)
    by_floor = (f" Without a gold model, {len(undecided)} attack(s) judged against the floor + {MARGIN:g} "
                f"(base accuracy on holdout facts, {floor:.3f})." if undecided and floor is not None else "")
    return Verdict("robust", "yes" if ok else "no",
                   ("Every attack that ran passes." if ok else
                    f"Recovered under: {', '.join(failed) or 'no attack ran'}.") + by_floor + also, ev)
