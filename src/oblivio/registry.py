"""The registries of plugins: methods, metrics, samplers, attacks, post-steps.

One small :class:`Registry` for every kind: ``register``/``get``/``names``; a duplicate
name is an error at import time, an unknown name an :class:`~oblivio.errors.InputError`
that suggests the closest known names. Entries come from three places, all lazy (nothing is
imported until a name is looked up or listed):

* **modules of the package**: every module of the kind's package (``oblivio.methods``,
  ``oblivio.metrics``, ``oblivio.data.samplers*``, …) is imported on first use, so a new
  file registers itself with no import list to edit. A package may name its helper modules
  (no plugins in them) in ``NOT_PLUGINS`` so that listing does not import them.
* **entry points** of installed distributions, group ``oblivio.<kind>s`` (e.g.
  ``oblivio.methods``): ``name = "module:attribute"``; loaded when first looked up.
* **a dotted path**, ``"package.module:Attribute"``, used directly as the name (e.g.
  ``--method mypkg.losses:MyLoss``): the module is imported and the attribute registered
  under that path.

A kind whose plugins are classes with optional hooks (methods, teachers, judges) names a base
class of default hooks (``defaults``); a registered class that does not inherit it is stored
as a subclass of both (:func:`with_defaults`), so that every class the registry hands out
has every hook and callers call them unconditionally.

This module sits at the bottom of the dependency order (next to ``errors``), so
``config.py`` validates names without importing anything above it.
"""
from __future__ import annotations

import difflib
import importlib
import pkgutil
import types
import warnings
from typing import Any, Callable, Generic, Iterator, TypeVar

