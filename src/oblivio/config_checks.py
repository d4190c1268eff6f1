"""Validation of a :class:`~oblivio.config.Config` beyond types: names (methods, samplers,
metrics) and the range of every numeric field, so that a bad value is an
:class:`~oblivio.errors.InputError` naming its key before any work, never a NaN loss later.

Kept apart from config.py (the dataclasses) and, like it, importing nothing above the
registries: config.py calls it lazily from ``load_config``/``build_method``.
"""
from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, Callable

from oblivio.errors import InputError
from oblivio.registry import METHODS, METRICS, SAMPLERS

# model.prompt: models/format.py
STYLES = ("auto", "chat", "plain")
# model.dtype: torch's names and their short forms (models/io.py maps them)
DTYPES = ("auto", "float32", "bfloat16", "float16", "fp32", "bf16", "fp16")

if TYPE_CHECKING:
    from oblivio.config import Config


def validate_config(cfg: Config, file: str | None, build_method: Callable[..., Any]) -> None:
    """Names and ranges that types alone do not catch; ``build_method`` (config.py) checks
    the method's arguments."""
    try:
        method_cls = METHODS.get(cfg.unlearn.method, field="unlearn.method")
        SAMPLERS.get(cfg.unlearn.sampler, field="unlearn.sampler")
    except InputError as e:
        raise InputError(e.message, file=file, field=e.field) from None
    build_method(cfg.unlearn.method, cfg.unlearn.args, file=file, cls=method_cls)
    _check_ranges(cfg, file)
    if cfg.learn.lr is None:     # only unlearning has a rule for a missing rate (engine/defaults.py)
        raise InputError("must be a number", file=file, field="learn.lr")
    for key, tc in (("learn", cfg.learn), ("unlearn.train", cfg.unlearn.train)):
        if tc.schedule not in ("linear", "cosine", "constant", "constant_with_warmup"):
            raise InputError(f"unknown schedule {tc.schedule!r}", file=file, field=f"{key}.schedule")
        if tc.mixed_precision not in ("no", "bf16", "fp16"):
            raise InputError(f"unknown mixed precision {tc.mixed_precision!r}", file=file,
                             field=f"{key}.mixed_precision")
    ctl = cfg.control
    if ctl.select not in ("last_above_tau", "final"):
        raise InputError(f"unknown selection rule {ctl.select!r} (known: last_above_tau, final)", file=file,
                         field="control.select")
    for key in ("stop_utility_tau", "select_tau"):
        v = getattr(ctl, key)
        if v is not None and not 0 < v <= 1:
            raise InputError(f"must be in (0, 1], got {v}", file=file, field=f"control.{key}")
    from oblivio.presets import MODEL_SIZES
    if cfg.model.size not in MODEL_SIZES:
        raise InputError(f"unknown model size {cfg.model.size!r} (known: {', '.join(MODEL_SIZES)})",
                         file=file, field="model.size")
    if cfg.model.dtype not in DTYPES:
        raise InputError(f"unknown dtype {cfg.model.dtype!r} (known: {', '.join(DTYPES)})",
                         file=file, field="model.dtype")
    if cfg.model.prompt not in STYLES:
        raise InputError(f"unknown prompt style {cfg.model.prompt!r} (known: {', '.join(STYLES)})",
                         file=file, field="model.prompt")
    if cfg.model.system_prompt is not None and not isinstance(cfg.model.system_prompt, str):
        raise InputError("model.system_prompt must be text", file=file, field="model.system_prompt")
    if cfg.model.lora_r and not cfg.model.lora_targets:
        raise InputError("must name at least one module when model.lora_r > 0", file=file,
                         field="model.lora_targets")
    for key in ("utility_metric", "forget_metric"):
        _check_metric_name(getattr(ctl, key), f"control.{key}", file)
    _check_gen(cfg.unlearn.teacher, "unlearn.teacher", "teacher", file, cfg.allow_remote_endpoints)
    _check_gen(cfg.eval.judge, "eval.judge", "judge", file, cfg.allow_remote_endpoints)
    _check_metric_name(cfg.calibrate.metric, "calibrate.metric", file)
    if cfg.eval.bootstrap < 0:
        raise InputError(f"must be ≥ 0 (0 = no intervals), got {cfg.eval.bootstrap}", file=file,
                         field="eval.bootstrap")
    if cfg.eval.metrics is not None:
        for m in cfg.eval.metrics:
            try:
                METRICS.get(m, field="eval.metrics")
            except InputError as e:
                raise InputError(e.message, file=file, field="eval.metrics") from None
    _check_unit_interval(cfg, file)


