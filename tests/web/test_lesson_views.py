"""Course pages in both languages, the quiz (htmx and plain forms) and anonymous progress."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from k8slearn.courses.models import LessonRead, QuizAnswer
from k8slearn.courses.views import server_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixture_lessons")]

HTMX = {"HTTP_HX_REQUEST": "true"}


def quiz_url(lang: str, lesson: str, question: str) -> str:
    return f"/{lang}/lessons/{lesson}/quiz/{question}/"


def html_lang(response) -> str:
    return re.search(r'<html lang="([a-z]+)"', response.content.decode()).group(1)


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_root_redirects_by_accept_language(client):
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")["Location"] == "/en/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9")["Location"] == "/ko/"


def test_course_map_lists_lessons_in_order(client):
    response = client.get("/ko/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index('data-lesson-id="first-steps"') < html.index('data-lesson-id="three-eras"')
    assert "첫걸음" in html and 'data-read="false"' in html
    assert html.count('data-testid="lesson-card"') == 2


def test_course_map_in_english(client):
    html = client.get("/en/").content.decode()
    assert "First steps" in html and "Three eras of deployment" in html


@pytest.mark.parametrize(
    ("lang", "title", "heading"),
    [("ko", "첫걸음", "이 페이지의 내용"), ("en", "First steps", "On this page")],
)
def test_lesson_page_renders_in_each_language(client, lang, title, heading):
    response = client.get(f"/{lang}/lessons/first-steps/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html_lang(response) == lang
    assert html.count("<h1") == 1
    assert title in html and heading in html
    assert html.count('data-testid="quiz-question"') == 3
    assert 'class="highlight"' in html  # the kubectl block is highlighted
    assert f'rel="next" href="/{lang}/lessons/three-eras/"' in html
    assert "https://creativecommons.org/licenses/by/4.0/" in html


@pytest.mark.parametrize(
    ("lang", "source", "other"),
    [
        ("ko", "https://kubernetes.io/ko/docs/concepts/overview/", "https://kubernetes.io/docs/"),
        ("en", "https://kubernetes.io/docs/concepts/overview/", "https://kubernetes.io/ko/docs/"),
    ],
)
def test_credit_links_the_source_page_in_the_pages_language(client, lang, source, other):
    html = client.get(f"/{lang}/lessons/first-steps/").content.decode()
    credit = html[html.index('data-testid="credit"') :]
    credit = credit[: credit.index("</p>")]
    assert f'href="{source}" hreflang="{lang}"' in credit
    assert other not in credit
    assert 'href="https://creativecommons.org/licenses/by/4.0/" rel="license"' in credit


def test_lesson_has_an_on_this_page_list_with_korean_anchors(client):
    html = client.get("/ko/lessons/first-steps/").content.decode()
    assert '<h2 id="쿠버네티스란">' in html
    assert 'href="#쿠버네티스란"' in html


def test_korean_credit_line(client):
    html = client.get("/ko/lessons/first-steps/").content.decode()
    assert "쿠버네티스 문서(" in html and "를 바탕으로 함, © The Kubernetes Authors" in html


def test_english_credit_line(client):
    html = client.get("/en/lessons/first-steps/").content.decode()
    assert "Based on the Kubernetes documentation (" in html and "What is Kubernetes?" in html


def test_first_glossary_term_is_linked_once_and_not_in_code(client):
    html = client.get("/ko/lessons/first-steps/").content.decode()
    assert html.count('href="/ko/glossary/#term-pod"') == 1
    assert '<a href="/ko/glossary/#term-pod" class="term">파드</a>를 만들고' in html
    assert "<code>파드</code>" in html
    en = client.get("/en/lessons/first-steps/").content.decode()
    assert '<a href="/en/glossary/#term-pod" class="term">Pods</a>' in en
    assert '<a href="/en/glossary/#term-container" class="term">containers</a>' in en


def test_three_eras_lesson_includes_the_diagram(client):
    html = client.get("/en/lessons/three-eras/").content.decode()
    assert 'data-testid="three-eras"' in html
    assert 'type="radio" name="era"' in html and 'id="era-noisy"' in html
    assert 'role="img"' in html and "Virtualised deployment" in html
    ko = client.get("/ko/lessons/three-eras/").content.decode()
    assert "가상화 배포" in ko and "하이퍼바이저" in ko


def test_glossary_lists_terms_with_anchors_and_lessons(client):
    html = client.get("/en/glossary/").content.decode()
    assert 'id="term-pod"' in html and 'id="term-container"' in html
    entry = html[html.index('id="term-pod"') :]
    entry = entry[: entry.index("</div>")]
    assert 'href="/en/lessons/first-steps/"' in entry


def test_language_switch_keeps_the_same_page(client):
    html = client.get("/ko/lessons/first-steps/").content.decode()
    assert 'href="/en/lessons/first-steps/" hreflang="en"' in html
    html = client.get("/en/glossary/").content.decode()
    assert 'href="/ko/glossary/" hreflang="ko"' in html


def test_reset_section_is_named_by_its_summary_not_a_hidden_heading(client):
    html = client.get("/en/").content.decode()
    assert '<section class="reset" aria-labelledby="reset-summary">' in html
    assert '<summary id="reset-summary">Reset my progress</summary>' in html
    assert html.count("Reset my progress") == 1
    assert 'id="reset-heading"' not in html


def test_skip_link_and_landmarks(client):
    html = client.get("/ko/").content.decode()
    assert 'class="skip-link" href="#main"' in html and "본문으로 건너뛰기" in html
    assert '<main id="main"' in html and "<header" in html and "<footer" in html
    assert "Skip to content" in client.get("/en/").content.decode()


@pytest.mark.parametrize(
    ("lang", "text"), [("ko", "페이지를 찾을 수 없음"), ("en", "Page not found")]
)
def test_unknown_lesson_uses_the_404_page_in_its_language(client, lang, text):
    response = client.get(f"/{lang}/lessons/no-such-lesson/")
    assert response.status_code == 404
    assert text in response.content.decode()
    assert html_lang(response) == lang
    assert 'data-testid="not-found"' in response.content.decode()


def test_500_page_renders_without_a_request_or_database():
    with translation.override("en"):
        response = server_error(None)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    with translation.override("ko"):
        assert "문제가 발생함" in render_to_string("500.html", {"lang": "ko"})


def test_opening_a_lesson_marks_it_read_on_the_course_map(client):
    client.get("/ko/lessons/first-steps/")
    assert LessonRead.objects.filter(lesson_id="first-steps").count() == 1
    client.get("/ko/lessons/first-steps/")  # twice is still one row
    assert LessonRead.objects.count() == 1
    html = client.get("/ko/").content.decode()
    card = html[html.index('data-lesson-id="first-steps"') :][:400]
    assert 'data-read="true"' in card
    assert 'data-lesson-id="three-eras" data-read="false"' in html


def test_right_answer_via_htmx_returns_the_result_partial(client):
    client.get("/en/lessons/first-steps/")
    response = client.post(quiz_url("en", "first-steps", "k8s-name"), {"answer": "1"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-testid="quiz-result" data-correct="true"' in html
    assert "The eight letters between K and s." in html
    answer = QuizAnswer.objects.get()
    assert (answer.question_id, answer.chosen, answer.correct) == ("k8s-name", 1, True)


def test_wrong_answer_explains_the_choice_and_the_right_answer(client):
    response = client.post(quiz_url("ko", "first-steps", "k8s-name"), {"answer": "2"}, **HTMX)
    html = response.content.decode()
    assert 'data-correct="false"' in html
    assert "클러스터 크기와 관계없다." in html  # the chosen answer's explanation
    assert "정답은 “생략된 글자 수”이다." in html and "K와 s 사이의 여덟 글자다." in html
    en = client.post(quiz_url("en", "first-steps", "k8s-name"), {"answer": "0"}, **HTMX)
    assert "The right answer is “The number of letters left out”." in en.content.decode()


def test_the_right_answers_explanation_drops_its_own_verdict(client):
    # The right choice's explanation starts with "맞다." / "Right.": after "정답은 …이다." or
    # "✓ 정답이다!" that would be said twice.
    html = client.post(
        quiz_url("ko", "first-steps", "what-is-a-pod"), {"answer": "1"}, **HTMX
    ).content.decode()
    assert "정답은 “컨테이너 묶음”이다." in html
    assert "파드는 컨테이너를 묶는다." in html and "맞다." not in html
    html = client.post(
        quiz_url("ko", "first-steps", "what-is-a-pod"), {"answer": "0"}, **HTMX
    ).content.decode()
    assert "정답이다!" in html and "파드는 컨테이너를 묶는다." in html and "맞다." not in html
    # An explanation that is only the verdict is kept rather than emptied.
    html = client.post(quiz_url("en", "first-steps", "year"), {"answer": "0"}, **HTMX)
    assert "<p>Right.</p>" in html.content.decode()


def test_strip_verdict():
    from k8slearn.courses.templatetags.courses_tags import strip_verdict

    assert strip_verdict("Right. Only the container restarts.") == "Only the container restarts."
    assert strip_verdict("Correct! It is.") == "It is."
    assert strip_verdict("맞다. 파드는 교체된다.") == "파드는 교체된다."
    assert strip_verdict("정답이다. 이것은 가상화다.") == "이것은 가상화다."
    assert strip_verdict("No. It is not.") == "No. It is not."
    assert strip_verdict("Rightly so, it is.") == "Rightly so, it is."


def test_quiz_texts_are_inline_markdown(client, settings):
    settings.LESSONS_DIR = Path(settings.BASE_DIR) / "lessons"
    html = client.get("/en/lessons/where-next/").content.decode()
    assert "In <code>kubectl get deployment web -o yaml</code>, what are" in html
    assert "<span><code>spec</code> is the desired state" in html
    html = client.post(
        quiz_url("en", "where-next", "spec-vs-status"), {"answer": "1"}, **HTMX
    ).content.decode()
    assert "You never write <code>status</code>" in html
    assert "The right answer is “<code>spec</code> is the desired state" in html
    assert "Comparing the two tells you" in html and "Right." not in html


def test_glossary_lists_korean_terms_hangul_first_then_latin(client, settings):
    settings.LESSONS_DIR = Path(settings.BASE_DIR) / "lessons"
    html = client.get("/ko/glossary/").content.decode()
    terms = re.findall(r"<dt>(.*?)</dt>", html)
    hangul = [t for t in terms if re.match(r"[가-힣]", t)]
    assert terms[: len(hangul)] == sorted(hangul)  # 가나다 order first
    assert terms[len(hangul) :] == ["kube-proxy", "kubelet"]  # then the Latin names, lower-case
    en = re.findall(r"<dt>(.*?)</dt>", client.get("/en/glossary/").content.decode())
    assert en == sorted(en, key=str.casefold)


def test_answering_again_keeps_only_the_latest_answer(client):
    client.post(quiz_url("en", "first-steps", "k8s-name"), {"answer": "2"}, **HTMX)
    client.post(quiz_url("en", "first-steps", "k8s-name"), {"answer": "1"}, **HTMX)
    answer = QuizAnswer.objects.get()
    assert answer.chosen == 1 and answer.correct


def test_plain_form_post_redirects_back_to_the_lesson_with_the_result(client):
    response = client.post(quiz_url("en", "first-steps", "what-is-a-pod"), {"answer": "0"})
    assert response.status_code == 302
    assert response["Location"] == "/en/lessons/first-steps/#q-what-is-a-pod"
    html = client.get("/en/lessons/first-steps/").content.decode()
    assert html.count('data-testid="quiz-result"') == 1
    assert 'data-correct="true"' in html
    assert 'value="0" required checked' in html


@pytest.mark.parametrize(
    ("url", "data"),
    [
        pytest.param(quiz_url("en", "first-steps", "k8s-name"), {}, id="missing-answer"),
        pytest.param(
            quiz_url("en", "first-steps", "k8s-name"), {"answer": "one"}, id="non-integer"
        ),
        pytest.param(quiz_url("en", "first-steps", "k8s-name"), {"answer": "1.0"}, id="float"),
        pytest.param(quiz_url("en", "first-steps", "k8s-name"), {"answer": "3"}, id="out-of-range"),
        pytest.param(quiz_url("en", "first-steps", "k8s-name"), {"answer": "-1"}, id="negative"),
        pytest.param(
            quiz_url("en", "first-steps", "no-such-question"),
            {"answer": "0"},
            id="unknown-question",
        ),
        pytest.param(
            quiz_url("en", "first-steps", "shared-os"), {"answer": "0"}, id="other-lessons-question"
        ),
        pytest.param(
            quiz_url("en", "no-such-lesson", "k8s-name"), {"answer": "0"}, id="unknown-lesson"
        ),
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_tampered_quiz_answers_are_rejected_and_not_recorded(client, url, data, htmx):
    response = client.post(url, data, **(HTMX if htmx else {}))
    assert response.status_code == 400
    html = response.content.decode()
    if htmx:
        assert 'data-testid="quiz-error"' in html and "<html" not in html
    assert QuizAnswer.objects.count() == 0


def test_tampered_answer_message_is_in_the_pages_language(client):
    ko = client.post(quiz_url("ko", "first-steps", "k8s-name"), {"answer": "9"}, **HTMX)
    assert "보기에 없는 답이다." in ko.content.decode()
    en = client.post(quiz_url("en", "first-steps", "k8s-name"), {"answer": "9"}, **HTMX)
    assert "That answer is not one of the choices." in en.content.decode()


def test_quiz_only_accepts_post(client):
    assert client.get(quiz_url("en", "first-steps", "k8s-name")).status_code == 405


def test_quiz_score_is_shown_on_the_course_map(client):
    client.get("/en/lessons/first-steps/")
    client.post(quiz_url("en", "first-steps", "k8s-name"), {"answer": "1"}, **HTMX)
    client.post(quiz_url("en", "first-steps", "year"), {"answer": "1"}, **HTMX)
    html = client.get("/en/").content.decode()
    assert "Quiz: 1 of 3 right" in html
    assert "퀴즈: 3문제 중 1문제 정답" in client.get("/ko/").content.decode()


def test_progress_is_per_session(client, django_user_model):
    from django.test import Client

    client.get("/en/lessons/first-steps/")
    other = Client()
    assert 'data-read="true"' not in other.get("/en/").content.decode()


def test_reset_progress_deletes_only_this_sessions_rows(client):
    from django.test import Client

    other = Client()
    other.get("/en/lessons/three-eras/")
    client.get("/en/lessons/first-steps/")
    client.post(quiz_url("en", "first-steps", "k8s-name"), {"answer": "1"}, **HTMX)
    html = client.get("/en/").content.decode()
    assert "Reset my progress" in html and "It cannot be undone." in html
    response = client.post(reverse("courses:reset_progress"))
    assert response.status_code == 302
    assert LessonRead.objects.count() == 1  # the other session's row stays
    assert QuizAnswer.objects.count() == 0
    html = client.get(response["Location"]).content.decode()
    assert 'data-read="true"' not in html
    assert 'data-testid="reset-done"' in html


def test_reset_progress_needs_post(client):
    with translation.override("en"):
        url = reverse("courses:reset_progress")
    assert client.get(url).status_code == 405


def test_lesson_page_uses_few_queries(client, django_assert_max_num_queries):
    client.get("/en/lessons/first-steps/")
    with django_assert_max_num_queries(6):
        client.get("/en/lessons/first-steps/")
    with django_assert_max_num_queries(6):
        client.get("/en/")


def test_diagram_goes_where_the_body_has_the_marker(client):
    html = client.get("/ko/lessons/three-eras/").content.decode()
    assert "[[diagram]]" not in html
    assert (
        html.index("물리 서버, 가상 머신")
        < html.index('data-testid="three-eras"')
        < html.index("끝.")
    )
    en = client.get("/en/lessons/three-eras/").content.decode()  # no marker: after the body
    assert (
        en.index("Physical servers") < en.index('data-testid="three-eras"') < en.index('id="quiz"')
    )


def test_lesson_page_loads_vendored_htmx_but_not_the_ws_extension(client):
    html = client.get("/en/lessons/first-steps/").content.decode()
    assert "/static/js/htmx-2.0.11.min.js" in html
    assert "htmx-ext-ws" not in html
    assert "X-CSRFToken" in html  # hx-headers on <body>
    assert 'hx-post="/en/lessons/first-steps/quiz/k8s-name/"' in html
    assert 'hx-target="#q-k8s-name-result"' in html


def test_vendored_htmx_files_match_their_names():
    static = Path(settings.BASE_DIR) / "static" / "js"
    assert 'version:"2.0.11"' in (static / "htmx-2.0.11.min.js").read_text()
    ws = (static / "htmx-ext-ws-2.0.4.min.js").read_text()
    assert 'defineExtension("ws"' in ws