from oblivio.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name → object map with lazy discovery and helpful errors (see module docstring).

    ``modules``: where the package's own plugins live: ``"pkg"`` (every module of package
    ``pkg``) or ``"pkg.prefix*"`` (the modules of ``pkg`` whose names start with
    ``prefix``). ``group``: the entry-point group. ``adapt(obj, name)`` turns what a dotted
    path or an entry point names into a registry value (metrics: the decorated function →
    its ``Metric``); by default the object itself. ``defaults``: ``"module:Class"``, the base
    class of default hooks that every registered class gets (:func:`with_defaults`); imported
    when the first class is registered.
    """

    def __init__(self, kind: str, *, modules: tuple[str, ...] = (), group: str | None = None,
                 adapt: Callable[[Any, str], T] | None = None, defaults: str | None = None) -> None:
        self.kind = kind
        self.modules = modules
        self.group = group
        self.adapt = adapt
        self.defaults = defaults
        self._items: dict[str, T] = {}
        self._entry_points: dict[str, Any] = {}     # name → importlib.metadata.EntryPoint, not loaded yet
        self._discovered = False

    # -- registration ---------------------------------------------------------------------
    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            stored = self._with_defaults(obj)
            if name in self._items and self._items[name] is not stored:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._items[name] = stored
            return obj          # the module keeps its own class; the registry hands out `stored`
        return deco

    def add(self, name: str, obj: T) -> None:
        self.register(name)(obj)

    # -- lookup ---------------------------------------------------------------------------
    def get(self, name: str, *, field: str | None = None) -> T:
        self.discover()
        if name in self._items:
            return self._items[name]
        if name in self._entry_points:
            return self._load_entry_point(name, field)
        if ":" in name:
            return self._load_path(name, field)
        close = difflib.get_close_matches(name, self.names(), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise InputError(f"unknown {self.kind} '{name}' (known: {', '.join(self.names())}; or a dotted path "
                         f"'module:{self.kind.title().replace('-', '')}'){hint}", field=field or self.kind)

    def names(self) -> list[str]:
        self.discover()
        return sorted(set(self._items) | set(self._entry_points))

    def items(self) -> Iterator[tuple[str, T]]:
        """Every entry, entry points loaded (a broken plugin is skipped with a warning)."""
        self.discover()
        for name in list(self._entry_points):
            try:
                self._load_entry_point(name, None)
            except InputError as e:
                warnings.warn(str(e), stacklevel=2)
        return iter(sorted(self._items.items()))

    def __contains__(self, name: Any) -> bool:
        self.discover()
        return name in self._items or name in self._entry_points

    # -- discovery ------------------------------------------------------------------------
    def discover(self, *, force: bool = False) -> None:
        """Import the package's plugin modules and read the entry points, once (again with
        ``force``: after installing a plugin or adding a module in a running session)."""
        if self._discovered and not force:
            return
        self._discovered = True          # before importing: the modules register into us
        for spec in self.modules:
            _import_modules(spec)
        if self.group:
            from importlib.metadata import entry_points
            for ep in entry_points(group=self.group):
                if ep.name not in self._items:
                    self._entry_points.setdefault(ep.name, ep)

    def _load_entry_point(self, name: str, field: str | None) -> T:
        ep = self._entry_points[name]
        try:
            obj = ep.load()
        except Exception as e:   # noqa: BLE001 — any error in a third-party plugin is reported, not raised raw
            raise InputError(f"{self.kind} '{name}' (entry point {ep.value} in group {self.group}) "
                             f"failed to load: {type(e).__name__}: {e}", field=field or self.kind) from None
        stored = self._store(name, obj, field)
        del self._entry_points[name]
        return stored

    def _load_path(self, name: str, field: str | None) -> T:
        mod_name, _, attr = name.partition(":")
        try:
            mod = importlib.import_module(mod_name)
        except ImportError as e:
            raise InputError(f"cannot import module '{mod_name}' for {self.kind} '{name}': {e} "
                             "(is its folder on PYTHONPATH?)", field=field or self.kind) from None
        obj: Any = mod
        for part in attr.split(".") if attr else ():
            if not hasattr(obj, part):
                raise InputError(f"module '{mod_name}' has no attribute '{attr}' (for {self.kind} '{name}')",
                                 field=field or self.kind)
            obj = getattr(obj, part)
        return self._store(name, obj, field)

    def _store(self, name: str, obj: Any, field: str | None) -> T:
        if self.adapt is not None:
            try:
                obj = self.adapt(obj, name)
            except (TypeError, ValueError) as e:
                raise InputError(f"{self.kind} '{name}': {e}", field=field or self.kind) from None
        obj = self._with_defaults(obj)
        self._items[name] = obj
        return obj

    def _with_defaults(self, obj: Any) -> Any:
        if self.defaults is None or not isinstance(obj, type):
            return obj
        mod_name, _, attr = self.defaults.partition(":")
        return with_defaults(obj, getattr(importlib.import_module(mod_name), attr))


def _import_modules(spec: str) -> None:
    """Import the modules of ``spec`` (``"pkg"`` or ``"pkg.prefix*"``; see :class:`Registry`)."""
    pkg_name, prefix = (spec[:-1].rpartition(".")[0], spec[:-1].rpartition(".")[2]) if spec.endswith("*") \
        else (spec, "")
    try:
        pkg = importlib.import_module(pkg_name)
    except ModuleNotFoundError as e:
        if e.name == pkg_name:        # a kind whose package does not exist yet (attacks before any attack)
            return
        raise
    skip = set(getattr(pkg, "NOT_PLUGINS", ()))
    for info in pkgutil.iter_modules(getattr(pkg, "__path__", [])):
        if info.name.startswith("_") or not info.name.startswith(prefix) or info.name in skip:
            continue
        importlib.import_module(f"{pkg_name}.{info.name}")


def with_defaults(cls: type, base: type) -> type:
    """``cls`` itself when it inherits ``base``; otherwise the subclass of (``cls``, ``base``),
    made once per class: the class's own attributes win, and ``base`` supplies the hooks it
    does not define. It keeps the name, module, qualified name and docstring of ``cls`` (what
    messages, ``repr`` and run records show), and adds no instance layout (``__slots__ = ()``:
    an instance of ``cls`` can be re-classed to it)."""
    if issubclass(cls, base):
        return cls
    made = _WITH_DEFAULTS.get((cls, base))
    if made is None:
        ns = {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__,
              "__slots__": ()}
        made = _WITH_DEFAULTS[(cls, base)] = types.new_class(cls.__name__, (cls, base),
                                                             exec_body=lambda body: body.update(ns))
    return made


# one subclass per (class, base): registering or re-classing twice gives the same class
_WITH_DEFAULTS: dict[tuple[type, type], type] = {}


def _adapt_class(obj: Any, name: str) -> Any:
    if not isinstance(obj, type):
        raise TypeError(f"expected a class, got {type(obj).__name__}")
    return obj


#: what a method may declare in ``uses`` (methods/base.py)
USES = frozenset({"forget", "retain", "reference"})


def uses_of(method: Any) -> frozenset[str]:
    """The validated ``uses`` of a method instance (or of a class declaring it as a ClassVar):
    what the loop must provide. ``uses`` may be a property when it depends on the arguments."""
    uses = getattr(method, "uses", None)
    name = method.__name__ if isinstance(method, type) else type(method).__name__
    if not isinstance(uses, (set, frozenset)) or not uses or not set(uses) <= USES:
        raise InputError(f"method {name} must declare `uses: ClassVar[frozenset[str]]`, a non-empty subset of "
                         f"{sorted(USES)} (got {uses!r})", field="unlearn.method")
    return frozenset(uses)


METHODS: Registry[type] = Registry("method", modules=("oblivio.methods",), group="oblivio.methods",
                                   adapt=_adapt_class, defaults="oblivio.engine.contract:MethodBase")
# metrics/base.py sets METRICS.adapt (the decorated function → its Metric); discovery imports it first
METRICS: Registry[Any] = Registry("metric", modules=("oblivio.metrics",), group="oblivio.metrics")
SAMPLERS: Registry[type] = Registry("sampler", modules=("oblivio.data.samplers*",), group="oblivio.samplers",
                                    adapt=_adapt_class)
ATTACKS: Registry[type] = Registry("attack", modules=("oblivio.attacks",), group="oblivio.attacks",
                                   adapt=_adapt_class)
POST_STEPS: Registry[type] = Registry("post-step", modules=("oblivio.post_steps",), group="oblivio.post_steps",
                                      adapt=_adapt_class)
# TRU's target writers and the UQ/RQ judges: classes built from a config.GenConfig
TEACHERS: Registry[type] = Registry("teacher", modules=("oblivio.teachers",), group="oblivio.teachers",
                                    adapt=_adapt_class, defaults="oblivio.teachers.base:TeacherBase")
JUDGES: Registry[type] = Registry("judge", modules=("oblivio.judges",), group="oblivio.judges", adapt=_adapt_class,
                                  defaults="oblivio.judges.base:JudgeBase")
REGISTRIES: dict[str, Registry[Any]] = {"method": METHODS, "metric": METRICS, "sampler": SAMPLERS,
                                        "attack": ATTACKS, "post-step": POST_STEPS, "teacher": TEACHERS,
                                        "judge": JUDGES}
