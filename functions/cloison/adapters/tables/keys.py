"""Every key of the tables, each format in one place: the items already written are found by
these very strings, so a format changes only with a migration of the items.

| table        | item                | pk                          | sk                         |
|--------------|---------------------|-----------------------------|----------------------------|
| campaigns    | a campaign (*)      | campaign#<id>               | campaign                   |
| campaigns    | an occurrence       | campaign#<recurring id>     | occurrence#<at>            |
| campaigns    | a sender profile    | team#<team>                 | sender#<name>              |
| campaigns    | a notice's version  | team#<team>                 | notice#<nnnnnnnn>          |
| campaigns    | a number's route    | route#<our number>          | route                      |
| campaigns    | a sign-up keyword   | keyword#<our number|shared> | keyword#<WORD>             |
| campaigns    | an upload's prints  | campaign#<id>               | prints#<upload>#<nnnnn>    |
| campaigns    | a sealed chunk      | campaign#<id>               | chunk#<upload>#<nnnnn>     |
| campaigns    | the audience index  | recipients#<hash[:3]>       | upload#<campaign>#<upload> |
| campaigns    | a pass's progress   | campaign#<id>               | progress#<pass key>        |
| campaigns    | parked recipients   | campaign#<id>               | parked#<release>#...       |
| campaigns    | a batch counted     | campaign#<id>               | counted#<batch>            |
| campaigns    | the counters        | campaign#<id>               | stats                      |
| messages     | a message           | recipient#<hash>            | campaign#<id>              |
| suppressions | a number's opt-outs | number#<hash>               | suppression                |
| suppressions | opt-out list cursor | reconciliation#opt-out-list | cursor                     |
| contacts     | a consent           | contact#<hash>              | consent#<team>#<purpose>   |
| contacts     | a sign-up pending(†)| contact#<hash>              | signup#<team>              |
| contacts     | its frequency cap   | contact#<hash>              | frequency                  |
| contacts     | a sign-up limit     | signuplimit#<kind>#<subject>| window                     |
| contacts     | a team's budget     | signupbudget#<team>         | day#<YYYY-MM-DD>           |
| contacts     | a request's receipt | request#<request id>        | receipt                    |
| contacts     | an audit note       | auditnote#<entry id>        | note                       |
| contacts     | a note's pointer    | contact#<hash>              | auditnote#<entry id>       |
| replies      | a reply's entry     | team#<team>                 | reply#<reply id>           |
| replies      | its claim           | reply#<reply id>            | claim                      |
| replies      | a reply allowance   | allowance#<hash>            | window#<YYYY-MM-DDTHH>     |
| audit        | a chain entry       | chain                       | sequence: <n>              |
| audit        | the chain's head    | head                        | sequence: 0                |

<hash> is a number's keyed hash (its number key); the audit table's sort key is the
number `sequence`. (*) A campaign also carries `team_pk`, team#<team>: its key in the
`by-team` index. (†) A sign-up pending also carries `signup_team`, <team>: its key, with
`expires_at`, in the contacts table's `signups-by-team` index.
"""

from __future__ import annotations

from datetime import UTC, datetime

ItemKey = dict[str, str]

# campaigns table


def campaign_pk(campaign_id: str) -> str:
    """The partition of a campaign and of everything it holds (campaigns table)."""
    return f"campaign#{campaign_id}"


def campaign_key(campaign_id: str) -> ItemKey:
    """A campaign's record (campaigns table)."""
    return {"pk": campaign_pk(campaign_id), "sk": "campaign"}


def team_pk(team: str) -> str:
    """A team's partition: its sender profiles (campaigns table), its replies' index entries
    (replies table), and the key of its campaigns in the campaigns table's `by-team` index."""
    return f"team#{team}"


OCCURRENCE_PREFIX = "occurrence#"


def occurrence_sk(at: str) -> str:
    """An occurrence of a recurring campaign, under it, by its UTC time as ISO text."""
    return f"{OCCURRENCE_PREFIX}{at}"


SENDER_PREFIX = "sender#"


def sender_key(team: str, name: str) -> ItemKey:
    """A team's sender profile (campaigns table)."""
    return {"pk": team_pk(team), "sk": f"{SENDER_PREFIX}{name}"}


def route_key(number: str) -> ItemKey:
    """Which team one of our numbers belongs to (campaigns table): a team's own identity's
    phone number or short code, as End User Messaging names it in `destinationNumber`."""
    return {"pk": f"route#{number}", "sk": "route"}


# The keywords of the stack's shared pool, whose numbers no team owns.
SHARED_NUMBERS = "shared"


