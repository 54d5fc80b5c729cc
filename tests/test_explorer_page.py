"""The explorer page in a real browser: headless Chromium (Debian's chromium and
chromium-driver; scripts/install_browser.sh installs them) driven by Selenium against a
running ``item2vec serve``. The page's neighbours equal ``most_similar``, a click moves to a
neighbour, the recommendations of a two-item history equal ``recommend``, and the map
drew its points."""

import os
import shutil

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="item2vec serve needs the serve extra (FastAPI)")
pytest.importorskip("uvicorn", reason="item2vec serve needs the serve extra (uvicorn)")
pytest.importorskip("selenium", reason="the page test drives the browser with Selenium")

from live_server import live_server
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from item2vec import Item2Vec
from item2vec.datasets import planted_sessions

CHROMIUM = next(
    (shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)),
    None,
)
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="needs chromium and chromedriver on PATH (bash scripts/install_browser.sh)",
)
# where the page test leaves its screenshot when asked (a folder path)
SCREENSHOT_DIR = os.environ.get("ITEM2VEC_SCREENSHOT_DIR")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("page")
    data = planted_sessions(n_sessions=400, n_items=60, n_clusters=6, mean_length=8, random_state=5)
    model = Item2Vec(vector_size=12, epochs=4, n_jobs=1, random_state=5).fit(data.sequences)
    path = folder / "model.npz"
    model.save(path)
    labels = folder / "labels.csv"
    labels.write_text(
        "id,label\n" + "".join(f"{i},Film {i:02d} (cluster {i % 6})\n" for i in range(60))
    )
    pytest.importorskip("httpx", reason="the server's start is awaited with httpx")
    with live_server(path, folder, "--labels", str(labels)) as (base, _):
        yield {"base": f"{base}/", "model": Item2Vec.load(path)}


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(
            options=options, service=webdriver.ChromeService(executable_path=DRIVER)
        )
    except WebDriverException as exc:
        pytest.skip(f"headless chromium could not start: {exc.msg}")
    yield driver
    driver.quit()


def _listed(driver, list_id):
    """(item, score) of the entries of a ranked list on the page, in order."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' > li')]"
        ".map(li => [JSON.parse(li.dataset.item), Number(li.dataset.score)]);",
        f"#{list_id}",
    )


def _wait(driver, condition, what):
    return WebDriverWait(driver, 20, poll_frequency=0.05).until(
        lambda d: condition(d), message=f"the page never showed {what}"
    )


def test_search_neighbours_history_and_map(served, browser):
    model = served["model"]
    browser.get(served["base"])
    _wait(browser, lambda d: d.execute_script("return document.body.dataset.ready"), "ready")

    # search by label, pick the completion
    box = browser.find_element(By.ID, "search")
    box.send_keys("film 17")
    option = _wait(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, "#completions li[data-item='17']"),
        "a completion for item 17",
    )[0]
    assert option.text == "Film 17 (cluster 5) (17)"
    option.click()
    _wait(browser, lambda d: d.find_element(By.ID, "neighbors").get_attribute("data-for") == "17",
          "the neighbours of 17")  # fmt: skip
    shown = _listed(browser, "neighbors")
    expected = model.most_similar(17, topn=10)
    assert [item for item, _ in shown] == [item for item, _ in expected]
    np.testing.assert_allclose([s for _, s in shown], [s for _, s in expected], rtol=1e-6)
    # the visible text carries the label and the score
    first = browser.find_element(By.CSS_SELECTOR, "#neighbors li")
    assert f"Film {expected[0][0]:02d}" in first.text and f"{expected[0][1]:.3f}" in first.text

    # clicking a neighbour moves to it
    target = expected[2][0]
    browser.find_element(By.CSS_SELECTOR, f"#neighbors li[data-item='{target}'] button.go").click()
    _wait(
        browser,
        lambda d: d.find_element(By.ID, "neighbors").get_attribute("data-for") == str(target),
        f"the neighbours of {target}",
    )
    assert browser.find_element(By.ID, "chosen").get_attribute("data-item") == str(target)
    moved = _listed(browser, "neighbors")
    assert [item for item, _ in moved] == [item for item, _ in model.most_similar(target)]

    # two items into the history: the chosen one, then its first neighbour
    second = moved[0][0]
    browser.find_element(By.ID, "add-chosen").click()
    browser.find_element(By.CSS_SELECTOR, f"#neighbors li[data-item='{second}'] button.add").click()
    history = [target, second]
    _wait(
        browser,
        lambda d: (
            d.find_element(By.ID, "recommendations").get_attribute("data-history")
            == f"[{target},{second}]"
        ),
        "the recommendations of the history",
    )
    chips = browser.execute_script(
        "return [...document.querySelectorAll('#history > li')]"
        ".map(li => JSON.parse(li.dataset.item));"
    )
    assert chips == history
    shown = _listed(browser, "recommendations")
    ids, scores = model.recommend(history, topn=10)
    assert [item for item, _ in shown] == ids.tolist()
    np.testing.assert_allclose([s for _, s in shown], scores, rtol=1e-6)

    # an option changed on the page gives the recommendations of that option
    field = browser.find_element(By.ID, "opt-popularity")
    field.send_keys("none")
    browser.execute_script("arguments[0].dispatchEvent(new Event('change'));", field)
    expected_ids, _ = model.recommend(history, topn=10, popularity=0.0)
    _wait(
        browser,
        lambda d: [item for item, _ in _listed(d, "recommendations")] == expected_ids.tolist(),
        "the recommendations without the popularity prior",
    )

    # the map drew every item's point, and pixels other than the background
    drawn = browser.execute_script("return window.explorer.map.drawn")
    assert drawn == len(model.items_)
    coloured = browser.execute_script(
        "const c = document.getElementById('map');"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;"
    )
    assert coloured > 100
    # the chosen item and its neighbours are marked on the map
    marked = browser.execute_script(
        "const h = window.explorer.map.highlight; return [h.chosen !== null, h.neighbors.length];"
    )
    assert marked == [True, 10]
    if SCREENSHOT_DIR:
        browser.save_screenshot(os.path.join(SCREENSHOT_DIR, "explorer.png"))
