"""REFI-QDA (QDA-XML 1.0) exchange with NVivo, ATLAS.ti, MAXQDA, QualCoder and other QDA tools.

Import (`import_qdpx`): a `.qdpx` zip (its `project.qde` matched case-insensitively, sources in
`sources/` or `Sources/`) or a bare `.qde` next to its sources folder -> the codings table of
DESIGN.md §2 with a `coder` column. Text sources may be `internal://` files in the zip,
`absolute://` or relative paths outside it, or inline `PlainTextContent`. The turns are the
project's own: its plain-text sources read with the speaker-label rules of text files
(`turns_from_project`), or, when a turns table from `ingest` is given, those turns. Each source
is matched to a transcript (the one read from it, else by name, else by content) and each
`PlainTextSelection` is placed on the turns by character offsets: every turn's text is found in
the source text (verbatim, else ignoring whitespace and curly quotes), so a selection spanning
several turns codes each of them with offsets inside that turn's text. Selections that cannot be
placed are returned in `unplaced` with their source, offsets and reason (a warning per reason,
with counts; placing none at all is an InputError saying why); selections on pictures, PDFs,
audio or video are listed in the warnings and skipped. The code tree (nested `Code` elements, or
`Parent::Child` names) becomes theme / subtheme, matched to the codebook by GUID, code or label.

Export (`export_qdpx`, `export_qdc`): sources as plain-text files (one `Speaker: text` paragraph
per turn), users (one per coder), the code tree with descriptions and colours, cases with the
participant attributes as variables, one `PlainTextSelection` + `Coding` per codings row.
GUIDs are uuid5 of the content and every list is sorted, so the same inputs give a
byte-identical file; importing the export gives back the same codings table.
"""

from __future__ import annotations

import io
import os
import re
import uuid
import warnings
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from . import paths
from .corpus import (PARQUET_SUFFIXES, load_participants, print_warnings, resolve_speakers, sentence_spans,
                     unresolved_turns)
from .errors import InputError
from .limits import ZIP_MAX_MEMBER_BYTES, ZipReader, read_at_most
from .transcripts import IngestWarning, Transcript, emit_warnings, read_text_lines, split_lines, unreadable

NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ips-workbench.invalid/refi-qda")
CODING_COLUMNS = ["segment_id", "transcript_id", "participant_id", "group", "theme", "subtheme",
                  "term", "start", "end", "coder"]
UNPLACED_COLUMNS = ["source", "selection", "start", "end", "code", "coder", "reason"]
AUTO_CODER = "auto"
ORIGIN = "IPS transcript workbench"
MEDIA_SOURCES = {"PictureSource": "picture", "PDFSource": "PDF", "AudioSource": "audio",
                 "VideoSource": "video"}
MEDIA_SELECTIONS = {"PictureSelection", "PDFSelection", "AudioSelection", "VideoSelection",
                    "TranscriptSelection"}
# One colour per theme in the exported code tree (Okabe-Ito, colour-blind safe); subthemes share it.
THEME_COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442", "#999999"]
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
WHITESPACE = np.array([9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028,
                       0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF], dtype=np.uint32)
QUOTE_FOLD = {0x2018: 0x27, 0x2019: 0x27, 0x02BC: 0x27, 0x201C: 0x22, 0x201D: 0x22}
# Extensions a QDA tool keeps in a source's name ('Interview 3.docx'); the transcript id drops them.
DOCUMENT_EXTENSIONS = {".txt", ".text", ".md", ".rtf", ".doc", ".docx", ".odt", ".pdf", ".htm", ".html", ".vtt",
                       ".srt", ".csv"}
NO_TRANSCRIPT = "the source matches no transcript of the corpus (by name or text)"
TURNS_NOT_FOUND = "turns not found in the source"
POSITION = re.compile(r"\s*\+?([0-9]+)\s*")  # a selection's offset as xsd:integer writes a non-negative one
POSITION_MAX = 2**63 - 1  # offsets are held as 64-bit integers
# Offsets of characters inside one source text (at most ZIP_MAX_MEMBER_BYTES long): 32 bits halve the memory
# of placing selections on a long source.
OFFSET = np.int32 if ZIP_MAX_MEMBER_BYTES < 2**31 else np.int64
SQUEEZE_TABLE = {**dict.fromkeys(WHITESPACE.tolist()), **QUOTE_FOLD}  # str.translate: whitespace out, quotes straight
SQUEEZE_STEP = 2**22  # characters of a source squeezed at a time
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ----------------------------------------------------------------------------- small pieces
def guid(*parts: object) -> str:
    """A stable GUID derived from content (uuid5), so repeated exports are byte-identical."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(str(p) for p in parts)))


def code_guid(theme: str, subtheme: str = "") -> str:
    """The GUID the export gives a theme (subtheme "") or subtheme; import recognises it again."""
    return guid("code", theme, subtheme)


def slug(name: str) -> str:
    """A code name as a codebook code: lower case, runs of other characters as '_'."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def _norm_guid(value: str | None) -> str:
    """GUIDs compare without braces and case."""
    return (value or "").strip().strip("{}").lower()


def _local(tag: str) -> str:
    """Element name without its namespace (tools differ in how they qualify names)."""
    return tag.rsplit("}", 1)[-1]


def _children(elem: ET.Element, name: str) -> list[ET.Element]:
    """Direct children with this local name."""
    return [c for c in elem if _local(c.tag) == name]


def _child_text(elem: ET.Element, name: str) -> str:
    """Text of the first direct child with this local name ('' when absent)."""
    found = _children(elem, name)
    return (found[0].text or "") if found else ""


def _clean(text: str) -> str:
    """Text safe inside XML 1.0 (control characters removed)."""
    return XML_INVALID.sub("", str(text))


def _decode(data: bytes) -> str:
    """Source text bytes -> str: UTF-8 (with or without BOM) or UTF-16 with a BOM."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def sort_codings(codings: pd.DataFrame) -> pd.DataFrame:
    """Codings in a canonical order: transcript, turn (numerically), offsets, code, term, coder."""
    if codings.empty:
        return codings.reset_index(drop=True)
    parts = codings["segment_id"].astype(str).str.extract(r":(\d+)(?:\.(\d+))?$")
    key = pd.DataFrame({"t": codings["transcript_id"].astype(str),
                        "turn": pd.to_numeric(parts[0], errors="coerce").fillna(-1).astype(np.int64),
                        "sent": pd.to_numeric(parts[1], errors="coerce").fillna(0).astype(np.int64),
                        "seg": codings["segment_id"].astype(str)})
    for col in ("start", "end", "theme", "subtheme", "term", "coder"):
        if col in codings.columns:
            key[col] = codings[col]
    order = key.sort_values(list(key.columns), kind="stable").index
    return codings.loc[order].reset_index(drop=True)


def empty_codings() -> pd.DataFrame:
    """A codings table with no rows and the right columns and types."""
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in CODING_COLUMNS})
    return df.astype({"start": np.int64, "end": np.int64})


def with_coder(codings: pd.DataFrame, coder: str = AUTO_CODER) -> pd.DataFrame:
    """The codings with a `coder` column (added as `coder` when missing), in CODING_COLUMNS order."""
    out = codings.copy()
    if "coder" not in out.columns:
        out["coder"] = coder
    missing = [c for c in CODING_COLUMNS if c not in out.columns]
    if missing:
        raise InputError(f"codings table lacks column(s) {', '.join(missing)}; "
                         f"expected {', '.join(CODING_COLUMNS[:-1])} (as `python -m helpers code` writes)")
    out = out[CODING_COLUMNS + [c for c in out.columns if c not in CODING_COLUMNS]]
    for col in ("segment_id", "transcript_id", "participant_id", "group", "theme", "subtheme", "term", "coder"):
        out[col] = out[col].fillna("").astype(str)
    return out.astype({"start": np.int64, "end": np.int64})


# ----------------------------------------------------------------------------- reading a project
@dataclass
class QdaProject:
    """What a project.qde says, before it is aligned with a corpus.

    codes      - guid, name, path (code names from the root, `Parent::Child` split), description, color
    sources    - guid, kind (text | picture | PDF | audio | video), name, path, text (None when
                 unreadable), problem
    selections - source (guid), selection (guid), name, start, end, code (guid), coder
    cases      - participant_id (the case name), then one column per variable (text values)
    location is where project.qde is (`FILE.qdpx!project.qde`), file the .qdpx or .qde itself.
    """

    name: str
    description: str
    location: str
    users: dict[str, str]
    codes: pd.DataFrame
    sources: pd.DataFrame
    selections: pd.DataFrame
    cases: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    file: str = ""


class _Container:
    """Access to project.qde and its source files in a .qdpx zip or beside a bare .qde.

    The zip is checked against the limits of helpers.limits before anything is unpacked (member count, sizes,
    compression ratio) and every member or file is read in bounded steps (at most ZIP_MAX_MEMBER_BYTES)."""

    def __init__(self, path: Path):
        self.path = path
        self.shown = paths.relative(path)
        self.zip: zipfile.ZipFile | None = None
        self.reader: ZipReader | None = None
        if not path.is_file():
            raise InputError(f"{self.shown}: file not found; give a .qdpx (or .qde) exported from your QDA tool")
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise unreadable(self.shown, exc) from None
        if zipfile.is_zipfile(path):
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise self._damaged(exc) from None
            self.reader = ZipReader(self.zip, self.shown, path.stat().st_size)
            self.members = {m.lower(): m for m in self.zip.namelist() if not m.endswith("/")}
            qde = sorted((m for m in self.members if PurePosixPath(m).name == "project.qde"),
                         key=lambda m: (m.count("/"), m))
            qde = qde or sorted(m for m in self.members if m.endswith(".qde"))
            if not qde:
                raise InputError(f"{self.shown}: no project.qde inside this zip; "
                                 f"export the project again as REFI-QDA (.qdpx) from your QDA tool")
            self.qde_name = self.members[qde[0]]
        elif path.suffix.lower() == ".qdpx":
            raise InputError(f"{self.shown}: not a zip file; a .qdpx must be the zip your QDA tool exports")
        else:
            self.qde_name = None

    def _damaged(self, exc: Exception) -> InputError:
        return InputError(f"{self.shown}: damaged zip file ({exc}); export the project again as REFI-QDA (.qdpx)")

    def _read(self, member: str) -> bytes:
        """The bytes of a zip member, within the limits; InputError when the zip is damaged."""
        try:
            return self.reader.read(member)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError) as exc:  # damaged, encrypted
            raise self._damaged(exc) from None

    @staticmethod
    def _read_file(path: Path) -> bytes:
        """The bytes of a file outside a zip (a bare .qde, a source beside it), at most ZIP_MAX_MEMBER_BYTES."""
        shown = paths.relative(path)
        try:
            with open(path, "rb") as stream:
                data = read_at_most(stream, ZIP_MAX_MEMBER_BYTES)
        except OSError as exc:
            raise unreadable(shown, exc) from None
        if data is None:
            raise InputError(f"{shown}: larger than {ZIP_MAX_MEMBER_BYTES:,} bytes, the limit for a project file or "
                             f"source text; refused")
        return data

    def project_xml(self) -> bytes:
        """The bytes of project.qde."""
        return self._read(self.qde_name) if self.zip else self._read_file(self.path)

    def internal(self, name: str) -> bytes | None:
        """The bytes of an internal:// source (in sources/ of the zip or the folder beside a .qde)."""
        key = name.replace("\\", "/").lstrip("/").lower()
        if self.zip:
            base = PurePosixPath(self.qde_name).parent.as_posix().lower()
            prefix = "" if base == "." else base + "/"
            for cand in (f"{prefix}sources/{key}", f"sources/{key}", key):
                if cand in self.members:
                    return self._read(self.members[cand])
            hits = sorted(m for m in self.members if m.endswith("/" + key))
            return self._read(self.members[hits[0]]) if hits else None
        for folder in sorted(self.path.parent.iterdir()):
            if folder.is_dir() and folder.name.lower() == "sources":
                for f in sorted(folder.iterdir()):
                    if f.is_file() and f.name.lower() == key:
                        return self._read_file(f)
        return None

    def outside(self, path: str, base_path: str) -> tuple[bytes | None, str]:
        """(bytes, "") of an absolute:// or relative source path, or (None, why not). Only files in the
        folder of the .qdpx (or below it) are read: a project from elsewhere cannot pull other files
        of this computer into the outputs."""
        if path.startswith("absolute://"):
            candidates = [Path(path[len("absolute://"):])]
        else:
            rel = path[len("relative://"):] if path.startswith("relative://") else path
            candidates = [Path(base_path) / rel] if base_path else []
            candidates.append(self.path.parent / rel)
        home = self.path.parent.resolve()
        elsewhere = []
        for cand in candidates:
            if cand.is_file():
                if cand.resolve().is_relative_to(home):
                    return self._read_file(cand), ""
                elsewhere.append(cand)
        if elsewhere:
            return None, (f"plain text file {path} is outside the folder of {paths.relative(self.path)}, so it is "
                          "not read; copy it into that folder (or export the project with its sources inside)")
        return None, f"plain text file {path} not found on this computer"


