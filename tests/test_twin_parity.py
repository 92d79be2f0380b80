"""Every traced twin offers what its standard-library original offers, on the running Python.

The list is not written down anywhere: it is read from the standard library of the Python
that runs the test, so a method a new Python adds (``Queue.shutdown()`` in 3.13) fails this test on that Python until the twin has it.

Compared for each twin:
- public names (no leading underscore): every one the original has, the twin has too
  (extra names are allowed, e.g. the ``name`` attribute of a traced lock);
- the signature (``inspect.signature``) of every public method both have, and of the
  constructor: parameter names, kinds and defaults, the first one (``self``) left out.
  A twin may add keyword-only ``name=`` (the timeline label). A twin whose constructor is
  ``(*args, **kwargs)`` and hands everything to its base class accepts what the base
  accepts, so its constructor is compared as the base's.

Methods implemented in C without signature metadata (``threading.Lock().acquire`` on 3.11
and 3.12) cannot be compared this way: for those only the name is checked, and
``test_only_c_methods_go_without_a_signature_check`` says which ones they are.
"""

from __future__ import annotations

import concurrent.futures as cf
import inspect
import queue
import threading
from dataclasses import dataclass, field

import pytest

from threadkit import traced

#: Keyword-only parameters a twin may add to any signature (the timeline label).
ADDED_KEYWORDS = frozenset({"name"})

#: twin -> the standard-library object it stands for. ``threading.Lock`` is a factory
#: function on some versions: compare with what it makes.
TWINS = {
    "ThreadPoolExecutor": (traced.ThreadPoolExecutor, cf.ThreadPoolExecutor),
    "Future": (traced.Future, cf.Future),
    "Thread": (traced.Thread, threading.Thread),
    "Lock": (traced.Lock, type(threading.Lock())),
    "Queue": (traced.Queue, queue.Queue),
    "Event": (traced.Event, threading.Event),
    "wait": (traced.wait, cf.wait),
    "as_completed": (traced.as_completed, cf.as_completed),
}


@dataclass
class Parity:
    """What ``compare`` found: names missing, signatures that differ, names checked by name only."""

    missing: list = field(default_factory=list)
    different: list = field(default_factory=list)
    names_only: list = field(default_factory=list)

    def problems(self) -> list:
        return [f"missing: {n}" for n in self.missing] + [f"signature: {d}" for d in self.different]


def _signature(obj):
    """``inspect.signature(obj)``, or None where C code gives none."""
    try:
        return inspect.signature(obj)
    except (ValueError, TypeError):
        return None


def _params(sig, drop_first):
    params = list(sig.parameters.values())
    if drop_first and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]
    return [(p.name, p.kind, p.default) for p in params
            if not (p.kind is p.KEYWORD_ONLY and p.name in ADDED_KEYWORDS)]


def _forwards_everything(sig):
    kinds = [p.kind for p in sig.parameters.values()]
    return kinds == [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]


def _compare_signatures(label, twin_obj, std_obj, drop_first, report):
    std_sig = _signature(std_obj)
    if std_sig is None:
        report.names_only.append(label)
        return
    twin_sig = _signature(twin_obj)
    if twin_sig is None:
        report.different.append(f"{label}: the twin has no signature, the original has {std_sig}")
        return
    if _params(twin_sig, drop_first) != _params(std_sig, drop_first):
        report.different.append(f"{label}{twin_sig} != original {label}{std_sig}")


def _public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


def compare(twin, original) -> Parity:
    """Compare a twin class (or function) with the standard-library one it stands for."""
    report = Parity()
    if not isinstance(original, type):  # a function: its signature only
        _compare_signatures(original.__name__, twin, original, False, report)
        return report
    report.missing = sorted(_public(original) - _public(twin))
    # The constructor, as a learner calls it: Twin(...) versus Original(...).
    init = _signature(twin)
    if not (init is not None and _forwards_everything(init) and issubclass(twin, original)):
        _compare_signatures("constructor", twin, original, False, report)
    for name in sorted(_public(original) & _public(twin)):
        std_attr = inspect.getattr_static(original, name)
        twin_attr = inspect.getattr_static(twin, name)
        if isinstance(std_attr, (property, type)) or not callable(getattr(original, name)):
            continue  # data or a class (3.14's ThreadPoolExecutor.BROKEN): its presence counts
        if isinstance(std_attr, classmethod) or isinstance(twin_attr, classmethod):
            _compare_signatures(name, getattr(twin, name), getattr(original, name), False, report)
        else:
            _compare_signatures(name, getattr(twin, name), getattr(original, name), True, report)
    return report


@pytest.mark.parametrize("twin_name", sorted(TWINS))
def test_twin_has_every_public_name_and_signature_of_the_stdlib(twin_name):
    twin, original = TWINS[twin_name]
    problems = compare(twin, original).problems()
    assert not problems, f"traced.{twin_name} differs from {original!r}: " + "; ".join(problems)


def test_every_twin_is_compared():
    stdlib_names = {n for n in traced.__all__
                    if getattr(getattr(traced, n), "__module__", "").startswith("threadkit")}
    assert stdlib_names == set(TWINS), "add the new twin to TWINS"


def test_only_c_methods_go_without_a_signature_check():
    """Names checked by name only belong to the C lock type (its methods before 3.13)."""
    unchecked = {name: compare(*TWINS[name]).names_only for name in TWINS}
    for name, labels in unchecked.items():
        if labels:
            assert name == "Lock", f"{name}: {labels} have no signature"
            assert all(label in _public(TWINS[name][1]) | {"constructor"} for label in labels)


# -- the comparison itself finds what is missing ---------------------------------------
class _Original:
    """A stand-in stdlib class with a method, a property and a keyword."""

    def __init__(self, size=0):
        self.size = size

    def get(self, block=True, timeout=None):
        return None

    def locked(self):
        return False

    @property
    def full(self):
        return False


class _IncompleteTwin:
    """A twin that forgot ``locked`` and renamed a parameter of ``get``."""

    def __init__(self, size=0, *, name="twin"):
        self.size, self.name = size, name

    def get(self, block=True, wait=None):
        return None

    @property
    def full(self):
        return False


class _CompleteTwin(_IncompleteTwin):
    def get(self, block=True, timeout=None):
        return None

    def locked(self):
        return False


def test_parity_reports_a_missing_method_and_a_changed_signature():
    report = compare(_IncompleteTwin, _Original)
    assert report.missing == ["locked"]
    assert len(report.different) == 1 and report.different[0].startswith("get(self, block=True, wait=None)")
    assert compare(_CompleteTwin, _Original).problems() == []  # the added name= is allowed


def test_parity_compares_functions_by_signature():
    def wait_without_timeout(fs, return_when=cf.ALL_COMPLETED):
        return cf.wait(fs, return_when=return_when)

    assert compare(wait_without_timeout, cf.wait).different
    assert not compare(traced.wait, cf.wait).different
