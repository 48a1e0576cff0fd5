"""Lesson Markdown → safe HTML.

markdown-it-py (CommonMark, raw HTML off) parses; fenced ``kubectl``/``shell``/``yaml``/``json``
blocks are highlighted by Pygments with CSS classes (``static/css/pygments.css``); ``kubectl`` and
``console`` blocks are terminal sessions: only their command lines are highlighted, their output
stays plain; ``##`` headings get stable ids and make the "on this page" list; the first use of
each glossary term on a page links to the glossary (case-sensitive: only the forms listed under
``match``); nh3 sanitises the result. :func:`render_inline` does the same, inline only, for quiz
texts.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import BashLexer, JsonLexer, YamlLexer

from k8slearn.courses.blocks import RunAction, kubectl_commands, parse_cluster_block

if TYPE_CHECKING:
    from k8slearn.courses.loader import Term

LEXERS = {
    "shell": BashLexer,
    "bash": BashLexer,
    "sh": BashLexer,
    "yaml": YamlLexer,
    "yml": YamlLexer,
    "json": JsonLexer,
}
# Terminal sessions: command lines are highlighted as shell, output lines are plain text.
SESSION_LANGS = frozenset({"kubectl", "console"})
FORMATTER = HtmlFormatter(nowrap=True)
PYGMENTS_STYLE = "default"

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "button", "code", "del", "div", "em", "h2", "h3", "h4",
    "h5",
    "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "pre": {"class", "data-lang", "tabindex"},  # tabindex: code that scrolls sideways is reachable by keyboard
    "code": {"class"},
    "span": {"class"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    # Runnable blocks (k8slearn.courses.blocks): made by the renderer, never by the author, since
    # raw HTML is off. playground.js shows them when the page has a playground.
    "div": {"class", "data-testid", "hidden", "role", "aria-label"},
    "button": {"type", "class", "data-run-kubectl", "data-run-action", "data-testid", "hidden",
               "aria-label"},
}


@dataclass(frozen=True)
class Heading:
    id: str
    text: str


DIAGRAM_MARKER = "[[diagram]]"  # a paragraph of its own: where lesson.yaml's diagram goes


@dataclass(frozen=True)
class RenderedPage:
    html: str
    toc: tuple[Heading, ...]
    terms: frozenset[str]  # glossary term ids linked on this page
    html_after: str = ""  # the body after the [[diagram]] marker (empty without a marker)


def _highlight(code: str, info: str, _attrs: object) -> str:
    lang = (info or "").strip().split(maxsplit=1)[0].lower() if info else ""
    if lang in SESSION_LANGS:
        body = _highlight_session(code)
    elif lang in LEXERS:
        body = highlight(code, LEXERS[lang](), FORMATTER)
    else:
        return ""  # markdown-it's default <pre><code> with the text escaped
    return (f'<pre class="highlight" data-lang="{html.escape(lang)}" tabindex="0">'
            f"<code>{body}</code></pre>\n")


_PROMPT = "$ "


def _is_command(line: str) -> bool:
    return line.startswith((_PROMPT, "kubectl ")) or line.rstrip() in ("$", "kubectl")


def _highlight_session(code: str) -> str:
    """A terminal session: ``$ …`` and ``kubectl …`` lines (and their ``\\`` continuations) as
    shell, with the ``$`` as a prompt; every other line is output, escaped and left plain."""
    out: list[str] = []
    continued = False
    for line in code.splitlines():
        if continued or _is_command(line):
            prompt = ""
            command = line
            if not continued and line.startswith(_PROMPT.rstrip()):
                prompt = '<span class="gp">$</span>' + html.escape(line[1:2])
                command = line[2:]
            shell = highlight(command, BashLexer(), FORMATTER).rstrip("\n")
            out.append(prompt + shell)
            continued = line.endswith("\\")
        else:
            out.append(html.escape(line, quote=False))
    return "\n".join(out) + "\n"


RUN_LABEL = {"ko": "실행", "en": "Run"}
RUN_ARIA = {"ko": "플레이그라운드 터미널에서 실행: {commands}",
            "en": "Run in the playground terminal: {commands}"}
ACTIONS_LABEL = {"ko": "플레이그라운드에서 해 보기", "en": "Try it in the playground"}


def _fence(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict,
           env: dict) -> str:
    """Fenced code, plus the buttons of runnable blocks (``kubectl`` and ``cluster``)."""
    token = tokens[idx]
    info = token.info.strip().split(maxsplit=1)[0].lower() if token.info.strip() else ""
    lang = env.get("lang", "ko")
    if info == "cluster":
        found, problems = parse_cluster_block(token.content)
        if found and not problems:
            return _run_block(found, lang)
        token.info = "yaml"  # a broken block shows as YAML; `lessons check` says what is wrong
    html_code = RendererHTML.fence(self, tokens, idx, options, env)
    if info == "kubectl":
        commands, _skipped = kubectl_commands(token.content)
        if commands:
            payload = html.escape(json.dumps(commands, ensure_ascii=False), quote=True)
            aria = html.escape(RUN_ARIA[lang].format(commands="; ".join(commands)), quote=True)
            return (f'<div class="runnable" data-testid="runnable">{html_code}'
                    f'<button type="button" class="run-btn" data-run-kubectl="{payload}" '
                    f'aria-label="{aria}" hidden>▶ {RUN_LABEL[lang]}</button></div>\n')
    return html_code


def _run_block(found: Sequence[RunAction], lang: str) -> str:
    buttons = "".join(
        f'<button type="button" class="run-btn" data-testid="run-action" '
        f'data-run-action="{html.escape(action.message_json(), quote=True)}">'
        f"{html.escape(action.label[lang])}</button>"
        for action in found
    )
    label = html.escape(ACTIONS_LABEL[lang])
    return (f'<div class="run-block" data-testid="run-block" role="group" aria-label="{label}" '
            f'hidden>{buttons}</div>\n')


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    md.enable("table")
    md.enable("strikethrough")
    md.add_render_rule("fence", _fence)
    return md


_MD = _parser()


def slugify(text: str) -> str:
    """A heading id that keeps Hangul and other letters: '왜 쿠버네티스인가?' → '왜-쿠버네티스인가'."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    text = re.sub(r"[\s_-]+", "-", text).strip("-")
    return text or "section"


