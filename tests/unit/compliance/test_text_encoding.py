"""GSM 03.38 and UCS-2: encoding, units, segments and look-alike substitution of real messages."""

from __future__ import annotations

import gsm0338
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloison.compliance.encoding import (
    GSM7_BASIC,
    GSM7_CHARACTERS,
    GSM7_EXTENSION,
    LOOK_ALIKES,
    TextAnalysis,
    analyze_text,
    decode_gsm7,
    encode_gsm7,
)

EXTENSION_TABLE = "€[]{}^~\\|\f"


def test_extension_table_is_exactly_the_gsm_0338_one() -> None:
    # Given the alphabet built from the gsm0338 package
    # Then its extension table holds the ten characters of 3GPP TS 23.038, and the basic set 127
    assert set(EXTENSION_TABLE) == GSM7_EXTENSION
    assert len(GSM7_BASIC) == 127
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_gsm0338_codec_lets_the_escape_character_through() -> None:
    # Given U+001B, which GSM 03.38 uses only as the escape to the extension table
    codec = gsm0338.Codec()
    # When the gsm0338 codec encodes it before "<", the receiver decodes "[": it is not a character
    septets, _ = codec.encode("\x1b<")
    assert codec.decode(septets)[0] == "["
    # Then our alphabet leaves it out, and a text holding it needs UCS-2
    assert "\x1b" not in GSM7_CHARACTERS
    assert analyze_text("a\x1b<").encoding == "UCS-2"


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("Bonjour Zoé, votre colis arrive demain entre 8h et 12h.", "GSM-7", 55, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("Soldes -30 € sur [tout]", "GSM-7", 23 + 3, 1),
        (EXTENSION_TABLE, "GSM-7", 20, 1),
        ("ç" * 70, "UCS-2", 70, 1),
        ("ç" * 71, "UCS-2", 71, 2),
        ("ç" * 134, "UCS-2", 134, 2),
        ("ç" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),
    ],
    ids=[
        "empty",
        "delivery-notice",
        "160-septets",
        "161-septets",
        "two-full-segments",
        "three-segments",
        "80-euros",
        "81-euros",
        "euro-and-brackets",
        "whole-extension-table",
        "70-units",
        "71-units",
        "two-ucs2-segments",
        "three-ucs2-segments",
        "emoji-surrogate-pairs",
    ],
)
def test_units_and_segments(text: str, encoding: str, units: int, segments: int) -> None:
    # Given a message
    # When it is analysed
    analysis = analyze_text(text)
    # Then encoding, units and segments follow GSM 03.38 and TS 23.040
    assert (analysis.encoding, analysis.units, analysis.segments) == (encoding, units, segments)


def test_escape_sequence_is_never_split_across_segments() -> None:
    # Given 152 septets, a euro sign and 152 more: 306 septets, two segments' worth
    text = "a" * 152 + "€" + "a" * 152
    # When it is analysed
    analysis = analyze_text(text)
    # Then it needs three: the euro cannot straddle the 153-septet boundary
    assert (analysis.units, analysis.segments) == (306, 3)
    # And with the euro one septet earlier, the same length fits in two
    assert analyze_text("a" * 151 + "€" + "a" * 153).segments == 2


def test_surrogate_pair_is_never_split_across_segments() -> None:
    # Given 66 UCS-2 units then an emoji (a surrogate pair at units 67-68) and more text
    text = "ç" * 66 + "😀" + "ç" * 66
    # When it is analysed
    analysis = analyze_text(text)
    # Then the emoji moves whole to the second segment: 66 + (2 + 65) + 1 -> three segments
    assert analysis.units == 134
    assert analysis.segments == 3


def test_non_gsm_lists_forcing_characters_in_order_without_repeats() -> None:
    # Given a French promotion with curly quotes, a circumflex and an emoji, some repeated
    text = "Fête des mères 🎁 : “-20 %” sur tout, “fête” garantie 🎁"
    # When it is analysed
    analysis = analyze_text(text)
    # Then UCS-2 is forced by these characters, each once, in order of appearance
    assert analysis.encoding == "UCS-2"
    assert analysis.non_gsm == ("ê", "🎁", "“", "”")


def test_curly_quote_alone_no_longer_triples_the_cost() -> None:
    # Given a 157-character reminder whose only non-GSM characters are a curly apostrophe, À and ô
    text = (
        "Bonjour, votre rendez-vous de demain est confirmé. N\u2019oubliez pas votre carte Vitale "
        + ("et votre ordonnance. À bientôt au cabinet du Dr Martin, 12 rue des Lilas.")
    )
    # When it is analysed as written, and smartly
    as_written = analyze_text(text)
    smart = analyze_text(text, smart=True)
    # Then as written it costs three UCS-2 segments, smartly one GSM-7 segment
    assert (as_written.encoding, as_written.segments) == ("UCS-2", 3)
    assert (smart.encoding, smart.segments) == ("GSM-7", 1)
    assert "N'oubliez" in smart.text
    assert "A bientot au cabinet" in smart.text