def _text_of(source: ET.Element, container: _Container, base_path: str) -> tuple[str | None, str, str]:
    """(text, path as written, problem) of a TextSource: inline PlainTextContent or its plainTextPath."""
    inline = _children(source, "PlainTextContent")
    if inline:
        return inline[0].text or "", "(inline PlainTextContent)", ""
    path = source.get("plainTextPath") or ""
    if not path:
        return None, "", "no plain text (only rich text); export the project with plain text included"
    if path.startswith("internal://"):
        data = container.internal(path[len("internal://"):])
        problem = "" if data is not None else f"plain text file {path} not found inside the .qdpx"
    else:
        data, problem = container.outside(path, base_path)
    if data is None:
        return None, path, problem
    try:
        return _decode(data), path, ""
    except UnicodeDecodeError as exc:
        return None, path, f"plain text file {path} is not UTF-8 ({exc.reason} at byte {exc.start})"


def _walk_codes(parent: ET.Element, prefix: list[str], rows: list[dict]) -> None:
    """Flatten nested Code elements; `Parent::Child` names add levels too."""
    for code in _children(parent, "Code"):
        name = (code.get("name") or "").strip()
        parts = prefix + [p.strip() for p in name.split("::") if p.strip()]
        rows.append({"guid": _norm_guid(code.get("guid")), "name": name, "path": tuple(parts),
                     "description": _child_text(code, "Description").strip(), "color": code.get("color") or ""})
        _walk_codes(code, parts, rows)


def _cases(root: ET.Element) -> pd.DataFrame:
    """Cases with their variable values, one row per case (participant_id = case name)."""
    variables = {}
    for block in _children(root, "Variables"):
        for var in _children(block, "Variable"):
            variables[_norm_guid(var.get("guid"))] = var.get("name") or ""
    rows, columns = [], ["participant_id"]
    for block in _children(root, "Cases"):
        for case in _children(block, "Case"):
            row = {"participant_id": (case.get("name") or "").strip()}
            for value in _children(case, "VariableValue"):
                ref = _children(value, "VariableRef")
                name = variables.get(_norm_guid(ref[0].get("targetGUID")) if ref else "", "")
                given = [c for c in value if _local(c.tag) != "VariableRef"]
                if name and given:
                    row[name] = (given[0].text or "").strip()
                    if name not in columns:
                        columns.append(name)
            rows.append(row)
    return pd.DataFrame(rows, columns=columns).fillna("").astype(str) if rows else \
        pd.DataFrame(columns=columns, dtype=str)


def _position(selection: ET.Element, attribute: str, shown: str) -> int:
    """A selection's start or end offset: a non-negative whole number that fits in 64 bits, else one InputError
    naming the file, the member, the selection and the attribute (a position past the source's end is not an
    error here: such a selection is reported as not placed)."""
    value = selection.get(attribute)
    m = POSITION.fullmatch(value or "")
    digits = (m[1].lstrip("0") or "0") if m else ""
    if not digits or len(digits) > len(str(POSITION_MAX)) or int(digits) > POSITION_MAX:
        value = value if value is None or len(value) <= 40 else value[:40] + "…"
        raise InputError(f"{shown}: <{_local(selection.tag)} guid={selection.get('guid')!r}> {attribute}={value!r} "
                         f"is not a character position (a whole number from 0 to {POSITION_MAX:,}); export the "
                         f"project again from your QDA tool")
    return int(digits)


def read_project(path: str | Path) -> QdaProject:
    """Parse a .qdpx (or a bare .qde next to its sources folder) into a QdaProject."""
    container = _Container(paths.resolve(path))
    shown = container.shown if not container.zip else f"{container.shown}!{container.qde_name}"
    try:
        root = ET.fromstring(container.project_xml())
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise InputError(f"{shown}:{line}: not valid XML ({exc.msg if hasattr(exc, 'msg') else exc}); "
                         f"export the project again from your QDA tool") from None
    if _local(root.tag) != "Project":
        raise InputError(f"{shown}: root element is <{_local(root.tag)}>, not <Project>; "
                         f"this is not a REFI-QDA project file")
    users = {_norm_guid(u.get("guid")): (u.get("name") or u.get("id") or "").strip()
             for block in _children(root, "Users") for u in _children(block, "User")}
    default_user = users.get(_norm_guid(root.get("creatingUserGUID")), "")

    def coder(*elems: ET.Element) -> str:
        for e in elems:
            g = _norm_guid(e.get("creatingUser"))
            if g:
                return users.get(g) or g
        return default_user or "unknown"

    code_rows: list[dict] = []
    for book in _children(root, "CodeBook"):
        for codes in _children(book, "Codes"):
            _walk_codes(codes, [], code_rows)
    codes = pd.DataFrame(code_rows, columns=["guid", "name", "path", "description", "color"])

    base_path = root.get("basePath") or ""
    sources, selections, warnings = [], [], []
    for block in _children(root, "Sources"):
        for src in block:
            kind_tag = _local(src.tag)
            sguid, name = _norm_guid(src.get("guid")), (src.get("name") or "").strip()
            if kind_tag in MEDIA_SOURCES:
                kind = MEDIA_SOURCES[kind_tag]
                n = sum(len(_children(sel, "Coding")) for sel in src.iter()
                        if _local(sel.tag) in MEDIA_SELECTIONS | {"PlainTextSelection"})
                n += len(_children(src, "Coding"))
                sources.append({"guid": sguid, "kind": kind, "name": name, "path": src.get("path") or "",
                                "text": None, "problem": f"{kind} source"})
                if n:
                    warnings.append(f"{shown}: skipped {n} coding(s) on {kind} source {name!r}: only text "
                                    f"sources can be placed on transcript turns")
                continue
            if kind_tag != "TextSource":
                continue
            text, where, problem = _text_of(src, container, base_path)
            sources.append({"guid": sguid, "kind": "text", "name": name, "path": where, "text": text,
                            "problem": problem})
            whole = _children(src, "Coding")
            if whole:
                warnings.append(f"{shown}: skipped {len(whole)} coding(s) of the whole source {name!r} "
                                f"(document-level codes are not codes of a passage)")
            for sel in _children(src, "PlainTextSelection"):
                codings = _children(sel, "Coding")
                if codings:
                    start, end = (_position(sel, name, shown) for name in ("startPosition", "endPosition"))
                for coding in codings:
                    ref = _children(coding, "CodeRef")
                    selections.append({"source": sguid, "selection": _norm_guid(sel.get("guid")),
                                       "name": (sel.get("name") or "").strip(), "start": start, "end": end,
                                       "code": _norm_guid(ref[0].get("targetGUID")) if ref else "",
                                       "coder": coder(coding, sel)})
    return QdaProject(
        name=root.get("name") or "", description=_child_text(root, "Description").strip(),
        location=shown, file=container.shown, users=users, codes=codes,
        sources=pd.DataFrame(sources, columns=["guid", "kind", "name", "path", "text", "problem"]),
        selections=pd.DataFrame(selections, columns=["source", "selection", "name", "start", "end", "code", "coder"])
        .astype({"start": np.int64, "end": np.int64}),
        cases=_cases(root), warnings=warnings)


