"""Validation errors in words a person reads: Pydantic's errors, in Danish for staff and citizens.

Pydantic writes its messages in English ("Field required"). A staff member or citizen reads Danish, so
the kit's 422 ``invalid-request`` answer of a staff or citizen API words each error from its stable
Pydantic ``type`` (and the limits in its ``ctx``); partner endpoints (``/integration/``) and FHIR keep
Pydantic's English. A rule checked inside a request model (a ``ValueError``, e.g. a domain rule
violation, or a service's own ``PydanticCustomError``) carries its own message, which is the service's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, get_args

from pydantic_core.core_schema import ErrorType

_TIME = "et tidspunkt med tidszone, fx 2027-03-10T09:00:00+01:00"

# Pydantic error type → Danish message ({…} from the error's ctx). Types not here get ``_FALLBACK``.
DANISH: dict[str, str] = {
    "missing": "skal udfyldes",
    "extra_forbidden": "er ikke et felt, der kan angives her",
    "json_invalid": "er ikke gyldig JSON",
    "json_type": "skal være JSON",
    "model_type": "skal være et objekt (JSON-objekt)",
    "model_attributes_type": "skal være et objekt (JSON-objekt)",
    "dict_type": "skal være et objekt (JSON-objekt)",
    "mapping_type": "skal være et objekt (JSON-objekt)",
    "dataclass_type": "skal være et objekt (JSON-objekt)",
    "list_type": "skal være en liste",
    "tuple_type": "skal være en liste",
    "set_type": "skal være en liste",
    "frozen_set_type": "skal være en liste",
    "iterable_type": "skal være en liste",
    "set_item_not_hashable": "skal være en liste af enkle værdier",
    "too_short": "skal have mindst {min_length} element(er)",
    "too_long": "må højst have {max_length} element(er)",
    "string_type": "skal være tekst",
    "string_unicode": "skal være gyldig Unicode-tekst",
    "string_too_short": "skal have mindst {min_length} tegn",
    "string_too_long": "må højst have {max_length} tegn",
    "string_pattern_mismatch": "har ikke den forventede form ({pattern})",
    "string_not_ascii": "må kun indeholde ASCII-tegn",
    "bool_type": "skal være true eller false",
    "bool_parsing": "skal være true eller false",
    "int_type": "skal være et heltal",
    "int_parsing": "skal være et heltal",
    "int_parsing_size": "er et for stort tal",
    "int_from_float": "skal være et heltal (uden decimaler)",
    "float_type": "skal være et tal",
    "float_parsing": "skal være et tal",
    "finite_number": "skal være et endeligt tal",
    "decimal_type": "skal være et tal",
    "decimal_parsing": "skal være et tal",
    "decimal_max_digits": "må højst have {max_digits} cifre",
    "decimal_max_places": "må højst have {decimal_places} decimaler",
    "decimal_whole_digits": "må højst have {whole_digits} cifre før kommaet",
    "greater_than": "skal være større end {gt}",
    "greater_than_equal": "skal være mindst {ge}",
    "less_than": "skal være mindre end {lt}",
    "less_than_equal": "må højst være {le}",
    "multiple_of": "skal gå op i {multiple_of}",
    "enum": "skal være en af {expected}",
    "literal_error": "skal være en af {expected}",
    "none_required": "skal være tom (null)",
    "date_type": "skal være en dato (ÅÅÅÅ-MM-DD)",
    "date_parsing": "skal være en dato (ÅÅÅÅ-MM-DD)",
    "date_from_datetime_parsing": "skal være en dato (ÅÅÅÅ-MM-DD)",
    "date_from_datetime_inexact": "skal være en dato uden klokkeslæt",
    "date_past": "skal ligge i fortiden",
    "date_future": "skal ligge i fremtiden",
    "time_type": "skal være et klokkeslæt (TT:MM)",
    "time_parsing": "skal være et klokkeslæt (TT:MM)",
    "datetime_type": f"skal være {_TIME}",
    "datetime_parsing": f"skal være {_TIME}",
    "datetime_from_date_parsing": f"skal være {_TIME}",
    "datetime_object_invalid": f"skal være {_TIME}",
    "datetime_past": "skal ligge i fortiden",
    "datetime_future": "skal ligge i fremtiden",
    "timezone_naive": "skal være uden tidszone",
    "timezone_aware": f"skal have en tidszone: {_TIME}",
    "timezone_offset": "skal have tidszonen {tz_expected}",
    "time_delta_type": "skal være en varighed",
    "time_delta_parsing": "skal være en varighed",
    "uuid_type": "skal være et UUID",
    "uuid_parsing": "skal være et UUID",
    "uuid_version": "skal være et UUID af version {expected_version}",
    "url_type": "skal være en gyldig URL",
    "url_parsing": "skal være en gyldig URL",
    "url_syntax_violation": "skal være en gyldig URL",
    "url_too_long": "må højst have {max_length} tegn",
    "url_scheme": "skal begynde med {expected_schemes}",
    "bytes_type": "skal være bytes",
    "bytes_too_short": "skal have mindst {min_length} byte",
    "bytes_too_long": "må højst have {max_length} byte",
    "union_tag_invalid": "har en ukendt værdi i {discriminator}: {tag} (forventet {expected_tags})",
    "union_tag_not_found": "mangler feltet {discriminator}",
    "recursion_loop": "er indlejret for dybt",
    "recursion_depth_exceeded": "er indlejret for dybt",
    # The kit's own types (tovholder.inputs).
    "control_character": "må ikke indeholde kontroltegn som NUL (kun tabulator og linjeskift)",
    "before_1900": "datoer før {earliest} modtages ikke",
    "local_time": "skal være et klokkeslæt på uret i Danmark, uden tidszone (fx 09:30)",
}
_FALLBACK = "er ikke gyldig"
# Pydantic's own error types; any other type is a service's ``PydanticCustomError`` with its own message.
_PYDANTIC_TYPES = frozenset(get_args(ErrorType))
_OWN_MESSAGE = ("value_error", "assertion_error")  # a rule's own message (the domain's Danish one)


def _danish_list(value: Any) -> str:
    """Pydantic's "'a', 'b' or 'c'" in Danish."""
    return str(value).replace(" or ", " eller ")


def danish_message(error: Mapping[str, Any]) -> str:
    """One Pydantic error (an item of ``ValidationError.errors()``) in Danish, without the value."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in _OWN_MESSAGE and "error" in ctx:
        return str(ctx["error"])
    if kind not in DANISH and kind not in _PYDANTIC_TYPES:
        return str(error.get("msg", _FALLBACK))  # written by the service for this field, in the reader's language
    template = DANISH.get(kind, _FALLBACK)
    try:
        return template.format(**{k: _danish_list(v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return template.split(" {")[0] if "{" in template else template


def where(loc: Iterable[Any]) -> str:
    """The field an error is about (``body`` left out): ``goals.0.text``, ``query.limit``, or ``body``."""
    return ".".join(str(p) for p in loc if p != "body") or "body"


def problems(errors: Iterable[Mapping[str, Any]], *, danish: bool) -> list[str]:
    """``field: message`` for each error; in Danish for people, in Pydantic's English for partners."""
    return [f"{where(err['loc'])}: {danish_message(err) if danish else err['msg']}" for err in errors]
