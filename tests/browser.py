"""Pages in a real browser: Debian's headless Chromium, driven by Selenium."""

import shutil

import pytest


def open_browser(profile, width, height=900):
    """Debian's headless Chromium through its driver, its viewport exactly `width` CSS pixels;
    the test is skipped where the two are not installed (`.ci/run` installs them)."""
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
        )
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(driver_path))
    # Headless windows have a minimum width; the DevTools protocol sets the viewport exactly
    # (a phone's: 390 CSS pixels, as an iPhone 12-15).
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    return browser