# ----------------------------------------------------------------------------- turns from the project's sources
def _unique(values: list[str], suffix: str) -> list[str]:
    """The values in order, a repeat (compared case-insensitively) given `suffix.format(n)`, n = 2, 3, …"""
    taken, out = set(), []
    for value in values:
        unique, n = value, 2
        while unique.casefold() in taken:
            unique, n = value + suffix.format(n), n + 1
        taken.add(unique.casefold())
        out.append(unique)
    return out


def source_stem(name: str) -> str:
    """A source's name without a document extension ('Interview 3.docx' -> 'Interview 3'; 'source' when empty)."""
    root, ext = os.path.splitext(name.strip())
    return (root if ext.lower() in DOCUMENT_EXTENSIONS else name).strip() or "source"


def source_names(project: QdaProject) -> dict[str, str]:
    """guid -> how each text source is named in messages and in the turns' `source` column:
    `FILE:sources/NAME`, unique within the project (a repeated name gets ' (2)', ' (3)' …)."""
    text = project.sources[project.sources["kind"] == "text"]
    shown = [f"{project.file}:sources/{name or guid}" for guid, name in zip(text["guid"], text["name"])]
    return dict(zip(text["guid"], _unique(shown, " ({})")))


def project_transcripts(project: QdaProject) -> list[Transcript]:
    """The project's plain-text sources read as transcripts, with the speaker-label rules of text files
    (lines numbered from 1, so offsets and lines refer to the source text). The transcript id is the
    source's name without its extension (or a `transcript_id` in the text's front matter); a repeated
    id gets '_2', '_3' … in the project's order, with an IngestWarning. Sources without readable or
    non-blank text are left out (their selections are reported as not placed)."""
    shown = source_names(project)
    docs, problems = [], []
    for row in project.sources.itertuples(index=False):
        if row.kind != "text" or row.text is None or not row.text.strip():
            continue
        numbered = list(enumerate(split_lines(row.text), start=1))
        try:
            docs.append(read_text_lines(numbered, shown[row.guid], source_stem(row.name), "txt"))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    emit_warnings(docs)
    for doc, unique in zip(docs, _unique([d.transcript_id for d in docs], "_{}")):
        if unique != doc.transcript_id:
            warnings.warn(f"{doc.source}: transcript id {doc.transcript_id!r} is already another source's; read as "
                          f"{unique!r} (rename the source in the QDA tool to choose its id)", IngestWarning,
                          stacklevel=2)
            doc.transcript_id = unique
    return docs


def turns_from_project(project_or_path: QdaProject | str | Path,
                       participants: pd.DataFrame | str | Path | None = None, interviewer_labels=None,
                       allow_unknown_speakers: bool = False) -> pd.DataFrame:
    """The turns table (DESIGN.md §2) of a project's own plain-text sources (see project_transcripts).

    With `participants` (a participants.csv path or table) every speaker is resolved as `ingest
    --participants` does, over the rows of the transcripts the project holds; without, each speaker
    of each transcript is its own participant. Interviewer labels as in ingest (default
    DEFAULT_INTERVIEWER_LABELS)."""
    project = project_or_path if isinstance(project_or_path, QdaProject) else read_project(project_or_path)
    docs = project_transcripts(project)
    if not docs:
        raise InputError(f"{project.file}: no plain-text sources to read turns from; export the project with its "
                         f"text sources as plain text, or give the turns table ingested from the transcripts")
    if participants is None:
        return unresolved_turns(docs, interviewer_labels)
    if isinstance(participants, pd.DataFrame):
        table, shown = participants, "participants"
    else:
        table, shown = load_participants(participants), paths.relative(paths.resolve(participants))
    held = table[table["transcript_id"].isin({d.transcript_id for d in docs})]
    return resolve_speakers(docs, held, interviewer_labels, allow_unknown_speakers, shown)


