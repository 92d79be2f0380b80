"""Explore a scenario with sliders: each change re-runs it in a recording and redraws it.

The scenario is ordinary threading code using the traced twins. The explorer draws its
recording, shows :func:`summarize` plus the dict the scenario returned (if any), and runs it
once at creation, so a saved notebook shows a figure. ipywidgets is imported only when
:func:`explore` is called.
"""

import html
import inspect
import keyword
import math

from ._display import figure_bundle, widget_bundle
from ._recording import recording
from ._timeline import draw, summarize
from ._validate import A_CALLABLE, a_number, accepts, describe, valid

__all__ = ["explore"]


_FLOAT_POSITIONS = 100  # about this many slider positions for a float range without a step
_SLIDER_STYLE = {"description_width": "initial"}
_SLIDER_WIDTH = "420px"
_ERROR_STYLE = "color: #B00020; white-space: pre-wrap; margin: 0"
_SUMMARY_STYLE = "margin: 0; font-size: 12px; line-height: 1.35"
_SPEC_TEXT = "(min, max, default), (min, max, default, step) or a list of str choices"


@accepts(scenario=A_CALLABLE)
def explore(scenario, /, **params):
    """Sliders for ``scenario``'s parameters; each change re-runs it and redraws its timeline.

    Example: ``tk.explore(pool_demo, workers=(1, 8, 3), delay=(0.01, 0.2, 0.05))``.

    Args:
        scenario: a callable taking the parameters as keyword arguments; it may return a dict,
            shown under the summary.
        **params: per parameter, ``(min, max, default)`` or ``(min, max, default, step)`` for a
            slider (all ints: an integer slider), or a list of str for a dropdown (first selected).

    Returns:
        Explorer: shown as its widget when it is the last expression of a cell.

    Raises:
        TypeError: ``scenario`` is not callable, a spec has the wrong type, or the scenario does
            not take these parameters.
        ValueError: a name is not an identifier, or a spec is out of order (min < max,
            min <= default <= max, 0 < step <= max - min; choices distinct).
    """
    specs = {name: _parse_spec(name, spec) for name, spec in params.items()}
    _bindable(scenario, specs)
    return Explorer(scenario, specs)


class Explorer:
    """Sliders, a timeline and a summary for one scenario; made by :func:`explore`.

    Attributes: ``widget`` (the VBox), ``sliders`` (name -> widget), ``values``, and of the
    latest run ``last_recording``, ``last_figure``, ``last_result`` (None if it raised),
    ``last_error`` and ``summary_text``.
    """

    def __init__(self, scenario, specs):
        import ipywidgets as widgets

        self._scenario = scenario
        self._name = getattr(scenario, "__name__", None) or type(scenario).__name__
        self.sliders = {name: _make_widget(widgets, name, spec) for name, spec in specs.items()}
        self._rerun = widgets.Button(description="run again", tooltip="run the scenario again with these values")
        self._figure_out = widgets.Output()
        self._summary_html = widgets.HTML()
        controls = widgets.VBox([*self.sliders.values(), self._rerun])
        self.widget = widgets.VBox([controls, self._figure_out, self._summary_html])
        for control in self.sliders.values():
            control.observe(lambda _change: self._update(), names="value")
        self._rerun.on_click(lambda _button: self._update())
        self._update()

    @property
    def values(self):
        """Current parameter values, as a dict."""
        return {name: control.value for name, control in self.sliders.items()}

    def _repr_mimebundle_(self, **kwargs):
        return widget_bundle(self, **kwargs)

    def __repr__(self):
        return f"<Explorer of {self._name}({', '.join(self.sliders)})>"

    def _update(self):
        values = self.values
        returned, error = None, None
        with recording(f"{self._name}({', '.join(f'{k}={_format(v)}' for k, v in values.items())})") as rec:
            try:
                returned = self._scenario(**values)
            except Exception as exc:  # shown in the explorer, not raised into the cell
                error = exc
        self.last_recording, self.last_result, self.last_error = rec, returned, error
        self.last_figure = draw(rec)
        problem = f"The scenario raised {type(error).__name__}: {error}" if error is not None else None
        outputs = [{"output_type": "stream", "name": "stderr", "text": problem + "\n"}] if problem else []
        outputs.append({"output_type": "display_data", "data": figure_bundle(self.last_figure), "metadata": {}})
        self._figure_out.outputs = tuple(outputs)
        rows = list(returned.items()) if isinstance(returned, dict) else []
        self.summary_text = summarize(rec).format()
        if rows:
            width = max(len(str(k)) for k, _ in rows) + 1
            self.summary_text += "\n" + "\n".join(f"{str(k) + ':':<{width}} {_format(v)}" for k, v in rows)
        shown = html.escape(self.summary_text)
        if problem:
            shown += f'</pre><pre style="{_ERROR_STYLE}">{html.escape(problem)}'
        self._summary_html.value = f'<pre style="{_SUMMARY_STYLE}">{shown}</pre>'


def _parse_spec(name, spec):
    """A dropdown's choices (a tuple of str), or a slider's ``(min, max, default, step, is_float)``."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"parameter names must be valid Python identifiers, got {name!r}")
    if isinstance(spec, (tuple, list)) and spec and all(isinstance(item, str) for item in spec):
        if len(set(spec)) != len(spec):
            raise ValueError(f"parameter {name!r}: choices must be distinct, got {list(spec)!r}")
        return tuple(spec)
    if not isinstance(spec, (tuple, list)) or len(spec) not in (3, 4):
        raise TypeError(f"parameter {name!r} must be {_SPEC_TEXT}, got {describe(spec)}")
    for what, item in zip(("min", "max", "default", "step"), spec):
        valid(f"parameter {name!r}: {what}", item, a_number())
    lo, hi, default, step = (*spec, None)[:4]
    if not lo < hi:
        raise ValueError(f"parameter {name!r}: min must be less than max, got min={lo!r}, max={hi!r}")
    if not lo <= default <= hi:
        raise ValueError(f"parameter {name!r}: default must be from min to max ({lo!r} to {hi!r}), got {default!r}")
    if step is not None and not 0 < step <= hi - lo:
        raise ValueError(f"parameter {name!r}: step must be > 0 and <= max - min ({hi - lo!r}), got {step!r}")
    if any(isinstance(item, float) for item in spec):
        step = step or 10 ** round(math.log10((hi - lo) / _FLOAT_POSITIONS))
        return float(lo), float(hi), float(default), float(step), True
    return int(lo), int(hi), int(default), int(step or 1), False


def _bindable(scenario, specs):
    """Refuse parameters the scenario cannot take, before any widget exists."""
    try:
        signature = inspect.signature(scenario)
    except (TypeError, ValueError):
        return  # builtins without a signature: the first run will tell
    try:
        signature.bind(**dict.fromkeys(specs))
    except TypeError as exc:
        raise TypeError(f"scenario {getattr(scenario, '__name__', scenario)!r} must accept the parameters "
                        f"{', '.join(specs) or '(none)'}: {exc}") from None


def _make_widget(widgets, name, spec):
    if isinstance(spec[0], str):
        return widgets.Dropdown(options=spec, value=spec[0], description=name, style=_SLIDER_STYLE)
    lo, hi, default, step, is_float = spec
    common = dict(min=lo, max=hi, value=default, step=step, description=name, continuous_update=False,
                  style=_SLIDER_STYLE, layout=widgets.Layout(width=_SLIDER_WIDTH))
    if is_float:
        return widgets.FloatSlider(readout_format=f".{max(0, -math.floor(math.log10(step)))}f", **common)
    return widgets.IntSlider(**common)


def _format(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)
