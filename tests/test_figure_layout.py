"""Every figure reads at page width: saved size in pixels, legends off the bars, labels that do not
overlap, contrast-checked label text, multi-word terms kept whole, titles recorded in the files."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from PIL import Image  # noqa: E402

from helpers import agreement, codebook, coding, cooccur, corpus, figures  # noqa: E402

GROUPS = ["client"] * 9 + ["esw"] * 5 + ["hcp"] * 11
CODES = [f"code_{i:02d}" for i in range(15)]
LABELS = {c: f"Subtheme number {i} with a longer name" for i, c in enumerate(CODES)}


@pytest.fixture(autouse=True)
def style():
    figures.apply_style()
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def participants() -> pd.DataFrame:
    ids = [f"{g[0].upper()}{i:02d}" for i, g in enumerate(GROUPS)]
    return pd.DataFrame({"participant_id": ids, "group": GROUPS,
                         "collection": ["focus_group" if g == "hcp" else "interview" for g in GROUPS],
                         "transcript_id": [pid if g != "hcp" else "FG1" for pid, g in zip(ids, GROUPS)]})


@pytest.fixture(scope="module")
def turns(participants) -> pd.DataFrame:
    rows = []
    for k, (pid, group, tid) in enumerate(participants[["participant_id", "group", "transcript_id"]].itertuples(index=False)):
        for turn in range(4):
            rows.append({"transcript_id": tid, "turn": 10 * k + 2 * turn, "speaker": "I", "participant_id": "",
                         "role": "interviewer", "group": "", "text": "And how was that for you?"})
            rows.append({"transcript_id": tid, "turn": 10 * k + 2 * turn + 1, "speaker": pid, "participant_id": pid,
                         "role": "participant", "group": group, "text": " ".join(["word"] * (5 + 7 * turn + k))})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    """A co-occurrence table by group of 15 codes over 90 segments (hand-made, deterministic)."""
    rng = np.random.default_rng(3)
    rows = []
    for s in range(90):
        group = ["client", "esw", "hcp"][s % 3]
        for code in rng.choice(CODES, size=3, replace=False):
            rows.append((f"T{s % 6}:{s}", f"P{s % 6}", group, str(code), ""))
    codings = pd.DataFrame(rows, columns=["segment_id", "participant_id", "group", "theme", "subtheme"])
    codings.insert(1, "transcript_id", codings["segment_id"].str.split(":").str[0])
    codings["term"], codings["start"], codings["end"] = "x", 0, 1
    return codings


def saved_size(fig, tmp_path, name="figure") -> tuple[int, int]:
    """Save through figures.save_figure; the PNG's size in pixels. The content must fit the page at
    FIGURE_DPI (not scaled down)."""
    assert figures.page_box(fig)[1] == figures.FIGURE_DPI
    png = figures.save_figure(fig, name, tmp_path)[0]
    with Image.open(png) as image:
        return image.size


def extents(artists) -> list:
    renderer = artists[0].figure.canvas.get_renderer() if artists else None
    return [a.get_window_extent(renderer) for a in artists]


def overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def assert_legend_clear_of_bars(ax):
    fig = ax.figure
    fig.draw_without_rendering()
    legend = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0 and p.get_height() > 0]
    assert bars, "no bars drawn"
    assert not [b for b in extents(bars) if overlaps(legend, b)]


# ----------------------------------------------------------------------------- page width, one place
def test_every_figure_is_saved_at_the_page_width_whatever_it_was_drawn_at(tmp_path):
    sizes = []
    for width in (4.0, figures.FIGURE_WIDTH, 20.0):  # narrow: centred on the page; wide: scaled down to it
        fig, ax = plt.subplots(figsize=(width, 3))
        ax.plot([0, 1], [0, 1])
        ax.set_title(f"drawn {width} in wide")
        sizes.append(Image.open(figures.save_figure(fig, f"w{int(width)}", tmp_path)[0]).size[0])
    assert sizes == [figures.FIGURE_WIDTH_PX] * 3 == [1400] * 3
    assert figures.FIGURE_DPI == 150 and figures.FIGURE_WIDTH == pytest.approx(9.333, abs=1e-3)


def test_the_title_is_recorded_in_png_and_svg_and_read_back(tmp_path):
    fig, ax = plt.subplots()
    ax.set_title("Who mentions\nwhat & <why>")
    png, svg = figures.save_figure(fig, "titled", tmp_path)
    assert figures.figure_title(png) == figures.figure_title(svg) == "Who mentions what & <why>"
    assert "<title>Who mentions what &amp; &lt;why&gt;</title>" in svg.read_text()
    fig2 = plt.figure()
    fig2.suptitle("The suptitle wins")
    fig2.add_subplot().set_title("panel")
    assert figures.figure_title(figures.save_figure(fig2, "sup", tmp_path)[0]) == "The suptitle wins"
    untitled = figures.save_figure(plt.figure(), "untitled", tmp_path)[0]
    assert figures.figure_title(untitled) == ""
    (tmp_path / "broken.png").write_bytes(b"not a png")
    assert figures.figure_title(tmp_path / "broken.png") == ""


def test_human_labels():
    assert figures.human_label("focus_group") == "Focus group"
    assert figures.human_label("collection") == "Collection"
    assert figures.human_label("group") == "Stakeholder group"
    assert figures.human_label("participant_id") == "Participant"
    assert figures.value_label("group", "esw") == "Employment support workers"
    assert figures.value_label("collection", "focus_group") == "Focus group"


def test_contrast_ratio_follows_wcag():
    assert figures.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert figures.contrast_ratio("#0072B2", "#0072B2") == pytest.approx(1.0)
    assert figures.contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the known AA grey
    worst = min(figures.contrast_ratio(figures.text_colour_for(c), c)
                for c in [f"#{v:02X}{v:02X}{v:02X}" for v in range(256)] + figures.EXTRA_COLOURS + cooccur.THEME_COLOURS)
    assert worst >= figures.MIN_CONTRAST


# ----------------------------------------------------------------------------- corpus figures
def test_participants_chart_legend_outside_no_zero_labels_and_words_for_names(participants, tmp_path):
    fig = corpus.plot_participants(participants)
    ax = fig.axes[0]
    assert_legend_clear_of_bars(ax)
    shown = [t.get_text() for t in ax.texts if t.get_text()]
    assert sorted(shown) == ["11", "5", "9"]  # no "0" on the empty parts
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "Collection"
    assert [t.get_text() for t in legend.get_texts()] == ["Focus group", "Interview"]
    assert ax.get_ylabel() == "Stakeholder group"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Clients", "Employment support workers",
                                                           "Healthcare professionals"]
    width, height = saved_size(fig, tmp_path)
    assert width == 1400 and 300 <= height <= 800


def test_other_corpus_charts_at_page_width_with_legends_off_the_bars(participants, turns, tmp_path):
    words = corpus.plot_words_by_participant(corpus.talk_by_participant(turns, participants))
    assert_legend_clear_of_bars(words.axes[0])
    assert words.axes[0].get_legend().get_title().get_text() == "Stakeholder group"
    share = corpus.plot_interviewer_share(corpus.interviewer_share(turns, participants))
    assert_legend_clear_of_bars(share.axes[0])
    lengths = corpus.plot_turn_lengths(turns, participants)
    assert lengths.axes[0].get_ylabel() == "Stakeholder group"
    for i, (fig, high) in enumerate([(words, 1400), (share, 1000), (lengths, 900)]):
        width, height = saved_size(fig, tmp_path, f"corpus{i}")
        assert width == 1400 and 300 <= height <= high


# ----------------------------------------------------------------------------- coding figures
@pytest.fixture(scope="module")
def prevalence():
    book = codebook.parse_codebook({"themes": [
        {"code": "t", "label": "Theme", "subthemes": [
            {"code": "s1", "label": "Support from healthcare professionals", "keywords": ["physio", "nurse"]},
            {"code": "s2", "label": "Paid work", "keywords": ["job"]}]}]})
    texts = ["the physio and the nurse", "a job", "job job", "physio", "no match here", "a nurse and a job"]
    segs = pd.DataFrame({"segment_id": [f"T:{i}" for i in range(6)], "transcript_id": "T", "turn": range(6),
                         "sentence": 0, "participant_id": ["C1", "C2", "E1", "H1", "H2", "H3"], "role": "participant",
                         "group": ["client", "client", "esw", "hcp", "hcp", "hcp"], "text": texts})
    return coding.prevalence(segs, coding.code_segments(segs, book), book)


def test_prevalence_heatmap_shows_share_and_n_of_n_with_legible_text(prevalence, tmp_path):
    fig = coding.plot_prevalence_heatmap(prevalence)
    ax = fig.axes[0]
    cells = {t.get_text() for t in ax.texts}
    assert "100%\n1 of 1" in cells and "33%\n1 of 3" in cells  # share and n of N in each cell
    assert ax.get_xticklabels()[-1].get_text() == "All\nparticipants\n(N = 6)"  # the all-participants column
    image = ax.images[0]
    for text in ax.texts:
        x, y = text.get_position()
        background = image.cmap(image.norm(image.get_array()[int(round(y)), int(round(x))]))
        assert figures.contrast_ratio(text.get_color(), background) >= figures.MIN_CONTRAST
    assert max(figures.relative_luminance(image.cmap(1.0)), 0) > 0.1  # the map never ends in near-black
    width, height = saved_size(fig, tmp_path)
    assert width == 1400 and 250 <= height <= 800


def test_n_of_n_panels_wrap_at_three_a_row(prevalence, tmp_path):
    many = pd.concat([prevalence.assign(group=prevalence["group"] + f" {k}") for k in range(2)])
    fig = coding.plot_participant_counts(many[~many["group"].str.startswith("all")])
    rows = {round(ax.get_position().y0, 3) for ax in fig.axes if ax.get_visible()}
    assert len(rows) == 2 and sum(ax.get_visible() for ax in fig.axes) == 6
    width, height = saved_size(fig, tmp_path)
    assert width == 1400 and 400 <= height <= 1200


# ----------------------------------------------------------------------------- co-occurrence figures
def test_group_heatmaps_of_many_codes_are_one_per_row_at_page_width(pairs, tmp_path):
    table = cooccur.cooccurrence(pairs, by="group", codes=CODES)
    fig = cooccur.plot_group_heatmaps(table, "group", labels=LABELS)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["Clients", "Employment support workers", "Healthcare professionals"]
    fig.draw_without_rendering()
    lefts = {round(ax.get_position().x0, 2) for ax in panels}
    assert len(lefts) == 1  # one a row: each cell stays readable
    width, height = saved_size(fig, tmp_path)
    assert width == 1400 and height <= 3600  # was 4,216 px wide, shrunk to a third in the report


def test_group_heatmaps_of_few_codes_sit_side_by_side(pairs, tmp_path):
    few = pairs[pairs["theme"].isin(CODES[:4])]
    table = cooccur.cooccurrence(few, by="group", codes=CODES[:4])
    fig = cooccur.plot_group_heatmaps(table, "group")
    fig.draw_without_rendering()
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len({round(ax.get_position().y0, 2) for ax in panels}) == 1 and len(panels) == 3
    width, height = saved_size(fig, tmp_path)
    assert width == 1400 and height <= 900
    single = cooccur.plot_heatmaps(cooccur.cooccurrence(pairs, codes=CODES), labels=LABELS)
    width, height = saved_size(single, tmp_path, "single")
    assert width == 1400 and height <= 2600


def label_texts(ax) -> list:
    return [t for t in ax.texts if t.get_bbox_patch() is not None]


def assert_labels_apart_and_legible(ax):
    texts = label_texts(ax)
    assert texts
    boxes = figures.label_extents(texts)
    assert not len(figures.overlapping_pairs(boxes))
    for text in texts:
        assert figures.contrast_ratio(text.get_color(), text.get_bbox_patch().get_facecolor()) >= figures.MIN_CONTRAST


def test_code_network_labels_do_not_overlap_and_contrast(pairs, tmp_path):
    graph = cooccur.code_network(cooccur.cooccurrence(pairs, codes=CODES), alpha=1.0, labels=LABELS,
                                 themes={c: f"theme{int(c[-2:]) % 4}" for c in CODES})
    fig = cooccur.plot_code_network(graph)
    assert_labels_apart_and_legible(fig.axes[0])
    width, height = saved_size(fig, tmp_path)
    assert width == 1400 and 800 <= height <= 1400


WAITING = ["I was on the waiting list for months, the waiting list at the clinic",
           "the waiting list was long and the pain was bad", "pain clinic waiting list again",
           "back to work after the waiting list", "work and pain and the clinic"] * 3


def test_word_network_keeps_waiting_list_whole_and_labels_apart(tmp_path):
    segments = pd.DataFrame({"segment_id": [f"T:{i}" for i in range(len(WAITING))], "transcript_id": "T",
                             "participant_id": "C1", "group": "client", "text": WAITING})
    codings = pd.DataFrame({"segment_id": segments["segment_id"], "transcript_id": "T", "participant_id": "C1",
                            "group": "client", "theme": "a", "subtheme": "", "term": "x", "start": 0, "end": 1})
    graph = cooccur.word_networks(segments, codings, stopwords={"the", "i", "was", "on", "for", "at", "and", "to",
                                                                  "after", "again", "of"}, min_count=2)["a"]
    assert "waiting list" in graph and "waiting" not in graph and "list" not in graph
    assert graph.nodes["waiting list"]["frequency"] == 15  # 5 times in each of the 3 copies
    fig = cooccur.plot_word_network(graph)
    shown = [t.get_text() for t in label_texts(fig.axes[0])]
    assert "waiting list" in shown and "waiting" not in shown
    assert_labels_apart_and_legible(fig.axes[0])
    assert saved_size(fig, tmp_path)[0] == 1400
    # asked for nothing: the words stay apart
    apart = cooccur.word_networks(segments, codings, stopwords={"the"}, min_count=2, phrases=())["a"]
    assert "waiting" in apart and "waiting list" not in apart


def test_crowded_labels_are_pushed_apart_inside_the_axes():
    fig, ax = plt.subplots(figsize=(figures.FIGURE_WIDTH, 5))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    texts = [ax.text(0.5 + 0.001 * i, 0.5, f"label {i}", ha="center", va="center",
                     bbox={"boxstyle": "round", "fc": "#56B4E9"}) for i in range(25)]
    fig.tight_layout()
    assert len(figures.overlapping_pairs(figures.label_extents(texts))) > 100
    assert figures.repel_labels(ax, texts) == 0
    frame = ax.get_window_extent()
    boxes = figures.label_extents(texts)
    assert (boxes[:, 0] >= frame.x0 - 1).all() and (boxes[:, 2] <= frame.x1 + 1).all()


def test_network_figures_are_byte_identical_run_to_run(pairs, tmp_path):
    table = cooccur.cooccurrence(pairs, codes=CODES)
    files = [figures.save_figure(cooccur.plot_code_network(cooccur.code_network(table, alpha=1.0)), "net", tmp_path / d)
             for d in ("a", "b")]
    assert [p.read_bytes() for p in files[0]] == [p.read_bytes() for p in files[1]]


def test_agreement_plot_at_page_width(tmp_path):
    table = pd.DataFrame({"code": ["a", "b", agreement.POOLED], "kappa": [0.5, 0.8, 0.6], "alpha": [0.5, 0.7, 0.6],
                          "f1": [0.6, 0.9, 0.7]})
    fig = agreement.plot_agreement(table, note="n = 3 segments")
    width, height = saved_size(fig, tmp_path)
    assert width == 1400 and 250 <= height <= 700
