"""Every notebook, run in JupyterLab in a real (headless) Chromium, as a learner runs it.

For each notebook in notebooks/ (a copy of it, served by one JupyterLab for the session):
open it, wait for its kernel to be Idle, expand hidden code cells (a collapsed cell shows
no prompt to watch), clear the stored outputs (so every prompt starts
empty and every figure seen afterwards is new), Run All (retried if JupyterLab dropped the
command), wait until every code cell has a number and the kernel is Idle again, save, and
check:

- no cell has an error output unless it is tagged `raises-exception` (read from the saved
  notebook through the contents API);
- no uncaught JavaScript exception on the page (console errors are listed in the output);
- widgets are rendered as widgets, which proves the widget manager extension is active in
  the page (tests/test_lab.py also checks that `jupyter labextension list` lists it): no
  `VBox(children=...` text, no "Error displaying widget"; and in every explorer (an output with a slider and a figure), moving the first
  slider one step with the keyboard redraws the figure (`src` of its image changes);
- the learner's path (issue 15): on opening, every collapsed check cell (metadata
  `jupyter.source_hidden`) shows as collapsed; an answer typed into the exercise cell is
  still there after Run All (the saved notebook holds it); uncommenting the cell's
  `# %load ../solutions/...` line and running the cell brings in the solution, which then
  passes the notebook's check;
- a screenshot lands in test-artifacts/screenshots/<notebook>.png (and
  <notebook>-collapsed.png, <notebook>-solution.png), timings in
  test-artifacts/browser-timings.json.

The kernel session is deleted after each notebook. conftest.py explains skip/fail rules
(THREADKIT_BROWSER, CI).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts"  # screenshots: see the artifacts_dir fixture in conftest.py
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NOTEBOOK_NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
RUN_TIMEOUT = float(os.environ.get("THREADKIT_BROWSER_TIMEOUT", "240"))  # s per notebook
OPEN_TIMEOUT = 120  # s from page load to an Idle kernel
RUN_ALL_ATTEMPTS = 3
RUN_ALL_CONFIRM = 10  # s for a first [*] or [n] prompt after Run All
STALL_SECONDS = 6  # Idle, nothing queued, prompts incomplete for this long: the run stopped
REDRAW_TIMEOUT = 60  # s for a new figure after a slider step
TIMINGS_FILE = ARTIFACTS / "browser-timings.json"
WIDGET_TEXT_REPR = re.compile(
    r"\b(VBox|HBox|Box|IntSlider|FloatSlider|IntProgress|FloatProgress|Dropdown|Button|Output|HTML)"
    r"\((children|value|layout|description|outputs|style|options)="
)

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
STATE_JS = """(panel) => {
    const root = document.querySelector(panel);
    if (!root) return null;
    const code = [...root.querySelectorAll('.jp-Notebook .jp-Cell.jp-CodeCell')];
    const prompts = code.map(c => {
        const p = c.querySelector('.jp-InputArea-prompt');
        return p ? p.innerText.trim() : '';
    });
    const items = [...document.querySelectorAll('.jp-StatusBar-TextItem, .jp-StatusBar-Item span')]
        .map(e => e.innerText || '');
    const status = items.find(t => / \\| \\S/.test(t)) || '';
    return {prompts, status: status.split(' | ').pop().trim()};
}"""
OUTPUT_TEXT_JS = """(panel) => [...document.querySelectorAll(panel + ' .jp-OutputArea-output')]
    .map(o => o.innerText || '')"""
EXPLORER = f"{PANEL} .jp-OutputArea-output:has(.widget-slider .noUi-handle):has(.widget-output img)"
NUMBERED = re.compile(r"^\[(\d+)\]:$")
LOAD_LINE = re.compile(r"^# (%load \.\./solutions/\S+\.py)\s*$", re.M)
#: Typed into the exercise cell before Run All; the saved notebook must still hold it.
LEARNER_MARK = "# my own attempt: Run All must keep this line"
COLLAPSED = ".jp-InputPlaceholder"  # what JupyterLab shows for a collapsed cell input
CELL = f"{PANEL} .jp-Notebook .jp-Cell"


def load_timings() -> dict:
    try:
        return json.loads(TIMINGS_FILE.read_text())
    except (OSError, ValueError):
        return {}


def save_timing(name: str, timing: dict) -> None:
    TIMINGS_FILE.parent.mkdir(parents=True, exist_ok=True)
    timings = load_timings()
    timings[name] = timing
    TIMINGS_FILE.write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")


def code_cells_to_run(notebook: Path) -> list[dict]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def exercise(notebook: Path) -> tuple[int, str, list[int]] | None:
    """(cell index, its uncommented %load line, indices of the two code cells after it), or None."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for i, cell in enumerate(cells):
        match = LOAD_LINE.search("".join(cell["source"])) if cell["cell_type"] == "code" else None
        if match:
            after = [j for j in range(i + 1, len(cells)) if cells[j]["cell_type"] == "code"][:2]
            return i, match.group(1), after
    return None


