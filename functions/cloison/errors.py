"""The errors services raise; only the HTTP layer turns them into responses."""


class CloisonError(Exception):
    """Base of every error Cloison raises on purpose."""


class NotFound(CloisonError):
    """The object does not exist, or belongs to a team the caller is not in."""


class ReadDenied(NotFound):
    """IAM or KMS refused a read made under a team's reader role: the object is not the team's
    (a bug in the code asking for it, or a team not onboarded). Answered as a not-found."""


class Conflict(CloisonError):
    """The request makes no sense in the object's current state."""


class CapRaced(Conflict):
    """Numbers' frequency caps changed between their read and the write that counts sends
    against them (another campaign sent to them meanwhile): nothing was written."""

    def __init__(self, number_keys: list[str]) -> None:
        super().__init__(f"{len(number_keys)} frequency caps changed meanwhile")
        self.number_keys = number_keys


class TooLarge(CloisonError):
    """The input exceeds a size limit; nothing of it was kept."""


class Forbidden(CloisonError):
    """The caller's role does not allow this action."""


class RuleViolation(CloisonError):
    """The input breaks a rule; `field` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ContextMismatch(CloisonError):
    """Ciphertext opened in an encryption context other than its own."""


class DataKeyRefused(CloisonError):
    """KMS would not decrypt a sealed object's data key with the credentials at hand."""


class DependencyError(CloisonError):
    """An AWS dependency failed in a way worth retrying."""


class NotSent(DependencyError):
    """The call surely did not reach the carrier (no connection): safe to try again."""


class OutcomeUnknown(DependencyError):
    """The carrier may or may not have sent the message (the answer never came)."""


class Throttled(DependencyError):
    """The carrier refused the call for rate; nothing was sent."""
