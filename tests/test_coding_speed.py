"""The fast paths of coding (issue 17): the keyword matcher on integer token codes, patterns searched
only around their anchors, long texts tokenised piece by piece, all checked against simple reference
implementations written here; and one huge segment coded in memory bounded by its size."""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from helpers import codebook, coding, text

from conftest import ROOT


# ----------------------------------------------------------------------------- keyword matcher
def words_table(rules: dict[int, str]) -> pd.DataFrame:
    """A codebook word table for keyword rules written as in a codebook ({rule_id: "pain clinic*"})."""
    rows = []
    for rule_id, keyword in rules.items():
        parts, problem = codebook.keyword_words(keyword)
        assert problem is None, problem
        rows += [(rule_id, pos, mode, stem) for pos, (mode, stem) in enumerate(parts)]
    return pd.DataFrame(rows, columns=codebook.WORD_COLUMNS)


def reference_matches(tokens: pd.DataFrame, words: pd.DataFrame) -> list[tuple[int, int, int, int]]:
    """(row, rule_id, start, end) of every keyword match, by trying every rule at every token."""
    test = {"exact": str.__eq__, "prefix": str.startswith, "suffix": str.endswith,
            "infix": lambda token, stem: stem in token}
    found = []
    for row, part in tokens.groupby("row", sort=True):
        toks = part["token"].astype(str).tolist()
        starts, ends = part["start"].tolist(), part["end"].tolist()
        for rule_id, rule in words.groupby("rule_id"):
            phrase = list(zip(rule.sort_values("position")["mode"], rule.sort_values("position")["stem"]))
            for i in range(len(toks) - len(phrase) + 1):
                if all(test[mode](toks[i + k], stem) for k, (mode, stem) in enumerate(phrase)):
                    found.append((int(row), int(rule_id), starts[i], ends[i + len(phrase) - 1]))
    return sorted(found)


def fast_matches(tokens: pd.DataFrame, words: pd.DataFrame) -> list[tuple[int, int, int, int]]:
    return sorted(map(tuple, coding.match_keywords(tokens, words).to_numpy().tolist()))


HAND_MADE = ["My PAIN Clinic nurse said the pain pain pain was back [laughs] pain again.",
             "Painkillers, pain-free days and back-pain; a pain clinician.",
             "back", "pain clinic"]
HAND_RULES = {0: "pain pain", 1: "pain clinic*", 2: "*killers", 3: "back pain", 4: "*pain*", 5: "pain",
              7: "a pain", 9: "back"}


def test_the_matcher_finds_exactly_the_hand_counted_matches():
    tokens = text.tokenize_series(pd.Series(HAND_MADE))
    got = fast_matches(tokens, words_table(HAND_RULES))
    expected = {  # rule: (row, start, the words matched)
        0: [(0, 30, "pain pain"), (0, 35, "pain pain")],  # overlapping matches of one phrase
        # case does not matter; a wildcard at the end of a phrase
        1: [(0, 3, "PAIN Clinic"), (1, 45, "pain clinician"), (3, 0, "pain clinic")],
        2: [(1, 0, "Painkillers")],  # a wildcard at the start
        # across a transcription note; 'back-pain' is one token; nothing across two rows ('back' | 'pain clinic')
        3: [(0, 49, "back [laughs] pain")],
        4: [(0, 3, "PAIN"), (0, 30, "pain"), (0, 35, "pain"), (0, 40, "pain"), (0, 63, "pain"), (1, 0, "Painkillers"),
            (1, 13, "pain-free"), (1, 32, "back-pain"), (1, 45, "pain"), (3, 0, "pain")],
        5: [(0, 3, "PAIN"), (0, 30, "pain"), (0, 35, "pain"), (0, 40, "pain"), (0, 63, "pain"), (1, 45, "pain"),
            (3, 0, "pain")],
        7: [(1, 43, "a pain")],
        9: [(0, 49, "back"), (2, 0, "back")],
    }
    assert all(HAND_MADE[row][a:a + len(words)] == words for spans in expected.values() for row, a, words in spans)
    assert got == sorted((row, rule, a, a + len(words)) for rule, spans in expected.items() for row, a, words in spans)
    assert got == reference_matches(tokens, words_table(HAND_RULES))