def hidden_count(notebook: Path) -> int:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(bool(c.get("metadata", {}).get("jupyter", {}).get("source_hidden")) for c in cells)


def has_widgets(notebook: Path) -> bool:
    text = notebook.read_text(encoding="utf-8")
    return "application/vnd.jupyter.widget-view+json" in text or "tk.explore(" in text


def failing_line(error_output: dict) -> str:
    """The line an error output's traceback points at (`----> 5 assert ...`), if any."""
    lines = [ANSI.sub("", line) for line in error_output.get("traceback", [])]
    arrows = [l.strip() for text in lines for l in text.splitlines() if l.strip().startswith("---->")]
    return f" at: {arrows[-1][:200]}" if arrows else ""


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


class NotebookPage:
    """Drives one notebook's page; every step waits with a deadline, none sleeps blindly."""

    def __init__(self, page, lab, name: str) -> None:
        self.page, self.lab, self.name = page, lab, name
        self.path = f"notebooks/{name}"

    def state(self) -> dict:
        return self.page.evaluate(STATE_JS, PANEL) or {"prompts": [], "status": ""}

    def menu(self, menu: str, command: str) -> None:
        """Click a menu bar entry, then the item of `command` (Lumino's data-command)."""
        self.page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=re.compile(f"^{menu}$")).click()
        item = self.page.locator(f'.lm-Menu:not(.lm-MenuBar) .lm-Menu-item[data-command="{command}"]').first
        item.click()

    def wait_idle(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            status = self.state()["status"]
            if status == "Idle":
                return status
            time.sleep(0.2)
        raise AssertionError(f"{self.name}: the kernel is not Idle after {timeout:.0f} s (status: {status!r})")

    def open(self) -> None:
        self.page.goto(self.lab.url(self.name), wait_until="domcontentloaded")
        self.page.wait_for_selector(f"{PANEL} .jp-Notebook .jp-Cell", timeout=OPEN_TIMEOUT * 1000)
        self.wait_idle(OPEN_TIMEOUT)  # "Idle", not "Initializing": Run All is not dropped then

    def run_all(self) -> int:
        """Clear outputs, Run All, confirm it started; return the number of attempts."""
        # A collapsed (hidden solution) cell shows no prompt: expand all code to see them all.
        self.menu("View", "notebook:show-all-cell-code")
        self.menu("Edit", "editmenu:clear-all")
        self.wait_prompts(lambda ps: all(p in ("[ ]:", "") for p in ps), 20, "outputs cleared")
        for attempt in range(1, RUN_ALL_ATTEMPTS + 1):
            self.menu("Run", "runmenu:run-all")
            started = self.wait_prompts(lambda ps: any(p == "[*]:" or NUMBERED.match(p) for p in ps),
                                        RUN_ALL_CONFIRM, None)
            if started:
                return attempt
            self.wait_idle(30)
        raise AssertionError(f"{self.name}: Run All did not start any cell in {RUN_ALL_ATTEMPTS} attempts")

    def wait_prompts(self, predicate, timeout: float, what: str | None) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.state()["prompts"]):
                return True
            time.sleep(0.2)
        if what is None:
            return False
        raise AssertionError(f"{self.name}: timed out waiting for {what}")

    def wait_finished(self, cells: list[dict], timeout: float) -> list[str]:
        """Wait until every code cell is numbered and the kernel Idle; return problems."""
        must_run = [bool("".join(c["source"]).strip()) for c in cells]
        deadline = time.monotonic() + timeout
        stalled_since = None
        state = self.state()
        while time.monotonic() < deadline:
            state = self.state()
            prompts = state["prompts"]
            if len(prompts) != len(cells):
                return [f"the page shows {len(prompts)} code cells, the notebook has {len(cells)}"]
            done = all(NUMBERED.match(p) for p, run in zip(prompts, must_run) if run)
            if done and state["status"] == "Idle":
                numbers = [int(NUMBERED.match(p).group(1)) for p in prompts if NUMBERED.match(p)]
                if numbers != sorted(set(numbers)):
                    return [f"execution counts are not increasing: {numbers}"]
                return []
            if not done and "[*]:" not in prompts and state["status"] == "Idle":
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > STALL_SECONDS:
                    break  # an error stopped Run All: the saved notebook says which cell
            else:
                stalled_since = None
            time.sleep(0.25)
        prompts = state["prompts"]
        missing = [i for i, (p, run) in enumerate(zip(prompts, must_run)) if run and not NUMBERED.match(p)]
        where = f"code cells {missing[:10]} (0-based) have prompts {[prompts[i] for i in missing[:10]]}"
        if stalled_since is not None:
            return [f"Run All stopped early: {where}"]
        return [f"not finished after {timeout:.0f} s (status {state['status']!r}): {where}"]

    def save(self) -> dict:
        """File > Save Notebook; return the saved notebook (read back through the contents API).

        Waits for the save request's own response: the server writes the file in place (its
        "atomic" writing keeps a backup copy), so reading it while the file's modification
        time has changed but the write is not finished finds a half-written notebook, and
        the server's recovery then breaks the save (seen here: 404 on the PUT).
        """
        def is_save(response) -> bool:
            return response.request.method == "PUT" and f"/api/contents/{self.path}" in response.url

        with self.page.expect_response(is_save, timeout=60000) as saved:
            self.menu("File", "docmanager:save")
        response = saved.value
        assert response.ok, f"{self.name}: saving failed: HTTP {response.status} {response.text()[:500]}"
        return self.lab.api("GET", f"/api/contents/{self.path}?content=1&type=notebook")["content"]

    def output_texts(self) -> list[str]:
        return self.page.evaluate(OUTPUT_TEXT_JS, PANEL)

    def set_cell_text(self, index: int, text: str) -> None:
        """Replace the code of cell ``index`` (0-based, all cells) as a learner would type it."""
        editor = self.page.locator(CELL).nth(index).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.insert_text(text)  # no auto-indent or auto-closed brackets

    def cell_text(self, index: int) -> str:
        return self.page.locator(CELL).nth(index).locator(".cm-content").inner_text()

    def run_cell(self, index: int, timeout: float = 120) -> None:
        """Select cell ``index`` and run it (Shift+Enter); wait for its new prompt number."""
        prompt = self.page.locator(CELL).nth(index).locator(".jp-InputArea-prompt")
        before = prompt.inner_text().strip()
        self.page.locator(CELL).nth(index).locator(".cm-content").click()
        self.page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = prompt.inner_text().strip()
            if NUMBERED.match(now) and now != before and self.state()["status"] == "Idle":
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name}: cell {index} did not finish within {timeout:.0f} s")

    def load_solution(self, index: int, load: str, check: int) -> list[str]:
        """Uncomment the exercise's %load line, run it, run the solution and its check."""
        self.set_cell_text(index, load)
        self.run_cell(index)  # %load replaces the cell's code with the file's
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(self.cell_text(index).splitlines()) < 2:
            time.sleep(0.2)
        text = self.cell_text(index)
        if load not in text or len(text.splitlines()) < 2:
            return [f"%load did not bring in the solution: the cell holds {text[:200]!r}"]
        self.run_cell(index)   # define the solution
        self.run_cell(check)   # and check it
        output = self.page.locator(CELL).nth(check).locator(".jp-OutputArea-output").all_inner_texts()
        shown = " ".join(output)
        if not shown.strip() or any(bad in shown for bad in ("Traceback", "Not yet", "ExerciseError")):
            return [f"the loaded solution did not pass the check: {shown[:300]!r}"]
        return []

    def move_sliders(self) -> tuple[list[str], list[float]]:
        """In each explorer, step its first slider; the figure must be redrawn."""
        problems, latencies = [], []
        explorers = self.page.locator(EXPLORER)
        count = explorers.count()
        for index in range(count):
            explorer = explorers.nth(index)
            explorer.scroll_into_view_if_needed()
            image = explorer.locator(".widget-output img").first
            handle = explorer.locator(".widget-slider .noUi-handle").first
            readout = explorer.locator(".widget-slider .widget-readout").first
            src_before = image.get_attribute("src")
            value_before = readout.inner_text().strip()
            at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
            handle.focus()
            start = time.perf_counter()
            handle.press("ArrowLeft" if at_max else "ArrowRight")
            deadline = time.monotonic() + REDRAW_TIMEOUT
            redrawn = False
            while time.monotonic() < deadline:
                current = explorer.locator(".widget-output img").first
                if current.count() and current.get_attribute("src") not in (None, src_before):
                    redrawn = True
                    break
                time.sleep(0.05)
            latency = time.perf_counter() - start
            value_after = readout.inner_text().strip()
            if value_after == value_before:
                problems.append(f"explorer {index}: the slider did not move (readout {value_before!r})")
            if not redrawn:
                problems.append(f"explorer {index}: the figure was not redrawn {REDRAW_TIMEOUT} s after "
                                f"moving the slider {value_before} -> {value_after}")
            else:
                latencies.append(round(latency, 2))
        return problems, latencies


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_in_jupyterlab(name, lab, browser, artifacts_dir):
    notebook = NOTEBOOKS / name
    cells = code_cells_to_run(notebook)
    problems: list[str] = []
    page_errors: list[str] = []
    console_errors: list[str] = []
    timing: dict = {}
    page = browser.new_page()
    page.set_default_timeout(20000)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    nb = NotebookPage(page, lab, name)
    t0 = time.perf_counter()
    try:
        nb.open()
        timing["open_to_idle_s"] = round(time.perf_counter() - t0, 1)
        sessions = [s for s in lab.api("GET", "/api/sessions") if s.get("path") == nb.path]
        assert sessions, f"{name}: no kernel session was started"
        assert sessions[0]["kernel"]["name"] == "python3", sessions[0]["kernel"]
        try:  # more room for the notebook and the screenshot
            nb.menu("View", "filebrowser:toggle-main")
        except Exception:
            pass
        task = exercise(notebook)
        shown = page.locator(f"{CELL} {COLLAPSED}").count()
        if shown != hidden_count(notebook):
            problems.append(f"{shown} cells show as collapsed, the notebook has {hidden_count(notebook)} "
                            "(metadata jupyter.source_hidden)")
        if task:
            index, load, _ = task
            page.locator(CELL).nth(index).scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts_dir / f"{Path(name).stem}-collapsed.png"), timeout=30000)
            starting = nb.cell_text(index)
            nb.set_cell_text(index, LEARNER_MARK + "\n" + starting)
        t1 = time.perf_counter()
        timing["run_all_attempts"] = nb.run_all()
        problems += nb.wait_finished(cells, RUN_TIMEOUT)
        timing["run_all_s"] = round(time.perf_counter() - t1, 1)

        saved = nb.save()
        for index, cell in enumerate(c for c in saved["cells"] if c["cell_type"] == "code"):
            for output in cell.get("outputs", []):
                if output["output_type"] == "error" and "raises-exception" not in tags(cell):
                    problems.append(f"code cell {index} raised {output['ename']}: {output['evalue'][:300]}"
                                    f"{failing_line(output)}")

        if task:
            kept = "".join(saved["cells"][task[0]]["source"])
            if not kept.startswith(LEARNER_MARK):
                problems.append(f"Run All replaced the learner's exercise code: cell {task[0]} now holds {kept[:200]!r}")

        texts = nb.output_texts()
        for text in texts:
            if WIDGET_TEXT_REPR.search(text):
                problems.append("a widget is shown as text (is the widget manager extension active?): "
                                + WIDGET_TEXT_REPR.search(text).group(0))
            if "Error displaying widget" in text:
                problems.append("an output says 'Error displaying widget'")

        finished = not problems
        if has_widgets(notebook) and not finished:
            problems.append("widget checks skipped: the notebook did not run to the end")
        elif has_widgets(notebook):
            rendered = page.locator(f"{PANEL} .jp-OutputArea-output .jupyter-widgets").count()
            if not rendered:
                problems.append("the notebook has widgets but none was rendered")
            t2 = time.perf_counter()
            slider_problems, latencies = nb.move_sliders()
            problems += slider_problems
            timing["explorers"] = len(latencies) + len(slider_problems)
            timing["redraw_s"] = latencies
            timing["sliders_s"] = round(time.perf_counter() - t2, 1)
            if "tk.explore(" in notebook.read_text(encoding="utf-8") and page.locator(EXPLORER).count() == 0:
                problems.append("the notebook calls tk.explore but no slider with a figure was rendered")

        if task and not problems:
            t3 = time.perf_counter()
            problems += nb.load_solution(task[0], task[1], task[2][0])
            timing["load_solution_s"] = round(time.perf_counter() - t3, 1)
            page.screenshot(path=str(artifacts_dir / f"{Path(name).stem}-solution.png"), timeout=30000)

        if page_errors:
            problems.append("uncaught JavaScript exceptions on the page:\n    " + "\n    ".join(page_errors))
    except Exception as exc:  # a step timed out: still take the screenshot, clean up
        problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        shot = artifacts_dir / f"{Path(name).stem}.png"
        try:
            explorers = page.locator(EXPLORER)
            target = explorers.first if explorers.count() else page.locator(f"{PANEL} .jp-OutputArea-output img").first
            if target.count():
                target.scroll_into_view_if_needed(timeout=5000)
            page.screenshot(path=str(shot), timeout=30000)
        except Exception as exc:
            problems.append(f"screenshot failed: {exc}")
        timing["total_s"] = round(time.perf_counter() - t0, 1)
        timing["console_errors"] = len(console_errors)
        timing["passed"] = not problems
        save_timing(name, timing)
        page.close()
        try:
            lab.delete_sessions()
        except Exception as exc:
            problems.append(f"could not delete the kernel sessions: {exc}")
    print(f"\n{name}: {json.dumps(timing)}; screenshot {shot.relative_to(ARTIFACTS.parent)}")
    if console_errors:
        print(f"{name}: {len(console_errors)} browser console error(s):\n  " + "\n  ".join(console_errors))
    if problems:
        details = "\n".join(f"- {p}" for p in problems)
        if console_errors:
            details += "\nbrowser console errors:\n  " + "\n  ".join(console_errors[:20])
        pytest.fail(f"{name} in JupyterLab:\n{details}\n(screenshot: {shot})", pytrace=False)


def test_there_are_notebooks_to_open():
    assert NOTEBOOK_NAMES, f"{NOTEBOOKS} has no notebooks: the browser test would check nothing"
