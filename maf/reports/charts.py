"""Charts of the board's figures: SVG for the reports page, PNG for the Word board report.

Drawn with matplotlib's object API (a `Figure` per chart, never pyplot's global current
figure), so two requests drawing at once cannot draw into each other's chart. The few settings
matplotlib only reads from its global rcParams are set once, at import, and never changed.

The SVG is rewritten so that it needs no CSS: every `style` attribute becomes SVG presentation
attributes and the `<style>` element goes, so the site's Content-Security-Policy (no inline
styles) applies to it unchanged when it is opened on its own.
"""

import io
import textwrap
import xml.etree.ElementTree as ET  # noqa: S405 - parses only the SVG matplotlib just wrote
from datetime import date

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import RendererAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from maf.rules.words import Worded  # noqa: E402

BLUE = "#1d70b8"
BLACK = "#0b0c0c"
GREY = "#505a5f"
LIGHT_GREY = "#b1b4b6"
FONTS = ["Arial", "Liberation Sans", "DejaVu Sans"]

matplotlib.rcParams.update(
    {
        "font.family": "sans-serif",
        "font.sans-serif": FONTS,
        "font.size": 10,
        "text.color": BLACK,
        "axes.edgecolor": GREY,
        "axes.labelcolor": BLACK,
        "xtick.color": BLACK,
        "ytick.color": BLACK,
        # Names typed by people (agencies, need statements) may hold "$"; never read it as maths.
        "text.parse_math": False,
        # Text stays text in the SVG: smaller, selectable, read by screen readers.
        "svg.fonttype": "none",
        # Fixed ids in the SVG, so the same figures always give the same bytes.
        "svg.hashsalt": "maf-reports",
    }
)

MONTHLY_TITLE = Worded("{w.assessments_short} received, completed and closed each month")
FORUM_USE_TITLE = "Places used at each forum meeting"
FORUM_USE_BY_FORUM_TITLE = "Places used at forum meetings, by forum"
MEETINGS_SHOWN = 12
# Inches. Narrow, so that on the page, where the chart fills a two-thirds column, its text is
# about the size of the table's beside it; the board report scales it to its page anyway.
WIDTH = 6.0
PNG_DPI = 200
LABEL_WIDTH = 30  # characters on one line of a bar's label
LABEL_LINES = 3
TITLE_SIZE = 12  # points
TITLE_MARGIN = 0.04  # inches clear of the figure's left and right edges

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)
# The CSS properties matplotlib writes, all of which SVG also takes as attributes.
PRESENTATION_ATTRIBUTES = frozenset(
    {
        "clip-path",
        "fill",
        "fill-opacity",
        "fill-rule",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "opacity",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
        "text-anchor",
    }
)


# --- the charts ----------------------------------------------------------------------------


def _figure(height: float) -> Figure:
    return Figure(figsize=(WIDTH, height), dpi=100, layout="constrained", facecolor="white")


def _plain(ax, *, keep_left: bool = False, keep_bottom: bool = True) -> None:
    """No box, no ticks that carry nothing: only the baseline the bars stand on."""
    for side, spine in ax.spines.items():
        spine.set_visible((side == "left" and keep_left) or (side == "bottom" and keep_bottom))
    ax.tick_params(length=0)


def _title(figure: Figure, title: str) -> None:
    """The title at the figure's top left, over the legend and the bars' labels, in lines
    that fit the figure's width.

    Set on the axes, a left-aligned title started where the axes start, after the bars'
    labels, and a long one (a long need statement beside it) ran off the right edge: cut off
    in the picture, though the report's caption under it was whole (issue 14). Constrained
    layout makes room for a figure's title above everything else, but it never wraps it, so
    the lines are measured here with the font the title is drawn in."""
    font = FontProperties(size=TITLE_SIZE, weight="bold")
    lines = _fitted(title, font, (WIDTH - 2 * TITLE_MARGIN) * 72)
    figure.suptitle(
        "\n".join(lines),
        x=TITLE_MARGIN / WIDTH,
        ha="left",
        fontsize=TITLE_SIZE,
        fontweight="bold",
        color=BLACK,
    )