def test_the_matcher_equals_the_reference_on_random_texts_and_rules():
    rng = np.random.default_rng(7)
    vocab = ["pain", "painful", "back", "backache", "work", "worker", "at", "a", "the", "clinic", "nurse", "ok"]
    texts = [" ".join(rng.choice(vocab, size=int(rng.integers(0, 12)))) + rng.choice(["", " [laughs]", "."])
             for _ in range(60)]
    tokens = text.tokenize_series(pd.Series(texts))
    for trial in range(20):
        rules = {}
        for rule_id in range(12):
            picked = rng.choice(vocab, size=int(rng.integers(1, 4)))
            rules[rule_id * 2] = " ".join(w if rng.random() < 0.6 else rng.choice(["*", ""]) + w[:3] + "*"
                                          for w in picked)
        words = words_table(rules)
        assert fast_matches(tokens, words) == reference_matches(tokens, words), (trial, rules)


def test_no_tokens_or_no_words_give_an_empty_match_table():
    tokens = text.tokenize_series(pd.Series(["pain here"]))
    for found in (coding.match_keywords(tokens.iloc[:0], words_table({0: "pain"})),
                  coding.match_keywords(tokens, words_table({0: "pain"}).iloc[:0])):
        assert found.columns.tolist() == ["row", "rule_id", "start", "end"] and found.empty


# ----------------------------------------------------------------------------- patterns in windows
def reference_pattern_matches(texts: list[str], patterns: dict) -> list[tuple[int, int, int, int]]:
    """Every match of every pattern, each text searched whole (notes blanked, apostrophes straight)."""
    searched = coding.pattern_text(pd.Series(texts)).tolist()
    return sorted((row, rule_id, *m.span()) for rule_id, rx in patterns.items()
                  for row, t in enumerate(searched) for m in rx.finditer(t))


PATTERNS = [r"\blet me sit\b", r"\b(?<!the )pain\b(?! clinic)", r"\bcan.t cope\b", r"[a-z]+ing\b",
            r"(?:\w+ ){2}work\b", r"\bsit(?:ting)? down\b", r"\)\s*and", r"\bp\w*n\b", r"let"]
FILLER = ("so we talked about the job [long pause, then laughs] and the hours (pause 2) and how I can’t cope "
          "with sitting down at work, then the pain clinic, the pain, PAIN and the bus and they let me sit down. ")


def test_patterns_searched_in_windows_find_what_a_whole_text_search_finds(monkeypatch):
    # texts longer than LONG_ROW_CHARS are tokenised in pieces and searched around their anchors only:
    # notes that cross a window's edge, lookarounds, unbounded and literal-free patterns, a dotless ı
    monkeypatch.setattr(coding, "LONG_ROW_CHARS", 60)
    texts = [FILLER * 3, "short: I can't cope", FILLER[:150], "sıt down and let me sıt down", "", FILLER * 7]
    patterns = {i: codebook._check_pattern(p)[0] for i, p in enumerate(PATTERNS)}
    got = sorted(map(tuple, coding.match_patterns(pd.Series(texts), patterns).to_numpy().tolist()))
    assert got == reference_pattern_matches(texts, patterns)
    assert (0, 0, 183, 193) in got  # 'let me sit' in the first long text


def test_code_segments_is_the_same_with_long_texts_in_pieces(monkeypatch):
    book = codebook.parse_codebook({"themes": [{"code": "s", "label": "S", "keywords": ["pain", "sit* down", "the job"],
                                                "patterns": PATTERNS[:6], "exclude": ["brain fog"],
                                                "subthemes": [{"code": "t", "label": "T", "keywords": ["bus"],
                                                               "exclude": ["the bus and"]}]}]})
    texts = [FILLER * 4, "the bus", FILLER[:200] + " and brain fog", "no match"]
    segs = pd.DataFrame({"segment_id": [f"S{i}" for i in range(len(texts))], "transcript_id": "T01",
                         "participant_id": "P1", "group": "client", "text": texts})
    whole = coding.code_segments(segs, book)
    monkeypatch.setattr(coding, "LONG_ROW_CHARS", 50)
    pd.testing.assert_frame_equal(coding.code_segments(segs, book), whole)
    # each FILLER: 6 keyword matches (pain x3, sit* down x2, the job) and 7 pattern matches; 'brain fog' keeps
    # the theme off S2; 'the bus and' keeps only the subtheme off S0
    assert whole.groupby(["segment_id", "subtheme"]).size().to_dict() == {("S0", ""): 4 * 13, ("S1", "t"): 1}


