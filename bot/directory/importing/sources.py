"""Reading a directory file: CSV or JSON, whatever its encoding, one place at a time.

What a file *is* comes from its content, not its name: after an optional byte-order mark, a file whose
first character is `[` or `{` is JSON, anything else CSV.

- **Encoding** (files given by path): UTF-8, with or without BOM, is read as such; UTF-16 with its BOM too.
  A file that is not valid UTF-8 and holds no valid UTF-8 multi-byte sequence is a legacy spreadsheet
  export: Windows-1252 (ISO-8859-1 when it has bytes Windows-1252 leaves undefined), and the summary
  says so. A file of valid UTF-8 with a few bad bytes is refused (`MSG_FILE_ENCODING`, with the line):
  reading it as Windows-1252 would garble every accent.
- **CSV**: `,`, `;` or tab, whichever the header line holds most; header names are compared
  lower-cased and trimmed; for a repeated column the first non-empty value wins.
- **JSON**: an array of objects, or an object holding one (the first array of objects under any key:
  `{"data": [...], "meta": {...}}` as the national API pages serve it, `{"lieux": [...]}`, GeoJSON's
  `{"features": [...]}`). Each object is flattened to the standard's flat names: the national
  library's nested model (`adresse: {voie, code_postal, code_insee, commune, complement_adresse}`,
  `localisation: {latitude, longitude}` or a GeoJSON point, `contact: {telephone, courriels, site_web}`,
  `presentation: {resume, detail}`, `typologies`, `dispositifs_programmes_nationaux`), a GeoJSON
  feature's `properties` and `geometry`, and any other nested object's fields under their own names.
  A list stays a list (the value mapper reads lists and `|`-joined strings alike); numbers become text
  (a code_postal written as the number 1000 becomes "01000").

Both are streamed: a national file (20,000 places) is never held in memory; the JSON reader decodes
one place at a time from a sliding buffer.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, TextIO, Tuple, Union

from bot.directory.importing import messages as msg


class ImportFileError(ValueError):
    """The source is not a readable directory file; nothing was written."""


Source = Union[str, "os.PathLike[str]", TextIO]

SNIFF_BYTES = 64 * 1024
READ_BYTES = 1024 * 1024
JSON_CHUNK = 64 * 1024
MAX_JSON_VALUE = 16 * 1024 * 1024  # one place (or one skipped value) larger than this is not a directory file

# Bytes Windows-1252 leaves undefined: a file holding them is read as ISO-8859-1.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# A well-formed UTF-8 multi-byte sequence: a legacy file almost never holds one by chance.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


@dataclass(frozen=True)
class Record:
    """One place as the file gives it: field names as written (lower-cased), values text or lists."""

    line: int
    fields: Dict[str, object]
    extra: int = 0  # CSV: values past the header's width
    not_an_object: bool = False  # JSON: an array element that is not an object


@dataclass
class SourceInfo:
    format: str  # "csv" or "json"
    encoding: Optional[str]  # codec used; None for a stream already decoded
    delimiter: Optional[str] = None
    fields: Optional[Tuple[str, ...]] = ()  # the CSV header, or the first JSON place's (None: no place)

    @property
    def legacy_encoding(self) -> bool:
        return self.encoding in ("cp1252", "latin-1")

    def describe(self) -> List[str]:
        """French lines for the summary: how the file was read, and a warning for a legacy encoding."""
        name = msg.ENCODING_NAMES.get(self.encoding or "", self.encoding or "")
        encoding = msg.SOURCE_ENCODING.format(name=name) if self.encoding else ""
        if self.format == "json":
            line = msg.SOURCE_JSON.format(encoding=encoding)
        else:
            delimiter = msg.DELIMITER_NAMES.get(self.delimiter or ",", self.delimiter or ",")
            line = msg.SOURCE_CSV.format(delimiter=delimiter, encoding=encoding)
        lines = [line]
        if self.legacy_encoding:
            lines.append(msg.ENCODING_NOTICE.format(encoding=name))
        return lines


# --- encoding -----------------------------------------------------------------------------------


def _line_of(raw, offset: int) -> int:
    raw.seek(0)
    line, read = 1, 0
    while read < offset:
        block = raw.read(min(READ_BYTES, offset - read))
        if not block:
            break
        line += block.count(b"\n")
        read += len(block)
    return line


def detect_encoding(path: Union[str, "os.PathLike[str]"]) -> str:
    """The codec to read `path` with (see the module's docstring); raises ImportFileError."""
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise ImportFileError(msg.MSG_FILE_UNREADABLE.format(path=path, reason=exc.strerror or exc)) from None
    with raw:
        head = raw.read(SNIFF_BYTES)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if not head.strip():
            raise ImportFileError(msg.MSG_FILE_EMPTY)
        if b"\x00" in head:
            raise ImportFileError(msg.MSG_FILE_BINARY)
        decoder = codecs.getincrementaldecoder("utf-8")()
        block, offset, bad_at = head, 0, None
        while block:
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                bad_at = offset + max(exc.start, 0)
                break
            offset += len(block)
            block = raw.read(READ_BYTES)
        if bad_at is None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                bad_at = offset
        if bad_at is None:
            return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
        raw.seek(0)
        multibyte = undefined = False
        for block in iter(lambda: raw.read(READ_BYTES), b""):
            multibyte = multibyte or bool(_UTF8_MULTIBYTE.search(block))
            undefined = undefined or bool(_CP1252_UNDEFINED.search(block))
        if multibyte:
            raise ImportFileError(msg.MSG_FILE_ENCODING.format(line=_line_of(raw, bad_at)))
        return "latin-1" if undefined else "cp1252"


# --- CSV ----------------------------------------------------------------------------------------


def _detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def field_key(name: object) -> str:
    """A field name as compared: BOM, quotes and spaces removed, lower-cased."""
    return str(name or "").replace("\ufeff", "").strip().strip('"').strip().lower()


class _CsvRecords:
    def __init__(self, stream: TextIO, first: str, line_offset: int):
        self.delimiter = _detect_delimiter(first)
        self._offset = line_offset
        self._reader = csv.reader(itertools.chain([first], stream), delimiter=self.delimiter)
        try:
            raw_header = next(self._reader)
        except UnicodeDecodeError:  # the header runs past the first line and into bytes that do not decode
            raise ImportFileError(msg.MSG_FILE_ENCODING.format(line=1 + line_offset)) from None
        except csv.Error as exc:
            raise ImportFileError(msg.MSG_FILE_CSV.format(line=1 + line_offset, error=exc)) from None
        self.header = [field_key(h) for h in raw_header]

    def __iter__(self) -> Iterator[Record]:
        width = len(self.header)
        line_end = self._reader.line_num
        while True:
            start = line_end + 1
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise ImportFileError(msg.MSG_FILE_ENCODING.format(line=start + self._offset)) from None
            except csv.Error as exc:
                raise ImportFileError(msg.MSG_FILE_CSV.format(line=start + self._offset, error=exc)) from None
            line_end = self._reader.line_num
            if not values or all(not v.strip() for v in values):
                continue
            row: Dict[str, object] = {}
            for key, value in zip(self.header, values):
                if key and not row.get(key):
                    row[key] = value
            extra = max(0, len(values) - width)
            # Trailing empty cells (a common spreadsheet artefact) are not an error.
            if extra and all(not v.strip() for v in values[width:]):
                extra = 0
            yield Record(start + self._offset, row, extra)


# --- JSON ---------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")


class _JsonCursor:
    """Decodes JSON values one by one from a text stream, keeping only what is not read yet."""

    def __init__(self, stream: TextIO, head: str, line: int):
        self._stream = stream
        self._buf = head
        self._pos = 0
        self._eof = False
        self._line = line  # line number of self._buf[0]
        self._decoder = json.JSONDecoder()

    def _more(self, size: int = JSON_CHUNK) -> bool:
        if self._eof:
            return False
        try:
            chunk = self._stream.read(size)
        except UnicodeDecodeError:
            raise ImportFileError(msg.MSG_FILE_ENCODING.format(line=self.line)) from None
        if not chunk:
            self._eof = True
            return False
        if "\x00" in chunk:
            raise ImportFileError(msg.MSG_FILE_BINARY)
        self._line += self._buf.count("\n", 0, self._pos)
        self._buf = self._buf[self._pos:] + chunk
        self._pos = 0
        return True

    @property
    def line(self) -> int:
        return self._line + self._buf.count("\n", 0, self._pos)

    def error(self, pos: Optional[int] = None) -> ImportFileError:
        pos = self._pos if pos is None else pos
        line = self._line + self._buf.count("\n", 0, pos)
        column = pos - (self._buf.rfind("\n", 0, pos) + 1) + 1
        return ImportFileError(msg.MSG_FILE_JSON.format(line=line, column=column))

    def peek(self) -> str:
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._more():
                return ""

    def expect(self, allowed: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            raise self.error()
        self._pos += 1
        return char

    def value(self) -> object:
        self.peek()
        size = JSON_CHUNK
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if len(self._buf) - self._pos < MAX_JSON_VALUE and self._more(size):
                    size = min(size * 2, MAX_JSON_VALUE)
                    continue
                raise self.error(exc.pos) from None
            except RecursionError:
                raise self.error() from None
            if end >= len(self._buf) and self._more(size):
                continue  # a number may go on in the next chunk
            self._pos = end
            return value


class _JsonRecords:
    """The places of a JSON file: the top-level array, or the first array of objects in the top-level object."""

    def __init__(self, stream: TextIO, head: str, line: int):
        self._cursor = _JsonCursor(stream, head, line)

    def __iter__(self) -> Iterator[Record]:
        cursor = self._cursor
        first = cursor.peek()
        if first == "[":
            yield from self._array()
        elif first == "{":
            cursor.expect("{")
            found = empty = False
            if cursor.peek() == "}":
                cursor.expect("}")
            else:
                while True:
                    if cursor.peek() != '"':
                        raise cursor.error()
                    cursor.value()  # the key
                    cursor.expect(":")
                    if not found and cursor.peek() == "[":
                        taken = yield from self._array(objects_only=True)
                        found, empty = taken is True, empty or taken is None
                    else:
                        cursor.value()
                    if cursor.expect(",}") == "}":
                        break
            if not found and not empty:  # {"data": []}: a page without places
                raise ImportFileError(msg.MSG_FILE_JSON_NO_PLACES)
        else:
            raise ImportFileError(msg.MSG_FILE_JSON_NO_PLACES)
        if cursor.peek():
            raise cursor.error()

    def _array(self, objects_only: bool = False):
        """Yield the array's places; return True when it was the list of places, None when empty, False
        when it held something else (`objects_only`: an array of strings or numbers is skipped)."""
        cursor = self._cursor
        cursor.expect("[")
        if cursor.peek() == "]":
            cursor.expect("]")
            return None
        if objects_only and cursor.peek() != "{":
            while True:  # an array of something else (strings, numbers): skipped
                cursor.value()
                if cursor.expect(",]") == "]":
                    return False
        while True:
            cursor.peek()
            line = cursor.line
            element = cursor.value()
            if isinstance(element, dict):
                yield Record(line, flatten(element))
            else:
                yield Record(line, {}, not_an_object=True)
            if cursor.expect(",]") == "]":
                return True


# Sub-objects of the national library's model (@gouvfr-anct/lieux-de-mediation-numerique) -> flat names.
NESTED_FIELDS = {
    "adresse": {"voie": "adresse", "complement_adresse": "complement_adresse", "code_postal": "code_postal",
                "code_insee": "code_insee", "commune": "commune"},
    "localisation": {"latitude": "latitude", "longitude": "longitude", "lat": "latitude", "lon": "longitude",
                     "lng": "longitude"},
    "contact": {"telephone": "telephone", "courriels": "courriels", "courriel": "courriels", "site_web": "site_web"},
    "presentation": {"resume": "presentation_resume", "detail": "presentation_detail"},
}
# Top-level names of that model that differ from the flat standard's.
MODEL_NAMES = {"typologies": "typologie", "dispositifs_programmes_nationaux": "dispositif_programmes_nationaux"}
CODE_FIELDS = ("code_postal", "code_insee")


def _text(key: str, value: object) -> object:
    """A JSON value as the importer reads it: text, a list of texts, or None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and key in CODE_FIELDS:
        return str(value).zfill(5)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return [str(_text(key, v)) for v in value if v is not None and not isinstance(v, (dict, list))]
    if isinstance(value, dict):
        return None
    return str(value)


def _point(value: object) -> Optional[Tuple[object, object]]:
    """(latitude, longitude) of a GeoJSON point {"type": "Point", "coordinates": [lon, lat]}."""
    if isinstance(value, dict) and isinstance(value.get("coordinates"), list) and len(value["coordinates"]) >= 2:
        lon, lat = value["coordinates"][:2]
        return lat, lon
    return None


def flatten(obj: Dict[str, object]) -> Dict[str, object]:
    """One JSON place as flat fields (see the module's docstring)."""
    if field_key(obj.get("type")) == "feature" and isinstance(obj.get("properties"), dict):
        merged = dict(obj["properties"])
        point = _point(obj.get("geometry"))
        if point and "latitude" not in merged and "longitude" not in merged:
            merged["latitude"], merged["longitude"] = point
        obj = merged
    out: Dict[str, object] = {}
    nested: List[Tuple[str, Dict[str, object]]] = []
    for raw_key, value in obj.items():
        key = field_key(raw_key)
        if isinstance(value, dict):
            nested.append((key, value))
            continue
        key = MODEL_NAMES.get(key, key)
        if key and key not in out:
            out[key] = _text(key, value)
    for key, value in nested:
        names = NESTED_FIELDS.get(key)
        point = _point(value) if key in ("localisation", "geometry", "geo", "position") else None
        if point:
            out.setdefault("latitude", _text("latitude", point[0]))
            out.setdefault("longitude", _text("longitude", point[1]))
            continue
        for raw_sub, sub_value in value.items():
            sub = field_key(raw_sub)
            target = names.get(sub, sub) if names else MODEL_NAMES.get(sub, sub)
            if isinstance(sub_value, dict) or not target:
                continue
            if target not in out or out[target] in (None, "", []):
                out[target] = _text(target, sub_value)
    return out


# --- opening a source ---------------------------------------------------------------------------


@dataclass
class PlaceSource:
    """An opened file: `info` says how it is read; iterating gives its places in order."""

    info: SourceInfo
    _records: Iterator[Record]
    _first: List[Record] = field(default_factory=list)

    def __iter__(self) -> Iterator[Record]:
        yield from self._first
        self._first = []
        yield from self._records


def _first_line(stream: TextIO) -> Tuple[str, int]:
    """The first non-blank line (BOM removed) and how many blank lines came before it."""
    skipped = 0
    while True:
        try:
            line = stream.readline()
        except UnicodeDecodeError:
            raise ImportFileError(msg.MSG_FILE_ENCODING.format(line=skipped + 1)) from None
        if skipped == 0:
            line = line.lstrip("\ufeff")
        if "\x00" in line:
            raise ImportFileError(msg.MSG_FILE_BINARY)
        if line.strip() or not line:
            return line, skipped
        skipped += 1


def read_places(stream: TextIO, encoding: Optional[str] = None) -> PlaceSource:
    """Open a decoded text stream as CSV or JSON, from its first character; raises ImportFileError."""
    first, skipped = _first_line(stream)
    if not first.strip():
        raise ImportFileError(msg.MSG_FILE_EMPTY)
    if first.lstrip()[0] in "[{":
        records = iter(_JsonRecords(stream, first, skipped + 1))
        head = list(itertools.islice(records, 1))
        fields = tuple(head[0].fields) if head else None
        return PlaceSource(SourceInfo("json", encoding, None, fields), records, head)
    reader = _CsvRecords(stream, first, skipped)
    return PlaceSource(SourceInfo("csv", encoding, reader.delimiter, tuple(reader.header)), iter(reader))


def open_path(path: Union[str, "os.PathLike[str]"]) -> Tuple[TextIO, str]:
    """The file opened as text in its detected encoding, and that encoding."""
    encoding = detect_encoding(path)
    try:
        return open(path, "r", encoding=encoding, newline=""), encoding
    except OSError as exc:
        raise ImportFileError(msg.MSG_FILE_UNREADABLE.format(path=path, reason=exc.strerror or exc)) from None
