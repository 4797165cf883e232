"""English mode, as a whole: every string marked for translation in the pages,
messages and e-mails of either service has an English translation in that
service's compiled catalogue (the committed ``.mo``), and the ``.mo`` is the
``.po`` compiled. A string marked but never translated shows in Japanese on
an English page, which is how the privacy block stayed Japanese."""

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils.translation.template import templatize

SRC = Path("src/madoguchi")
CATALOGUES = {
    # The catalogue, and the trees whose marked strings it must translate
    # (Django merges every app's catalogue, so one serves the whole service).
    "shinsei": (
        SRC / "shinsei/applications/locale/en/LC_MESSAGES",
        [SRC / "shinsei/applications", SRC / "shinsei/gateways", SRC / "shinsei/procedures"],
    ),
    "kessai": (
        SRC / "kessai/payments/locale/en/LC_MESSAGES",
        [SRC / "kessai/payments", SRC / "kessai/providers", SRC / "kessai/merchants"],
    ),
}
MARKERS = {"gettext", "gettext_lazy", "gettext_noop", "_", "pgettext", "pgettext_lazy"}
TEMPLATE_CALL = re.compile(
    r"\b(gettext|pgettext)\((u?'(?:[^'\\]|\\.)*'(?:, u?'(?:[^'\\]|\\.)*')?)\)"
)


def _from_python(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name not in MARKERS:
            continue
        constants = [a.value for a in node.args[:2] if isinstance(a, ast.Constant)]
        texts = [text for text in constants if isinstance(text, str)]
        if name.startswith("pgettext") and len(texts) == 2:
            found.add(f"{texts[0]}\x04{texts[1]}")
        elif texts:
            found.add(texts[0])
    return found


def _from_template(source: str) -> set[str]:
    found = set()
    for kind, arguments in TEMPLATE_CALL.findall(templatize(source)):
        values = ast.literal_eval(f"({arguments},)")
        found.add(f"{values[0]}\x04{values[1]}" if kind == "pgettext" else values[0])
    return found


def marked_strings(trees: list[Path]) -> dict[str, Path]:
    strings: dict[str, Path] = {}
    for tree in trees:
        for path in sorted(tree.rglob("*")):
            if "migrations" in path.parts or "staff" in path.parts:
                continue  # staff pages are Japanese only (docs/shinsei.md)
            if path.suffix == ".py":
                found = _from_python(path.read_text(encoding="utf-8"))
            elif path.suffix in (".html", ".txt") and "templates" in path.parts:
                found = _from_template(path.read_text(encoding="utf-8"))
            else:
                continue
            for text in found:
                strings.setdefault(text, path)
    return strings


def test_marked_strings_are_found() -> None:
    assert _from_template('{% translate "利用目的" %}') == {"利用目的"}
    assert _from_template("{% blocktranslate with y=1 %}{{ y }}年{% endblocktranslate %}") == {
        "%(y)s年"
    }
    assert _from_python("from x import gettext_lazy as _\n_('保存期間')") == {"保存期間"}


@pytest.mark.parametrize("service", sorted(CATALOGUES))
def test_every_marked_string_has_an_english_translation(service: str) -> None:
    folder, trees = CATALOGUES[service]
    with (folder / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    missing = [
        f"{path}: {text!r}"
        for text, path in sorted(marked_strings(trees).items())
        if not catalogue.get(text)
    ]
    assert missing == []


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="gettext's msgfmt is not installed")
@pytest.mark.parametrize("service", sorted(CATALOGUES))
def test_the_committed_mo_is_the_po_compiled(service: str, tmp_path: Path) -> None:
    folder, _trees = CATALOGUES[service]
    subprocess.run(  # noqa: S603 - a fixed command on our own files
        ["msgfmt", "-o", str(tmp_path / "django.mo"), str(folder / "django.po")],  # noqa: S607
        check=True,
    )
    with (tmp_path / "django.mo").open("rb") as fresh, (folder / "django.mo").open("rb") as kept:
        assert (
            gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
            == gettext.GNUTranslations(kept)._catalog  # type: ignore[attr-defined]
        )
