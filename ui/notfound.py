"""An address that names no page: Streamlit runs the main page under an English modal
("Page not found"), which it does not let an app word; this says the same in Spanish.

The modal is drawn by Streamlit's frontend before the page runs, and 1.67 has no option or hook
for it, so a small script (st.html with JavaScript, our own text only) rewrites its title and
message and puts the app's root back in the address bar.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

import streamlit as st

TITLE = "Página no encontrada"
_SCRIPT = """<script>
(() => {
  const fix = () => {
    for (const dialog of document.querySelectorAll('[role="dialog"]')) {
      const heading = dialog.querySelector("h2");
      if (!heading || heading.textContent !== "Page not found") continue;
      heading.textContent = %(title)s;
      if (heading.nextElementSibling) heading.nextElementSibling.textContent = %(message)s;
      const close = dialog.querySelector('button[aria-label="Close"]');
      if (close) close.setAttribute("aria-label", "Cerrar");
      return true;
    }
    return false;
  };
  if (!fix()) {
    const watch = new MutationObserver(() => fix() && watch.disconnect());
    watch.observe(document.body, {childList: true, subtree: true});
    setTimeout(() => watch.disconnect(), 15000);
  }
  history.replaceState(history.state, "", %(root)s + location.search);
})();
</script>"""


def unknown_path(url: str | None, base: str, known: Iterable[str]) -> tuple[str, str] | None:
    """(the asked path, the app's root) when `url` names no page of `known` (URL paths)."""
    if not url:
        return None
    path = urlsplit(url).path
    prefix = "/" + base.strip("/") + "/" if base.strip("/") else "/"
    if not path.startswith(prefix):
        return None
    asked = path[len(prefix) :].strip("/")
    return None if asked in {"", *known} else (asked, prefix)


def message(asked: str, shown: str) -> str:
    """What the Spanish notice says: the address asked for and the page shown instead."""
    return (
        f"La dirección «/{asked}» no corresponde a ninguna página del tablero. Se muestra "
        f"«{shown}», la página principal; las demás están en el menú de arriba."
    )


def script(asked: str, shown: str, root: str) -> str:
    """The script that words the modal in Spanish (the asked path only inside JS strings)."""

    def js(text: str) -> str:  # a JavaScript string literal that cannot close the script
        return json.dumps(text).replace("<", "\\u003c")

    return _SCRIPT % {"title": js(TITLE), "message": js(message(asked, shown)), "root": js(root)}


def translate_modal(asked: str, shown: str, root: str) -> None:
    """Word Streamlit's "Page not found" modal in Spanish and show the root in the address."""
    st.html(script(asked, shown, root), unsafe_allow_javascript=True)
