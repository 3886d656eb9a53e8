"""Decoding a Bot API request body the way the real server accepts it: query string, urlencoded form,
multipart/form-data (python-telegram-bot uses it whenever a file is uploaded) or a JSON object.

python-telegram-bot sends every parameter as a form field whose value is the raw string for strings and
JSON for everything else; files are multipart parts with a filename. Multipart is parsed by hand (the
`cgi` module is deprecated and `email` rewrites line endings), which keeps uploaded bytes exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value
from urllib.parse import parse_qsl


class WireError(ValueError):
    """The request body cannot be decoded at all (the real server answers 400)."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file part."""

    part: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class WireRequest:
    """The raw parameters (all strings, as on the wire) and uploaded files of one request."""

    fields: dict[str, str]
    uploads: dict[str, Upload]


def decode_request(content_type: str | None, body: bytes, query: str) -> WireRequest:
    """Merge the query string with the body; body fields win, as on the real server."""
    fields = dict(parse_qsl(query, keep_blank_values=True))
    uploads: dict[str, Upload] = {}
    mime, params = _parse_header(content_type or "")
    if not body:
        return WireRequest(fields, uploads)
    if mime == "multipart/form-data":
        boundary = params.get("boundary")
        if not boundary:
            raise WireError("multipart/form-data without a boundary")
        body_fields, uploads = _parse_multipart(body, boundary)
        fields.update(body_fields)
    elif mime == "application/json":
        fields.update(_json_fields(body))
    elif mime in ("application/x-www-form-urlencoded", ""):
        try:
            fields.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError as error:
            raise WireError("the form is not valid UTF-8") from error
    else:
        raise WireError(f"unsupported Content-Type {mime!r}")
    return WireRequest(fields, uploads)


def _parse_header(value: str) -> tuple[str, dict[str, str]]:
    """A MIME header value's main value (lowercased) and its parameters, quoting and RFC 2231 undone."""
    message = Message()
    message["x"] = value
    params: dict[str, str] = {}
    for key, raw in message.get_params(header="x", unquote=True) or []:
        params[key.lower()] = collapse_rfc2231_value(raw) if raw else ""
    main = next(iter(params), "")
    params.pop(main, None)
    return main.strip(), params


def _parse_multipart(body: bytes, boundary: str) -> tuple[dict[str, str], dict[str, Upload]]:
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    chunks = (b"\r\n" + body).split(delimiter)
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        raise WireError("malformed multipart/form-data body (no closing boundary)")
    fields: dict[str, str] = {}
    uploads: dict[str, Upload] = {}
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n"):
            raise WireError("malformed multipart/form-data part")
        head, separator, content = chunk[2:].partition(b"\r\n\r\n")
        if not separator:
            raise WireError("multipart part without a header/body separator")
        headers = _part_headers(head)
        _, disposition = _parse_header(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            raise WireError("multipart part without a name")
        if "filename" in disposition:
            content_type = _parse_header(headers["content-type"])[0] if "content-type" in headers else None
            uploads[name] = Upload(name, disposition["filename"], content_type, content)
        else:
            try:
                fields[name] = content.decode("utf-8")
            except UnicodeDecodeError as error:
                raise WireError(f"form field {name!r} is not valid UTF-8") from error
    return fields, uploads


def _part_headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, colon, value = line.partition(":")
        if not colon:
            raise WireError(f"malformed multipart header line {line!r}")
        headers[key.strip().lower()] = value.strip()
    return headers


def _json_fields(body: bytes) -> dict[str, str]:
    """A JSON body, re-encoded as form values so that both encodings are checked by the same code."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise WireError("the body is not valid JSON") from error
    if not isinstance(document, dict):
        raise WireError("a JSON body must be an object")
    return {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in document.items()
        if value is not None
    }
