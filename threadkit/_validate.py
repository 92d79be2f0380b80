"""Argument validation for every public function, declared once per function::

    @accepts(tasks=an_int(0), workers=an_int(1), delay_ms=a_number(0))
    def ideal_makespan_ms(tasks, workers, delay_ms): ...

A wrong type raises ``TypeError``, a value out of range ``ValueError``; the message names
the argument, what is accepted and what came, e.g. ``workers must be an int >= 1, got 0``.
"""

import functools
import inspect
import math
import numbers


def describe(value, limit=60):
    """``repr(value)``, cut to ``limit`` characters, with its type: ``"'x' (type str)"``."""
    text = repr(value)
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return f"{text} (type {type(value).__name__})"


class Spec:
    """What one argument accepts: ``spec(name, value)`` returns the value (converted) or raises."""

    __slots__ = ("what", "_convert")

    def __init__(self, what, convert):
        self.what = what
        self._convert = convert

    def __call__(self, name, value):
        return self._convert(name, value)

    def __repr__(self):
        return f"<accepts {self.what}>"


def _range_text(lo, hi):
    if lo is not None and hi is not None:
        return f" from {lo} to {hi}"
    if lo is not None:
        return f" >= {lo}"
    return f" <= {hi}" if hi is not None else ""


def _wrong_type(name, what, value):
    return TypeError(f"{name} must be {what}, got {describe(value)}")


def _out_of(lo, hi, value):
    return (lo is not None and value < lo) or (hi is not None and value > hi)


def an_int(lo=None, hi=None):
    """An int (not a bool) from ``lo`` to ``hi``, both optional and inclusive."""
    what = f"an int{_range_text(lo, hi)}"

    def convert(name, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise _wrong_type(name, what, value)
        if _out_of(lo, hi, value):
            raise ValueError(f"{name} must be {what}, got {value!r}")
        return int(value)

    return Spec(what, convert)


def a_number(lo=None, hi=None):
    """A finite real number (not a bool) from ``lo`` to ``hi``, returned as a float."""
    what = f"a number{_range_text(lo, hi)}"

    def convert(name, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise _wrong_type(name, what, value)
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            number = math.inf
        if not math.isfinite(number) or _out_of(lo, hi, number):
            raise ValueError(f"{name} must be a finite {what[2:]}, got {value!r}")
        return number

    return Spec(what, convert)


def instance_of(cls, what):
    """An instance of ``cls`` (a class or tuple of classes), described to the user as ``what``."""
    def convert(name, value):
        if not isinstance(value, cls):
            raise _wrong_type(name, what, value)
        return value

    return Spec(what, convert)


def one_of(*choices):
    """One of ``choices`` (compared with ``==``)."""
    accepted = ", ".join(repr(c) for c in choices)

    def convert(name, value):
        if value not in choices:
            raise ValueError(f"{name} must be one of {accepted}; got {value!r}")
        return value

    return Spec(f"one of {accepted}", convert)


def optional(spec):
    """``None``, or what ``spec`` accepts."""
    return Spec(f"None or {spec.what}", lambda name, value: None if value is None else spec(name, value))


def _callable(name, value):
    if not callable(value):
        raise _wrong_type(name, "callable (a function or other callable)", value)
    return value


A_STR = instance_of(str, "a str")
A_BOOL = instance_of(bool, "True or False")
A_CALLABLE = Spec("callable (a function or other callable)", _callable)


def valid(name, value, spec):
    """``value`` checked (and converted) by ``spec``, for checks that do not fit :func:`accepts`."""
    return spec(name, value)


def accepts(**specs):
    """Decorate a function so each named argument is checked by its spec before the call.

    Positions are worked out once, when decorating; a default value is not checked.
    """
    def decorate(fn):
        params = list(inspect.signature(fn).parameters.values())
        names = [p.name for p in params]
        unknown = sorted(set(specs) - set(names))
        if unknown:
            raise TypeError(f"{fn.__qualname__} has no parameter {', '.join(unknown)}")
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        by_position = [(i, p.name, specs[p.name]) for i, p in enumerate(params)
                       if p.name in specs and p.kind in positional]
        by_keyword = [(p.name, specs[p.name]) for p in params
                      if p.name in specs and p.kind == inspect.Parameter.KEYWORD_ONLY]

        @functools.wraps(fn)
        def checked(*args, **kwargs):
            if by_position:
                args = list(args)
                for i, name, spec in by_position:
                    if i < len(args):
                        args[i] = spec(name, args[i])
                    elif name in kwargs:
                        kwargs[name] = spec(name, kwargs[name])
            for name, spec in by_keyword:
                if name in kwargs:
                    kwargs[name] = spec(name, kwargs[name])
            return fn(*args, **kwargs)

        return checked

    return decorate


# --- TEMPORARY (issue 17 migration): the old check_* validators, until every module uses specs.
def _describe(value):
    return describe(value)


def check_int(name, value, *, minimum=None, maximum=None):
    return an_int(minimum, maximum)(name, value)


def check_number(name, value, *, minimum=None, maximum=None):
    return a_number(minimum, maximum)(name, value)


def check_callable(name, value):
    return A_CALLABLE(name, value)


def check_str(name, value):
    return A_STR(name, value)


def check_choice(name, value, choices):
    return one_of(*choices)(name, value)


def check_instance(name, value, cls, accepted):
    return instance_of(cls, accepted)(name, value)
# --- end TEMPORARY
