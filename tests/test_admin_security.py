"""The admin and the console as a stranger and as a forger see them: every page wants a login, and every form
refuses a POST without the CSRF token. Walks every URL pattern of the project, so a page added later is covered."""

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from mappings.models import CodingMapping
from sync.models import SyncEvent, SyncRecord
from tests.mappings.conftest import make_pair

pytestmark = pytest.mark.django_db

# Open to anyone, each for its reason; every other URL needs a logged-in staff member.
PUBLIC = {
    "admin:login": "the way in",
    "health": "load balancers probe it; it tells nothing but up or down",
    "sync:netsuite-webhook": "NetSuite's push script, authenticated by the HMAC signature of each request",
}
# Anonymous visitors to these get 403 rather than the login page: they are NetSuite consent steps, reached from a
# connection's admin page by someone already logged in (permission_required(raise_exception=True)).
REFUSED_WITHOUT_REDIRECT = {"credentials:start-consent", "credentials:consent-callback"}
# csrf_exempt on purpose: a machine caller without a session.
CSRF_EXEMPT = {"sync:netsuite-webhook"}
LOGIN = reverse("admin:login")


def every_url() -> Iterator[tuple[str, str]]:
    """(name, URL) for every URL pattern, with sample values for its parameters; unnamed patterns are named
    by the URL they serve."""

    def walk(patterns: list, prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
        for pattern in patterns:
            route = prefix + _sample(str(pattern.pattern))
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route, ":".join(filter(None, [namespace, pattern.namespace])))
            elif isinstance(pattern, URLPattern):
                name = ":".join(filter(None, [namespace, pattern.name])) if pattern.name else f"/{route}"
                yield name, f"/{route}"

    for name, url in walk(get_resolver().url_patterns, "", ""):
        found = resolve(url)
        # The sample must reach the pattern it stands for, or the walk would test another page twice.
        assert (found.view_name if found.url_name else url) == name, f"{url} reaches {found.view_name}"
        yield name, url


def _sample(route: str) -> str:
    """A path that the route or regex matches: `1` for an id, `acme` for a slug, the first choice of an
    alternation, `no-such-page/` for a catch-all."""
    def group(match: re.Match) -> str:
        body = match[1]
        if body == ".*":
            return "no-such-page/"
        return body.split("|")[0] if re.fullmatch(r"\w+(\|\w+)*", body) else "1"

    route = re.sub(r"\((?:\?P<\w+>)?([^()]*)\)", group, route)  # regex groups first: they hold <name> too
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: "acme" if m[1] == "slug" else "1", route)
    return route.replace("^", "").replace("$", "").replace("/?", "/")


def csrf_failure(answer: HttpResponse) -> bool:
    return answer.status_code == 403 and b"CSRF verification failed" in answer.content


def test_the_walk_covers_the_admin_the_console_and_the_custom_admin_views() -> None:
    names = {name for name, _ in every_url()}

    assert {"admin:index", "admin:credentials_netsuiteconnection_change", "admin:mappings_codingmapping_csv",
            "admin:sync_syncrecord_replay_failed", "admin:credentials_netsuiteconnection_simple_history",
            "admin:app_list", "sync:dashboard", "sync:reconciliation", "sync:refresh-references"} <= names
    assert "/admin/no-such-page/" in names  # the admin's catch-all


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_page_sends_a_stranger_to_the_login_page(client: Client, method: str) -> None:
    checked = 0
    for name, url in every_url():
        if name in PUBLIC:
            continue
        answer = getattr(client, method)(url)
        if name in REFUSED_WITHOUT_REDIRECT:
            assert answer.status_code == 403, f"{method} {url}"
            continue
        assert answer.status_code == 302, f"{method} {url} answered {answer.status_code}"
        final = getattr(client, method)(url, follow=True)  # the logout page goes to the index, then to the login
        assert final.request["PATH_INFO"] == LOGIN and 'id="login-form"' in final.content.decode(), url
        checked += 1
    assert checked > 100


def test_only_the_login_health_and_webhook_answer_a_stranger_themselves() -> None:
    answers = {name: Client().get(url) for name, url in every_url() if name in PUBLIC}

    assert set(answers) == set(PUBLIC)  # no stale exemption
    assert answers["admin:login"].status_code == 200
    assert answers["health"].status_code in (200, 503) and set(answers["health"].json()) >= {"status"}
    assert answers["sync:netsuite-webhook"].status_code == 405  # a signed POST or nothing


def test_every_url_refuses_a_logged_in_post_without_the_csrf_token() -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.create_superuser("ada", "ada@example.com", "pw"))

    for name, url in every_url():
        answer = browser.post(url, {"action": "delete_selected", "_selected_action": ["1"], "post": "yes"})
        if name in CSRF_EXEMPT:
            assert not csrf_failure(answer)
        else:
            assert csrf_failure(answer), f"{url} answered {answer.status_code} to a POST without the CSRF token"


def test_replay_a_mapping_change_csv_import_and_reference_refresh_need_the_csrf_token() -> None:
    pair = make_pair()
    record = SyncRecord.objects.create(pair=pair, flow="vendors", netsuite_id="501", state=SyncRecord.State.FAILED)
    mapping = CodingMapping.objects.create(pair=pair, kind="gl_account", netsuite_id="123", jaggaer_value="6100",
                                           status=CodingMapping.Status.CONFIRMED)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.create_superuser("ada", "ada@example.com", "pw"))
    forged = {
        reverse("admin:sync_syncrecord_changelist"): {
            "action": "replay_selected", "_selected_action": [record.pk], "confirm": "yes"},
        reverse("admin:mappings_codingmapping_change", args=[mapping.pk]): {
            "pair": pair.pk, "kind": "gl_account", "netsuite_id": "123", "jaggaer_value": "6999",
            "status": "confirmed"},
        reverse("admin:mappings_codingmapping_csv"): {
            "pair": pair.pk, "import": "Import",
            "file": SimpleUploadedFile("m.csv", b"kind,netsuite_id,jaggaer_value\ngl_account,456,6200\n")},
        reverse("sync:refresh-references"): {},
    }

    answers = {url: browser.post(url, data) for url, data in forged.items()}

    assert all(csrf_failure(answer) for answer in answers.values()), {u: a.status_code for u, a in answers.items()}
    assert not SyncEvent.objects.exists() and SyncRecord.objects.get().state == SyncRecord.State.FAILED
    assert list(CodingMapping.objects.values_list("netsuite_id", "jaggaer_value")) == [("123", "6100")]
    assert mapping.history.count() == 1
