"""Widgets whose value lives in the URL query string, so any view can be shared as a link.

Each widget starts from its query parameter (`?ticker=GGAL&fecha=2024-03-08`; the
evolution page repeats `ticker`) when it holds a valid choice, and writes its value
back to the address bar. A date stays out of the URL only while the view follows the
latest analysis, so that view keeps showing new data after each run; a date that was
in the URL stays explicit. (Streamlit's `bind="query-params"` drops any value equal to
the widget's default, so a link to a ticker's latest call would drift to later dates.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pipeline.textsafe import escape_markdown

TICKER = "ticker"
DATE = "fecha"
START, END = "desde", "hasta"  # a period: ?desde=2024-01-02&hasta=2024-03-08
HORIZON = "horizonte"  # sessions after the call: ?horizonte=20
ENTRY = "entrada"  # the entry price: ?entrada=cierre (close of the day) or siguiente
ENTRY_SLUGS = {"close": "cierre", "next_close": "siguiente"}
VIEW = "vista"  # a page's open tab (lazy tabs bound to the URL): ?vista=Precio
# The page scripts (declared in dashboard.py). Not in a folder named `pages/`: Streamlit
# runs such a folder's scripts directly (its older multipage mode) on a deep link into a
# freshly started server, bypassing dashboard.py and its st.navigation.
RECOMMENDATIONS_PAGE = "app_pages/recomendaciones.py"
EVOLUTION_PAGE = "app_pages/evolucion.py"
DETAIL_PAGE = "app_pages/detalle.py"
HEALTH_PAGE = "app_pages/salud.py"
TRACK_PAGE = "app_pages/historial.py"
METHOD_PAGE = "app_pages/metodologia.py"
DETAIL_URL_PATH = "detalle"


def _match_ticker(asked: str, options: Sequence[str]) -> str | None:
    """The option spelled like `asked` regardless of case and surrounding spaces, or None."""
    wanted = asked.strip().upper()
    return next((o for o in options if o.upper() == wanted), None)


def ticker_select(
    where: DeltaGenerator, label: str, options: Sequence[str], default: str | None = None
) -> str:
    """A ticker selectbox bound to `?ticker=` (case-insensitive; else `default` or the first).

    An unknown ticker in the URL is named in a notice, with the default shown instead.
    """
    asked = st.query_params.get(TICKER)
    current = _match_ticker(asked, options) if asked else None
    shown = current if current in options else default
    index = options.index(shown) if shown in options else 0
    chosen = where.selectbox(label, options, index=index)
    if asked and current is None:
        st.warning(
            f"No hay ningún ticker «{escape_markdown(asked)}» en la base; se muestra "
            f"{escape_markdown(chosen)}. Elegí otro en la lista «{label}».",
            icon=":material/search_off:",
        )
    st.query_params[TICKER] = chosen
    return chosen


def tickers_select(
    where: DeltaGenerator,
    label: str,
    options: Sequence[str],
    default: Sequence[str],
    **kwargs: Any,
) -> list[str]:
    """A ticker multiselect bound to repeated `?ticker=` parameters."""
    asked = st.query_params.get_all(TICKER)
    matched = [_match_ticker(t, options) for t in asked]
    current = list(dict.fromkeys(t for t in matched if t is not None))
    chosen = where.multiselect(label, options, default=current or list(default), **kwargs)
    if unknown := [t for t, m in zip(asked, matched, strict=True) if m is None]:
        st.warning(
            f"Sin datos de {', '.join(f'«{escape_markdown(t)}»' for t in unknown)} en la base; "
            f"se muestra{'n' if len(chosen) != 1 else ''} {', '.join(chosen) or 'ninguno'}.",
            icon=":material/search_off:",
        )
    st.query_params[TICKER] = chosen
    return chosen


def date_select(where: DeltaGenerator, label: str, dates: Sequence[dt.date]) -> dt.date:
    """A date picker over [first, last] of `dates`, bound to `?fecha=AAAA-MM-DD`."""
    first, last = dates[0], dates[-1]
    requested = _requested_date()
    day = last if requested is None else min(max(requested, first), last)
    chosen = where.date_input(label, day, first, last, format="DD/MM/YYYY")
    if requested is not None and requested != day:
        st.info(
            f"Pediste el {requested:%d/%m/%Y}, fuera de los análisis guardados "
            f"({first:%d/%m/%Y} a {last:%d/%m/%Y}); se muestra el {day:%d/%m/%Y}.",
            icon=":material/event_busy:",
        )
    if requested is None and chosen == last:
        st.query_params.pop(DATE, None)  # following the latest analysis
    else:
        st.query_params[DATE] = chosen.isoformat()
    return chosen


def choice_select(
    where: DeltaGenerator, label: str, param: str, choices: dict[str, str], default: str
) -> str:
    """Horizontal radio buttons over `choices` (URL value → label), bound to `?param=`."""
    current = st.query_params.get(param)
    values = list(choices)
    index = values.index(current if current in choices else default)
    chosen = where.radio(label, values, index=index, format_func=choices.get, horizontal=True)
    if current is not None and current not in choices:
        accepted = _listed([f"{param}={value}" for value in values])
        bad_parameter(param, current, f"los valores aceptados son {accepted}", choices[chosen])
    st.query_params[param] = chosen
    return chosen


def bad_parameter(param: str, value: str, accepted: str, shown: str) -> None:
    """A notice naming a URL parameter with a value the page cannot use, and what it accepts."""
    st.warning(
        f"El parámetro «{param}={escape_markdown(value)}» de la dirección no es válido: "
        f"{accepted}. Se muestra {shown}.",
        icon=":material/link_off:",
    )


def _listed(words: Sequence[str]) -> str:
    """ "a", "a o b", "a, b o c"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} o {words[-1]}"


