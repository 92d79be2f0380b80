"""Explore a scenario with sliders: each change re-runs it and redraws its timeline.

::

    def pool_demo(workers, tasks, delay):
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for f in [pool.submit(tk.io_task, delay) for _ in range(tasks)]:
                f.result()
        return {"ideal makespan (ms)": math.ceil(tasks / workers) * delay * 1000}

    tk.explore(pool_demo, workers=(1, 8, 3), tasks=(1, 20, 6), delay=(0.01, 0.2, 0.05))

The scenario is ordinary threading code using the traced twins; the
explorer runs it inside :func:`threadkit.recording`, draws the recording with
:func:`threadkit.draw` and shows :func:`threadkit.summarize` plus whatever the
scenario returned.  It runs once at creation, so a saved notebook shows a
figure.  ipywidgets is imported only when :func:`explore` is called.
"""

import html
import inspect
import keyword
import math
import numbers

from ._recording import recording
from ._timeline import draw, summarize
from ._validate import _describe, check_callable
from ._display import figure_bundle as _figure_bundle, widget_bundle as widget_mimebundle  # TEMPORARY (H2)

__all__ = ["explore", "Explorer"]

#: Figures shown by the explorer are PNG images at this resolution (dpi).
EXPLORER_PNG_DPI = 100
#: Number of slider positions a float slider gets when no step is given (about).
_DEFAULT_FLOAT_POSITIONS = 100
_SLIDER_STYLE = {"description_width": "initial"}
_SLIDER_WIDTH = "420px"
_ERROR_STYLE = "color: #B00020; white-space: pre-wrap; margin: 0"
_SUMMARY_STYLE = "margin: 0; font-size: 12px; line-height: 1.35"
_RERUN_LABEL = "run again"
_SIGNIFICANT_DIGITS = 4


def explore(scenario, /, *, summary=None, **params):
    """Build sliders for ``scenario``'s parameters; each change re-runs and redraws it.

    Args:
        scenario: a callable taking the parameters as keyword arguments.  It
            may return a dict whose items are shown under the summary.
        summary: optional callable ``summary(recording, returned) -> dict``
            giving extra summary lines (``returned`` is what the scenario
            returned, or None if it raised).
        **params: one entry per parameter:

            * ``(min, max, default)`` or ``(min, max, default, step)``: a
              slider; all ints give an integer slider, any float a float slider;
            * a list or tuple of str: a dropdown of choices, the first selected.

    Returns:
        Explorer: shows itself as the widget when it is the last expression of
        a cell; ``.run(**values)`` re-runs it from code.

    Raises:
        TypeError: ``scenario`` or ``summary`` is not callable, a parameter
            spec has the wrong type, or the scenario does not accept the
            parameters.
        ValueError: a parameter name is not a valid identifier, or a spec is
            out of order (``min < max``, ``min <= default <= max``,
            ``0 < step <= max - min``; choices non-empty and distinct).
    """
    check_callable("scenario", scenario)
    if summary is not None:
        check_callable("summary", summary)
    specs = {name: _parse_spec(name, spec) for name, spec in params.items()}
    _check_signature(scenario, specs)
    return Explorer(scenario, specs, summary)


