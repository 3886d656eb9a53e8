"""The Bot API as data (api.json, Bot API 10.0) and request validation against it.

Why strict: the real server silently ignores an unknown parameter, so a misspelt ``parse_mod`` ships and
the messages go out unformatted. The fake rejects unknown parameters, missing required ones and wrongly
typed values, and checks JSON-serialized objects (reply markups, entities, command scopes, ...) field by
field against the type definitions, recursing through arrays and subtype unions.

The spec file is vendored next to this module (``telegram-bot-api/api.json``, byte-identical to the
project's shared copy) so the suite runs anywhere; `ApiSpec.load` accepts another path.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import bad_request
from .wire import Upload

SPEC_PATH = Path(__file__).resolve().parent / "telegram-bot-api" / "api.json"

_PRIMITIVES = frozenset({"Integer", "Float", "String", "Boolean", "True", "InputFile"})
_INTEGER = re.compile(r"-?[0-9]{1,20}")
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
_ATTACH = "attach://"
# How a subtype names itself: 'always "creator"' or 'must be chat'.
_DISCRIMINATOR = re.compile(r'always "([^"]+)"|must be \*?([a-z_]+)\*?')


@dataclass(frozen=True)
class FieldDef:
    """One parameter of a method or one field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodDef:
    """A Bot API method: its parameters in documentation order and its return type."""

    name: str
    fields: dict[str, FieldDef]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeDef:
    """A Bot API type; an abstract one lists its subtypes, a concrete subtype names its discriminator."""

    name: str
    fields: dict[str, FieldDef]
    subtypes: tuple[str, ...] = ()
    discriminator: tuple[str, str] | None = None  # e.g. ("type", "chat") for BotCommandScopeChat


class SpecViolation(ValueError):
    """A value does not match the type the spec requires; `path` says where, e.g. inline_keyboard[0][1]."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass
class _Attachments:
    """Which uploaded parts the parameters refer to with attach://<name>."""

    available: Mapping[str, Upload]
    used: set[str] = field(default_factory=set)

    def refer(self, value: str, path: str) -> None:
        name = value[len(_ATTACH) :]
        if name not in self.available:
            raise SpecViolation(path, f'refers to "{value}" but no file part of that name was uploaded')
        self.used.add(name)