_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")


def _term_pattern(words: Iterable[str], lang: str = "en") -> re.Pattern[str] | None:
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.escape(word)
        # A Korean term may be followed by a particle (파드를, 파드는); so may a Latin name in
        # Korean text (kubelet이, kube-proxy는). Otherwise a term needs a word end (not "podcast").
        if _HANGUL.match(word[-1]):
            tail = ""
        elif lang == "ko":
            tail = r"(?![a-zA-Z0-9_])"
        else:
            tail = r"(?![\w])"
        parts.append(f"{escaped}{tail}")
    if not parts:
        return None
    # Case-sensitive on purpose: "Deployment" (the object) is a term, "deployment" is plain English.
    return re.compile(r"(?<![\w])(?:" + "|".join(parts) + ")")


class _Linker:
    """Links the first occurrence of each glossary term on a page (plain text only)."""

    def __init__(self, terms: Sequence[Term], lang: str) -> None:
        self.lang = lang
        self.word_to_term: dict[str, str] = {}
        for term in terms:
            for word in term.match.get(lang, ()):
                self.word_to_term.setdefault(word, term.id)
        self.pattern = _term_pattern(self.word_to_term, lang)
        self.used: set[str] = set()

    def link(self, children: list[Token]) -> list[Token]:
        if self.pattern is None:
            return children
        out: list[Token] = []
        link_depth = 0
        for token in children:
            if token.type == "link_open":
                link_depth += 1
            elif token.type == "link_close":
                link_depth -= 1
            if token.type != "text" or link_depth > 0:
                out.append(token)
                continue
            out.extend(self._split(token))
        return out

    def _split(self, token: Token) -> list[Token]:
        content = token.content
        pieces: list[Token] = []
        position = 0
        for found in self.pattern.finditer(content):
            term_id = self.word_to_term[found.group(0)]
            if term_id in self.used:
                continue
            self.used.add(term_id)
            if found.start() > position:
                pieces.append(_text(content[position : found.start()]))
            opener = Token("link_open", "a", 1)
            opener.attrs = {"href": f"/{self.lang}/glossary/#term-{term_id}", "class": "term"}
            pieces.extend([opener, _text(found.group(0)), Token("link_close", "a", -1)])
            position = found.end()
        if not pieces:
            return [token]
        if position < len(content):
            pieces.append(_text(content[position:]))
        return pieces


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def strip_comments(source: str) -> str:
    """``<!-- … -->`` notes for authors are dropped (raw HTML is off, so they would show as
    text), except inside fenced code; each keeps its line breaks, so line numbers in
    `lessons check` stay right."""
    if "<!--" not in source:
        return source
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None

    def flush() -> None:
        text = "".join(prose)
        out.append(HTML_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text))
        prose.clear()

    for line in source.splitlines(keepends=True):
        opened = FENCE.match(line)
        if fence is None and opened:
            flush()
            fence = opened.group(1)[0] * len(opened.group(1))
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
        else:
            prose.append(line)
    flush()
    return "".join(out)


