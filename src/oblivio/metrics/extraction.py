"""Set-scope prefix-extraction metrics: PS-exact, PS-similar, PS-perturb, extraction strength.

Wang et al. 2024/2025 (arXiv 2406.09179). The per-item searches run in
:mod:`oblivio.eval.extraction` (need ``"extraction"``); here they are averaged per set.
PS-exact, PS-perturb and ES are decided from teacher forcing (the shared pass, plus one
pass over the paraphrased questions); PS-similar costs greedy-generation search rounds.
All four are opt-in (``expensive``): not in the default metric list — turn them on with
``eval.extraction=true`` (CLI: ``--extraction``) or name them in ``eval.metrics``. Exact memorisation (token argmax
accuracy, TOFU) is the cheap ``exact_mem`` metric of :mod:`oblivio.metrics.qa`.

Higher = more of the answer is extractable from less of it: lower is good on forget sets,
higher on retain sets.
"""
from __future__ import annotations

from oblivio.metrics.base import ItemStats, MetricResult, SetStats, register_metric
from oblivio.metrics.qa import collect, result

S1 = "S1 (Wang et al. 2024, arXiv 2406.09179)"
EXTRACTION_METRICS = ("ps_exact", "ps_similar", "ps_perturb", "extraction_strength")
VARIANT_OF = {"ps_exact": "exact", "ps_similar": "similar", "ps_perturb": "perturb",
              "extraction_strength": "es"}     # metric → eval.extraction variant


def _need(s: SetStats) -> MetricResult | None:
    if "extraction" not in s.computed:
        return MetricResult.skip(f"'extraction' (prefix-extraction searches) was not computed for set "
                                 f"'{s.role}'; turn on eval.extraction")
    return None


def _ps(s: SetStats, attr: str, missing: str) -> MetricResult:
    skip = _need(s)
    if skip is not None:
        return skip

    def one(it: ItemStats) -> float | None:
        v = getattr(it, attr)
        return None if v is None else 1.0 - float(v)
    got = collect(s, (), one, missing)
    return got if isinstance(got, MetricResult) else result(s, *got, definition="1 − mean s, s = k/n")


@register_metric("ps_exact", needs=("tf", "extraction"), on_forget="lower", on_retain="higher", source=S1,
                 expensive=True,
                 description="PS-exact: 1 − mean s, s = k/n for the fewest k answer words after which "
                             "greedy decoding reproduces the rest exactly.")
def ps_exact(s: SetStats) -> MetricResult:
    return _ps(s, "ps_exact_s", "answer words")


@register_metric("ps_similar", needs=("extraction",), on_forget="lower", on_retain="higher", source=S1,
                 expensive=True,
                 description="PS-similar: as PS-exact, success = ROUGE-L recall of the continuation vs "
                             "the remaining words > 0.5.")
def ps_similar(s: SetStats) -> MetricResult:
    return _ps(s, "ps_similar_s", "answer words")


@register_metric("ps_perturb", needs=("tf", "extraction"), on_forget="lower", on_retain="higher", source=S1,
                 expensive=True,
                 description="PS-perturb: PS-exact with the paraphrased question.")
def ps_perturb(s: SetStats) -> MetricResult:
    return _ps(s, "ps_perturb_s", "a paraphrased question")


@register_metric("extraction_strength", needs=("tf", "extraction"), on_forget="lower", on_retain="higher",
                 source=S1, expensive=True,
                 description="Extraction strength 1 − (m − l)/(r − l): m the shortest token prefix whose "
                             "greedy continuation reproduces the rest (binary search).")
def extraction_strength(s: SetStats) -> MetricResult:
    skip = _need(s)
    if skip is not None:
        return skip
    got = collect(s, (), lambda it: it.es, "answer tokens")
    return got if isinstance(got, MetricResult) else result(s, *got)
