"""End User Messaging's sending side as the carrier simulator keeps it: phone numbers (short
codes included), sender IDs and pools, and which of them governs a send or an inbound message.

What it follows, from AWS's End User Messaging SMS user guide and API reference:
- "Opt-out lists": a send is refused when the destination is on the opt-out list *associated
  with the identity used to send*; a phone number is created on the `Default` list. A number
  on any other list is sent to.
- "Pools" (CreatePool, AWS::SMSVOICE::Pool): a pool has its own opt-out list, keywords, two-way
  channel and self-managed opt-out setting, which apply to what is sent through the pool and
  to what its numbers receive; a phone number belongs to one pool at most.
- "Required opt-out keywords" and SelfManagedOptOutsEnabled: unless opt-outs are self-managed,
  a message that begins with one of the keywords (or HELP) is answered by the service, and an
  opt-out keyword puts the sender on the governing list.
- SendTextMessage's OriginationIdentity: a PhoneNumber, PhoneNumberId, PhoneNumberArn,
  SenderId, SenderIdArn, PoolId or PoolArn; anything else is ResourceNotFoundException.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

DEFAULT_OPT_OUT_LIST = "Default"
OPT_OUT_KEYWORDS = frozenset(
    {"ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD", "UNSUBSCRIBE"}
)
HELP_KEYWORD = "HELP"


class UnknownIdentity(LookupError):
    """No phone number, sender ID or pool of the account has this id, ARN or number."""


@dataclass
class PhoneNumber:
    phone_number_id: str
    arn: str
    number: str
    opt_out_list: str = DEFAULT_OPT_OUT_LIST
    two_way_topic: str | None = None
    self_managed: bool = False
    pool_id: str | None = None
    number_type: str = "SHORT_CODE"
    iso_country: str = "FR"


@dataclass
class SenderId:
    sender_id: str
    arn: str
    iso_country: str = "FR"


@dataclass
class Pool:
    pool_id: str
    arn: str
    identities: list[str]
    opt_out_list: str = DEFAULT_OPT_OUT_LIST
    two_way_topic: str | None = None
    self_managed: bool = False
    # Answers to keywords the service sends itself (unless opt-outs are self-managed).
    stop_message: str = ""
    help_message: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Governing:
    """What applies to one send or one inbound message."""

    shown_as: str  # the origination a recipient sees (a number or sender ID)
    opt_out_list: str
    two_way_topic: str | None
    self_managed: bool
    stop_message: str = ""
    help_message: str = ""


class Originations:
    """The account's phone numbers, sender IDs and pools."""

    def __init__(self, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self.numbers: dict[str, PhoneNumber] = {}
        self.sender_ids: dict[str, SenderId] = {}
        self.pools: dict[str, Pool] = {}

    def arn(self, resource_type: str, name: str) -> str:
        return f"arn:aws:sms-voice:{self.region}:{self.account_id}:{resource_type}/{name}"

    def add_number(self, number: str, **settings: object) -> PhoneNumber:
        """A phone number or short code of the account (obtained from AWS before any stack);
        adding it again changes its settings only."""
        existing = self._number(number)
        if existing is None:
            identifier = phone_number_id_for(number)
            existing = PhoneNumber(identifier, self.arn("phone-number", identifier), number)
            self.numbers[identifier] = existing
        for name, value in settings.items():
            setattr(existing, name, value)
        return existing

    def add_sender_id(self, sender_id: str) -> SenderId:
        return self.sender_ids.setdefault(
            sender_id, SenderId(sender_id, self.arn("sender-id", f"{sender_id}/FR"))
        )

    def add_pool(self, name: str, identities: list[str], **settings: object) -> Pool:
        """A pool of identities, as CreatePool makes it: a phone number already in another
        pool is refused (ValueError)."""
        pool_id = pool_id_for(name)
        numbers: list[PhoneNumber] = []
        members: list[str] = []
        for identity in identities:
            number = self._number(identity)
            if number is not None:
                if number.pool_id not in (None, pool_id):
                    raise ValueError(
                        f"{number.phone_number_id} already belongs to {number.pool_id}"
                    )
                numbers.append(number)
                members.append(number.phone_number_id)
            elif self._sender(identity) is not None:
                members.append(identity)
            else:
                raise UnknownIdentity(identity)
        # Only once every identity is known and free: a refused pool changes nothing.
        for number in numbers:
            number.pool_id = pool_id
        pool = Pool(pool_id, self.arn("pool", pool_id), members)
        for key, value in settings.items():
            setattr(pool, key, value)
        self.pools[pool_id] = pool
        return pool

    def for_send(self, identity: str | None) -> Governing:
        """What governs a send from `identity` (None: the service picks one of the account's,
        here the first pool, else the first number)."""
        if identity is None:
            pool = next(iter(self.pools.values()), None)
            if pool is not None:
                return self._of_pool(pool)
            number = next(iter(self.numbers.values()), None)
            if number is None:
                return Governing("SIMULATED", DEFAULT_OPT_OUT_LIST, None, False)
            return self._of_number(number)
        pool = self._pool(identity)
        if pool is not None:
            return self._of_pool(pool)
        number = self._number(identity)
        if number is not None:
            return self._of_number(number)
        sender = self._sender(identity)
        if sender is not None:
            return Governing(sender.sender_id, DEFAULT_OPT_OUT_LIST, None, False)
        raise UnknownIdentity(identity)

    def for_inbound(self, our_number: str) -> Governing:
        """What governs a message a person sends to `our_number`: its pool's settings if it is
        in one, else its own."""
        number = self._number(our_number)
        if number is None:
            raise UnknownIdentity(our_number)
        pool = self.pools.get(number.pool_id or "")
        governing = self._of_pool(pool) if pool is not None else self._of_number(number)
        return Governing(
            number.number,
            governing.opt_out_list,
            governing.two_way_topic,
            governing.self_managed,
            governing.stop_message,
            governing.help_message,
        )

    def _of_pool(self, pool: Pool) -> Governing:
        first = self.numbers.get(pool.identities[0]) if pool.identities else None
        shown = first.number if first is not None else (pool.identities or ["SIMULATED"])[0]
        return Governing(
            shown,
            pool.opt_out_list,
            pool.two_way_topic,
            pool.self_managed,
            pool.stop_message,
            pool.help_message,
        )

    @staticmethod
    def _of_number(number: PhoneNumber) -> Governing:
        return Governing(
            number.number, number.opt_out_list, number.two_way_topic, number.self_managed
        )

    def _number(self, identity: str) -> PhoneNumber | None:
        return next(
            (
                number
                for number in self.numbers.values()
                if identity in (number.phone_number_id, number.arn, number.number)
            ),
            None,
        )

    def _sender(self, identity: str) -> SenderId | None:
        return next(
            (
                sender
                for sender in self.sender_ids.values()
                if identity in (sender.sender_id, sender.arn)
            ),
            None,
        )

    def _pool(self, identity: str) -> Pool | None:
        return next(
            (pool for pool in self.pools.values() if identity in (pool.pool_id, pool.arn)), None
        )


def keyword_of(body: str) -> str:
    """The keyword a message begins with, as the service matches it (case-insensitive)."""
    words = body.strip().split(maxsplit=1)
    return words[0].upper().rstrip(".!") if words else ""


def phone_number_id_for(number: str) -> str:
    """The PhoneNumberId the simulator gives `number` (the same each time)."""
    return f"phone-{_digest(number)}"


def pool_id_for(name: str) -> str:
    """The PoolId of the pool created under `name` (the same each time, so that a stack's
    provisioning and the simulator agree on it)."""
    return f"pool-{_digest(name)}"


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:32]
