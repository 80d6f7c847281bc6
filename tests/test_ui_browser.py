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
SAMPLE_MEDIA = Path(__file__).resolve().parents[1] / "sample_media"
# photos taken in Lisbon at UTC+1 (EXIF OffsetTime): the cat at 08:12 local (07:12 UTC), a face at 15:20
ZONED = ["IMG_20250614_081205.jpg", "IMG_20250614_152045.jpg"]
HEIC = "photos/wildflower_gps_iphone11.HEIC"
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
    for f in ZONED:
        shutil.copyfile(SAMPLE_MEDIA / f, media / f)
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


def clear_example(page) -> None:
    """Search by words again: the example picture an earlier search left in its box goes."""
    if page.locator("#ll-query-preview img").count():
        page.locator("#ll-query-image button[aria-label='Clear']").click()
        page.wait_for_selector("#ll-query-preview img", state="detached", timeout=30_000)


def clear_dates(page) -> None:
    page.fill("#ll-from input", "")
    page.fill("#ll-to input", "")


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
    assert "Done" in progress and "6 added" in progress, progress
    status = page.inner_text("#ll-status")
    assert "4 photos" in status and "1 video" in status and "1 recording" in status
    # the span of capture times as lived in Lisbon (08:12, not 07:12 UTC); copy dates are counted apart
    assert "Sat 14 Jun 2025, 08:12" in status and "with only a file date" in status, status

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
    page.wait_for_function("() => document.querySelector('#ll-search-viewer .ll-title')?.innerText"
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


def test_an_error_leaves_the_page_usable(app, page, shot_on_failure) -> None:
    """A routine mistake says what to do in a toast and the tab's message line, and blocks nothing:
    no error badge stays over the outputs, and the question box takes a click at once."""
    tab(page, "Ask")
    page.fill("#ll-question textarea", "")
    page.click("#ll-ask")
    page.wait_for_selector(".toast-body", timeout=20_000)
    assert "Type a question first" in " ".join(page.locator(".toast-body").all_inner_texts())
    # gradio's error state would cover the outputs with a badge and swallow this click
    assert page.locator("#ll-chat .error, #ll-evidence .error, #ll-ask-viewer .error").count() == 0
    page.click("#ll-question textarea", timeout=5_000)
    page.keyboard.type("hello")
    assert page.input_value("#ll-question textarea") == "hello"

    # swapped dates in Search: the message line says so, and the old results go
    tab(page, "Search")
    clear_example(page)
    page.fill("#ll-query textarea", "a cup of coffee")
    page.click("#ll-search")
    page.wait_for_selector("#ll-search-msg .ll-count", timeout=60_000)
    assert page.locator("#ll-results img").count() > 0
    page.fill("#ll-from input", "2025-06-20")
    page.fill("#ll-to input", "2025-06-10")
    page.click("#ll-search")
    page.wait_for_selector("#ll-search-msg .ll-error", timeout=90_000)
    assert "swap them" in page.inner_text("#ll-search-msg")
    page.wait_for_function("() => document.querySelectorAll('#ll-results img').length === 0", timeout=10_000)
    # words that are no date are said to be none, not silently replaced by the last valid date
    page.fill("#ll-to input", "Junember")
    page.click("#ll-search")
    page.wait_for_function("() => document.querySelector('#ll-search-msg').innerText.includes('Junember')",
                           timeout=90_000)
    assert "is not a date" in page.inner_text("#ll-search-msg")
    page.click("#ll-query textarea", timeout=5_000)
    clear_dates(page)

    # People: Save without a selection says so plainly (once, not garbled with another message)
    tab(page, "People")
    page.wait_for_selector("#ll-people img", timeout=30_000)
    page.click("#ll-person-save")
    page.wait_for_selector("#ll-people-msg .ll-error", timeout=20_000)
    assert page.inner_text("#ll-people-msg").strip() == "Select a person in the gallery first."
    page.locator("#ll-people img").first.click(timeout=5_000)
    page.wait_for_function("() => document.querySelector('#ll-person').innerText.includes('unnamed person')",
                           timeout=30_000)

    # Library: a folder that does not exist is named in the progress line; the box still takes text
    tab(page, "Library")
    page.fill("#ll-folder textarea, #ll-folder input", "/no/such/folder")
    page.click("#ll-add")
    page.wait_for_selector("#ll-progress .ll-error", timeout=20_000)
    assert "No such file or folder: /no/such/folder" in page.inner_text("#ll-progress")
    page.click("#ll-folder textarea, #ll-folder input", timeout=5_000)


def test_local_times_and_file_dates(app, page, shot_on_failure) -> None:
    """Photos taken in Lisbon (UTC+1) show 08:12 and 15:20 as lived there in the Timeline and People
    (not 07:12 / 14:20 UTC, whatever this machine's zone); files with no capture time say so."""
    tab(page, "Timeline")
    page.wait_for_function("() => document.querySelector('#ll-day input').value.includes('14 June 2025')",
                           timeout=30_000)  # the newest day with capture times opens first, not a copy date
    page.wait_for_selector("#ll-sessions img", timeout=30_000)
    sessions = page.inner_text("#ll-sessions")
    assert "Sat 14 Jun 2025, 08:12" in sessions and "Sat 14 Jun 2025, 15:20" in sessions, sessions
    assert "07:12" not in sessions and "14:20" not in sessions
    # the copied files' day is listed last and marked
    page.click("#ll-day input")
    options = page.locator("#ll-day [data-testid=dropdown-option]").all_inner_texts()
    page.keyboard.press("Escape")
    assert "file dates only" in options[-1] and "14 June 2025" in options[0], options
    tab(page, "People")
    page.wait_for_selector("#ll-people img", timeout=30_000)
    assert "last seen Sat 14 Jun 2025, 15:20" in page.inner_text("#ll-people")
    page.locator("#ll-people .thumbnail-item", has_text="15:20").first.click()
    page.wait_for_function("() => document.querySelector('#ll-person').innerText"
                           ".includes('first seen Sat 14 Jun 2025, 15:20')", timeout=30_000)
    page.wait_for_selector("#ll-appearances img", timeout=30_000)
    assert "IMG_20250614_152045.jpg" in page.inner_text("#ll-appearances")
    # a PNG without capture metadata: marked in search results and in the viewer
    tab(page, "Search")
    clear_example(page)
    clear_dates(page)
    page.fill("#ll-query textarea", "a cup of coffee")
    page.click("#ll-search")
    page.wait_for_selector("#ll-search-msg .ll-count", timeout=60_000)
    results = page.inner_text("#ll-results")
    line = next(ln for ln in results.splitlines() if "file date" in ln)
    assert "not capture time" in line, results
    page.locator("#ll-results .thumbnail-item", has_text="coffee_cup_skimage.png").first.click()
    page.wait_for_function("() => document.querySelector('#ll-search-viewer').innerText.includes('no capture time')",
                           timeout=30_000)


def test_date_picker_and_heic_example(app, page, shared_media: Path, shot_on_failure) -> None:
    """The From box's calendar opens and sets a date the search then uses; an iPhone HEIC is taken as
    the example picture (shown converted beside the box)."""
    tab(page, "Search")
    clear_example(page)
    page.click("#ll-from button.calendar")
    page.wait_for_selector("#ll-from .picker", timeout=10_000)
    page.locator("#ll-from .picker button.day:not(.other-month)", has_text="1").first.click()
    page.get_by_role("button", name="Done").click()
    value = page.input_value("#ll-from input")
    assert value.endswith("-01"), value
    page.fill("#ll-query textarea", "a photo")
    page.click("#ll-search")
    page.wait_for_function("() => document.querySelector('#ll-search-msg').innerText.includes('from')",
                           timeout=60_000)
    # the Lisbon photos are from June 2025, before the picked day: they are not among the results
    assert "IMG_20250614" not in page.inner_text("#ll-results")
    page.fill("#ll-from input", "")
    page.fill("#ll-query textarea", "")

    page.set_input_files("#ll-query-image input[type=file]", str(shared_media / HEIC))
    name = Path(HEIC).name
    page.wait_for_function(f"() => document.querySelector('#ll-search-msg').innerText.includes('like {name}')",
                           timeout=60_000)
    page.wait_for_selector("#ll-query-preview img", timeout=30_000)
    assert "Only image" not in " ".join(page.locator(".toast-body").all_inner_texts())
    page.screenshot(path=str(ARTIFACTS / "search-heic.png"), full_page=True)


def test_nothing_leaves_and_foreign_hosts_are_refused(app) -> None:
    """Analytics off in the page's config; a request naming another host (DNS rebinding) gets nothing."""
    import json

    _, url, _ = app
    with urllib.request.urlopen(url + "/config", timeout=10) as r:
        assert json.load(r)["analytics_enabled"] is False
    port = url.rsplit(":", 1)[1]
    for path in ("/", "/config", "/gradio_api/info"):
        req = urllib.request.Request(url + path, headers={"Host": f"evil.example:{port}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
        assert code in (400, 403, 421), (path, code)


@pytest.mark.parametrize("width", [1400, 900])
def test_screenshots_of_every_tab(app, browser, width: int) -> None:
    """Every tab at a laptop's width and a narrow window's, for a person to look at; nothing may
    overflow the window sideways, and nothing is fetched from off this machine."""
    _, url, _ = app
    pg = browser.new_page(viewport={"width": width, "height": 1000})
    elsewhere: list[str] = []  # nothing the page loads may come from off this machine (fonts, scripts)
    pg.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else elsewhere.append(r.url))
    try:
        pg.goto(url)
        pg.wait_for_selector("#ll-question textarea", timeout=60_000)
        pg.wait_for_function("() => document.querySelector('#ll-warm').innerText.includes('ready')", timeout=120_000)
        width_of = "(sel) => Math.round(document.querySelector(sel).getBoundingClientRect().width)"
        chat_before = pg.evaluate(width_of, "#ll-chat")
        pg.fill("#ll-question textarea", "where was I on 14 June 2025?")
        pg.click("#ll-ask")
        pg.wait_for_function("() => document.querySelectorAll('#ll-evidence img').length > 0", timeout=120_000)
        # the conversation keeps its width when the first answer and its evidence arrive
        assert abs(pg.evaluate(width_of, "#ll-chat") - chat_before) <= 2
        assert pg.evaluate(width_of, "#ll-question") > 2 * pg.evaluate(width_of, "#ll-ask")
        steps = {"Ask": None, "Search": "#ll-results img", "Timeline": "#ll-sessions img", "People": "#ll-people img",
                 "Library": "#ll-status .ll-card", "Models": "#ll-models table"}
        for name, ready in steps.items():
            tab(pg, name)
            if name == "Search":
                pg.fill("#ll-query textarea", "a cup of coffee")
                pg.click("#ll-search")
            if ready:
                pg.wait_for_selector(ready, timeout=60_000)
            if name in ("Timeline", "People"):
                pg.locator(ready).first.click()
                pg.wait_for_timeout(1500)
            pg.wait_for_timeout(500)
            assert pg.evaluate("() => document.documentElement.scrollWidth") <= width + 1, name
            pg.screenshot(path=str(ARTIFACTS / f"{name.lower()}-{width}.png"), full_page=True)
        assert elsewhere == []
    finally:
        pg.close()
