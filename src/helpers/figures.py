"""One figure style for every notebook, one colour per stakeholder group, deterministic files.

Every figure reads at page width: figures are drawn FIGURE_WIDTH inches wide (`new_figure`) and
saved FIGURE_WIDTH_PX pixels wide at FIGURE_DPI (`save_figure`: a figure narrower than that is
centred on a white page of that width, a wider one is scaled down to it). Axis titles, legend
titles and category names go through `human_label`; network labels are kept apart by
`repel_labels`, with a text colour picked by contrast (`text_colour_for`, WCAG 2 ratio).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from . import paths
from .run_index import figure_title  # noqa: F401  (reads back the title save_figure records; kept in run_index so the index needs no matplotlib)
from .tables import header_label

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
    "all": "All participants",
    "": "(no group)",
}
GROUP_ORDER = ["client", "esw", "hcp"]
SEQUENTIAL_CMAP = "rocket_r"
# For shares annotated in the cells: light to mid blue-green, never near-black, so a column of high
# shares still shows its differences and every cell's text stays legible (text_colour_for).
SHARE_CMAP_RANGE = ("YlGnBu", 0.04, 0.72)
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
# Page width: every saved PNG is FIGURE_WIDTH_PX wide (a 1400 px report column) at FIGURE_DPI, so
# a 9 pt label is 19 px high in every figure; FIGURE_WIDTH is the width figures are drawn at.
FIGURE_WIDTH_PX = 1400
FIGURE_DPI = 150
FIGURE_WIDTH = FIGURE_WIDTH_PX / FIGURE_DPI  # 9.33 inches
PAGE_PAD = 0.1  # inches of white around the drawn content
MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text
# Column and value names shown in figures where the generic rule (underscores to spaces, first
# letter capital) would not read well.
HUMAN_LABELS = {
    "group": "Stakeholder group",
    "participant_id": "Participant",
    "transcript_id": "Transcript",
    "segment_id": "Segment",
    "n_ab": "Units coded with both",
    "jaccard": "Jaccard",
    "npmi": "NPMI",
}


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


def human_label(name) -> str:
    """A column or value name as words for a figure: 'focus_group' -> 'Focus group',
    'collection' -> 'Collection', 'participant_id' -> 'Participant' (HUMAN_LABELS first)."""
    name = str(name)
    return HUMAN_LABELS.get(name) or header_label(re.sub(r"\s+", " ", name).strip())


def value_label(column: str, value) -> str:
    """A category shown in a figure: a stakeholder group by its name (group_label), others as words."""
    return group_label(value) if column == "group" else human_label(value)


def share_cmap():
    """The colour map for annotated shares (SHARE_CMAP_RANGE: a sequential map cut before its darkest end)."""
    from matplotlib.colors import LinearSegmentedColormap

    name, low, high = SHARE_CMAP_RANGE
    base = plt.get_cmap(name)
    return LinearSegmentedColormap.from_list(f"{name}_light", base(np.linspace(low, high, 256)))


def new_figure(height: float, nrows: int = 1, ncols: int = 1, **kwargs):
    """plt.subplots at the page width (FIGURE_WIDTH inches) and the given height in inches."""
    return plt.subplots(nrows, ncols, figsize=(FIGURE_WIDTH, height), **kwargs)


# ----------------------------------------------------------------------------- contrast
def relative_luminance(colour) -> float:
    """WCAG 2 relative luminance of a colour (any matplotlib colour; alpha ignored)."""
    from matplotlib.colors import to_rgb

    channels = np.asarray(to_rgb(colour), dtype=float)
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(first, second) -> float:
    """WCAG 2 contrast ratio of two colours, from 1 (same) to 21 (black on white)."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def text_colour_for(background) -> str:
    """Black or white, whichever contrasts more with the background (never below 4.58:1)."""
    return "#000000" if contrast_ratio("#000000", background) >= contrast_ratio("#FFFFFF", background) else "#FFFFFF"


# ----------------------------------------------------------------------------- labels that do not overlap
def label_extents(texts, renderer=None) -> np.ndarray:
    """Window extents (x0, y0, x1, y1 in pixels) of text labels, their box included when they have one."""
    if not texts:
        return np.zeros((0, 4))
    fig = texts[0].figure
    renderer = renderer or fig.canvas.get_renderer()
    fig.draw_without_rendering()  # places the labels' boxes
    return np.array([(t.get_bbox_patch() or t).get_window_extent(renderer).extents for t in texts], dtype=float)


def overlapping_pairs(extents: np.ndarray, gap: float = 0.0) -> np.ndarray:
    """Index pairs (i < j) of boxes (x0, y0, x1, y1) that overlap or come closer than `gap`."""
    ox = np.minimum(extents[:, None, 2], extents[None, :, 2]) - np.maximum(extents[:, None, 0], extents[None, :, 0])
    oy = np.minimum(extents[:, None, 3], extents[None, :, 3]) - np.maximum(extents[:, None, 1], extents[None, :, 1])
    hit = np.triu((ox + gap > 0) & (oy + gap > 0), k=1)
    return np.argwhere(hit)