def _fitted(text: str, font: FontProperties, points: float) -> list[str]:
    """`text` in lines at most `points` wide in `font`, broken between words (inside a word
    only when the word alone is too wide)."""
    measure = RendererAgg(1, 1, 72)  # at 72 dpi a pixel is a point

    def width(line: str) -> float:
        return measure.get_text_width_height_descent(line, font, ismath=False)[0]

    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and width(candidate) <= points:
            lines[-1] = candidate
            continue
        lines.append(word)
        while width(lines[-1]) > points and len(lines[-1]) > 1:
            cut = len(lines[-1]) - 1
            while cut > 1 and width(lines[-1][:cut]) > points:
                cut -= 1
            lines[-1:] = [lines[-1][:cut], lines[-1][cut:]]
    return lines or [""]


def _label(text: str) -> str:
    lines = textwrap.wrap(text, LABEL_WIDTH) or [""]
    if len(lines) > LABEL_LINES:
        lines = lines[:LABEL_LINES]
        lines[-1] = lines[-1][: LABEL_WIDTH - 1].rstrip() + "…"
    return "\n".join(lines)


def _month_labels(months: list[date]) -> list[str]:
    """Every month's name while they fit; past a year, every third or sixth month's."""
    step = 1 if len(months) <= 12 else 3 if len(months) <= 36 else 6
    return [
        ""
        if index % step
        else f"{month:%b}\n{month:%Y}"
        if index < step or month.month <= step
        else f"{month:%b}"
        for index, month in enumerate(months)
    ]


def _monthly(rows) -> Figure:
    figure = _figure(3.8)
    ax = figure.add_subplot()
    series = (
        ("Received", BLUE, [row.started for row in rows]),
        ("Completed", BLACK, [row.completed for row in rows]),
        ("Closed", GREY, [row.closed for row in rows]),
    )
    width = 0.8 / len(series)
    highest = max((max(values, default=0) for _name, _colour, values in series), default=0)
    # Numbers on the bars while they fit above them; otherwise the axis gives the scale.
    labelled = len(rows) <= 6 or (len(rows) <= 12 and highest < 100)
    for index, (name, colour, values) in enumerate(series):
        positions = [x + (index - 1) * width for x in range(len(rows))]
        bars = ax.bar(positions, values, width, label=name, color=colour)
        if labelled:
            ax.bar_label(bars, padding=2, fontsize=8, color=BLACK)
    ax.set_xticks(range(len(rows)), _month_labels([row.month for row in rows]))
    ax.set_ylim(0, max(highest, 1) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if labelled:
        ax.set_yticks([])
    _plain(ax, keep_left=not labelled)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False, borderaxespad=0)
    _title(figure, str(MONTHLY_TITLE))
    return figure


def _bars(title: str, pairs) -> Figure:
    labels = [_label(str(label)) for label, _count in pairs]
    values = [count for _label_text, count in pairs]
    lines = sum(label.count("\n") + 1 for label in labels)
    figure = _figure(1.0 + 0.22 * lines + 0.12 * len(labels))
    ax = figure.add_subplot()
    positions = range(len(labels))
    bars = ax.barh(positions, values, 0.7, color=BLUE)
    ax.bar_label(bars, padding=3, fontsize=9, color=BLACK)
    ax.set_yticks(positions, labels, fontsize=9)
    ax.invert_yaxis()  # the first pair (the largest, usually) at the top
    ax.set_xlim(0, max(max(values, default=0), 1) * 1.12)
    ax.set_xticks([])
    _plain(ax, keep_left=True, keep_bottom=False)
    _title(figure, title)
    return figure


