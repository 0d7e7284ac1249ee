"""One figure style for every notebook, one colour per stakeholder group, deterministic files."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns

from . import paths

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
    "": "(no group)",
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


VARIANT = re.compile(r"^(?P<base>.+?) \((?P<variant>[^()]+)\)$")


def split_variant(value) -> tuple[str, str]:
    """'client (human)' -> ('client', 'human'); a plain group value has no variant ('')."""
    m = VARIANT.match(str(value))
    return (m.group("base"), m.group("variant")) if m else (str(value), "")


def _lighter(colour: str, amount: float = 0.45) -> str:
    """The colour mixed with white (for a second variant of the same group)."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * amount):02X}" for c in (r, g, b))


def group_order(groups) -> list[str]:
    """Distinct group values in the project's order: client, esw, hcp, then others sorted; the
    variants of one group ('client', 'client (auto)', 'client (human)') together, in name order."""
    def key(value: str):
        base, variant = split_variant(value)
        return (base not in GROUP_ORDER, GROUP_ORDER.index(base) if base in GROUP_ORDER else 0, base, variant)

    return sorted({str(g) for g in groups}, key=key)


def group_palette(groups) -> dict[str, str]:
    """Colour for each group value (in group_order): the fixed colour for known groups, then a
    stable extra colour. Variants of one group shown side by side ('client (auto)', 'client
    (human)') share the group's colour, the first variant in name order plain and the others lighter.
    """
    extra = itertools.cycle(EXTRA_COLOURS)
    base_colour, palette = {}, {}
    for value in group_order(groups):
        base = split_variant(value)[0]
        if base in base_colour:
            palette[value] = _lighter(base_colour[base])
        else:
            base_colour[base] = palette[value] = GROUP_COLOURS.get(base) or next(extra)
    return palette


def group_label(group: str) -> str:
    """Readable name of a stakeholder group (a variant such as '(human)' is kept)."""
    base, variant = split_variant(group)
    label = GROUP_LABELS.get(base, str(base))
    return f"{label} ({variant})" if variant else label


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
