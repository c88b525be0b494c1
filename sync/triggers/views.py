"""The webhook NetSuite's push script calls; the checks and the inbox live in sync/triggers/webhooks.py."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from connector_project.callers import caller_address
from sync.triggers.webhooks import MAX_BODY_BYTES, receive_push_event


@csrf_exempt  # a machine caller authenticated by the HMAC signature, not by a session
def netsuite_webhook(request: HttpRequest, slug: str) -> JsonResponse:
    if request.method != "POST":
        response = JsonResponse({"status": "rejected", "detail": "Use POST."}, status=405)
        response["Allow"] = "POST"
        return response
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    # Never read more than the limit (+1 byte to notice a larger body sent without Content-Length).
    body = request.read(MAX_BODY_BYTES + 1)
    answer = receive_push_event(slug=slug, body=body, body_size=max(announced, len(body)),
                                content_type=request.META.get("CONTENT_TYPE"),
                                signature_header=request.headers.get("X-Signature"),
                                client_ip=caller_address(request))
    response = JsonResponse(answer.as_json(), status=answer.http_status)
    if answer.retry_after is not None:
        response["Retry-After"] = str(answer.retry_after)
    return response
