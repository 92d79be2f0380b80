"""Argument validation, declared once per function: ``@accepts(workers=an_int(1), delay_ms=a_number(0))``.

A wrong type raises ``TypeError``, a value out of range ``ValueError``; the message names the
argument, what is accepted and what came: ``workers must be an int >= 1, got 0``.
"""

import functools
import inspect
import math
import numbers
from itertools import chain, repeat


def describe(value, limit=60):
    """``repr(value)``, cut to ``limit`` characters, with its type: ``"'x' (type str)"``."""
    text = repr(value)
    return f"{text if len(text) <= limit else text[:limit - 3] + '...'} (type {type(value).__name__})"


def make_spec(what, convert):
    """A spec: ``convert(name, value)`` returns the accepted value or raises; ``.what`` says what."""
    convert.what = what
    return convert


def satisfying(test, what, error=TypeError):
    """A value for which ``test(value)`` is true; anything else raises ``error``."""
    def convert(name, value):
        if not test(value):
            raise error(f"{name} must be {what}, got {describe(value)}")
        return value

    return make_spec(what, convert)


def _range_text(lo, hi):
    both = lo is not None and hi is not None
    return f" from {lo} to {hi}" if both else f" >= {lo}" if lo is not None else f" <= {hi}" if hi is not None else ""


def _within(name, what, lo, hi, value, given):
    if value != value or abs(value) == math.inf or (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be {what}, got {given!r}")
    return value


def _to_float(value):
    try:
        return float(value)
    except OverflowError:  # an int too large for a float
        return math.inf


def an_int(lo=None, hi=None):
    """An int (not a bool) from ``lo`` to ``hi``, both optional and inclusive."""
    what = f"an int{_range_text(lo, hi)}"
    is_int = satisfying(lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool), what)
    return make_spec(what, lambda name, v: _within(name, what, lo, hi, v if type(v) is int else int(is_int(name, v)), v))


def a_number(lo=None, hi=None):
    """A finite real number (not a bool) from ``lo`` to ``hi``, returned as a float."""
    what = f"a number{_range_text(lo, hi)}"
    is_real = satisfying(lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool), what)
    return make_spec(what, lambda name, v: _within(name, f"a finite {what[2:]}", lo, hi, _to_float(is_real(name, v)), v))


def instance_of(cls, what):
    """An instance of ``cls`` (a class or tuple of classes), described to the user as ``what``."""
    return satisfying(lambda value: isinstance(value, cls), what)


def one_of(*choices):
    """One of ``choices`` (compared with ``==``); anything else is a ``ValueError``."""
    return satisfying(lambda value: value in choices, "one of " + ", ".join(map(repr, choices)), ValueError)


def optional(spec):
    """``None``, or what ``spec`` accepts."""
    return make_spec(f"None or {spec.what}", lambda name, value: None if value is None else spec(name, value))


A_STR = instance_of(str, "a str")
A_BOOL = instance_of(bool, "True or False")
A_CALLABLE = satisfying(callable, "callable (a function or other callable)")


def valid(name, value, spec):
    """``value`` checked (and converted) by ``spec``, for checks that do not fit :func:`accepts`."""
    return spec(name, value)


def accepts(**specs):
    """Decorate a function so each named argument is checked by its spec before the call: positions
    are worked out once; defaults are not checked; a spec for ``*args`` checks each item; the
    wrapper's ``validates`` names the checked arguments."""
    def decorate(fn):
        params = inspect.signature(fn).parameters.values()
        unknown = sorted(set(specs) - {p.name for p in params})
        if unknown:
            raise TypeError(f"{fn.__qualname__} has no parameter {', '.join(unknown)}")
        slots = [(p.name, specs.get(p.name)) for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        star = next(((p.name, specs.get(p.name)) for p in params if p.kind == p.VAR_POSITIONAL), (None, None))
        by_keyword = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} & set(specs)

        @functools.wraps(fn)
        def checked(*args, **kwargs):
            args = [spec(name, arg) if spec else arg for (name, spec), arg in zip(chain(slots, repeat(star)), args)]
            for name, value in kwargs.items():  # replacing a value while iterating is safe
                if name in by_keyword:  # (a **kwargs item may share a positional-only name)
                    kwargs[name] = specs[name](name, value)
            return fn(*args, **kwargs)

        checked.validates = tuple(specs)
        return checked

    return decorate
