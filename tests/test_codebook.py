"""Codebook loading: compiled rules, and every validation problem with its exact message and key path."""

from __future__ import annotations

import copy

import pytest

from helpers import codebook, paths
from helpers.errors import InputError

GOOD = {
    "codebook": "Test",
    "version": 1,
    "themes": [
        {"code": "situations", "label": "Situations", "keywords": ["GP"],
         "subthemes": [
             {"code": "complex_needs", "label": "Complex needs", "description": "Needs.",
              "keywords": ["anxi*", "*ache", "*fibro*", "good days and bad days", "pain clinic*"],
              "patterns": [r"\bcan.t cope\b"], "exclude": ["pain free"]},
         ]},
        {"code": "outcomes", "label": "Outcomes", "keywords": ["job"]},
    ],
}


def problems(data) -> list[str]:
    """The problems parse_codebook reports for `data` (fails the test if it loads)."""
    with pytest.raises(InputError) as err:
        codebook.parse_codebook(data, "cb.yaml")
    return err.value.problems


def with_change(path: list, value):
    """A deep copy of GOOD with one value replaced (path of keys/indices); value None deletes it."""
    data = copy.deepcopy(GOOD)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


SUB = ["themes", 0, "subthemes", 0]


def test_good_codebook_compiles_codes_rules_and_words():
    book = codebook.parse_codebook(GOOD, "cb.yaml")
    assert book.title == "Test" and book.version == 1
    assert book.themes == ["situations", "outcomes"]
    assert book.subthemes() == ["complex_needs"] and book.subthemes("outcomes") == []
    assert book.codes[["theme", "subtheme", "level"]].values.tolist() == [
        ["situations", "", "theme"], ["situations", "complex_needs", "subtheme"], ["outcomes", "", "theme"]]
    assert book.label("situations", "complex_needs") == "Complex needs"
    assert book.rules[["rule_id", "subtheme", "kind", "term", "n_words"]].values.tolist() == [
        [0, "", "keyword", "GP", 1],
        [1, "complex_needs", "keyword", "anxi*", 1],
        [2, "complex_needs", "keyword", "*ache", 1],
        [3, "complex_needs", "keyword", "*fibro*", 1],
        [4, "complex_needs", "keyword", "good days and bad days", 5],
        [5, "complex_needs", "keyword", "pain clinic*", 2],
        [6, "complex_needs", "pattern", r"\bcan.t cope\b", 0],
        [7, "complex_needs", "exclude", "pain free", 2],
        [8, "", "keyword", "job", 1],
    ]
    assert book.rules.loc[6, "path"] == "themes[0].subthemes[0].patterns[0]"
    words = book.words[book.words["rule_id"].isin([0, 1, 2, 3, 5])]
    assert words[["rule_id", "position", "mode", "stem"]].values.tolist() == [
        [0, 0, "exact", "gp"], [1, 0, "prefix", "anxi"], [2, 0, "suffix", "ache"], [3, 0, "infix", "fibro"],
        [5, 0, "exact", "pain"], [5, 1, "prefix", "clinic"]]
    assert book.patterns[6].search("I CAN'T COPE")  # case-insensitive


def test_keyword_words_normalise_case_and_apostrophes():
    assert codebook.keyword_words("Can’t  Cope") == ([("exact", "can't"), ("exact", "cope")], None)
    assert codebook.keyword_words("flare-up*") == ([("prefix", "flare-up")], None)


