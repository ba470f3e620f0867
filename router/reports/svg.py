"""Small inline SVG charts for the HTML report and the /reports page: no scripts, no assets."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

Series = tuple[str, Sequence[float | None], str]  # name, values, colour

W, H, PAD_L, PAD_B, PAD_T = 720, 220, 48, 28, 16


def _scale(values: Sequence[float | None]) -> float:
    top = max((v for v in values if v is not None), default=0) or 1
    return float(top)


def chart(
    labels: Sequence[str], bars: Sequence[Series] = (), lines: Sequence[Series] = (), title: str = ""
) -> Markup:
    """Grouped bars on the left axis, lines on their own (right) axis; x labels thinned to fit."""
    n = max(len(labels), 1)
    plot_w, plot_h = W - PAD_L - 48, H - PAD_B - PAD_T
    step = plot_w / n
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" class="chart">']
    out.append(f"<title>{escape(title)}</title>")
    top = _scale([v for _, values, _ in bars for v in values])
    if bars:
        out.append(_axis(top, PAD_L - 4, "end"))
    bar_w = step * 0.8 / max(len(bars), 1)
    for j, (name, values, colour) in enumerate(bars):
        for i, v in enumerate(values):
            if not v:
                continue
            h = plot_h * v / top
            x = PAD_L + i * step + step * 0.1 + j * bar_w
            out.append(
                f'<rect x="{x:.1f}" y="{PAD_T + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(labels[i])} {escape(name)}: {v:g}</title></rect>'
            )
    if lines:
        line_top = _scale([v for _, values, _ in lines for v in values])
        out.append(_axis(line_top, W - 44, "start"))
        for name, values, colour in lines:
            points = [
                f"{PAD_L + (i + 0.5) * step:.1f},{PAD_T + plot_h - plot_h * v / line_top:.1f}"
                for i, v in enumerate(values)
                if v is not None
            ]
            if points:
                out.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2">'
                    f"<title>{escape(name)}</title></polyline>"
                )
    every = max(1, n // 12)
    for i, label in enumerate(labels):
        if i % every == 0:
            x = PAD_L + (i + 0.5) * step
            out.append(
                f'<text x="{x:.1f}" y="{H - 8}" font-size="10" text-anchor="middle">{escape(label)}</text>'
            )
    out.append(
        f'<line x1="{PAD_L}" y1="{PAD_T + plot_h}" x2="{W - 48}" y2="{PAD_T + plot_h}" stroke="#999"/>'
    )
    legend = [(name, colour) for name, _, colour in (*bars, *lines)]
    for k, (name, colour) in enumerate(legend):
        x = PAD_L + k * 170
        out.append(f'<rect x="{x}" y="2" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="11" font-size="11">{escape(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _axis(top: float, x: float, anchor: str) -> str:
    plot_h = H - PAD_B - PAD_T
    marks = []
    for frac in (0, 0.5, 1):
        y = PAD_T + plot_h * (1 - frac)
        marks.append(
            f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="10" text-anchor="{anchor}">'
            f"{_short(top * frac)}</text>"
        )
    return "".join(marks)


def _short(v: float) -> str:
    return f"{v / 1000:.1f}k" if v >= 10000 else f"{v:g}" if v == int(v) else f"{v:.1f}"


def heatmap(grid: Sequence[Sequence[int]], rows: Sequence[str], title: str, colour: str) -> Markup:
    """Rows (weekdays) by 24 hours; darker is more."""
    cell, left, top_pad = 22, 40, 18
    top = max((v for row in grid for v in row), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + 24 * cell + 4} '
        f'{top_pad + len(rows) * cell + 4}" role="img" class="heatmap"><title>{escape(title)}</title>'
    ]
    for hour in range(0, 24, 3):
        out.append(f'<text x="{left + hour * cell + 2}" y="12" font-size="10">{hour:02d}</text>')
    for r, name in enumerate(rows):
        y = top_pad + r * cell
        out.append(f'<text x="2" y="{y + 15}" font-size="11">{escape(name)}</text>')
        for hour, v in enumerate(grid[r]):
            opacity = 0.06 + 0.94 * v / top if v else 0.03
            out.append(
                f'<rect x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{colour}" fill-opacity="{opacity:.2f}">'
                f"<title>{escape(name)} {hour:02d}:00 {v}</title></rect>"
            )
    out.append("</svg>")
    return Markup("".join(out))
