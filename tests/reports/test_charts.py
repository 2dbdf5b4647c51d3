"""The board report's charts never cut off their titles or labels (issue 14 point 6): checked
on the picture itself, not on the caption Word prints under it.

Two checks, each on what a reader sees:
- every piece of text matplotlib lays out (title, legend, the bars' labels and counts) lies
  wholly inside the figure, measured by matplotlib's own renderer;
- the PNG has a clear margin: a title running off an edge leaves dark pixels on that edge.
And the board report's embedded images are those same PNGs, with clear margins.
"""

import io
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from docx import Document
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.image import imread
from matplotlib.text import Text

from maf.cases.models import Domain, NeedStatement
from maf.extensions import db
from maf.reports import board, charts, figures

# Typed by people, so any length: a long need statement (seed 004's are up to a sentence) and
# a long agency name, each as a bar's label under a long title.
LONG_NEED = (
    "Emotional and behavioural development: the child shows signs of anxiety at school and "
    "at home, and struggles to sleep"
)
LONG_AGENCY = "Leicestershire Partnership NHS Trust Children and Young People's Services"
LONG_TITLE = "Needs identified in CAFs completed in the period (top 10)"
LONGER_TITLE = (
    "Where the CAFs completed in the period came from: the settings of the practitioners "
    "who completed them, most first"
)
LONG_FORUM = "Charnwood and Melton Mowbray multi-agency early help forum (Loughborough)"
MARGIN = 2  # pixels of the PNG's edges that must be background


def meetings(count: int):
    return [
        SimpleNamespace(
            date=date(2026, 1, 5) + (date(2026, 1, 12) - date(2026, 1, 5)) * number,
            forum=f"{LONG_FORUM} {number % 3}",
            new_cases=3,
            new_capacity=10,
            reviews=28,
            review_capacity=30,
        )
        for number in range(count)
    ]


MONTHS = [figures.MonthRow(date(2025 + m // 12, m % 12 + 1, 1), 120, 95, 80) for m in range(24)]
BARS = [(LONG_NEED, 12), ("Housing", 3), (LONG_AGENCY, 5), ("Supercalifragilistic" * 4, 1)]
# Each chart, as the private figure (for the layout) and the public PNG (what is embedded).
CHARTS = {
    "needs": (
        lambda: charts._bars(LONG_TITLE, BARS),
        lambda: charts.bar_chart_png(LONG_TITLE, BARS),
    ),
    "settings, a longer title": (
        lambda: charts._bars(LONGER_TITLE, BARS),
        lambda: charts.bar_chart_png(LONGER_TITLE, BARS),
    ),
    "title of one word": (
        lambda: charts._bars("Needs" * 30, BARS),
        lambda: charts.bar_chart_png("Needs" * 30, BARS),
    ),
    "monthly": (lambda: charts._monthly(MONTHS), lambda: charts.monthly_chart_png(MONTHS)),
    "forum use": (
        lambda: charts._forum_use(meetings(4)),
        lambda: charts.forum_use_chart_png(meetings(4)),
    ),
    "forum use by forum": (
        lambda: charts._forum_use(meetings(20)),
        lambda: charts.forum_use_chart_png(meetings(20)),
    ),
}


def texts_outside(figure) -> list[str]:
    """The texts drawn (wholly or partly) outside the figure, as laid out for the PNG."""
    canvas = FigureCanvasAgg(figure)
    figure.set_dpi(charts.PNG_DPI)
    canvas.draw()  # runs the constrained layout, as savefig does
    renderer = canvas.get_renderer()
    bounds = figure.bbox
    outside = []
    for text in figure.findobj(Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        extent = text.get_window_extent(renderer)
        if (
            extent.x0 < bounds.x0
            or extent.y0 < bounds.y0
            or extent.x1 > bounds.x1
            or extent.y1 > bounds.y1
        ):
            outside.append(text.get_text())
    return outside


def dark_edges(png: bytes) -> list[str]:
    """The edges of the picture with anything but background on them: text cut off there."""
    pixels = imread(io.BytesIO(png))[:, :, :3]
    edges = {
        "top": pixels[:MARGIN],
        "bottom": pixels[-MARGIN:],
        "left": pixels[:, :MARGIN],
        "right": pixels[:, -MARGIN:],
    }
    return [name for name, edge in edges.items() if (edge < 0.9).any()]


@pytest.mark.parametrize("name", CHARTS)
def test_every_title_and_label_lies_inside_the_picture(name):
    figure, _png = CHARTS[name]

    assert texts_outside(figure()) == []


@pytest.mark.parametrize("name", CHARTS)
def test_the_png_has_a_clear_margin_on_every_side(name):
    _figure, png = CHARTS[name]

    assert dark_edges(png()) == []


def test_a_long_title_is_wrapped_whole_not_shortened():
    figure = charts._bars(LONGER_TITLE, BARS)

    title = figure.get_suptitle()
    assert "\n" in title
    assert " ".join(title.split()) == LONGER_TITLE


def test_the_board_reports_embedded_charts_are_whole(coordinator, make_case, need_statements):
    """The images inside the Word report (not the captions under them) are the charts above,
    uncut: the needs chart's long title beside a long need statement ran off the right
    edge."""
    district = coordinator.districts[0]
    long_need = NeedStatement(domain=Domain.DEVELOPMENT, element="Emotional", text=LONG_NEED)
    db.session.add(long_need)
    db.session.commit()
    for number in range(3):
        case = make_case(
            f"Child{number}",
            "Family",
            date(2014, 1, 1 + number),
            needs=[long_need] if number else [long_need, need_statements[0]],
            assessment_completed_on=date(2026, 5, 4),
        )
        case.created_at = datetime(2026, 5, 5, 9, tzinfo=UTC)
    db.session.commit()
    period = board.board_period(district, date(2026, 4, 1), date(2026, 6, 30), coordinator)

    document = Document(io.BytesIO(board.board_report(period)))
    images = [
        document.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed]
        for shape in document.inline_shapes
    ]

    assert len(images) == 3
    needs_png = charts.bar_chart_png(
        f"Needs identified in CAFs completed in the period (top {board.NEEDS_SHOWN})",
        [(LONG_NEED, 3), (need_statements[0].text, 1)],
    )
    assert images[1].blob == needs_png
    for image in images:
        assert image.content_type == "image/png"
        assert dark_edges(image.blob) == []