def keyword_key(number: str, word: str) -> ItemKey:
    """A sign-up keyword texted to one of our numbers (or to the shared pool's: SHARED_NUMBERS)
    and the team it starts a sign-up for (campaigns table)."""
    return {"pk": f"keyword#{number}", "sk": f"keyword#{word}"}


NOTICE_PREFIX = "notice#"


def notice_key(team: str, version: int) -> ItemKey:
    """A version of a team's notice (campaigns table), zero-padded so that the sort key orders
    versions as numbers."""
    return {"pk": team_pk(team), "sk": f"{NOTICE_PREFIX}{version:08d}"}


PRINTS_PREFIX = "prints#"


def prints_prefix(upload_id: str) -> str:
    """The start of the sort keys of one upload's prints items (campaigns table)."""
    return f"{PRINTS_PREFIX}{upload_id}#"


def prints_sk(upload_id: str, number: int) -> str:
    """One of an upload's prints items, under its campaign."""
    return f"{prints_prefix(upload_id)}{number:05d}"


def upload_of_prints(sort_key: object) -> str:
    """The upload a prints item's sort key names."""
    return str(sort_key).split("#")[1]


def chunk_sk(upload_id: str, number: int) -> str:
    """A sealed audience chunk of an upload, under its campaign."""
    return f"chunk#{upload_id}#{number:05d}"


def chunk_key(campaign_id: str, upload_id: str, number: int) -> ItemKey:
    """A sealed audience chunk (campaigns table)."""
    return {"pk": campaign_pk(campaign_id), "sk": chunk_sk(upload_id, number)}


# The audience index groups number keys by their first characters: an upload writes one item
# per bucket it touches (4,096 at most) rather than one per recipient, and a number's query
# reads one item per upload of its bucket.
INDEX_BUCKET_CHARS = 3
AUDIENCE_UPLOAD_PREFIX = "upload#"


def audience_index_pk(number_key: str) -> str:
    """The audience index's bucket of a number (campaigns table)."""
    return f"recipients#{number_key[:INDEX_BUCKET_CHARS]}"


def audience_upload_sk(campaign_id: str, upload_id: str) -> str:
    """The audience index's item of one upload, in a bucket."""
    return f"{AUDIENCE_UPLOAD_PREFIX}{campaign_id}#{upload_id}"


def audience_index_key(number_key: str, campaign_id: str, upload_id: str) -> ItemKey:
    """The audience index's item of one upload, in the number's bucket (campaigns table)."""
    return {"pk": audience_index_pk(number_key), "sk": audience_upload_sk(campaign_id, upload_id)}


def progress_key(campaign_id: str, pass_key: str) -> ItemKey:
    """A chunk pass's progress: its lease and checkpoint (campaigns table)."""
    return {"pk": campaign_pk(campaign_id), "sk": f"progress#{pass_key}"}


PARKED_PREFIX = "parked#"


def parked_sk(release_at: datetime, upload: str, chunk: int, pass_no: int, tag: str) -> str:
    """Recipients of a chunk pass parked until `release_at`, under their campaign: sorted by
    that instant in UTC."""
    return (
        f"{PARKED_PREFIX}{release_at.astimezone(UTC).isoformat()}#{upload}"
        f"#{chunk:05d}#{pass_no:03d}#{tag}"
    )


def parked_due_bound(until: datetime | None) -> str:
    """The highest sort key of the parked items due at `until` (of all of them when None)."""
    return f"{PARKED_PREFIX}{until.astimezone(UTC).isoformat()}~" if until else f"{PARKED_PREFIX}~"


def parked_release(sort_key: object) -> datetime:
    """When a parked item's recipients are released, as its sort key says."""
    return datetime.fromisoformat(str(sort_key).split("#")[1])


def counted_sk(batch: str) -> str:
    """The marker of a batch of record changes whose counts were added, under the campaign."""
    return f"counted#{batch}"


def stats_key(campaign_id: str) -> ItemKey:
    """A campaign's counters (campaigns table)."""
    return {"pk": campaign_pk(campaign_id), "sk": "stats"}


# messages table


def recipient_pk(number_key: str) -> str:
    """The partition of every message to a number (messages table)."""
    return f"recipient#{number_key}"


def message_key(campaign_id: str, number_key: str) -> ItemKey:
    """The message of a campaign to a number (messages table)."""
    return {"pk": recipient_pk(number_key), "sk": campaign_pk(campaign_id)}


# suppressions table; the scopes inside a number's item are GLOBAL_SCOPE and team_scope's

GLOBAL_SCOPE = "all"
_NUMBER_PREFIX = "number#"


