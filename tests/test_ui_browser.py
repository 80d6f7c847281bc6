"""End to end in a real browser: Debian's Chromium, driven by Playwright, on the app with a fresh library.

Ingests a folder of real media through the Library tab, asks a question whose answer is spoken in
a video, opens the evidence and checks the player sits at the cited second, searches for something
that is not there, searches by an example picture (the sample day's JPEG of the same coffee cup) and
checks that files outside the library cannot be fetched. Screenshots of
every tab go to test-artifacts/ui/ for a person to look at.
"""

from __future__ import annotations

import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

import lifelog

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "ui"
FILES = ["video/pool_vacuum_firstperson_narrated_mmaction2.avi", "audio/one_two_three_speechrecognition.wav",
         "photos/coffee_cup_skimage.png", "photos/cat_chelsea_skimage.png"]
# the coffee cup again, as another file (the sample day's phone JPEG): searching by it must find the PNG, not the cat
EXAMPLE = Path(__file__).resolve().parents[1] / "sample_media" / "IMG_20250614_094112.jpg"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, shared_media: Path):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: apt-get install -y chromium (.ci/run installs it)")
    from ui.app import launch

    tmp = tmp_path_factory.mktemp("ui-browser")
    media = tmp / "media"
    media.mkdir()
    for f in FILES:
        shutil.copyfile(shared_media / f, media / Path(f).name)
    mem = lifelog.open(tmp / "home", profile="bundled")
    port = free_port()
    demo = launch(mem, host="127.0.0.1", port=port, open_browser=False, prevent_thread_lock=True)
    yield demo, f"http://127.0.0.1:{port}", media
    demo.close()


