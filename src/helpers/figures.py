"""One figure style for every notebook, one colour per stakeholder group, deterministic files."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from . import paths  # noqa: E402

# Okabe-Ito colour-blind-safe palette: one fixed colour per stakeholder group.
GROUP_COLOURS = {
    "client": "#E69F00",
    "esw": "#0072B2",
    "hcp": "#009E73",
    "interviewer": "#999999",
}
EXTRA_COLOURS = ["#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
GROUP_LABELS = {
    "client": "Clients",
    "esw": "Employment support workers",
    "hcp": "Healthcare professionals",
    "interviewer": "Interviewers",
}
GROUP_ORDER = ["client", "esw", "hcp"]
SEQUENTIAL_CMAP = "rocket_r"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def apply_style() -> None:
    """Set the project's seaborn/matplotlib theme (readable at journal size, fixed SVG ids)."""
    sns.set_theme(context="notebook", style="whitegrid", font_scale=1.0)
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.labelsize": 11,
            "legend.frameon": False,
            "svg.hashsalt": "ips-workbench",
            "svg.fonttype": "path",
            "font.family": "DejaVu Sans",
        }
    )


def group_palette(groups) -> dict[str, str]:
    """Colour for each group value: the fixed colour for known groups, then a stable extra colour."""
    palette, extra = {}, iter(EXTRA_COLOURS * 10)
    for g in sorted(set(groups), key=lambda x: (x not in GROUP_ORDER, GROUP_ORDER.index(x) if x in GROUP_ORDER else 0, str(x))):
        palette[g] = GROUP_COLOURS.get(g) or next(extra)
    return palette


def group_label(group: str) -> str:
    """Readable name of a stakeholder group."""
    return GROUP_LABELS.get(group, str(group))


def add_source_note(fig, text: str) -> None:
    """Write a small source note (e.g. 'n = 312 segments from 25 participants') under the figure."""
    fig.text(0.01, -0.02, text, ha="left", va="top", fontsize=8, color="#555555")


def save_figure(fig, name: str, folder: str | Path | None = None) -> list[Path]:
    """Save a figure as NAME.png and NAME.svg in figures/ without volatile metadata; return the paths."""
    if not NAME_PATTERN.match(name):
        raise ValueError(f"figure name {name!r}: use lower-case letters, digits, '_' or '-'")
    out = Path(folder) if folder is not None else paths.figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{name}.png", out / f"{name}.svg"
    fig.savefig(png, format="png", metadata={"Software": None})
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return [png, svg]