class Explorer:
    """Sliders, a timeline and a summary for one scenario; made by :func:`explore`.

    Attributes:
        widget: the ``ipywidgets.VBox`` holding everything.
        sliders: dict of parameter name -> its widget (slider or dropdown).
        last_recording: the Recording of the latest run.
        last_figure: the matplotlib Figure of the latest run.
        last_result: what the scenario returned in the latest run (None if it raised).
        last_error: the exception the scenario raised in the latest run, or None.
        summary_text: the summary shown under the timeline, as plain text.
    """

    def __init__(self, scenario, specs, summary=None):
        import ipywidgets as widgets

        self._scenario = scenario
        self._summary = summary
        self._name = getattr(scenario, "__name__", None) or type(scenario).__name__
        self._silent = False
        self.sliders = {name: _make_widget(widgets, name, spec) for name, spec in specs.items()}
        self._rerun = widgets.Button(description=_RERUN_LABEL, tooltip="run the scenario again with these values")
        self._figure_out = widgets.Output()
        self._summary_html = widgets.HTML()
        controls = list(self.sliders.values()) + [self._rerun]
        self.widget = widgets.VBox([widgets.VBox(controls), self._figure_out, self._summary_html])
        self.last_recording = None
        self.last_figure = None
        self.last_result = None
        self.last_error = None
        self.summary_text = ""
        for control in self.sliders.values():
            control.observe(self._on_change, names="value")
        self._rerun.on_click(lambda _button: self._update())
        self._update()

    # ------------------------------------------------------------- public
    def run(self, **values):
        """Set the given parameters (others keep their values) and run the scenario.

        Args:
            **values: parameter name -> value, e.g. ``workers=2``.

        Returns:
            Recording: the recording of this run (also ``.last_recording``).

        Raises:
            TypeError: a name is not one of this explorer's parameters.
            ValueError: a value is outside its slider's range or not one of its choices.
        """
        for name, value in values.items():
            if name not in self.sliders:
                accepted = ", ".join(self.sliders) or "none"
                raise TypeError(f"run() got an unknown parameter {name!r}; parameters: {accepted}")
            _check_value(name, value, self.sliders[name])
        self._silent = True
        try:
            for name, value in values.items():
                self.sliders[name].value = value
        finally:
            self._silent = False
        return self._update()

    @property
    def values(self):
        """Current parameter values, as a dict."""
        return {name: control.value for name, control in self.sliders.items()}

    def _repr_mimebundle_(self, **kwargs):
        return widget_mimebundle(self, **kwargs)

    def __repr__(self):
        names = ", ".join(self.sliders)
        return f"<Explorer of {self._name}({names})>"

    # ---------------------------------------------------------- internals
    def _on_change(self, change):
        if not self._silent:
            self._update()

    def _update(self):
        values = self.values
        title = f"{self._name}({', '.join(f'{k}={_format_value(v)}' for k, v in values.items())})"
        returned, error = None, None
        with recording(title) as rec:
            try:
                returned = self._scenario(**values)
            except Exception as exc:  # shown in the explorer, not raised into the cell
                error = exc
        self.last_recording, self.last_result, self.last_error = rec, returned, error
        outputs = []
        if error is not None:
            outputs.append({"output_type": "stream", "name": "stderr",
                            "text": f"The scenario raised {type(error).__name__}: {error}\n"})
        figure = draw(rec)
        self.last_figure = figure
        outputs.append({"output_type": "display_data", "data": _figure_bundle(figure), "metadata": {}})
        self._figure_out.outputs = tuple(outputs)
        self.summary_text, extra_error = self._summary_lines(rec, returned)
        shown = html.escape(self.summary_text)
        if error is not None or extra_error:
            problem = extra_error or f"The scenario raised {type(error).__name__}: {error}"
            shown += f'</pre><pre style="{_ERROR_STYLE}">{html.escape(problem)}'
        self._summary_html.value = f'<pre style="{_SUMMARY_STYLE}">{shown}</pre>'
        return rec

    def _summary_lines(self, rec, returned):
        """(summary text, error text or None) for one run."""
        rows = []
        if isinstance(returned, dict):
            rows += list(returned.items())
        problem = None
        if self._summary is not None:
            try:
                extra = self._summary(rec, returned)
            except Exception as exc:
                extra, problem = None, f"summary raised {type(exc).__name__}: {exc}"
            if problem is None and not isinstance(extra, dict):
                problem = f"summary must return a dict of extra lines, got {_describe(extra)}"
            elif extra:
                rows += list(extra.items())
        text = summarize(rec).format()
        if rows:
            width = max(len(str(k)) for k, _ in rows) + 1
            text += "\n" + "\n".join(f"{str(k) + ':':<{width}} {_format_value(v)}" for k, v in rows)
        return text, problem


# ------------------------------------------------------------------ specs
class _Range:
    __slots__ = ("minimum", "maximum", "default", "step", "is_float")

    def __init__(self, minimum, maximum, default, step, is_float):
        self.minimum, self.maximum, self.default, self.step, self.is_float = minimum, maximum, default, step, is_float


class _Choices:
    __slots__ = ("options",)

    def __init__(self, options):
        self.options = options


