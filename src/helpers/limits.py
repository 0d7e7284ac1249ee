"""Resource limits for untrusted input: YAML documents (alias bombs, size) and zip archives (.qdpx, .docx:
member count, sizes and compression ratio checked before anything is unpacked; members read in bounded steps).

Limits are far above what a real project reaches and far below what exhausts the machine; the
README's "Limits and safety" section states them. Each refusal is one InputError naming the file.
"""

from __future__ import annotations

import zipfile

import yaml

from .errors import InputError

YAML_MAX_BYTES = 10 * 2**20  # a codebook or pipeline.yaml of 10 MB is already a hundred times a large one
YAML_MAX_NODES = 1_000_000  # values after aliases are expanded; an alias bomb reaches billions
# Zip archives (.qdpx, .docx). A real transcript docx unpacks to about 1 MB at ratios up to ~35 (its styles);
# a zip bomb of one repeated byte reaches ratio ~1,000 for a deflated member.
ZIP_MAX_MEMBERS = 20_000  # members of one archive; a Word file has dozens, a large QDA project thousands
ZIP_MAX_MEMBER_BYTES = 64 * 2**20  # one member unpacked (project.qde, a source text, word/document.xml)
ZIP_MAX_READ_BYTES = 64 * 2**20  # all members one reading unpacks from one archive (the text of 100+ long interviews)
ZIP_MAX_TOTAL_BYTES = 4 * 2**30  # every member together, media never unpacked included
ZIP_MAX_RATIO = 100  # unpacked / packed size, of a member and of the whole archive ...
ZIP_RATIO_FLOOR_BYTES = 2**20  # ... once it unpacks to more than this (small members compress oddly)
ZIP_READ_STEP = 2**20  # bytes unpacked per step of a bounded read
ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}  # only these are ever unpacked
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


# ----------------------------------------------------------------------------- zip archives
def member_shown(shown: str, name: str) -> str:
    """FILE!MEMBER as messages name a zip member, on one line whatever the name holds (a character that
    does not print, a line break included, shows as '?')."""
    return f"{shown}!" + "".join(ch if ch.isprintable() else "?" for ch in name)


def _ratio(unpacked: int, packed: int) -> str:
    return f"{unpacked / max(packed, 1):,.0f}:1"


def check_zip(archive: zipfile.ZipFile, shown: str, archive_bytes: int, every_member_read: bool = False) -> None:
    """Refuse an archive whose central directory promises more than the limits allow, before unpacking anything:
    more than ZIP_MAX_MEMBERS members, more than ZIP_MAX_TOTAL_BYTES unpacked in all, or a member (or the whole
    archive of `archive_bytes` bytes) unpacking to more than ZIP_MAX_RATIO times its packed size.

    `every_member_read`: the caller unpacks every member (python-docx's Document() does), so each must also pass
    `check_member` and all together stay within ZIP_MAX_READ_BYTES (ZipReader checks the members it reads).
    One InputError naming the file (and the member)."""
    members = archive.infolist()
    if len(members) > ZIP_MAX_MEMBERS:
        raise InputError(f"{shown}: {len(members):,} members in the zip, over the limit of {ZIP_MAX_MEMBERS:,}; "
                         f"refused (not a document or project this workbench reads)")
    for info in members:
        if info.file_size > ZIP_RATIO_FLOOR_BYTES and info.file_size > ZIP_MAX_RATIO * info.compress_size:
            raise InputError(f"{member_shown(shown, info.filename)}: unpacks to {info.file_size:,} bytes from "
                             f"{info.compress_size:,} (ratio {_ratio(info.file_size, info.compress_size)}, over the "
                             f"limit of {ZIP_MAX_RATIO}:1); refused as a likely zip bomb")
        if every_member_read:
            check_member(info, shown)
    total = sum(info.file_size for info in members)
    limit = ZIP_MAX_READ_BYTES if every_member_read else ZIP_MAX_TOTAL_BYTES
    if total > limit:
        raise InputError(f"{shown}: members unpack to {total:,} bytes in all, over the limit of {limit:,}; refused")
    if total > ZIP_RATIO_FLOOR_BYTES and total > ZIP_MAX_RATIO * archive_bytes:
        raise InputError(f"{shown}: members unpack to {total:,} bytes in all from a file of {archive_bytes:,} "
                         f"(ratio {_ratio(total, archive_bytes)}, over the limit of {ZIP_MAX_RATIO}:1); refused as a "
                         f"likely zip bomb")