class ApiSpec:
    """The methods and types of one Bot API version, and the checks derived from them."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.version: str = document["version"]
        self.methods = {name: _method(raw) for name, raw in document["methods"].items()}
        self.types = {name: _type(raw) for name, raw in document["types"].items()}
        self._by_lower = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> ApiSpec:
        """Load (once per path: the file is large and never changes during a run)."""
        return _load(path.resolve())

    def method(self, name: str) -> MethodDef | None:
        """The method of that name; like the real server, method names are case-insensitive."""
        canonical = self._by_lower.get(name.lower())
        return self.methods[canonical] if canonical else None

    def decode_params(
        self, method: MethodDef, raw: Mapping[str, str], uploads: Mapping[str, Upload]
    ) -> dict[str, Any]:
        """Raw form values -> typed parameters, or ApiError(400) naming the first problem.

        A file uploaded directly for a parameter (python-telegram-bot's ``photo=<bytes>``) appears in the
        result as ``"attach://<part>"``, the same form a JSON object uses to point at an uploaded part.
        """
        unknown = [name for name in raw if name not in method.fields]
        attachments = _Attachments(uploads)
        direct_uploads = {
            name for name in uploads if name in method.fields and "InputFile" in method.fields[name].types
        }
        params: dict[str, Any] = {}
        for name, definition in method.fields.items():
            if name in direct_uploads:
                params[name] = f"{_ATTACH}{name}"
                attachments.used.add(name)
            elif name in raw:
                params[name] = self._decode_field(definition, raw[name], attachments)
            elif definition.required:
                if method.name in ("sendMessage", "editMessageText") and name == "text":
                    raise bad_request("message text is empty")
                raise bad_request(f'parameter "{name}" is required')
        unused = [name for name in uploads if name not in attachments.used]
        if unknown:
            raise bad_request(f'unknown parameter "{unknown[0]}" for method {method.name}')
        if unused:
            raise bad_request(f'file part "{unused[0]}" is uploaded but no parameter refers to it')
        return params

    def check_value(self, types: Sequence[str], value: Any, path: str = "value") -> None:
        """Check a decoded JSON value against a union of type expressions; raise SpecViolation."""
        self._check_union(types, value, path, _Attachments({}))

    def _decode_field(self, definition: FieldDef, raw: str, attachments: _Attachments) -> Any:
        json_types = [t for t in definition.types if t not in _PRIMITIVES]
        if json_types:
            try:
                value = json.loads(raw)
            except ValueError:
                raise bad_request(f'can\'t parse parameter "{definition.name}": not valid JSON') from None
            try:
                self._check_union(json_types, value, definition.name, attachments)
            except SpecViolation as violation:
                raise bad_request(f'can\'t parse parameter "{definition.name}": {violation}') from None
            return value
        for type_name in definition.types:
            decoded = _decode_primitive(type_name, raw)
            if decoded is not _NO_MATCH:
                if isinstance(decoded, str) and decoded.startswith(_ATTACH):
                    try:
                        attachments.refer(decoded, definition.name)
                    except SpecViolation as violation:
                        raise bad_request(str(violation)) from None
                return decoded
        expected = " or ".join(definition.types)
        raise bad_request(f'parameter "{definition.name}" must be {expected}, got {raw!r}')

    def _check_union(self, types: Sequence[str], value: Any, path: str, attachments: _Attachments) -> None:
        violations: list[SpecViolation] = []
        for type_name in types:
            try:
                self._check_type(type_name, value, path, attachments)
                return
            except SpecViolation as violation:
                violations.append(violation)
        # Report the alternative that got furthest: its path is the longest.
        raise max(violations, key=lambda violation: len(violation.path))

    def _check_type(self, type_name: str, value: Any, path: str, attachments: _Attachments) -> None:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                raise SpecViolation(path, f"must be an Array, got {_describe(value)}")
            for index, item in enumerate(value):
                self._check_type(type_name[len("Array of ") :], item, f"{path}[{index}]", attachments)
            return
        if type_name in _PRIMITIVES:
            _check_json_primitive(type_name, value, path)
            if isinstance(value, str) and value.startswith(_ATTACH):
                attachments.refer(value, path)
            return
        definition = self.types.get(type_name)
        if definition is None:
            return  # not described by the spec: nothing to check against
        if not isinstance(value, dict):
            raise SpecViolation(path, f"must be a JSON object ({type_name}), got {_describe(value)}")
        if definition.subtypes:
            self._check_subtypes(definition, value, path, attachments)
            return
        for key in value:
            if key not in definition.fields:
                raise SpecViolation(f"{path}.{key}", f"unknown field of {type_name}")
        if definition.discriminator:
            key, expected = definition.discriminator
            if value.get(key) != expected:
                raise SpecViolation(f"{path}.{key}", f'must be "{expected}" for {type_name}')
        for name, child in definition.fields.items():
            if name in value:
                self._check_union(child.types, value[name], f"{path}.{name}", attachments)
            elif child.required:
                raise SpecViolation(f"{path}.{name}", f"required field of {type_name} is missing")

    def _check_subtypes(
        self, definition: TypeDef, value: dict[str, Any], path: str, attachments: _Attachments
    ) -> None:
        candidates = [self.types[name] for name in definition.subtypes if name in self.types]
        keyed = [c for c in candidates if c.discriminator]
        if keyed:
            key = keyed[0].discriminator[0] if keyed[0].discriminator else ""
            matching = [c for c in keyed if c.discriminator and value.get(key) == c.discriminator[1]]
            if not matching:
                allowed = ", ".join(sorted({c.discriminator[1] for c in keyed if c.discriminator}))
                raise SpecViolation(f"{path}.{key}", f"must be one of {allowed} for {definition.name}")
            candidates = matching
        self._check_union([c.name for c in candidates], value, path, attachments)


_NO_MATCH = object()


def _decode_primitive(type_name: str, raw: str) -> Any:
    """A form value as `type_name`, or _NO_MATCH. Strings are taken verbatim, never JSON-decoded."""
    if type_name == "Integer":
        return int(raw) if _INTEGER.fullmatch(raw) else _NO_MATCH
    if type_name == "Float":
        try:
            number = float(raw)
        except ValueError:
            return _NO_MATCH
        return number if math.isfinite(number) else _NO_MATCH
    if type_name in ("Boolean", "True"):
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE and type_name == "Boolean":
            return False
        return _NO_MATCH
    return raw  # String, or InputFile given as a file_id / URL / attach:// reference


def _check_json_primitive(type_name: str, value: Any, path: str) -> None:
    ok = {
        "Integer": isinstance(value, int) and not isinstance(value, bool),
        "Float": isinstance(value, int | float) and not isinstance(value, bool),
        "String": isinstance(value, str),
        "InputFile": isinstance(value, str),
        "Boolean": isinstance(value, bool),
        "True": value is True,
    }[type_name]
    if not ok:
        raise SpecViolation(path, f"must be {type_name}, got {_describe(value)}")


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _fields(raw: Mapping[str, Any]) -> dict[str, FieldDef]:
    return {
        item["name"]: FieldDef(item["name"], tuple(item["types"]), bool(item["required"]))
        for item in raw.get("fields", [])
    }


def _method(raw: Mapping[str, Any]) -> MethodDef:
    return MethodDef(raw["name"], _fields(raw), tuple(raw.get("returns", ())))


def _type(raw: Mapping[str, Any]) -> TypeDef:
    fields = _fields(raw)
    discriminator = None
    if raw.get("subtype_of") and raw.get("fields"):
        first = raw["fields"][0]
        match = _DISCRIMINATOR.search(first.get("description", ""))
        if first["name"] in ("type", "status", "source") and match:
            discriminator = (first["name"], match.group(1) or match.group(2))
    return TypeDef(raw["name"], fields, tuple(raw.get("subtypes", ())), discriminator)


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> ApiSpec:
    return ApiSpec(json.loads(path.read_text(encoding="utf-8")))