def render_lesson(source: str, lang: str, terms: Sequence[Term] = (),
                  lesson_id: str | None = None) -> RenderedPage:
    """Render one lesson body in one language (``lesson_id``: where its images are served)."""
    tokens = _MD.parse(strip_comments(source))
    linker = _Linker(terms, lang)
    toc: list[Heading] = []
    used_ids: set[str] = set()
    in_heading = False
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            in_heading = True
            if token.tag == "h1":  # the page's only h1 is the lesson title
                token.tag = "h2"
            if token.tag in ("h2", "h3"):
                inline = tokens[index + 1]
                text = "".join(
                    child.content
                    for child in inline.children or []
                    if child.type in ("text", "code_inline")
                )
                slug = base = slugify(text)
                counter = 2
                while slug in used_ids:
                    slug = f"{base}-{counter}"
                    counter += 1
                used_ids.add(slug)
                token.attrSet("id", slug)
                if token.tag == "h2":
                    toc.append(Heading(slug, text))
        elif token.type == "heading_close":
            in_heading = False
            if token.tag == "h1":
                token.tag = "h2"
        elif token.type == "inline" and not in_heading and token.children:
            token.children = linker.link(token.children)
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                child.attrSet("href", resolve_href(href, lang))
                if href.startswith("glossary:"):
                    child.attrSet("class", "term")
            elif child.type == "image" and lesson_id:
                child.attrSet("src", resolve_src(str(child.attrGet("src") or ""), lesson_id))
    before, after = _split_at_marker(tokens)
    return RenderedPage(_html(before, lang), tuple(toc), frozenset(linker.used),
                        _html(after, lang))


def resolve_href(href: str, lang: str) -> str:
    """``lesson:<id>[#anchor]`` and ``glossary:<term>`` links, in the page's language."""
    if href.startswith("lesson:"):
        target, _, anchor = href[len("lesson:"):].partition("#")
        return f"/{lang}/lessons/{target}/" + (f"#{anchor}" if anchor else "")
    if href.startswith("glossary:"):
        return f"/{lang}/glossary/#term-{href[len('glossary:'):]}"
    return href


def is_relative(url: str) -> bool:
    """A path inside the lesson folder (``diagram.png``), not a site path, anchor or URL."""
    return bool(url) and not url.startswith(("/", "#")) and not re.match(r"^[a-zA-Z][\w+.-]*:", url)


def resolve_src(src: str, lesson_id: str) -> str:
    """An image next to the lesson's files is served from the lesson's files URL."""
    if is_relative(src):
        return f"/lessons/{lesson_id}/files/{src.removeprefix('./')}"
    return src


def _split_at_marker(tokens: list[Token]) -> tuple[list[Token], list[Token]]:
    for index in range(1, len(tokens) - 1):
        token = tokens[index]
        if (
            token.type == "inline"
            and token.content.strip() == DIAGRAM_MARKER
            and tokens[index - 1].type == "paragraph_open"
            and tokens[index - 1].level == 0
        ):
            return tokens[: index - 1], tokens[index + 2 :]
    return tokens, []


def _html(tokens: list[Token], lang: str = "ko") -> str:
    if not tokens:
        return ""
    raw = _MD.renderer.render(tokens, _MD.options, {"lang": lang})
    return nh3.clean(raw, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel=None)


INLINE_TAGS = {"code", "em", "strong"}
_INLINE_MD = MarkdownIt("commonmark", {"html": False})


@lru_cache(maxsize=4096)
def render_inline(text: str) -> str:
    """One line of inline Markdown (quiz texts) as safe HTML: only code, em and strong survive;
    links, images and raw HTML become plain text."""
    raw = _INLINE_MD.renderInline(text)
    return nh3.clean(raw, tags=INLINE_TAGS, attributes={}, link_rel=None)


def pygments_css() -> str:
    return HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".highlight")
