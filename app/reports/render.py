"""The WeasyPrint boundary: report templates to HTML, HTML to PDF bytes, and nothing fetched.

Report markup comes from `templates/reports/`; the one stylesheet `report.css` is inlined as
`<style>` in the HTML preview and given to WeasyPrint as a `CSS` object parsed once per process.
"""

from __future__ import annotations

import base64
import functools
import gc
import hashlib
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup
from weasyprint import CSS  # type: ignore[import-untyped]
from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]
from weasyprint.urls import (  # type: ignore[import-untyped]
    FatalURLFetchingError,
    URLFetcher,
    URLFetcherResponse,
)

from app.reports import html_parsing, stack_room, svg_text, user_agent
from app.reports.svg import level_text

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"
REPORT_CSS = TEMPLATE_DIR / "reports" / "report.css"
LANGUAGES = {"zh": "zh-CN", "en": "en"}
# Pango's font map is shared by every render in the process; renders take turns.
_RENDER_LOCK = threading.Lock()
html_parsing.install()
svg_text.install()


class ReportRenderError(Exception):
    """A report could not be rendered, e.g. its markup asked for a resource we refuse."""


class FetchRefused(ValueError):
    """Raised by the fetcher for anything but a `data:` URL."""


class SafeFetcher(URLFetcher):  # type: ignore[misc]
    """WeasyPrint's fetcher restricted to `data:` URLs: no files, no network, no redirects.

    With `fail_on_errors`, WeasyPrint turns our refusal into `FatalURLFetchingError`, so a
    template that lets a URL through fails the whole render instead of printing a gap.
    """

    def __init__(self) -> None:
        super().__init__(
            timeout=1,
            allowed_protocols=frozenset({"data"}),
            allow_redirects=False,
            fail_on_errors=True,
        )

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        # Checked here as well as by `allowed_protocols`, before any urllib handler runs.
        if not url[:5].lower() == "data:":
            raise FetchRefused(f"reports may embed data: URLs only, refused {url[:120]!r}")
        return super().fetch(url, headers)


safe_fetcher = SafeFetcher()


def html_lang(lang: str) -> str:
    """The BCP 47 tag for one of our language codes ("zh" → "zh-CN")."""
    try:
        return LANGUAGES[lang]
    except KeyError:
        raise ValueError(f"lang must be one of {sorted(LANGUAGES)}, got {lang!r}") from None


@pass_context
def t(context: Context, zh: str, en: str) -> str:
    """`{{ t("中文", "English") }}`: the text in the report's language."""
    return zh if context.get("lang") == "zh" else en


@functools.cache
def report_css() -> str:
    css = REPORT_CSS.read_text(encoding="utf-8")
    # It is inlined raw into <style>; this would end the element early.
    if "</" in css:
        raise ReportRenderError(f"{REPORT_CSS.name} must not contain '</'")
    return css


