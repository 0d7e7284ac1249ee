"""YAML is read within limits: an alias bomb or an oversized document is one line and exit 2, at once."""

from __future__ import annotations

import pytest

from conftest import run_measured
from helpers import limits
from helpers.errors import InputError


def bomb(levels: int = 9) -> str:
    """A 'billion laughs' document: each level refers nine times to the one before (9**levels values)."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_expanded_nodes_counts_aliases_without_expanding_them():
    import yaml

    node = yaml.compose("a: &x [1, 2]\nb: [*x, *x]\n")
    # mapping 1 + key a 1 + [1, 2] 3 + key b 1 + [*x, *x] 1 + 2 * 3 = 13
    assert limits.expanded_nodes(node) == 13
    assert limits.load_yaml("a: &x [1, 2]\nb: [*x, *x]\n", "t.yaml") == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


def test_a_few_aliases_are_fine_and_a_bomb_is_refused_by_name():
    assert limits.load_yaml(bomb(5), "ok.yaml")["a4"][0][0][0][0] == ["lol"] * 9  # 9**5 = 59,049 values
    with pytest.raises(InputError) as err:
        limits.load_yaml(bomb(9), "bomb.yaml")
    assert err.value.problems == ["bomb.yaml: YAML aliases expand to more than 1,000,000 values (an alias bomb?); "
                                  "write the values out or use fewer aliases"]


def test_an_oversized_document_is_refused_before_parsing():
    with pytest.raises(InputError) as err:
        limits.load_yaml("#" * (limits.YAML_MAX_BYTES + 1), "big.yaml")
    assert err.value.problems == [f"big.yaml: YAML document of {limits.YAML_MAX_BYTES + 1:,} characters is over the "
                                  f"limit of {limits.YAML_MAX_BYTES:,}; is this the right file?"]


@pytest.mark.parametrize("where", ["codebook", "pipeline", "front matter"])
def test_a_bomb_in_a_codebook_pipeline_yaml_or_front_matter_is_one_line_exit_2(tmp_path, where):
    text = bomb(14)
    if where == "codebook":
        (tmp_path / "codebook.yaml").write_text(text)
        proc, peak_mb = run_measured("code", "--corpus", str(tmp_path / "none.csv"), "--codebook", str(tmp_path / "codebook.yaml"),
                       timeout=60)
        shown = tmp_path / "codebook.yaml"
    elif where == "pipeline":
        (tmp_path / "pipeline.yaml").write_text(text)
        proc, peak_mb = run_measured("run", "--config", str(tmp_path / "pipeline.yaml"), timeout=60)
        shown = tmp_path / "pipeline.yaml"
    else:
        folder = tmp_path / "t"
        folder.mkdir()
        (folder / "C01.txt").write_text("---\n" + text + "---\nC01: I was in pain.\n")
        proc, peak_mb = run_measured("ingest", str(folder), timeout=60)
        shown = f"{folder / 'C01.txt'}:1: YAML front matter"
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {shown}: YAML aliases expand to more than 1,000,000 values (an alias bomb?); write the values out "
        "or use fewer aliases"]
    assert peak_mb < 400  # the bomb is never expanded (a starting command takes about 150 MiB)
    assert not (tmp_path / "reports").exists()  # a project's run would write there: nothing was started