CASES = [
    # unknown keys, at every level
    ("unknown top-level key", ["colour"], "red",
     "cb.yaml: colour: unknown key 'colour'; valid keys here: codebook, version, description, themes"),
    ("unknown theme key", ["themes", 1, "keywrods"], ["x"],
     "cb.yaml: themes[1].keywrods: unknown key 'keywrods'; valid keys here: code, label, description, "
     "keywords, patterns, exclude, subthemes"),
    ("unknown subtheme key", SUB + ["subthemes"], [],
     "cb.yaml: themes[0].subthemes[0].subthemes: unknown key 'subthemes'; valid keys here: code, label, "
     "description, keywords, patterns, exclude"),
    # missing fields
    ("missing themes", ["themes"], None, "cb.yaml: (top level): missing required key 'themes'"),
    ("missing theme label", ["themes", 1, "label"], None, "cb.yaml: themes[1]: missing required key 'label'"),
    ("missing subtheme code", SUB + ["code"], None, "cb.yaml: themes[0].subthemes[0]: missing required key 'code'"),
    # wrong types and empty values
    ("empty label", SUB + ["label"], " ", "cb.yaml: themes[0].subthemes[0].label: label must be non-empty text"),
    ("version a list", ["version"], [1], "cb.yaml: version: version must be a number or text"),
    ("themes not a list", ["themes"], {"a": 1},
     "cb.yaml: themes: themes must be a list of themes (each with code, label, …)"),
    ("empty themes", ["themes"], [], "cb.yaml: themes: empty list; add at least one theme"),
    ("theme not a mapping", ["themes", 1], "outcomes",
     "cb.yaml: themes[1]: each theme must be a mapping with code, label, description, rules …"),
    ("subthemes not a list", ["themes", 0, "subthemes"], "complex_needs",
     "cb.yaml: themes[0].subthemes: subthemes must be a list of subthemes"),
    ("keywords not a list", ["themes", 1, "keywords"], "job",
     'cb.yaml: themes[1].keywords: keywords must be a list, e.g. keywords: [anxiety, "depress*"]'),
    ("patterns not a list", SUB + ["patterns"], r"\bx\b",
     "cb.yaml: themes[0].subthemes[0].patterns: patterns must be a list of regular expressions"),
    ("keyword a number", ["themes", 1, "keywords"], ["job", 24],
     "cb.yaml: themes[1].keywords[1]: must be text, got 24; quote it in the YAML"),
    ("blank keyword", ["themes", 1, "keywords"], ["job", "  "], "cb.yaml: themes[1].keywords[1]: empty rule; remove it"),
    # empty rule lists and codes without rules
    ("empty keywords list", ["themes", 1, "keywords"], [],
     "cb.yaml: themes[1].keywords: empty list; add keywords or remove the key"),
    ("empty exclude list", SUB + ["exclude"], [],
     "cb.yaml: themes[0].subthemes[0].exclude: empty list; add exclude or remove the key"),
    ("empty subthemes list", ["themes", 0, "subthemes"], [],
     "cb.yaml: themes[0].subthemes: empty list; add subthemes or remove the key"),
    ("subtheme without rules", SUB, {"code": "complex_needs", "label": "Complex", "exclude": ["x"]},
     "cb.yaml: themes[0].subthemes[0]: no rules; give keywords or patterns"),
    ("theme without rules or subthemes", ["themes", 1], {"code": "outcomes", "label": "Outcomes"},
     "cb.yaml: themes[1]: no rules and no subthemes; give keywords, patterns or subthemes"),
    # code names
    ("invalid code", ["themes", 1, "code"], "Out comes",
     "cb.yaml: themes[1].code: invalid code 'Out comes'; use lower-case letters, digits and _ only (e.g. complex_needs)"),
    ("code not text", ["themes", 1, "code"], 7,
     "cb.yaml: themes[1].code: invalid code 7; use lower-case letters, digits and _ only (e.g. complex_needs)"),
    ("duplicate theme code", ["themes", 1, "code"], "situations",
     "cb.yaml: themes[1].code: duplicate code 'situations'; first used at themes[0].code; codes must be unique"),
    ("subtheme code equal to a theme code", SUB + ["code"], "situations",
     "cb.yaml: themes[0].subthemes[0].code: duplicate code 'situations'; first used at themes[0].code; "
     "codes must be unique"),
    # rules
    ("bad regex", SUB + ["patterns"], [r"\bok\b", "(unclosed"],
     "cb.yaml: themes[0].subthemes[0].patterns[1]: bad regex '(unclosed': missing ), unterminated subpattern "
     "at position 0; fix the regular expression"),
    ("regex matching empty text", SUB + ["patterns"], ["a*"],
     "cb.yaml: themes[0].subthemes[0].patterns[0]: pattern 'a*' matches empty text; make it match at least "
     "one character"),
    ("wildcard inside a word", SUB + ["keywords"], ["anxi*", "wo*rk"],
     "cb.yaml: themes[0].subthemes[0].keywords[1]: wildcard in the middle of a word in 'wo*rk'; '*' may only "
     "start or end a word"),
    ("wildcard inside a phrase word", SUB + ["exclude"], ["pain cl*nic"],
     "cb.yaml: themes[0].subthemes[0].exclude[0]: wildcard in the middle of a word in 'pain cl*nic'; '*' may "
     "only start or end a word"),
    ("lone wildcard", SUB + ["keywords"], ["pain *"],
     "cb.yaml: themes[0].subthemes[0].keywords[0]: 'pain *' has a word that is only '*'; a wildcard needs "
     "letters before or after it"),
    ("keyword that is not a word", ["themes", 1, "keywords"], ["A&E"],
     "cb.yaml: themes[1].keywords[0]: 'A&E' in 'A&E' is not a word (letters, digits, inner ' or -); write it "
     "as a pattern (regular expression) instead"),
    ("keyword that can never be one token", ["themes", 1, "keywords"], ["covid-19"],
     "cb.yaml: themes[1].keywords[0]: 'covid-19' in 'covid-19' can never be one token (letters and digits are "
     "split); write it as a phrase with spaces or as a pattern"),
    ("duplicate keyword ignoring case", ["themes", 1, "keywords"], ["Job", "job"],
     "cb.yaml: themes[1].keywords[1]: duplicate rule 'job' (also at themes[1].keywords[0]); remove one"),
    ("keyword repeated as a pattern", ["themes", 1, "patterns"], ["job"],
     "cb.yaml: themes[1].patterns[0]: duplicate rule 'job' (also at themes[1].keywords[0]); remove one"),
]