def _forum_use(meetings) -> Figure:
    """One pair of bars per meeting; with more meetings than fit, one pair per forum, adding
    up its meetings."""
    if len(meetings) <= MEETINGS_SHOWN:
        rows = [
            (
                f"{m.date:%-d %b %Y}\n{_label(m.forum)}",
                m.new_cases,
                m.new_capacity,
                m.reviews,
                m.review_capacity,
            )
            for m in meetings
        ]
        title = FORUM_USE_TITLE
    else:
        by_forum: dict[str, list[int]] = {}
        for m in meetings:
            sums = by_forum.setdefault(m.forum, [0, 0, 0, 0, 0])
            for index, value in enumerate(
                (1, m.new_cases, m.new_capacity, m.reviews, m.review_capacity)
            ):
                sums[index] += value
        rows = [
            (f"{_label(forum)}\n{held} meetings", *sums)
            for forum, (held, *sums) in sorted(by_forum.items())
        ]
        title = FORUM_USE_BY_FORUM_TITLE
    lines = sum(row[0].count("\n") + 1 for row in rows)
    figure = _figure(1.3 + 0.2 * lines + 0.25 * len(rows))
    ax = figure.add_subplot()
    height = 0.38
    for offset, (name, colour, used, places) in enumerate(
        (
            ("New cases", BLUE, [row[1] for row in rows], [row[2] for row in rows]),
            ("Reviews", GREY, [row[3] for row in rows], [row[4] for row in rows]),
        )
    ):
        positions = [index + (offset - 0.5) * height for index in range(len(rows))]
        shares = [100 * u / p if p else 0 for u, p in zip(used, places, strict=True)]
        bars = ax.barh(positions, shares, height, color=colour, label=name)
        ax.bar_label(
            bars,
            [f"{u} of {p}" for u, p in zip(used, places, strict=True)],
            padding=3,
            fontsize=8,
            color=BLACK,
        )
    ax.axvline(100, color=LIGHT_GREY, linewidth=1, linestyle="--")
    ax.set_yticks(range(len(rows)), [row[0] for row in rows], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 130)
    ax.set_xticks([0, 50, 100], ["0%", "50%", "100% of places"])
    _plain(ax, keep_left=True)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, frameon=False, borderaxespad=0)
    _title(figure, title)
    return figure


# --- output --------------------------------------------------------------------------------


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _svg(figure: Figure, title: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return without_css(buffer.getvalue(), title)


def without_css(svg: bytes, title: str) -> bytes:
    """The same picture with presentation attributes instead of CSS, no metadata, a <title>,
    and no fixed size, so it fills the width it is given."""
    root = ET.fromstring(svg)  # noqa: S314 - our own matplotlib output
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG}}}style", f"{{{SVG}}}metadata"):
                parent.remove(child)
    # What matplotlib's one CSS rule (*{stroke-linejoin: round; stroke-linecap: butt}) said:
    # both properties are inherited, so on the root they reach every element without its own.
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    for element in root.iter():
        for declaration in element.attrib.pop("style", "").split(";"):
            name, _, value = (part.strip() for part in declaration.partition(":"))
            if not name:
                continue
            if name not in PRESENTATION_ATTRIBUTES:
                raise ValueError(f"SVG property {name!r} has no presentation attribute")
            element.set(name, value)
    for size in ("width", "height"):
        root.attrib.pop(size, None)
    heading = ET.Element(f"{{{SVG}}}title")
    heading.text = title
    root.insert(0, heading)
    root.set("role", "img")
    # Registered again here, not only at import: another library in the process (Radicale,
    # in the tests) may have re-registered the default namespace since.
    ET.register_namespace("", SVG)
    ET.register_namespace("xlink", XLINK)
    text = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n").encode()


def monthly_chart_svg(rows) -> bytes:
    """Grouped bars per month from `figures.monthly_counts` rows."""
    return _svg(_monthly(rows), str(MONTHLY_TITLE))


def monthly_chart_png(rows) -> bytes:
    return _png(_monthly(rows))


def bar_chart_svg(title: str, pairs) -> bytes:
    """Horizontal bars from (label, count) pairs, in the order given, the first at the top."""
    title = str(title)  # a Worded title, in the words in force now
    return _svg(_bars(title, pairs), title)


def bar_chart_png(title: str, pairs) -> bytes:
    return _png(_bars(str(title), pairs))


def forum_use_chart_svg(meetings) -> bytes:
    """Each meeting's new-case and review places used, from `figures.forum_use`; by forum
    when there are more than `MEETINGS_SHOWN` meetings."""
    title = FORUM_USE_TITLE if len(meetings) <= MEETINGS_SHOWN else FORUM_USE_BY_FORUM_TITLE
    return _svg(_forum_use(meetings), title)


def forum_use_chart_png(meetings) -> bytes:
    return _png(_forum_use(meetings))
