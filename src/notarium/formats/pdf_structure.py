"""The structure a PDF must have before it is sealed or its signatures are checked.

pyHanko reads lazily and trusts the object graph it is given: a page tree that loops, a
page that is not a dictionary or a MediaBox of names surface as arbitrary exceptions
half-way through signing (or as a seal over a document no reader can display). This
walks the parts every reader needs, once, without recursion, and says what is wrong.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Final

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from notarium.formats.pdf import MalformedPdfError

#: ISO 32000-1 Annex C: no more indirect objects than this in a conforming file.
MAX_OBJECTS: Final = 8_388_607
#: Page tree nodes walked at most; far beyond any real document at 10 MB.
MAX_NODES: Final = 200_000
#: Inherited page attributes (ISO 32000-1, 7.7.3.4) checked here.
_INHERITED: Final = ("/MediaBox", "/CropBox", "/Rotate")


def check_structure(reader: PdfFileReader) -> None:
    """Raise :class:`MalformedPdfError` unless the trailer, the catalog, the page tree
    and the form fields hold together."""
    try:
        _check(reader)
    except MalformedPdfError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise MalformedPdfError("the document is nested too deeply to be read") from exc
    except Exception as exc:
        raise MalformedPdfError(f"the document is not a readable PDF ({exc})") from exc


def _check(reader: PdfFileReader) -> None:
    size = reader.trailer.raw_get("/Size")
    if not _integer(size) or not 0 < int(size) <= MAX_OBJECTS + 1:
        raise MalformedPdfError("the document's trailer has no valid /Size")
    root = reader.root
    if not isinstance(root, generic.DictionaryObject):
        raise MalformedPdfError("the document's catalog is not a dictionary")
    pages = _dictionary(_get(root, "/Pages"), "the page tree root")
    _check_pages(pages, root.raw_get("/Pages"))
    if "/AcroForm" in root:
        form = _dictionary(root["/AcroForm"], "the form (/AcroForm)")
        if "/Fields" in form:
            _check_fields(form["/Fields"])


def _get(dictionary: generic.DictionaryObject, key: str, default: Any = None) -> Any:
    """The value under ``key``, dereferenced (``.get`` would hand back the reference)."""
    return dictionary[key] if key in dictionary else default  # noqa: SIM401


def _dictionary(value: Any, what: str) -> generic.DictionaryObject:
    if not isinstance(value, generic.DictionaryObject):
        raise MalformedPdfError(f"{what} is not a dictionary")
    return value


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) and abs(number) < 1e9 else None


def _key(ref: Any) -> tuple[int, int] | None:
    if isinstance(ref, generic.IndirectObject):
        return ref.idnum, ref.generation
    return None


def _check_pages(root: generic.DictionaryObject, root_ref: Any) -> None:
    """Every node a dictionary reached once, every leaf a page with a usable MediaBox,
    and the root's /Count the number of pages found."""
    seen: set[tuple[int, int]] = set()
    if (key := _key(root_ref)) is not None:
        seen.add(key)
    # (node, attributes inherited from its ancestors)
    stack: list[tuple[generic.DictionaryObject, dict[str, Any]]] = [(root, {})]
    pages = 0
    while stack:
        node, inherited = stack.pop()
        if len(seen) > MAX_NODES:
            raise MalformedPdfError("the page tree is larger than any document this size")
        attributes = {**inherited, **{k: node[k] for k in _INHERITED if k in node}}
        kind = _get(node, "/Type")
        if kind == "/Pages" or (kind is None and "/Kids" in node):
            kids = _get(node, "/Kids")
            if not isinstance(kids, generic.ArrayObject):
                raise MalformedPdfError("a page tree node has no /Kids array")
            for index in range(len(kids)):
                ref = kids.raw_get(index)
                key = _key(ref)
                if key is None:
                    raise MalformedPdfError("a page tree node lists a kid that is no reference")
                if key in seen:
                    raise MalformedPdfError("the page tree loops back on itself")
                seen.add(key)
                kid = ref.get_object()
                if isinstance(kid, generic.NullObject) or kid is None:
                    raise MalformedPdfError(f"page object {key[0]} is missing")
                stack.append((_dictionary(kid, f"page tree node {key[0]}"), attributes))
        elif kind == "/Page" or (kind is None and node is not root):
            # Some writers leave out a leaf's /Type; readers take it for a page.
            _check_page(attributes)
            pages += 1
        else:
            raise MalformedPdfError("the page tree holds a node that is neither /Pages nor /Page")
    count = _get(root, "/Count")
    if not _integer(count) or int(count) != pages:
        raise MalformedPdfError(
            f"the page tree says /Count {str(count)[:20]} but holds {pages} page(s)"
        )
    if pages == 0:
        raise MalformedPdfError("the document has no pages")


def _check_page(attributes: dict[str, Any]) -> None:
    for name in ("/MediaBox", "/CropBox"):
        if name == "/CropBox" and name not in attributes:
            continue  # optional; defaults to the MediaBox
        box = attributes.get(name)
        corners = (
            [_number(v) for v in box]
            if isinstance(box, generic.ArrayObject) and len(box) == 4
            else None
        )
        if corners is None or None in corners:
            raise MalformedPdfError(f"a page has no usable {name} (four numbers)")
        x1, y1, x2, y2 = (c for c in corners if c is not None)
        if x1 == x2 or y1 == y2:
            raise MalformedPdfError(f"a page's {name} is empty")
    rotate = attributes.get("/Rotate", 0)
    if not isinstance(rotate, int) or isinstance(rotate, bool) or rotate % 90:
        raise MalformedPdfError("a page's /Rotate is not a multiple of 90")


def _check_fields(fields: Any) -> None:
    """The form's field tree: arrays of dictionaries, no field reached twice."""
    if not isinstance(fields, generic.ArrayObject):
        raise MalformedPdfError("the form's /Fields is not an array")
    seen: set[tuple[int, int]] = set()
    stack: list[generic.ArrayObject] = [fields]
    while stack:
        array = stack.pop()
        for index in range(len(array)):
            ref = array.raw_get(index)
            key = _key(ref)
            if key is not None:
                if key in seen:
                    raise MalformedPdfError("the form's field tree loops back on itself")
                seen.add(key)
                if len(seen) > MAX_NODES:
                    raise MalformedPdfError("the form has more fields than any document")
            field = _dictionary(ref.get_object(), "a form field")
            if _get(field, "/FT") == "/Sig" and "/V" in field:
                _check_signature_value(field["/V"])
            kids = _get(field, "/Kids")
            if kids is not None:
                if not isinstance(kids, generic.ArrayObject):
                    raise MalformedPdfError("a form field's /Kids is not an array")
                stack.append(kids)


def _check_signature_value(value: Any) -> None:
    """An existing signature: a dictionary whose /ByteRange is pairs of non-negative
    integers and whose /Contents is a string, or nothing can be said about it."""
    signature = _dictionary(value, "a signature field's value")
    byte_range = _get(signature, "/ByteRange")
    if (
        not isinstance(byte_range, generic.ArrayObject)
        or not byte_range
        or len(byte_range) % 2
        or not all(_integer(v) and int(v) >= 0 for v in byte_range)
    ):
        raise MalformedPdfError("a signature's /ByteRange is not pairs of offsets")
    if not isinstance(
        _get(signature, "/Contents"), generic.ByteStringObject | generic.TextStringObject
    ):
        raise MalformedPdfError("a signature's /Contents is not a string")
