"""Two small charts drawn as inline SVG: the HTML report stays one self-contained file and
the evals need no plotting library (matplotlib would add ~40 MB for two bar charts)."""

from html import escape

FONT = 'font-family="system-ui, sans-serif" font-size="12"'
COLORS = ("#3b6ea8", "#e0a030")


def grouped_bars(
    rows: dict[str, tuple[float | None, ...]], series: tuple[str, ...], title: str
) -> str:
    """Horizontal bars in [0, 1], one group per row (e.g. routing and success per agent)."""
    label_width, bar_width, bar_height, gap = 110, 360, 9, 8
    group = bar_height * len(series) + gap
    height = 40 + group * len(rows) + 24
    width = label_width + bar_width + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="16" {FONT} font-weight="bold">{escape(title)}</text>',
    ]
    for index, name in enumerate(series):
        x: float = label_width + index * 130
        parts.append(
            f'<rect x="{x}" y="24" width="10" height="10" fill="{COLORS[index % 2]}"/>'
            f'<text x="{x + 14}" y="33" {FONT}>{escape(name)}</text>'
        )
    for tick in (0.0, 0.5, 0.9, 1.0):
        x = label_width + tick * bar_width
        parts.append(
            f'<line x1="{x:.1f}" y1="40" x2="{x:.1f}" y2="{height - 20}" stroke="#ccc"/>'
            f'<text x="{x:.1f}" y="{height - 6}" {FONT} text-anchor="middle">{tick:g}</text>'
        )
    for row, (name, values) in enumerate(rows.items()):
        top = 44 + row * group
        parts.append(
            f'<text x="{label_width - 6}" y="{top + bar_height + 2}" {FONT} '
            f'text-anchor="end">{escape(name)}</text>'
        )
        for index, value in enumerate(values):
            y = top + index * bar_height
            length = (value or 0.0) * bar_width
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{length:.1f}" '
                f'height="{bar_height - 1}" fill="{COLORS[index % 2]}"/>'
            )
            shown = "n/a" if value is None else f"{value:.2f}"
            parts.append(
                f'<text x="{label_width + length + 4:.1f}" y="{y + bar_height - 1}" '
                f'{FONT} font-size="9">{shown}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)


def histogram(values: list[float], title: str, unit: str, bins: int = 20) -> str:
    """Counts of values in equal-width bins."""
    width, height, left, bottom = 520, 220, 40, 30
    if not values:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20"></svg>'
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(int((value - low) / span * bins), bins - 1)] += 1
    tallest = max(counts)
    plot_w, plot_h = width - left - 10, height - bottom - 30
    bar = plot_w / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="16" {FONT} font-weight="bold">{escape(title)}</text>',
    ]
    for index, count in enumerate(counts):
        h = count / tallest * plot_h
        x = left + index * bar
        y = height - bottom - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
            f'fill="{COLORS[0]}"><title>{count}</title></rect>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 10}" {FONT}>{low:.0f} {escape(unit)}</text>'
        f'<text x="{width - 10}" y="{height - 10}" {FONT} text-anchor="end">'
        f"{high:.0f} {escape(unit)}</text>"
        f'<text x="{left - 4}" y="{height - bottom - plot_h + 4:.0f}" {FONT} '
        f'text-anchor="end">{tallest}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
