"""The claims ledger (notebooks/claims.md) and the notebooks agree, both ways.

- every row whose evidence is not "documented..." names a notebook ("shown in" starts with
  its number, e.g. "01 §3 ...") holding a code cell tagged `claim:<id>` whose source asserts
  something (an `assert` statement);
- every row whose evidence starts with "documented" names its source (more than the word);
- every `claim:<id>` tag in any notebook is a row of the ledger; ids are unique and
  lowercase-dashed.

The same check runs on generated notebooks, to prove it fails when a tagged cell is
removed, when a tag is not in the ledger, and when the tagged cell asserts nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LEDGER = NOTEBOOKS / "claims.md"
README = ROOT / "README.md"

TAG_PREFIX = "claim:"
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")
ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ASSERTS = re.compile(r"^\s*assert\b", re.M)
COLUMNS = ("people say", "what is true", "evidence", "shown in")


def ledger_rows(text: str) -> dict[str, dict[str, str]]:
    """Ledger rows by id: {id: {column: text}}; duplicate ids raise ValueError."""
    rows = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if not match:
            continue
        cells = [c.strip() for c in match.group(2).split("|")]
        if len(cells) != len(COLUMNS):
            raise ValueError(f"ledger row {match.group(1)!r} has {len(cells)} columns after the id, "
                             f"expected {len(COLUMNS)}: {', '.join(COLUMNS)}")
        if match.group(1) in rows:
            raise ValueError(f"ledger id {match.group(1)!r} appears twice")
        rows[match.group(1)] = dict(zip(COLUMNS, cells))
    return rows


def claim_cells(notebooks: dict[str, dict]) -> dict[str, list[tuple[str, int, str]]]:
    """{id: [(notebook name, cell index, source)]} for every cell tagged claim:<id>."""
    found: dict[str, list] = {}
    for name, nb in notebooks.items():
        for index, cell in enumerate(nb["cells"]):
            for tag in cell.get("metadata", {}).get("tags", []):
                if tag.startswith(TAG_PREFIX):
                    src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                    found.setdefault(tag[len(TAG_PREFIX):], []).append((name, index, src, cell["cell_type"]))
    return found


def ledger_problems(ledger_text: str, notebooks: dict[str, dict]) -> list[str]:
    """Every disagreement between a ledger and notebooks {file name: notebook JSON}."""
    problems = []
    rows = ledger_rows(ledger_text)
    cells = claim_cells(notebooks)
    for claim_id, row in rows.items():
        if not ID.match(claim_id):
            problems.append(f"{claim_id}: ids are lowercase words joined by dashes")
        evidence = row["evidence"]
        if evidence.lower().startswith("documented"):
            if not evidence[len("documented"):].strip(" :;,.-"):
                problems.append(f"{claim_id}: a documented claim names its source")
            continue
        number = row["shown in"][:2]
        home = [n for n in notebooks if n.startswith(number)]
        if not home:
            problems.append(f"{claim_id}: 'shown in' ({row['shown in']!r}) names no notebook")
            continue
        tagged = [c for c in cells.get(claim_id, []) if c[0] == home[0]]
        if not tagged:
            problems.append(f"{claim_id}: no cell in {home[0]} is tagged {TAG_PREFIX}{claim_id}")
        elif not any(kind == "code" and ASSERTS.search(src) for _, _, src, kind in tagged):
            problems.append(f"{claim_id}: the cell tagged {TAG_PREFIX}{claim_id} in {home[0]} asserts nothing")
    for claim_id, where in cells.items():
        if claim_id not in rows:
            places = ", ".join(f"{name} cell {index}" for name, index, _, _ in where)
            problems.append(f"{claim_id}: tagged in {places} but not in the ledger")
    return problems


def load_notebooks(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.ipynb"))}


# -- the real ledger ---------------------------------------------------------------------
def test_ledger_and_notebooks_agree():
    problems = ledger_problems(LEDGER.read_text(encoding="utf-8"), load_notebooks(NOTEBOOKS))
    assert not problems, "\n".join(problems)


def test_every_notebook_demonstrates_at_least_one_claim():
    rows = ledger_rows(LEDGER.read_text(encoding="utf-8"))
    shown = {row["shown in"][:2] for row in rows.values() if not row["evidence"].lower().startswith("documented")}
    numbers = {p.name[:2] for p in NOTEBOOKS.glob("*.ipynb")}
    assert numbers <= shown, f"notebooks without a demonstrated claim: {sorted(numbers - shown)}"


def test_readme_links_the_ledger_as_myths_the_course_corrects():
    text = README.read_text(encoding="utf-8")
    assert re.search(r"\[Myths this course corrects\]\(notebooks/claims\.md\)", text), text[:200]


# -- the check itself, on generated notebooks ---------------------------------------------
GOOD_LEDGER = """
| id | people say | what is true | evidence | shown in |
|---|---|---|---|---|
| `map-cancels-pending` | "map keeps going" | pending tasks are cancelled | 3.11-3.15 | 01 §3 Errors |
| `ft-counter` | "counter += 1 is safe" | loses updates on free-threaded builds | documented: cpython#125646 | 02 §2 |
"""


def generated(tag="claim:map-cancels-pending", source="assert ran == [0, 1, 2]"):
    cell = new_code_cell(source, metadata={"tags": [tag]} if tag else {})
    nb = new_notebook(cells=[new_markdown_cell("# 01 · Pools"), cell, new_code_cell("x = 1")])
    return {"01_pools.ipynb": json.loads(nbformat.writes(nb))}


def test_generated_notebook_and_ledger_agree():
    assert ledger_problems(GOOD_LEDGER, generated()) == []


def test_removing_the_tagged_cell_fails_naming_the_claim(tmp_path):
    notebooks = generated()
    nb = notebooks["01_pools.ipynb"]
    nb["cells"] = [c for c in nb["cells"] if "claim:map-cancels-pending" not in c["metadata"].get("tags", [])]
    (tmp_path / "01_pools.ipynb").write_text(json.dumps(nb))
    (tmp_path / "claims.md").write_text(GOOD_LEDGER)
    problems = ledger_problems((tmp_path / "claims.md").read_text(), load_notebooks(tmp_path))
    assert problems == ["map-cancels-pending: no cell in 01_pools.ipynb is tagged claim:map-cancels-pending"]


def test_a_tag_missing_from_the_ledger_fails():
    problems = ledger_problems(GOOD_LEDGER, generated(tag="claim:made-up"))
    assert "made-up: tagged in 01_pools.ipynb cell 1 but not in the ledger" in problems


def test_a_tagged_cell_that_asserts_nothing_fails():
    problems = ledger_problems(GOOD_LEDGER, generated(source="print('map keeps going')"))
    assert problems == ["map-cancels-pending: the cell tagged claim:map-cancels-pending in 01_pools.ipynb "
                        "asserts nothing"]


@pytest.mark.parametrize(
    "row, message",
    [
        ("| `dup` | a | b | 3.11 | 01 |\n| `dup` | a | b | 3.11 | 01 |", "appears twice"),
        ("| `short` | a | b | 01 |", "expected 4"),
    ],
)
def test_malformed_ledgers_are_refused(row, message):
    with pytest.raises(ValueError, match=message):
        ledger_rows(row)


def test_a_documented_claim_needs_a_source():
    ledger = "| `ft-x` | a | b | documented | 02 |"
    assert ledger_problems(ledger, {}) == ["ft-x: a documented claim names its source"]
