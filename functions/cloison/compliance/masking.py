"""Numbers hidden for logs, errors and free text: plain string work, no numbering plan loaded.
Network addresses too, down to their network."""

from __future__ import annotations

import ipaddress
import re


def mask_phone(raw: str) -> str:
    """A phone number with every digit hidden but the last two, safe for logs and errors."""
    digits = [char for char in raw if char.isdigit()]
    return "***" + "".join(digits[-2:]) if len(digits) >= 4 else "***"


# Six digits or more, whatever separates them: spaces of any width, dots, commas, dashes of any
# kind, underscores, middle dots, slashes, brackets (up to three in a row).
_DIGIT_RUN = re.compile(r"\+?\d(?:(?:[^\w\n]|_){0,3}\d){5,}")
# A count written with thousands separators (100,000), which no phone number is written as.
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
# A calendar date as people write it (2024-03-01, 01/03/2024, 1.3.2024): kept, as proof of
# when a consent or a request was made; no French number is written so.
_DATE = re.compile(
    r"(?:(?:19|20)\d\d[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)\d\d)"
)


def scrub_numbers(text: str) -> str:
    """Free text with every run of digits long enough to be a phone number masked, as it is
    written: a reason, a consent's source or proof never holds a number in clear."""
    return _DIGIT_RUN.sub(
        lambda match: (
            match.group()
            if _THOUSANDS.fullmatch(match.group()) or _DATE.fullmatch(match.group())
            else mask_phone(match.group())
        ),
        text,
    )


def scrub_page(page: str) -> str:
    """A page's address with numbers masked after its host: `https://127.0.0.1:3000/signup.html`
    keeps its host and port (a host is no one's number), while a number in its path, query or
    fragment (`?phone=0612345678`) is masked. Anything that is not an http(s) address is free
    text."""
    scheme, separator, rest = page.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        return scrub_numbers(page)
    host, slash, tail = rest.partition("/")
    if "?" in host or "#" in host:
        return scrub_numbers(page)
    return f"{scheme}://{host}{slash}{scrub_numbers(tail)}"


# What is left of an address: its network, as analytics tools keep it (IPv4 /24, IPv6 /48).
ADDRESS_NETWORKS = {4: 24, 6: 48}


def mask_address(address: str) -> str:
    """An IP address down to its network: `203.0.113.7` -> `203.0.113.0/24`, `2001:db8:1::5`
    -> `2001:db8:1::/48`; anything else `***`. It tells a network, not who used it."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return "***"
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped  # an IPv4 address written as IPv6 is masked as IPv4
    network = ipaddress.ip_network(f"{parsed}/{ADDRESS_NETWORKS[parsed.version]}", strict=False)
    return str(network)
