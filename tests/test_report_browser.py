"""Render an HTML fidelity report in headless Chromium and check the screenshot.

Also usable as a script to produce a screenshot to look at:
    python tests/test_report_browser.py report.html screenshot.png
Needs Debian's chromium (apt-get install chromium); the test skips without it.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 3000) -> None:
    profile = png.parent / "chromium-profile"
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(tmp_path, adult_slice):
    from PIL import Image

    from tabvae import TabularVAE, evaluate

    train, holdout = adult_slice.iloc[:1000], adult_slice.iloc[1000:]
    model = TabularVAE(epochs=20, random_state=0).fit(train)
    report = evaluate(train, model.sample(1000, random_state=0), target="income", holdout=holdout, model=model)
    html = tmp_path / "report.html"
    report.to_html(html)
    png = tmp_path / "report.png"
    screenshot(html, png)
    img = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert img.shape == (3000, 1280)
    # Something is drawn (text and plots), and the page is not one flat colour.
    assert img.std() > 10 and (img < 128).mean() > 0.005
    # Nothing overflows to the right: the rightmost 20 px column is background.
    assert img[:, -20:].std() < 5


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]))
