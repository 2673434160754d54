"""Bar charts drawn as SVG on the server: no JavaScript and no chart library.

``bar_chart(...)`` returns markup for one ``<svg role="img">`` named by its ``<title>`` and
described by its ``<desc>``; the page shows the same numbers in a table for screen readers.
Values are escaped; only numbers computed here go into attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 40


def _nice_ceiling(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    while power > value:
        power /= 10
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def bar_chart(chart_id: str, title: str, points: Sequence[tuple[str, float | None]], *, unit: str = "",
              limit: float | None = None, limit_label: str = "", decimals: int = 2) -> Markup:
    """One bar per point (label, value; ``None`` draws no bar), and a dashed line at ``limit`` if given.

    :param chart_id: unique in the page, for the ``aria-labelledby`` ids.
    """
    values = [v for _, v in points if v is not None]
    top = _nice_ceiling(max([*values, limit or 0, 0]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{len(points)} days; highest {max(values, default=0):.{decimals}f} {escape(unit)}'
        + (f"; {escape(limit_label)} {limit:.{decimals}f} {escape(unit)}" if limit is not None else "") + "</desc>",
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{top * fraction:.{decimals}f}</text>')
    for index, (label, value) in enumerate(points):
        x = LEFT + index * slot
        if value is not None and value > 0:
            height = plot_h * value / top
            over = " over" if limit is not None and value > limit else ""
            parts.append(
                f'<rect class="bar{over}" x="{x + slot * 0.15:.1f}" y="{TOP + plot_h - height:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{height:.1f}"><title>{escape(label)}: {value:.{decimals}f} {escape(unit)}</title></rect>'
            )
        if index % max(1, len(points) // 6) == 0 or index == len(points) - 1:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label[5:])}</text>')
    if limit is not None and limit > 0:
        y = TOP + plot_h * (1 - limit / top)
        parts.append(f'<line class="line" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" text-anchor="end">{escape(limit_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