@pytest.mark.parametrize(
    ("written", "smart"),
    [
        ("« Offre spéciale » \u2013 dès 9 h…", '" Offre spéciale " - dès 9 h...'),
        ("Prix\u00a0: 10\u202f€", "Prix : 10 €"),
        ("ÉTÉ À PARIS, FÊTE À L\u2019ÎLE", "ÉTÉ A PARIS, FETE A L'ILE"),
        ("Œuvre reçue, merci", "OEuvre recue, merci"),
        ("client·e·s", "client.e.s"),
        ("ΑΒΓ", "ABΓ"),
    ],
    ids=[
        "guillemets-dash-ellipsis",
        "narrow-spaces",
        "accented-capitals",
        "ligature",
        "dot",
        "greek",
    ],
)
def test_smart_substitution_keeps_the_meaning(written: str, smart: str) -> None:
    # Given text with look-alikes of GSM characters
    # When it is analysed smartly
    analysis = analyze_text(written, smart=True)
    # Then the look-alikes are replaced and the text is GSM-7
    assert (analysis.text, analysis.encoding, analysis.non_gsm) == (smart, "GSM-7", ())


def test_smart_keeps_text_as_written_when_gsm_is_out_of_reach() -> None:
    # Given an emoji, which has no GSM look-alike, beside curly quotes
    text = "Joyeux anniversaire “Léa” 🎂"
    # When it is analysed smartly
    analysis = analyze_text(text, smart=True)
    # Then nothing is replaced: the message is UCS-2 as written
    assert analysis == analyze_text(text)
    assert analysis.text == text


def test_smart_keeps_ucs2_when_substitution_would_cost_more() -> None:
    # Given 220 ellipsis characters: 660 septets as "...", but 220 UCS-2 units
    text = "…" * 220
    # When it is analysed smartly
    analysis = analyze_text(text, smart=True)
    # Then it stays UCS-2, in four segments rather than five
    assert (analysis.encoding, analysis.segments) == ("UCS-2", 4)


def test_every_look_alike_is_gsm() -> None:
    # Given the substitution table
    # Then every replacement is made of GSM characters only
    for replacement in LOOK_ALIKES.values():
        assert set(replacement) <= GSM7_CHARACTERS


def test_analysis_is_an_immutable_value() -> None:
    analysis = analyze_text("Bonjour")
    assert analysis == TextAnalysis("Bonjour", "GSM-7", 7, 1, ())
    with pytest.raises(AttributeError):
        analysis.units = 3  # type: ignore[misc]


def test_encode_gsm7_refuses_a_non_gsm_text() -> None:
    with pytest.raises(ValueError, match=r"GSM 03\.38"):
        encode_gsm7("ça")


GSM_TEXT = st.text(alphabet=sorted(GSM7_CHARACTERS), max_size=400)
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(sorted(GSM7_CHARACTERS)),
        st.sampled_from(sorted(LOOK_ALIKES)),
        st.sampled_from(list("çêâîôûœÀÈÊ😀🎁€")),
        st.characters(),
    ),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(text=GSM_TEXT)
def test_every_gsm_text_round_trips(text: str) -> None:
    # Given any text of the GSM 03.38 alphabet
    # When it is encoded to septets and decoded
    septets = encode_gsm7(text)
    # Then the text comes back, and its septet count is the analysed unit count
    assert decode_gsm7(septets) == text
    assert len(septets) == analyze_text(text).units
    assert analyze_text(text).encoding == "GSM-7"


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT, appended=st.one_of(st.characters(), st.sampled_from(list("€…“ç😀a"))))
def test_segments_never_decrease_when_a_character_is_appended(text: str, appended: str) -> None:
    # Given any text and any character
    # When the character is appended
    # Then the message needs at least as many segments, as written and smartly
    assert analyze_text(text + appended).segments >= analyze_text(text).segments
    assert (
        analyze_text(text + appended, smart=True).segments
        >= analyze_text(text, smart=True).segments
    )


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT)
def test_analysis_invariants(text: str) -> None:
    # Given any text
    analysis = analyze_text(text)
    smart = analyze_text(text, smart=True)
    # Then non_gsm is empty exactly for GSM-7, without repeats, and smart never costs more
    assert (analysis.encoding == "GSM-7") == (not analysis.non_gsm)
    assert len(set(analysis.non_gsm)) == len(analysis.non_gsm)
    assert smart.segments <= analysis.segments
    if analysis.encoding == "UCS-2":
        assert analysis.units == len(text.encode("utf-16-le", "surrogatepass")) // 2
