"""Lesson Markdown: safe HTML, highlighted code, heading anchors, glossary links."""

from __future__ import annotations

from k8slearn.courses.loader import Term, Text
from k8slearn.courses.markdown import render_lesson, slugify

POD = Term(
    "pod",
    Text("파드", "Pod"),
    {"ko": ("파드",), "en": ("Pods", "Pod", "pods", "pod")},
    Text("가", "A"),
)


def test_raw_html_is_not_passed_through():
    page = render_lesson('<script>alert(1)</script>\n\n<b onclick="x()">hi</b>\n', "en")
    assert "<script" not in page.html and "<b " not in page.html
    assert "&lt;script&gt;" in page.html


def test_javascript_links_are_removed():
    page = render_lesson("[click](javascript:alert(1))\n", "en")
    assert 'href="javascript' not in page.html


def test_kubectl_yaml_and_json_blocks_are_highlighted_with_classes():
    source = (
        '```kubectl\nkubectl get pods\n```\n\n```yaml\nkind: Pod\n```\n\n```json\n{"a": 1}\n```\n'
    )
    page = render_lesson(source, "en")
    assert page.html.count('<pre class="highlight"') == 3
    assert 'data-lang="kubectl"' in page.html and 'data-lang="yaml"' in page.html
    assert '<span class="nt">kind</span>' in page.html
    assert "style=" not in page.html


def test_headings_get_korean_safe_ids_and_make_the_toc():
    page = render_lesson(
        "# 제목\n\n## 왜 쿠버네티스인가?\n\n## 왜 쿠버네티스인가?\n\n### 작은 제목\n", "ko"
    )
    assert "<h1" not in page.html
    assert [h.id for h in page.toc] == ["제목", "왜-쿠버네티스인가", "왜-쿠버네티스인가-2"]
    assert '<h3 id="작은-제목">' in page.html
    assert slugify("Pods & Nodes: 101") == "pods-nodes-101"


def test_korean_terms_are_linked_with_a_particle_attached():
    page = render_lesson("## 파드\n\n이 파드를 지우면 파드는 다시 생긴다.\n", "ko", [POD])
    assert '<h2 id="파드">파드</h2>' in page.html  # never in headings
    assert 'class="term">파드</a>를 지우면' in page.html
    assert page.html.count('class="term"') == 1
    assert page.terms == frozenset({"pod"})


def test_english_terms_match_whole_words_only():
    page = render_lesson("A podcast about `pod` and [a pod](/x), then Pods.\n", "en", [POD])
    assert 'class="term">Pods</a>' in page.html
    assert page.html.count('class="term"') == 1
    assert "podcast" in page.html


def test_a_page_without_terms_links_nothing():
    page = render_lesson("Nothing here about containers.\n", "en", [POD])
    assert 'class="term"' not in page.html
    assert page.terms == frozenset()


def test_the_pygments_stylesheet_is_up_to_date():
    from pathlib import Path

    from django.conf import settings

    from k8slearn.courses.markdown import pygments_css

    css = (Path(settings.BASE_DIR) / "static" / "css" / "pygments.css").read_text()
    assert pygments_css() in css


DEPLOYMENT = Term(
    "deployment",
    Text("디플로이먼트", "Deployment"),
    {"ko": ("디플로이먼트",), "en": ("Deployments", "Deployment")},
    Text("가", "A"),
)
KUBELET = Term(
    "kubelet",
    Text("kubelet", "Kubelet"),
    {"ko": ("kubelet",), "en": ("kubelet", "Kubelet")},
    Text("가", "A"),
)


def test_english_terms_match_case_sensitively():
    # "deployment" is plain English (deployment patterns); only the listed forms are the object.
    page = render_lesson("Old deployment patterns.\n", "en", [DEPLOYMENT])
    assert 'class="term"' not in page.html
    page = render_lesson(
        "Some deployment patterns. A DEPLOYMENT. A Deployment.\n", "en", [DEPLOYMENT]
    )
    assert page.html.count('class="term"') == 1
    assert 'class="term">Deployment</a>.' in page.html


def test_a_latin_term_in_korean_text_matches_with_a_particle():
    page = render_lesson("각 노드의 kubelet이 컨테이너를 시작한다.\n", "ko", [KUBELET])
    assert 'class="term">kubelet</a>이 컨테이너' in page.html
    page = render_lesson("kubeletes는 없다.\n", "ko", [KUBELET])
    assert 'class="term"' not in page.html


def session_lines(html: str) -> list[str]:
    body = html[html.index("<code>") + len("<code>") : html.index("</code></pre>")]
    return body.split("\n")


def test_kubectl_blocks_highlight_only_the_command_lines():
    page = render_lesson(
        "```kubectl\n"
        "$ kubectl get pods\n"
        "NAME    READY   STATUS    RESTARTS   AGE\n"
        "web-1   1/1     Running   0          <none>\n"
        "kubectl apply -f web.yaml \\\n"
        "  --dry-run=client\n"
        'pod "web-1" deleted\n'
        "```\n",
        "en",
    )
    lines = session_lines(page.html)
    assert lines[0].startswith('<span class="gp">$</span> kubectl<span class="w"> </span>get')
    # Output is escaped and left plain: no highlighting spans at all.
    assert lines[1] == "NAME    READY   STATUS    RESTARTS   AGE"
    assert lines[2] == "web-1   1/1     Running   0          &lt;none&gt;"
    assert lines[5] == 'pod "web-1" deleted'
    # A command without a prompt is still a command, and so is its \ continuation.
    assert lines[3].startswith('kubectl<span class="w"> </span>apply')
    assert "<span" in lines[4] and "--dry-run" in lines[4]


def test_shell_blocks_are_highlighted_as_a_whole():
    page = render_lesson("```shell\nssh server-3\ndocker run -d web:1.0\n```\n", "en")
    assert page.html.count('<span class="w">') >= 3
    assert 'data-lang="shell"' in page.html


def test_inline_markdown_for_quiz_texts_keeps_only_code_em_and_strong():
    from k8slearn.courses.markdown import render_inline

    assert render_inline("In `kubectl get pods -o yaml`, *what* is **spec**?") == (
        "In <code>kubectl get pods -o yaml</code>, <em>what</em> is <strong>spec</strong>?"
    )
    unsafe = render_inline('[x](javascript:alert(1)) <b onclick="y()">z</b> ![i](/i.png)')
    assert "<a" not in unsafe and "<b" not in unsafe and "<img" not in unsafe
    assert "&lt;b" in unsafe
    assert render_inline("1 < 2 & `<tag>`") == "1 &lt; 2 &amp; <code>&lt;tag&gt;</code>"
