"""Drawing for the HTML report: ARC grids as inline SVG (cells merged into rectangles, readable back from
`data-cells`), captioned figures, the fine-tuning loss curve, the palette and the page's CSS."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from ..io import tasks

PALETTE = ("#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
           "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25")
GRID_PX, MIN_CELL_PX, MAX_CELL_PX = 150, 4, 16  # a grid's longest side is drawn about GRID_PX pixels
LOSS_W, LOSS_H = 180, 44
CSS = "".join(f".c{i}{{fill:{c}}}" for i, c in enumerate(PALETTE)) + """
body{font:13px/1.35 system-ui,sans-serif;margin:12px;background:#fafafa;color:#222}h1{font-size:18px}
h2{font-size:14px;margin:0 0 6px}table{border-collapse:collapse;margin:4px 0 8px}
td,th{padding:1px 8px;border-bottom:1px solid #ddd;text-align:left}.f{display:none}
nav label{display:inline-block;padding:2px 8px;margin:2px;border:1px solid #999;border-radius:10px;cursor:pointer}
.task{background:#fff;border:1px solid #ccc;border-radius:6px;padding:8px;margin:8px 0;
content-visibility:auto;contain-intrinsic-size:auto 420px}
.row{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start;margin:4px 0}
figure{margin:0;display:inline-flex;flex-direction:column;align-items:center;font-size:11px;color:#555}
.pair{display:flex;gap:3px;align-items:center;border:1px dashed #ddd;padding:3px}
svg.g{border:1px solid #888;display:block}svg.g path,svg.g rect{shape-rendering:crispEdges}
svg.g .gl{fill:url(#gl);shape-rendering:auto}.ok{outline:3px solid #2ECC40}.no{outline:3px solid #FF4136}
.b{display:inline-block;padding:0 6px;border-radius:8px;font-size:11px;margin-left:4px;color:#fff;background:#777}
.b.solved{background:#2a9d3a}.b.partial{background:#d08c00}.b.unsolved{background:#c0392b}.b.model{background:#0074D9}
.b.fallback{background:#555}.b.missing{background:#000}.muted{color:#888}.bad{color:#c0392b}
svg.loss{background:#f4f4f4;border:1px solid #ccc}svg.loss polyline{fill:none;stroke:#0074D9;stroke-width:1.5}
"""
GRIDLINES = ('<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs><pattern id="gl" '
             'width="1" height="1" patternUnits="userSpaceOnUse"><path d="M1 0V1H0" fill="none" stroke="#555" '
             'stroke-width="0.06"/></pattern></defs></svg>')


def cell_rectangles(g: np.ndarray) -> list[list[int]]:
    """Cells of a grid merged into [colour, row, col, width, height] rectangles: the runs of one colour in a
    row, each stacked with the identical runs directly below it. They tile the grid exactly."""
    h, w = g.shape
    change = np.ones((h, w), dtype=bool)
    change[:, 1:] = g[:, 1:] != g[:, :-1]
    rows, cols = np.nonzero(change)
    ends = np.where(np.append(rows[1:], -1) == rows, np.append(cols[1:], w), w)
    latest: dict[tuple[int, int, int], list[int]] = {}
    rects: list[list[int]] = []
    for r, c, n, colour in zip(rows.tolist(), cols.tolist(), (ends - cols).tolist(), g[rows, cols].tolist()):
        rect = latest.get((c, n, colour))
        if rect is not None and rect[1] + rect[4] == r:
            rect[4] += 1
        else:
            latest[(c, n, colour)] = rect = [colour, r, c, n, 1]
            rects.append(rect)
    return rects


def grid_svg(grid: np.ndarray, key: str) -> str:
    """One grid as an inline SVG: a background rect of the commonest colour, one path per other colour."""
    g = np.ascontiguousarray(grid, dtype=np.uint8)
    h, w = g.shape
    px = max(MIN_CELL_PX, min(MAX_CELL_PX, GRID_PX // max(h, w)))
    bg = int(np.bincount(g.ravel(), minlength=10).argmax())
    paths: dict[int, list[str]] = {}
    for colour, r, c, n, m in cell_rectangles(g):
        if colour != bg:
            paths.setdefault(colour, []).append(f"M{c} {r}h{n}v{m}h-{n}z")
    shapes = "".join(f'<path class="c{k}" d="{"".join(d)}"/>' for k, d in sorted(paths.items()))
    cells = "/".join(bytes(row).decode() for row in g + 48)
    return (f'<svg class="g" data-grid="{html.escape(key)}" data-cells="{cells}" viewBox="0 0 {w} {h}" '
            f'width="{w * px}" height="{h * px}"><rect class="c{bg}" width="{w}" height="{h}"/>'
            f'{shapes}<rect class="gl" width="{w}" height="{h}"/></svg>')


def figure(value: Any, key: str, caption: str, mark: str = "") -> str:
    """A captioned grid; a value that is not a valid grid is shown as a note saying why."""
    try:
        body = grid_svg(value if isinstance(value, np.ndarray) else tasks.parse_grid(value), key)
    except tasks.GridError as e:
        body = f'<span class="bad">not a grid: {html.escape(str(e))}</span>'
    cls = f' class="{mark}"' if mark else ""
    return f"<figure><div{cls}>{body}</div><figcaption>{html.escape(caption)}</figcaption></figure>"


def loss_svg(losses: Any) -> str:
    """The fine-tuning loss curve as a small polyline (non-finite points left out), with first/last values."""
    losses = losses if isinstance(losses, list) else []
    pts = [(i, float(v)) for i, v in enumerate(losses)
           if type(v) in (int, float) and math.isfinite(v)]
    if len(pts) < 2:
        return '<span class="muted">no loss curve</span>'
    lo = min(v for _, v in pts)
    span = (max(v for _, v in pts) - lo) or 1.0
    coords = " ".join(f"{i * LOSS_W / (len(losses) - 1):.1f},{LOSS_H - 2 - (v - lo) / span * (LOSS_H - 4):.1f}"
                      for i, v in pts)
    return (f'<svg class="loss" data-points="{len(pts)}" viewBox="0 0 {LOSS_W} {LOSS_H}" width="{LOSS_W}" '
            f'height="{LOSS_H}"><polyline points="{coords}"/></svg>'
            f'<span class="muted"> loss {pts[0][1]:.4g} &rarr; {pts[-1][1]:.4g} (min {lo:.4g})</span>')
