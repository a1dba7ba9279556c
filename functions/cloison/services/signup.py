"""The first half of a double opt-in: a public page asks for a number's sign-up to a team, and
the number is sent an SMS asking for a keyword reply, unless a limit or the number's state
says no. The answer never says which (services.signup_confirmation takes the reply)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from cloison.adapters.carrier import SmsCarrier
from cloison.adapters.identity import NumberHasher
from cloison.adapters.tables import ConsentStore, SuppressionStore
from cloison.adapters.tables.signups import PendingSignups, SignupLimits
from cloison.compliance.errors import InvalidPhoneNumber
from cloison.compliance.masking import mask_phone
from cloison.compliance.phone import Phone, normalize_phone
from cloison.compliance.signup import (
    LimitKind,
    Refusal,
    RequestLimits,
    confirmation_text,
    day_of,
    free_code,
    number_prefix,
)
from cloison.config import Signups
from cloison.errors import OutcomeUnknown, RuleViolation
from cloison.models.records import NoticeRecord, PendingSignupRecord
from cloison.observability import logger
from cloison.services.signup_confirmation import PURPOSE

if TYPE_CHECKING:  # the API's notice models stay out of the inbound function
    from cloison.services.notices import NoticeVersions


class SignupFields(Protocol):
    """What a sign-up request says: the API's `SignupIn`, or a keyword texted to a number."""

    @property
    def phone(self) -> str: ...
    @property
    def notice(self) -> str: ...
    @property
    def page(self) -> str: ...
    @property
    def language(self) -> str: ...


@dataclass(frozen=True)
class KeywordSignup:
    """A sign-up asked by SMS: `SMS <keyword>` stands for the page, and the team's latest
    notice is the version recorded (the confirmation SMS names the organisation and how to
    stop; the person saw no page)."""

    phone: str
    notice: str
    page: str
    language: str = "fr"


def request_limits(config: Signups) -> RequestLimits:
    """The deployment's limits of sign-up requests (the Signup*Limit parameters)."""
    return RequestLimits.allowing(
        address=config.signup_address_limit,
        number=config.signup_number_limit,
        prefix=config.signup_prefix_limit,
    )


def signup_phone(raw: str, regions: frozenset[str]) -> Phone:
    """The number, or a 422 naming `phone`: unreadable, not a mobile, or of a region not served.
    Neither says anything of the number's state, only of how it is written."""
    try:
        phone = normalize_phone(raw, default_region="FR")
    except InvalidPhoneNumber as exc:
        raise RuleViolation("phone", exc.reason) from exc
    if phone.region not in regions:
        raise RuleViolation("phone", "numbers of this country or territory are not taken here")
    if not phone.is_mobile:
        raise RuleViolation("phone", "is not a mobile number")
    return phone


@dataclass
class SignupRequests:
    hasher: NumberHasher
    notices: NoticeVersions
    consents: ConsentStore
    suppressions: SuppressionStore
    pending: PendingSignups
    limits: SignupLimits
    carrier: SmsCarrier
    # The stack's pool, whose opt-out list every send honours.
    origination: str
    confirmation_hours: int
    regions: frozenset[str]
    # How many requests per address, number and block of numbers (the stack's parameters).
    request_limits: RequestLimits

    def request_by_keyword(
        self, team: str, e164: str, word: str, origination: str, now: datetime
    ) -> Refusal | None:
        """A sign-up asked by texting the team's keyword: the same confirmation, from the
        number the person wrote to, under the same limits (the address limit counts the
        person's number, an SMS having no address)."""
        latest = self.notices.latest_notice(team)
        if latest is None:
            logger.info("sign-up keyword of a team without a notice", extra={"team": team})
            return Refusal.UNKNOWN_TEAM
        request = KeywordSignup(phone=e164, notice=latest.hash, page=f"SMS {word}")
        return self.request(
            team, request, f"sms:{self.hasher.key(e164)}", now, origination=origination
        )

    def request(
        self,
        team: str,
        request: SignupFields,
        source_address: str,
        now: datetime | None = None,
        *,
        origination: str | None = None,
    ) -> Refusal | None:
        """Sends the confirmation SMS, or says why not (None: it was sent). Bad input is a
        RuleViolation; every refusal of a well-formed request is logged, and the caller
        answers it as a request that was sent. `origination`: what it is sent from, the
        stack's pool unless told."""
        now = now or datetime.now(UTC)
        phone = signup_phone(request.phone, self.regions)
        latest = self.notices.latest_notice(team)
        number_key = self.hasher.key(phone.e164)
        refusal = self._refusal(team, request, phone, number_key, latest, source_address, now)
        if refusal is not None or latest is None:
            return self._refused(team, phone, refusal or Refusal.UNKNOWN_TEAM)
        language = request.language if request.language in latest.texts else "fr"
        wording = latest.texts[language]
        # The reply must tell this sign-up from the number's others: they all come from the pool.
        code = free_code(
            signup.code for signup in self.pending.waiting(number_key, now) if signup.team != team
        )
        # Kept before the SMS leaves: the reply may come back at once.
        self.pending.put(
            PendingSignupRecord(
                number_key=number_key,
                team=team,
                notice=latest.hash,
                page=request.page,
                language=language,
                source_address=source_address,
                requested_at=now,
                expires_at=now + timedelta(hours=self.confirmation_hours),
                code=code,
            )
        )
        try:
            self.carrier.send(
                destination=phone.e164,
                body=confirmation_text(
                    language, wording.organisation, wording.stop, self.confirmation_hours, code
                ),
                origination=origination or self.origination,
                message_type="TRANSACTIONAL",
                context={"team": team, "signup": "confirmation"},
            )
        except RuleViolation:
            # The carrier refused the number (its own opt-out list): answered as any refusal.
            return self._refused(team, phone, Refusal.CARRIER_REFUSED)
        except OutcomeUnknown:
            pass  # perhaps sent: the budget counted it, the sign-up waits for its reply
        logger.info("sign-up confirmation sent", extra={"team": team})
        return None

    def _refused(self, team: str, phone: Phone, refusal: Refusal) -> Refusal:
        logger.info(
            "sign-up refused",
            extra={"team": team, "reason": refusal.value, "phone": mask_phone(phone.e164)},
        )
        return refusal

    def _refusal(
        self,
        team: str,
        request: SignupFields,
        phone: Phone,
        number_key: str,
        latest: NoticeRecord | None,
        source_address: str,
        now: datetime,
    ) -> Refusal | None:
        """The first rule the request breaks, cheapest first; each limit counts the request
        only once the rules before it let it through, so that a flood from one address does
        not use up the allowance of the numbers it names."""
        if latest is None:
            return Refusal.UNKNOWN_TEAM
        if request.notice != latest.hash:
            return Refusal.STALE_NOTICE
        if self.suppressions.suppressed([number_key], team, consistent=True):
            return Refusal.SUPPRESSED
        if self.consents.consented([number_key], team, PURPOSE):
            return Refusal.CONFIRMED
        # The address as a keyed hash: an address is personal data too.
        address = self.hasher.key(f"address:{source_address}")
        rules = self.request_limits
        if not self.limits.take(LimitKind.ADDRESS, address, rules.address, now):
            return Refusal.ADDRESS_LIMIT
        if not self.limits.take(LimitKind.NUMBER, number_key, rules.number, now):
            return Refusal.NUMBER_LIMIT
        prefix = number_prefix(phone.e164)
        if not self.limits.take(LimitKind.PREFIX, prefix, rules.prefix, now):
            return Refusal.PREFIX_LIMIT
        if not self.limits.spend(team, day_of(now), now):
            return Refusal.BUDGET
        return None