_SPEC_TEXT = "(min, max, default), (min, max, default, step) or a list of str choices"


def _parse_spec(name, spec):
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"parameter names must be valid Python identifiers, got {name!r}")
    if not isinstance(spec, (tuple, list)):
        raise TypeError(f"parameter {name!r} must be {_SPEC_TEXT}, got {_describe(spec)}")
    if spec and all(isinstance(item, str) for item in spec):
        if len(set(spec)) != len(spec):
            raise ValueError(f"parameter {name!r}: choices must be distinct, got {list(spec)!r}")
        return _Choices(tuple(spec))
    if not spec:
        raise ValueError(f"parameter {name!r} must be {_SPEC_TEXT}, got an empty {type(spec).__name__}")
    if any(isinstance(item, str) for item in spec):
        raise TypeError(f"parameter {name!r}: choices must all be str, and a range all numbers; got {spec!r}")
    if len(spec) not in (3, 4):
        raise ValueError(f"parameter {name!r} must be {_SPEC_TEXT}, got {len(spec)} items: {spec!r}")
    for item in spec:
        if isinstance(item, bool) or not isinstance(item, numbers.Real) or not math.isfinite(item):
            raise TypeError(f"parameter {name!r}: min, max, default and step must be finite numbers "
                            f"(not bools), got {_describe(item)} in {spec!r}")
    minimum, maximum, default = spec[:3]
    step = spec[3] if len(spec) == 4 else None
    if not minimum < maximum:
        raise ValueError(f"parameter {name!r}: min must be less than max, got min={minimum!r}, max={maximum!r}")
    if not minimum <= default <= maximum:
        raise ValueError(f"parameter {name!r}: default must be from min to max ({minimum!r} to {maximum!r}), "
                         f"got {default!r}")
    if step is not None and not 0 < step <= maximum - minimum:
        raise ValueError(f"parameter {name!r}: step must be > 0 and <= max - min ({maximum - minimum!r}), "
                         f"got {step!r}")
    is_float = any(isinstance(item, float) for item in spec)
    if is_float:
        if step is None:
            step = 10 ** round(math.log10((maximum - minimum) / _DEFAULT_FLOAT_POSITIONS))
        return _Range(float(minimum), float(maximum), float(default), float(step), True)
    return _Range(int(minimum), int(maximum), int(default), int(step or 1), False)


def _check_signature(scenario, specs):
    """Refuse parameters the scenario cannot take, before any widget exists."""
    try:
        signature = inspect.signature(scenario)
    except (TypeError, ValueError):
        return  # builtins without a signature: the first run will tell
    try:
        signature.bind(**{name: None for name in specs})
    except TypeError as exc:
        raise TypeError(f"scenario {getattr(scenario, '__name__', scenario)!r} cannot be called with the "
                        f"parameters {', '.join(specs) or '(none)'}: {exc}") from None


def _make_widget(widgets, name, spec):
    if isinstance(spec, _Choices):
        return widgets.Dropdown(options=spec.options, value=spec.options[0], description=name,
                                style=_SLIDER_STYLE)
    common = dict(min=spec.minimum, max=spec.maximum, value=spec.default, step=spec.step, description=name,
                  continuous_update=False, style=_SLIDER_STYLE, layout=widgets.Layout(width=_SLIDER_WIDTH))
    if spec.is_float:
        decimals = max(0, -math.floor(math.log10(spec.step)))
        return widgets.FloatSlider(readout_format=f".{decimals}f", **common)
    return widgets.IntSlider(**common)


def _check_value(name, value, control):
    options = getattr(control, "options", None)
    if options is not None:
        if value not in options:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
        return
    wanted = numbers.Integral if isinstance(control.value, int) else numbers.Real
    if isinstance(value, bool) or not isinstance(value, wanted):
        kind = "an int" if wanted is numbers.Integral else "a number"
        raise TypeError(f"{name} must be {kind} from {control.min} to {control.max}, got {_describe(value)}")
    if not control.min <= value <= control.max:
        raise ValueError(f"{name} must be from {control.min} to {control.max}, got {value!r}")


def _format_value(value):
    if isinstance(value, float):
        return f"{value:.{_SIGNIFICANT_DIGITS}g}"
    return str(value)