@pytest.fixture(scope="module")
def browser():
    """One Playwright and one Chromium for the module (a second sync_playwright in the same
    thread would find the first one's event loop running)."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: apt-get install -y chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(app, browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.goto(app[1])
    pg.wait_for_selector("#ll-question textarea", timeout=60_000)
    yield pg
    pg.close()


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(500)


@pytest.fixture
def shot_on_failure(page, request):
    """On a failure, the page as it was goes to failure.png, and its error toasts into the output."""
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before:  # the call's report is counted before teardown
        page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
        print("error toasts on the page:", page.locator(".toast-body").all_inner_texts())


def test_end_to_end(app, page, shot_on_failure) -> None:
    demo, url, media = app

    # Library: add the folder, watch the progress bar finish
    tab(page, "Library")
    page.fill("#ll-folder textarea, #ll-folder input", str(media))
    page.click("#ll-add")
    page.wait_for_selector("#ll-progress .ll-bar", timeout=30_000)
    page.wait_for_function(
        "() => { const t = document.querySelector('#ll-progress').innerText;"
        " return t.includes('Done') || t.includes('stopped'); }", timeout=600_000)
    progress = page.inner_text("#ll-progress")
    page.wait_for_function("() => document.querySelector('#ll-status').innerText.includes('1 video')",
                           timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "library.png"), full_page=True)
    assert "Done" in progress and "4 added" in progress, progress
    status = page.inner_text("#ll-status")
    assert "2 photos" in status and "1 video" in status and "1 recording" in status

    # Ask: the answer is spoken in the pool video
    tab(page, "Ask")
    page.fill("#ll-question textarea", "what did the man say about the corner")
    page.click("#ll-ask")
    page.wait_for_function("() => document.querySelector('#ll-chat').innerText.includes('corner')"
                           " && document.querySelectorAll('#ll-evidence img').length > 0", timeout=120_000)
    chat = page.inner_text("#ll-chat")
    assert "outer corner" in chat.lower(), chat
    evidence = page.inner_text("#ll-evidence")
    assert "pool_vacuum_firstperson_narrated_mmaction2.avi" in evidence, evidence
    page.locator("#ll-evidence img").first.click()
    video = page.wait_for_selector("#ll-ask-viewer video", timeout=60_000)
    page.wait_for_function("() => { const v = document.querySelector('#ll-ask-viewer video');"
                           " return v && v.readyState >= 1; }", timeout=60_000)
    start = float(video.get_attribute("data-start"))
    end = float(video.get_attribute("data-end"))
    now = page.evaluate("() => document.querySelector('#ll-ask-viewer video').currentTime")
    assert start - 0.5 <= now <= max(end, start) + 0.5, (start, end, now)
    assert page.evaluate("() => document.querySelector('#ll-ask-viewer video').duration") > 6
    page.get_by_text("How was this found").click()
    page.wait_for_selector("#ll-steps table", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "ask.png"), full_page=True)

    # only the staged copy is served: the original file and other paths are refused
    src = video.get_attribute("src").split("#")[0]
    assert status_of(url + src) == 200
    assert status_of(f"{url}/gradio_api/file={quote(str(media / 'pool_vacuum_firstperson_narrated_mmaction2.avi'))}") == 403
    assert status_of(f"{url}/gradio_api/file=/etc/passwd") == 403
    assert status_of(f"{url}/gradio_api/file={quote(str(Path(lifelog.__file__)))}") == 403

    # Search: something that is not in memory gives the empty state; the coffee photo is found
    tab(page, "Search")
    # nothing near it in meaning ("giraffe" would be: another animal, the cat, scores 0.35 with MiniLM)
    page.fill("#ll-query textarea", "volcano eruption")
    page.click("#ll-search")
    page.wait_for_selector("#ll-search-msg .ll-empty", timeout=60_000)
    assert "Nothing in memory matches" in page.inner_text("#ll-search-msg")
    page.screenshot(path=str(ARTIFACTS / "search-empty.png"), full_page=True)
    page.fill("#ll-query textarea", "a cup of coffee")
    page.click("#ll-search")
    page.wait_for_selector("#ll-search-msg .ll-count", timeout=60_000)
    assert "coffee_cup_skimage.png" in page.inner_text("#ll-results")
    page.locator("#ll-results img").first.click()
    page.wait_for_selector("#ll-search-viewer img.ll-photo", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)

    # Search by example picture: dropping it runs the search; the same cup is found, the cat is not
    assert "bundled profile" in page.inner_text("#ll-query-image-hint")
    page.set_input_files("#ll-query-image input[type=file]", str(EXAMPLE))
    page.wait_for_function(f"() => document.querySelector('#ll-search-msg').innerText.includes('like {EXAMPLE.name}')",
                           timeout=60_000)
    page.wait_for_function("() => document.querySelector('#ll-results').innerText.includes('coffee_cup_skimage.png')",
                           timeout=30_000)
    results = page.inner_text("#ll-results")
    assert "cat_chelsea_skimage.png" not in results, results
    page.locator("#ll-results img").first.click()
    page.wait_for_selector("#ll-search-viewer img.ll-photo", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#ll-search-viewer .ll-file')?.innerText"
                           " === 'coffee_cup_skimage.png'", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "search-image.png"), full_page=True)

    # Timeline: a day, its sessions, then moments
    tab(page, "Timeline")
    page.wait_for_selector("#ll-sessions img", timeout=60_000)
    page.locator("#ll-sessions img").first.click()
    page.wait_for_selector("#ll-moments img", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "timeline.png"), full_page=True)

    tab(page, "Models")
    page.wait_for_selector("#ll-models table", timeout=30_000)
    assert "all-minilm-l6-v2" in page.inner_text("#ll-models")
    page.screenshot(path=str(ARTIFACTS / "models.png"), full_page=True)


def test_people_tab_names_a_face(tmp_path: Path, browser) -> None:
    """The People tab shows the sample day's face; naming it there changes the Ask tab's answer."""
    from ui.app import launch

    mem = lifelog.open(tmp_path / "home", now="2025-06-15T10:00:00+01:00")
    assert mem.ingest([EXAMPLE.parent / "IMG_20250614_152045.jpg"]).ingested == 1
    port = free_port()
    demo = launch(mem, host="127.0.0.1", port=port, open_browser=False, prevent_thread_lock=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}")
        page.wait_for_selector("#ll-question textarea", timeout=60_000)
        tab(page, "People")
        page.wait_for_selector("#ll-people img", timeout=30_000)
        assert "unnamed person" in page.inner_text("#ll-people")
        page.locator("#ll-people img").first.click()
        page.wait_for_function("() => document.querySelector('#ll-person').innerText.includes('unnamed person')",
                               timeout=30_000)
        page.fill("#ll-person-name textarea, #ll-person-name input", "Eileen")
        page.click("#ll-person-save")
        page.wait_for_function("() => document.querySelector('#ll-people').innerText.includes('Eileen')",
                               timeout=30_000)
        assert "Named Eileen" in page.inner_text("#ll-people-msg")
        page.screenshot(path=str(ARTIFACTS / "people.png"), full_page=True)
        tab(page, "Ask")
        page.fill("#ll-question textarea", "Who is in the photo with the football helmet?")
        page.click("#ll-ask")
        page.wait_for_function("() => document.querySelector('#ll-chat').innerText.includes('Eileen')",
                               timeout=120_000)
        page.close()
    finally:
        demo.close()
