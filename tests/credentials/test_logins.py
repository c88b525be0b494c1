"""The admin login is throttled: failures per username and per address within a window, counted in the
database (so every web process shares them), and never with the password that was typed."""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from credentials.models import FailedLogin
from tests.credentials.test_secrets_stay_secret import raw_database_dump

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
PASSWORD = "correct-horse-battery-staple"
WRONG = "tr0ub4dor-guess-7f3a91"
LOGIN = reverse("admin:login")


@pytest.fixture(autouse=True)
def quick_hashes_and_a_frozen_clock(settings: Any) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # each attempt hashes once
    settings.ADMIN_LOGIN_ATTEMPTS = 5
    settings.ADMIN_LOGIN_WINDOW_SECONDS = 900
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ada() -> User:
    return User.objects.create_user("ada", password=PASSWORD, is_staff=True)


def log_in(username: str, password: str, *, address: str = "198.51.100.7") -> tuple[Client, Any]:
    browser = Client(REMOTE_ADDR=address)
    return browser, browser.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def logged_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


def fail(username: str, times: int, *, address: str = "198.51.100.7") -> None:
    for _ in range(times):
        browser, answer = log_in(username, WRONG, address=address)
        assert answer.status_code == 200 and not logged_in(browser)


def test_after_five_wrong_passwords_even_the_right_one_is_refused_with_a_clear_message(ada: User) -> None:
    fail("ada", 5)

    browser, answer = log_in("ada", PASSWORD)

    assert not logged_in(browser)
    assert "Too many failed logins for this username or from this address" in answer.content.decode()
    assert "refused for 15 more minutes, even with the right password" in answer.content.decode()
    assert FailedLogin.objects.count() == 5  # a refused attempt checks no password and extends nothing


def test_four_wrong_passwords_still_let_the_right_one_in(ada: User) -> None:
    fail("ada", 4)

    browser, answer = log_in("ada", PASSWORD)

    assert answer.status_code == 302 and logged_in(browser)


def test_the_lock_lifts_once_the_window_has_passed_since_the_failures(ada: User) -> None:
    fail("ada", 5)
    with time_machine.travel(NOW + timedelta(seconds=899), tick=False):
        assert not logged_in(log_in("ada", PASSWORD)[0])
    with time_machine.travel(NOW + timedelta(seconds=900, microseconds=1), tick=False):
        browser, answer = log_in("ada", PASSWORD)

    assert answer.status_code == 302 and logged_in(browser)


def test_other_usernames_from_other_addresses_are_unaffected(ada: User) -> None:
    User.objects.create_user("bob", password=PASSWORD, is_staff=True)
    fail("ada", 5)

    browser, _ = log_in("bob", PASSWORD, address="203.0.113.20")

    assert logged_in(browser)


def test_a_username_is_locked_whatever_address_the_guesses_come_from(ada: User) -> None:
    for number in range(5):
        fail("ADA ", 1, address=f"192.0.2.{number + 1}")  # the count ignores case and surrounding blanks

    assert not logged_in(log_in("ada", PASSWORD, address="203.0.113.20")[0])


def test_an_address_guessing_many_usernames_is_locked_for_every_username(ada: User) -> None:
    for name in ("root", "admin", "operator", "finance", "it"):
        fail(name, 1)

    browser, answer = log_in("ada", PASSWORD)

    assert not logged_in(browser) and "Too many failed logins" in answer.content.decode()
    assert logged_in(log_in("ada", PASSWORD, address="203.0.113.20")[0])


def test_addresses_of_one_ipv6_64_network_count_together(ada: User) -> None:
    for host in range(5):
        fail(f"guess{host}", 1, address=f"2001:db8:1:2::{host + 1}")

    assert not logged_in(log_in("ada", PASSWORD, address="2001:db8:1:2:ffff::9")[0])


def test_failures_recorded_by_another_process_count_here_too(ada: User) -> None:
    # Another web process shares nothing with this one but the database.
    FailedLogin.objects.bulk_create(FailedLogin(username="ada", client_ip="192.0.2.99", at=NOW - timedelta(minutes=m))
                                    for m in range(5))

    browser, answer = log_in("ada", PASSWORD)

    assert not logged_in(browser) and "refused for 11 more minutes" in answer.content.decode()


def test_failures_are_recorded_with_username_and_address_but_never_the_password(
        ada: User, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fail("ada", 5)

    assert list(FailedLogin.objects.values_list("username", "client_ip", "at")) == [("ada", "198.51.100.7", NOW)] * 5
    assert "Admin logins refused for a while" in caplog.text
    assert WRONG not in raw_database_dump() and WRONG not in caplog.text


def test_failures_older_than_the_window_are_dropped_when_a_new_one_is_recorded(ada: User) -> None:
    fail("ada", 3)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        fail("someone", 1)

    assert list(FailedLogin.objects.values_list("username", flat=True)) == ["someone"]


def test_behind_a_proxy_callers_are_counted_by_the_address_the_proxy_forwards(ada: User, settings: Any) -> None:
    settings.CLIENT_ADDRESS_HEADER = "X-Forwarded-For"
    proxy = "10.0.0.2"

    def through_proxy(username: str, password: str, forwarded: str) -> Client:
        browser = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded)
        browser.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
        return browser

    # A stranger guessing other names, who also writes a colleague's address first to shift the blame.
    for number in range(5):
        through_proxy(f"guess{number}", WRONG, "198.51.100.20, 203.0.113.66")

    assert FailedLogin.objects.filter(client_ip="203.0.113.66").count() == 5
    assert logged_in(through_proxy("ada", PASSWORD, "198.51.100.20"))
    assert not logged_in(through_proxy("ada", PASSWORD, "203.0.113.66"))
