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


def test_variants_of_a_group_share_its_colour_the_second_lighter():
    pal = figures.group_palette(["client (human)", "client (auto)", "hcp (auto)"])
    assert pal == {"client (auto)": "#E69F00", "client (human)": "#F1CA73", "hcp (auto)": "#009E73"}
    # #E69F00 mixed 45% with white: E6=230 -> 230+25*0.45=241.25 -> F1; 9F=159 -> 159+96*.45=202.2 -> CA
    assert figures.group_label("client (human)") == "Clients (human)"
    assert figures.split_variant("all (auto)") == ("all", "auto")
    assert figures.split_variant("esw") == ("esw", "")


def test_group_order_is_the_palette_order_and_many_groups_still_get_colours():
    values = ["zeta (auto)", "hcp", "client (human)", "alpha", "client (auto)", "hcp"]
    assert figures.group_order(values) == ["client (auto)", "client (human)", "hcp", "alpha", "zeta (auto)"]
    assert list(figures.group_palette(values)) == figures.group_order(values)
    many = figures.group_palette([f"site{i:02d}" for i in range(60)])  # more than the extra colours
    assert len(many) == 60 and many["site00"] == many["site05"] == "#CC79A7"