def test_pattern_reach_is_the_longest_match_and_what_its_assertions_read():
    reach = {p: coding.pattern_reach(codebook._check_pattern(p)[0])
             for p in (r"\blet me sit\b", r"\b(?<!the )pain\b(?! clinic)", r"\bp\w*n\b", "let")}
    assert reach == {r"\blet me sit\b": 11, r"\b(?<!the )pain\b(?! clinic)": 16, r"\bp\w*n\b": None, "let": 4}


# ----------------------------------------------------------------------------- one huge segment
HUGE_SCRIPT = """
import sys
import pandas as pd
from helpers import codebook, coding
filler = ("so we talked about the job and the hours and how the week went, then about the bus "
          "[laughs] and the manager who was kind to me when it got bad. ")
unit = filler * 50 + "pain, and he let me sit down (long pause 2) when I needed to. "
text = unit * (30 * 2**20 // len(unit))
segs = pd.DataFrame({"segment_id": ["S0"], "transcript_id": ["T01"], "participant_id": ["P1"], "group": ["client"],
                     "text": [text]})
book = codebook.parse_codebook({"themes": [{"code": "s", "label": "S", "keywords": ["pain", "sit*", "he let me"],
                                            "patterns": [r"\\blet me sit\\b", r"\\bwhen I (?:needed|wanted) to\\b"],
                                            "exclude": ["brain fog"]}]})
def status(key):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key)) / 1024
before = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) starts again from here
codings = coding.code_segments(segs, book)
print(len(text) / 2**20, status("VmHWM") - before, codings.groupby("term").size().to_dict())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_one_huge_segment_is_coded_within_three_times_its_size():
    # a 30 MB segment: coding it may hold a copy of its text and pieces of it, never several copies
    proc = subprocess.run([sys.executable, "-c", HUGE_SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    size_mb, extra_mb, per_term = proc.stdout.split(" ", 2)
    units = 30 * 2**20 // (len("so we talked about the job and the hours and how the week went, then about the bus "
                                 "[laughs] and the manager who was kind to me when it got bad. ") * 50
                             + len("pain, and he let me sit down (long pause 2) when I needed to. "))
    assert ast.literal_eval(per_term) == {"pain": units, "sit*": units, "he let me": units, r"\blet me sit\b": units,
                              r"\bwhen I (?:needed|wanted) to\b": units}
    assert float(extra_mb) < 3 * float(size_mb), f"code_segments took {extra_mb} MB more for a {size_mb} MB segment"


def test_keywords_only_codes_what_the_keyword_rules_of_the_full_codebook_code():
    book = codebook.parse_codebook({"themes": [{"code": "s", "label": "S", "keywords": ["pain", "sit* down"],
                                                "patterns": [r"\blet me sit\b"], "exclude": ["brain fog"]}]})
    segs = pd.DataFrame({"segment_id": ["S0", "S1"], "transcript_id": "T01", "participant_id": "P1",
                         "group": "client", "text": [FILLER, "pain and brain fog"]})
    alone = coding.keywords_only(book)
    assert alone.rules["kind"].tolist() == ["keyword", "keyword"] and alone.patterns == {}
    full = coding.code_segments(segs, book)
    keyword_rows = full[full["term"].isin(["pain", "sit* down"])].reset_index(drop=True)
    excluded_row = pd.DataFrame([["S1", "T01", "P1", "client", "s", "", "pain", 0, 4]], columns=full.columns)
    pd.testing.assert_frame_equal(coding.code_segments(segs, alone),
                                  pd.concat([keyword_rows, excluded_row], ignore_index=True).astype(full.dtypes.to_dict()))