def suppression_key(number_key: str) -> ItemKey:
    """A number's one item of opt-outs, with their scopes inside (suppressions table)."""
    return {"pk": f"{_NUMBER_PREFIX}{number_key}", "sk": "suppression"}


def number_key_of(suppression_pk: object) -> str:
    """The number hash a suppression item's partition key names."""
    return str(suppression_pk).removeprefix(_NUMBER_PREFIX)


def team_scope(team: str) -> str:
    """The scope of a team's opt-outs, in a number's suppression item."""
    return f"team#{team}"


def reconciliation_cursor_key() -> ItemKey:
    """Where the reconciliation stopped in the carrier's opt-out list (suppressions table)."""
    return {"pk": "reconciliation#opt-out-list", "sk": "cursor"}


# contacts table

CONSENT_PREFIX = "consent#"
NOTE_PREFIX = "auditnote#"


def contact_pk(number_key: str) -> str:
    """The partition of a number's consents, sign-ups, frequency cap and pointers to audit notes
    (contacts table)."""
    return f"contact#{number_key}"


def consent_key(number_key: str, team: str, purpose: str) -> ItemKey:
    """A number's consent to a team for a purpose (contacts table)."""
    return {"pk": contact_pk(number_key), "sk": f"{CONSENT_PREFIX}{team}#{purpose}"}


SIGNUP_PREFIX = "signup#"


def signup_key(number_key: str, team: str) -> ItemKey:
    """A number's sign-up to a team, waiting for its confirmation (contacts table)."""
    return {"pk": contact_pk(number_key), "sk": f"{SIGNUP_PREFIX}{team}"}


def frequency_cap_key(number_key: str) -> ItemKey:
    """The marketing messages counted against a number's frequency cap, every team's together
    (contacts table)."""
    return {"pk": contact_pk(number_key), "sk": "frequency"}


def signup_limit_key(kind: str, subject: str) -> ItemKey:
    """The recent sign-up requests of one source address, number or prefix (contacts table);
    `subject` is a keyed hash, or a prefix too short to be a number."""
    return {"pk": f"signuplimit#{kind}#{subject}", "sk": "window"}


def signup_budget_key(team: str, day: str) -> ItemKey:
    """The confirmations a team sent on a UTC day (contacts table)."""
    return {"pk": f"signupbudget#{team}", "sk": f"day#{day}"}


def receipt_key(request_id: str) -> ItemKey:
    """The receipt of a data-subject request (contacts table)."""
    return {"pk": f"request#{request_id}", "sk": "receipt"}


def note_key(entry_id: str) -> ItemKey:
    """The sealed note of an audit entry (contacts table)."""
    return {"pk": f"{NOTE_PREFIX}{entry_id}", "sk": "note"}


def note_pointer_key(number_key: str, entry_id: str) -> ItemKey:
    """The pointer from a number to an audit note that concerns it (contacts table)."""
    return {"pk": contact_pk(number_key), "sk": f"{NOTE_PREFIX}{entry_id}"}


def note_entry_id(key: object) -> str:
    """The audit entry a note's partition key, or its pointer's sort key, names."""
    return str(key).removeprefix(NOTE_PREFIX)


# replies table

# The key of the `pending-review` index: only the replies awaiting review carry it.
REVIEW_QUEUE = "pending"


def reply_sk(reply_id: str) -> str:
    """A reply's index entry, under its team."""
    return f"reply#{reply_id}"


def reply_key(team: str, reply_id: str) -> ItemKey:
    """A reply's index entry (replies table)."""
    return {"pk": team_pk(team), "sk": reply_sk(reply_id)}


def claim_key(reply_id: str) -> ItemKey:
    """The guard keyed by the reply id alone, written with its entry (replies table)."""
    return {"pk": reply_sk(reply_id), "sk": "claim"}


def allowance_partition(number_key: str) -> str:
    """The partition holding a number's windows (the erasure deletes it whole)."""
    return f"allowance#{number_key}"


def allowance_window_key(number_key: str, window: datetime) -> ItemKey:
    """A number's reply allowance for the hour `window` starts (replies table)."""
    return {
        "pk": allowance_partition(number_key),
        "sk": f"window#{window.strftime('%Y-%m-%dT%H')}",
    }


# audit table: keyed by a partition and a number, `sequence`

CHAIN = "chain"  # the partition of every entry, in sequence order
HEAD = "head"  # the partition of the one item that names the last entry


def audit_entry_key(sequence: int) -> dict[str, str | int]:
    """An entry of the chain (audit table)."""
    return {"pk": CHAIN, "sequence": sequence}


def audit_head_key() -> dict[str, str | int]:
    """The item that names the chain's last entry (audit table)."""
    return {"pk": HEAD, "sequence": 0}