def horizon_select(where: DeltaGenerator, horizons: Sequence[int], default: int) -> int:
    """The outcome horizon in sessions, bound to `?horizonte=`."""
    choices = {str(h): f"{h} ruedas" for h in horizons}
    return int(choice_select(where, "Horizonte", HORIZON, choices, str(default)))


def entry_select(where: DeltaGenerator, entries: dict[str, str]) -> str:
    """The entry price (`close` or `next_close`), bound to `?entrada=cierre|siguiente`."""
    choices = {ENTRY_SLUGS[e]: label for e, label in entries.items()}
    slug = choice_select(where, "Entrada", ENTRY, choices, ENTRY_SLUGS["close"])
    return next(e for e, s in ENTRY_SLUGS.items() if s == slug)


def _requested_date(param: str = DATE) -> dt.date | None:
    """The date of `?param=AAAA-MM-DD`; a value that is no such date gets a notice (None)."""
    raw = st.query_params.get(param)
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        example = "fecha=2024-03-08" if param == DATE else f"{param}=2024-03-08"
        accepted = f"tiene que ser una fecha AAAA-MM-DD, p. ej. {example}"
        bad_parameter(param, raw, accepted, "la fecha predeterminada")
        st.query_params.pop(param, None)  # the address keeps only what is shown
        return None


def period_select(
    where: DeltaGenerator,
    label: str,
    bounds: tuple[dt.date, dt.date],
    default: tuple[dt.date, dt.date],
) -> tuple[dt.date, dt.date] | None:
    """A from-to date range bound to `?desde=&hasta=` (AAAA-MM-DD), clamped to `bounds`.

    Returns None while only one end is picked. The URL keeps the period only once it is
    chosen or given, so a default view follows new data.
    """
    first, last = bounds
    asked = (_requested_date(START), _requested_date(END))
    backwards = asked[0] is not None and asked[1] is not None and asked[0] > asked[1]
    if backwards:  # the same period, given the wrong way round
        asked = (asked[1], asked[0])
    start = min(max(asked[0] or default[0], first), last)
    end = min(max(asked[1] or default[1], start), last)
    clamped = any(a not in (None, s) for a, s in zip(asked, (start, end), strict=True))
    if backwards or clamped:
        _period_notice(backwards, clamped, (start, end), bounds)
    span = where.date_input(label, (start, end), first, last, format="DD/MM/YYYY")
    if len(span) != 2:
        return None
    chosen = (span[0], span[1])
    if asked != (None, None) or chosen != (start, end):
        st.query_params[START], st.query_params[END] = (d.isoformat() for d in chosen)
    return chosen


def _period_notice(
    backwards: bool, clamped: bool, shown: tuple[dt.date, dt.date], bounds: tuple[dt.date, dt.date]
) -> None:
    """Name the period the URL asked for and the one shown instead: `desde` after `hasta`
    (swapped), or ends outside the stored analyses (moved inside them)."""
    given = [f"{p}={escape_markdown(v)}" for p in (START, END) if (v := st.query_params.get(p))]
    why = ["«desde» es posterior a «hasta», así que se tomaron al revés"] if backwards else []
    if clamped:
        why.append(f"fuera de los análisis guardados ({bounds[0]:%d/%m/%Y} a {bounds[1]:%d/%m/%Y})")
    st.info(
        f"Pediste {' y '.join(given)}: {'; '.join(why)}. Se muestra del "
        f"{shown[0]:%d/%m/%Y} al {shown[1]:%d/%m/%Y}.",
        icon=":material/event_busy:",
    )


def detail_query(ticker: str, day: dt.date) -> dict[str, str]:
    """The query parameters that open the detail page on `ticker` at `day`."""
    return {TICKER: ticker, DATE: day.isoformat()}


def detail_url(ticker: str, day: dt.date) -> str:
    """A link to the detail page on `ticker` at `day`, relative to the app's root."""
    return f"{DETAIL_URL_PATH}?{urlencode(detail_query(ticker, day))}"
