"""The console's static files: the QR code library is the very file its version published, with
its licence; every string is in both languages; every script is the console's own."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parents[2] / "console"
VENDOR = CONSOLE / "vendor" / "qrcode-generator"
# qrcode-generator 2.0.4 on the npm registry: `dist/qrcode.mjs` of its tarball (whose
# integrity is sha512-mZSiP6RnbHl4xL2Ap5HfkjLnmxfKcPWpWe/c+5XxCuetEenqmNFf1FH/ftXPCtFG5/TDobjsjz6sSNL0Sr8Z9g==),
# kept as `qrcode.esm.js`. To check or update: `npm pack qrcode-generator@<version>`, then
# `sha256sum package/dist/qrcode.mjs`.
QRCODE_SHA256 = "ea91d7118a5395289170da848b7c6758b996163bfbccf312591ab65a4911b7c0"
IMPORT = re.compile(r"""^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']""", re.M)
KEY = re.compile(r"""^\s+(?:"([^"]+)"|([A-Za-z_]\w*)):""", re.M)


def test_the_qr_code_library_is_the_published_file_with_its_licence() -> None:
    # Given the library the console draws QR codes with
    published = hashlib.sha256((VENDOR / "qrcode.esm.js").read_bytes()).hexdigest()
    licence = (VENDOR / "LICENSE").read_text(encoding="utf-8")

    # Then it is byte for byte the version's published file, and its licence comes with it
    assert published == QRCODE_SHA256
    assert "Copyright (c) 2009 Kazuhiko Arase" in licence
    assert "MIT" in licence
    assert "Permission is hereby granted, free of charge" in licence


def dictionary(source: str, name: str) -> set[str]:
    body = re.search(rf"^const {name} = \{{\n(.*?)^\}};", source, re.M | re.S)
    assert body, f"no dictionary {name}"
    return {quoted or bare for quoted, bare in KEY.findall(body.group(1))}


def test_every_string_of_the_console_is_in_english_and_french() -> None:
    source = (CONSOLE / "i18n.js").read_text(encoding="utf-8")
    english, french = dictionary(source, "en"), dictionary(source, "fr")
    assert english - french == set(), "in English only"
    assert french - english == set(), "in French only"
    assert {"signup.title", "public.sentText", "notice.organisation"} <= english


def test_every_key_a_script_asks_for_is_in_the_dictionaries() -> None:
    # Given the literal keys the scripts translate (t("...") and translate(code, "..."))
    english = dictionary((CONSOLE / "i18n.js").read_text(encoding="utf-8"), "en")
    asked = {
        key
        for script in CONSOLE.glob("*.js")
        for key in re.findall(r"""\bt\(\s*"([a-zA-Z][\w.]*)""", script.read_text(encoding="utf-8"))
    }

    # Then each is a word of the dictionaries
    assert asked - english == set()


@pytest.mark.parametrize("script", sorted(CONSOLE.rglob("*.js")), ids=lambda path: path.name)
def test_a_script_imports_only_the_console_s_own_files(script: Path) -> None:
    for target in IMPORT.findall(script.read_text(encoding="utf-8")):
        assert target.startswith("./"), f"{script.name} imports {target}"
        assert (script.parent / target).resolve().is_file(), f"{script.name}: no {target}"


@pytest.mark.parametrize("page", ["index.html", "signup.html"])
def test_each_page_says_its_language_and_loads_only_its_own_files(page: str) -> None:
    html = (CONSOLE / page).read_text(encoding="utf-8")
    assert re.search(r'<html lang="(en|fr)">', html)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(not re.match(r"[a-z]+://|//", source) for source in sources), sources
