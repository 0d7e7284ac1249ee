"""Resource limits for untrusted input: YAML documents (alias bombs, size); more limits join here.

Limits are far above what a real project reaches and far below what exhausts the machine; the
README's "Limits and safety" section states them. Each refusal is one InputError naming the file.
"""

from __future__ import annotations

import yaml

from .errors import InputError

YAML_MAX_BYTES = 10 * 2**20  # a codebook or pipeline.yaml of 10 MB is already a hundred times a large one
YAML_MAX_NODES = 1_000_000  # values after aliases are expanded; an alias bomb reaches billions
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same result, faster


def expanded_nodes(node: yaml.Node, limit: int = YAML_MAX_NODES) -> int:
    """How many nodes the document holds with every alias expanded, counted without expanding.

    Shared nodes (anchors) are counted once per reference via memoisation, so a bomb of a few lines
    is measured in microseconds; counting stops as soon as `limit` is passed."""
    memo: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        memo[key] = 1  # a cycle (recursive alias) counts once instead of recursing for ever
        total = 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k) + size(v)
                if total > limit:
                    break
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                total += size(item)
                if total > limit:
                    break
        memo[key] = min(total, limit + 1)
        return memo[key]

    return size(node)


def compose_yaml(text: str, shown: str, loader_class=YAML_LOADER) -> tuple[yaml.Node | None, object]:
    """Parse YAML text into its node graph and the loader that can construct it, within the limits.

    Raises InputError for a document over YAML_MAX_BYTES or one whose aliases expand past
    YAML_MAX_NODES values; yaml.YAMLError for bad syntax (the caller words that with its line)."""
    if len(text) > YAML_MAX_BYTES:
        raise InputError(f"{shown}: YAML document of {len(text):,} characters is over the limit of "
                         f"{YAML_MAX_BYTES:,}; is this the right file?")
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
    except BaseException:
        loader.dispose()
        raise
    if node is not None and expanded_nodes(node) > YAML_MAX_NODES:
        loader.dispose()
        raise InputError(f"{shown}: YAML aliases expand to more than {YAML_MAX_NODES:,} values "
                         f"(an alias bomb?); write the values out or use fewer aliases")
    return node, loader


def load_yaml(text: str, shown: str, loader_class=YAML_LOADER) -> object:
    """yaml.safe_load within the limits of compose_yaml (None for an empty document)."""
    node, loader = compose_yaml(text, shown, loader_class)
    try:
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
