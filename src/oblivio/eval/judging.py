"""The TRU judge inside an evaluation: the responses it sees and the verdicts.

A judged response to a forget prompt may be longer than the short answers the evaluation's
generation limit is made for (a TRU model answers with a reasoning trace and a refusal), so
every forget generation that hit its limit is generated again with
``eval.judged_answer_tokens`` new tokens (generations that ended are reused as they are: no
extra cost for a model that answers briefly). Retain prompts are judged on the evaluation's
own generations: an answer that has not ended by then (the longest answer + a margin) is
already a failed answer, and regenerating every retain item of a degenerate model would
multiply the evaluation's cost. The configured judge (``eval.judge``; the offline rule judge by default) then
scores forget prompts on the UQ criteria and every other role except ``holdout`` on the RQ
criteria. For each forget prompt the facts it must not reveal are the answers of every
forget item about the same subject or targets (so a paraphrase is checked against the same
facts); for logic, the answers each relation takes anywhere in the data.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from oblivio.judges.base import JudgeInput
from oblivio.metrics.base import SetStats
from oblivio.models.format import cached_prompt
from oblivio.teachers.base import forbidden_spans

SKIP_ROLES = ("holdout",)


def _forbidden(data: Any) -> Any:
    by: dict[str, list] = defaultdict(list)
    for it in data.forget:
        for k in {it.entity, *it.targets} - {None}:
            by[str(k)].append(it)

    def of(it) -> tuple[str, ...]:
        group = [x for k in {it.entity, *it.targets} - {None} for x in by.get(str(k), [])] or [it]
        return tuple(forbidden_spans(group))
    return of


def judge_inputs(sets: dict[str, SetStats], data: Any) -> list[tuple[str, int, JudgeInput]]:
    values: dict[str, set[str]] = defaultdict(set)
    for it in data.items:
        if it.relation and (it.key or it.answer):
            values[it.relation].add(it.key or it.answer)
    forbid = _forbidden(data)
    out = []
    from oblivio.roles import base_role
    for role, s in sets.items():
        if base_role(role) in SKIP_ROLES:
            continue
        for k, st in enumerate(s.items):
            it = st.item
            resp = st.judged_response if st.judged_response is not None else (st.generation or "")
            out.append((role, k, JudgeInput(
                role=base_role(role), question=it.question, response=str(resp),
                answer=it.answer, key=it.key, subject=it.entity, relation=it.relation,
                forbidden=forbid(it) if base_role(role) == "forget" else (),
                type_values=tuple(sorted(values.get(it.relation or "", ()))))))
    return out


def judge_sets(model, tokenizer, sets: dict[str, SetStats], data: Any, *, cfg: Any, fmt: Any) -> None:
    """Fill ``judged_response``, ``judge_scores`` and ``judged`` of every judged item, and mark
    ``"judge"`` computed on its set; nothing when ``eval.judge.kind`` is ``none``."""
    jcfg = cfg.judge
    if jcfg.kind == "none":
        return
    from oblivio.eval.generate import greedy_generate_ex
    from oblivio.judges.base import make_judge
    from oblivio.roles import base_role
    redo = [(r, k) for r, s in sets.items() if base_role(r) == "forget" for k, st in enumerate(s.items)
            if st.gen_truncated and (s.gen_max_new_tokens or 0) < cfg.judged_answer_tokens]
    if redo:
        prompts = [cached_prompt(tokenizer, fmt, sets[r].items[k].item.question) for r, k in redo]
        gens, _ = greedy_generate_ex(model, tokenizer, prompts, max_new_tokens=cfg.judged_answer_tokens,
                                     batch_size=cfg.batch_size, fmt=fmt)
        for (r, k), g in zip(redo, gens):
            sets[r].items[k].judged_response = str(g)
    todo = judge_inputs(sets, data)
    judge = make_judge(jcfg)
    if jcfg.kind == "rule":     # offline and quick: no line of its own
        verdicts = judge.score([x for _, _, x in todo])
    else:                       # a model or an endpoint per answer: said, with its time (and a bar)
        from oblivio.progress import phase
        with phase(f"judging ({jcfg.kind} judge)", f"{len(todo)} answers"):
            verdicts = judge.score([x for _, _, x in todo])
    for (role, k, _), v in zip(todo, verdicts, strict=True):
        st = sets[role].items[k]
        st.judged, st.judge_scores = True, v
    for role in {r for r, _, _ in todo}:
        sets[role].computed = sets[role].computed | {"judge"}