def check_member(info: zipfile.ZipInfo, shown: str, limit: int | None = None) -> None:
    """Refuse a member that declares more than `limit` (default ZIP_MAX_MEMBER_BYTES) unpacked bytes or a
    compression method not in ZIP_METHODS."""
    limit = ZIP_MAX_MEMBER_BYTES if limit is None else limit
    where = member_shown(shown, info.filename)
    if info.compress_type not in ZIP_METHODS:
        raise InputError(f"{where}: compression method {info.compress_type} is not read (only "
                         f"{' and '.join(ZIP_METHODS.values())} members); save the file again from its program")
    if info.file_size > limit:
        raise InputError(f"{where}: unpacks to {info.file_size:,} bytes, over the limit of "
                         f"{limit:,} for one member; refused")


def read_at_most(stream, limit: int) -> bytes | None:
    """At most `limit` bytes of a binary stream, read in ZIP_READ_STEP steps; None when it holds more."""
    parts, size = [], 0
    while size <= limit:
        chunk = stream.read(min(ZIP_READ_STEP, limit + 1 - size))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
    return None


class ZipReader:
    """The members of one untrusted archive, read within the limits: the archive checked on opening
    (`check_zip`), each member checked before it is unpacked (`check_member`) and unpacked in bounded steps
    (never more than ZIP_MAX_MEMBER_BYTES + 1 bytes, whatever it declares), all members read together at most
    ZIP_MAX_READ_BYTES. Damage (zipfile.BadZipFile, zlib.error, EOFError) is the caller's to word."""

    def __init__(self, archive: zipfile.ZipFile, shown: str, archive_bytes: int):
        check_zip(archive, shown, archive_bytes)
        self.archive, self.shown, self.unpacked = archive, shown, 0

    def read(self, member: str | zipfile.ZipInfo) -> bytes:
        """The bytes of one member (one InputError naming the file and member when over a limit)."""
        info = member if isinstance(member, zipfile.ZipInfo) else self.archive.getinfo(member)
        check_member(info, self.shown)
        where = member_shown(self.shown, info.filename)
        budget = ZIP_MAX_READ_BYTES - self.unpacked
        if info.file_size > budget:
            raise InputError(f"{where}: unpacks to {info.file_size:,} bytes; with the "
                             f"{self.unpacked:,} already read that is over the limit of {ZIP_MAX_READ_BYTES:,} read "
                             f"from one archive; refused")
        limit = min(ZIP_MAX_MEMBER_BYTES, budget)
        with self.archive.open(info) as stream:
            data = read_at_most(stream, limit)
        if data is None:
            raise InputError(f"{where}: unpacks to more than {limit:,} bytes (it declares "
                             f"{info.file_size:,}); refused")
        self.unpacked += len(data)
        return data


def check_no_dtd(data: bytes, shown: str) -> None:
    """Refuse XML that declares a document type or entities (never in a Word part; the means of entity
    expansion, 'billion laughs', and of external entities): `dtd_refused` before it is parsed."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise dtd_refused(shown)


def dtd_refused(shown: str) -> InputError:
    """The one-line refusal of XML with a document type or entity declarations."""
    return InputError(f"{shown}: XML with a document type or entity declarations (<!DOCTYPE / <!ENTITY); "
                      f"refused: a Word document never has them (entity expansion?)")
