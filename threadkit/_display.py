"""Showing figures and widgets in a notebook: one place for every drawing module.

Figures are bare ``matplotlib.figure.Figure`` objects (pyplot is never imported, so nothing
is shown twice); :func:`enable_figure_display` teaches IPython to show them as PNG.
"""

import base64
import io
import sys

#: Dots per inch of every figure (fixed, so stored PNGs do not depend on the machine).
FIGURE_DPI = 100
#: Longest thread name shown whole in a lane label; longer ones keep their start and end.
MAX_NAME_CHARS = 32


def new_figure(figsize):
    """A new constrained-layout ``Figure`` of ``figsize`` inches, displayable in IPython."""
    from matplotlib.figure import Figure

    enable_figure_display()
    return Figure(figsize=figsize, dpi=FIGURE_DPI, layout="constrained")


def enable_figure_display():
    """Make IPython show a bare ``Figure`` as a PNG, once, unless a figure format is registered.

    IPython registers its figure formatter only when pyplot's inline backend starts; a
    user's own choice (e.g. retina) is kept.
    """
    ipython_module = sys.modules.get("IPython")
    shell = ipython_module.get_ipython() if ipython_module is not None else None
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", None)
    if not formatters:
        return
    from matplotlib.figure import Figure

    for mime in ("image/png", "image/svg+xml", "image/jpeg", "application/pdf"):
        formatter = formatters.get(mime)
        if formatter is None:
            continue
        try:
            formatter.lookup_by_type(Figure)
            return
        except KeyError:
            pass
    from IPython.core.pylabtools import print_figure

    formatters["image/png"].for_type(Figure, lambda fig: print_figure(fig, "png"))


def figure_bundle(figure):
    """A display bundle (PNG and ``repr``) of ``figure``, independent of any backend."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": repr(figure)}


def widget_bundle(owner, **kwargs):
    """Display bundle of ``owner.widget`` whose text is ``repr(owner)`` (stable for nbval)."""
    bundle = owner.widget._repr_mimebundle_(**kwargs)
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    bundle = dict(bundle or {})
    bundle["text/plain"] = repr(owner)
    return bundle


def short_name(name, limit=MAX_NAME_CHARS):
    """``name`` cut to ``limit`` characters around an ellipsis, keeping its start and end."""
    if len(name) <= limit:
        return name
    keep = (limit - 1) // 2
    return name[:keep] + "\u2026" + name[-keep:]