def repel_labels(ax, texts, gap: float = 3.0, max_steps: int = 400, leader_colour: str = "#666666") -> int:
    """Push overlapping labels apart (in pixels, inside the axes) until none overlap; returns the pairs
    still overlapping (0 unless the axes are too crowded). Call it after the layout is final
    (tight_layout): labels keep their data positions. A label moved off its anchor gets a thin line to it.
    Each step moves both labels of an overlapping pair half the overlap apart along the axis where
    they overlap least (after the first quarter of the steps, every other step along the other axis,
    for labels stuck against the frame); steps stop when no pair overlaps (deterministic, no jitter).
    """
    if len(texts) < 2:
        return 0
    boxes = label_extents(texts)
    frame = ax.get_window_extent().extents
    shift = np.zeros((len(texts), 2))
    for step in range(max_steps):
        now = boxes + shift[:, [0, 1, 0, 1]]
        pairs = overlapping_pairs(now, gap)
        if not len(pairs):
            break
        i, j = pairs[:, 0], pairs[:, 1]
        centre = (now[:, :2] + now[:, 2:]) / 2
        ox = np.minimum(now[i, 2], now[j, 2]) - np.maximum(now[i, 0], now[j, 0]) + gap
        oy = np.minimum(now[i, 3], now[j, 3]) - np.maximum(now[i, 1], now[j, 1]) + gap
        along_x = ox < oy
        if step > max_steps // 4 and step % 2:  # stuck against the frame: try the other way round too
            along_x = ~along_x
        axis = np.where(along_x, 0, 1)
        side = np.sign(centre[j, axis] - centre[i, axis])
        side[side == 0] = 1  # same centre: the later label goes right/up
        amount = side * (np.where(along_x, ox, oy) / 2 + 0.5)
        push = np.zeros_like(shift)
        np.add.at(push, (j, axis), amount)
        np.add.at(push, (i, axis), -amount)
        shift += push
        now = boxes + shift[:, [0, 1, 0, 1]]  # keep every label inside the axes
        shift[:, 0] += np.clip(frame[0] - now[:, 0], 0, None) - np.clip(now[:, 2] - frame[2], 0, None)
        shift[:, 1] += np.clip(frame[1] - now[:, 1], 0, None) - np.clip(now[:, 3] - frame[3], 0, None)
    to_data = ax.transData.inverted()
    for text, move in zip(texts, shift):
        anchor = np.asarray(text.get_position(), dtype=float)
        placed = to_data.transform(ax.transData.transform(anchor) + move)
        text.set_position(placed)
        if np.hypot(*move) > 0.6 * max(text.get_fontsize(), 1) * ax.figure.dpi / 72:
            ax.plot([anchor[0], placed[0]], [anchor[1], placed[1]], color=leader_colour, linewidth=0.7,
                    zorder=text.get_zorder() - 0.5)
    return len(overlapping_pairs(label_extents(texts)))


def add_source_note(fig, text: str) -> None:
    """Write a small source note (e.g. 'n = 312 segments from 25 participants') under the figure."""
    fig.text(0.01, -0.02, text, ha="left", va="top", fontsize=8, color="#555555")


def title_of(fig) -> str:
    """The figure's title on one line: its suptitle, else the first axes title ('' when none)."""
    found = fig.get_suptitle() or next((t for ax in fig.axes for t in (ax.get_title("center"), ax.get_title("left"))
                                        if t.strip()), "")
    return " ".join(found.split())


def page_box(fig):
    """(bbox_inches, dpi) that save the figure's drawn content FIGURE_WIDTH_PX pixels wide: at FIGURE_DPI
    centred on a page FIGURE_WIDTH wide (PAGE_PAD above and below), or scaled down when the content is
    wider than that."""
    from matplotlib.transforms import Bbox

    fig.draw_without_rendering()  # runs a constrained layout, as saving will
    content = fig.get_tightbbox(fig.canvas.get_renderer())
    # a quarter pixel more, so that rounding the width down in the renderer still gives FIGURE_WIDTH_PX
    width_px = FIGURE_WIDTH_PX + 0.25
    if content.width * FIGURE_DPI <= width_px:
        width = width_px / FIGURE_DPI
        x0 = content.x0 - (width - content.width) / 2
        return Bbox.from_bounds(x0, content.y0 - PAGE_PAD, width, content.height + 2 * PAGE_PAD), FIGURE_DPI
    content = content.padded(PAGE_PAD)
    return content, width_px / content.width


def save_figure(fig, name: str, folder: str | Path | None = None) -> list[Path]:
    """Save a figure as NAME.png and NAME.svg in figures/, FIGURE_WIDTH_PX wide (page_box), with its title
    (title_of) as the PNG "Title" text and the SVG <title>, and no volatile metadata; return the paths.
    The figure is final once saved: its layout is kept as saved (not recomputed when it is shown)."""
    if not NAME_PATTERN.match(name):
        raise ValueError(f"figure name {name!r}: use lower-case letters, digits, '_' or '-'")
    out = Path(folder) if folder is not None else paths.figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{name}.png", out / f"{name}.svg"
    title = {"Title": title_of(fig)} if title_of(fig) else {}
    shown_dpi = fig.dpi
    try:
        fig.set_dpi(FIGURE_DPI)  # laid out once (page_box), at the resolution the PNG is written at ...
        box, dpi = page_box(fig)
        if fig.get_layout_engine() is not None:  # ... then frozen: writing the PNG and the SVG, and showing
            fig.set_layout_engine("none")  # the figure in the notebook afterwards, do not lay it out again
        fig.savefig(png, format="png", dpi=dpi, bbox_inches=box, metadata={"Software": None, **title})
        fig.savefig(svg, format="svg", dpi=dpi, bbox_inches=box, metadata={"Date": None, "Creator": None, **title})
    finally:
        fig.set_dpi(shown_dpi)
    return [png, svg]