def preview_style_source() -> str:
    """CSP source allowing exactly the inlined report stylesheet, for the preview route."""
    digest = hashlib.sha256(report_css().encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@functools.cache
def environment() -> Environment:
    """Reports' own Jinja2 environment: autoescaped, strict about undefined names.

    Templates get `t(zh, en)` and the `level` filter (one decimal, "—" for no level).
    """
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(("html",), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["t"] = t
    env.filters["level"] = level_text
    return env


def _render_template(
    template: str | Template, context: Mapping[str, Any], *, inline_css: bool
) -> str:
    if "lang" not in context:
        raise ValueError("a report context needs 'lang' ('zh' or 'en')")
    values = {
        **context,
        "html_lang": html_lang(context["lang"]),
        "report_css": Markup(report_css()) if inline_css else None,  # noqa: S704 our own file
    }
    if isinstance(template, str):
        template = environment().get_template(template)
    return template.render(values)


def render_html(template: str | Template, context: Mapping[str, Any]) -> str:
    """The HTML preview: the same markup as the PDF, with the report CSS inlined.

    `template` is a name under `templates/` or a template made by `environment()`.
    """
    return _render_template(template, context, inline_css=True)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (and back on after, if it was on).

    A render allocates hundreds of thousands of short-lived objects; with the collector on,
    they set off collections that also scan every long-lived object of the process (measured:
    a full collection every two or three candidate reports, some 40 young ones in each, in
    all about a fifth of the render's time). What the render leaves behind is collected when
    the block ends; renders take turns and each lasts well under a second.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            # The young objects the render left, swept now rather than at some later
            # allocation (the cost stays with the render that caused it).
            gc.collect(0)


@functools.cache
def font_config() -> Any:
    return FontConfiguration()


@functools.cache
def stylesheet() -> Any:
    return CSS(
        string=report_css(), base_url=None, url_fetcher=safe_fetcher, font_config=font_config()
    )


# WeasyPrint's user-agent rules minus those reports never use (`user_agent`), parsed at import
# as WeasyPrint parses its own (40 ms here), not in a process's first report.
USER_AGENT_SHEET = CSS(string=user_agent.report_rules(), base_url=None, url_fetcher=safe_fetcher)


def _write_pdf(html: str, title: str, tag: str, author: str) -> bytes:
    # Its own function so that the document is gone when it returns: the collection at the
    # end of `gc_paused` then frees the render's garbage instead of walking the live document.
    document = user_agent.ReportHTML(
        string=html,
        base_url=None,
        url_fetcher=safe_fetcher,
        user_agent_sheet=USER_AGENT_SHEET,
    ).render(
        font_config=font_config(),
        stylesheets=[stylesheet()],
        presentational_hints=False,
    )
    metadata = document.metadata
    metadata.title = title
    metadata.authors = [author]
    metadata.lang = tag
    metadata.created = None
    metadata.modified = None
    metadata.attachments = []
    pdf: bytes = document.write_pdf()
    return pdf


def render_pdf(html: str, *, title: str, lang: str, author: str = "Yardstick") -> bytes:
    """PDF bytes for report HTML, with our stylesheet, fonts and fetcher, and fixed metadata.

    Title, author and language are set here whatever the markup says; creation and
    modification dates and attachments are dropped, so equal input gives equal bytes.
    """
    tag = html_lang(lang)
    with _RENDER_LOCK, gc_paused(), capture_warnings() as seen:
        try:
            pdf = stack_room.call(_write_pdf, html, title, tag, author)
        except FatalURLFetchingError as error:
            # A BaseException in WeasyPrint; turned into an ordinary error at this boundary.
            raise ReportRenderError(f"report refused an external resource: {error}") from error
    # WeasyPrint logs, rather than raises, some failures (a refused fetch inside inline SVG
    # drops the whole SVG, a relative URL is skipped): a report with a silent gap is an error.
    errors = [r.getMessage() for r in seen.records if r.levelno >= logging.ERROR]
    if errors:
        raise ReportRenderError("report rendering failed: " + " | ".join(errors))
    return pdf


def pdf_markup(template: str | Template, context: Mapping[str, Any]) -> str:
    """The markup `render_report` hands WeasyPrint: as the preview, minus the inlined CSS."""
    return _render_template(template, context, inline_css=False)


def render_report(
    template: str | Template,
    context: Mapping[str, Any],
    *,
    title: str,
    author: str = "Yardstick",
) -> bytes:
    """A report template straight to PDF; the stylesheet comes parsed, not inlined."""
    html = pdf_markup(template, context)
    return render_pdf(html, title=title, lang=context["lang"], author=author)


@dataclass
class RenderWarnings:
    """What WeasyPrint logged while the guard was active."""

    records: list[logging.LogRecord] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]

    @property
    def missing_glyphs(self) -> list[str]:
        return [m for m in self.messages if ".notdef" in m]

    @property
    def fetch_problems(self) -> list[str]:
        markers = ("Failed to load", "Relative URI", "fetch", "Unsupported stylesheet", "URL")
        return [m for m in self.messages if any(marker in m for marker in markers)]

    def check(self) -> None:
        """Raise if any glyph was missing from the fonts or any resource failed to load."""
        problems = self.missing_glyphs + self.fetch_problems
        if problems:
            raise AssertionError("WeasyPrint reported: " + " | ".join(problems))


class _Collector(logging.Handler):
    def __init__(self, sink: RenderWarnings) -> None:
        super().__init__(level=logging.WARNING)
        self.sink = sink
        self.seen: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        # Attached to a logger and its child: a propagated record arrives twice.
        if id(record) not in self.seen:
            self.seen.add(id(record))
            self.sink.records.append(record)


@contextmanager
def capture_warnings() -> Iterator[RenderWarnings]:
    """Collect WeasyPrint's warnings and errors (its `weasyprint` and `weasyprint.progress`
    loggers) for the duration of the block; call `.check()` on the result to fail on them."""
    sink = RenderWarnings()
    handler = _Collector(sink)
    loggers = [logging.getLogger("weasyprint"), logging.getLogger("weasyprint.progress")]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.WARNING:
            logger.setLevel(logging.WARNING)
    try:
        yield sink
    finally:
        for logger, level in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
