"""One style, fixed group colours, byte-identical figure files."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import figures  # noqa: E402


def _figure():
    figures.apply_style()
    fig, ax = plt.subplots()
    ax.bar(["client", "esw", "hcp"], [9, 5, 11], color=[figures.GROUP_COLOURS[g] for g in ("client", "esw", "hcp")])
    ax.set_title("t")
    return fig


def test_save_figure_writes_png_and_svg_byte_identical(tmp_path):
    a = figures.save_figure(_figure(), "demo", tmp_path / "a")
    b = figures.save_figure(_figure(), "demo", tmp_path / "b")
    assert [p.name for p in a] == ["demo.png", "demo.svg"]
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes()
    svg = a[1].read_text()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert b"Software" not in a[0].read_bytes()


def test_save_figure_refuses_bad_names(tmp_path):
    with pytest.raises(ValueError, match="figure name"):
        figures.save_figure(_figure(), "../escape", tmp_path)


def test_group_palette_is_fixed_and_colour_blind_safe_order():
    pal = figures.group_palette(["hcp", "client", "other", "esw"])
    assert pal == {"client": "#E69F00", "esw": "#0072B2", "hcp": "#009E73", "other": "#CC79A7"}
    assert figures.group_label("esw") == "Employment support workers"
