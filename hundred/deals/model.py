"""The deal payload the CRM sends when a deal closes (README: "For the CRM"; examples/deal-nl.json).

The model is deliberately the single source of truth for merge fields: the validator walks it to
decide whether `{{ contact.frist_name }}` is a typo, so a field added here becomes usable in every
template at once.

A deal is hostile input: it ends up in letters, email and `.ics` headers, idempotency keys and file
names. Every string is one line of plain text, stripped, bounded; codes, amounts and dates are
checked; every problem is reported at once, by its field path (rules and limits: checks.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from hundred.deals import checks, codes, reading as deal_json
from hundred.deals.checks import DealProblem
from hundred.deals.free_form import check_free_form

__all__ = [
    "Address",
    "Company",
    "Contact",
    "Deal",
    "DealError",
    "DealProblem",
    "Owner",
    "load_deal",
    "merge_field_tree",
    "parse_deal",
    "parse_deal_json",
]


def _line(
    max_len: int, *more: Callable[[str], str], required: bool = False, letters: bool = False, optional: bool = False
) -> AfterValidator:
    """The check of a single-line text field: see checks.clean_line; `more` checks run on non-empty values.
    `optional`: blank means absent (None), as CRMs send "" for an empty field."""

    def validate(value: str) -> str | None:
        value = checks.clean_line(value, max_len, required=required, letters=letters)
        if optional and not value:
            return None
        for check in more:
            if value:
                value = check(value)
        return value

    return AfterValidator(validate)


def _id_as_text(value: Any) -> Any:
    # CRMs send numeric ids too (HubSpot, Pipedrive); 1042 and "1042" are the same deal
    return str(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else value


Name: TypeAlias = Annotated[str, _line(checks.NAME_MAX, required=True, letters=True)]
OptionalName: TypeAlias = Annotated[str, _line(checks.NAME_MAX, optional=True)]
Email: TypeAlias = Annotated[str, _line(checks.EMAIL_MAX, checks.check_email, optional=True)]
Phone: TypeAlias = Annotated[str, _line(checks.PHONE_MAX, optional=True)]


def _now(info: ValidationInfo) -> datetime:
    now = (info.context or {}).get("now") if isinstance(info.context, dict) else None
    now = now or datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


class _Part(BaseModel):
    # defer_build: `hundred validate` reads these models' field names but never validates a deal
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Owner(_Part):
    """The account manager who closed the deal; tasks go to them and letters carry their name."""

    name: Name
    email: Email | None = None
    title: OptionalName | None = None
    phone: Phone | None = None


class Contact(_Part):
    first_name: Name
    last_name: Annotated[str, _line(checks.NAME_MAX)] = ""
    email: Email | None = None
    phone: Phone | None = None
    locale: Annotated[str, _line(checks.NAME_MAX, checks.check_locale, optional=True)] | None = None
    timezone: Annotated[str, _line(checks.NAME_MAX, optional=True)] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ValueError(
                    f"unknown time zone {checks.show(value)} (use an IANA name such as Europe/Amsterdam)"
                ) from None
        return value


class Company(_Part):
    name: Annotated[str, _line(checks.COMPANY_MAX, required=True, letters=True)]


class Address(_Part):
    street: Annotated[str, _line(checks.STREET_MAX, required=True, letters=True)]
    postcode: Annotated[str, _line(checks.POSTCODE_MAX, checks.check_postcode)] = ""
    city: Name
    state: OptionalName | None = None
    country: Annotated[str, _line(2 * checks.NAME_MAX, codes.check_country, required=True)] = "NL"


class Deal(BaseModel):
    """A closed deal. Unknown top-level keys are kept under `fields` so nothing the CRM sends is lost."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    id: Annotated[str, _line(checks.FIELD_TEXT_MAX, checks.check_id, required=True), BeforeValidator(_id_as_text)]
    closed_at: datetime
    journey: Annotated[str, _line(checks.JOURNEY_MAX, checks.check_journey, optional=True)] | None = None
    currency: Annotated[str, _line(checks.NAME_MAX, required=True)] = "EUR"  # before amount: its decimals depend on it
    amount: Decimal = Decimal("0")
    product: Annotated[str, _line(checks.PRODUCT_MAX)] = ""
    segment: Annotated[str, _line(checks.SEGMENT_MAX, optional=True)] | None = None
    owner: Owner
    contact: Contact
    company: Company | None = None
    address: Address | None = None
    # the deal of the existing customer who recommended this one: counts as a referral received for
    # that customer's journey (hundred report, /journeys); the CRM mapping or an import may fill it
    referred_by: Annotated[
        Annotated[str, _line(checks.FIELD_TEXT_MAX, checks.check_id, optional=True)] | None,
        BeforeValidator(_id_as_text),
    ] = None
    fields: Annotated[dict[str, Any], BeforeValidator(lambda v: {} if v is None else v)] = Field(default_factory=dict)

    @field_validator("referred_by")
    @classmethod
    def _not_self_referred(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value == info.data.get("id"):
            raise ValueError("names this deal itself; it is the deal of the customer who recommended this one")
        return value

    @field_validator("closed_at")
    @classmethod
    def _sane_time(cls, value: datetime, info: ValidationInfo) -> datetime:
        return checks.check_closed_at(value, _now(info))

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str, info: ValidationInfo) -> str:
        return codes.check_currency(value, _now(info).date())

    @field_validator("amount")
    @classmethod
    def _sane_amount(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return checks.check_amount(value, info.data.get("currency"))

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: Callable[[Any], Deal]) -> Deal:
        """Run the model, then the checks on free-form values, and raise one error with all of them."""
        errors: list[ErrorDetails] = []
        try:
            deal = handler(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        custom: list[tuple[tuple[Any, ...], str]] = []
        if isinstance(data, dict):
            extras = {k: v for k, v in data.items() if k not in cls.model_fields}
            custom = check_free_form(extras, ())
            if isinstance(data.get("fields"), dict):
                custom += check_free_form(data["fields"], ("fields",))
                if len(extras) + len(data["fields"]) > checks.FIELD_KEYS_MAX and not custom:
                    custom.append(
                        (
                            ("fields",),
                            f"has {len(extras) + len(data['fields'])} custom fields with "
                            f"the unknown top-level keys; at most {checks.FIELD_KEYS_MAX}",
                        )
                    )
        if not errors and not custom:
            return deal
        details = [_detail(err["loc"], _plain(err, data), err.get("input")) for err in errors]
        details += [_detail(loc, message, None) for loc, message in custom]
        raise ValidationError.from_exception_data(cls.__name__, details)

    @model_validator(mode="after")
    def _fold_unknown_keys(self) -> Deal:
        if self.__pydantic_extra__:
            self.fields = {**self.__pydantic_extra__, **self.fields}
            self.__pydantic_extra__.clear()
        return self

    def merge_context(self) -> dict[str, Any]:
        """Plain data for templates: dicts, str, Decimal, datetime; never the model itself."""
        data = self.model_dump(mode="python")
        return {
            "deal": data,
            "contact": data["contact"],
            "company": data["company"] or {"name": ""},
            "address": data["address"] or {f: None for f in Address.model_fields},
            "owner": data["owner"],
        }


_PARTS: dict[str, type[BaseModel]] = {"owner": Owner, "contact": Contact, "company": Company, "address": Address}


def _plain(err: ErrorDetails, data: Any) -> str:
    loc = err["loc"]
    if not loc and err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return f"the deal must be a JSON object {{...}}, got {checks.json_type(err.get('input'))}"
    model: type[BaseModel] = _PARTS.get(str(loc[0]), Deal) if len(loc) > 1 else Deal
    given = (data.get(loc[0]) if len(loc) > 1 else data) if isinstance(data, dict) else None
    extra = [k for k in given if k not in model.model_fields] if isinstance(given, dict) else []
    return checks.plain_message(err, extra, list(model.model_fields))


def _detail(loc: Any, message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("deal", message), loc=tuple(loc), input=value)


class DealError(ValueError):
    """A deal payload that cannot be used. `problems` lists every one as DealProblem(path, message,
    line, column); `str()` is one line per problem, each naming the source and the field."""

    MAX_PROBLEMS = 50  # a payload with 10,000 duplicate keys gets a readable answer, not 10,000 lines

    def __init__(self, source: str, problems: list[DealProblem]):
        self.source = source
        if len(problems) > self.MAX_PROBLEMS:
            more = len(problems) - self.MAX_PROBLEMS + 1
            problems = [*problems[: self.MAX_PROBLEMS - 1], DealProblem("", f"and {more} more problems")]
        self.problems = problems
        super().__init__("\n".join(p.format(source) for p in problems))

    def field_errors(self) -> list[dict[str, Any]]:
        """For an HTTP 422 answer: [{"field": "contact.first_name", "message": "is blank"}, ...]."""
        return [{"field": p.path, "message": p.message} for p in self.problems]


def parse_deal(raw: Any, source: str = "deal", now: datetime | None = None) -> Deal:
    """Validate already-parsed JSON. `now` (aware; default: the clock) bounds closed_at and picks
    the currencies in use."""
    try:
        return Deal.model_validate(raw, context={"now": now} if now else None)
    except ValidationError as exc:
        problems = [DealProblem(checks.path_of(err["loc"]), err["msg"]) for err in exc.errors(include_url=False)]
        raise DealError(source, problems) from None


def parse_deal_json(data: bytes | str, source: str = "deal", now: datetime | None = None) -> Deal:
    """Validate a deal as it arrives (file or HTTP body): size, UTF-8, nesting and duplicate keys
    are checked on the raw text, then the model; every problem is reported together."""
    problems: list[DealProblem] = []
    text: str | None
    if isinstance(data, bytes):
        text, problems = deal_json.decode(data)
    else:
        text = data
    if text is not None:
        raw, problems = deal_json.loads(text)
    if text is None or raw is None and problems:
        raise DealError(source, problems)
    try:
        deal = parse_deal(raw, source, now)
    except DealError as exc:
        problems += exc.problems
    if problems:
        raise DealError(source, problems)
    return deal


def load_deal(path: str | Path, now: datetime | None = None) -> Deal:
    path = Path(path)
    source = str(path)
    try:
        if path.is_dir():
            raise DealError(source, [DealProblem("", "is a folder; --deal needs a JSON file")])
        if path.exists() and not path.is_file():
            raise DealError(source, [DealProblem("", "is not a regular file")])
        with path.open("rb") as handle:
            data = handle.read(checks.MAX_PAYLOAD_BYTES + 1)
    except FileNotFoundError:
        raise DealError(source, [DealProblem("", "no such file")]) from None
    except OSError as exc:
        raise DealError(source, [DealProblem("", f"cannot be read: {exc.strerror or exc}")]) from None
    if len(data) > checks.MAX_PAYLOAD_BYTES:
        raise DealError(
            source, [DealProblem("", f"is larger than {checks.MAX_PAYLOAD_BYTES:,} bytes, the most a deal may be")]
        )
    return parse_deal_json(data, source, now)


def merge_field_tree() -> dict[str, Any]:
    """The names a template may use, as a nested dict (None = leaf, "*" = any key below).

    Derived from the models so it cannot drift from what a real deal provides.
    """

    def fields_of(model: type[BaseModel]) -> dict[str, Any]:
        return {name: None for name in model.model_fields}

    deal = fields_of(Deal)
    deal.update(
        owner=fields_of(Owner),
        contact=fields_of(Contact),
        company=fields_of(Company),
        address=fields_of(Address),
        fields="*",
    )
    return {
        "deal": deal,
        "contact": deal["contact"],
        "company": deal["company"],
        "address": deal["address"],
        "owner": deal["owner"],
        "journey": {"id": None, "name": None, "locale": None},
        "touch": {"id": None, "phase": None, "channel": None, "day": None, "date": None},
        "sender": {"name": None, "title": None},
    }