@pytest.mark.parametrize("change, value, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_has_its_exact_message(change, value, message):
    assert problems(with_change(change, value)) == [message]


def test_not_a_mapping_and_empty_file():
    assert problems(["themes"]) == ["cb.yaml: (top level): must be a mapping with a 'themes' list (see the codebook section of README.md)"]
    assert problems(None) == ["cb.yaml: (top level): empty codebook; it needs a 'themes' list (see the codebook section of README.md)"]


def test_every_problem_is_reported_at_once():
    data = copy.deepcopy(GOOD)
    data["themes"][0]["subthemes"][0]["patterns"] = ["(bad"]
    data["themes"][0]["subthemes"][0]["keywords"] = ["a*b"]
    data["themes"][1]["code"] = "Bad Code"
    data["extra"] = 1
    found = problems(data)
    assert len(found) == 4
    assert [p.split(": ")[1] for p in found] == [
        "extra", "themes[0].subthemes[0].keywords[0]", "themes[0].subthemes[0].patterns[0]", "themes[1].code"]


def test_file_problems_carry_the_line_number(tmp_path):
    path = tmp_path / "book.yaml"
    path.write_text(
        "codebook: T\n"                              # 1
        "themes:\n"                                  # 2
        "  - code: a\n"                              # 3
        "    label: A\n"                             # 4
        "    subthemes:\n"                           # 5
        "      - code: b\n"                          # 6
        "        label: B\n"                         # 7
        "        keywords: [x]\n"                    # 8
        "        patterns:\n"                        # 9
        "          - 'ok'\n"                         # 10
        "          - '(bad'\n"                       # 11
        "        keywords: [y]\n",                   # 12  (duplicate key)
        encoding="utf-8")
    with pytest.raises(InputError) as err:
        codebook.load_codebook(path)
    shown = paths.relative(path)
    assert err.value.problems == [
        f"{shown}:12: themes[0].subthemes[0].keywords: duplicate key 'keywords'; keep only one",
        f"{shown}:11: themes[0].subthemes[0].patterns[1]: bad regex '(bad': missing ), unterminated subpattern "
        "at position 0; fix the regular expression",
    ]


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "book.yaml"
    path.write_text("themes:\n  - code: a\n    keywords: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        codebook.load_codebook(path)
    (line,) = err.value.problems
    assert line.startswith(f"{paths.relative(path)}:4: not valid YAML (") and line.endswith("; fix the syntax")


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as err:
        codebook.load_codebook(tmp_path / "nope.yaml")
    assert err.value.problems == [f"{paths.relative(tmp_path / 'nope.yaml')}: codebook not found; give the path of "
                                  "a codebook YAML file (e.g. data/codebook.yaml)"]


def test_shipped_codebook_has_four_themes_and_at_least_eight_rules_per_subtheme():
    book = codebook.load_codebook(paths.CODEBOOK)
    assert book.themes == ["situations", "intervention_input", "programme_activities", "outcomes"]
    assert book.subthemes("situations") == ["complex_needs", "relationship_with_work", "support_from_hcps",
                                            "existing_programmes"]
    assert book.subthemes("intervention_input") == ["recruitment", "esw_role"]
    assert book.subthemes("programme_activities") == ["job_search", "work_placements", "mentoring",
                                                      "employer_engagement", "health_work_support"]
    assert book.subthemes("outcomes") == ["paid_work", "confidence", "wellbeing", "managing_pain_at_work"]
    rules = book.rules[book.rules["kind"] != "exclude"].groupby("subtheme").size()
    assert rules.min() >= 8
    subs = book.codes[book.codes["level"] == "subtheme"]
    assert (subs["label"].str.len() > 0).all() and (subs["description"].str.len() > 20).all()
    assert {"keyword", "pattern", "exclude"} <= set(book.rules["kind"])


def test_describe_lists_rules_per_code():
    table = codebook.describe(codebook.parse_codebook(GOOD))
    row = table[table["subtheme"] == "complex_needs"].iloc[0]
    assert (row["n_keywords"], row["n_patterns"], row["n_exclude"]) == (5, 1, 1)
    assert row["keywords"] == "anxi*, *ache, *fibro*, good days and bad days, pain clinic*"
    assert row["exclude"] == "pain free"
    assert table.loc[table["theme"] == "outcomes", "patterns"].iloc[0] == ""