def _check_unit_interval(cfg: Config, file: str | None) -> None:
    """Fractions and seeds of calibration and comparison."""
    for key, v, hi_open in (("calibrate.tau", cfg.calibrate.tau, False), ("calibrate.tol", cfg.calibrate.tol, True),
                            ("compare.calibrate", cfg.compare.calibrate, False)):
        if v is None:
            continue
        if not (0 < v < 1 if hi_open else 0 < v <= 1):      # nan fails both
            raise InputError(f"must be in (0, 1{')' if hi_open else ']'}, got {v}", file=file, field=key)
    for s in cfg.compare.seeds or ():
        if not 0 <= s <= _SEED_MAX:
            raise InputError(f"every seed must be in [0, {_SEED_MAX}], got {s}", file=file, field="compare.seeds")


def check_method_args(method: Any, file: str | None = None) -> None:
    """Every numeric argument of a method is finite, and within the method's declared
    ``arg_ranges`` (``{"beta": (0, False)}``: > 0; ``(0, True)``: ≥ 0) when it has them."""
    ranges = getattr(method, "arg_ranges", {}) or {}
    for f in dataclasses.fields(method):
        v = getattr(method, f.name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        key = f"unlearn.args.{f.name}"
        if not math.isfinite(v):
            raise InputError(f"must be a finite number, got {v}", file=file, field=key)
        if f.name in ranges:
            lo, inclusive = ranges[f.name]
            if not (v >= lo if inclusive else v > lo):
                raise InputError(f"must be {'≥' if inclusive else '>'} {lo}, got {v}", file=file, field=key)


# (key, lower bound, bound inclusive?, may be None): every numeric field with a range;
# nan and ±inf are refused for every float (a NaN compares False with every bound)
_SEED_MAX = 2 ** 32 - 1     # numpy's seed range; torch and random accept it too
_TRAIN_RANGES = (("lr", 0, False, True), ("max_steps", 1, True, True), ("epochs", 0, False, False),
                 ("batch_size", 1, True, False), ("grad_accum", 1, True, False), ("warmup", 0, True, False),
                 ("weight_decay", 0, True, False), ("max_grad_norm", 0, False, True),
                 ("checkpoint_every", 0, True, False), ("seed", 0, True, False))
_RANGES = (("seed", 0, True, False), ("model.vocab_size", 1, True, False), ("model.lora_r", 0, True, False),
           ("model.lora_alpha", 0, False, False), ("data.tofu_retain_authors", 0, True, True),
           ("data.tofu_holdout_authors", 0, True, False), ("eval.batch_size", 1, True, False),
           ("eval.max_new_tokens", 1, True, True), ("eval.gen_margin", 0, True, False),
           ("eval.chat_min_new_tokens", 1, True, False),
           ("eval.bootstrap", 0, True, False), ("eval.max_items_per_role", 1, True, True),
           ("eval.seed", 0, True, False), ("eval.judged_answer_tokens", 1, True, False),
           ("control.eval_every", 0, True, False),
           ("control.eval_items", 1, True, False), ("control.gold_margin", 0, True, False),
           *((f"{sec}.{k}", lo, inc, opt) for sec in ("learn", "unlearn.train") for k, lo, inc, opt in _TRAIN_RANGES))


def _check_ranges(cfg: Config, file: str | None) -> None:
    for key, lo, inclusive, optional in _RANGES:
        node: Any = cfg
        for part in key.split("."):
            node = getattr(node, part)
        if node is None:
            if optional:
                continue
            raise InputError("must not be null", file=file, field=key)
        if isinstance(node, float) and not math.isfinite(node):
            raise InputError(f"must be a finite number, got {node}", file=file, field=key)
        ok = node >= lo if inclusive else node > lo
        if not ok:
            raise InputError(f"must be {'≥' if inclusive else '>'} {lo}, got {node}"
                             + (" (leave it unset for none)" if optional else ""), file=file, field=key)
        if key.endswith("seed") and node > _SEED_MAX:
            raise InputError(f"must be ≤ {_SEED_MAX}, got {node}", file=file, field=key)


def _check_gen(g: Any, key: str, kind: str, file: str | None, allow_remote: bool) -> None:
    """A teacher or judge: a registered kind, and what that kind needs; an endpoint's URL and
    key variable by the backend's policy (teachers/backends.py), before any model loads."""
    import math

    from oblivio.registry import JUDGES, TEACHERS
    reg = TEACHERS if kind == "teacher" else JUDGES
    if not (kind == "judge" and g.kind == "none"):
        try:
            reg.get(g.kind, field=f"{key}.kind")
        except InputError as e:
            raise InputError(e.message, file=file, field=f"{key}.kind") from None
    if g.kind == "hf" and not g.model:
        raise InputError("kind hf needs a local model directory", file=file, field=f"{key}.model")
    if g.kind == "endpoint" and not g.url:
        raise InputError("kind endpoint needs the server's URL", file=file, field=f"{key}.url")
    if g.url is not None:
        from oblivio.endpoints import check_endpoint_url
        # the host matters only where requests are sent: an unused URL is checked for its form alone
        check_endpoint_url(g.url, allow_remote=allow_remote or g.allow_remote or g.kind != "endpoint",
                           field=f"{key}.url", file=file)
    _check_key_env(g, key, kind)
    for k, lo in (("retries", 0), ("concurrency", 1), ("batch_size", 1), ("max_new_tokens", 1)):
        if getattr(g, k) < lo:
            raise InputError(f"must be ≥ {lo}, got {getattr(g, k)}", file=file, field=f"{key}.{k}")
    if not (math.isfinite(g.timeout) and g.timeout > 0):
        raise InputError(f"must be a finite number > 0, got {g.timeout}", file=file, field=f"{key}.timeout")


def _check_key_env(g: Any, key: str, kind: str) -> None:
    """The variable named for an endpoint's key is a name, and is set: a named but unset
    variable is an error rather than requests silently sent without a key. (It came from the
    command line, never a file: the error names no file.)"""
    import os
    import re
    name = g.api_key_env
    if name is None:
        return
    flag = f"--{kind}-key-env"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InputError(f"must name an environment variable ({flag} VAR), got {name!r}",
                         field=f"{key}.api_key_env")
    if g.kind == "endpoint" and not os.environ.get(name):
        raise InputError(f"the environment variable {name} named by {flag} is not set or empty; set it, or "
                         f"leave {flag} out to send no key", field=f"{key}.api_key_env")


def _check_metric_name(name: str, key: str, file: str | None) -> None:
    """``metric`` or ``role/metric`` naming a registered metric (checkpoint evaluation rules)."""
    from oblivio.roles import ROLES
    role, _, metric = name.rpartition("/")
    if role and role not in ROLES:
        raise InputError(f"unknown role {role!r} in {name!r} (known: {', '.join(ROLES)})", file=file, field=key)
    try:
        METRICS.get(metric, field=key)
    except InputError as e:
        raise InputError(e.message, file=file, field=key) from None
