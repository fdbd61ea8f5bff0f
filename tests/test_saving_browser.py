"""Lesson 2.3.1 in headless Chromium: upload a real checkpoint through the browser's file
picker and read its test accuracy; upload a pickled whole model and read the refusal."""

from __future__ import annotations

import pytest

from course.concepts import bad_checkpoints, resume_race
from tests.conftest import wait_until_settled

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


def upload(page, path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))


def test_uploaded_checkpoint_is_evaluated(page, app_url, tmp_path, one_torch_thread):
    """Epoch 5's weights, not the lab's default file, so the verdict can only be the upload's."""
    race = resume_race.run_race()
    good = tmp_path / "my-model.pt"
    good.write_bytes(race.uninterrupted.snapshots[5])
    page.goto(f"{app_url}/saving-and-loading")
    page.get_by_text("Accuracy of every saved epoch").first.wait_for(timeout=180_000)
    upload(page, good)
    page.get_by_text("Your file").wait_for(timeout=60_000)
    wait_until_settled(page)
    verdict = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text="Loaded into")
    expected = f"{race.uninterrupted.test_accuracy[5]:.1%}"
    assert expected != f"{race.uninterrupted.test_accuracy[50]:.1%}"
    assert expected in verdict.first.text_content()
    assert verdict.count() == 1  # the lab's own verdict is gone: the upload replaced it


def test_uploaded_whole_model_is_refused_with_its_global(page, app_url, tmp_path):
    bad = tmp_path / "whole.pt"
    bad.write_bytes(bad_checkpoints.whole_model())
    upload(page, bad)
    refusal = page.locator('[data-testid="stAlertContentError"]').filter(
        has_text="safe loader refused")
    refusal.wait_for(timeout=60_000)
    assert "torch.nn.modules.container.Sequential" in refusal.text_content()
    wait_until_settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
