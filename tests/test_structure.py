"""The course's own structure: what every notebook and the README must have.

Rules (COURSE_DESIGN.md, "Notebook skeleton" and "Testing rules"):

- notebooks are named `NN_snake_case.ipynb`, numbered 00, 01, ... without gaps;
- the first cell is markdown: a title `# NN · Title` (NN = the file's number), the learning
  goals ("In this notebook you will:" and a bullet list) and a navigation line; the last
  cell repeats the navigation line. Navigation: a "Previous" link to the notebook before
  (all but the first notebook), a "Next" link to the one after (all but the last);
- every relative link in a notebook's markdown resolves to an existing file;
- a `## Summary` section containing "In this notebook we";
- a `## Exercise` section (its cells, the solution on demand and the checks are tested in
  test_learner_path.py);
- notebooks are stored executed (every code cell has an execution count, in order), no
  cell stores an error unless it is tagged `raises-exception`, and stored outputs hold no
  local paths or memory addresses;
- `# NBVAL_IGNORE_OUTPUT` (and other nbval markers) stand alone on their line: nbval only
  honours a comment line that is exactly the marker, so `# NBVAL_IGNORE_OUTPUT (timings)`
  is silently ignored and the cell's output is compared after all;
- the README links every notebook, its relative links resolve, and the Binder badge opens
  a file that exists.

Each rule is its own test, parametrized per notebook, so a failure names both.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
NAMES = [p.name for p in NOTEBOOK_PATHS]

FILE_NAME = re.compile(r"^(\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
TITLE = re.compile(r"^# (\d\d) · \S.*$")
# [text](target "title"); the text may hold an image, as in a badge: [![alt](img)](target)
LINK = re.compile(r"\[((?:!\[[^\]]*\]\([^)]*\)|[^\[\]])*)\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?")
HREF = re.compile(r"""<(?:a|img)\s[^>]*(?:href|src)=["']([^"']+)["']""", re.I)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CHECK_CALL = re.compile(r"\btk\.(check_\w+)\s*\(")
LOCAL_PATH = re.compile(r"(/work/|/root/|/tmp/|/home/|/Users/)")
ADDRESS = re.compile(r"0x[0-9a-f]{6,}", re.I)
NBVAL_MARKERS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION", "NBVAL_SKIP",
                 "PYTEST_VALIDATE_IGNORE_OUTPUT")
TEXT_MIME = re.compile(r"^(text/.*|application/json|application/javascript|image/svg\+xml)$")


# -- helpers -----------------------------------------------------------------------------
def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def is_hidden(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def links(text: str) -> list[tuple[str, str]]:
    """(text, target) of every markdown link and image, <a href> and <img src> in text."""
    found = [(m.group(1), m.group(2)) for m in LINK.finditer(text)]
    found += [(m.group(1), m.group(2)) for m in IMAGE.finditer(text)]
    found += [("", m.group(1)) for m in HREF.finditer(text)]
    return found


def local_target(target: str) -> str | None:
    """The file path part of a relative link, or None for URLs and in-page anchors."""
    parsed = urllib.parse.urlsplit(target)
    if parsed.scheme or parsed.netloc or target.startswith("#"):
        return None
    return urllib.parse.unquote(parsed.path) or None


def unresolved(text: str, base: Path) -> list[str]:
    bad = []
    for label, target in links(text):
        path = local_target(target)
        if path is not None and not (base / path).exists():
            bad.append(f"[{label}]({target})")
    return bad


def sections(cells: list[dict], heading: str) -> list[int]:
    """Indices of markdown cells with a line starting with `heading`."""
    pattern = re.compile(rf"^{re.escape(heading)}\b", re.M)
    return [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and pattern.search(source(c))]


def section_cells(cells: list[dict], start: int) -> list[tuple[int, dict]]:
    """Cells from `start` up to the next level-2 heading (the nav line is not one)."""
    out = [(start, cells[start])]
    for i in range(start + 1, len(cells)):
        if cells[i]["cell_type"] == "markdown" and re.search(r"^## ", source(cells[i]), re.M):
            break
        out.append((i, cells[i]))
    return out


def output_texts(output: dict) -> list[str]:
    """The textual parts of one stored output (images and other binary data skipped)."""
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
        return ["".join(text) if isinstance(text, list) else text]
    if kind == "error":
        return [output.get("ename", ""), output.get("evalue", ""), "\n".join(output.get("traceback", []))]
    texts = []
    for mime, value in output.get("data", {}).items():
        if TEXT_MIME.match(mime):
            texts.append(value if isinstance(value, str) else json.dumps(value) if not isinstance(value, list)
                         else "".join(value))
    return texts


def neighbours(name: str) -> tuple[str | None, str | None]:
    i = NAMES.index(name)
    return (NAMES[i - 1] if i > 0 else None), (NAMES[i + 1] if i + 1 < len(NAMES) else None)


def nav_problems(cell: dict, name: str, where: str) -> list[str]:
    if cell["cell_type"] != "markdown":
        return [f"the {where} cell is not markdown, so it has no navigation line"]
    text = source(cell)
    found = links(text)
    prev, nxt = neighbours(name)
    problems = []
    if prev and not any("previous" in label.lower() and local_target(t) == prev for label, t in found):
        problems.append(f"the {where} cell has no '[← Previous: ...]({prev})' link")
    if nxt and not any("next" in label.lower() and local_target(t) == nxt for label, t in found):
        problems.append(f"the {where} cell has no '[Next: ... →]({nxt})' link")
    if not prev and any("previous" in label.lower() for label, _ in found):
        problems.append(f"the {where} cell links a Previous notebook, but {name} is the first")
    if not nxt and any("next" in label.lower() for label, _ in found):
        problems.append(f"the {where} cell links a Next notebook, but {name} is the last")
    problems += [f"the {where} cell's link {b} does not resolve" for b in unresolved(text, NOTEBOOKS)]
    return problems


def nbval_honours(line: str) -> bool:
    """Whether nbval itself reads `line` as a marker (its own parser, when installed)."""
    try:
        from nbval.plugin import find_comment_markers
    except ImportError:  # nbval's rule: a comment line whose text, without '#'s and spaces, is the marker
        stripped = line.strip()
        return stripped.startswith("#") and stripped.lstrip("#").strip() in NBVAL_MARKERS
    return bool(list(find_comment_markers(line)))


notebook = pytest.mark.parametrize("name", NAMES)


# -- the set of notebooks ----------------------------------------------------------------
def test_there_are_notebooks():
    assert NOTEBOOK_PATHS, f"no notebooks in {NOTEBOOKS}: every other check here would pass vacuously"


def test_notebooks_are_numbered_without_gaps():
    numbers = [int(FILE_NAME.match(n).group(1)) for n in NAMES if FILE_NAME.match(n)]
    assert numbers == list(range(len(numbers))), f"numbers {numbers}: expected 00, 01, ... without gaps"


@notebook
def test_file_name_is_numbered_snake_case(name):
    assert FILE_NAME.match(name), f"{name}: notebook files are named NN_snake_case.ipynb"


# -- skeleton ----------------------------------------------------------------------------
@notebook
def test_title_and_learning_goals(name):
    cells = load(NOTEBOOKS / name)["cells"]
    first = cells[0]
    assert first["cell_type"] == "markdown", f"{name}: the first cell must be markdown (the title)"
    text = source(first)
    title = text.strip().splitlines()[0] if text.strip() else ""
    match = TITLE.match(title)
    assert match, f"{name}: the first line should read '# {name[:2]} · Title', not {title!r}"
    assert match.group(1) == name[:2], f"{name}: title number {match.group(1)} != file number {name[:2]}"
    goals = re.search(r"In this notebook you will:?\**:?\s*\n((?:\s*[-*] .+\n?)+)", text)
    assert goals, f"{name}: the first cell needs 'In this notebook you will:' followed by a bullet list"


@notebook
def test_navigation_links_first_and_last_cell(name):
    cells = load(NOTEBOOKS / name)["cells"]
    problems = nav_problems(cells[0], name, "first") + nav_problems(cells[-1], name, "last")
    assert not problems, f"{name}:\n" + "\n".join(problems)


@notebook
def test_relative_links_resolve(name):
    cells = load(NOTEBOOKS / name)["cells"]
    bad = [f"cell {i}: {b}" for i, c in enumerate(cells) if c["cell_type"] == "markdown"
           for b in unresolved(source(c), NOTEBOOKS)]
    assert not bad, f"{name}: links to missing files:\n" + "\n".join(bad)


@notebook
def test_summary(name):
    cells = load(NOTEBOOKS / name)["cells"]
    found = sections(cells, "## Summary")
    assert found, f"{name}: no '## Summary' section"
    text = "\n".join(source(c) for _, c in section_cells(cells, found[-1]))
    assert "In this notebook we" in text, f"{name}: the Summary must say 'In this notebook we:'"


# -- stored outputs ----------------------------------------------------------------------
@notebook
def test_stored_executed_in_order(name):
    cells = [c for c in load(NOTEBOOKS / name)["cells"] if c["cell_type"] == "code" and source(c).strip()]
    counts = [c.get("execution_count") for c in cells]
    missing = [i for i, n in enumerate(counts) if n is None]
    assert not missing, f"{name}: {len(missing)} of {len(cells)} code cells were never run (store it executed)"
    assert counts == sorted(set(counts)), f"{name}: cells were not run top to bottom: {counts}"


@notebook
def test_no_error_outputs_except_raises_exception(name):
    bad = []
    for i, cell in enumerate(load(NOTEBOOKS / name)["cells"]):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error" and "raises-exception" not in tags(cell):
                bad.append(f"cell {i}: {output['ename']}: {output['evalue'][:200]}")
    assert not bad, f"{name}: error outputs in cells not tagged raises-exception:\n" + "\n".join(bad)


@notebook
def test_outputs_hold_no_local_paths_or_addresses(name):
    bad = []
    for i, cell in enumerate(load(NOTEBOOKS / name)["cells"]):
        for output in cell.get("outputs", []):
            for text in output_texts(output):
                text = ANSI.sub("", text)  # tracebacks are colored
                for pattern in (LOCAL_PATH, ADDRESS):
                    for m in pattern.finditer(text):
                        context = text[max(0, m.start() - 60): m.end() + 40].replace("\n", "⏎")
                        bad.append(f"cell {i}: {m.group(0)!r} in ...{context}...")
    assert not bad, f"{name}: stored outputs with local paths or memory addresses:\n" + "\n".join(bad[:20])


@notebook
def test_nbval_markers_stand_alone(name):
    bad = []
    for i, cell in enumerate(load(NOTEBOOKS / name)["cells"]):
        if cell["cell_type"] != "code":
            continue
        for line in source(cell).splitlines():
            if not any(marker in line for marker in NBVAL_MARKERS):
                continue
            if not nbval_honours(line):
                bad.append(f"cell {i}: {line!r}")
    assert not bad, (f"{name}: nbval ignores these marker lines (a marker must be alone on its line, "
                     "e.g. '# NBVAL_IGNORE_OUTPUT', with the explanation on the next line):\n" + "\n".join(bad))


# -- README ------------------------------------------------------------------------------
def readme_text() -> str:
    assert README.is_file(), "README.md is missing"
    return README.read_text(encoding="utf-8")


def test_readme_lists_every_notebook():
    targets = {local_target(t) for _, t in links(readme_text())}
    missing = [n for n in NAMES if f"notebooks/{n}" not in targets]
    assert not missing, f"README.md does not link these notebooks: {missing}"


def test_readme_relative_links_resolve():
    bad = unresolved(readme_text(), ROOT)
    assert not bad, "README.md links to missing files:\n" + "\n".join(bad)


def binder_paths(text: str) -> list[str]:
    """Files the Binder links open (`urlpath=lab/tree/...`, `labpath=...`), repository-relative."""
    paths = []
    for _, target in links(text):
        parsed = urllib.parse.urlsplit(target)
        if "mybinder.org" not in parsed.netloc and "binder" not in parsed.netloc:
            continue
        query = urllib.parse.parse_qs(parsed.query)
        for value in query.get("urlpath", []) + query.get("labpath", []):
            value = urllib.parse.unquote(value)
            value = re.sub(r"^/?(lab/tree|lab/workspaces/[^/]+/tree|tree|notebooks|doc/tree)/", "", value)
            paths.append(value.split("?", 1)[0])
    return paths


def test_readme_binder_badge_opens_an_existing_file():
    text = readme_text()
    paths = binder_paths(text)
    assert paths, "README.md has no Binder link with urlpath=lab/tree/<file> (or labpath=<file>)"
    missing = [p for p in paths if not (ROOT / p).is_file()]
    assert not missing, f"Binder links open files that do not exist: {missing}"
    assert "notebooks/00_start_here.ipynb" in paths, f"the Binder badge should open the start notebook, not {paths}"


# -- the helpers above are tested too (a rule that cannot fail is a defect) ---------------
def test_helpers_catch_what_they_should():
    assert links("[a](b.ipynb) and <a href='c.md'>c</a>") == [("a", "b.ipynb"), ("", "c.md")]
    assert {t for _, t in links("[![alt](img.svg)](https://x.org/y) ![p](p.png)")} == {
        "https://x.org/y", "img.svg", "p.png"}
    assert local_target("https://x.org/a") is None and local_target("#top") is None
    assert local_target("02_x.ipynb#part") == "02_x.ipynb" and local_target("a%20b.md") == "a b.md"
    assert binder_paths("[![b](https://mybinder.org/badge.svg)](https://mybinder.org/v2/gh/o/r/HEAD"
                        "?urlpath=lab%2Ftree%2Fnotebooks%2F00_start_here.ipynb)") == ["notebooks/00_start_here.ipynb"]
    assert ADDRESS.search("<object at 0x7f3a1c2b9d60>") and not ADDRESS.search("0x1f")
    assert LOCAL_PATH.search('File "/tmp/ipykernel_1/123.py"') and not LOCAL_PATH.search("tmp/x")
    assert output_texts({"output_type": "display_data", "data": {"image/png": "a/tmp/b", "text/plain": "x"}}) == ["x"]
    assert nbval_honours("  # NBVAL_IGNORE_OUTPUT") and nbval_honours("#NBVAL_SKIP")
    assert not nbval_honours("# NBVAL_IGNORE_OUTPUT (timings vary)") and not nbval_honours("x = 1  # NBVAL_SKIP")
    assert TITLE.match("# 03 · Queues") and not TITLE.match("# 03 - Queues")
    assert FILE_NAME.match("03_queues.ipynb") and not FILE_NAME.match("3_Queues.ipynb")
