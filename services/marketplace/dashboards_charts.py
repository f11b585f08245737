"""Server-side SVG charts for the admin dashboard: plain bars, no script, no CDN.

Lengths are integer arithmetic on the counts (scaled to the chart's width); labels are escaped.
"""

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR_HEIGHT = 22
LABEL_WIDTH = 260
BAR_WIDTH = 360
VALUE_WIDTH = 90
COLUMN_CHART_HEIGHT = 120


def bar_chart(title: str, bars: Sequence[tuple[str, int]], unit: str = "") -> Markup:
    """One horizontal bar per (label, value); the longest bar is the largest value."""
    largest = max((value for _, value in bars), default=0) or 1
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = BAR_HEIGHT * max(len(bars), 1) + 8
    parts = [
        # width/height as well as viewBox: its natural size, shrunk (never blown up) by the stylesheet.
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for row, (label, value) in enumerate(bars):
        y = row * BAR_HEIGHT + 4
        length = max(value, 0) * BAR_WIDTH // largest
        parts += [
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>",
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT - 6}" fill="#4f46e5"/>',
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 15}" font-size="12">{value}{escape(unit)}</text>',
        ]
    if not bars:
        parts.append(f'<text x="{LABEL_WIDTH}" y="18" font-size="12">no data yet</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)


def column_chart(title: str, columns: Sequence[tuple[str, int]]) -> Markup:
    """One vertical column per (label, value), in order (a time series); labels in the tooltips."""
    largest = max((value for _, value in columns), default=0) or 1
    step = 12
    width, height = max(len(columns) * step + 40, 240), COLUMN_CHART_HEIGHT + 20
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="12" font-size="11">max {largest}</text>',
    ]
    for index, (label, value) in enumerate(columns):
        height = max(value, 0) * COLUMN_CHART_HEIGHT // largest
        x, y = 40 + index * step, COLUMN_CHART_HEIGHT + 16 - height
        parts.append(
            f'<rect x="{x}" y="{y}" width="{step - 2}" height="{height}" fill="#059669">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
    if not columns:
        parts.append('<text x="40" y="40" font-size="12">no data yet</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)