# ----------------------------------------------------------------------------- codes -> themes
def map_codes(codes: pd.DataFrame, codebook_codes: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """theme / subtheme for each project code (by GUID, then code or label); warnings for the rest.

    `codebook_codes` has columns theme, subtheme ("" for a theme), label (Codebook.codes works).
    A code deeper than two levels is folded into its second-level ancestor.
    """
    out, warnings = [], []
    by_guid, themes, subs, subs_anywhere = {}, {}, {}, {}
    if codebook_codes is not None:
        for row in codebook_codes.itertuples(index=False):
            theme, sub, label = str(row.theme), str(row.subtheme or ""), str(getattr(row, "label", "") or "")
            by_guid[code_guid(theme, sub)] = (theme, sub)
            keys = {slug(theme if not sub else sub), slug(label)} - {""}
            for k in keys:
                if sub:
                    subs[(theme, k)] = sub
                    subs_anywhere.setdefault(k, (theme, sub))
                else:
                    themes[k] = theme
    folded = []
    for row in codes.itertuples(index=False):
        parts = list(row.path) or [row.guid[:8]]
        if len(parts) > 2:
            folded.append("::".join(parts))
        if row.guid in by_guid:
            theme, sub = by_guid[row.guid]
        elif codebook_codes is None:
            theme, sub = slug(parts[0]) or "code", slug(parts[1]) if len(parts) > 1 else ""
        else:
            t_key = slug(parts[0])
            if t_key in themes:
                theme = themes[t_key]
                sub = ""
                if len(parts) > 1:
                    sub = subs.get((theme, slug(parts[1]))) or slug(parts[1])
                    if (theme, slug(parts[1])) not in subs:
                        warnings.append(f"code {'::'.join(parts[:2])!r}: subtheme not in the codebook; "
                                        f"kept as {theme}/{sub}")
            elif len(parts) == 1 and t_key in subs_anywhere:
                theme, sub = subs_anywhere[t_key]
            else:
                theme, sub = t_key or "code", slug(parts[1]) if len(parts) > 1 else ""
                warnings.append(f"code {'::'.join(parts[:2])!r}: theme not in the codebook; kept as "
                                f"{theme + ('/' + sub if sub else '')}")
        out.append({"guid": row.guid, "name": row.name, "theme": theme, "subtheme": sub})
    if folded:
        warnings.append(f"{len(folded)} code(s) deeper than theme/subtheme were counted as their "
                        f"subtheme: {', '.join(sorted(folded))}")
    return pd.DataFrame(out, columns=["guid", "name", "theme", "subtheme"]), list(dict.fromkeys(warnings))


# ----------------------------------------------------------------------------- placing selections
def _squeezed(text: str) -> str:
    """Text without whitespace and with straight quotes (the text of `_squeeze`, without the offsets)."""
    return text.translate(SQUEEZE_TABLE)


def _squeeze(text: str) -> tuple[str, np.ndarray]:
    """Text without whitespace and with straight quotes, and each kept character's original offset.

    Worked through in SQUEEZE_STEP pieces, so a long source needs little more than its result (the text
    and 4 bytes per kept character)."""
    offsets, n = np.empty(len(text), dtype=OFFSET), 0
    for start in range(0, len(text), SQUEEZE_STEP):
        cps = np.frombuffer(text[start:start + SQUEEZE_STEP].encode("utf-32-le"), dtype=np.uint32)
        keep = np.flatnonzero(~np.isin(cps, WHITESPACE))
        offsets[n:n + len(keep)] = keep + start
        n += len(keep)
    return _squeezed(text), offsets[:n]


@dataclass
class CharMap:
    """Where each character of each found turn sits in a source text (ascending source offsets)."""

    src: np.ndarray        # offset in the source text
    turn_pos: np.ndarray   # offset in the turn's text
    first: np.ndarray      # per turn row: index of its first character in the arrays (-1 if not found)
    last: np.ndarray       # per turn row: one past its last character
    missing: list[int]     # turn rows not found in the source

    def turn(self, index: np.ndarray) -> np.ndarray:
        """The turn row each character index of the arrays belongs to (found turns hold consecutive ranges)."""
        found = np.flatnonzero(self.first >= 0)
        return found[np.searchsorted(self.first[found], index, side="right") - 1]


PIECE_MIN = 12    # shortest piece of a turn matched on its own when the turn is split up in the source
PIECE_GAP = 400   # most characters (without whitespace) allowed between two pieces of one turn


def _find_in_pieces(squeezed: str, t_sq: str, start: int) -> list[tuple[int, int, int]] | None:
    """Find a (squeezed) turn as consecutive pieces in the (squeezed) source from `start`, e.g. cues
    of a subtitle file merged into one turn, with timestamps between them: each piece is the
    longest prefix of the rest of the turn found after the previous piece (at most PIECE_GAP
    characters later; the first anywhere after `start`). Returns (source index, turn index,
    length) per piece, or None when a piece shorter than PIECE_MIN would be needed."""
    pieces, k, cur = [], 0, start
    while k < len(t_sq):
        limit = len(squeezed) if not pieces else cur + PIECE_GAP
        lo, hi = 0, len(t_sq) - k
        while lo < hi:  # longest prefix of t_sq[k:] found in squeezed[cur:limit + length]
            mid = (lo + hi + 1) // 2
            if squeezed.find(t_sq[k:k + mid], cur, limit + mid) != -1:
                lo = mid
            else:
                hi = mid - 1
        if lo == 0 or (lo < PIECE_MIN and k + lo < len(t_sq)):
            return None
        j = squeezed.find(t_sq[k:k + lo], cur, limit + lo)
        pieces.append((j, k, lo))
        k, cur = k + lo, j + lo
    return pieces


def map_turns(texts: list[str], source: str) -> CharMap:
    """Find each turn's text in the source, in order: verbatim, else ignoring whitespace and quote
    style, else as consecutive pieces (a turn merged from several subtitle cues). The offset arrays are
    allocated once (a turn maps at most its own length), 4 bytes per character of a source of any length
    the limits allow."""
    squeezed, sq_map = _squeeze(source)
    size = sum(map(len, texts))
    src, pos, missing = np.empty(size, dtype=OFFSET), np.empty(size, dtype=OFFSET), []
    first = np.full(len(texts), -1, dtype=np.int64)
    last = np.full(len(texts), -1, dtype=np.int64)
    cursor, n = 0, 0
    for i, text in enumerate(texts):
        t_sq = _squeezed(text)
        if not t_sq:
            continue
        at = int(np.searchsorted(sq_map, OFFSET(cursor)))  # (a scalar of the array's type: no copy of it)
        q = squeezed.find(t_sq, at)
        p = source.find(text, cursor)
        if p != -1 and (q == -1 or p <= sq_map[q]):
            src[n:n + len(text)] = np.arange(p, p + len(text), dtype=OFFSET)
            pos[n:n + len(text)] = np.arange(len(text), dtype=OFFSET)
            count = len(text)
        elif q != -1:
            src[n:n + len(t_sq)], pos[n:n + len(t_sq)] = sq_map[q:q + len(t_sq)], _squeeze(text)[1]
            count = len(t_sq)
        else:
            pieces = _find_in_pieces(squeezed, t_sq, at)
            if pieces is None:
                missing.append(i)
                continue
            t_map, count = _squeeze(text)[1], 0
            for j, k, length in pieces:
                src[n + count:n + count + length] = sq_map[j:j + length]
                pos[n + count:n + count + length] = t_map[k:k + length]
                count += length
        first[i], last[i] = n, n + count
        n += count
        cursor = int(src[n - 1]) + 1
    return CharMap(src[:n], pos[:n], first, last, missing)


def place_selections(starts: np.ndarray, ends: np.ndarray, cmap: CharMap) -> pd.DataFrame:
    """Each selection [start, end) of a source -> one row per turn it covers, with turn offsets.

    Returns columns sel (position in the input), turn (row), start, end; a selection covering no
    turn text gets no row.
    """
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    bounds = np.iinfo(cmap.src.dtype)  # offsets past any source's end compare the same when clipped
    i0 = np.searchsorted(cmap.src, np.clip(starts, bounds.min, bounds.max).astype(cmap.src.dtype), side="left")
    i1 = np.searchsorted(cmap.src, np.clip(ends, bounds.min, bounds.max).astype(cmap.src.dtype), side="left")
    ok = (i1 > i0) & (ends > starts)
    sel = np.flatnonzero(ok)
    if not len(sel):
        return pd.DataFrame({"sel": [], "turn": [], "start": [], "end": []}, dtype=np.int64)
    t0, t1 = cmap.turn(i0[sel]), cmap.turn(i1[sel] - 1)
    # turns between t0 and t1 in order of appearance: consecutive found rows
    found_rows = np.flatnonzero(cmap.first >= 0)
    r0, r1 = np.searchsorted(found_rows, t0), np.searchsorted(found_rows, t1)
    count = r1 - r0 + 1
    rep = np.repeat(np.arange(len(sel)), count)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
    turn = found_rows[r0[rep] + offset]
    lo = np.maximum(i0[sel][rep], cmap.first[turn])
    hi = np.minimum(i1[sel][rep], cmap.last[turn])
    return pd.DataFrame({"sel": sel[rep], "turn": turn, "start": cmap.turn_pos[lo],
                         "end": cmap.turn_pos[hi - 1] + 1})


def source_transcripts(project: QdaProject, turns: pd.DataFrame) -> dict[str, str]:
    """source guid -> transcript_id: the transcript read from that very source (turns_from_project), else by
    source name (without extension), else by shared turn texts."""
    by_name = {str(t).lower(): str(t) for t in turns["transcript_id"].unique()}
    read_from = turns[["source", "transcript_id"]].drop_duplicates() if "source" in turns.columns else \
        pd.DataFrame(columns=["source", "transcript_id"])
    read_from = read_from[~read_from["source"].duplicated(keep=False)]
    by_source = dict(zip(read_from["source"].astype(str), read_from["transcript_id"].astype(str)))
    shown = source_names(project)
    out, long_turns = {}, None
    for row in project.sources.itertuples(index=False):
        if row.kind != "text" or row.text is None:
            continue
        stems = [row.name, Path(row.name).stem, Path(row.path.replace("\\", "/")).stem if row.path else ""]
        hit = by_source.get(shown[row.guid]) or \
            next((by_name[s.lower()] for s in stems if s and s.lower() in by_name), None)
        if hit is None:  # by content: the transcript most of whose longer turns appear in the source
            if long_turns is None:
                longer = turns[turns["text"].fillna("").astype(str).str.len() >= 40]
                long_turns = {str(t): [_squeezed(x) for x in g["text"]] for t, g in longer.groupby("transcript_id")}
            squeezed = _squeezed(row.text)
            share = {tid: sum(t in squeezed for t in texts) / len(texts) for tid, texts in long_turns.items()}
            best = max(sorted(share), key=lambda tid: share[tid], default=None)
            hit = best if best is not None and share[best] > 0.5 else None
        if hit is not None:
            out[row.guid] = hit
    return out


@dataclass
class ImportResult:
    """A coding brought in from a QDA project: codings, what could not be placed, and notes."""

    codings: pd.DataFrame
    unplaced: pd.DataFrame
    cases: pd.DataFrame
    codes: pd.DataFrame
    warnings: list[str]
    project: QdaProject
    turns: pd.DataFrame | None = None  # the turns the selections were placed on


def _note(reasons: pd.Series, index, why: str) -> None:
    """Record why selections were not placed, keeping the first reason found for each."""
    index = pd.Index(index)
    reasons[index] = reasons[index].where(reasons[index] != "", why)


def _place_source(group: pd.DataFrame, text: str, these: pd.DataFrame, reasons: pd.Series,
                  include_interviewer: bool) -> tuple[pd.DataFrame, list[int]]:
    """Place one source's selections on its transcript's turns (`these`, in order); note the rest.

    Returns (rows: sel, turn_no, start, end, participant_id, group; turn rows not found in the text).
    """
    cmap = map_turns(these["text"].fillna("").astype(str).tolist(), text)
    bad = ((group["start"] < 0) | (group["end"] > len(text)) | (group["end"] <= group["start"])).to_numpy()
    _note(reasons, group.index[bad], f"offsets outside the source text (0..{len(text)})")
    rows = place_selections(group["start"].to_numpy(), group["end"].to_numpy(), cmap)
    rows["sel"] = group.index.to_numpy()[rows["sel"].to_numpy()]
    picked = these.iloc[rows["turn"].to_numpy()]
    rows = rows.assign(turn_no=picked["turn"].to_numpy(),
                       participant_id=picked["participant_id"].fillna("").astype(str).to_numpy(),
                       group=picked["group"].fillna("").astype(str).to_numpy(),
                       role=picked["role"].astype(str).to_numpy())
    rows = rows[rows["role"].isin(["participant", "interviewer"] if include_interviewer else ["participant"])]
    rows = rows[~rows["sel"].isin(group.index[bad])]
    why = "it covers only speaker labels, headers or blank text" + \
        ("" if include_interviewer else ", or only interviewer turns")
    if cmap.missing:
        why += f" (or {TURNS_NOT_FOUND}: {len(cmap.missing)})"
    _note(reasons, group.index.difference(pd.Index(rows["sel"].unique())), why)
    return rows.drop(columns=["turn", "role"]), cmap.missing


def align(project: QdaProject, turns: pd.DataFrame, codebook_codes: pd.DataFrame | None = None,
          include_interviewer: bool = False) -> ImportResult:
    """Place the project's text selections on the turns -> codings (turn segments) + unplaced selections."""
    warnings = list(project.warnings)
    codes, code_warnings = map_codes(project.codes, codebook_codes)
    warnings.extend(f"{project.location}: {w}" for w in code_warnings)
    code_of = codes.set_index("guid")
    sels = project.selections.reset_index(drop=True)
    src_of = project.sources.set_index("guid")
    reasons = pd.Series("", index=sels.index, dtype=object)
    _note(reasons, sels.index[~sels["code"].isin(code_of.index)], "its code GUID is not in the project's code tree")
    matched = source_transcripts(project, turns)
    turns = turns.reset_index(drop=True)
    placed = []
    for sguid, group in sels.groupby("source", sort=True):
        if sguid not in src_of.index:
            _note(reasons, group.index, "its source is not in the project")
        elif not isinstance(src_of.at[sguid, "text"], str):  # None (NaN in a text column): not read
            _note(reasons, group.index, src_of.at[sguid, "problem"])
        elif sguid not in matched:
            _note(reasons, group.index, NO_TRANSCRIPT)
        else:
            tid = matched[sguid]
            these = turns[turns["transcript_id"].astype(str) == tid].sort_values("turn", kind="stable")
            rows, missing = _place_source(group, src_of.at[sguid, "text"], these, reasons, include_interviewer)
            placed.append(rows.assign(transcript_id=tid))
            if missing:
                lost_turns = these.iloc[missing]
                shown = ", ".join(f"{t} (line {ln})" for t, ln in
                                  zip(lost_turns["turn"], lost_turns.get("line", lost_turns["turn"])))
                warnings.append(f"{project.location}: source {src_of.at[sguid, 'name']!r}: {len(missing)} turn(s) of "
                                f"transcript {tid} not found in its text: {shown}")
    rows = pd.concat(placed, ignore_index=True) if placed else pd.DataFrame({"sel": pd.Series(dtype=np.int64)})
    rows = rows[rows["sel"].map(reasons).eq("")]
    if len(rows):
        chosen = sels.loc[rows["sel"].to_numpy()]
        codings = pd.DataFrame({
            "segment_id": (rows["transcript_id"].astype(str) + ":" + rows["turn_no"].astype(str)).to_numpy(),
            "transcript_id": rows["transcript_id"].astype(str).to_numpy(),
            "participant_id": rows["participant_id"].to_numpy(), "group": rows["group"].to_numpy(),
            "theme": chosen["code"].map(code_of["theme"]).to_numpy(),
            "subtheme": chosen["code"].map(code_of["subtheme"]).to_numpy(),
            "term": chosen["name"].to_numpy(), "start": rows["start"].to_numpy(dtype=np.int64),
            "end": rows["end"].to_numpy(dtype=np.int64), "coder": chosen["coder"].to_numpy()})
    else:
        codings = empty_codings()
    codings = sort_codings(with_coder(codings).drop_duplicates())
    lost = reasons.index[reasons != ""]
    unplaced = pd.DataFrame({
        "source": sels.loc[lost, "source"].map(src_of["name"]).fillna("").astype(str).to_numpy(),
        "selection": sels.loc[lost, "selection"].to_numpy(),
        "start": sels.loc[lost, "start"].to_numpy(dtype=np.int64), "end": sels.loc[lost, "end"].to_numpy(dtype=np.int64),
        "code": sels.loc[lost, "code"].map(code_of["name"]).fillna(sels.loc[lost, "code"]).astype(str).to_numpy(),
        "coder": sels.loc[lost, "coder"].to_numpy(), "reason": reasons[lost].to_numpy()}, columns=UNPLACED_COLUMNS)
    unplaced = unplaced.sort_values(["source", "start", "end", "code", "coder"], kind="stable").reset_index(drop=True)
    for reason, count in _reason_counts(unplaced):
        first = unplaced[unplaced["reason"] == reason].iloc[0]
        warnings.append(f"{project.location}: {count} of {len(sels)} coded selection(s) not placed: {reason} (e.g. "
                        f"[{first.start}, {first.end}) of source {first.source!r} coded {first.code!r} by {first.coder})")
    return ImportResult(codings=codings, unplaced=unplaced, cases=project.cases, codes=codes,
                        warnings=warnings, project=project, turns=turns)


def _reason_counts(unplaced: pd.DataFrame) -> list[tuple[str, int]]:
    """(reason, number of selections) of the unplaced selections, most frequent first."""
    counts = unplaced["reason"].value_counts()
    return sorted(counts.items(), key=lambda rc: (-rc[1], rc[0]))


def nothing_placed(result: ImportResult, own_sources: bool) -> InputError:
    """The error for an import that placed none of the project's coded selections, saying why."""
    project = result.project
    total = len(project.selections)
    if not total:
        return InputError(f"{project.file}: the project has no coded text selections to import (only codings of "
                          f"passages of text sources can be placed on turns); code the transcripts in the QDA "
                          f"tool and export the project again")
    reasons = "; ".join(f"{reason} ({count})" for reason, count in _reason_counts(result.unplaced))
    where = "the turns of the project's own sources" if own_sources else "the corpus"
    head = f"{project.file}: 0 of {total} coded selections could be placed on {where}"
    mismatch = result.unplaced["reason"].str.contains(NO_TRANSCRIPT, regex=False) | \
        result.unplaced["reason"].str.contains(TURNS_NOT_FOUND, regex=False)
    if not own_sources and mismatch.any():
        return InputError(f"{head}: the sources' texts do not match the turns given ({reasons}); import without "
                          f"--corpus to use the project's own sources, or give the turns table ingested from the "
                          f"same transcripts")
    if own_sources:
        return InputError(f"{head}: {reasons}; check that the codings are on participant speech (name the "
                          f"interviewers with --interviewer-labels, or keep interviewer turns with "
                          f"--include-interviewer)")
    return InputError(f"{head}: {reasons}")


def to_sentences(codings: pd.DataFrame, turns: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn-segment codings -> sentence-segment codings (`T:turn.sentence`, as corpus.segments splits):
    a coding spanning sentences codes each. Returns (codings, rows lying wholly between sentences)."""
    if codings.empty:
        return codings, codings
    turn_no = codings["segment_id"].str.extract(r":(\d+)$")[0].astype(np.int64)
    keyed = codings.assign(_turn=turn_no.to_numpy(), _row=np.arange(len(codings)))
    wanted = keyed[["transcript_id", "_turn"]].drop_duplicates()
    texts = turns.assign(_turn=turns["turn"].astype(np.int64)).merge(wanted, on=["transcript_id", "_turn"])
    spans = [(tid, turn, k, s, e) for tid, turn, text in zip(texts["transcript_id"], texts["_turn"], texts["text"])
             for k, (s, e) in enumerate(sentence_spans(str(text)))]
    spans = pd.DataFrame(spans, columns=["transcript_id", "_turn", "_sentence", "_s", "_e"])
    pairs = keyed.merge(spans, on=["transcript_id", "_turn"])
    pairs = pairs[(pairs["start"] < pairs["_e"]) & (pairs["end"] > pairs["_s"])]
    out = pairs.assign(
        segment_id=pairs["segment_id"] + "." + pairs["_sentence"].astype(str),
        start=np.maximum(pairs["start"], pairs["_s"]) - pairs["_s"],
        end=np.minimum(pairs["end"], pairs["_e"]) - pairs["_s"])
    lost = keyed[~keyed["_row"].isin(pairs["_row"])]
    return sort_codings(with_coder(out[codings.columns])), lost[codings.columns]


def import_qdpx(path: str | Path, turns: pd.DataFrame | None = None, codebook_codes: pd.DataFrame | None = None,
                include_interviewer: bool = False, unit: str = "turn", participants=None, interviewer_labels=None,
                allow_unknown_speakers: bool = False) -> ImportResult:
    """Read a .qdpx (or .qde) and place its text codings on the turns (see the module docstring);
    `unit="sentence"` splits them onto sentence segments as helpers.corpus.segments does.

    Without `turns` the turns are read from the project's own sources (turns_from_project, with
    `participants`, `interviewer_labels` and `allow_unknown_speakers`). Placing none of the
    project's coded selections is an InputError saying why; placing some is a warning per reason."""
    if unit not in ("turn", "sentence"):
        raise InputError(f"unit {unit!r}: use 'turn' or 'sentence'")
    project = read_project(path)
    own_sources = turns is None
    if own_sources:
        turns = turns_from_project(project, participants, interviewer_labels, allow_unknown_speakers)
    result = align(project, turns, codebook_codes, include_interviewer)
    if result.unplaced.shape[0] == len(project.selections):
        raise nothing_placed(result, own_sources)
    if unit == "sentence":
        result.codings, lost = to_sentences(result.codings, turns)
        for row in lost.itertuples(index=False):
            result.warnings.append(f"{result.project.location}: coding {row.theme}/{row.subtheme} of segment "
                                   f"{row.segment_id} [{row.start}, {row.end}) lies between sentences; not placed")
    return result


# ----------------------------------------------------------------------------- choosing codings
CODINGS_CHOICES = ("auto", "human", "both")


def load_codings(which: str, auto: pd.DataFrame | None = None, human: str | Path | None = None,
                 turns: pd.DataFrame | None = None, codebook_codes: pd.DataFrame | None = None,
                 unit: str = "turn") -> pd.DataFrame:
    """The codings a notebook analyses: `auto` (the keyword coding), `human` (a .qdpx placed on `turns`,
    or a codings table file) or `both` stacked; a `coding` column says which (auto | human), `coder` who."""
    if which not in CODINGS_CHOICES:
        raise InputError(f"codings {which!r}: use one of {', '.join(CODINGS_CHOICES)}")
    parts = []
    if which in ("auto", "both"):
        if auto is None:
            raise InputError("codings 'auto' needs the auto-coding table")
        parts.append(with_coder(auto).assign(coding="auto"))
    if which in ("human", "both"):
        if not human:
            raise InputError("codings 'human' needs a human coding: set human_coding to a .qdpx exported from "
                             "your QDA tool (NVivo, ATLAS.ti, MAXQDA, QualCoder), or to a codings table")
        result = read_human_coding(human, turns, codebook_codes, unit=unit)
        for w in result.warnings:
            print(f"warning: {w}")
        parts.append(result.codings.assign(coding="human"))
    return pd.concat(parts, ignore_index=True)


def analysed(segments: pd.DataFrame, codings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The segments and codings to analyse: all of them for the auto-coding; with a human coding
    (load_codings' `coding` column), only the transcripts the human coded, for every coding (a
    human often codes a sample, and the other transcripts would count as talk without themes)."""
    if "coding" not in codings.columns or not (codings["coding"] == "human").any():
        return segments, codings
    coded = set(codings.loc[codings["coding"] == "human", "transcript_id"].astype(str))
    return (segments[segments["transcript_id"].astype(str).isin(coded)].reset_index(drop=True),
            codings[codings["transcript_id"].astype(str).isin(coded)].reset_index(drop=True))


def by_coding(fn, segments: pd.DataFrame, codings: pd.DataFrame, by: str, **kwargs):
    """Call `fn(segments=…, codings=…, by=…, **kwargs)` (e.g. coding.prevalence, cooccur.cooccurrence).
    With both codings (load_codings' `coding` column holds auto and human) it is called once per
    coding, the `by` values labelled with it ("client (auto)", "client (human)"), and the tables
    stacked, so group views show the two codings side by side."""
    sources = list(dict.fromkeys(codings["coding"])) if "coding" in codings.columns else []
    if len(sources) < 2:
        return fn(segments=segments, codings=codings, by=by, **kwargs)
    parts = []
    for source in sources:
        part = fn(segments=segments, codings=codings[codings["coding"] == source], by=by, **kwargs)
        parts.append(part.assign(**{by: part[by].astype(str) + f" ({source})"}))
    return pd.concat(parts, ignore_index=True)


def read_human_coding(path: str | Path, turns: pd.DataFrame | None, codebook_codes: pd.DataFrame | None = None,
                      coder: str = "", unit: str = "turn", default_coder: str = "human") -> ImportResult:
    """A coding to compare or analyse: a .qdpx/.qde placed on the turns (None: on the turns of the
    project's own sources), or a codings table file (.csv/.parquet, rows without a coder column get
    `default_coder`); `coder` keeps one coder's rows (InputError naming the coders there when it has
    none). The caller shows the warnings."""
    resolved = paths.resolve(path)
    if resolved.suffix.lower() in (".csv", *PARQUET_SUFFIXES):
        codings = read_codings_file(resolved, default_coder)
        empty = QdaProject(name=resolved.name, description="", location=paths.relative(resolved), users={},
                           codes=pd.DataFrame(), sources=pd.DataFrame(), selections=pd.DataFrame(),
                           cases=pd.DataFrame())
        result = ImportResult(codings=codings, unplaced=pd.DataFrame(columns=UNPLACED_COLUMNS), cases=pd.DataFrame(),
                              codes=pd.DataFrame(), warnings=[], project=empty)
    else:
        result = import_qdpx(resolved, turns, codebook_codes, unit=unit)
    if coder:
        coders = sorted(set(result.codings["coder"]))
        if coder not in coders:
            raise InputError(f"{paths.relative(resolved)}: no codings by coder {coder!r}; coders there: "
                             f"{', '.join(coders) or 'none'}")
        result.codings = result.codings[result.codings["coder"] == coder].reset_index(drop=True)
    return result


def import_report(result: ImportResult):
    """What an import brought in, for a notebook: project, coders, counts, and every warning (HTML)."""
    import html

    from IPython.display import HTML

    c = result.codings
    coders = ", ".join(sorted(set(c["coder"]))) or "none"
    lines = [f"<p><b>{html.escape(result.project.name or result.project.location)}</b> "
             f"({html.escape(result.project.location)})</p>"]
    if result.project.description:
        lines.append(f"<p><i>{html.escape(result.project.description)}</i></p>")
    lines.append(f"<p>{len(c)} codings by {html.escape(coders)} on {c['segment_id'].nunique()} segments of "
                 f"{c['transcript_id'].nunique()} transcripts; {len(result.unplaced)} selection(s) could not be "
                 f"placed on a participant turn.</p>")
    if result.warnings:
        lines.append("<p>Warnings:</p><ul>" + "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings) + "</ul>")
    return HTML("\n".join(lines))


HOW_TO_SUPPLY = """**No human coding was given**, so there is nothing to compare the keyword auto-coding with.

To measure agreement with your team's coding:

1. In your QDA tool (NVivo, ATLAS.ti, MAXQDA, QualCoder …) code the same transcripts, then export
   the project in the REFI-QDA format (**.qdpx**). If the tool still lacks the transcripts, import
   `auto_coding.qdpx` from the project's processed tables (written above): it holds the transcripts as
   plain text, the codebook and the auto-coding to review.
2. Set the parameter `human_coding` to that file in the project's `pipeline.yaml` (section `all`), or
   for one run: `python -m helpers run --config PROJECT/pipeline.yaml --only 05 --set all.human_coding=path/to/project.qdpx`.
   A codings table (`python -m helpers import-qdpx FILE --out CODINGS.csv`) works too.
3. Re-run the notebook.
"""


def how_to_supply_human_coding():
    """The notebook's message when no human coding is given: how to supply one (Markdown)."""
    from IPython.display import Markdown

    return Markdown(HOW_TO_SUPPLY)


# ----------------------------------------------------------------------------- hand-chosen quotes
def codings_from_quotes(path: str | Path, turns: pd.DataFrame,
                        codebook_codes: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Codings from a YAML file of hand-chosen quotes (see data/human_coding_demo.yaml):
    `coder`, `project`, `description`, and `codings:` items with transcript, code (theme or
    theme/subtheme) or codes, quote (words copied exactly from one turn) and optional occurrence
    (1-based, when the words appear more than once). Codes are checked against `codebook_codes`
    when given. Returns (codings, the file's other keys)."""
    import yaml

    from .limits import load_yaml

    resolved = paths.resolve(path)
    shown = paths.relative(resolved)
    try:
        data = load_yaml(resolved.read_text(encoding="utf-8"), shown)
    except FileNotFoundError:
        raise InputError(f"{shown}: quotes file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"{shown}{f':{mark.line + 1}' if mark else ''}: not valid YAML; fix the syntax") from None
    if not isinstance(data, dict) or not isinstance(data.get("codings"), list):
        raise InputError(f"{shown}: must be a mapping with a 'codings' list (transcript, code, quote)")
    coder = str(data.get("coder") or "human")
    known = None if codebook_codes is None else {
        t if not sub else f"{t}/{sub}" for t, sub in zip(codebook_codes["theme"], codebook_codes["subtheme"])}
    rows, problems = [], []
    by_transcript = {str(t): g.sort_values("turn") for t, g in turns.groupby("transcript_id", sort=True)}
    for i, item in enumerate(data["codings"]):
        key = f"{shown}: codings[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{key}: must be a mapping with transcript, code and quote")
            continue
        tid, quote = str(item.get("transcript", "")), str(item.get("quote", "") or "")
        codes = item.get("codes") or ([item["code"]] if item.get("code") else [])
        codes = [codes] if isinstance(codes, str) else codes
        occurrence = item.get("occurrence", 1)
        if isinstance(occurrence, bool) or not isinstance(occurrence, int) or occurrence < 1:
            problems.append(f"{key}.occurrence: {occurrence!r} is not a whole number from 1 (which time the "
                            f"quote appears in the transcript)")
            continue
        if tid not in by_transcript:
            problems.append(f"{key}.transcript: {tid!r} is not a transcript of the corpus")
            continue
        if not quote.strip() or not codes:
            problems.append(f"{key}: needs a non-empty quote and a code (theme or theme/subtheme)")
            continue
        hits = []
        for row in by_transcript[tid].itertuples(index=False):
            start = row.text.find(quote)
            while start != -1:
                hits.append((row, start))
                start = row.text.find(quote, start + 1)
        if len(hits) < occurrence:
            problems.append(f"{key}.quote: {quote[:60]!r} not found in one turn of {tid} "
                            f"({len(hits)} time(s)); copy the words exactly from a single turn")
            continue
        if len(hits) > 1 and "occurrence" not in item:
            problems.append(f"{key}.quote: {quote[:60]!r} appears {len(hits)} times in {tid}; add "
                            f"`occurrence: N` or quote more words")
            continue
        unknown = [str(c) for c in codes if known is not None and str(c) not in known]
        if unknown:
            problems.append(f"{key}.code: {', '.join(unknown)} not in the codebook; write theme or theme/subtheme "
                            f"codes, e.g. {sorted(known)[0]}")
            continue
        row, start = hits[occurrence - 1]
        for code in codes:
            theme, _, sub = str(code).partition("/")
            rows.append({"segment_id": f"{tid}:{row.turn}", "transcript_id": tid,
                         "participant_id": row.participant_id, "group": row.group, "theme": theme,
                         "subtheme": sub, "term": "", "start": start, "end": start + len(quote), "coder": coder})
    if problems:
        raise InputError(problems)
    codings = pd.DataFrame(rows, columns=CODING_COLUMNS) if rows else empty_codings()
    meta = {k: v for k, v in data.items() if k != "codings"}
    return sort_codings(with_coder(codings)), meta


# ----------------------------------------------------------------------------- export
def transcript_texts(turns: pd.DataFrame) -> dict[str, tuple[str, dict[int, tuple[int, int]]]]:
    """The plain text exported for each transcript ('Speaker: text' paragraphs, a blank line between
    turns) and each turn's (offset, length) in it."""
    out = {}
    ordered = turns.sort_values(["transcript_id", "turn"], kind="stable")
    for tid, rows in ordered.groupby("transcript_id", sort=True):
        parts, offsets, pos = [], {}, 0
        for speaker, turn, text in zip(rows["speaker"].fillna("").astype(str), rows["turn"], rows["text"].fillna("").astype(str)):
            label = f"{speaker.strip()}: " if speaker.strip() else ""
            offsets[int(turn)] = (pos + len(label), len(text))
            parts.append(label + text)
            pos += len(label) + len(text) + 2
        out[str(tid)] = ("\n\n".join(parts) + "\n", offsets)
    return out


def _code_tree(codes: pd.DataFrame | None, codings: pd.DataFrame) -> pd.DataFrame:
    """theme, subtheme, label, description, colour, guid: the codebook's codes in order, then any
    code the codings use that the codebook lacks (sorted)."""
    cols = ["theme", "subtheme", "label", "description"]
    tree = pd.DataFrame(columns=cols) if codes is None else codes.reindex(columns=cols)
    tree = tree.fillna("").astype(str)
    used = codings[["theme", "subtheme"]].drop_duplicates()
    used = pd.concat([used.assign(subtheme=""), used[used["subtheme"] != ""]]).drop_duplicates()
    known = set(zip(tree["theme"], tree["subtheme"]))
    extra = sorted(set(zip(used["theme"], used["subtheme"])) - known)
    if extra:
        tree = pd.concat([tree, pd.DataFrame([{"theme": t, "subtheme": s, "label": s or t, "description": ""}
                                              for t, s in extra])], ignore_index=True)
    tree["label"] = tree["label"].where(tree["label"] != "", tree["subtheme"].where(tree["subtheme"] != "", tree["theme"]))
    theme_order = list(dict.fromkeys(tree["theme"]))
    tree["colour"] = tree["theme"].map({t: THEME_COLOURS[i % len(THEME_COLOURS)] for i, t in enumerate(theme_order)})
    tree["guid"] = [code_guid(t, s) for t, s in zip(tree["theme"], tree["subtheme"])]
    return tree.reset_index(drop=True)


def _code_elements(parent: ET.Element, tree: pd.DataFrame) -> None:
    """Nested Code elements: each theme with its subthemes."""
    codes = ET.SubElement(parent, "Codes")
    for theme in dict.fromkeys(tree["theme"]):
        rows = tree[tree["theme"] == theme]
        top = rows[rows["subtheme"] == ""].iloc[0]
        elem = ET.SubElement(codes, "Code", {"guid": top["guid"], "name": _clean(top["label"]),
                                                    "isCodable": "true", "color": top["colour"]})
        if top["description"]:
            ET.SubElement(elem, "Description").text = _clean(top["description"])
        for sub in rows[rows["subtheme"] != ""].itertuples(index=False):
            child = ET.SubElement(elem, "Code", {"guid": sub.guid, "name": _clean(sub.label),
                                                        "isCodable": "true", "color": sub.colour})
            if sub.description:
                ET.SubElement(child, "Description").text = _clean(sub.description)


def _serialise(root: ET.Element) -> bytes:
    """Indented UTF-8 XML with a declaration (deterministic; the root carries its xmlns)."""
    ET.indent(root, space="  ")
    buf = io.BytesIO()
    ET.ElementTree(root).write(buf, encoding="utf-8", xml_declaration=True)
    return buf.getvalue().replace(b"<?xml version='1.0' encoding='utf-8'?>",
                                  b'<?xml version="1.0" encoding="utf-8"?>', 1) + b"\n"


def _variable_type(values: pd.Series) -> str:
    """Integer when every given value is a whole number, else Text."""
    given = values[values != ""]
    return "Integer" if len(given) and given.str.fullmatch(r"-?\d+").all() else "Text"


def segment_offsets(texts: dict, segment_ids: pd.Series) -> pd.DataFrame:
    """Offset and length in the exported transcript text of each turn and of each sentence segment
    (`T:turn.sentence`, split as helpers.corpus.sentence_spans does) named in `segment_ids`."""
    rows = [(f"{tid}:{turn}", base, length) for tid, (_, offs) in texts.items()
            for turn, (base, length) in offs.items()]
    table = pd.DataFrame(rows, columns=["segment_id", "base", "length"]).set_index("segment_id")
    wanted = pd.Index(segment_ids.astype(str).unique())
    sentence_turns = wanted[wanted.str.contains(r":\d+\.\d+$", regex=True)].str.replace(r"\.\d+$", "", regex=True)
    extra = []
    for turn_id in sentence_turns.unique().intersection(table.index):
        tid = turn_id.rsplit(":", 1)[0]
        base, length = table.loc[turn_id, ["base", "length"]]
        for k, (s, e) in enumerate(sentence_spans(texts[tid][0][base:base + length])):
            extra.append((f"{turn_id}.{k}", base + s, e - s))
    return pd.concat([table, pd.DataFrame(extra, columns=["segment_id", "base", "length"]).set_index("segment_id")])


def selection_offsets(codings: pd.DataFrame, texts: dict) -> pd.DataFrame:
    """Codings rows with `source_start`/`source_end` in the exported transcript text; InputError for rows
    whose segment is not a turn (or sentence) of the corpus or whose offsets fall outside its text."""
    table = segment_offsets(texts, codings["segment_id"])
    ids = codings["segment_id"].astype(str)
    base = ids.map(table["base"]).fillna(-1).to_numpy(dtype=np.int64)
    length = ids.map(table["length"]).fillna(0).to_numpy(dtype=np.int64)
    problems = []
    missing = base < 0
    for seg in codings.loc[missing, "segment_id"].drop_duplicates().head(10):
        problems.append(f"codings: segment {seg!r} is not a turn (or sentence) of the corpus; export with the "
                        f"corpus the codings were made from")
    bad = ~missing & ((codings["start"] < 0) | (codings["end"] > length) | (codings["end"] <= codings["start"])).to_numpy()
    for row in codings[bad].head(10).itertuples(index=False):
        problems.append(f"codings: segment {row.segment_id!r}: offsets [{row.start}, {row.end}) fall outside "
                        f"its text; export with the corpus the codings were made from")
    if problems:
        raise InputError(problems)
    return codings.assign(source_start=base + codings["start"].to_numpy(),
                          source_end=base + codings["end"].to_numpy())


def project_files(turns: pd.DataFrame, codings: pd.DataFrame, codes: pd.DataFrame | None = None,
                  participants: pd.DataFrame | None = None, name: str = "IPS workbench coding",
                  description: str = "") -> dict[str, bytes]:
    """The files of a .qdpx: 'project.qde' and 'sources/GUID.txt', as bytes (see export_qdpx)."""
    codings = with_coder(codings).drop_duplicates(subset=CODING_COLUMNS)
    texts = transcript_texts(turns)
    placed = selection_offsets(codings, texts)
    root = ET.Element("Project", {"xmlns": NS, "name": _clean(name), "origin": ORIGIN})
    coders = sorted(set(codings["coder"])) or [AUTO_CODER]
    user_guid = {c: guid("user", c) for c in coders}
    root.set("creatingUserGUID", user_guid[AUTO_CODER if AUTO_CODER in user_guid else coders[0]])
    users = ET.SubElement(root, "Users")
    for c in coders:
        ET.SubElement(users, "User", {"guid": user_guid[c], "name": _clean(c), "id": _clean(c)})
    tree = _code_tree(codes, codings)
    _code_elements(ET.SubElement(root, "CodeBook"), tree)
    source_guid = {tid: guid("source", tid, text) for tid, (text, _) in texts.items()}
    if participants is not None and len(participants):
        people = participants.fillna("").astype(str).sort_values("participant_id", kind="stable")
        skip = {"participant_id", "transcript_id", "speaker_labels"}
        attrs = [c for c in people.columns if c not in skip]
        if attrs:
            variables = ET.SubElement(root, "Variables")
            types = {c: _variable_type(people[c]) for c in attrs}
            for c in attrs:
                ET.SubElement(variables, "Variable", {"guid": guid("variable", c), "name": _clean(c),
                                                         "typeOfVariable": types[c]})
        cases = ET.SubElement(root, "Cases")
        for person in people.to_dict("records"):
            case = ET.SubElement(cases, "Case", {"guid": guid("case", person["participant_id"]),
                                                    "name": _clean(person["participant_id"])})
            for c in attrs:
                if person[c] != "":
                    value = ET.SubElement(case, "VariableValue")
                    ET.SubElement(value, "VariableRef", {"targetGUID": guid("variable", c)})
                    tag = "IntegerValue" if types[c] == "Integer" else "TextValue"
                    ET.SubElement(value, tag).text = _clean(person[c])
            tid = person.get("transcript_id", "")
            if tid in source_guid:
                ET.SubElement(case, "SourceRef", {"targetGUID": source_guid[tid]})
    files: dict[str, bytes] = {}
    sources = ET.SubElement(root, "Sources")
    code_guids = dict(zip(zip(tree["theme"], tree["subtheme"]), tree["guid"]))
    placed = placed.sort_values(["transcript_id", "source_start", "source_end", "theme", "subtheme", "term", "coder"],
                                kind="stable")
    by_source = dict(tuple(placed.groupby("transcript_id", sort=True)))
    for tid, (text, _) in texts.items():
        sg = source_guid[tid]
        src = ET.SubElement(sources, "TextSource", {"guid": sg, "name": _clean(tid),
                                                        "plainTextPath": f"internal://{sg}.txt"})
        files[f"sources/{sg}.txt"] = text.encode("utf-8")
        rows = by_source.get(tid)
        if rows is None:
            continue
        for r in rows.itertuples(index=False):
            code = code_guids[(r.theme, r.subtheme)]
            sel_guid = guid("selection", sg, r.source_start, r.source_end, code, r.term, r.coder)
            sel = ET.SubElement(src, "PlainTextSelection", {
                "guid": sel_guid, "name": _clean(r.term), "startPosition": str(r.source_start),
                "endPosition": str(r.source_end), "creatingUser": user_guid[r.coder]})
            coding = ET.SubElement(sel, "Coding", {"guid": guid("coding", sel_guid),
                                                       "creatingUser": user_guid[r.coder]})
            ET.SubElement(coding, "CodeRef", {"targetGUID": code})
    if description:
        ET.SubElement(root, "Description").text = _clean(description)
    return {"project.qde": _serialise(root), **dict(sorted(files.items()))}


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip of the files in the given order, with fixed timestamps and permissions (byte-identical)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def export_qdpx(out: str | Path, turns: pd.DataFrame, codings: pd.DataFrame, codes: pd.DataFrame | None = None,
                participants: pd.DataFrame | None = None, name: str = "IPS workbench coding",
                description: str = "") -> Path:
    """Write a .qdpx (project.qde + sources/) holding the transcripts and the codings; return its path."""
    return paths.atomic_write(paths.resolve(out), zip_bytes(project_files(turns, codings, codes, participants, name,
                                                                       description)))


def qdc_bytes(codes: pd.DataFrame) -> bytes:
    """A REFI-QDA codebook (.qdc): the code tree with descriptions and colours."""
    tree = _code_tree(codes, pd.DataFrame(columns=["theme", "subtheme"]))
    root = ET.Element("CodeBook", {"xmlns": CODEBOOK_NS})
    _code_elements(root, tree)
    return _serialise(root)


def export_qdc(out: str | Path, codes: pd.DataFrame) -> Path:
    """Write the codebook as a .qdc file (for NVivo, ATLAS.ti, MAXQDA, QualCoder); return its path."""
    return paths.atomic_write(paths.resolve(out), qdc_bytes(codes))


# ----------------------------------------------------------------------------- command line
def load_turns(path: str | Path) -> pd.DataFrame:
    """The turns table from a file written by `ingest` (CSV or Parquet); there is no default corpus."""
    from . import corpus

    if not path:
        raise InputError("no turns table given; name the one `python -m helpers ingest PATH --out TURNS` wrote "
                         "(--corpus TURNS)")
    turns = corpus.read_turns(path)
    if "speaker" not in turns.columns:
        turns = turns.assign(speaker="")
    return turns


def read_codings_file(path: str | Path, default_coder: str = AUTO_CODER) -> pd.DataFrame:
    """A codings table file (CSV/Parquet, checked by cooccur.read_codings) with whole-number offsets and a
    coder (`default_coder` when the table has no coder column)."""
    from .cooccur import read_codings

    codings = read_codings(path)
    shown = paths.relative(paths.resolve(path))
    problems = []
    for col in ("start", "end"):
        if col not in codings.columns:
            problems.append(f"{shown}:1: missing column {col!r}; a codings table has character offsets start, end")
            continue
        values = pd.to_numeric(codings[col], errors="coerce")
        for i in np.flatnonzero(values.isna().to_numpy() | (values % 1 != 0).fillna(True).to_numpy())[:20]:
            problems.append(f"{shown}:{i + 2}: {col} {codings[col].iat[i]!r} is not a whole number")
        codings[col] = values
    if problems:
        raise InputError(problems)
    for col in ("group", "term"):
        if col not in codings.columns:
            codings[col] = ""
    return with_coder(codings.astype({"start": np.int64, "end": np.int64}), default_coder)


def codebook_codes_or_none(path: str | Path | None, required: bool = False) -> pd.DataFrame | None:
    """Codebook.codes of the given codebook; None when none is given (codes are then mapped by their own
    names), or an InputError when `required`. There is no default codebook."""
    from .codebook import load_codebook

    if not path:
        if required:
            raise InputError("no codebook given; name the codebook YAML file with --codebook")
        return None
    return load_codebook(path).codes


def _command_import(args) -> int:
    """`import-qdpx`: a QDA project's coding -> codings table (and cases)."""
    import sys

    from .corpus import write_table

    own_options = [name for name, given in (("--participants", args.participants),
                                            ("--interviewer-labels", args.interviewer_labels),
                                            ("--allow-unknown-speakers", args.allow_unknown_speakers)) if given]
    if args.corpus and own_options:
        raise InputError(f"{', '.join(own_options)}: only for turns read from the project's own sources; the turns "
                         f"table of --corpus already names its speakers (leave out --corpus or these options)")
    turns = load_turns(args.corpus) if args.corpus else None
    codes = codebook_codes_or_none(args.codebook)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IngestWarning)
        try:
            result = import_qdpx(args.file, turns, codes, args.include_interviewer, args.unit, args.participants,
                                 args.interviewer_labels, args.allow_unknown_speakers)
        finally:
            print_warnings(caught)
    if turns is None:
        print(f"turns read from the project's own sources: {len(result.turns)} turns of "
              f"{result.turns['transcript_id'].nunique()} transcripts", file=sys.stderr)
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    write_table(result.codings, args.out)
    if args.cases_out:
        write_table(result.cases, args.cases_out)
    coders = ", ".join(sorted(result.codings["coder"].unique())) or "none"
    print(f"{len(result.codings)} codings on {result.codings['segment_id'].nunique()} segments (coders: {coders}); "
          f"{len(result.unplaced)} selection(s) not placed -> {args.out}", file=sys.stderr)
    return 0


def _command_export(args) -> int:
    """`export-qdpx`: transcripts + codings + codebook -> a .qdpx for a QDA tool."""
    import sys

    turns = load_turns(args.corpus)
    codings = read_codings_file(args.codings)
    codes = codebook_codes_or_none(args.codebook, required=True)
    participants = load_participants(args.participants) if args.participants else None
    out = export_qdpx(args.out, turns, codings, codes, participants, args.name, args.description)
    print(f"{len(codings)} codings on {turns['transcript_id'].nunique()} transcripts -> {out}", file=sys.stderr)
    return 0


def _command_export_qdc(args) -> int:
    """`export-qdc`: the codebook as a REFI-QDA .qdc file."""
    import sys

    out = export_qdc(args.out, codebook_codes_or_none(args.codebook, required=True))
    print(f"codebook -> {out}", file=sys.stderr)
    return 0


def _command_quotes(args) -> int:
    """`quotes-to-qdpx`: hand-chosen quotes (YAML) -> a .qdpx, e.g. the demo human coding."""
    import sys

    turns = load_turns(args.corpus)
    codes = codebook_codes_or_none(args.codebook, required=True)
    codings, meta = codings_from_quotes(args.quotes, turns, codes)
    coded = sorted(codings["transcript_id"].unique())
    participants = load_participants(args.participants) if args.participants else None
    out = export_qdpx(args.out, turns[turns["transcript_id"].isin(coded)], codings, codes,
                      participants, str(meta.get("project") or "Human coding"),
                      str(meta.get("description") or ""))
    print(f"{len(codings)} codings in {len(coded)} transcripts -> {out}", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    """Register `import-qdpx`, `export-qdpx`, `export-qdc` and `quotes-to-qdpx`."""
    from .transcripts import DEFAULT_INTERVIEWER_LABELS

    p = sub.add_parser("import-qdpx", help="a REFI-QDA project (.qdpx/.qde) from NVivo, ATLAS.ti, MAXQDA, "
                                           "QualCoder … -> codings table with a coder column")
    p.add_argument("file", metavar="FILE", help=".qdpx (or a .qde beside its sources folder)")
    p.add_argument("--out", required=True, metavar="CODINGS", help="codings table to write (.csv or .parquet)")
    p.add_argument("--corpus", default=None, metavar="TURNS",
                   help="place the codings on this turns table from `ingest` (default: read the turns from the "
                        "project's own text sources)")
    p.add_argument("--participants", default=None, metavar="CSV",
                   help="without --corpus: resolve the speakers of the project's sources with this participants.csv "
                        "(default: each speaker of each source is a participant)")
    p.add_argument("--interviewer-labels", default=None, metavar="LABELS",
                   help=f"without --corpus: '|'-separated interviewer labels ('Name N' = Name + a number); default: "
                        f"{'|'.join(DEFAULT_INTERVIEWER_LABELS)}")
    p.add_argument("--allow-unknown-speakers", action="store_true",
                   help="without --corpus, with --participants: unknown speaker labels are warnings, not errors")
    p.add_argument("--codebook", default=None, metavar="YAML",
                   help="map code names onto this codebook's themes (default: none, codes keep their own names)")
    p.add_argument("--unit", choices=("turn", "sentence"), default="turn", help="segments to code (default turn)")
    p.add_argument("--include-interviewer", action="store_true", help="keep codings on interviewer turns")
    p.add_argument("--cases-out", default=None, metavar="CSV", help="also write the cases and their variables")
    p.set_defaults(func=_command_import)

    p = sub.add_parser("export-qdpx", help="transcripts + codings + codebook -> .qdpx to review in a QDA tool")
    p.add_argument("--corpus", required=True, metavar="TURNS", help="turns table from `ingest` (CSV or Parquet)")
    p.add_argument("--codings", required=True, metavar="CODINGS", help="codings table from `code` or `import-qdpx`")
    p.add_argument("--codebook", required=True, metavar="YAML", help="codebook YAML: the code tree of the project")
    p.add_argument("--participants", default=None, metavar="CSV", help="participants.csv -> cases and variables")
    p.add_argument("--name", default="IPS workbench auto-coding", help="project name shown by the QDA tool")
    p.add_argument("--description", default="", help="project description")
    p.add_argument("--out", required=True, metavar="FILE.qdpx", help="file to write")
    p.set_defaults(func=_command_export)

    p = sub.add_parser("export-qdc", help="codebook -> REFI-QDA codebook (.qdc)")
    p.add_argument("--codebook", required=True, metavar="YAML", help="codebook YAML to export")
    p.add_argument("--out", required=True, metavar="FILE.qdc", help="file to write")
    p.set_defaults(func=_command_export_qdc)

    p = sub.add_parser("quotes-to-qdpx", help="hand-chosen quotes (YAML) -> .qdpx (how data/human_coding_demo.qdpx "
                                              "is made)")
    p.add_argument("quotes", metavar="YAML", help="quotes file, e.g. data/human_coding_demo.yaml")
    p.add_argument("--out", required=True, metavar="FILE.qdpx", help="file to write")
    p.add_argument("--corpus", required=True, metavar="TURNS", help="turns table from `ingest` the quotes come from")
    p.add_argument("--participants", default=None, metavar="CSV", help="participants.csv -> cases and variables")
    p.add_argument("--codebook", required=True, metavar="YAML", help="codebook YAML the quotes' codes belong to")
    p.set_defaults(func=_command_quotes)
