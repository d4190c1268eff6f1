"""The report's SVG line chart (report/svgplot.py): points land where the axes say."""
import base64
import re

import pytest

from oblivio.report import figures
from oblivio.report.svgplot import line_chart


def _polylines(svg: str) -> list[list[tuple[float, float]]]:
    return [[tuple(map(float, p.split(","))) for p in m.split()]
            for m in re.findall(r'<polyline points="([^"]+)"', svg)]


def test_points_are_scaled_to_the_plot_area():
    # plot area: x from 52 to 400 - 10 = 390, y from 10 (max) to 240 - 36 = 204 (min)
    svg = line_chart({"loss": [(0, 1.0), (5, 0.5), (10, 0.0)]}, xlabel="step", ylabel="loss")
    assert _polylines(svg) == [[(52.0, 10.0), (221.0, 107.0), (390.0, 204.0)]]
    assert ">1<" in svg and ">0<" in svg and ">10<" in svg       # min/max tick labels


def test_a_missing_or_infinite_value_breaks_the_line_and_series_share_the_axes():
    svg = line_chart({"a": [(0, 2.0), (1, None), (2, 4.0), (3, float("nan"))], "b": [(0, 0.0), (3, 4.0)]},
                     xlabel="x", ylabel="y")
    lines = _polylines(svg)
    assert len(lines) == 3                        # a: two single-point runs; b: one line
    assert lines[2] == [(52.0, 204.0), (390.0, 10.0)]
    assert lines[0] == [(52.0, 107.0)]            # y = 2 is half-way between 0 and 4


def test_vline_names_and_escaping():
    svg = line_chart({"<loss>": [(0, 1.0), (4, 3.0)]}, xlabel="a & b", ylabel="y", vline=(2, "selected step 2"))
    assert "&lt;loss&gt;" in svg and "a &amp; b" in svg
    assert 'x1="221.0" x2="221.0"' in svg and "selected step 2" in svg


def test_nothing_finite_is_an_error():
    with pytest.raises(ValueError):
        line_chart({"loss": [(0, None), (1, float("inf"))]}, xlabel="x", ylabel="y")


def test_the_report_training_figure_is_svg_with_every_loss_part():
    rec = {"training": {"history": [{"step": 1, "loss": 2.0, "forget": 1.5, "lr": 1e-3},
                                    {"step": 2, "loss": 1.0, "forget": 0.5, "lr": 1e-3}], "selected_step": 2}}
    fig = figures.training(rec)
    assert isinstance(fig, figures.Figure) and fig.src.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(fig.src.split(",", 1)[1]).decode()
    assert len(_polylines(svg)) == 2 and "selected step 2" in svg and ">lr<" not in svg
    assert isinstance(figures.training({"training": {"history": [{"step": 1, "loss": 1.0}]}}), figures.NotAvailable)


def test_the_legend_is_a_column_right_of_the_plot_area():
    """The training chart's legend stood in the plot area's top-left corner, over the loss
    curves' start (where they are highest); it is now right of the frame, and the drawing is
    widened by it, not the plot area narrowed (x from 52 to 390 as above)."""
    svg = line_chart({"loss": [(0, 1.0), (10, 0.0)], "forget_loss": [(0, 0.5), (10, 0.2)]}, xlabel="step",
                     ylabel="loss")
    assert _polylines(svg)[0] == [(52.0, 10.0), (390.0, 204.0)]
    frame = re.search(r'<rect x="(\d+)" y="\d+" width="(\d+)"', svg)
    right = int(frame.group(1)) + int(frame.group(2))
    for name in ("loss", "forget_loss"):
        x = float(re.search(rf'<text x="([\d.]+)" y="[\d.]+">{name}</text>', svg).group(1))
        assert x > right
    width = int(re.search(r'<svg[^>]* width="(\d+)"', svg).group(1))
    assert width >= right + 14 + 18 + 6 * len("forget_loss")    # the longest name fits the drawing
