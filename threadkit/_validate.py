"""Argument checks shared by every public function.

Each check raises ``TypeError`` (wrong type) or ``ValueError`` (right type,
value out of range) with a message naming the argument, the value received
and what is accepted.
"""

import math
import numbers


def _describe(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (type {type(value).__name__})"


def check_int(name, value, *, minimum=None, maximum=None):
    """Return ``value`` if it is an int within ``[minimum, maximum]``.

    Raises:
        TypeError: ``value`` is not an int (bools are refused too).
        ValueError: ``value`` is outside the accepted range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int{_range_text(minimum, maximum)}, got {_describe(value)}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an int{_range_text(minimum, maximum)}, got {value!r}")
    return int(value)


def check_number(name, value, *, minimum=None, maximum=None):
    """Return ``value`` as a float if it is a finite real number in range.

    Raises:
        TypeError: ``value`` is not a real number (bools are refused).
        ValueError: ``value`` is NaN, infinite or outside the accepted range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number{_range_text(minimum, maximum)}, got {_describe(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number) or (minimum is not None and number < minimum) or (
        maximum is not None and number > maximum
    ):
        raise ValueError(f"{name} must be a finite number{_range_text(minimum, maximum)}, got {value!r}")
    return number


def check_callable(name, value):
    """Return ``value`` if it is callable.

    Raises:
        TypeError: ``value`` cannot be called.
    """
    if not callable(value):
        raise TypeError(f"{name} must be callable (a function or other callable), got {_describe(value)}")
    return value


def check_str(name, value):
    """Return ``value`` if it is a str.

    Raises:
        TypeError: ``value`` is not a str.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_describe(value)}")
    return value


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``.

    Raises:
        ValueError: ``value`` is not one of ``choices``.
    """
    if value not in choices:
        accepted = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {accepted}; got {value!r}")
    return value


def check_instance(name, value, cls, accepted):
    """Return ``value`` if it is an instance of ``cls``.

    Args:
        accepted: words describing what is accepted, for the message.

    Raises:
        TypeError: ``value`` is not an instance of ``cls``.
    """
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be {accepted}, got {_describe(value)}")
    return value


def _range_text(minimum, maximum):
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""
