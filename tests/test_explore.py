"""Tests of threadkit._explore, without any frontend."""

import sys

import pytest

import threadkit as tk
from threadkit import kinds
from threadkit._recording import Recording
from threadkit.traced import ThreadPoolExecutor

ipywidgets = pytest.importorskip("ipywidgets")


def pool_scenario(workers, tasks):
    """Submit ``tasks`` short I/O tasks to a pool of ``workers``."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = [f.result() for f in [pool.submit(tk.io_task, 0.01) for _ in range(tasks)]]
    return {"ideal makespan (ms)": -(-tasks // workers) * 10, "results": len(results)}


class Counting:
    """A scenario that counts its calls and records their values."""

    def __init__(self):
        self.calls = []
        self.__name__ = "counting"

    def __call__(self, workers, tasks=2):
        self.calls.append((workers, tasks))
        return pool_scenario(workers, tasks)


def figure_outputs(explorer):
    return [o for o in explorer._figure_out.outputs if o["output_type"] == "display_data"]


def test_sliders_follow_the_specs():
    ex = tk.explore(pool_scenario, workers=(1, 8, 3), tasks=(1, 20, 4, 2))
    assert list(ex.sliders) == ["workers", "tasks"]
    workers, tasks = ex.sliders["workers"], ex.sliders["tasks"]
    assert isinstance(workers, ipywidgets.IntSlider) and isinstance(tasks, ipywidgets.IntSlider)
    assert (workers.min, workers.max, workers.value, workers.step) == (1, 8, 3, 1)
    assert (tasks.min, tasks.max, tasks.value, tasks.step) == (1, 20, 4, 2)
    assert not workers.continuous_update and not tasks.continuous_update
    assert ex.values == {"workers": 3, "tasks": 4}


def test_float_and_choice_parameters():
    def scenario(delay, how):
        tk.io_task(delay)
        return {"how": how}

    ex = tk.explore(scenario, delay=(0.001, 0.02, 0.002), how=["plain", "fancy"])
    delay, how = ex.sliders["delay"], ex.sliders["how"]
    assert isinstance(delay, ipywidgets.FloatSlider)
    assert (delay.min, delay.max, delay.value) == (0.001, 0.02, 0.002)
    assert 0 < delay.step <= 0.001
    assert isinstance(how, ipywidgets.Dropdown)
    assert how.options == ("plain", "fancy") and how.value == "plain"
    assert ex.last_result == {"how": "plain"}
    ex.sliders["how"].value = "fancy"  # re-runs the scenario
    assert ex.last_result == {"how": "fancy"}
    assert "how:" in ex.summary_text and "fancy" in ex.summary_text


def test_mixed_int_and_float_gives_a_float_slider():
    ex = tk.explore(lambda delay: None, delay=(0, 1, 0.5))
    assert isinstance(ex.sliders["delay"], ipywidgets.FloatSlider)


def test_runs_once_at_creation():
    scenario = Counting()
    ex = tk.explore(scenario, workers=(1, 4, 2))
    assert scenario.calls == [(2, 2)]
    assert isinstance(ex.last_recording, Recording)
    assert repr(ex.last_figure) == "<Figure size 1000x420 with 1 Axes>"
    (shown,) = figure_outputs(ex)
    assert "image/png" in shown["data"]


def test_a_run_records_the_scenario():
    ex = tk.explore(pool_scenario, workers=(1, 8, 3), tasks=(1, 20, 4))
    ex.sliders["workers"].value = 2
    rec = ex.last_recording
    assert rec.count(kinds.RUN) == 4
    assert rec.count(kinds.SUBMIT) == 4
    assert rec.threads[0].name == "MainThread"
    assert len(rec.threads) <= 3  # main + at most 2 workers
    assert len(ex.last_figure.axes) == 1
    assert ex.last_result == {"ideal makespan (ms)": 20, "results": 4}
    assert ex.last_error is None
    assert "workers=2" in rec.name and "tasks=4" in rec.name


def test_moving_a_slider_reruns_the_scenario():
    scenario = Counting()
    ex = tk.explore(scenario, workers=(1, 4, 1))
    first = ex.last_recording
    ex.sliders["workers"].value = 3
    assert scenario.calls == [(1, 2), (3, 2)]
    assert ex.last_recording is not first
    assert "workers=3" in ex.last_recording.name


def test_run_again_button_reruns_with_the_same_values():
    scenario = Counting()
    ex = tk.explore(scenario, workers=(1, 4, 2))
    ex._rerun.click()
    assert scenario.calls == [(2, 2), (2, 2)]


def test_summary_shows_the_recording_and_the_returned_dict():
    ex = tk.explore(pool_scenario, workers=(1, 8, 2), tasks=(1, 20, 4))
    text = ex.summary_text
    assert text.startswith("makespan:")
    assert "tasks run:           4" in text
    assert "ideal makespan (ms): 20" in text
    assert "ideal makespan (ms): 20" in ex._summary_html.value


def test_an_exception_in_the_scenario_is_shown_not_raised():
    def failing(workers):
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pool.submit(tk.flaky_task, "a", True).result()

    ex = tk.explore(failing, workers=(1, 4, 2))
    assert isinstance(ex.last_error, tk.TaskFailed)
    assert ex.last_result is None
    streams = [o for o in ex._figure_out.outputs if o["output_type"] == "stream"]
    assert streams and "The scenario raised TaskFailed: task 'a' failed" in streams[0]["text"]
    assert "TaskFailed" in ex._summary_html.value
    assert len(figure_outputs(ex)) == 1  # the partial timeline is still drawn
    assert ex.last_recording.count(kinds.EXCEPTION) >= 1
    assert "Traceback" not in streams[0]["text"]


def test_a_later_successful_run_clears_the_error():
    state = {"fail": True}

    def sometimes(n):
        if state["fail"]:
            raise ValueError("bad n")
        return {"n": n}

    ex = tk.explore(sometimes, n=(1, 3, 1))
    assert isinstance(ex.last_error, ValueError)
    state["fail"] = False
    ex.sliders["n"].value = 2
    assert ex.last_error is None
    assert all(o["output_type"] == "display_data" for o in ex._figure_out.outputs)
    assert "bad n" not in ex._summary_html.value


def test_explorer_displays_as_its_widget_with_stable_text():
    ex = tk.explore(pool_scenario, workers=(1, 8, 2), tasks=(1, 3, 1))
    assert isinstance(ex.widget, ipywidgets.VBox)
    bundle = ex._repr_mimebundle_()
    assert bundle["text/plain"] == "<Explorer of pool_scenario(workers, tasks)>"
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.widget.model_id


def test_no_pyplot_figures_leak():
    ex = tk.explore(pool_scenario, workers=(1, 8, 2), tasks=(1, 3, 1))
    for n in (1, 3, 2):
        ex.sliders["workers"].value = n
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or pyplot.get_fignums() == []


def test_a_parameter_may_be_called_scenario():
    ex = tk.explore(lambda scenario: {"s": scenario}, scenario=["a", "b"])
    assert ex.last_result == {"s": "a"}
